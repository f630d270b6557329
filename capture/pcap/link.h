/* link: finds the IP packet inside a captured frame for the link types
 * libpcap reports (pcap_datalink): Ethernet with 802.1Q/802.1ad tags, Linux
 * cooked SLL and SLL2, BSD NULL/loopback, raw IP and NFLOG. */
#ifndef CAPTURE_PCAP_LINK_H
#define CAPTURE_PCAP_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum link_result {
    LINK_IP = 0,      /* *ip points at an IPv4 or IPv6 header */
    LINK_NOT_IP,      /* ARP, LLDP, other protocols: not ours */
    LINK_SHORT,       /* frame shorter than its link header */
};

/* true when dlt (a DLT_ value from pcap_datalink) is one link_ip reads. */
bool link_supported(int dlt);

/* The IP packet in frame p[0..len) of link type dlt: a slice of p, so it
 * lives as long as the frame. */
enum link_result link_ip(int dlt, const uint8_t *p, size_t len, const uint8_t **ip, size_t *iplen);

#endif

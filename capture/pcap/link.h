/* link: finds the IP packet inside a captured frame for the link types
 * libpcap reports (pcap_datalink): Ethernet with 802.1Q/802.1ad tags, MPLS
 * label stacks and PPPoE sessions; Linux cooked SLL and SLL2; BSD
 * NULL/loopback; raw IP; NFLOG; Cisco HDLC; PPP; 802.11 data frames (plain
 * or behind radiotap, AVS or Prism headers) with LLC/SNAP. */
#ifndef CAPTURE_PCAP_LINK_H
#define CAPTURE_PCAP_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum link_result {
    LINK_IP = 0,      /* *ip points at an IPv4 or IPv6 header */
    LINK_NOT_IP,      /* ARP, LLDP, encrypted 802.11, other protocols: not ours */
    LINK_SHORT,       /* frame shorter than its link header */
};

/* true when dlt (a DLT_ value from pcap_datalink) is one link_ip reads. */
bool link_supported(int dlt);

/* The IP packet in frame p[0..len) of link type dlt: a slice of p, so it
 * lives as long as the frame. When the result is not LINK_IP, *what (if not
 * NULL) names what the frame carried instead, as a static string for the
 * counter line ("ARP", "802.11 encrypted data", "PPPoE discovery", ...). */
enum link_result link_ip(int dlt, const uint8_t *p, size_t len, const uint8_t **ip, size_t *iplen,
                         const char **what);

/* The same for an Ethernet frame carried inside IP (VXLAN, GRE). */
enum link_result link_ethernet(const uint8_t *p, size_t len, const uint8_t **ip, size_t *iplen,
                               const char **what);

#endif

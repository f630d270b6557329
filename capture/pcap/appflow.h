/* appflow: what one TCP connection carries. It finds the client side (the
 * SYN's sender, else the side whose bytes begin like a request), then the
 * protocol from the client's first bytes (the HTTP/2 preface, else HTTP/1),
 * and hands the reassembled bytes to h1flow or h2flow; an HTTP/1.1 upgrade
 * to h2c moves the connection from one to the other. Connections that are
 * not HTTP are skipped, their bytes counted. */
#ifndef CAPTURE_PCAP_APPFLOW_H
#define CAPTURE_PCAP_APPFLOW_H

#include "tcpflow.h"

/* tcpflow's callbacks; their ctx is the pcaprec_t * to record into. */
extern const tcpflow_ops_t appflow_ops;

#endif

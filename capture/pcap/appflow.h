/* appflow: what one TCP connection carries. It finds the client side (the
 * SYN's sender, else the side whose bytes begin like a request), then the
 * protocol from the client's first bytes (the HTTP/2 preface, else HTTP/1),
 * and hands the reassembled bytes to h1flow or h2flow; an HTTP/1.1 upgrade
 * to h2c moves the connection from one to the other. Connections that are
 * not HTTP are skipped, their bytes counted. TLS is decrypted first (tlsflow). */
#ifndef CAPTURE_PCAP_APPFLOW_H
#define CAPTURE_PCAP_APPFLOW_H

#include "pcaprec.h"
#include "tcpflow.h"
#include "tlsflow.h"

/* What connections share: the recording, and TLS decryption (NULL: TLS
 * connections are counted as bytes not HTTP). */
typedef struct appflow_ctx {
    pcaprec_t *rec;
    tlsflow_ctx_t *tls;
} appflow_ctx_t;

/* tcpflow's callbacks; their ctx is an appflow_ctx_t *. A connection whose
 * client begins with a TLS ClientHello goes through tlsflow, and its
 * decrypted bytes take the same way as cleartext ones (ALPN "h2" starts
 * HTTP/2); its exchanges are flagged TLS with scheme https. */
extern const tcpflow_ops_t appflow_ops;

#endif

/* h2flow: cleartext HTTP/2 (h2c) over one reassembled TCP connection, read
 * passively: frames of both directions (h2frame), header blocks decoded with
 * nghttp2's HPACK inflater (one per direction, as each endpoint's decoder),
 * one exchange per client stream. Server pushes are decoded (to keep HPACK in
 * step) but not recorded. A capture gap breaks the framing: open streams end
 * incomplete and the rest of the connection is skipped. */
#ifndef CAPTURE_PCAP_H2FLOW_H
#define CAPTURE_PCAP_H2FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcaprec.h"

/* The client connection preface. */
#define H2FLOW_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2FLOW_PREFACE_LEN 24

typedef struct h2flow h2flow_t;

/* conn is borrowed and outlives the flow. upgraded: the HTTP/1.1 request that
 * asked for h2c, answered on stream 1 (the flow ends it), or NULL for prior
 * knowledge. NULL when out of memory. */
h2flow_t *h2flow_new(pcaprec_t *rec, pcaprec_conn_t *conn, pcx_t *upgraded);
/* Ends open streams (incomplete) at ts_us and frees the flow. */
void h2flow_free(h2flow_t *f, int64_t ts_us);

/* Bytes of one direction, the client's starting with the preface. */
void h2flow_data(h2flow_t *f, bool client, const uint8_t *p, size_t n, int64_t ts_us);
/* The next bytes of that direction hold some that the capture saw twice with
 * different content: the streams still open are flagged incomplete. */
void h2flow_conflict(h2flow_t *f, bool client);
/* Bytes of that direction are missing: the framing is lost. */
void h2flow_gap(h2flow_t *f, bool client, uint64_t n, int64_t ts_us);

#endif

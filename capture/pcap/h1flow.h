/* h1flow: HTTP/1.x over one reassembled TCP connection, read with h1msg
 * (http_parser) in both directions. Requests become exchanges in the order
 * they are read; responses answer them in the same order (pipelining),
 * interim 1xx answers are skipped, a 2xx to CONNECT makes the rest of the
 * connection a tunnel (one exchange with the tunnel flag and byte counts,
 * as the proxy records it; the encrypted bytes are not a body), and a 101
 * ends HTTP/1: for an
 * `Upgrade: h2c` request the connection continues as HTTP/2 (see
 * h1flow_upgraded), for anything else (WebSocket) it is no longer read.
 *
 * After a capture gap, a parse error, or when the connection began before the
 * capture, a direction hunts: chunks are skipped until one begins like a
 * request ("METHOD target HTTP/1.x") or a response ("HTTP/1.x NNN"). */
#ifndef CAPTURE_PCAP_H1FLOW_H
#define CAPTURE_PCAP_H1FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcaprec.h"

typedef struct h1flow h1flow_t;

enum h1flow_result {
    H1FLOW_OK = 0,
    H1FLOW_H2,      /* switched to HTTP/2: the rest of the bytes are h2 */
    H1FLOW_OTHER,   /* switched to a protocol not read here */
};

/* conn is borrowed and outlives the flow. hunt: the connection began before
 * the capture (start each direction at a plausible message). NULL on ENOMEM. */
h1flow_t *h1flow_new(pcaprec_t *rec, pcaprec_conn_t *conn, bool hunt);
/* Ends exchanges still open (incomplete: no response, or cut) at ts_us. */
void h1flow_free(h1flow_t *f, int64_t ts_us);

/* n bytes from the client (or the server) at ts_us. *used is how many were
 * HTTP/1: all of them, except after H1FLOW_H2 or H1FLOW_OTHER. */
enum h1flow_result h1flow_data(h1flow_t *f, bool client, const uint8_t *p, size_t n,
                               int64_t ts_us, size_t *used);
/* n bytes of that direction are missing from the capture. */
void h1flow_gap(h1flow_t *f, bool client, uint64_t n);
/* The connection was reset (its end is in the capture). */
void h1flow_reset(h1flow_t *f, int64_t ts_us);
/* The next bytes of that direction hold some that the capture saw twice with
 * different content: the messages they belong to are flagged incomplete. */
void h1flow_conflict(h1flow_t *f, bool client);
/* That direction ended (FIN): completes a close-delimited response. */
void h1flow_fin(h1flow_t *f, bool client, int64_t ts_us);

/* After H1FLOW_H2: the upgraded request, whose answer comes on stream 1 (the
 * caller now owns it and must pcx_end it), and the client bytes that followed
 * the request (held until the server's answer; valid until h1flow_free). */
pcx_t *h1flow_upgraded(h1flow_t *f, const uint8_t **held, size_t *held_len);

/* Whether a chunk begins like a request line or a status line. */
bool h1flow_request_start(const uint8_t *p, size_t n);
bool h1flow_response_start(const uint8_t *p, size_t n);

#endif

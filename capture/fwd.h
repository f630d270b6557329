/* fwd: what a proxy forwards of an HTTP message. It drops hop-by-hop headers
 * (RFC 9110 7.6.1: Connection, Proxy-Connection, Keep-Alive, TE, Trailer,
 * Transfer-Encoding, Upgrade, Proxy-Authorization and every name listed in
 * Connection) and writes HTTP/1.1 heads and body framing into an evbuffer,
 * so a body can be re-framed (chunked in, length out or the reverse). */
#ifndef CAPTURE_FWD_H
#define CAPTURE_FWD_H

#include <stdbool.h>
#include <stddef.h>
#include <event2/buffer.h>

#include "recording.h"

/* How the forwarded body is delimited. */
enum fwd_framing {
    FWD_NONE,     /* no body */
    FWD_LENGTH,   /* Content-Length from the headers */
    FWD_CHUNKED,  /* Transfer-Encoding: chunked, written by this module */
    FWD_CLOSE,    /* until the connection closes (HTTP/1.0 clients) */
};

/* true when name is hop-by-hop in a message whose headers are all. */
bool fwd_is_hop(const rec_headers_t *all, const char *name);

/* true when a Connection header of all names a header other than the fixed
 * hop-by-hop ones (most say only keep-alive): otherwise fwd_is_hop(NULL, name)
 * answers as fwd_is_hop(all, name), without a scan of all per name. */
bool fwd_names_others(const rec_headers_t *all);

/* true for "te: trailers": hop-by-hop in HTTP/1.1, but the one te HTTP/2
 * carries end to end (gRPC servers refuse a call without it), so HTTP/2
 * forwarding and the recording keep it. */
bool fwd_is_te_trailers(const char *name, const char *value);

/* "METHOD target HTTP/1.1", then Host (host when not NULL, replacing any Host
 * in h), the end-to-end headers of h in order, and the framing header.
 * Returns 0 or -1 (out of memory). */
int fwd_request_head(struct evbuffer *out, const char *method, const char *target,
                     const char *host, const rec_headers_t *h, enum fwd_framing f);

/* "HTTP/1.1 status reason", the end-to-end headers of h, the framing header
 * and "Connection: close" when close is set. Returns 0 or -1. */
int fwd_response_head(struct evbuffer *out, int status, const rec_headers_t *h,
                      enum fwd_framing f, bool close);

/* One piece of body in framing f; fwd_body_end writes the last chunk. 0 or -1. */
int fwd_body(struct evbuffer *out, enum fwd_framing f, const void *p, size_t n);
int fwd_body_end(struct evbuffer *out, enum fwd_framing f);

/* Framing of a forwarded body, from what the received message said: a known
 * length keeps it; an unknown one becomes chunked for an HTTP/1.1 peer and
 * close-delimited for HTTP/1.0. */
enum fwd_framing fwd_framing_for(bool has_body, long long content_length, bool peer_http11);

#endif

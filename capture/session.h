/* session: the client key of an exchange, shared by the proxy (record.c) and
 * passive capture (pcap/pcaprec.c) so both group a user's exchanges the same
 * way: a session cookie or header (hashed, so the secret stays out of the
 * file) or, behind a load balancer, the original client's address from
 * X-Forwarded-For or Forwarded. */
#ifndef CAPTURE_SESSION_H
#define CAPTURE_SESSION_H

#include <stdbool.h>

#include "recording.h"

typedef struct session_opts {
    const char *cookie;   /* --session-cookie NAME, or NULL */
    const char *header;   /* --session-header NAME, or NULL */
    bool forwarded;       /* --session-forwarded */
} session_opts_t;

/* "session:" and 16 hex digits of the SHA-256 of the request's session
 * cookie or header value; NULL when the request has none (or on ENOMEM).
 * The caller frees it. */
char *session_from_request(const session_opts_t *o, const rec_headers_t *h);
/* The same for a response that sets the session cookie (a login starts its
 * session); NULL when it does not. */
char *session_from_response(const session_opts_t *o, const rec_headers_t *h);
/* With o->forwarded: the original client's address, the first (leftmost)
 * element of X-Forwarded-For or the first for= of Forwarded (RFC 7239;
 * quotes, brackets and port removed), or NULL when the request has neither.
 * The caller frees it. */
char *session_forwarded_for(const session_opts_t *o, const rec_headers_t *h);

#endif

/* upstream: the proxy's requests to origins, on the shared HTTP client
 * (http/hc.h): plain or TLS (verified with common/tls.c), HTTP/1.1 over
 * pooled keep-alive connections (at most 256 idle in all, each closed after
 * 30 s idle) or, when a TLS origin chooses h2 by ALPN, one HTTP/2 connection
 * per origin shared by concurrent requests; fronts (client.c, h2server.c)
 * see no difference. The response is streamed back to the front through
 * callbacks, never run inside an up_* call: on_done and on_fail come from the
 * loop. A body-less request that met a reused connection the origin had
 * closed meanwhile is sent once more on a fresh one. */
#ifndef CAPTURE_UPSTREAM_H
#define CAPTURE_UPSTREAM_H

#include <stdbool.h>
#include <stdint.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "fwd.h"
#include "recording.h"
#include "url.h"

typedef struct up_pool up_pool_t;
typedef struct up_conn up_conn_t;

typedef struct up_pool_opts {
    struct event_base *base;
    struct evdns_base *dns;
    SSL_CTX *tls;            /* for https origins; NULL refuses them */
    bool h2;                 /* tls offers h2 by ALPN: speak it when chosen */
    uint64_t timeout_us;     /* connect, TLS, and silence while a response is due */
    uint64_t idle_us;        /* an idle origin connection is closed after it (0: 30 s) */
    unsigned max_idle;       /* idle origin connections kept in all (0: 256) */
} up_pool_opts_t;

/* The response head, as the front needs it to forward and record. */
typedef struct up_resp {
    int status;
    const rec_headers_t *headers;   /* valid during the call only */
    long long content_length;       /* -1 when not given */
    bool has_body;
    int64_t first_byte_us;          /* wall clock of the first response byte */
} up_resp_t;

typedef struct up_ops {
    /* A 1xx answer (100 Continue) before the final one. */
    void (*on_interim)(void *front, int status, const rec_headers_t *headers);
    void (*on_head)(void *front, const up_resp_t *r);
    void (*on_body)(void *front, const char *p, size_t n);
    /* The response is complete; the handle is invalid afterwards. */
    void (*on_done)(void *front);
    /* The exchange failed: status is 502 or 504 to answer with (meaningful only
     * when no head was given yet); the handle is invalid afterwards. */
    void (*on_fail)(void *front, int status, const char *reason);
    /* The request body written so far has drained: the front may read again. */
    void (*on_drain)(void *front);
    /* Optional (NULL: dropped): the response's trailers (HTTP/2 origins), valid
     * during the call, just before on_done. */
    void (*on_trailers)(void *front, const rec_headers_t *trailers);
} up_ops_t;

up_pool_t *up_pool_new(const up_pool_opts_t *o);
/* Closes idle connections; active ones must have been aborted. */
void up_pool_free(up_pool_t *p);

/* Sends a request to origin on an idle pooled connection or a new one: head
 * written as fwd_request_head(method, target, host, h, f); a body follows with
 * up_body/up_body_end unless f is FWD_NONE. Returns the handle, or NULL when
 * out of memory (no callback then). */
up_conn_t *up_start(up_pool_t *p, const url_t *origin, const char *method, const char *target,
                    const char *host, const rec_headers_t *h, enum fwd_framing f,
                    const up_ops_t *ops, void *front);
/* Queues a piece of request body. Returns 1 when the front should stop reading
 * until on_drain, else 0. */
int up_body(up_conn_t *c, const void *p, size_t n);
void up_body_end(up_conn_t *c);
/* Stops or resumes reading the response (the front's client is slow). */
void up_pause(up_conn_t *c, bool paused);
/* The front is gone: closes the connection; no callback follows. */
void up_abort(up_conn_t *c);
/* The front has all it wants (an HTTP/2 stream ended once the head said there
 * is no body): the rest of the response is read quietly and the connection
 * goes back to the pool. No callback follows. */
void up_detach(up_conn_t *c);

#endif

/* upstream_int: what upstream.c (HTTP/1.1 connections, the pool, the API)
 * and upstream_h2.c (the choice by ALPN and handles of HTTP/2 streams) share.
 * Private to those two files. */
#ifndef CAPTURE_UPSTREAM_INT_H
#define CAPTURE_UPSTREAM_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <openssl/ssl.h>

#include "h1msg.h"
#include "upstream.h"
#include "uph2.h"

/* UP_H2: the handle of an HTTP/2 stream (uph2.c), no transport of its own. */
enum up_state { UP_CONNECTING, UP_ACTIVE, UP_IDLE, UP_DEAD, UP_H2 };

/* A request on a TLS connection whose ALPN is not known yet: it waits, since
 * it goes out as HTTP/1.1 bytes or as an HTTP/2 stream depending on it. */
typedef struct up_deferred {
    char *method, *target, *host;
    rec_headers_t headers;
    struct evbuffer *body;    /* raw request body so far */
    bool body_end;
} up_deferred_t;

struct up_conn {
    up_pool_t *pool;
    enum up_state state;
    struct bufferevent *bev;
    SSL *ssl;                 /* owned by bev when TLS */
    char key[300];            /* "scheme://host:port": the pool matches on it */
    char host[256];
    unsigned short port;
    bool tls;
    h1msg_t msg;
    const up_ops_t *ops;
    void *front;              /* NULL once the front is told or gone */
    enum fwd_framing framing; /* of the request body */
    bool head_only;           /* HEAD: the response has no body */
    bool req_done, head_seen, got_byte, done_pending, paused, want_drain, reused;
    int busy;                 /* > 0 while inside the parser: freeing waits */
    struct evbuffer *retry;   /* head of a body-less request on a reused connection */
    int64_t first_byte_us;
    up_conn_t *next;          /* idle list */
    up_deferred_t *deferred;  /* set while ALPN decides */
    uph2_stream_t *h2;        /* UP_H2 */
};

struct up_pool {
    up_pool_opts_t o;
    up_conn_t *idle;
    int nidle;
    uph2_t **h2s;             /* HTTP/2 sessions to origins */
    size_t nh2;
};

/* Frees the connection or handle (and a deferred request). */
void upi_conn_free(up_conn_t *c);
void upi_deferred_free(up_conn_t *c);
/* The front learns of the failure (502/504 and reason), the connection goes. */
void upi_conn_fail(up_conn_t *c, int status, const char *reason);
/* "scheme://host:port", the key of the pool. */
void upi_origin_key(const url_t *o, char *key, size_t len);

/* An HTTP/2 session to key that takes another stream, or NULL. */
uph2_t *upi_h2_find(up_pool_t *p, const char *key);
/* A handle for a request on session s. NULL when out of memory or refused. */
up_conn_t *upi_h2_start(up_pool_t *p, uph2_t *s, const char *key, const char *method,
                        const char *target, const char *host, const rec_headers_t *h,
                        enum fwd_framing f, const up_ops_t *ops, void *front);
/* Keeps the request of a fresh TLS connection until ALPN decides. 0 or -1. */
int upi_defer(up_conn_t *c, const char *method, const char *target, const char *host,
              const rec_headers_t *h);
/* After the handshake: the deferred request goes out as HTTP/1.1 bytes, or
 * the connection becomes an HTTP/2 session and c its stream's handle. */
void upi_alpn_decide(up_conn_t *c);

#endif

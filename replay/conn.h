/* conn: one client connection of one virtual user to one origin, and the
 * protocol table that HTTP/1.1 (http1.c) and h2 plug into, after h2load's
 * session table.
 *
 * A conn_t is a slot that outlives its sockets: the user keeps one per origin,
 * the slot connects on the first request, reconnects after the server closed
 * it, and keeps the TLS session across reconnects for resumption.
 *
 * States (visible, one armed callback each):
 *   CONN_CLOSED      no socket; the next conn_submit connects
 *   CONN_RESOLVING   name lookup in flight (evdns; origins met at run time only):
 *                    a timer bounds it with the connect timeout
 *   CONN_CONNECTING  nonblocking connect() in flight: write event + connect timeout
 *   CONN_TLS         handshake in flight: read or write event + connect timeout
 *   CONN_READY       protocol chosen (ALPN); read event always armed, write event
 *                    only while output is pending
 *
 * Requests travel as exchanges (xch_t), owned by the caller. conn_submit
 * queues an exchange until the connection is ready and the protocol can take
 * it; only then is the request rendered (env->render) and handed to the
 * protocol, which writes it straight into the socket. Every exchange ends with
 * exactly one env->on_done call. That call may come from inside conn_submit
 * (a connect refused at once): callers that submit again from on_done must
 * defer to the event loop in that case, or a dead server becomes recursion. */
#ifndef AIOTEST_CONN_H
#define AIOTEST_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include <openssl/ssl.h>

#include "bodydec.h"
#include "extract.h"
#include "plan.h"
#include "stats.h"

struct event_base;
struct evdns_base;
typedef struct conn conn_t;

/* One request header: name and value slices, both checked by the renderer
 * (the name a token, the value free of CR, LF and NUL). */
typedef struct req_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} req_header_t;

/* A request as the protocols see it: slices valid during one submit call. */
typedef struct req_view {
    const char *method;
    size_t method_len;
    const char *path;       /* origin-form: "/a?b=1" */
    size_t path_len;
    const char *authority;  /* Host header value */
    size_t authority_len;
    const req_header_t *hdrs; /* in order; no Host, Cookie, length or hop-by-hop ones */
    size_t n_hdrs;
    const char *cookie;     /* Cookie header value, NULL when none */
    size_t cookie_len;
    const char *body;       /* NULL when none */
    size_t body_len;
    bool has_body;          /* send a length even when body_len == 0 */
    bool head;              /* HEAD: the response has no body */
    /* The whole HTTP/1.1 request when nothing in it is dynamic (else NULL):
     * the HTTP/1.1 protocol writes it as is, with no copy, or with the Cookie
     * header (cookie above) inserted at h1_head_len, before the blank line. */
    const char *h1_bytes;
    size_t h1_len, h1_head_len;
} req_view_t;

/* One request in flight. The caller fills owner/want_body/start_us; the
 * connection layer fills the rest. */
typedef struct xch {
    void *owner;
    conn_t *conn;           /* set while submitted */
    struct xch *qnext;      /* queue link inside the connection */
    uint64_t start_us;      /* latency origin (the scheduled start in the open model) */
    uint64_t bytes_sent, bytes_received;
    stats_proto_t proto;    /* protocol that carried it */
    bool want_body;         /* buffer the body for extractors/checks */
    bool head;              /* set from the rendered request */
    bool retryable;         /* failed on a reused connection before any response byte */
} xch_t;

/* Per-thread environment shared by every connection of a worker. */
typedef struct conn_env {
    struct event_base *base;
    SSL_CTX *ssl_ctx;                /* NULL when no origin uses TLS */
    uint64_t connect_timeout_us;     /* TCP connect + TLS handshake */
    /* Renders x's request into rv (slices in per-thread buffers, valid until the
     * next render). Returns 0, or a negative stats_fail_t: x then fails with
     * that category without anything sent. */
    int (*render)(xch_t *x, req_view_t *rv);
    /* x ended: resp is NULL when fail says there was no response. */
    void (*on_done)(xch_t *x, const resp_view_t *resp, stats_fail_t fail);
    char *rbuf;                      /* read buffer shared by the thread's connections */
    size_t rbuf_cap;
    char *wbuf;                      /* serialisation buffer for rendered requests */
    size_t wbuf_cap;
    resp_header_t *hdrs;             /* response header slices handed to on_done */
    size_t hdrs_cap;
    size_t max_body;                 /* body bytes kept per response, decoded too (--max-body) */
    bodydec_t dec;                   /* Content-Encoding decoder of wanted bodies (respacc.c) */
    /* Optional: c's protocol is now known (after ALPN), before its queue is
     * served; the owner (conn_set_owner) may move queued exchanges to other
     * slots with conn_cancel + conn_submit (a parallel step sent to one
     * connection in the hope of h2 that got HTTP/1.1). */
    void (*on_negotiated)(conn_t *c, void *owner);
    struct evdns_base *dns;          /* made on the first lookup; freed by conn_env_fini */
} conn_env_t;

/* Sets up the shared buffers. Returns 0 or -1 (out of memory). */
int conn_env_init(conn_env_t *env, struct event_base *base);
void conn_env_fini(conn_env_t *env);
/* Grows env->wbuf to at least n bytes. Returns it or NULL. */
char *conn_env_wbuf(conn_env_t *env, size_t n);

/* ---- the protocol table. st is the protocol's state (state_size bytes,
 * zeroed when the connection is established). */
typedef struct conn_proto {
    const char *name;
    stats_proto_t stats_proto;
    size_t state_size;
    /* The connection is established (after TLS): e.g. send the h2 preface. 0 or -1. */
    int (*on_ready)(conn_t *c, void *st);
    /* Whether one more exchange can be submitted now. */
    bool (*can_submit)(conn_t *c, void *st);
    /* Takes x (rendered as rv) and writes it with conn_write. 0, or -1 to fail x. */
    int (*submit)(conn_t *c, void *st, xch_t *x, const req_view_t *rv);
    /* Bytes from the peer. 0, or a negative stats_fail_t to close the connection. */
    int (*on_read)(conn_t *c, void *st, const char *data, size_t len);
    /* The peer closed its side cleanly: complete close-delimited bodies. */
    void (*on_eof)(conn_t *c, void *st);
    /* Output drained (optional): the protocol may write more (h2 flow control). */
    void (*on_writable)(conn_t *c, void *st);
    /* Removes x from the protocol (timeout, stop). Returns true when the
     * connection must be closed for it (HTTP/1.1: a response is half read). */
    bool (*cancel)(conn_t *c, void *st, xch_t *x);
    /* The connection is going away: move every exchange still held to out
     * (linked by qnext) so the caller fails them; release buffers. */
    void (*on_close)(conn_t *c, void *st, xch_t **out);
    /* Frees buffers kept between requests (user going idle). Optional. */
    void (*trim)(conn_t *c, void *st);
    /* Frees everything at conn_free. */
    void (*fini)(conn_t *c, void *st);
} conn_proto_t;

/* NULL on out of memory. The slot starts CONN_CLOSED. */
conn_t *conn_new(conn_env_t *env, const plan_origin_t *origin);
/* Closes the socket without reporting the exchanges still held (the owner is
 * going away) and frees the slot. */
void conn_free(conn_t *c);

const plan_origin_t *conn_origin(const conn_t *c);
conn_env_t *conn_env(conn_t *c);

/* Queues x; connects when needed. The result always arrives through env->on_done. */
void conn_submit(conn_t *c, xch_t *x);
/* Withdraws x (timeout or stop) without calling on_done for it; closes the
 * connection when the protocol cannot drop a half-read response. */
void conn_cancel(conn_t *c, xch_t *x);
/* Frees what an idle connection does not need. */
void conn_trim(conn_t *c);

/* ---- for protocols. */
/* Writes bytes now, or copies what the socket does not take and sends it when
 * writable. Returns 0 or -1 (connection failed: the caller returns an error). */
int conn_write(conn_t *c, const void *data, size_t len);
/* Asks for on_writable once the callbacks now running have returned, so that
 * a burst of submits (a parallel step's streams) leaves in one write instead
 * of one per request. No-op unless the connection is ready. */
void conn_flush_soon(conn_t *c);
/* Submits queued exchanges as far as can_submit allows (e.g. after an h2
 * stream ended). */
void conn_pump(conn_t *c);
/* Ends x: calls env->on_done. For protocols, after detaching x. */
void conn_done(conn_t *c, xch_t *x, const resp_view_t *resp, stats_fail_t fail);
/* Closes the socket now (e.g. "Connection: close") and fails anything still
 * held with why; the slot may reconnect later. */
void conn_close(conn_t *c, stats_fail_t why);
/* The socket takes nothing new (h2 GOAWAY, or the peer closed it): closes it,
 * fails what the protocol still held with why (retryable as the protocol
 * marked them), and reconnects at once for the exchanges still queued. */
void conn_retire(conn_t *c, stats_fail_t why);
/* Whether exchanges run concurrently on this slot (h2): as last negotiated, or
 * before the first connection, as the origin's protocol suggests. */
bool conn_multiplexed(const conn_t *c);
/* True once a response completed on the current socket (for retry decisions). */
bool conn_reused(const conn_t *c);
void conn_mark_reused(conn_t *c);
/* The value handed to env->on_negotiated (NULL: not called). */
void conn_set_owner(conn_t *c, void *owner);

#endif

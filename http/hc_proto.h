/* hc_proto: what the protocols of the connection table (hc_h1.c, hc_h2.c) and
 * the connection (hc.c) share: the exchange, the per-thread environment, the
 * target, the protocol table itself, and the part of a connection a protocol
 * calls (writing, pausing reads, ending exchanges, closing). Apart from hc.h
 * (the caller's API, which includes this) so that a protocol includes no
 * header of the connection that picks it: hc.c -> hc_h1 -> hc_proto, no circle.
 * The functions declared here are defined in hc.c. */
#ifndef AIOTEST_HC_PROTO_H
#define AIOTEST_HC_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <openssl/ssl.h>

#include "bodydec.h"
#include "hc_msg.h"

struct event_base;
struct evdns_base;
typedef struct hc_conn hc_conn_t;

/* A streamed request body between hc_conn_body and the protocol. */
typedef struct hc_upload {
    char *buf;
    size_t len, off, cap;   /* bytes [off, len) not yet taken */
    bool end;               /* hc_conn_body_end called */
    bool want_drain;        /* hc_conn_body returned 1: on_drain when taken */
    bool with_proto;        /* the request went out: the protocol takes the bytes */
} hc_upload_t;

/* Why an exchange failed; HC_OK when it got a whole response. */
typedef enum hc_fail {
    HC_OK = 0,
    HC_FAIL_CONNECT,        /* refused, unreachable, name lookup */
    HC_FAIL_TIMEOUT,        /* a phase took longer than its timeout */
    HC_FAIL_RESET,          /* connection reset or closed mid-response */
    HC_FAIL_TLS,            /* handshake or certificate verification */
    HC_FAIL_PROTOCOL,       /* unparsable response, out of memory */
    HC_FAIL_H2_RST,         /* stream reset by the server */
    HC_FAIL_H2_GOAWAY,      /* refused by GOAWAY (retryable) */
    HC_FAIL_H2_PROTOCOL,    /* HTTP/2 protocol or session error */
    HC_FAIL_REQUEST,        /* env->render refused the request: nothing sent, the
                             * caller knows why */
    HC_FAIL__COUNT
} hc_fail_t;

/* The protocol that carried an exchange. */
typedef enum hc_proto_id { HC_PROTO_H1 = 0, HC_PROTO_H2 = 1 } hc_proto_id_t;

/* What to speak to a target. */
typedef enum hc_want {
    HC_WANT_AUTO = 0,   /* plain: HTTP/1.1; TLS: ALPN h2, else HTTP/1.1 */
    HC_WANT_H1,         /* HTTP/1.1 only (ALPN http/1.1) */
    HC_WANT_H2,         /* TLS: ALPN h2 only; plain: h2 with prior knowledge */
    HC_WANT_H2C,        /* plain: h2 with prior knowledge */
} hc_want_t;

/* Where a connection goes. Copied by hc_conn_new; the strings and the address
 * cache must outlive the connection. */
typedef struct hc_target {
    const char *host;               /* name to look up and TLS SNI / verification name */
    uint16_t port;
    bool tls;
    hc_want_t want;
    const char *name;               /* "scheme://host[:port]", for messages */
    /* The address to connect to. *addr_len == 0: looked up (evdns) on the
     * first connect and stored here for the next ones (a cache the caller may
     * share between connections of one thread). */
    struct sockaddr_storage *addr;
    socklen_t *addr_len;
    /* HTTP/1.1 request pipelining (RFC 9112 9.3.2): up to this many exchanges
     * in flight on one connection; 0 or 1 = off (one at a time). Only
     * requests hc_h1 deems pipelinable share the connection (hc_h1.h); h2
     * ignores it. */
    uint16_t pipeline;
} hc_target_t;

struct hc_xch;

/* Per-exchange callbacks: an exchange with ops set is rendered and ended
 * through them instead of env->render and env->on_done (a protocol on top of
 * the client, such as replay's WebSocket sessions, beside the HTTP requests
 * of the same thread). Same contracts as env's. */
typedef struct hc_xch_ops {
    int (*render)(struct hc_xch *x, hc_req_t *rv);
    void (*on_done)(struct hc_xch *x, const hc_resp_t *resp, hc_fail_t fail);
} hc_xch_ops_t;

/* One request in flight. The caller fills owner, want_body, stream,
 * start_us (the client never reads start_us), ops and upgrade; the client
 * fills the rest. */
typedef struct hc_xch {
    void *owner;
    const hc_xch_ops_t *ops;  /* NULL: env's render and on_done */
    /* The request asks to switch protocols (its headers carry Upgrade and
     * Connection: Upgrade; HTTP/1.1 only). A 101 answer ends it with HC_OK,
     * and inside that on_done the caller may take the connection as a byte
     * pipe (hc_conn_pipe); else the connection is closed after it. */
    bool upgrade;
    hc_conn_t *conn;        /* set while submitted */
    struct hc_xch *qnext;   /* queue link inside the connection */
    uint64_t start_us;      /* the caller's (replay: latency origin) */
    uint64_t bytes_sent, bytes_received;
    hc_proto_id_t proto;    /* protocol that carried it */
    bool want_body;         /* accumulate the body for on_done (bounded by max_body) */
    bool stream;            /* hand head and body pieces over as they come (on_head, on_body) */
    bool head;              /* set from the rendered request */
    bool retryable;         /* failed before any response byte on a reused connection, or
                             * behind another exchange of a pipeline that broke */
    bool pipelined;         /* HTTP/1.1: sent while an earlier exchange on its connection
                             * still waited for its response (hc_target_t.pipeline) */
    struct hc_upload *up;   /* streamed request body not yet taken (hc_conn_body) */
    bool paused;            /* hc_conn_pause: the caller takes no response bytes now */
} hc_xch_t;

/* Per-thread environment shared by every connection of a worker. */
typedef struct hc_env {
    struct event_base *base;
    SSL_CTX *ssl_ctx;                /* NULL when no origin uses TLS */
    /* Phase timeouts, 0 = none. connect covers the name lookup and TCP, and
     * TLS too unless tls_timeout_us is set. first_byte: from a request
     * written until the first response byte on its connection; body: the
     * longest silence while a response is incomplete (per connection: on h2
     * any stream's bytes count). */
    uint64_t connect_timeout_us;
    uint64_t tls_timeout_us;
    uint64_t first_byte_timeout_us;
    uint64_t body_timeout_us;
    /* Said once per process after the reason of the first TLS / lookup
     * failure (e.g. which option fixes it); NULL: nothing. */
    const char *tls_hint;
    const char *dns_hint;
    /* Renders x's request into rv (slices in per-thread buffers, valid until the
     * next render). Returns 0, or nonzero: x then fails with HC_FAIL_REQUEST
     * without anything sent (the caller keeps its own reason). */
    int (*render)(hc_xch_t *x, hc_req_t *rv);
    /* x ended: resp is NULL when fail says there was no response. */
    void (*on_done)(hc_xch_t *x, const hc_resp_t *resp, hc_fail_t fail);
    /* Streamed exchanges (x->stream) only; both required then. on_head: the
     * final header block arrived (resp without body or trailers). on_body: one
     * piece of the body, decoded of chunked framing, not of Content-Encoding.
     * Both return 0, or nonzero to abandon x (it ends with HC_FAIL_REQUEST and
     * its connection, if HTTP/1.1, is closed). */
    int (*on_head)(hc_xch_t *x, const hc_resp_t *resp);
    int (*on_body)(hc_xch_t *x, const char *data, size_t len);
    /* Optional: an interim (1xx, not 101) head before the final one; else
     * interim heads are dropped. */
    void (*on_interim)(hc_xch_t *x, const hc_resp_t *resp);
    /* Streamed request bodies: the body hc_conn_body said was too much has
     * gone out (optional; without it the caller does not wait). */
    void (*on_drain)(hc_xch_t *x);
    char *rbuf;                      /* read buffer shared by the thread's connections */
    size_t rbuf_cap;
    char *wbuf;                      /* serialisation buffer for rendered requests */
    size_t wbuf_cap;
    hc_header_t *hdrs;             /* response header slices handed to on_done */
    size_t hdrs_cap;
    size_t max_body;                 /* body bytes kept per response, decoded too */
    /* h2 stream window we announce (0: HC_H2_LOCAL_WINDOW); what a paused
     * stream's sender may still send. The connection's is HC_H2_LOCAL_WINDOW,
     * or with this set, room for every stream the server allows (at most
     * HC_H2_ROOM_STREAMS), so that paused streams never stop the others. */
    uint32_t h2_stream_window;
    bodydec_t dec;                   /* Content-Encoding decoder of wanted bodies (hc_racc.c) */
    /* Optional: c's protocol is now known (after ALPN), before its queue is
     * served; the owner (hc_conn_set_owner) may move queued exchanges to other
     * slots with hc_conn_cancel + hc_conn_submit (a parallel step sent to one
     * connection in the hope of h2 that got HTTP/1.1). */
    void (*on_negotiated)(hc_conn_t *c, void *owner);
    /* Optional: len bytes came from c's server that no request waited for
     * (HTTP/1.1: after the last response in flight, or on an idle
     * connection). They are dropped and c's socket is closed, as what
     * follows on it could not be told from the next request's answer; the
     * exchanges answered before keep their results. Without it they are
     * dropped all the same, uncounted. */
    void (*on_unsolicited)(hc_conn_t *c, size_t len);
    struct evdns_base *dns;          /* made on the first lookup; freed by hc_env_fini */
    unsigned dns_cancelled;          /* lookups cancelled: libevent frees them from a deferred callback */
} hc_env_t;

/* Grows env->wbuf to at least n bytes. Returns it or NULL. */
char *hc_env_wbuf(hc_env_t *env, size_t n);

/* ---- the protocol table. st is the protocol's state (state_size bytes,
 * zeroed when the connection is established). */
typedef struct hc_proto {
    const char *name;
    hc_proto_id_t proto_id;
    size_t state_size;
    /* The connection is established (after TLS): e.g. send the h2 preface. 0 or -1. */
    int (*on_ready)(hc_conn_t *c, void *st);
    /* Whether one more exchange can be submitted now. */
    bool (*can_submit)(hc_conn_t *c, void *st);
    /* Takes x (rendered as rv) and writes it with hc_conn_write (or keeps it
     * to write later: HTTP/1.1 holds a request that may not be pipelined until
     * the connection is empty). 0, or -1 to fail x. */
    int (*submit)(hc_conn_t *c, void *st, hc_xch_t *x, const hc_req_t *rv);
    /* Bytes from the peer. 0, or a negative hc_fail_t to close the connection. */
    int (*on_read)(hc_conn_t *c, void *st, const char *data, size_t len);
    /* The peer closed its side cleanly: complete close-delimited bodies. */
    void (*on_eof)(hc_conn_t *c, void *st);
    /* Output drained (optional): the protocol may write more (h2 flow control). */
    void (*on_writable)(hc_conn_t *c, void *st);
    /* Removes x from the protocol (timeout, stop). Returns true when the
     * connection must be closed for it (HTTP/1.1: a response is half read). */
    bool (*cancel)(hc_conn_t *c, void *st, hc_xch_t *x);
    /* The connection is going away: move every exchange still held to out
     * (linked by qnext) so the caller fails them; release buffers. */
    void (*on_close)(hc_conn_t *c, void *st, hc_xch_t **out);
    /* Frees buffers kept between requests (the caller going idle). Optional. */
    void (*trim)(hc_conn_t *c, void *st);
    /* x's streamed body has new bytes or its end (x->up); optional (NULL:
     * the protocol takes no streamed bodies). 0, or -1 (the socket failed). */
    int (*body)(hc_conn_t *c, void *st, hc_xch_t *x);
    /* hc_conn_pause reached the protocol (optional: no pausing). */
    void (*pause)(hc_conn_t *c, void *st, hc_xch_t *x, bool paused);
    /* Reading resumed (hc_conn_reading): hand over bytes kept while paused
     * (optional). 0, or a negative hc_fail_t to close the connection. */
    int (*resume)(hc_conn_t *c, void *st);
    /* Whether exchanges wait for response bytes (arms first-byte / body timers). */
    bool (*busy)(hc_conn_t *c, void *st);
    /* Optional: after a read, the next response has not begun (an HTTP/1.1
     * pipeline where one response ended and the next waits): the first-byte
     * timer runs again when no body timer is set. */
    bool (*waiting)(hc_conn_t *c, void *st);
    /* Frees everything at hc_conn_free. */
    void (*fini)(hc_conn_t *c, void *st);
} hc_proto_t;

/* ---- the connection, as protocols use it. */
const hc_target_t *hc_conn_target(const hc_conn_t *c);
hc_env_t *hc_conn_env(hc_conn_t *c);

/* Request bodies above this many bytes not yet sent make hc_conn_body ask
 * the caller to wait for env->on_drain. */
#define HC_UPLOAD_HIGH (256 * 1024)

/* Writes bytes now, or copies what the socket does not take and sends it when
 * writable. Returns 0 or -1 (connection failed: the caller returns an error). */
int hc_conn_write(hc_conn_t *c, const void *data, size_t len);
/* Copies bytes to the output and sends them from the loop, after the
 * callbacks now running (hc_conn_flush_soon): requests submitted in one burst
 * (a pipelined batch) leave in one write. 0 or -1 (out of memory). */
int hc_conn_write_soon(hc_conn_t *c, const void *data, size_t len);
/* Asks for on_writable once the callbacks now running have returned, so that
 * a burst of submits (a parallel step's streams) leaves in one write instead
 * of one per request. No-op unless the connection is ready. */
void hc_conn_flush_soon(hc_conn_t *c);
/* Stops or resumes reading the socket (HTTP/1.1 pause); resuming runs the
 * protocol's resume, then reads, from the loop. */
void hc_conn_reading(hc_conn_t *c, bool on);
/* Whether written bytes wait for the socket. */
bool hc_conn_out_pending(const hc_conn_t *c);
/* Submits queued exchanges as far as can_submit allows (e.g. after an h2
 * stream ended). */
void hc_conn_pump(hc_conn_t *c);
/* Ends x: calls env->on_done (or x->ops'). For protocols, after detaching x. */
void hc_conn_done(hc_conn_t *c, hc_xch_t *x, const hc_resp_t *resp, hc_fail_t fail);
/* x (upgrade set) got its 101 (resp): ends x, then turns c into a pipe when
 * the caller took it (hc_conn_pipe), handing over the len bytes at rest that
 * came after the head; closes c otherwise. The protocol's state is freed:
 * the caller (HTTP/1.1) returns at once without touching it. */
void hc_conn_upgraded(hc_conn_t *c, hc_xch_t *x, const hc_resp_t *resp, const char *rest, size_t len);
/* Closes the socket now (e.g. "Connection: close") and fails anything still
 * held with why; the slot may reconnect later. */
void hc_conn_close(hc_conn_t *c, hc_fail_t why);
/* The socket takes nothing new (h2 GOAWAY, or the peer closed it): closes it,
 * fails what the protocol still held with why (retryable as the protocol
 * marked them), and reconnects at once for the exchanges still queued. */
void hc_conn_retire(hc_conn_t *c, hc_fail_t why);
/* Tells env->on_unsolicited (when set) of len stray bytes read on c. */
void hc_conn_unsolicited(hc_conn_t *c, size_t len);
/* True once a response completed on the current socket (for retry decisions). */
bool hc_conn_reused(const hc_conn_t *c);
void hc_conn_mark_reused(hc_conn_t *c);

#endif

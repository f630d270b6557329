/* hc: the HTTP client of aiotest, under replay's virtual users (and meant for
 * capture's upstream side): one client connection to one origin, and the
 * protocol table that HTTP/1.1 (hc_h1.c) and h2 (hc_h2.c) plug into, after
 * h2load's session table. Knows no scenario, plan or stats: the caller
 * describes the origin (hc_target_t), renders requests on demand (hc_req_t)
 * and gets every exchange back through callbacks with a failure code of the
 * client's own (hc_fail_t), which it maps to its own categories.
 *
 * An hc_conn_t is a slot that outlives its sockets: a caller keeps one per
 * origin, the slot connects on the first request, reconnects after the server
 * closed it, and keeps the TLS session across reconnects for resumption.
 *
 * States (visible, hc_conn_state; one armed callback each):
 *   HC_CONN_CLOSED      no socket; the next hc_conn_submit connects
 *   HC_CONN_RESOLVING   name lookup in flight (evdns; targets without an address
 *                       only): a timer bounds it with the connect timeout
 *   HC_CONN_CONNECTING  nonblocking connect() in flight: write event + connect timeout
 *   HC_CONN_TLS         handshake in flight: read or write event + the TLS timeout
 *   HC_CONN_READY       protocol chosen (ALPN or prior knowledge); read event always
 *                       armed, write event only while output is pending, the
 *                       first-byte / body timer while exchanges wait for bytes
 *
 * Requests travel as exchanges (hc_xch_t), owned by the caller. hc_conn_submit
 * queues an exchange until the connection is ready and the protocol can take
 * it; only then is the request rendered (env->render) and handed to the
 * protocol, which writes it straight into the socket. Every exchange ends with
 * exactly one env->on_done call. That call may come from inside hc_conn_submit
 * (a connect refused at once): callers that submit again from on_done must
 * defer to the event loop in that case, or a dead server becomes recursion.
 *
 * The response body is either accumulated for on_done (want_body; bounded by
 * max_body and decoded of its Content-Encoding) or streamed piece by piece
 * (stream: env->on_head, then env->on_body per piece, trailers in on_done),
 * and a slow consumer pauses it (hc_conn_pause). Interim 1xx heads go to
 * env->on_interim. A request body is given whole (hc_req_t.body) or
 * streamed after the request (hc_conn_body, with env->on_drain as the
 * backpressure signal). */
#ifndef AIOTEST_HC_H
#define AIOTEST_HC_H

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

/* "connect", "timeout", ... ("ok" for HC_OK); never NULL. */
const char *hc_fail_name(hc_fail_t f);

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
    bool retryable;         /* failed on a reused connection before any response byte */
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
     * stream's sender may still send. The connection's is HC_H2_LOCAL_WINDOW. */
    uint32_t h2_stream_window;
    bodydec_t dec;                   /* Content-Encoding decoder of wanted bodies (hc_racc.c) */
    /* Optional: c's protocol is now known (after ALPN), before its queue is
     * served; the owner (hc_conn_set_owner) may move queued exchanges to other
     * slots with hc_conn_cancel + hc_conn_submit (a parallel step sent to one
     * connection in the hope of h2 that got HTTP/1.1). */
    void (*on_negotiated)(hc_conn_t *c, void *owner);
    struct evdns_base *dns;          /* made on the first lookup; freed by hc_env_fini */
    unsigned dns_cancelled;          /* lookups cancelled: libevent frees them from a deferred callback */
} hc_env_t;

/* Body bytes kept per response when max_body is not set otherwise. */
#define HC_MAX_BODY_DEFAULT (4u << 20)

/* Sets up the shared buffers (timeouts 0, max_body HC_MAX_BODY_DEFAULT).
 * Returns 0 or -1 (out of memory). */
int hc_env_init(hc_env_t *env, struct event_base *base);
/* Frees what hc_env_init made. Call it after every connection is closed and
 * the caller's own events are deleted: when lookups were cancelled it runs one
 * non-blocking pass of the base's loop, so that libevent's deferred callbacks
 * free them (a lookup cut short by the end of a run leaked otherwise). */
void hc_env_fini(hc_env_t *env);
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
    /* Takes x (rendered as rv) and writes it with hc_conn_write. 0, or -1 to fail x. */
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
    /* Frees everything at hc_conn_free. */
    void (*fini)(hc_conn_t *c, void *st);
} hc_proto_t;

/* NULL on out of memory. The slot starts HC_CONN_CLOSED. */
hc_conn_t *hc_conn_new(hc_env_t *env, const hc_target_t *target);
/* Closes the socket without reporting the exchanges still held (the owner is
 * going away) and frees the slot. */
void hc_conn_free(hc_conn_t *c);

const hc_target_t *hc_conn_target(const hc_conn_t *c);
typedef enum hc_conn_state {
    HC_CONN_CLOSED = 0, HC_CONN_RESOLVING, HC_CONN_CONNECTING, HC_CONN_TLS, HC_CONN_READY
} hc_conn_state_t;
hc_conn_state_t hc_conn_state(const hc_conn_t *c);
/* The protocol of the current (or last) socket; NULL before the first. */
const hc_proto_t *hc_conn_proto(const hc_conn_t *c);
hc_env_t *hc_conn_env(hc_conn_t *c);

/* Queues x; connects when needed. The result always arrives through env->on_done. */
void hc_conn_submit(hc_conn_t *c, hc_xch_t *x);
/* Withdraws x (timeout or stop) without calling on_done for it; closes the
 * connection when the protocol cannot drop a half-read response. */
void hc_conn_cancel(hc_conn_t *c, hc_xch_t *x);
/* Frees what an idle connection does not need. */
void hc_conn_trim(hc_conn_t *c);

/* Request bodies above this many bytes not yet sent make hc_conn_body ask
 * the caller to wait for env->on_drain. */
#define HC_UPLOAD_HIGH (256 * 1024)
/* A piece of x's streamed body (hc_req_t.body_streamed), x submitted and not
 * ended. Copied. Returns 0, 1 when the caller should stop feeding until
 * env->on_drain(x), or -1 (out of memory: x is not changed). */
int hc_conn_body(hc_xch_t *x, const void *data, size_t len);
/* The streamed body of x is complete. */
void hc_conn_body_end(hc_xch_t *x);
/* Stops (paused) or resumes handing x's response over: the caller's
 * consumer is slow. HTTP/1.1: the connection stops reading (bytes already
 * read are kept); h2: x's stream window is not re-opened, other streams go
 * on. The body timer does not run while paused. Resuming hands kept bytes
 * over from the event loop, never inside this call. */
void hc_conn_pause(hc_xch_t *x, bool paused);

/* Frees x's upload buffer; the client calls it when x ends (on_done), the
 * caller only for an exchange it withdrew (hc_conn_cancel). */
void hc_xch_upload_free(hc_xch_t *x);

/* ---- byte pipes: a connection after a 101 (hc_xch_t.upgrade). */
typedef struct hc_pipe_ops {
    /* Bytes from the peer (the first call may hold bytes that came with the
     * 101), valid during the call. */
    void (*on_data)(hc_conn_t *c, void *arg, const char *data, size_t len);
    /* The socket closed: the peer (HC_FAIL_RESET, also for a clean EOF), a
     * write error, a timeout. Called once, after the socket is gone; never
     * for hc_conn_free or hc_conn_pipe_close. */
    void (*on_close)(hc_conn_t *c, void *arg, hc_fail_t why);
} hc_pipe_ops_t;

/* Takes c as a pipe (from on_done of an exchange answered 101 on it):
 * hc_conn_write sends bytes as they are, ops->on_data gets what is read, no
 * request can be submitted until the pipe closes (the slot then speaks HTTP
 * again on its next connection). ops must outlive the pipe. Returns 0, or -1
 * when c is not in such an on_done. */
int hc_conn_pipe(hc_conn_t *c, const hc_pipe_ops_t *ops, void *arg);
/* Closes the pipe's socket without calling on_close (the caller ends it). */
void hc_conn_pipe_close(hc_conn_t *c);

/* ---- for protocols. */
/* Writes bytes now, or copies what the socket does not take and sends it when
 * writable. Returns 0 or -1 (connection failed: the caller returns an error). */
int hc_conn_write(hc_conn_t *c, const void *data, size_t len);
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
/* Whether exchanges run concurrently on this slot (h2): as last negotiated, or
 * before the first connection, as the origin's protocol suggests. */
bool hc_conn_multiplexed(const hc_conn_t *c);
/* True once a response completed on the current socket (for retry decisions). */
bool hc_conn_reused(const hc_conn_t *c);
void hc_conn_mark_reused(hc_conn_t *c);
/* The value handed to env->on_negotiated (NULL: not called). */
void hc_conn_set_owner(hc_conn_t *c, void *owner);

#endif

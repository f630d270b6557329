/* hc: the HTTP client of aiotest, under replay's virtual users and the
 * capture proxy's upstream side: one client connection to one origin, speaking
 * HTTP/1.1 (hc_h1.c) or h2 (hc_h2.c) through the protocol table of
 * hc_proto.h, after h2load's session table. Knows no scenario, plan or stats: the caller
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
#include <sys/socket.h>

#include "hc_proto.h"

/* "connect", "timeout", ... ("ok" for HC_OK); never NULL. */
const char *hc_fail_name(hc_fail_t f);

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

/* NULL on out of memory. The slot starts HC_CONN_CLOSED. */
hc_conn_t *hc_conn_new(hc_env_t *env, const hc_target_t *target);
/* Closes the socket without reporting the exchanges still held (the owner is
 * going away) and frees the slot. */
void hc_conn_free(hc_conn_t *c);

typedef enum hc_conn_state {
    HC_CONN_CLOSED = 0, HC_CONN_RESOLVING, HC_CONN_CONNECTING, HC_CONN_TLS, HC_CONN_READY
} hc_conn_state_t;
hc_conn_state_t hc_conn_state(const hc_conn_t *c);
/* The protocol of the current (or last) socket; NULL before the first. */
const hc_proto_t *hc_conn_proto(const hc_conn_t *c);

/* Queues x; connects when needed. The result always arrives through env->on_done. */
void hc_conn_submit(hc_conn_t *c, hc_xch_t *x);
/* Opens c's socket ahead of its first exchange (resolve, connect, TLS and
 * the protocol's preface), so that a request due later does not pay for it
 * (a timed replay's connect-ahead). Nothing when c is not closed. A failure
 * is not reported, as no exchange holds it: hc_conn_why says it, and the
 * next submit opens again and its own failure counts. */
void hc_conn_open(hc_conn_t *c);
/* Withdraws x (timeout or stop) without calling on_done for it; closes the
 * connection when the protocol cannot drop a half-read response. */
void hc_conn_cancel(hc_conn_t *c, hc_xch_t *x);
/* Frees what an idle connection does not need. */
void hc_conn_trim(hc_conn_t *c);

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

/* Whether exchanges run concurrently on this slot (h2): as last negotiated, or
 * before the first connection, as the origin's protocol suggests. */
bool hc_conn_multiplexed(const hc_conn_t *c);
/* Why the last attempt to open c's socket failed, for a caller that names
 * it (the capture proxy's 502 reason): "cannot resolve ...", "connect
 * failed: ...", "TLS handshake failed: <verification error>"; "" when the
 * attempt did not fail. Read it in env->on_done; the next attempt clears it. */
const char *hc_conn_why(const hc_conn_t *c);
/* The value handed to env->on_negotiated (NULL: not called). */
void hc_conn_set_owner(hc_conn_t *c, void *owner);

#endif

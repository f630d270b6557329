/* wsrun: one virtual user's WebSocket session, the run of a ws step
 * (plan_ws_t). The handshake is an HTTP/1.1 GET with Upgrade on a connection
 * of the session's own from the http/ client (TCP or TLS as the origin says,
 * ALPN http/1.1 only); after the 101 that connection is a byte pipe
 * (hc_conn_pipe) and frames are written and read with common/wsframe.
 *
 *   CONNECTING ─101─► GAP ─send─► AWAIT ─awaited─► GAP ... ─► CLOSE_GAP ─► CLOSING ─► DONE
 *        │             └─(nothing to await)─► GAP                               ▲
 *        └─fail────────────────────────────────────────────────────────────────┘
 *
 * Stats: "WS <name> connect" gets the handshake (its latency from start_us to
 * the 101); "WS <name> <message>" gets each message: latency from its send
 * to the awaited server message (or its send alone when it awaits nothing).
 * Failures: ws_handshake (refused, no 101, bad Sec-WebSocket-Accept, the
 * connection's own failures), ws_timeout (the await took longer than
 * --timeout; the session goes on with the next message), ws_closed (the
 * server closed mid-session: the message in flight or the next one is
 * counted, the session ends), ws_protocol (a frame breaking RFC 6455; the
 * session ends). Server pings are answered with pongs. One timer per session:
 * the gap, the await timeout or the close bound. */
#ifndef AIOTEST_WSRUN_H
#define AIOTEST_WSRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cookies.h"
#include "hc.h"
#include "plan.h"
#include "render.h"
#include "stats.h"
#include "template.h"

typedef struct wsr wsr_t;

/* Per worker thread; zero-initialise, set the fields, wsr_env_fini at the end. */
typedef struct wsr_env {
    hc_env_t *hc;                   /* the thread's client (its connect/TLS/first-byte timeouts) */
    stats_t *stats;
    render_t *rd;                   /* the thread's request rendering (the handshake) */
    uint64_t *rng;                  /* keys, masks, generators */
    uint64_t timeout_us;            /* an await's bound, and the handshake's; 0: none */
    double think_scale;             /* multiplies the recorded gaps */
    size_t max_msg;                 /* bytes kept per server message (0: 1 MiB) */
    tpl_buf_t buf;                  /* a text message's expansion, then its frame */
    hc_header_t *hdrs;              /* the handshake's headers plus the WebSocket ones */
    size_t hdrs_cap;
} wsr_env_t;

void wsr_env_fini(wsr_env_t *env);

/* Ends a session: called once, from the event loop (never inside
 * wsr_start); free w later with wsr_free, not inside this call. */
typedef void (*wsr_done_fn)(wsr_t *w, void *arg);

/* What a session is started with. */
typedef struct wsr_in {
    const plan_step_t *step;        /* step->ws and step->reqs[0] (the handshake) */
    const plan_origin_t *origin;    /* where reqs[0] goes (must outlive the session) */
    const char *path;               /* its origin-form target, copied */
    size_t path_len;
    tpl_vars_t *vars;               /* the user's: templates read, extractors write */
    const cookie_jar_t *jar;        /* sent with the handshake; NULL: none */
    uint64_t user_id;
    uint64_t start_us;              /* latency origin of the connect entry */
    wsr_done_fn done;
    void *arg;
} wsr_in_t;

/* Starts a session (connects). Returns NULL on out of memory, nothing
 * counted. */
wsr_t *wsr_start(wsr_env_t *env, const wsr_in_t *in);
/* Graceful stop: the handshake or await in flight ends as it would, then the
 * session closes instead of sending more. */
void wsr_stop(wsr_t *w);
/* The run is over: the handshake or await in flight is counted as
 * unfinished. No callback; call before wsr_free. */
void wsr_abandon(wsr_t *w);
/* Closes the connection (if open) without a close frame and frees. */
void wsr_free(wsr_t *w);
/* Bytes w holds now (struct, parser buffer, connection). */
size_t wsr_memory(const wsr_t *w);

/* The Sec-WebSocket-Accept a server must answer to key (RFC 6455 4.2.2):
 * base64 of SHA-1(key + GUID), 28 characters and a NUL into out. */
void wsr_accept_of(const char *key, char out[29]);

#endif

/* wsrun: a user's WebSocket session (see wsrun.h). */
#include "wsrun.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "clock.h"
#include "extract.h"
#include "jsonpath.h"
#include "log.h"
#include "wsframe.h"

/* Without --timeout a closing handshake still ends: the server's close frame
 * is awaited this long. */
#define WSR_CLOSE_US 5000000u

enum state { S_CONNECTING = 0, S_GAP, S_AWAIT, S_CLOSE_GAP, S_CLOSING, S_DONE };

struct wsr {
    wsr_env_t *env;
    const plan_step_t *st;
    const plan_ws_t *ws;
    const plan_origin_t *origin;
    char *path;
    size_t path_len;
    tpl_vars_t *vars;
    const cookie_jar_t *jar;
    uint64_t user_id;
    wsr_done_fn done;
    void *arg;
    hc_conn_t *conn;
    hc_xch_t x;
    struct event timer;
    struct event kick;        /* a handshake that failed inside hc_conn_submit */
    wsf_t parser;
    bool parser_on;
    uint8_t state;
    bool stopping, in_submit, piped;
    hc_fail_t deferred;       /* the failure kick reports */
    stats_fail_t render_fail; /* why hs_render refused the handshake (HC_FAIL_REQUEST) */
    char key[25];
    char accept[29];
    size_t i;                 /* the message being sent or awaited */
    uint32_t got;             /* server data messages counted for the await */
    uint64_t t_send;          /* when message i went out */
    uint64_t sent, recv;      /* bytes since the last count */
};

void wsr_env_fini(wsr_env_t *env)
{
    free(env->buf.p);
    free(env->hdrs);
    env->buf = (tpl_buf_t){0};
    env->hdrs = NULL;
    env->hdrs_cap = 0;
}

void wsr_accept_of(const char *key, char out[29])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char md[SHA_DIGEST_LENGTH];
    char in[128];
    int n = snprintf(in, sizeof in, "%s%s", key, guid);
    SHA1((const unsigned char *)in, (size_t)n, md);
    EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
}

static const plan_req_t *hs_req(const wsr_t *w) { return &w->st->reqs[0]; }

static void record(wsr_t *w, uint32_t entry, int status, stats_fail_t fail, uint64_t from)
{
    uint64_t now = clk_mono_us();
    stats_record(w->env->stats, entry, STATS_PROTO_H1, status, fail, now > from ? now - from : 0, w->sent,
                 w->recv);
    w->sent = w->recv = 0;
}

static void arm(wsr_t *w, uint64_t us)
{
    struct timeval tv = {(time_t)(us / 1000000), (suseconds_t)(us % 1000000)};
    evtimer_add(&w->timer, &tv);
}

/* The session is over: stop everything, tell the user. */
static void end(wsr_t *w)
{
    w->state = S_DONE;
    evtimer_del(&w->timer);
    if (w->conn && w->piped)
        hc_conn_pipe_close(w->conn);
    w->piped = false;
    w->done(w, w->arg);
}

/* The session cannot go on (the server closed, a bad frame, a write that
 * failed): the message in flight, or the one that was to go next, is
 * counted with fail; after the last message nothing is. */
static void fail_session(wsr_t *w, stats_fail_t fail)
{
    if (w->state == S_AWAIT)
        record(w, w->ws->msgs[w->i].entry, 0, fail, w->t_send);
    else if (w->state == S_GAP && w->i < w->ws->n_msgs)
        record(w, w->ws->msgs[w->i].entry, 0, fail, clk_mono_us());
    end(w);
}

/* Writes one frame (masked, as a client must). 0 or -1. */
static int send_frame(wsr_t *w, uint8_t op, const void *data, size_t len)
{
    uint64_t r = tpl_rand(w->env->rng);
    uint8_t mask[4] = {(uint8_t)r, (uint8_t)(r >> 8), (uint8_t)(r >> 16), (uint8_t)(r >> 24)};
    size_t n = wsf_frame_size(len, true);
    uint8_t *out = (uint8_t *)hc_env_wbuf(w->env->hc, n);
    if (!out)
        return -1; /* payloads live in env->buf, the plan or the parser, never in wbuf */
    wsf_frame(out, op, data, len, true, mask);
    w->sent += n;
    return hc_conn_write(w->conn, out, n);
}

static void next_message(wsr_t *w);

/* After the last message (or a stop): the recorded pause, then the close. */
static void to_close(wsr_t *w)
{
    w->state = S_CLOSE_GAP;
    uint64_t gap = w->stopping ? 0 : (uint64_t)((double)w->ws->src->close_gap_us * w->env->think_scale);
    arm(w, gap);
}

static void next_message(wsr_t *w)
{
    if (w->i >= w->ws->n_msgs || w->stopping) {
        to_close(w);
        return;
    }
    w->state = S_GAP;
    arm(w, (uint64_t)((double)w->ws->msgs[w->i].src->gap_us * w->env->think_scale));
}

static bool awaits(const plan_ws_msg_t *m)
{
    return m->src->await_count || m->match || m->src->await_contains;
}

static void send_message(wsr_t *w)
{
    wsr_env_t *env = w->env;
    const plan_ws_msg_t *m = &w->ws->msgs[w->i];
    const void *data = m->src->data;
    size_t len = m->src->len;
    if (m->data) {
        tpl_ctx_t ctx = {.vars = w->vars, .user_id = w->user_id, .rng = env->rng};
        env->buf.len = 0;
        if (tpl_expand_into(m->data, &ctx, &env->buf) != 0) {
            record(w, m->entry, 0, STATS_FAIL_PROTOCOL, clk_mono_us()); /* out of memory */
            w->i++;
            next_message(w);
            return;
        }
        data = env->buf.p;
        len = env->buf.len;
    }
    w->t_send = clk_mono_us();
    if (send_frame(w, m->src->binary ? WSF_BINARY : WSF_TEXT, data ? data : "", len) != 0) {
        fail_session(w, STATS_FAIL_WS_CLOSED);
        return;
    }
    if (!awaits(m)) {
        record(w, m->entry, 0, STATS_OK, w->t_send);
        w->i++;
        next_message(w);
        return;
    }
    w->state = S_AWAIT;
    w->got = 0;
    if (env->timeout_us)
        arm(w, env->timeout_us);
}

static bool matches(const plan_ws_msg_t *m, const wsf_msg_t *msg)
{
    if (m->src->await_contains) {
        size_t n = strlen(m->src->await_contains);
        return msg->len >= n && memmem(msg->data, msg->len, m->src->await_contains, n);
    }
    json_t *root = json_loadb((const char *)msg->data, msg->len, JSON_DECODE_ANY, NULL);
    if (!root)
        return false;
    bool ok = false;
    json_t *v = jpath_lookup(m->match, root);
    if (v) {
        char scratch[JPATH_SCRATCH], *owned = NULL;
        size_t len = 0;
        const char *t = jpath_text(v, scratch, &len, &owned);
        ok = t && len == strlen(m->src->await_equals) && memcmp(t, m->src->await_equals, len) == 0;
        free(owned);
    }
    json_decref(root);
    return ok;
}

/* A server data message while message i awaits. */
static void on_data_msg(wsr_t *w, const wsf_msg_t *msg)
{
    const plan_ws_msg_t *m = &w->ws->msgs[w->i];
    bool done = m->match || m->src->await_contains ? matches(m, msg) : ++w->got >= m->src->await_count;
    if (!done)
        return;
    evtimer_del(&w->timer);
    stats_fail_t fail = STATS_OK;
    if (m->n_ext) {
        /* Extractors read the message as a response body. */
        hc_resp_t resp = {.status = 200, .body = (const char *)msg->data, .body_len = msg->len,
                          .body_cut = msg->truncated};
        if (ext_apply_all(m->ext, m->n_ext, &resp, w->vars) != 0)
            fail = STATS_FAIL_EXTRACT;
    }
    record(w, m->entry, 0, fail, w->t_send);
    w->i++;
    next_message(w);
}

/* One whole message from the server. Nonzero stops the parser (the session ended). */
static int on_msg(void *ctx, const wsf_msg_t *msg)
{
    wsr_t *w = ctx;
    switch (msg->opcode) {
    case WSF_PING:
        if (w->state == S_CLOSING)
            return 0; /* our close went out: nothing follows it */
        if (send_frame(w, WSF_PONG, msg->data, msg->len) != 0) {
            fail_session(w, STATS_FAIL_WS_CLOSED);
            return 1;
        }
        return 0;
    case WSF_PONG:
        return 0;
    case WSF_CLOSE:
        if (w->state == S_CLOSING) {
            end(w); /* our close answered: a clean end */
            return 1;
        }
        /* The server ends the session: answer its close, count what it cut. */
        {
            uint8_t code[2] = {(uint8_t)(msg->close_code >> 8), (uint8_t)msg->close_code};
            send_frame(w, WSF_CLOSE, code, msg->close_code ? 2 : 0);
        }
        fail_session(w, STATS_FAIL_WS_CLOSED);
        return 1;
    default:
        if (w->state == S_AWAIT)
            on_data_msg(w, msg);
        return w->state == S_DONE;
    }
}

static void pipe_data(hc_conn_t *c, void *arg, const char *data, size_t len)
{
    (void)c;
    wsr_t *w = arg;
    if (w->state == S_DONE)
        return;
    w->recv += len;
    if (wsf_feed(&w->parser, (const uint8_t *)data, len, on_msg, w) != 0 && w->state != S_DONE) {
        /* Broke RFC 6455: nothing more can be read on this connection. Why is
         * said once; every case is counted. */
        static atomic_flag said = ATOMIC_FLAG_INIT;
        if (!atomic_flag_test_and_set(&said))
            log_warn("WebSocket step '%s': the server broke the protocol: %s; counted as ws_protocol "
                     "(further cases are counted without this message)", w->ws->src->name, w->parser.error);
        fail_session(w, STATS_FAIL_WS_PROTOCOL);
    }
}

static void pipe_close(hc_conn_t *c, void *arg, hc_fail_t why)
{
    (void)c;
    (void)why;
    wsr_t *w = arg;
    w->piped = false;
    if (w->state == S_DONE)
        return;
    if (w->state == S_CLOSING) {
        end(w); /* the server closed the socket after our close: done */
        return;
    }
    fail_session(w, STATS_FAIL_WS_CLOSED);
}

static const hc_pipe_ops_t pipe_ops = {.on_data = pipe_data, .on_close = pipe_close};

/* ---- the handshake */

static int hs_render(hc_xch_t *x, hc_req_t *rv)
{
    wsr_t *w = x->owner;
    wsr_env_t *env = w->env;
    render_in_t in = {
        .req = hs_req(w),
        .method = "GET",
        .origin = w->origin,
        .path = w->path,
        .path_len = w->path_len,
        .jar = w->jar,
        .now_s = w->jar ? clk_wall_us() / 1000000 : 0,
    };
    tpl_ctx_t ctx = {.vars = w->vars, .user_id = w->user_id, .rng = env->rng};
    int rc = render_request(env->rd, &in, &ctx, rv);
    if (rc != 0) {
        /* A template gave a bad header value: an extract failure, as for requests. */
        w->render_fail = rc < 0 && -rc < STATS_FAIL__COUNT ? (stats_fail_t)-rc : STATS_FAIL_PROTOCOL;
        return rc;
    }
    size_t need = rv->n_hdrs + 5;
    if (env->hdrs_cap < need) {
        hc_header_t *h = realloc(env->hdrs, need * sizeof *h);
        if (!h) {
            w->render_fail = STATS_FAIL_PROTOCOL;
            return -1;
        }
        env->hdrs = h;
        env->hdrs_cap = need;
    }
    size_t n = rv->n_hdrs;
    if (n)
        memcpy(env->hdrs, rv->hdrs, n * sizeof *rv->hdrs);
    env->hdrs[n++] = (hc_header_t){"Upgrade", 7, "websocket", 9};
    env->hdrs[n++] = (hc_header_t){"Connection", 10, "Upgrade", 7};
    env->hdrs[n++] = (hc_header_t){"Sec-WebSocket-Key", 17, w->key, 24};
    env->hdrs[n++] = (hc_header_t){"Sec-WebSocket-Version", 21, "13", 2};
    const char *sub = w->ws->src->subprotocol;
    if (sub)
        env->hdrs[n++] = (hc_header_t){"Sec-WebSocket-Protocol", 22, sub, strlen(sub)};
    rv->hdrs = env->hdrs;
    rv->n_hdrs = n;
    rv->h1_bytes = NULL;
    return 0;
}

static const char *resp_header(const hc_resp_t *r, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < r->n_headers; i++)
        if (r->headers[i].name_len == nl && strncasecmp(r->headers[i].name, name, nl) == 0) {
            *len = r->headers[i].value_len;
            return r->headers[i].value;
        }
    return NULL;
}

static bool has_token(const char *v, size_t n, const char *tok)
{
    size_t tl = strlen(tok);
    for (size_t i = 0; i + tl <= n; i++)
        if (strncasecmp(v + i, tok, tl) == 0 && (i == 0 || v[i - 1] == ',' || v[i - 1] == ' ') &&
            (i + tl == n || v[i + tl] == ',' || v[i + tl] == ' '))
            return true;
    return false;
}

/* Whether a 101 is the WebSocket answer to our key (RFC 6455 4.1): Upgrade,
 * Connection, the accept; no extension (none was offered); the subprotocol
 * asked for, or none. */
static bool hs_ok(const wsr_t *w, const hc_resp_t *r)
{
    size_t n;
    const char *v = resp_header(r, "upgrade", &n);
    if (!v || n != 9 || strncasecmp(v, "websocket", 9) != 0)
        return false;
    if (!(v = resp_header(r, "connection", &n)) || !has_token(v, n, "upgrade"))
        return false;
    if (!(v = resp_header(r, "sec-websocket-accept", &n)) || n != 28 || memcmp(v, w->accept, 28) != 0)
        return false;
    if (resp_header(r, "sec-websocket-extensions", &n))
        return false;
    v = resp_header(r, "sec-websocket-protocol", &n);
    const char *sub = w->ws->src->subprotocol;
    if (v && (!sub || n != strlen(sub) || strncasecmp(v, sub, n) != 0))
        return false;
    return true;
}

static void hs_end(wsr_t *w, const hc_resp_t *resp, hc_fail_t fail)
{
    const plan_req_t *r = hs_req(w);
    w->sent += w->x.bytes_sent;
    w->recv += w->x.bytes_received;
    if (fail == HC_FAIL_REQUEST && w->render_fail != STATS_OK) {
        static atomic_flag said = ATOMIC_FLAG_INIT;
        if (w->render_fail == STATS_FAIL_EXTRACT && !atomic_flag_test_and_set(&said))
            log_warn("WebSocket step '%s': not connected: %s; counted as an extract failure (further "
                     "ones are counted without this message)", w->ws->src->name, render_why(w->env->rd));
        record(w, r->entry, 0, w->render_fail, w->x.start_us); /* nothing was sent */
        end(w);
        return;
    }
    if (fail != HC_OK || !resp || resp->status != 101 || !hs_ok(w, resp)) {
        record(w, r->entry, resp ? resp->status : 0, STATS_FAIL_WS_HANDSHAKE, w->x.start_us);
        end(w);
        return;
    }
    if (hc_conn_pipe(w->conn, &pipe_ops, w) != 0) {
        record(w, r->entry, 101, STATS_FAIL_WS_HANDSHAKE, w->x.start_us);
        end(w);
        return;
    }
    w->piped = true;
    wsf_init(&w->parser, w->env->max_msg ? w->env->max_msg : (1u << 20));
    wsf_from_server(&w->parser);
    w->parser_on = true;
    record(w, r->entry, 101, STATS_OK, w->x.start_us);
    /* The first message's gap runs from the loop: the connection becomes a
     * pipe once this callback returns. */
    next_message(w);
}

static void hs_done(hc_xch_t *x, const hc_resp_t *resp, hc_fail_t fail)
{
    wsr_t *w = x->owner;
    if (w->in_submit) {
        /* Failed inside hc_conn_submit: ended from the loop (wsr_start returns first). */
        w->deferred = fail == HC_OK ? HC_FAIL_PROTOCOL : fail;
        event_active(&w->kick, EV_TIMEOUT, 1);
        return;
    }
    evtimer_del(&w->timer);
    hs_end(w, resp, fail);
}

static const hc_xch_ops_t hs_ops = {.render = hs_render, .on_done = hs_done};

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    wsr_t *w = arg;
    if (w->state == S_CONNECTING)
        hs_end(w, NULL, w->deferred);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    wsr_t *w = arg;
    switch (w->state) {
    case S_CONNECTING:
        /* --timeout over the whole handshake. */
        if (w->x.conn)
            hc_conn_cancel(w->x.conn, &w->x);
        hs_end(w, NULL, HC_FAIL_TIMEOUT);
        return;
    case S_GAP:
        send_message(w);
        return;
    case S_AWAIT:
        record(w, w->ws->msgs[w->i].entry, 0, STATS_FAIL_WS_TIMEOUT, w->t_send);
        w->i++;
        next_message(w);
        return;
    case S_CLOSE_GAP: {
        static const uint8_t normal[2] = {0x03, 0xe8}; /* 1000 */
        if (send_frame(w, WSF_CLOSE, normal, 2) != 0) {
            end(w);
            return;
        }
        w->state = S_CLOSING;
        arm(w, w->env->timeout_us ? w->env->timeout_us : WSR_CLOSE_US);
        return;
    }
    case S_CLOSING:
        end(w); /* no close frame back: the socket is dropped */
        return;
    default:
        return;
    }
}

wsr_t *wsr_start(wsr_env_t *env, const wsr_in_t *in)
{
    wsr_t *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->env = env;
    w->st = in->step;
    w->ws = in->step->ws;
    w->origin = in->origin;
    w->vars = in->vars;
    w->jar = in->jar;
    w->user_id = in->user_id;
    w->done = in->done;
    w->arg = in->arg;
    w->path = malloc(in->path_len + 1);
    const plan_origin_t *o = in->origin;
    plan_origin_t *ow = (plan_origin_t *)o; /* the address cache, as user.c's target_of */
    hc_target_t t = {.host = o->url.host, .port = o->url.port, .tls = o->url.tls, .want = HC_WANT_H1,
                     .name = o->origin, .addr = &ow->addr, .addr_len = &ow->addr_len};
    if (!w->path || !(w->conn = hc_conn_new(env->hc, &t))) {
        free(w->path);
        free(w);
        return NULL;
    }
    memcpy(w->path, in->path, in->path_len);
    w->path[in->path_len] = '\0';
    w->path_len = in->path_len;
    uint8_t raw[16];
    for (int i = 0; i < 16; i += 8) {
        uint64_t r = tpl_rand(env->rng);
        memcpy(raw + i, &r, 8);
    }
    EVP_EncodeBlock((unsigned char *)w->key, raw, 16);
    wsr_accept_of(w->key, w->accept);
    evtimer_assign(&w->timer, env->hc->base, timer_cb, w);
    event_assign(&w->kick, env->hc->base, -1, 0, kick_cb, w);
    w->state = S_CONNECTING;
    w->x.owner = w;
    w->x.ops = &hs_ops;
    w->x.upgrade = true;
    w->x.start_us = in->start_us;
    if (env->timeout_us)
        arm(w, env->timeout_us);
    w->in_submit = true;
    hc_conn_submit(w->conn, &w->x);
    w->in_submit = false;
    return w;
}

void wsr_stop(wsr_t *w)
{
    if (!w || w->stopping)
        return;
    w->stopping = true;
    if (w->state == S_GAP) {
        evtimer_del(&w->timer);
        to_close(w);
    } else if (w->state == S_CLOSE_GAP) {
        evtimer_del(&w->timer);
        arm(w, 0);
    }
}

void wsr_abandon(wsr_t *w)
{
    if (!w)
        return;
    if (w->state == S_CONNECTING)
        record(w, hs_req(w)->entry, 0, STATS_FAIL_UNFINISHED, w->x.start_us);
    else if (w->state == S_AWAIT)
        record(w, w->ws->msgs[w->i].entry, 0, STATS_FAIL_UNFINISHED, w->t_send);
    w->state = S_DONE;
    evtimer_del(&w->timer);
}

void wsr_free(wsr_t *w)
{
    if (!w)
        return;
    evtimer_del(&w->timer);
    event_del(&w->kick);
    if (w->x.conn)
        hc_conn_cancel(w->x.conn, &w->x);
    hc_conn_free(w->conn);
    if (w->parser_on)
        wsf_fini(&w->parser);
    free(w->path);
    free(w);
}

size_t wsr_memory(const wsr_t *w)
{
    if (!w)
        return 0;
    /* The connection slot and its socket buffers are estimated as user.c does. */
    return sizeof *w + w->path_len + 1 + (w->parser_on ? w->parser.cap : 0) + 512;
}

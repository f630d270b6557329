/* hc: sockets, TLS, name lookup, phase timers and the protocol table (see hc.h). Plain nonblocking
 * sockets with event_new-style embedded events rather than bufferevents: a
 * request is one write() straight from the rendered (or prebuilt) bytes and a
 * response one read() into the thread's buffer, with no copy in between. */
#include "hc.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/util.h>
#include <openssl/err.h>

#include "clock.h"
#include "hc_h1.h"
#include "hc_h2.h"
#include "log.h"
#include "tls.h"

struct hc_conn {
    hc_env_t *env;
    hc_target_t t;
    int fd;
    uint8_t state;
    bool reused;            /* a response completed on this socket */
    bool read_off;          /* hc_conn_reading(false): rev not armed */
    uint32_t gen;           /* bumped per socket: callbacks may close and reopen */
    SSL *ssl;
    SSL_SESSION *sess;      /* kept across reconnects for resumption */
    uint64_t deadline_us;   /* end of the connect (or TLS) phase */
    struct event rev;       /* EV_READ|EV_PERSIST on fd while the socket lives */
    struct event wev;       /* EV_WRITE when output is pending; a timer while connecting */
    struct event tev;       /* HC_CONN_READY: first-byte / body timer while busy */
    char *out;              /* output the socket did not take yet */
    size_t out_len, out_off, out_cap;
    const hc_proto_t *proto;
    void *pst;              /* protocol state */
    size_t pst_size;
    hc_xch_t *qhead, *qtail;   /* submitted, waiting for the connection or the protocol */
    void *owner;            /* for env->on_negotiated */
    struct evdns_getaddrinfo_request *dns; /* HC_CONN_RESOLVING: the lookup in flight */
    const hc_pipe_ops_t *pipe;  /* the socket is a byte pipe (after a 101); NULL: HTTP */
    void *pipe_arg;
    bool may_pipe;              /* inside on_done of a 101 (hc_conn_upgraded) */
    char why[300];          /* why the last socket failed to open (hc_conn_why) */
};

/* The protocol of a pipe: bytes to the caller, nothing to submit. */
static int raw_on_read(hc_conn_t *c, void *st, const char *data, size_t len)
{
    (void)st;
    if (c->pipe)
        c->pipe->on_data(c, c->pipe_arg, data, len);
    return 0;
}
static void raw_on_eof(hc_conn_t *c, void *st) { (void)c; (void)st; }
static bool raw_no(hc_conn_t *c, void *st) { (void)c; (void)st; return false; }
static int raw_submit(hc_conn_t *c, void *st, hc_xch_t *x, const hc_req_t *rv)
{
    (void)c; (void)st; (void)x; (void)rv;
    return -1;
}
static bool raw_cancel(hc_conn_t *c, void *st, hc_xch_t *x) { (void)c; (void)st; (void)x; return false; }
static void raw_on_close(hc_conn_t *c, void *st, hc_xch_t **out) { (void)c; (void)st; (void)out; }
static const hc_proto_t raw_proto = {
    .name = "pipe", .proto_id = HC_PROTO_H1, .state_size = 1,
    .can_submit = raw_no, .submit = raw_submit, .on_read = raw_on_read, .on_eof = raw_on_eof,
    .cancel = raw_cancel, .on_close = raw_on_close, .busy = raw_no,
};

static void xch_done(hc_env_t *env, hc_xch_t *x, const hc_resp_t *resp, hc_fail_t fail)
{
    if (x->ops)
        x->ops->on_done(x, resp, fail);
    else
        env->on_done(x, resp, fail);
}

/* A pipe's socket went away: tell its owner once. */
static void pipe_closed(hc_conn_t *c, const hc_pipe_ops_t *p, void *arg, hc_fail_t why)
{
    if (p)
        p->on_close(c, arg, why);
}

static void rev_cb(evutil_socket_t fd, short what, void *arg);
/* Full reads of the read buffer (64 KiB) per read event: 1 MiB. */
#define CONN_READS_PER_WAKE 16

static void wev_cb(evutil_socket_t fd, short what, void *arg);
static void tev_cb(evutil_socket_t fd, short what, void *arg);
static void arm_tev(hc_conn_t *c, uint64_t us);
static void conn_open(hc_conn_t *c);

const char *hc_fail_name(hc_fail_t f)
{
    static const char *const names[HC_FAIL__COUNT] = {
        "ok", "connect", "timeout", "reset", "tls", "protocol", "h2_rst", "h2_goaway",
        "h2_protocol", "request"};
    return (unsigned)f < HC_FAIL__COUNT ? names[f] : "?";
}

int hc_env_init(hc_env_t *env, struct event_base *base)
{
    memset(env, 0, sizeof *env);
    env->base = base;
    env->rbuf_cap = 64 * 1024;
    env->max_body = HC_MAX_BODY_DEFAULT;
    bodydec_init(&env->dec);
    env->rbuf = malloc(env->rbuf_cap);
    env->hdrs_cap = 64;
    env->hdrs = malloc(env->hdrs_cap * sizeof *env->hdrs);
    return env->rbuf && env->hdrs ? 0 : -1;
}

void hc_env_fini(hc_env_t *env)
{
    if (env->dns_cancelled)
        event_base_loop(env->base, EVLOOP_NONBLOCK);
    env->dns_cancelled = 0;
    if (env->dns)
        evdns_base_free(env->dns, 1);
    env->dns = NULL;
    free(env->rbuf);
    bodydec_fini(&env->dec);
    free(env->wbuf);
    free(env->hdrs);
    env->rbuf = env->wbuf = NULL;
    env->hdrs = NULL;
}

char *hc_env_wbuf(hc_env_t *env, size_t n)
{
    if (n > env->wbuf_cap) {
        size_t cap = env->wbuf_cap ? env->wbuf_cap : 4096;
        while (cap < n)
            cap *= 2;
        char *p = realloc(env->wbuf, cap);
        if (!p)
            return NULL;
        env->wbuf = p;
        env->wbuf_cap = cap;
    }
    return env->wbuf;
}

hc_conn_t *hc_conn_new(hc_env_t *env, const hc_target_t *target)
{
    hc_conn_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->env = env;
    c->t = *target;
    c->fd = -1;
    /* Assigned once so that event_del is always legal; re-assigned per socket. */
    event_assign(&c->rev, env->base, -1, 0, rev_cb, c);
    event_assign(&c->wev, env->base, -1, 0, wev_cb, c);
    evtimer_assign(&c->tev, env->base, tev_cb, c);
    return c;
}

const hc_target_t *hc_conn_target(const hc_conn_t *c) { return &c->t; }
hc_conn_state_t hc_conn_state(const hc_conn_t *c) { return (hc_conn_state_t)c->state; }
const hc_proto_t *hc_conn_proto(const hc_conn_t *c) { return c->proto; }
hc_env_t *hc_conn_env(hc_conn_t *c) { return c->env; }
bool hc_conn_reused(const hc_conn_t *c) { return c->reused; }
const char *hc_conn_why(const hc_conn_t *c) { return c->why; }
void hc_conn_mark_reused(hc_conn_t *c) { c->reused = true; }
void hc_conn_set_owner(hc_conn_t *c, void *owner) { c->owner = owner; }

void hc_conn_unsolicited(hc_conn_t *c, size_t len)
{
    if (c->env->on_unsolicited)
        c->env->on_unsolicited(c, len);
}

static void arm_wev(hc_conn_t *c, bool on_fd, uint64_t timeout_us)
{
    event_del(&c->wev);
    event_assign(&c->wev, c->env->base, on_fd ? c->fd : -1, on_fd ? EV_WRITE : 0, wev_cb, c);
    if (timeout_us) {
        struct timeval tv = {(time_t)(timeout_us / 1000000), (suseconds_t)(timeout_us % 1000000)};
        event_add(&c->wev, &tv);
    } else {
        event_add(&c->wev, NULL);
    }
}

static uint64_t connect_left(const hc_conn_t *c)
{
    uint64_t now = clk_mono_us();
    return c->deadline_us > now ? c->deadline_us - now : 1;
}

/* Closes the socket and resets the slot; hands back every exchange held. */
static hc_xch_t *teardown(hc_conn_t *c)
{
    hc_xch_t *list = NULL;
    if (c->proto && c->state == HC_CONN_READY)
        c->proto->on_close(c, c->pst, &list);
    if (c->dns) {
        struct evdns_getaddrinfo_request *r = c->dns;
        c->dns = NULL;
        evdns_getaddrinfo_cancel(r); /* its callback sees EVUTIL_EAI_CANCEL and returns */
        c->env->dns_cancelled++;
    }
    if (c->state == HC_CONN_RESOLVING)
        event_del(&c->wev);
    if (c->qhead) {
        c->qtail->qnext = list;
        list = c->qhead;
        c->qhead = c->qtail = NULL;
    }
    evtimer_del(&c->tev);
    if (c->fd >= 0) {
        event_del(&c->rev);
        event_del(&c->wev);
        if (c->ssl) {
            SSL_SESSION *s = SSL_get1_session(c->ssl);
            if (s && SSL_SESSION_is_resumable(s)) {
                SSL_SESSION_free(c->sess);
                c->sess = s;
                /* Without this SSL_free takes the close for an abort and marks
                 * the session not resumable. */
                SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
            } else {
                SSL_SESSION_free(s);
            }
            SSL_free(c->ssl);
            c->ssl = NULL;
        }
        close(c->fd);
        c->fd = -1;
    }
    c->state = HC_CONN_CLOSED;
    c->read_off = false;
    c->gen++;
    c->reused = false;
    c->out_len = c->out_off = 0;
    return list;
}

void hc_conn_close(hc_conn_t *c, hc_fail_t why)
{
    const hc_pipe_ops_t *pipe = c->pipe;
    void *parg = c->pipe_arg;
    c->pipe = NULL;
    if (pipe) {
        teardown(c);
        pipe_closed(c, pipe, parg, why == HC_OK ? HC_FAIL_RESET : why);
        return;
    }
    if (why == HC_OK) {
        /* A clean close ("Connection: close"): what is queued behind goes on
         * a new socket (parallel steps queue on HTTP/1.1 connections). */
        hc_conn_retire(c, HC_FAIL_RESET);
        return;
    }
    hc_xch_t *x = teardown(c);
    /* Callbacks last: on_done may submit on this very slot, which reconnects. */
    while (x) {
        hc_xch_t *next = x->qnext;
        x->conn = NULL;
        hc_xch_upload_free(x);
        xch_done(c->env, x, NULL, why);
        x = next;
    }
}

int hc_conn_pipe(hc_conn_t *c, const hc_pipe_ops_t *ops, void *arg)
{
    if (!c->may_pipe)
        return -1;
    c->pipe = ops;
    c->pipe_arg = arg;
    return 0;
}

void hc_conn_pipe_close(hc_conn_t *c)
{
    c->pipe = NULL;
    teardown(c);
}

void hc_conn_upgraded(hc_conn_t *c, hc_xch_t *x, const hc_resp_t *resp, const char *rest, size_t len)
{
    uint32_t gen = c->gen;
    c->pipe = NULL;
    c->may_pipe = true;
    hc_conn_done(c, x, resp, HC_OK);
    c->may_pipe = false;
    if (c->gen != gen || c->state != HC_CONN_READY)
        return; /* closed inside on_done */
    if (!c->pipe) {
        hc_conn_close(c, HC_FAIL_PROTOCOL); /* nobody took it: no HTTP after a 101 */
        return;
    }
    if (c->proto->fini)
        c->proto->fini(c, c->pst);
    free(c->pst);
    c->proto = &raw_proto;
    c->pst = calloc(1, raw_proto.state_size);
    c->pst_size = raw_proto.state_size;
    evtimer_del(&c->tev);
    if (!c->pst) {
        hc_conn_close(c, HC_FAIL_PROTOCOL);
        return;
    }
    if (len)
        c->pipe->on_data(c, c->pipe_arg, rest, len);
}

void hc_conn_free(hc_conn_t *c)
{
    if (!c)
        return;
    c->pipe = NULL;
    teardown(c);
    if (c->proto && c->proto->fini)
        c->proto->fini(c, c->pst);
    free(c->pst);
    SSL_SESSION_free(c->sess);
    free(c->out);
    free(c);
}

void hc_conn_done(hc_conn_t *c, hc_xch_t *x, const hc_resp_t *resp, hc_fail_t fail)
{
    x->conn = NULL;
    hc_xch_upload_free(x);
    xch_done(c->env, x, resp, fail);
}

void hc_xch_upload_free(hc_xch_t *x)
{
    if (x->up) {
        free(x->up->buf);
        free(x->up);
        x->up = NULL;
    }
}

int hc_conn_body(hc_xch_t *x, const void *data, size_t len)
{
    if (!x->up && !(x->up = calloc(1, sizeof *x->up)))
        return -1;
    hc_upload_t *u = x->up;
    if (u->off == u->len)
        u->off = u->len = 0;
    if (u->len + len > u->cap) {
        size_t cap = u->cap ? u->cap : 16384;
        while (cap < u->len + len)
            cap *= 2;
        char *p = realloc(u->buf, cap);
        if (!p)
            return -1;
        u->buf = p;
        u->cap = cap;
    }
    memcpy(u->buf + u->len, data, len);
    u->len += len;
    hc_conn_t *c = x->conn;
    if (u->with_proto && c && c->state == HC_CONN_READY && c->proto->body &&
        c->proto->body(c, c->pst, x) != 0) {
        hc_conn_close(c, HC_FAIL_RESET);
        return 0;
    }
    /* What the protocol took may still wait in the connection's buffer. */
    size_t pending = (x->up ? x->up->len - x->up->off : 0) +
                     (c && c->state == HC_CONN_READY ? c->out_len - c->out_off : 0);
    if (x->up && pending > HC_UPLOAD_HIGH) {
        x->up->want_drain = true;
        return 1;
    }
    return 0;
}

void hc_conn_body_end(hc_xch_t *x)
{
    if (!x->up && !(x->up = calloc(1, sizeof *x->up)))
        return; /* out of memory: the exchange times out */
    x->up->end = true;
    hc_conn_t *c = x->conn;
    if (x->up->with_proto && c && c->state == HC_CONN_READY && c->proto->body &&
        c->proto->body(c, c->pst, x) != 0)
        hc_conn_close(c, HC_FAIL_RESET);
}

void hc_conn_pause(hc_xch_t *x, bool paused)
{
    x->paused = paused;
    hc_conn_t *c = x->conn;
    if (c && c->state == HC_CONN_READY && c->proto->pause)
        c->proto->pause(c, c->pst, x, paused);
}

void hc_conn_reading(hc_conn_t *c, bool on)
{
    if (c->state != HC_CONN_READY)
        return;
    if (!on) {
        c->read_off = true;
        event_del(&c->rev);
        evtimer_del(&c->tev); /* the silence is the caller's */
        return;
    }
    if (!c->read_off)
        return;
    c->read_off = false;
    event_add(&c->rev, NULL);
    event_active(&c->rev, EV_READ, 1); /* kept bytes first (rev_cb), from the loop */
    if (c->env->body_timeout_us && c->proto->busy(c, c->pst))
        arm_tev(c, c->env->body_timeout_us);
}

bool hc_conn_out_pending(const hc_conn_t *c)
{
    return c->out_len > c->out_off;
}

/* The protocol for this connection: h2 when ALPN chose "h2", or over plain
 * TCP when the origin says h2c (prior knowledge); HTTP/1.1 otherwise. */
static const hc_proto_t *choose_proto(hc_conn_t *c)
{
    if (c->ssl) {
        const unsigned char *p = NULL;
        unsigned n = 0;
        SSL_get0_alpn_selected(c->ssl, &p, &n);
        return n == 2 && memcmp(p, "h2", 2) == 0 ? &hc_h2_proto : &hc_h1_proto;
    }
    return c->t.want == HC_WANT_H2C || c->t.want == HC_WANT_H2 ? &hc_h2_proto : &hc_h1_proto;
}

/* ALPN offer per origin: h1 only, h2 only, or h2 then http/1.1 (AUTO). */
static int set_alpn(hc_conn_t *c)
{
    static const unsigned char h2_only[] = "\x02h2";
    switch (c->t.want) {
    case HC_WANT_H1:
        return SSL_set_alpn_protos(c->ssl, tls_alpn_http11, (unsigned)tls_alpn_http11_len);
    case HC_WANT_H2:
        return SSL_set_alpn_protos(c->ssl, h2_only, (unsigned)sizeof h2_only - 1);
    default:
        return SSL_set_alpn_protos(c->ssl, tls_alpn_h2_http11, (unsigned)tls_alpn_h2_http11_len);
    }
}

bool hc_conn_multiplexed(const hc_conn_t *c)
{
    if (c->proto)
        return c->proto == &hc_h2_proto; /* as last negotiated */
    /* Not connected yet: what the origin asks for (over TLS, h2 is expected). */
    return c->t.want != HC_WANT_H1 && (c->t.tls || c->t.want != HC_WANT_AUTO);
}

void hc_conn_retire(hc_conn_t *c, hc_fail_t why)
{
    if (c->pipe) {
        hc_conn_close(c, why);
        return;
    }
    hc_xch_t *q = c->qhead, *qt = c->qtail;
    c->qhead = c->qtail = NULL;
    hc_xch_t *x = teardown(c);
    c->qhead = q;
    c->qtail = qt;
    /* Reconnect before the callbacks: what they resend joins the queue. */
    if (c->qhead)
        conn_open(c);
    while (x) {
        hc_xch_t *next = x->qnext;
        x->conn = NULL;
        hc_xch_upload_free(x);
        xch_done(c->env, x, NULL, why);
        x = next;
    }
}

static void arm_tev(hc_conn_t *c, uint64_t us)
{
    struct timeval tv = {(time_t)(us / 1000000), (suseconds_t)(us % 1000000)};
    evtimer_add(&c->tev, &tv);
}

/* Bytes arrived: while a response is incomplete the body timer runs, else
 * no timer (the first-byte one is over). */
static void tev_after_read(hc_conn_t *c)
{
    const hc_env_t *env = c->env;
    if (!env->first_byte_timeout_us && !env->body_timeout_us)
        return;
    if (env->body_timeout_us && c->proto->busy(c, c->pst))
        arm_tev(c, env->body_timeout_us);
    else if (env->first_byte_timeout_us && c->proto->waiting && c->proto->waiting(c, c->pst))
        arm_tev(c, env->first_byte_timeout_us);
    else
        evtimer_del(&c->tev);
}

/* The first byte or the next body bytes did not come in time. */
static void tev_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    hc_conn_t *c = arg;
    if (c->state == HC_CONN_READY && c->proto->busy(c, c->pst))
        hc_conn_close(c, HC_FAIL_TIMEOUT);
}

static void become_ready(hc_conn_t *c)
{
    const hc_proto_t *p = choose_proto(c);
    if (c->proto != p || !c->pst) {
        if (c->proto && c->proto->fini)
            c->proto->fini(c, c->pst);
        free(c->pst);
        c->pst = calloc(1, p->state_size);
        c->pst_size = p->state_size;
        c->proto = p;
        if (!c->pst) {
            hc_conn_close(c, HC_FAIL_PROTOCOL);
            return;
        }
    }
    c->state = HC_CONN_READY;
    event_del(&c->wev);
    event_assign(&c->wev, c->env->base, c->fd, EV_WRITE, wev_cb, c);
    if (p->on_ready && p->on_ready(c, c->pst) != 0) {
        hc_conn_close(c, HC_FAIL_PROTOCOL);
        return;
    }
    if (c->env->on_negotiated && c->owner) {
        uint32_t gen = c->gen;
        c->env->on_negotiated(c, c->owner);
        if (c->gen != gen || c->state != HC_CONN_READY)
            return;
    }
    hc_conn_pump(c);
}

static void tls_fail(hc_conn_t *c)
{
    char why[256];
    tls_error_string(c->ssl, why, sizeof why);
    snprintf(c->why, sizeof c->why, "TLS handshake failed: %s", why);
    /* Said once per run: the report counts every failure, the log says why. */
    static atomic_bool said;
    if (!atomic_exchange(&said, true))
        log_error("TLS handshake with %s failed: %s%s", c->t.name, why,
                  c->env->tls_hint ? c->env->tls_hint : "");
    hc_conn_close(c, HC_FAIL_TLS);
}

static void tls_step(hc_conn_t *c)
{
    ERR_clear_error();
    int rc = SSL_connect(c->ssl);
    if (rc == 1) {
        /* Read-ahead may already hold the server's first bytes (h2 SETTINGS,
         * session tickets): epoll will not say so, the read callback must look. */
        if (SSL_has_pending(c->ssl))
            event_active(&c->rev, EV_READ, 1);
        become_ready(c);
        return;
    }
    switch (SSL_get_error(c->ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        arm_wev(c, false, connect_left(c)); /* rev is armed; wev only times the phase */
        return;
    case SSL_ERROR_WANT_WRITE:
        arm_wev(c, true, connect_left(c));
        return;
    default:
        tls_fail(c);
    }
}

static void tcp_connected(hc_conn_t *c)
{
    event_assign(&c->rev, c->env->base, c->fd, EV_READ | EV_PERSIST, rev_cb, c);
    event_add(&c->rev, NULL);
    if (!c->t.tls) {
        become_ready(c);
        return;
    }
    c->ssl = c->env->ssl_ctx ? SSL_new(c->env->ssl_ctx) : NULL;
    if (!c->ssl || tls_client_prepare(c->ssl, c->t.host) != 0 ||
        set_alpn(c) != 0 || SSL_set_fd(c->ssl, c->fd) != 1) {
        tls_fail(c);
        return;
    }
    SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* One read(2) for what the socket holds, not two per record (header,
     * then body); rev_cb asks SSL_has_pending before it waits again. */
    SSL_set_read_ahead(c->ssl, 1);
    if (c->sess)
        SSL_set_session(c->ssl, c->sess);
    c->state = HC_CONN_TLS;
    if (c->env->tls_timeout_us)
        c->deadline_us = clk_mono_us() + c->env->tls_timeout_us;
    tls_step(c);
}

/* The name lookup of a run-time origin ended. */
static void dns_cb(int result, struct evutil_addrinfo *res, void *arg)
{
    if (result == EVUTIL_EAI_CANCEL) {
        if (res)
            evutil_freeaddrinfo(res);
        return;
    }
    hc_conn_t *c = arg;
    c->dns = NULL;
    if (result != 0 || !res) {
        snprintf(c->why, sizeof c->why, "cannot resolve %s: %s", c->t.host,
                 evutil_gai_strerror(result));
        static atomic_bool said;
        if (!atomic_exchange(&said, true))
            log_error("cannot resolve host '%s' (%s)%s", c->t.host, evutil_gai_strerror(result),
                      c->env->dns_hint ? c->env->dns_hint : "");
        if (res)
            evutil_freeaddrinfo(res);
        hc_conn_close(c, HC_FAIL_CONNECT);
        return;
    }
    /* Kept in the target's cache for the next connections (hc_target_t). */
    memcpy(c->t.addr, res->ai_addr, res->ai_addrlen);
    *c->t.addr_len = (socklen_t)res->ai_addrlen;
    evutil_freeaddrinfo(res);
    event_del(&c->wev);
    c->state = HC_CONN_CLOSED;
    conn_open(c);
}

/* A name lookup on the thread's event loop (evdns), never a blocking
 * getaddrinfo: the loop keeps serving every other connection meanwhile. */
static void conn_resolve(hc_conn_t *c)
{
    hc_env_t *env = c->env;
    if (!env->dns)
        env->dns = evdns_base_new(env->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
                                                 EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (!env->dns) {
        hc_conn_close(c, HC_FAIL_CONNECT);
        return;
    }
    c->state = HC_CONN_RESOLVING;
    c->deadline_us = clk_mono_us() + env->connect_timeout_us;
    arm_wev(c, false, env->connect_timeout_us); /* fd -1: the lookup's time limit */
    char port[8];
    snprintf(port, sizeof port, "%u", c->t.port);
    struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                    .ai_protocol = IPPROTO_TCP};
    uint32_t gen = c->gen;
    struct evdns_getaddrinfo_request *r =
        evdns_getaddrinfo(env->dns, c->t.host, port, &hints, dns_cb, c);
    /* The answer may have come inside the call (a numeric host, /etc/hosts). */
    if (r && c->gen == gen && c->state == HC_CONN_RESOLVING)
        c->dns = r;
}

static void conn_open(hc_conn_t *c)
{
    c->why[0] = '\0';
    if (*c->t.addr_len == 0) {
        conn_resolve(c);
        return;
    }
    c->fd = socket(c->t.addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        snprintf(c->why, sizeof c->why, "socket: %s", strerror(errno));
        hc_conn_close(c, HC_FAIL_CONNECT);
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->deadline_us = clk_mono_us() + c->env->connect_timeout_us;
    if (connect(c->fd, (const struct sockaddr *)c->t.addr, *c->t.addr_len) == 0) {
        tcp_connected(c);
        return;
    }
    if (errno != EINPROGRESS) {
        snprintf(c->why, sizeof c->why, "connect failed: %s", strerror(errno));
        hc_conn_close(c, HC_FAIL_CONNECT);
        return;
    }
    c->state = HC_CONN_CONNECTING;
    arm_wev(c, true, c->env->connect_timeout_us);
}

void hc_conn_submit(hc_conn_t *c, hc_xch_t *x)
{
    x->conn = c;
    x->qnext = NULL;
    x->bytes_sent = x->bytes_received = 0;
    x->retryable = x->pipelined = false;
    if (c->qtail)
        c->qtail->qnext = x;
    else
        c->qhead = x;
    c->qtail = x;
    if (c->state == HC_CONN_CLOSED)
        conn_open(c);
    else if (c->state == HC_CONN_READY)
        hc_conn_pump(c);
}

void hc_conn_open(hc_conn_t *c)
{
    if (c->state == HC_CONN_CLOSED)
        conn_open(c);
}

void hc_conn_pump(hc_conn_t *c)
{
    while (c->qhead && c->state == HC_CONN_READY && c->proto->can_submit(c, c->pst)) {
        hc_xch_t *x = c->qhead;
        c->qhead = x->qnext;
        if (!c->qhead)
            c->qtail = NULL;
        x->qnext = NULL;
        hc_req_t rv;
        if ((x->ops ? x->ops->render(x, &rv) : c->env->render(x, &rv)) != 0) {
            hc_conn_done(c, x, NULL, HC_FAIL_REQUEST);
            continue;
        }
        uint32_t gen = c->gen;
        if (c->proto->submit(c, c->pst, x, &rv) != 0) {
            /* The write failed: the socket is dead for every exchange on it. */
            if (c->gen == gen && c->state == HC_CONN_READY)
                hc_conn_close(c, HC_FAIL_RESET);
            return;
        }
        if (c->env->first_byte_timeout_us)
            arm_tev(c, c->env->first_byte_timeout_us);
    }
}

void hc_conn_cancel(hc_conn_t *c, hc_xch_t *x)
{
    for (hc_xch_t **pp = &c->qhead, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->qnext) {
        if (*pp == x) {
            *pp = x->qnext;
            if (c->qtail == x)
                c->qtail = prev;
            x->conn = NULL;
            return;
        }
    }
    bool must_close = c->state == HC_CONN_READY && c->proto->cancel(c, c->pst, x);
    x->conn = NULL;
    if (must_close && c->proto->busy(c, c->pst)) {
        /* Others were in flight behind it (an HTTP/1.1 pipeline): they did
         * nothing wrong, so they fail as reset, retryable as the protocol
         * marked them, and the queue goes on a new socket. */
        hc_conn_retire(c, HC_FAIL_RESET);
        return;
    }
    if (must_close || c->state == HC_CONN_RESOLVING || c->state == HC_CONN_CONNECTING ||
        c->state == HC_CONN_TLS)
        hc_conn_close(c, HC_FAIL_TIMEOUT);
}

void hc_conn_trim(hc_conn_t *c)
{
    if (c->proto && c->proto->trim)
        c->proto->trim(c, c->pst);
    if (c->out_len == 0 && c->out) {
        free(c->out);
        c->out = NULL;
        c->out_cap = 0;
    }
}

static int out_append(hc_conn_t *c, const char *d, size_t n)
{
    if (c->out_off && c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + n)
            cap *= 2;
        char *p = realloc(c->out, cap);
        if (!p)
            return -1;
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, d, n);
    c->out_len += n;
    return 0;
}

/* One write attempt: bytes taken, 0 for "try again when writable", -1 on error. */
static ssize_t raw_write(hc_conn_t *c, const char *d, size_t n)
{
    if (!c->ssl) {
        ssize_t w = send(c->fd, d, n, MSG_NOSIGNAL);
        if (w >= 0)
            return w;
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    }
    ERR_clear_error();
    int w = SSL_write(c->ssl, d, (int)(n > INT32_MAX ? INT32_MAX : n));
    if (w > 0)
        return w;
    int e = SSL_get_error(c->ssl, w);
    return e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ ? 0 : -1;
}

int hc_conn_write(hc_conn_t *c, const void *data, size_t len)
{
    const char *d = data;
    if (c->state != HC_CONN_READY || c->out_len > c->out_off)
        return out_append(c, d, len);
    ssize_t w = raw_write(c, d, len);
    if (w < 0)
        return -1;
    if ((size_t)w == len)
        return 0;
    if (out_append(c, d + w, len - (size_t)w) != 0)
        return -1;
    event_add(&c->wev, NULL);
    return 0;
}

int hc_conn_write_soon(hc_conn_t *c, const void *data, size_t len)
{
    if (out_append(c, data, len) != 0)
        return -1;
    hc_conn_flush_soon(c);
    return 0;
}

void hc_conn_flush_soon(hc_conn_t *c)
{
    /* An active event runs in this loop iteration, after the current
     * callbacks; teardown's event_del drops it if the socket goes first. */
    if (c->state == HC_CONN_READY)
        event_active(&c->wev, EV_WRITE, 1);
}

static void flush_out(hc_conn_t *c)
{
    while (c->out_off < c->out_len) {
        ssize_t w = raw_write(c, c->out + c->out_off, c->out_len - c->out_off);
        if (w < 0) {
            hc_conn_close(c, HC_FAIL_RESET);
            return;
        }
        if (w == 0) {
            event_add(&c->wev, NULL);
            return;
        }
        c->out_off += (size_t)w;
    }
    c->out_off = c->out_len = 0;
    if (c->proto->on_writable)
        c->proto->on_writable(c, c->pst);
}

static void wev_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    hc_conn_t *c = arg;
    if (what & EV_TIMEOUT) {
        hc_conn_close(c, HC_FAIL_TIMEOUT); /* connect or handshake took too long */
        return;
    }
    switch (c->state) {
    case HC_CONN_RESOLVING:
        return;
    case HC_CONN_CONNECTING: {
        int err = 0;
        socklen_t l = sizeof err;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0 || err != 0) {
            snprintf(c->why, sizeof c->why, "connect failed: %s", strerror(err ? err : errno));
            hc_conn_close(c, HC_FAIL_CONNECT);
            return;
        }
        tcp_connected(c);
        return;
    }
    case HC_CONN_TLS:
        tls_step(c);
        return;
    case HC_CONN_READY:
        flush_out(c);
        return;
    default:
        return;
    }
}

/* One read: bytes read, 0 at EOF, -1 for "nothing now", -2 on error. */
static ssize_t raw_read(hc_conn_t *c, char *buf, size_t cap)
{
    if (!c->ssl) {
        ssize_t n = read(c->fd, buf, cap);
        if (n >= 0)
            return n;
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -1 : -2;
    }
    ERR_clear_error();
    int n = SSL_read(c->ssl, buf, (int)cap);
    if (n > 0)
        return n;
    switch (SSL_get_error(c->ssl, n)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    default:
        return -2;
    }
}

static void rev_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    hc_conn_t *c = arg;
    uint32_t gen = c->gen;
    if (c->state == HC_CONN_TLS) {
        tls_step(c);
        return;
    }
    if (c->state != HC_CONN_READY || c->read_off)
        return;
    hc_env_t *env = c->env;
    if (c->proto->resume) {
        int rc = c->proto->resume(c, c->pst);
        if (c->gen != gen || c->state != HC_CONN_READY)
            return;
        if (rc < 0) {
            hc_conn_close(c, (hc_fail_t)-rc);
            return;
        }
        if (c->read_off)
            return; /* paused again by what was handed over */
    }
    /* A fast server can keep the socket full for as long as a large body
     * lasts: after CONN_READS_PER_WAKE full reads the loop gets control back
     * (timers, request timeouts, other connections) and this callback runs again. */
    for (int reads = 0;; reads++) {
        if (reads == CONN_READS_PER_WAKE) {
            if (c->ssl && SSL_has_pending(c->ssl))
                event_active(&c->rev, EV_READ, 0);  /* bytes inside TLS fire no fd event */
            return;
        }
        ssize_t n = raw_read(c, env->rbuf, env->rbuf_cap);
        if (n == -1)
            return;
        if (n == -2) {
            hc_conn_close(c, HC_FAIL_RESET);
            return;
        }
        if (n == 0) {
            c->proto->on_eof(c, c->pst);
            if (c->gen == gen && c->state == HC_CONN_READY)
                hc_conn_close(c, HC_FAIL_RESET);
            return;
        }
        int rc = c->proto->on_read(c, c->pst, env->rbuf, (size_t)n);
        /* The callbacks may have closed this socket, or closed it and opened another. */
        if (c->gen != gen || c->state != HC_CONN_READY)
            return;
        if (rc < 0) {
            hc_conn_close(c, (hc_fail_t)-rc);
            return;
        }
        if (c->read_off)
            return; /* the caller paused: the protocol kept the rest */
        tev_after_read(c);
        /* A response ended: the next queued exchange may go (HTTP/1.1). */
        if (c->qhead) {
            hc_conn_pump(c);
            if (c->gen != gen || c->state != HC_CONN_READY)
                return;
        }
        /* A short read drained the socket (the event is level-triggered: bytes
         * that come later fire it again), unless TLS still holds decrypted or
         * read-ahead bytes; skipping the read that would say EAGAIN saves a
         * system call per response. */
        if ((size_t)n < env->rbuf_cap && !(c->ssl && SSL_has_pending(c->ssl)))
            return;
    }
}

/* conn: sockets, TLS and the protocol table (see conn.h). Plain nonblocking
 * sockets with event_new-style embedded events rather than bufferevents: a
 * request is one write() straight from the rendered (or prebuilt) bytes and a
 * response one read() into the thread's buffer, with no copy in between. */
#include "conn.h"

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
#include "h2.h"
#include "http1.h"
#include "log.h"
#include "tls.h"

enum conn_state { CONN_CLOSED = 0, CONN_RESOLVING, CONN_CONNECTING, CONN_TLS, CONN_READY };

struct conn {
    conn_env_t *env;
    const plan_origin_t *origin;
    int fd;
    uint8_t state;
    bool reused;            /* a response completed on this socket */
    uint32_t gen;           /* bumped per socket: callbacks may close and reopen */
    SSL *ssl;
    SSL_SESSION *sess;      /* kept across reconnects for resumption */
    uint64_t deadline_us;   /* end of the connect phase (TCP + TLS) */
    struct event rev;       /* EV_READ|EV_PERSIST on fd while the socket lives */
    struct event wev;       /* EV_WRITE when output is pending; a timer while connecting */
    char *out;              /* output the socket did not take yet */
    size_t out_len, out_off, out_cap;
    const conn_proto_t *proto;
    void *pst;              /* protocol state */
    size_t pst_size;
    xch_t *qhead, *qtail;   /* submitted, waiting for the connection or the protocol */
    void *owner;            /* for env->on_negotiated */
    struct evdns_getaddrinfo_request *dns; /* CONN_RESOLVING: the lookup in flight */
};

static void rev_cb(evutil_socket_t fd, short what, void *arg);
/* Full reads of the read buffer (64 KiB) per read event: 1 MiB. */
#define CONN_READS_PER_WAKE 16

static void wev_cb(evutil_socket_t fd, short what, void *arg);
static void conn_open(conn_t *c);

int conn_env_init(conn_env_t *env, struct event_base *base)
{
    memset(env, 0, sizeof *env);
    env->base = base;
    env->rbuf_cap = 64 * 1024;
    env->max_body = PLAN_MAX_BODY_DEFAULT;
    bodydec_init(&env->dec);
    env->rbuf = malloc(env->rbuf_cap);
    env->hdrs_cap = 64;
    env->hdrs = malloc(env->hdrs_cap * sizeof *env->hdrs);
    return env->rbuf && env->hdrs ? 0 : -1;
}

void conn_env_fini(conn_env_t *env)
{
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

char *conn_env_wbuf(conn_env_t *env, size_t n)
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

conn_t *conn_new(conn_env_t *env, const plan_origin_t *origin)
{
    conn_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->env = env;
    c->origin = origin;
    c->fd = -1;
    /* Assigned once so that event_del is always legal; re-assigned per socket. */
    event_assign(&c->rev, env->base, -1, 0, rev_cb, c);
    event_assign(&c->wev, env->base, -1, 0, wev_cb, c);
    return c;
}

const plan_origin_t *conn_origin(const conn_t *c) { return c->origin; }
conn_env_t *conn_env(conn_t *c) { return c->env; }
bool conn_reused(const conn_t *c) { return c->reused; }
void conn_mark_reused(conn_t *c) { c->reused = true; }
void conn_set_owner(conn_t *c, void *owner) { c->owner = owner; }

static void arm_wev(conn_t *c, bool on_fd, uint64_t timeout_us)
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

static uint64_t connect_left(const conn_t *c)
{
    uint64_t now = clk_mono_us();
    return c->deadline_us > now ? c->deadline_us - now : 1;
}

/* Closes the socket and resets the slot; hands back every exchange held. */
static xch_t *teardown(conn_t *c)
{
    xch_t *list = NULL;
    if (c->proto && c->state == CONN_READY)
        c->proto->on_close(c, c->pst, &list);
    if (c->dns) {
        struct evdns_getaddrinfo_request *r = c->dns;
        c->dns = NULL;
        evdns_getaddrinfo_cancel(r); /* its callback sees EVUTIL_EAI_CANCEL and returns */
    }
    if (c->state == CONN_RESOLVING)
        event_del(&c->wev);
    if (c->qhead) {
        c->qtail->qnext = list;
        list = c->qhead;
        c->qhead = c->qtail = NULL;
    }
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
    c->state = CONN_CLOSED;
    c->gen++;
    c->reused = false;
    c->out_len = c->out_off = 0;
    return list;
}

void conn_close(conn_t *c, stats_fail_t why)
{
    if (why == STATS_OK) {
        /* A clean close ("Connection: close"): what is queued behind goes on
         * a new socket (parallel steps queue on HTTP/1.1 connections). */
        conn_retire(c, STATS_FAIL_RESET);
        return;
    }
    xch_t *x = teardown(c);
    /* Callbacks last: on_done may submit on this very slot, which reconnects. */
    while (x) {
        xch_t *next = x->qnext;
        x->conn = NULL;
        c->env->on_done(x, NULL, why);
        x = next;
    }
}

void conn_free(conn_t *c)
{
    if (!c)
        return;
    teardown(c);
    if (c->proto && c->proto->fini)
        c->proto->fini(c, c->pst);
    free(c->pst);
    SSL_SESSION_free(c->sess);
    free(c->out);
    free(c);
}

void conn_done(conn_t *c, xch_t *x, const resp_view_t *resp, stats_fail_t fail)
{
    x->conn = NULL;
    c->env->on_done(x, resp, fail);
}

/* The protocol for this connection: h2 when ALPN chose "h2", or over plain
 * TCP when the origin says h2c (prior knowledge); HTTP/1.1 otherwise. */
static const conn_proto_t *choose_proto(conn_t *c)
{
    if (c->ssl) {
        const unsigned char *p = NULL;
        unsigned n = 0;
        SSL_get0_alpn_selected(c->ssl, &p, &n);
        return n == 2 && memcmp(p, "h2", 2) == 0 ? &h2_proto : &h1_proto;
    }
    scn_proto_t pr = c->origin->proto;
    return pr == SCN_PROTO_H2C || pr == SCN_PROTO_H2 ? &h2_proto : &h1_proto;
}

/* ALPN offer per origin: h1 only, h2 only, or h2 then http/1.1 (AUTO). */
static int set_alpn(conn_t *c)
{
    static const unsigned char h2_only[] = "\x02h2";
    switch (c->origin->proto) {
    case SCN_PROTO_H1:
        return SSL_set_alpn_protos(c->ssl, tls_alpn_http11, (unsigned)tls_alpn_http11_len);
    case SCN_PROTO_H2:
        return SSL_set_alpn_protos(c->ssl, h2_only, (unsigned)sizeof h2_only - 1);
    default:
        return SSL_set_alpn_protos(c->ssl, tls_alpn_h2_http11, (unsigned)tls_alpn_h2_http11_len);
    }
}

bool conn_multiplexed(const conn_t *c)
{
    if (c->proto)
        return c->proto == &h2_proto; /* as last negotiated */
    /* Not connected yet: what the origin asks for (over TLS, h2 is expected). */
    return c->origin->proto != SCN_PROTO_H1 && (c->origin->url.tls || c->origin->proto != SCN_PROTO_AUTO);
}

void conn_retire(conn_t *c, stats_fail_t why)
{
    xch_t *q = c->qhead, *qt = c->qtail;
    c->qhead = c->qtail = NULL;
    xch_t *x = teardown(c);
    c->qhead = q;
    c->qtail = qt;
    /* Reconnect before the callbacks: what they resend joins the queue. */
    if (c->qhead)
        conn_open(c);
    while (x) {
        xch_t *next = x->qnext;
        x->conn = NULL;
        c->env->on_done(x, NULL, why);
        x = next;
    }
}

static void become_ready(conn_t *c)
{
    const conn_proto_t *p = choose_proto(c);
    if (c->proto != p || !c->pst) {
        if (c->proto && c->proto->fini)
            c->proto->fini(c, c->pst);
        free(c->pst);
        c->pst = calloc(1, p->state_size);
        c->pst_size = p->state_size;
        c->proto = p;
        if (!c->pst) {
            conn_close(c, STATS_FAIL_PROTOCOL);
            return;
        }
    }
    c->state = CONN_READY;
    event_del(&c->wev);
    event_assign(&c->wev, c->env->base, c->fd, EV_WRITE, wev_cb, c);
    if (p->on_ready && p->on_ready(c, c->pst) != 0) {
        conn_close(c, STATS_FAIL_PROTOCOL);
        return;
    }
    if (c->env->on_negotiated && c->owner) {
        uint32_t gen = c->gen;
        c->env->on_negotiated(c, c->owner);
        if (c->gen != gen || c->state != CONN_READY)
            return;
    }
    conn_pump(c);
}

static void tls_fail(conn_t *c)
{
    /* Said once per run: the report counts every failure, the log says why. */
    static atomic_bool said;
    if (!atomic_exchange(&said, true)) {
        char why[256];
        tls_error_string(c->ssl, why, sizeof why);
        log_error("TLS handshake with %s failed: %s (trust the server with --ca FILE, or "
                  "skip verification with --insecure); counted as 'tls' failures",
                  c->origin->origin, why);
    }
    conn_close(c, STATS_FAIL_TLS);
}

static void tls_step(conn_t *c)
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

static void tcp_connected(conn_t *c)
{
    event_assign(&c->rev, c->env->base, c->fd, EV_READ | EV_PERSIST, rev_cb, c);
    event_add(&c->rev, NULL);
    if (!c->origin->url.tls) {
        become_ready(c);
        return;
    }
    c->ssl = c->env->ssl_ctx ? SSL_new(c->env->ssl_ctx) : NULL;
    if (!c->ssl || tls_client_prepare(c->ssl, c->origin->url.host) != 0 ||
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
    c->state = CONN_TLS;
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
    conn_t *c = arg;
    c->dns = NULL;
    if (result != 0 || !res) {
        static atomic_bool said;
        if (!atomic_exchange(&said, true))
            log_error("cannot resolve host '%s' (%s): counted as 'connect' failures (pin an "
                      "address with --resolve %s:%u:ADDR)", c->origin->url.host,
                      evutil_gai_strerror(result), c->origin->url.host, c->origin->url.port);
        if (res)
            evutil_freeaddrinfo(res);
        conn_close(c, STATS_FAIL_CONNECT);
        return;
    }
    /* Kept in the origin for the next connections: an origin without an address
     * is one met at run time, owned by this thread (plan.h). */
    plan_origin_t *o = (plan_origin_t *)c->origin;
    memcpy(&o->addr, res->ai_addr, res->ai_addrlen);
    o->addr_len = (socklen_t)res->ai_addrlen;
    evutil_freeaddrinfo(res);
    event_del(&c->wev);
    c->state = CONN_CLOSED;
    conn_open(c);
}

/* A name lookup on the thread's event loop (evdns), never a blocking
 * getaddrinfo: the loop keeps serving every other user meanwhile. */
static void conn_resolve(conn_t *c)
{
    conn_env_t *env = c->env;
    if (!env->dns)
        env->dns = evdns_base_new(env->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
                                                 EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (!env->dns) {
        conn_close(c, STATS_FAIL_CONNECT);
        return;
    }
    c->state = CONN_RESOLVING;
    c->deadline_us = clk_mono_us() + env->connect_timeout_us;
    arm_wev(c, false, env->connect_timeout_us); /* fd -1: the lookup's time limit */
    char port[8];
    snprintf(port, sizeof port, "%u", c->origin->url.port);
    struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                    .ai_protocol = IPPROTO_TCP};
    uint32_t gen = c->gen;
    struct evdns_getaddrinfo_request *r =
        evdns_getaddrinfo(env->dns, c->origin->url.host, port, &hints, dns_cb, c);
    /* The answer may have come inside the call (a numeric host, /etc/hosts). */
    if (r && c->gen == gen && c->state == CONN_RESOLVING)
        c->dns = r;
}

static void conn_open(conn_t *c)
{
    const plan_origin_t *o = c->origin;
    if (o->addr_len == 0) {
        conn_resolve(c);
        return;
    }
    c->fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        conn_close(c, STATS_FAIL_CONNECT);
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->deadline_us = clk_mono_us() + c->env->connect_timeout_us;
    if (connect(c->fd, (const struct sockaddr *)&o->addr, o->addr_len) == 0) {
        tcp_connected(c);
        return;
    }
    if (errno != EINPROGRESS) {
        conn_close(c, STATS_FAIL_CONNECT);
        return;
    }
    c->state = CONN_CONNECTING;
    arm_wev(c, true, c->env->connect_timeout_us);
}

void conn_submit(conn_t *c, xch_t *x)
{
    x->conn = c;
    x->qnext = NULL;
    x->bytes_sent = x->bytes_received = 0;
    x->retryable = false;
    if (c->qtail)
        c->qtail->qnext = x;
    else
        c->qhead = x;
    c->qtail = x;
    if (c->state == CONN_CLOSED)
        conn_open(c);
    else if (c->state == CONN_READY)
        conn_pump(c);
}

void conn_pump(conn_t *c)
{
    while (c->qhead && c->state == CONN_READY && c->proto->can_submit(c, c->pst)) {
        xch_t *x = c->qhead;
        c->qhead = x->qnext;
        if (!c->qhead)
            c->qtail = NULL;
        x->qnext = NULL;
        req_view_t rv;
        int rc = c->env->render(x, &rv);
        if (rc != 0) {
            conn_done(c, x, NULL, rc < 0 && -rc < STATS_FAIL__COUNT ? (stats_fail_t)-rc
                                                                      : STATS_FAIL_PROTOCOL);
            continue;
        }
        uint32_t gen = c->gen;
        if (c->proto->submit(c, c->pst, x, &rv) != 0) {
            /* The write failed: the socket is dead for every exchange on it. */
            if (c->gen == gen && c->state == CONN_READY)
                conn_close(c, STATS_FAIL_RESET);
            return;
        }
    }
}

void conn_cancel(conn_t *c, xch_t *x)
{
    for (xch_t **pp = &c->qhead, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->qnext) {
        if (*pp == x) {
            *pp = x->qnext;
            if (c->qtail == x)
                c->qtail = prev;
            x->conn = NULL;
            return;
        }
    }
    bool must_close = c->state == CONN_READY && c->proto->cancel(c, c->pst, x);
    x->conn = NULL;
    if (must_close || c->state == CONN_RESOLVING || c->state == CONN_CONNECTING ||
        c->state == CONN_TLS)
        conn_close(c, STATS_FAIL_TIMEOUT);
}

void conn_trim(conn_t *c)
{
    if (c->proto && c->proto->trim)
        c->proto->trim(c, c->pst);
    if (c->out_len == 0 && c->out) {
        free(c->out);
        c->out = NULL;
        c->out_cap = 0;
    }
}

static int out_append(conn_t *c, const char *d, size_t n)
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
static ssize_t raw_write(conn_t *c, const char *d, size_t n)
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

int conn_write(conn_t *c, const void *data, size_t len)
{
    const char *d = data;
    if (c->state != CONN_READY || c->out_len > c->out_off)
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

void conn_flush_soon(conn_t *c)
{
    /* An active event runs in this loop iteration, after the current
     * callbacks; teardown's event_del drops it if the socket goes first. */
    if (c->state == CONN_READY)
        event_active(&c->wev, EV_WRITE, 1);
}

static void flush_out(conn_t *c)
{
    while (c->out_off < c->out_len) {
        ssize_t w = raw_write(c, c->out + c->out_off, c->out_len - c->out_off);
        if (w < 0) {
            conn_close(c, STATS_FAIL_RESET);
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
    conn_t *c = arg;
    if (what & EV_TIMEOUT) {
        conn_close(c, STATS_FAIL_TIMEOUT); /* connect or handshake took too long */
        return;
    }
    switch (c->state) {
    case CONN_RESOLVING:
        return;
    case CONN_CONNECTING: {
        int err = 0;
        socklen_t l = sizeof err;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0 || err != 0) {
            conn_close(c, STATS_FAIL_CONNECT);
            return;
        }
        tcp_connected(c);
        return;
    }
    case CONN_TLS:
        tls_step(c);
        return;
    case CONN_READY:
        flush_out(c);
        return;
    default:
        return;
    }
}

/* One read: bytes read, 0 at EOF, -1 for "nothing now", -2 on error. */
static ssize_t raw_read(conn_t *c, char *buf, size_t cap)
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
    conn_t *c = arg;
    uint32_t gen = c->gen;
    if (c->state == CONN_TLS) {
        tls_step(c);
        return;
    }
    if (c->state != CONN_READY)
        return;
    conn_env_t *env = c->env;
    /* A fast server can keep the socket full for as long as a large body
     * lasts: after CONN_READS_PER_WAKE full reads the loop gets control back
     * (timers, --timeout, other connections) and this callback runs again. */
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
            conn_close(c, STATS_FAIL_RESET);
            return;
        }
        if (n == 0) {
            c->proto->on_eof(c, c->pst);
            if (c->gen == gen && c->state == CONN_READY)
                conn_close(c, STATS_FAIL_RESET);
            return;
        }
        int rc = c->proto->on_read(c, c->pst, env->rbuf, (size_t)n);
        /* The callbacks may have closed this socket, or closed it and opened another. */
        if (c->gen != gen || c->state != CONN_READY)
            return;
        if (rc < 0) {
            conn_close(c, (stats_fail_t)-rc);
            return;
        }
        /* A response ended: the next queued exchange may go (HTTP/1.1). */
        if (c->qhead) {
            conn_pump(c);
            if (c->gen != gen || c->state != CONN_READY)
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

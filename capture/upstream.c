/* upstream: the pool, the public API, and HTTP/1.1 connections to origins
 * (connect, TLS, request out, response parsed with h1msg, keep-alive). */
#include "upstream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <openssl/err.h>

#include "clock.h"
#include "tls.h"
#include "upstream_int.h"

/* Above this much unsent request body the front stops reading its client. */
#define UP_HIGH_WATER (256 * 1024)
/* Idle pooled connections: how many in all, and how long each is kept. */
#define UP_MAX_IDLE 256
#define UP_IDLE_SECONDS 30

static void conn_read(struct bufferevent *bev, void *arg);
static void conn_write(struct bufferevent *bev, void *arg);
static void conn_event(struct bufferevent *bev, short what, void *arg);

up_pool_t *up_pool_new(const up_pool_opts_t *o)
{
    up_pool_t *p = calloc(1, sizeof *p);
    if (p != NULL)
        p->o = *o;
    return p;
}

void upi_deferred_free(up_conn_t *c)
{
    up_deferred_t *d = c->deferred;
    if (d == NULL)
        return;
    free(d->method);
    free(d->target);
    free(d->host);
    rec_headers_fini(&d->headers);
    if (d->body)
        evbuffer_free(d->body);
    free(d);
    c->deferred = NULL;
}

void upi_conn_free(up_conn_t *c)
{
    upi_deferred_free(c);
    if (c->bev != NULL)
        bufferevent_free(c->bev);
    if (c->retry != NULL)
        evbuffer_free(c->retry);
    h1msg_fini(&c->msg);
    free(c);
}

void up_pool_free(up_pool_t *p)
{
    if (p == NULL)
        return;
    while (p->idle != NULL) {
        up_conn_t *c = p->idle;
        p->idle = c->next;
        upi_conn_free(c);
    }
    while (p->nh2 > 0)
        uph2_free(p->h2s[--p->nh2]);
    free(p->h2s);
    free(p);
}

static void idle_unlink(up_conn_t *c)
{
    for (up_conn_t **pp = &c->pool->idle; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            c->pool->nidle--;
            c->next = NULL;
            return;
        }
    }
}

static void set_timeouts(up_conn_t *c, uint64_t us, bool write_too)
{
    struct timeval tv = { .tv_sec = (time_t)(us / 1000000), .tv_usec = (suseconds_t)(us % 1000000) };
    bufferevent_set_timeouts(c->bev, &tv, write_too ? &tv : NULL);
}

/* ---- response parsing */

static int on_head(void *arg, h1msg_t *m)
{
    up_conn_t *c = arg;
    int status = h1msg_status(m);
    if (status >= 100 && status < 200 && status != 101) {
        if (c->front)
            c->ops->on_interim(c->front, status, &m->headers);
        return 0;
    }
    if (status == 101) {
        /* Never asked for (Upgrade is not forwarded), never relayed. */
        snprintf(m->error, sizeof m->error, "protocol upgrade (101) is not supported");
        return -1;
    }
    c->head_seen = true;
    long long cl = h1msg_content_length(m);
    bool bodiless = c->head_only || status == 204 || status == 304;
    up_resp_t r = {
        .status = status, .headers = &m->headers, .content_length = bodiless ? -1 : cl,
        .has_body = !bodiless && cl != 0, .first_byte_us = c->first_byte_us,
    };
    if (c->front)
        c->ops->on_head(c->front, &r);
    return c->head_only ? 1 : 0;
}

static int on_body(void *arg, const char *p, size_t n)
{
    up_conn_t *c = arg;
    if (c->front)
        c->ops->on_body(c->front, p, n);
    return 0;
}

static int on_done(void *arg, h1msg_t *m)
{
    up_conn_t *c = arg;
    int status = h1msg_status(m);
    if (status >= 100 && status < 200 && status != 101)
        return 0;
    /* Finished outside the parser (see finish): stop here. */
    c->done_pending = true;
    h1msg_pause(m, true);
    return 0;
}

static const h1msg_ops_t resp_ops = { on_head, on_body, on_done };

/* The front learns of the failure, the connection goes. */
void upi_conn_fail(up_conn_t *c, int status, const char *reason)
{
    void *front = c->front;
    c->front = NULL;
    if (front)
        c->ops->on_fail(front, status, reason);
    if (c->busy > 0)
        c->state = UP_DEAD;
    else
        upi_conn_free(c);
}

/* Response complete: the connection goes back to the pool when it can carry
 * another request, then the front is told. */
static void finish(up_conn_t *c)
{
    void *front = c->front;
    bool keep = h1msg_keep_alive(&c->msg) && c->req_done &&
                evbuffer_get_length(bufferevent_get_input(c->bev)) == 0 &&
                c->pool->nidle < UP_MAX_IDLE;
    c->front = NULL;
    if (keep) {
        c->state = UP_IDLE;
        c->done_pending = c->head_seen = c->got_byte = c->req_done = c->paused = false;
        c->want_drain = false;
        if (c->retry) {
            evbuffer_free(c->retry);
            c->retry = NULL;
        }
        h1msg_pause(&c->msg, false);
        set_timeouts(c, UP_IDLE_SECONDS * 1000000ull, false);
        bufferevent_enable(c->bev, EV_READ);
        c->next = c->pool->idle;
        c->pool->idle = c;
        c->pool->nidle++;
    } else {
        upi_conn_free(c);
    }
    if (front)
        c->ops->on_done(front);
}

static void parse_input(up_conn_t *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    c->busy++;
    while (c->state == UP_ACTIVE && !c->paused && !c->done_pending && evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        ssize_t n = h1msg_feed(&c->msg, v.iov_base, v.iov_len);
        if (n < 0) {
            char why[800];
            snprintf(why, sizeof why, "bad response from %s: %s", c->key, c->msg.error);
            c->busy--;
            upi_conn_fail(c, 502, why);
            return;
        }
        evbuffer_drain(in, (size_t)n);
        if (n == 0)
            break;
    }
    c->busy--;
    if (c->state == UP_DEAD)
        upi_conn_free(c);
    else if (c->done_pending)
        finish(c);
}

static void conn_read(struct bufferevent *bev, void *arg)
{
    up_conn_t *c = arg;
    (void)bev;
    if (c->state == UP_IDLE) {
        /* An idle origin has nothing to say: whatever it sent, the
         * connection can no longer be trusted to carry a request. */
        idle_unlink(c);
        upi_conn_free(c);
        return;
    }
    if (!c->got_byte) {
        c->got_byte = true;
        c->first_byte_us = clk_wall_us();
    }
    parse_input(c);
}

static void conn_write(struct bufferevent *bev, void *arg)
{
    up_conn_t *c = arg;
    (void)bev;
    if (c->want_drain && c->front) {
        c->want_drain = false;
        c->ops->on_drain(c->front);
    }
}

/* ---- connecting */

void upi_origin_key(const url_t *o, char *key, size_t len)
{
    snprintf(key, len, "%s://%s%s%s:%u", o->scheme, o->ipv6 ? "[" : "", o->host,
             o->ipv6 ? "]" : "", o->port);
}

/* A fresh transport for c (state CONNECTING). 0, or -1 when out of memory. */
static int conn_connect(up_conn_t *c)
{
    up_pool_t *p = c->pool;
    int opts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;
    c->state = UP_CONNECTING;
    c->ssl = NULL;
    if (c->tls && p->o.tls != NULL) {
        c->ssl = SSL_new(p->o.tls);
        if (c->ssl == NULL || tls_client_prepare(c->ssl, c->host) != 0) {
            SSL_free(c->ssl);
            return -1;
        }
        c->bev = bufferevent_openssl_socket_new(p->o.base, -1, c->ssl, BUFFEREVENT_SSL_CONNECTING, opts);
        if (c->bev == NULL) {
            SSL_free(c->ssl);
            return -1;
        }
        bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
    } else if ((c->bev = bufferevent_socket_new(p->o.base, -1, opts)) == NULL) {
        return -1;
    }
    bufferevent_setcb(c->bev, conn_read, conn_write, conn_event, c);
    set_timeouts(c, p->o.timeout_us, true);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    /* Failures, even immediate ones, are reported from the loop. */
    if ((c->tls && p->o.tls == NULL) ||
        bufferevent_socket_connect_hostname(c->bev, p->o.dns, AF_UNSPEC, c->host, c->port) != 0)
        bufferevent_trigger_event(c->bev, BEV_EVENT_ERROR, BEV_TRIG_DEFER_CALLBACKS);
    return 0;
}

static up_conn_t *conn_new(up_pool_t *p, const url_t *origin)
{
    up_conn_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->pool = p;
    c->tls = origin->tls;
    c->port = origin->port;
    snprintf(c->host, sizeof c->host, "%s", origin->host);
    upi_origin_key(origin, c->key, sizeof c->key);
    h1msg_init(&c->msg, HTTP_RESPONSE, &resp_ops, c);
    if (conn_connect(c) != 0) {
        h1msg_fini(&c->msg);
        free(c);
        return NULL;
    }
    return c;
}

/* A reused connection that the origin had closed meanwhile: the request
 * (body-less, so whole in retry) goes again on a fresh transport. */
static bool retry_fresh(up_conn_t *c)
{
    if (!c->reused || c->got_byte || c->retry == NULL || c->front == NULL)
        return false;
    bufferevent_free(c->bev);
    c->bev = NULL;
    c->reused = false;
    h1msg_fini(&c->msg);
    h1msg_init(&c->msg, HTTP_RESPONSE, &resp_ops, c);
    if (conn_connect(c) != 0)
        return false;
    evbuffer_add_buffer(bufferevent_get_output(c->bev), c->retry);
    evbuffer_free(c->retry);
    c->retry = NULL;
    return true;
}

static up_conn_t *pool_take(up_pool_t *p, const url_t *origin)
{
    char key[300];
    upi_origin_key(origin, key, sizeof key);
    for (up_conn_t *c = p->idle; c != NULL; c = c->next) {
        if (strcmp(c->key, key) == 0) {
            idle_unlink(c);
            c->state = UP_ACTIVE;
            c->reused = true;
            set_timeouts(c, p->o.timeout_us, true);
            return c;
        }
    }
    return NULL;
}

static void conn_event(struct bufferevent *bev, short what, void *arg)
{
    up_conn_t *c = arg;
    char why[800];
    if (what & BEV_EVENT_CONNECTED) {
        c->state = UP_ACTIVE;
        if (c->deferred)
            upi_alpn_decide(c);
        return;
    }
    if (c->state == UP_IDLE) {
        idle_unlink(c);
        upi_conn_free(c);
        return;
    }
    if (what & BEV_EVENT_TIMEOUT) {
        snprintf(why, sizeof why, "%s: no answer within %.1fs", c->key,
                 (double)c->pool->o.timeout_us / 1e6);
        upi_conn_fail(c, 504, why);
        return;
    }
    if (what & BEV_EVENT_EOF) {
        c->busy++;
        int rc = h1msg_eof(&c->msg);
        c->busy--;
        if (c->state == UP_DEAD) {
            upi_conn_free(c);
            return;
        }
        if (rc == 0 && c->done_pending) {
            finish(c);
            return;
        }
        if (retry_fresh(c))
            return;
        snprintf(why, sizeof why, "%s closed the connection %s", c->key,
                 c->head_seen ? "in the middle of the response" : "before responding");
        upi_conn_fail(c, 502, why);
        return;
    }
    int err = EVUTIL_SOCKET_ERROR();
    int dns = bufferevent_socket_get_dns_error(bev);
    unsigned long ssl_err = c->tls ? bufferevent_get_openssl_error(bev) : 0;
    if (c->tls && c->pool->o.tls == NULL) {
        snprintf(why, sizeof why, "%s: no TLS context for https origins", c->key);
    } else if (dns != 0) {
        snprintf(why, sizeof why, "%s: cannot resolve %s: %s", c->key, c->host, evutil_gai_strerror(dns));
    } else if (ssl_err != 0 || (c->ssl && SSL_get_verify_result(c->ssl) != X509_V_OK)) {
        long vr = c->ssl ? SSL_get_verify_result(c->ssl) : X509_V_OK;
        const char *r = ERR_reason_error_string(ssl_err);
        snprintf(why, sizeof why, "%s: TLS handshake failed: %s", c->key,
                 vr != X509_V_OK ? X509_verify_cert_error_string(vr) : r ? r : "TLS error");
    } else if (c->state == UP_CONNECTING) {
        snprintf(why, sizeof why, "%s: connect failed: %s", c->key, err ? strerror(err) : "error");
    } else {
        if (retry_fresh(c))
            return;
        snprintf(why, sizeof why, "%s: %s", c->key, err == ECONNRESET ? "connection reset by origin" : strerror(err));
    }
    upi_conn_fail(c, 502, why);
}

/* ---- requests */

up_conn_t *up_start(up_pool_t *p, const url_t *origin, const char *method, const char *target,
                    const char *host, const rec_headers_t *h, enum fwd_framing f,
                    const up_ops_t *ops, void *front)
{
    char key[300];
    upi_origin_key(origin, key, sizeof key);
    bool h2 = origin->tls && p->o.h2;
    uph2_t *s = h2 ? upi_h2_find(p, key) : NULL;
    if (s != NULL)
        return upi_h2_start(p, s, key, method, target, host, h, f, ops, front);
    up_conn_t *c = pool_take(p, origin);
    bool fresh = c == NULL;
    if (fresh && (c = conn_new(p, origin)) == NULL)
        return NULL;
    c->ops = ops;
    c->front = front;
    c->framing = f;
    c->head_only = strcmp(method, "HEAD") == 0;
    c->req_done = f == FWD_NONE;
    if (fresh && h2) {
        if (upi_defer(c, method, target, host, h) != 0) {
            up_abort(c);
            return NULL;
        }
        c->deferred->body_end = f == FWD_NONE;
        return c;
    }
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (fwd_request_head(out, method, target, host, h, f) != 0) {
        up_abort(c);
        return NULL;
    }
    if (c->reused && f == FWD_NONE && (c->retry = evbuffer_new()) != NULL)
        fwd_request_head(c->retry, method, target, host, h, f);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    return c;
}

int up_body(up_conn_t *c, const void *p, size_t n)
{
    if (c->h2)
        return uph2_body(c->h2, p, n);
    struct evbuffer *out = c->deferred ? c->deferred->body : bufferevent_get_output(c->bev);
    if (c->deferred)
        evbuffer_add(out, p, n);
    else
        fwd_body(out, c->framing, p, n);
    if (evbuffer_get_length(out) > UP_HIGH_WATER) {
        c->want_drain = true;
        return 1;
    }
    return 0;
}

void up_body_end(up_conn_t *c)
{
    if (c->h2) {
        uph2_body_end(c->h2);
    } else if (c->deferred) {
        c->deferred->body_end = true;
    } else {
        fwd_body_end(bufferevent_get_output(c->bev), c->framing);
        c->req_done = true;
    }
}

void up_pause(up_conn_t *c, bool paused)
{
    if (c->h2) {
        uph2_pause(c->h2, paused);
        return;
    }
    if (c->paused == paused)
        return;
    c->paused = paused;
    if (paused) {
        bufferevent_disable(c->bev, EV_READ);
    } else {
        bufferevent_enable(c->bev, EV_READ);
        /* Bytes already read wait in the input buffer: parse them from the loop. */
        if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
            bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
    }
}

void up_abort(up_conn_t *c)
{
    c->front = NULL;
    if (c->h2) {
        uph2_abort(c->h2);
        c->h2 = NULL;
        upi_conn_free(c);
    } else if (c->busy > 0) {
        c->state = UP_DEAD;
    } else {
        upi_conn_free(c);
    }
}

void up_detach(up_conn_t *c)
{
    if (c->h2) {
        uph2_detach(c->h2);
        c->h2 = NULL;
        upi_conn_free(c);
        return;
    }
    c->front = NULL;
    c->want_drain = false;
    if (c->paused)
        up_pause(c, false);
}

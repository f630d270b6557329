/* upstream_h2: the choice between HTTP/1.1 and HTTP/2 on a fresh TLS
 * connection to an origin (ALPN), and handles that wrap uph2 streams so a
 * front cannot tell them from HTTP/1.1 connections. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upstream_int.h"

/* ---- HTTP/2 origins: the handle wraps a uph2 stream */

static void wrap_interim(void *arg, int status, const rec_headers_t *h)
{
    up_conn_t *c = arg;
    if (c->front)
        c->ops->on_interim(c->front, status, h);
}

static void wrap_head(void *arg, const up_resp_t *r)
{
    up_conn_t *c = arg;
    if (c->front)
        c->ops->on_head(c->front, r);
}

static void wrap_body(void *arg, const char *p, size_t n)
{
    up_conn_t *c = arg;
    if (c->front)
        c->ops->on_body(c->front, p, n);
}

/* The handle ends with its stream: freed before the front hears of it. */
static void wrap_done(void *arg)
{
    up_conn_t *c = arg;
    const up_ops_t *ops = c->ops;
    void *front = c->front;
    c->h2 = NULL;
    upi_conn_free(c);
    if (front)
        ops->on_done(front);
}

static void wrap_fail(void *arg, int status, const char *reason)
{
    up_conn_t *c = arg;
    const up_ops_t *ops = c->ops;
    void *front = c->front;
    c->h2 = NULL;
    upi_conn_free(c);
    if (front)
        ops->on_fail(front, status, reason);
}

static void wrap_drain(void *arg)
{
    up_conn_t *c = arg;
    if (c->front)
        c->ops->on_drain(c->front);
}

static void wrap_trailers(void *arg, const rec_headers_t *t)
{
    up_conn_t *c = arg;
    if (c->front && c->ops->on_trailers)
        c->ops->on_trailers(c->front, t);
}

static const up_ops_t wrap_ops = { wrap_interim, wrap_head, wrap_body, wrap_done, wrap_fail, wrap_drain,
                                   wrap_trailers };

static void h2_gone(void *arg, uph2_t *s)
{
    up_pool_t *p = arg;
    for (size_t i = 0; i < p->nh2; i++) {
        if (p->h2s[i] == s) {
            p->h2s[i] = p->h2s[--p->nh2];
            return;
        }
    }
}

uph2_t *upi_h2_find(up_pool_t *p, const char *key)
{
    for (size_t i = 0; i < p->nh2; i++)
        if (strcmp(uph2_key(p->h2s[i]), key) == 0 && uph2_can_take(p->h2s[i]))
            return p->h2s[i];
    return NULL;
}

/* :authority of a request: the Host given, else the client's, else the origin's. */
static const char *h2_authority(up_conn_t *c, const char *host, const rec_headers_t *h)
{
    const char *a = host ? host : rec_headers_get(h, "Host");
    return a ? a : strchr(c->key, '/') + 2;
}

/* The connection chose h2: it becomes a session, c the handle of the
 * deferred request's stream. Returns 0, or -1 (c is then failed). */
static int become_h2(up_conn_t *c)
{
    up_pool_t *p = c->pool;
    up_deferred_t *d = c->deferred;
    uph2_t **v = realloc(p->h2s, (p->nh2 + 1) * sizeof *v);
    if (v == NULL)
        return -1;
    p->h2s = v;
    uph2_t *s = uph2_new(c->bev, c->key, p->o.timeout_us, h2_gone, p);
    if (s == NULL)
        return -1;
    p->h2s[p->nh2++] = s;
    c->bev = NULL;
    c->state = UP_H2;
    c->h2 = uph2_request(s, d->method, d->target, h2_authority(c, d->host, &d->headers), &d->headers,
                         c->framing != FWD_NONE, &wrap_ops, c);
    if (c->h2 == NULL)
        return -1;
    int full = 0;
    size_t n = evbuffer_get_length(d->body);
    if (n > 0)
        full = uph2_body(c->h2, evbuffer_pullup(d->body, -1), n);
    if (d->body_end)
        uph2_body_end(c->h2);
    if (c->paused)
        uph2_pause(c->h2, true);
    upi_deferred_free(c);
    /* The front stopped at up_body's 1: it waits for on_drain. */
    if (c->want_drain && !full) {
        c->want_drain = false;
        c->ops->on_drain(c->front);
    }
    return 0;
}

/* The connection chose HTTP/1.1: the deferred request goes out as bytes. */
static void send_deferred_h1(up_conn_t *c)
{
    up_deferred_t *d = c->deferred;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    fwd_request_head(out, d->method, d->target, d->host, &d->headers, c->framing);
    size_t n = evbuffer_get_length(d->body);
    if (n > 0)
        fwd_body(out, c->framing, evbuffer_pullup(d->body, -1), n);
    if (d->body_end) {
        fwd_body_end(out, c->framing);
        c->req_done = true;
    }
    upi_deferred_free(c);
}

/* After the handshake: ALPN decides how a deferred request goes out. */
void upi_alpn_decide(up_conn_t *c)
{
    const unsigned char *alpn = NULL;
    unsigned len = 0;
    if (c->ssl)
        SSL_get0_alpn_selected(c->ssl, &alpn, &len);
    if (len == 2 && memcmp(alpn, "h2", 2) == 0) {
        if (become_h2(c) != 0)
            upi_conn_fail(c, 502, "out of memory starting HTTP/2");
        return;
    }
    send_deferred_h1(c);
}

/* A handle for a request on an HTTP/2 session. */
up_conn_t *upi_h2_start(up_pool_t *p, uph2_t *s, const char *key, const char *method,
                           const char *target, const char *host, const rec_headers_t *h,
                           enum fwd_framing f, const up_ops_t *ops, void *front)
{
    up_conn_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->pool = p;
    c->state = UP_H2;
    c->ops = ops;
    c->front = front;
    snprintf(c->key, sizeof c->key, "%s", key);
    c->h2 = uph2_request(s, method, target, h2_authority(c, host, h), h, f != FWD_NONE, &wrap_ops, c);
    if (c->h2 == NULL) {
        upi_conn_free(c);
        return NULL;
    }
    return c;
}

/* Keeps the request until ALPN says how it goes out. 0 or -1. */
int upi_defer(up_conn_t *c, const char *method, const char *target, const char *host,
                 const rec_headers_t *h)
{
    up_deferred_t *d = calloc(1, sizeof *d);
    if (d == NULL)
        return -1;
    c->deferred = d;
    d->method = strdup(method);
    d->target = strdup(target);
    d->host = host ? strdup(host) : NULL;
    d->body = evbuffer_new();
    if (!d->method || !d->target || (host && !d->host) || !d->body)
        return -1;
    for (size_t i = 0; h && i < h->n; i++)
        if (rec_headers_add(&d->headers, h->v[i].name, h->v[i].value) != 0)
            return -1;
    return 0;
}

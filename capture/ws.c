/* ws: Upgrade and WebSocket relay with message recording (ws.h). */
#include "ws.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <openssl/ssl.h>

#include "clock.h"
#include "fwd.h"
#include "h1msg.h"
#include "log.h"
#include "tls.h"
#include "wsframe.h"

/* Relay backpressure: stop reading one side while the other has this much queued. */
#define WS_HIGH_WATER (256 * 1024)

enum ws_state { WS_CONNECTING, WS_HANDSHAKE, WS_OPEN, WS_REFUSED, WS_CLOSING };

typedef struct ws {
    proxy_link_t link;           /* first: the drain finds us by it */
    proxy_t *px;
    enum ws_state state;
    struct bufferevent *client, *origin;
    record_conn_t conn;
    recx_t *x;
    h1msg_t resp;                /* the origin's answer to the Upgrade */
    struct evbuffer *head;       /* the request head, sent once connected */
    bool websocket;              /* Upgrade: websocket (else piped blind) */
    bool parse;                  /* frames still parsed (no protocol error yet) */
    wsf_t up_frames, down_frames;
    int64_t t_101_us;            /* monotonic µs of the 101: messages' time origin */
    uint64_t up, down;
    uint64_t messages;
    bool resp_done;              /* a refusal's answer is complete */
    char authority[300];
    char host[256];
    unsigned short port;
} ws_t;

static bool list_has(const char *list, const char *token)
{
    size_t tl = strlen(token);
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        size_t k = n;
        while (k > 0 && (p[k - 1] == ' ' || p[k - 1] == '\t'))
            k--;
        if (k == tl && strncasecmp(p, token, tl) == 0)
            return true;
        p += n;
    }
    return false;
}

bool ws_is_upgrade(const rec_headers_t *h)
{
    bool conn_upgrade = false;
    for (size_t i = 0; i < h->n; i++)
        if (strcasecmp(h->v[i].name, "Connection") == 0 && list_has(h->v[i].value, "upgrade"))
            conn_upgrade = true;
    return conn_upgrade && rec_headers_get(h, "Upgrade") != NULL;
}

static void ws_free(ws_t *w)
{
    if (w->x != NULL) {
        if (!w->websocket && w->state != WS_REFUSED)
            recx_tunnel(w->x, w->up, w->down);
        recx_end(w->x);
    }
    if (w->client)
        bufferevent_free(w->client);
    if (w->origin)
        bufferevent_free(w->origin);
    if (w->head)
        evbuffer_free(w->head);
    h1msg_fini(&w->resp);
    wsf_fini(&w->up_frames);
    wsf_fini(&w->down_frames);
    record_conn_fini(&w->conn);
    proxy_link_remove(w->px, &w->link);
    free(w);
}

/* ---- messages */

typedef struct dir_ctx {
    ws_t *w;
    uint8_t dir;
} dir_ctx_t;

static int on_message(void *ctx, const wsf_msg_t *m)
{
    dir_ctx_t *d = ctx;
    ws_t *w = d->w;
    rec_ws_msg_t r = {
        .dir = d->dir, .opcode = m->opcode, .t_us = (int64_t)clk_mono_us() - w->t_101_us,
        .data = (uint8_t *)m->data, .len = m->len, .truncated = m->truncated,
        .close_code = m->close_code,
    };
    w->messages++;
    recx_ws(w->x, &r);
    return 0;
}

/* Parses what passes, unless an earlier error stopped that (the bytes still
 * go through: the application must not break because the recording cannot
 * read it). */
static void parse(ws_t *w, bool from_client, struct evbuffer *buf)
{
    if (!w->websocket || !w->parse || w->x == NULL)
        return;
    dir_ctx_t d = {w, from_client ? REC_WS_UP : REC_WS_DOWN};
    wsf_t *p = from_client ? &w->up_frames : &w->down_frames;
    struct evbuffer_iovec v[8];
    int n = evbuffer_peek(buf, -1, NULL, v, 8);
    if (n > 8) {
        /* More pieces than the peek holds: make it one. */
        evbuffer_pullup(buf, -1);
        n = evbuffer_peek(buf, -1, NULL, v, 1);
    }
    for (int i = 0; i < n; i++) {
        if (wsf_feed(p, v[i].iov_base, v[i].iov_len, on_message, &d) != 0) {
            char why[200];
            snprintf(why, sizeof why, "WebSocket frames %s: %s; later messages not recorded",
                     from_client ? "from the client" : "from the server", p->error);
            recx_fail(w->x, 0, REC_F_INCOMPLETE, why);
            log_debug("conn %llu: %s", (unsigned long long)w->conn.id, why);
            w->parse = false;
            return;
        }
    }
}

/* ---- the pipe, as tunnel.c's */

static struct bufferevent *other(ws_t *w, struct bufferevent *b)
{
    return b == w->client ? w->origin : w->client;
}

static void relay(struct bufferevent *b, void *arg)
{
    ws_t *w = arg;
    struct bufferevent *o = other(w, b);
    struct evbuffer *in = bufferevent_get_input(b);
    size_t n = evbuffer_get_length(in);
    if (n == 0 || o == NULL)
        return;
    if (b == w->client)
        w->up += n;
    else
        w->down += n;
    parse(w, b == w->client, in);
    struct evbuffer *out = bufferevent_get_output(o);
    evbuffer_add_buffer(out, in);
    if (evbuffer_get_length(out) > WS_HIGH_WATER) {
        bufferevent_disable(b, EV_READ);
        bufferevent_setwatermark(o, EV_WRITE, WS_HIGH_WATER / 2, 0);
    }
}

static void drained(struct bufferevent *o, void *arg)
{
    ws_t *w = arg;
    if (w->state == WS_CLOSING) {
        if (evbuffer_get_length(bufferevent_get_output(o)) == 0)
            ws_free(w);
        return;
    }
    bufferevent_setwatermark(o, EV_WRITE, 0, 0);
    struct bufferevent *b = other(w, o);
    if (b)
        bufferevent_enable(b, EV_READ);
}

/* One side ended: what the other still has to send goes out, then both close. */
static void closing(ws_t *w, struct bufferevent *ended)
{
    struct bufferevent *o = ended ? other(w, ended) : NULL;
    if (ended != NULL && ended == w->client && (w->state == WS_CONNECTING || w->state == WS_HANDSHAKE))
        recx_fail(w->x, 0, REC_F_INCOMPLETE, "client closed the connection before the Upgrade was answered");
    if (ended != NULL && w->state == WS_OPEN)
        relay(ended, w);
    w->state = WS_CLOSING;
    if (ended == NULL) {
        ws_free(w);
        return;
    }
    if (o == NULL || evbuffer_get_length(bufferevent_get_output(o)) == 0) {
        ws_free(w);
        return;
    }
    bufferevent_disable(o, EV_READ);
    bufferevent_disable(ended, EV_READ | EV_WRITE);
    bufferevent_setwatermark(o, EV_WRITE, 0, 0);
}

static void pipe_event(struct bufferevent *b, short what, void *arg)
{
    ws_t *w = arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        if (w->state == WS_CLOSING)
            ws_free(w);
        else
            closing(w, b);
    }
}

/* ---- the origin's answer */

/* A failure before any answer: 502/504 to the client, recorded. */
static void answer_error(ws_t *w, int status, const char *why)
{
    recx_fail(w->x, status, REC_F_ERROR, why);
    char resp[900];
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
                     status, status == 504 ? "Gateway Timeout" : "Bad Gateway", strlen(why) + 1, why);
    if (w->origin) {
        bufferevent_free(w->origin);
        w->origin = NULL;
    }
    w->state = WS_CLOSING;
    bufferevent_write(w->client, resp, (size_t)n);
    bufferevent_setcb(w->client, NULL, drained, pipe_event, w);
    bufferevent_disable(w->client, EV_READ);
    bufferevent_enable(w->client, EV_WRITE);
}

static int on_resp_head(void *arg, h1msg_t *m)
{
    ws_t *w = arg;
    int status = h1msg_status(m);
    recx_resp_head(w->x, status, &m->headers, clk_wall_us());
    struct evbuffer *out = bufferevent_get_output(w->client);
    /* The answer goes back as it came (its Upgrade and Connection included:
     * they are what the client asked for); a refusal closes afterwards. */
    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", status, http_status_str((enum http_status)status));
    for (size_t i = 0; i < m->headers.n; i++) {
        if (status != 101 && strcasecmp(m->headers.v[i].name, "Connection") == 0)
            continue;
        evbuffer_add_printf(out, "%s: %s\r\n", m->headers.v[i].name, m->headers.v[i].value);
    }
    if (status != 101)
        evbuffer_add_printf(out, "Connection: close\r\n");
    evbuffer_add(out, "\r\n", 2);
    if (status == 101) {
        w->t_101_us = (int64_t)clk_mono_us();
        w->state = WS_OPEN;
        w->parse = true;
        if (w->websocket)
            w->px->ws_sessions++;
        else
            w->px->upgrades_piped++;
    } else {
        w->state = WS_REFUSED;
        /* The body goes as it came (framing included): the parser stops
         * here and reads it again from the raw bytes (origin_read). */
        h1msg_pause(m, true);
        bufferevent_setcb(w->client, NULL, drained, pipe_event, w);
        bufferevent_enable(w->client, EV_WRITE);
    }
    return 0;
}

static int on_resp_body(void *arg, const char *p, size_t n)
{
    ws_t *w = arg;
    recx_resp_body(w->x, p, n);
    return 0;
}

static int on_resp_done(void *arg, h1msg_t *m)
{
    ws_t *w = arg;
    (void)m;
    w->resp_done = true;
    return 0;
}

static const h1msg_ops_t resp_ops = {on_resp_head, on_resp_body, on_resp_done};

static void start_pipe(ws_t *w)
{
    if (!w->websocket)
        log_debug("conn %llu: Upgrade to '%s' piped blind", (unsigned long long)w->conn.id,
                  w->authority);
    bufferevent_setcb(w->client, relay, drained, pipe_event, w);
    bufferevent_setcb(w->origin, relay, drained, pipe_event, w);
    bufferevent_set_timeouts(w->origin, NULL, NULL);
    bufferevent_set_timeouts(w->client, NULL, NULL);
    bufferevent_enable(w->client, EV_READ | EV_WRITE);
    bufferevent_enable(w->origin, EV_READ | EV_WRITE);
    /* Frames that came with the 101, and any the client sent early. */
    relay(w->origin, w);
    relay(w->client, w);
}

static void origin_read(struct bufferevent *b, void *arg)
{
    ws_t *w = arg;
    struct evbuffer *in = bufferevent_get_input(b);
    while (evbuffer_get_length(in) > 0 && w->state == WS_HANDSHAKE) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        ssize_t n = h1msg_feed(&w->resp, v.iov_base, v.iov_len);
        if (n < 0) {
            answer_error(w, 502, w->resp.error);
            return;
        }
        evbuffer_drain(in, (size_t)n);
        if (n == 0)
            break;
    }
    if (w->state == WS_OPEN) {
        start_pipe(w);
        return;
    }
    if (w->state == WS_REFUSED) {
        /* The refusal's body goes as it came, then the connection closes. */
        h1msg_pause(&w->resp, false);
        struct evbuffer_iovec v[4];
        int k = evbuffer_peek(in, -1, NULL, v, 4);
        for (int i = 0; i < k && i < 4; i++)
            h1msg_feed(&w->resp, v[i].iov_base, v[i].iov_len);
        evbuffer_add_buffer(bufferevent_get_output(w->client), in);
        if (w->resp_done)
            closing(w, w->origin);
    }
}

static void origin_event(struct bufferevent *b, short what, void *arg)
{
    ws_t *w = arg;
    if (w->state == WS_CONNECTING && (what & BEV_EVENT_CONNECTED)) {
        w->state = WS_HANDSHAKE;
        bufferevent_write_buffer(b, w->head);
        return;
    }
    if (w->state == WS_REFUSED) {
        /* The origin closed after its refusal: the client gets the rest, then EOF. */
        h1msg_eof(&w->resp);
        closing(w, b);
        return;
    }
    if (w->state == WS_OPEN || w->state == WS_CLOSING) {
        pipe_event(b, what, arg);
        return;
    }
    char why[600], tlsbuf[256];
    int dns = bufferevent_socket_get_dns_error(b);
    int err = EVUTIL_SOCKET_ERROR();
    bool timeout = (what & BEV_EVENT_TIMEOUT) != 0;
    SSL *ssl = bufferevent_openssl_get_ssl(b);
    snprintf(why, sizeof why, "Upgrade to %s: %s", w->authority,
             dns ? evutil_gai_strerror(dns)
             : timeout ? "no answer in time"
             : ssl && (what & BEV_EVENT_ERROR) ? tls_error_string(ssl, tlsbuf, sizeof tlsbuf)
             : w->state == WS_HANDSHAKE ? "the origin closed before answering"
             : strerror(err));
    answer_error(w, timeout ? 504 : 502, why);
}

/* ---- setup */

static void ws_drain(proxy_link_t *l)
{
    ws_t *w = (ws_t *)l;
    /* A WebSocket has no exchange boundary to wait for: it closes now, and
     * the session is recorded as cut (its messages so far are kept). */
    if (w->state == WS_OPEN)
        recx_fail(w->x, 0, REC_F_INCOMPLETE, "capture stopped during the session");
    if (w->state != WS_CLOSING)
        closing(w, NULL);
}

static void ws_abort(proxy_link_t *l)
{
    ws_t *w = (ws_t *)l;
    if (w->x && w->state != WS_OPEN)
        recx_fail(w->x, 0, REC_F_INCOMPLETE, "capture stopped before the Upgrade was answered");
    ws_free(w);
}

/* The request head for the origin: Host, the end-to-end headers (for
 * WebSocket without Sec-WebSocket-Extensions: no compression), then
 * Connection and Upgrade, which the hop-by-hop rule would drop. */
static int write_head(ws_t *w, const char *method, const char *path, const char *host,
                      const rec_headers_t *h)
{
    struct evbuffer *b = w->head;
    const char *upgrade = rec_headers_get(h, "Upgrade");
    int rc = evbuffer_add_printf(b, "%s %s HTTP/1.1\r\n", method, path) < 0;
    if (host)
        rc |= evbuffer_add_printf(b, "Host: %s\r\n", host) < 0;
    for (size_t i = 0; i < h->n; i++) {
        const char *name = h->v[i].name;
        if (fwd_is_hop(h, name) || (host && strcasecmp(name, "Host") == 0) ||
            (w->websocket && strcasecmp(name, "Sec-WebSocket-Extensions") == 0))
            continue;
        rc |= evbuffer_add_printf(b, "%s: %s\r\n", name, h->v[i].value) < 0;
    }
    rc |= evbuffer_add_printf(b, "Connection: Upgrade\r\nUpgrade: %s\r\n\r\n", upgrade) < 0;
    return rc ? -1 : 0;
}

int ws_start(proxy_t *px, struct bufferevent *client, const record_conn_t *conn, const url_t *origin,
             const char *method, const char *path, const char *host, const char *authority,
             const char *version, const rec_headers_t *req_headers)
{
    ws_t *w = calloc(1, sizeof *w);
    if (w == NULL)
        return -1;
    w->px = px;
    const char *up = rec_headers_get(req_headers, "Upgrade");
    w->websocket = up && strcasecmp(up, "websocket") == 0;
    snprintf(w->authority, sizeof w->authority, "%s", authority);
    w->conn = *conn;
    w->conn.last_session = conn->last_session ? strdup(conn->last_session) : NULL;
    h1msg_init(&w->resp, HTTP_RESPONSE, &resp_ops, w);
    wsf_init(&w->up_frames, px->cfg->rec.max_body);
    wsf_init(&w->down_frames, px->cfg->rec.max_body);
    w->x = recx_begin(px->rec, &w->conn, 0, origin->scheme, authority, method, path, version, req_headers);
    w->head = evbuffer_new();
    SSL *ssl = NULL;
    if (origin->tls) {
        ssl = px->up_tls ? SSL_new(px->up_tls) : NULL;
        /* The Upgrade is an HTTP/1.1 mechanism: no h2 offered here. */
        if (ssl == NULL || tls_client_prepare(ssl, origin->host) != 0 ||
            SSL_set_alpn_protos(ssl, tls_alpn_http11, (unsigned)tls_alpn_http11_len) != 0) {
            if (ssl)
                SSL_free(ssl);
            ssl = NULL;
            goto fail;
        }
        w->origin = bufferevent_openssl_socket_new(px->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                                   BEV_OPT_CLOSE_ON_FREE);
        if (w->origin == NULL)
            SSL_free(ssl);
        else
            bufferevent_openssl_set_allow_dirty_shutdown(w->origin, 1);
    } else {
        w->origin = bufferevent_socket_new(px->base, -1, BEV_OPT_CLOSE_ON_FREE);
    }
    if (w->x == NULL || w->head == NULL || w->origin == NULL ||
        write_head(w, method, path, host, req_headers) != 0)
        goto fail;
    w->client = client;
    w->link.on_drain = ws_drain;
    w->link.on_abort = ws_abort;
    proxy_link_add(px, &w->link);
    bufferevent_setcb(client, NULL, NULL, pipe_event, w);
    bufferevent_disable(client, EV_READ);
    bufferevent_setcb(w->origin, origin_read, NULL, origin_event, w);
    struct timeval tv = {.tv_sec = (time_t)(px->cfg->upstream_timeout_us / 1000000),
                         .tv_usec = (suseconds_t)(px->cfg->upstream_timeout_us % 1000000)};
    bufferevent_set_timeouts(w->origin, &tv, &tv);
    bufferevent_enable(w->origin, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect_hostname(w->origin, px->dns, AF_UNSPEC, origin->host, origin->port) != 0)
        bufferevent_trigger_event(w->origin, BEV_EVENT_ERROR, BEV_TRIG_DEFER_CALLBACKS);
    return 0;
fail:
    if (w->x)
        recx_end(w->x);
    if (w->origin)
        bufferevent_free(w->origin);
    if (w->head)
        evbuffer_free(w->head);
    h1msg_fini(&w->resp);
    record_conn_fini(&w->conn);
    free(w);
    return -1;
}

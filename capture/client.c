#include "client.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "h1msg.h"
#include "h2server.h"
#include "log.h"
#include "tunnel.h"
#include "ws.h"

/* Above this much unsent response the origin is not read until the client catches up. */
#define CLIENT_HIGH_WATER (256 * 1024)
/* A keep-alive client that sends nothing for this long is closed. */
#define CLIENT_IDLE_SECONDS 120

/* The states of client.h's picture; the callback armed in each is named. */
enum client_state {
    CL_PREFACE,     /* cleartext reverse with h2: the first bytes may be the h2c preface (client_read) */
    CL_HEAD,        /* waiting for a request head (client_read -> parser) */
    CL_CONNECT,     /* a CONNECT head read, its answer not yet decided (parse_input) */
    CL_UPGRADE,     /* an Upgrade head read: ws.c takes the connection (parse_input) */
    CL_EXCHANGE,    /* a request in flight: its body read, the response relayed (up_* callbacks) */
    CL_HALF_CLOSED, /* the same after the client's FIN (cleartext only: TLS has no half-close) */
    CL_CONNECTED,   /* "200 Connection established" being written (client_write -> start_tls) */
    CL_HANDSHAKE,   /* TLS handshake with the client (handshake_event) */
    CL_CLOSING,     /* last bytes being flushed, then freed (client_write) */
};

typedef struct client {
    proxy_link_t link;        /* first: the drain finds us by it */
    proxy_t *px;
    enum client_state state;
    struct bufferevent *bev;
    record_conn_t conn;
    h1msg_t msg;
    url_t origin;             /* where origin-form requests go, once origin_authority is set */
    char origin_authority[300]; /* "": a forward proxy, origin-form refused */
    /* the exchange in flight (CL_EXCHANGE, CL_HALF_CLOSED) */
    recx_t *x;
    up_conn_t *up;
    enum fwd_framing resp_framing;
    bool req_done;            /* progress: the whole request read */
    bool resp_started;        /* progress: the response head went out */
    bool keep_alive, http11;  /* the request's options */
    /* backpressure, each the reason one direction is stopped */
    bool parser_paused;       /* a complete request waits for its response */
    bool up_full;             /* the origin has enough request body queued */
    bool resp_paused;         /* the client has enough response queued */
    int busy;                 /* > 0 inside the parser: freeing waits */
    /* Cleartext clients: a response is written straight into the socket at
     * the end of the loop pass that queued it (push), the bufferevent's write
     * event left disabled; only bytes the socket did not take enable it. An
     * enabled write event cost two epoll_ctl calls and one more pass per
     * exchange, and the response waited for that pass. NULL: TLS, or no
     * memory (the bufferevent writes, as for TLS). */
    struct event *push;
    bool push_armed;
} client_t;

static void client_read(struct bufferevent *bev, void *arg);
static void client_write(struct bufferevent *bev, void *arg);
static void client_event(struct bufferevent *bev, short what, void *arg);

static void set_idle_timeout(client_t *c, bool on)
{
    struct timeval tv = { .tv_sec = CLIENT_IDLE_SECONDS, .tv_usec = 0 };
    bufferevent_set_timeouts(c->bev, on ? &tv : NULL, NULL);
}

/* Response bytes were queued: they leave at the end of this pass (push). */
static void out_soon(client_t *c)
{
    if (c->push != NULL && !c->push_armed) {
        c->push_armed = true;
        event_active(c->push, EV_TIMEOUT, 1);
    }
}

/* Before a response is queued: its bytes go out by push, so the write event
 * stays off (not pending when the output is empty: no system call). */
static void out_direct(client_t *c)
{
    if (c->push != NULL)
        bufferevent_disable(c->bev, EV_WRITE);
}

/* A socket that is no longer ours to push into (TLS, a tunnel, h2, a
 * WebSocket): the bufferevent writes everything from now on. */
static void out_handover(client_t *c)
{
    if (c->push != NULL) {
        event_free(c->push);
        c->push = NULL;
        c->push_armed = false;
        bufferevent_enable(c->bev, EV_WRITE);
    }
}

static void out_push(client_t *c);

/* Frees the client; with keep_bev the bufferevent was handed on. */
static void client_free(client_t *c, bool keep_bev)
{
    if (c->up != NULL)
        up_abort(c->up);
    if (c->x != NULL)
        recx_end(c->x);
    if (c->bev != NULL && !keep_bev)
        bufferevent_free(c->bev);
    if (c->push != NULL)
        event_free(c->push);
    h1msg_fini(&c->msg);
    record_conn_fini(&c->conn);
    proxy_link_remove(c->px, &c->link);
    free(c);
}

/* Frees a closing client once its last bytes are out and no parser runs. */
static void maybe_free(client_t *c)
{
    if (c->state == CL_CLOSING && c->busy == 0 &&
        evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        client_free(c, false);
}

static void start_closing(client_t *c)
{
    c->state = CL_CLOSING;
    bufferevent_disable(c->bev, EV_READ);
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    bufferevent_enable(c->bev, EV_WRITE);
}

/* A response made by the proxy itself; the connection closes after it. */
static void send_local(client_t *c, int status, const char *text)
{
    evbuffer_add_printf(bufferevent_get_output(c->bev),
                        "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                        "Connection: close\r\n\r\n%s\n",
                        status, http_status_str((enum http_status)status), strlen(text) + 1, text);
    start_closing(c);
}

/* The exchange is over (response done or failed): record it, then wait for
 * the next request or close. */
static void exchange_end(client_t *c)
{
    if (c->x != NULL)
        recx_end(c->x);
    c->x = NULL;
    c->up = NULL;
    if (!c->req_done || !c->keep_alive || c->px->draining || c->state == CL_HALF_CLOSED) {
        /* An unread rest of the request body cannot be told from the next request. */
        start_closing(c);
        maybe_free(c);
        return;
    }
    c->state = CL_HEAD;
    c->resp_started = c->up_full = c->resp_paused = false;
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    set_idle_timeout(c, true);
    if (c->parser_paused) {
        c->parser_paused = false;
        h1msg_pause(&c->msg, false);
    }
    bufferevent_enable(c->bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
        bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

/* ---- upstream callbacks */

static void up_interim(void *arg, int status, const rec_headers_t *h)
{
    client_t *c = arg;
    if (c->http11) {
        out_direct(c);
        fwd_response_head(bufferevent_get_output(c->bev), status, h, FWD_NONE, false);
        out_soon(c);
    }
}

static void up_head(void *arg, const up_resp_t *r)
{
    client_t *c = arg;
    recx_resp_head(c->x, r->status, r->headers, r->first_byte_us);
    c->resp_started = true;
    c->resp_framing = fwd_framing_for(r->has_body, r->content_length, c->http11);
    if (c->resp_framing == FWD_CLOSE || c->px->draining)
        c->keep_alive = false;
    out_direct(c);
    fwd_response_head(bufferevent_get_output(c->bev), r->status, r->headers, c->resp_framing,
                      !c->keep_alive);
    out_soon(c);
}

static void up_body_cb(void *arg, const char *p, size_t n)
{
    client_t *c = arg;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    recx_resp_body(c->x, p, n);
    fwd_body(out, c->resp_framing, p, n);
    out_soon(c);
    if (!c->resp_paused && evbuffer_get_length(out) > CLIENT_HIGH_WATER) {
        c->resp_paused = true;
        up_pause(c->up, true);
        bufferevent_setwatermark(c->bev, EV_WRITE, CLIENT_HIGH_WATER / 2, 0);
    }
}

static void up_done(void *arg)
{
    client_t *c = arg;
    c->up = NULL;
    fwd_body_end(bufferevent_get_output(c->bev), c->resp_framing);
    /* The whole response is queued: it leaves now, before the exchange is
     * recorded (the client does not wait for the recording). Not closing
     * yet, so c stays. */
    if (c->push != NULL)
        out_push(c);
    exchange_end(c);
}

static void up_fail(void *arg, int status, const char *reason)
{
    client_t *c = arg;
    c->up = NULL;
    log_debug("conn %llu: %s", (unsigned long long)c->conn.id, reason);
    c->keep_alive = false;
    if (c->resp_started) {
        /* Half a response went out: what arrived is delivered, then closing
         * the connection is the only honest signal (short or unterminated body). */
        recx_fail(c->x, 0, REC_F_INCOMPLETE, reason);
        recx_end(c->x);
        c->x = NULL;
        start_closing(c);
        maybe_free(c);
        return;
    }
    recx_fail(c->x, status, REC_F_ERROR, reason);
    recx_end(c->x);
    c->x = NULL;
    send_local(c, status, reason);
}

static void up_drain(void *arg)
{
    client_t *c = arg;
    c->up_full = false;
    if (c->state == CL_EXCHANGE) {
        bufferevent_enable(c->bev, EV_READ);
        if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
            bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
    }
}

/* An HTTP/1.1 client gets no trailers (they would need chunked framing it did
 * not ask for with TE); the recording keeps them. */
static void up_trailers(void *arg, const rec_headers_t *t)
{
    client_t *c = arg;
    recx_resp_trailers(c->x, t);
}

static const up_ops_t client_up_ops = { up_interim, up_head, up_body_cb, up_done, up_fail, up_drain,
                                        up_trailers };

/* ---- request parsing */

/* Where an absolute-form or origin-form request goes: origin, path, the Host
 * to send (NULL keeps the client's) and the authority recorded. 0, or -1
 * with a reason. */
static int route(client_t *c, h1msg_t *m, url_t *origin, const char **path, const char **host,
                 char *authority, size_t alen, char *why, size_t wlen)
{
    if (m->url[0] != '/' && m->url[0] != '*') {
        if (url_parse(m->url, origin, why, wlen) != 0)
            return -1;
        *path = origin->path;
        url_host_header(origin, authority, alen);
        *host = authority;
        return 0;
    }
    if (c->origin_authority[0] == '\0') {
        snprintf(why, wlen, "'%s': a forward proxy needs an absolute URI (http://host/path)", m->url);
        return -1;
    }
    *origin = c->origin;
    *path = m->url;
    const char *h = rec_headers_get(&m->headers, "Host");
    if (c->px->cfg->reverse || h == NULL) {
        snprintf(authority, alen, "%s", c->origin_authority);
        *host = authority;
    } else {
        snprintf(authority, alen, "%s", h);
        *host = NULL;
    }
    return 0;
}

static int on_req_head(void *arg, h1msg_t *m)
{
    client_t *c = arg;
    char authority[300], why[400], version[32];
    const char *path, *host;
    url_t origin;
    c->http11 = m->parser.http_major == 1 && m->parser.http_minor >= 1;
    c->keep_alive = h1msg_keep_alive(m);
    if (m->parser.method == HTTP_CONNECT) {
        c->state = CL_CONNECT;
        out_handover(c);
        return 0;
    }
    if (ws_is_upgrade(&m->headers)) {
        c->state = CL_UPGRADE;
        out_handover(c);
        return 0;
    }
    set_idle_timeout(c, false);
    c->state = CL_EXCHANGE;
    c->req_done = false;
    if (route(c, m, &origin, &path, &host, authority, sizeof authority, why, sizeof why) != 0) {
        c->req_done = true;
        send_local(c, 400, why);
        return -1;
    }
    snprintf(version, sizeof version, "HTTP/%u.%u", m->parser.http_major, m->parser.http_minor);
    c->x = recx_begin(c->px->rec, &c->conn, 0, origin.scheme, authority, h1msg_method(m), path,
                      version, &m->headers);
    long long cl = h1msg_content_length(m);
    enum fwd_framing f = h1msg_chunked(m) ? FWD_CHUNKED : cl >= 0 ? FWD_LENGTH : FWD_NONE;
    if (c->x != NULL)
        c->up = up_start(c->px->pool, &origin, h1msg_method(m), path, host, &m->headers, f,
                         &client_up_ops, c);
    if (c->x == NULL || c->up == NULL) {
        if (c->x)
            recx_fail(c->x, 502, REC_F_ERROR, "out of memory");
        exchange_end(c);
        send_local(c, 502, "out of memory");
        return -1;
    }
    return 0;
}

static int on_req_body(void *arg, const char *p, size_t n)
{
    client_t *c = arg;
    if (c->x == NULL || c->up == NULL)
        return 0;
    recx_req_body(c->x, p, n);
    if (up_body(c->up, p, n) == 1 && !c->up_full) {
        c->up_full = true;
        bufferevent_disable(c->bev, EV_READ);
    }
    return 0;
}

static int on_req_done(void *arg, h1msg_t *m)
{
    client_t *c = arg;
    if (c->state == CL_CONNECT || c->state == CL_UPGRADE)
        return 0;
    c->req_done = true;
    if (c->up != NULL)
        up_body_end(c->up);
    /* The next pipelined request waits until this response is out. */
    if (c->state == CL_EXCHANGE) {
        c->parser_paused = true;
        h1msg_pause(m, true);
    }
    return 0;
}

static const h1msg_ops_t req_ops = { on_req_head, on_req_body, on_req_done };

/* ---- CONNECT */

static void handshake_event(struct bufferevent *bev, short what, void *arg);

/* "200 Connection established" is out: the socket moves under TLS. A
 * socket-based TLS bufferevent (not a filter) is used so that "output
 * drained" means "in the kernel", which the drain and close rely on. */
static void start_tls(client_t *c)
{
    char err[300];
    SSL_CTX *ctx = c->px->cfg->reverse ? c->px->reverse_tls
                                       : ca_server_ctx(c->px->ca, c->origin.host, err, sizeof err);
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    if (ssl == NULL) {
        log_error("%s%s: %s", c->px->cfg->reverse ? "" : "CONNECT ", c->origin_authority,
                  ctx ? "cannot make a TLS session" : err);
        client_free(c, false);
        return;
    }
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    bufferevent_setfd(c->bev, -1);
    bufferevent_free(c->bev);
    c->bev = bufferevent_openssl_socket_new(c->px->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                            BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        SSL_free(ssl);
        evutil_closesocket(fd);
        client_free(c, true);
        return;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
    c->state = CL_HANDSHAKE;
    c->conn.tls = true;
    bufferevent_setcb(c->bev, client_read, client_write, handshake_event, c);
    bufferevent_setwatermark(c->bev, EV_READ, 0, CLIENT_HIGH_WATER);
    set_idle_timeout(c, true);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* Answers the CONNECT; TLS starts once the answer is written (client_write). */
static void start_interception(client_t *c, const url_t *origin, const char *authority)
{
    static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    c->origin = *origin;
    c->origin.path = "/";
    snprintf(c->origin_authority, sizeof c->origin_authority, "%s", authority);
    c->state = CL_CONNECTED;
    out_handover(c);
    bufferevent_disable(c->bev, EV_READ);
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    bufferevent_write(c->bev, ok, sizeof ok - 1);
}

/* A client that gave up on the handshake (most often: it does not trust the
 * capture's CA) is counted for the end line and, with -v, logged with the
 * name it asked for and OpenSSL's reason (the alert it sent). */
static void handshake_failed(client_t *c, struct bufferevent *bev, short what)
{
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    if (c->px->cfg->reverse && ssl && BIO_number_read(SSL_get_rbio(ssl)) == 0) {
        /* Connected and left without a byte (a port probe): no handshake began. */
        log_debug("conn %llu: client %s closed before its TLS handshake began", (unsigned long long)c->conn.id,
                  c->conn.addr);
        return;
    }
    const char *sni = ssl ? SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) : NULL;
    char why[256] = "";
    unsigned long e;
    /* libevent also queues SSL_get_error codes (library 0) there: only
     * OpenSSL's own errors carry a reason worth printing. */
    while ((e = bufferevent_get_openssl_error(bev)) != 0)
        if (why[0] == '\0' && ERR_GET_LIB(e) != 0)
            ERR_error_string_n(e, why, sizeof why);
    if (why[0] == '\0')
        snprintf(why, sizeof why, "%s", (what & BEV_EVENT_TIMEOUT) ? "timed out"
                 : "the client closed the connection");
    c->px->tls_failures++;
    log_debug("conn %llu: TLS handshake with client %s for %s%s (SNI %s) failed: %s%s",
              (unsigned long long)c->conn.id, c->conn.addr, c->px->cfg->reverse ? "" : "CONNECT ",
              c->origin_authority, sni ? sni : "none", why,
              strstr(why, "alert") ? " (a client alert: does it trust the capture's CA? see --init-ca)" : "");
}

/* TLS is up: HTTP/2 when ALPN chose it, else HTTP/1.1 on the same object. */
static void handshake_event(struct bufferevent *bev, short what, void *arg)
{
    client_t *c = arg;
    if (!(what & BEV_EVENT_CONNECTED)) {
        handshake_failed(c, bev, what);
        client_event(bev, what, arg);
        return;
    }
    const unsigned char *alpn = NULL;
    unsigned alen = 0;
    SSL_get0_alpn_selected(bufferevent_openssl_get_ssl(bev), &alpn, &alen);
    if (alen == 2 && memcmp(alpn, "h2", 2) == 0) {
        if (h2s_start(c->px, bev, &c->conn, &c->origin) == 0) {
            c->bev = NULL;
            client_free(c, true);
        } else {
            client_free(c, false);
        }
        return;
    }
    c->state = CL_HEAD;
    bufferevent_setcb(bev, client_read, client_write, client_event, c);
    if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
        client_read(bev, c);
}

static void handle_connect(client_t *c)
{
    char url[300], why[400];
    url_t origin;
    c->state = CL_HEAD; /* each way out below sets its own */
    if (strlen(c->msg.url) > 270) {
        send_local(c, 400, "CONNECT: authority too long");
        return;
    }
    snprintf(url, sizeof url, "https://%.270s", c->msg.url);
    if (c->px->draining) {
        send_local(c, 503, "the capture is stopping");
        return;
    }
    if (strchr(c->msg.url, '/') != NULL || url_parse(url, &origin, why, sizeof why) != 0) {
        snprintf(why, sizeof why, "CONNECT '%s': expected host:port", c->msg.url);
        send_local(c, 400, why);
        return;
    }
    if (!access_connect_ok(c->px->cfg->access, c->px->cfg->rec.filter, origin.host, origin.port)) {
        /* Without this a proxy is a way to any port of any host it reaches. */
        c->px->refused_connects++;
        log_debug("conn %llu: CONNECT %s refused: port not in --connect-ports %s and host not named "
                  "by --include-host", (unsigned long long)c->conn.id, c->msg.url,
                  access_connect_ports_text(c->px->cfg->access));
        snprintf(why, sizeof why, "CONNECT %s refused: the capture allows ports %s (--connect-ports) "
                 "and hosts named by --include-host", c->msg.url, access_connect_ports_text(c->px->cfg->access));
        send_local(c, 403, why);
        return;
    }
    if (c->px->ca != NULL) {
        start_interception(c, &origin, c->msg.url);
        return;
    }
    if (tunnel_start(c->px, c->bev, &c->conn, c->msg.url, origin.host, origin.port) != 0) {
        send_local(c, 502, "out of memory");
        return;
    }
    c->bev = NULL;
    c->state = CL_CLOSING;
}

/* An Upgrade (WebSocket or other): ws.c relays it on a connection of its own. */
static void handle_upgrade(client_t *c)
{
    char authority[300], why[400], version[32];
    const char *path, *host;
    url_t origin;
    c->state = CL_HEAD; /* each way out below sets its own */
    if (c->px->draining) {
        send_local(c, 503, "the capture is stopping");
        return;
    }
    if (route(c, &c->msg, &origin, &path, &host, authority, sizeof authority, why, sizeof why) != 0) {
        send_local(c, 400, why);
        return;
    }
    snprintf(version, sizeof version, "HTTP/%u.%u", c->msg.parser.http_major, c->msg.parser.http_minor);
    if (ws_start(c->px, c->bev, &c->conn, &origin, h1msg_method(&c->msg), path, host, authority,
                 version, &c->msg.headers) != 0) {
        send_local(c, 502, "out of memory");
        return;
    }
    c->bev = NULL;
    c->state = CL_CLOSING;
}

/* ---- client events */

static void parse_input(client_t *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    c->busy++;
    while ((c->state == CL_HEAD || c->state == CL_CONNECT || c->state == CL_UPGRADE ||
            c->state == CL_EXCHANGE) &&
           !c->parser_paused && !c->up_full &&
           evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        ssize_t n = h1msg_feed(&c->msg, v.iov_base, v.iov_len);
        if (n < 0) {
            if (c->state != CL_CLOSING) {
                if (c->x != NULL) {
                    recx_fail(c->x, 400, REC_F_INCOMPLETE, c->msg.error);
                    exchange_end(c);
                }
                if (c->state != CL_CLOSING)
                    send_local(c, 400, c->msg.error);
            }
            break;
        }
        evbuffer_drain(in, (size_t)n);
        if (c->state == CL_CONNECT && c->msg.parser.upgrade) {
            handle_connect(c);
            break;
        }
        if (c->state == CL_UPGRADE && c->msg.parser.upgrade) {
            handle_upgrade(c);
            break;
        }
        if (c->msg.parser.upgrade) {
            /* Upgrade (WebSocket) is not relayed: the request went out as a
             * plain one, and the connection ends with its answer. */
            c->keep_alive = false;
            break;
        }
        if (n == 0)
            break;
    }
    c->busy--;
    if (c->bev == NULL) /* handed to a tunnel */
        client_free(c, true);
    else
        maybe_free(c);
}

/* The client connection preface of HTTP/2 (RFC 9113 3.4). */
static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/* A cleartext reverse connection that opens with the HTTP/2 preface is h2c
 * with prior knowledge: h2server.c takes it, preface included. Returns true
 * when the connection was handed over (c is freed) or more bytes are needed
 * to tell. */
static bool h2c_prior_knowledge(client_t *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t have = evbuffer_get_length(in), want = sizeof h2_preface - 1;
    char head[sizeof h2_preface];
    size_t n = have < want ? have : want;
    if (evbuffer_copyout(in, head, n) != (ev_ssize_t)n || memcmp(head, h2_preface, n) != 0) {
        c->state = CL_HEAD;
        return false;
    }
    if (n < want)
        return true;
    if (h2s_start(c->px, c->bev, &c->conn, &c->origin) != 0) {
        client_free(c, false);
        return true;
    }
    c->bev = NULL;
    client_free(c, true);
    return true;
}

static void client_read(struct bufferevent *bev, void *arg)
{
    client_t *c = arg;
    (void)bev;
    if (c->state == CL_PREFACE && h2c_prior_knowledge(c))
        return;
    parse_input(c);
}

static void client_write(struct bufferevent *bev, void *arg);

/* Writes what the output holds now (push). May free c (a closing client
 * whose last bytes went out). */
static void out_push(client_t *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (evbuffer_get_length(out) == 0)
        return;
    /* A socket bufferevent keeps the start of its output frozen to all but
     * its own write callback; it is thawed for this write as that callback
     * does. A failed or short write (EAGAIN, a reset) is the bufferevent's
     * from here: it writes the rest when writable, or reports the error. */
    evbuffer_unfreeze(out, 1);
    int n = evbuffer_write(out, bufferevent_getfd(c->bev));
    evbuffer_freeze(out, 1);
    if (n < 0 || evbuffer_get_length(out) > 0) {
        bufferevent_enable(c->bev, EV_WRITE);
        return;
    }
    client_write(c->bev, c); /* drained, as the bufferevent would say */
}

static void on_push(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    client_t *c = arg;
    c->push_armed = false;
    out_push(c);
}

static void client_write(struct bufferevent *bev, void *arg)
{
    client_t *c = arg;
    (void)bev;
    if (c->state == CL_CLOSING) {
        maybe_free(c);
        return;
    }
    if (c->state == CL_CONNECTED) {
        start_tls(c);
        return;
    }
    if (c->resp_paused && c->up != NULL) {
        c->resp_paused = false;
        bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
        up_pause(c->up, false);
    }
}

static void client_event(struct bufferevent *bev, short what, void *arg)
{
    client_t *c = arg;
    (void)bev;
    if ((what & BEV_EVENT_EOF) && c->state == CL_EXCHANGE && c->req_done && !c->conn.tls) {
        /* Half-closed after a whole request: the response still goes out.
         * (TLS has no half-close: there, EOF is the client leaving.) */
        c->state = CL_HALF_CLOSED;
        bufferevent_disable(c->bev, EV_READ);
        return;
    }
    if (c->x != NULL) {
        recx_fail(c->x, 0, REC_F_INCOMPLETE,
                  (what & BEV_EVENT_TIMEOUT) ? "client timed out" : "client closed the connection mid-exchange");
    }
    client_free(c, false);
}

/* ---- drain */

static void client_drain(proxy_link_t *l)
{
    client_t *c = (client_t *)l;
    /* px->draining is set: an exchange in flight ends the connection. */
    if (c->state == CL_HANDSHAKE || c->state == CL_CONNECTED || c->state == CL_PREFACE ||
        c->state == CL_CONNECT || c->state == CL_UPGRADE || (c->state == CL_HEAD && c->x == NULL)) {
        start_closing(c);
        maybe_free(c);
    }
}

static void client_abort(proxy_link_t *l)
{
    client_t *c = (client_t *)l;
    if (c->x != NULL)
        recx_fail(c->x, 0, REC_F_INCOMPLETE, "capture stopped before the exchange completed");
    client_free(c, false);
}

int client_start(proxy_t *px, evutil_socket_t fd, const struct sockaddr *addr)
{
    client_t *c = calloc(1, sizeof *c);
    if (c == NULL) {
        evutil_closesocket(fd);
        return -1;
    }
    c->px = px;
    c->bev = bufferevent_socket_new(px->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        evutil_closesocket(fd);
        free(c);
        return -1;
    }
    c->state = CL_HEAD;
    c->conn.id = record_next_conn_id(px->rec);
    if (addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, c->conn.addr, sizeof c->conn.addr);
    else
        inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, c->conn.addr, sizeof c->conn.addr);
    if (px->cfg->reverse) {
        c->origin = px->cfg->reverse_url;
        url_host_header(&c->origin, c->origin_authority, sizeof c->origin_authority);
        if (px->reverse_tls == NULL && px->cfg->h2)
            c->state = CL_PREFACE;
    }
    h1msg_init(&c->msg, HTTP_REQUEST, &req_ops, c);
    c->link.on_drain = client_drain;
    c->link.on_abort = client_abort;
    proxy_link_add(px, &c->link);
    bufferevent_setcb(c->bev, client_read, client_write, client_event, c);
    /* Pipelined requests wait in the input buffer: bound it. */
    bufferevent_setwatermark(c->bev, EV_READ, 0, CLIENT_HIGH_WATER);
    set_idle_timeout(c, true);
    if (px->cfg->reverse && px->reverse_tls != NULL) {
        start_tls(c); /* frees c when no TLS session can be made (logged) */
        return 0;
    }
    c->push = event_new(px->base, -1, 0, on_push, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    return 0;
}

#include "tunnel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/dns.h>

#include "clock.h"

/* Relay backpressure: stop reading one side while the other has this much queued. */
#define TUNNEL_HIGH_WATER (256 * 1024)

enum tunnel_state { TUN_CONNECTING, TUN_OPEN, TUN_CLOSING };

typedef struct tunnel {
    proxy_link_t link;           /* first: the drain finds us by it */
    proxy_t *px;
    enum tunnel_state state;
    struct bufferevent *client, *origin;
    record_conn_t conn;
    recx_t *x;
    uint64_t up, down;
    char authority[300];
} tunnel_t;

static void tunnel_free(tunnel_t *t)
{
    if (t->x != NULL) {
        recx_tunnel(t->x, t->up, t->down);
        recx_end(t->x);
    }
    if (t->client)
        bufferevent_free(t->client);
    if (t->origin)
        bufferevent_free(t->origin);
    record_conn_fini(&t->conn);
    proxy_link_remove(t->px, &t->link);
    free(t);
}

static struct bufferevent *other(tunnel_t *t, struct bufferevent *b)
{
    return b == t->client ? t->origin : t->client;
}

/* Moves what b has read to the other side, stopping b when the other is full. */
static void relay(struct bufferevent *b, void *arg)
{
    tunnel_t *t = arg;
    struct bufferevent *o = other(t, b);
    struct evbuffer *in = bufferevent_get_input(b), *out = bufferevent_get_output(o);
    size_t n = evbuffer_get_length(in);
    if (b == t->client)
        t->up += n;
    else
        t->down += n;
    evbuffer_add_buffer(out, in);
    if (evbuffer_get_length(out) > TUNNEL_HIGH_WATER) {
        bufferevent_disable(b, EV_READ);
        bufferevent_setwatermark(o, EV_WRITE, TUNNEL_HIGH_WATER / 2, 0);
    }
}

/* The other side drained: read b's partner again; when closing and flushed, end. */
static void drained(struct bufferevent *o, void *arg)
{
    tunnel_t *t = arg;
    if (t->state == TUN_CLOSING) {
        if (evbuffer_get_length(bufferevent_get_output(o)) == 0)
            tunnel_free(t);
        return;
    }
    bufferevent_setwatermark(o, EV_WRITE, 0, 0);
    bufferevent_enable(other(t, o), EV_READ);
}

/* One side ended: flush what the other still has to send, then close. */
static void closing(tunnel_t *t, struct bufferevent *ended)
{
    struct bufferevent *o = other(t, ended);
    t->state = TUN_CLOSING;
    if (ended != NULL)
        relay(ended, t);
    if (o == NULL || evbuffer_get_length(bufferevent_get_output(o)) == 0) {
        tunnel_free(t);
        return;
    }
    bufferevent_disable(o, EV_READ);
    if (ended != NULL)
        bufferevent_disable(ended, EV_READ | EV_WRITE);
    bufferevent_setwatermark(o, EV_WRITE, 0, 0);
}

static void on_event(struct bufferevent *b, short what, void *arg)
{
    tunnel_t *t = arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        if (t->state == TUN_CLOSING)
            tunnel_free(t);
        else
            closing(t, b);
    }
}

static void origin_event(struct bufferevent *b, short what, void *arg)
{
    tunnel_t *t = arg;
    if (t->state != TUN_CONNECTING) {
        on_event(b, what, arg);
        return;
    }
    if (what & BEV_EVENT_CONNECTED) {
        static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
        t->state = TUN_OPEN;
        recx_resp_head(t->x, 200, NULL, clk_wall_us());
        bufferevent_write(t->client, ok, sizeof ok - 1);
        bufferevent_setcb(t->client, relay, drained, on_event, t);
        bufferevent_setcb(t->origin, relay, drained, on_event, t);
        bufferevent_enable(t->client, EV_READ | EV_WRITE);
        bufferevent_enable(t->origin, EV_READ | EV_WRITE);
        bufferevent_set_timeouts(t->origin, NULL, NULL);
        if (evbuffer_get_length(bufferevent_get_input(t->client)) > 0)
            relay(t->client, t);
        return;
    }
    char why[600];
    int dns = bufferevent_socket_get_dns_error(b);
    int err = EVUTIL_SOCKET_ERROR();
    bool timeout = (what & BEV_EVENT_TIMEOUT) != 0;
    snprintf(why, sizeof why, "tunnel to %s: %s", t->authority,
             dns ? evutil_gai_strerror(dns) : timeout ? "connect timed out" : strerror(err));
    recx_fail(t->x, timeout ? 504 : 502, REC_F_ERROR, why);
    char resp[900];
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
                     timeout ? 504 : 502, timeout ? "Gateway Timeout" : "Bad Gateway", strlen(why) + 1, why);
    bufferevent_free(t->origin);
    t->origin = NULL;
    bufferevent_write(t->client, resp, (size_t)n);
    t->state = TUN_CLOSING;
    bufferevent_setcb(t->client, NULL, drained, on_event, t);
    bufferevent_disable(t->client, EV_READ);
    bufferevent_enable(t->client, EV_WRITE);
}

static void tunnel_drain(proxy_link_t *l)
{
    tunnel_t *t = (tunnel_t *)l;
    /* A tunnel has no exchange boundary to wait for: it closes now. */
    if (t->state != TUN_CLOSING)
        closing(t, NULL);
}

static void tunnel_abort(proxy_link_t *l)
{
    tunnel_free((tunnel_t *)l);
}

int tunnel_start(proxy_t *px, struct bufferevent *client, const record_conn_t *conn,
                 const char *authority, const char *host, unsigned short port)
{
    tunnel_t *t = calloc(1, sizeof *t);
    if (t == NULL)
        return -1;
    t->px = px;
    snprintf(t->authority, sizeof t->authority, "%s", authority);
    t->conn = *conn;
    t->conn.last_session = conn->last_session ? strdup(conn->last_session) : NULL;
    t->x = recx_begin(px->rec, &t->conn, 0, "https", authority, "CONNECT", authority, "HTTP/1.1", NULL);
    t->origin = bufferevent_socket_new(px->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (t->x == NULL || t->origin == NULL) {
        if (t->x)
            recx_end(t->x);
        if (t->origin)
            bufferevent_free(t->origin);
        record_conn_fini(&t->conn);
        free(t);
        return -1;
    }
    t->client = client;
    t->link.on_drain = tunnel_drain;
    t->link.on_abort = tunnel_abort;
    proxy_link_add(px, &t->link);
    bufferevent_setcb(client, NULL, NULL, on_event, t);
    bufferevent_disable(client, EV_READ);
    bufferevent_setcb(t->origin, NULL, NULL, origin_event, t);
    struct timeval tv = { .tv_sec = (time_t)(px->cfg->upstream_timeout_us / 1000000),
                          .tv_usec = (suseconds_t)(px->cfg->upstream_timeout_us % 1000000) };
    bufferevent_set_timeouts(t->origin, &tv, &tv);
    bufferevent_enable(t->origin, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect_hostname(t->origin, px->dns, AF_UNSPEC, host, port) != 0)
        bufferevent_trigger_event(t->origin, BEV_EVENT_ERROR, BEV_TRIG_DEFER_CALLBACKS);
    return 0;
}

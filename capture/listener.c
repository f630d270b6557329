#include "listener.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <event2/dns.h>
#include <event2/listener.h>

#include "client.h"
#include "log.h"
#include "tls.h"
#include "units.h"

typedef struct runtime {
    proxy_t px;
    struct evconnlistener *listener;
    struct event *sigint, *sigterm, *stats, *drain_timer, *accept_pause;
} runtime_t;

static void fmt_bytes(uint64_t b, char *buf, size_t len)
{
    if (b >= 1024 * 1024)
        snprintf(buf, len, "%.1f MiB", (double)b / (1024 * 1024));
    else if (b >= 1024)
        snprintf(buf, len, "%.1f KiB", (double)b / 1024);
    else
        snprintf(buf, len, "%llu B", (unsigned long long)b);
}

static void print_stats(const proxy_t *px, const char *when)
{
    record_stats_t s;
    char up[32], down[32];
    record_get_stats(px->rec, &s);
    fmt_bytes(s.bytes_up, up, sizeof up);
    fmt_bytes(s.bytes_down, down, sizeof down);
    redact_stats_t rs;
    redact_get_stats(px->cfg->rec.redact, &rs);
    char more[400] = "";
    size_t n = 0;
    if (px->refused_clients > 0)
        n += (size_t)snprintf(more + n, sizeof more - n, ", %llu clients refused (--allow-clients)",
                              (unsigned long long)px->refused_clients);
    if (px->refused_connects > 0 && n < sizeof more)
        n += (size_t)snprintf(more + n, sizeof more - n, ", %llu CONNECTs refused (--connect-ports)",
                              (unsigned long long)px->refused_connects);
    if (px->tls_failures > 0 && n < sizeof more)
        n += (size_t)snprintf(more + n, sizeof more - n, ", %llu client TLS handshakes failed (-v says why)",
                              (unsigned long long)px->tls_failures);
    if (px->ws_sessions + px->upgrades_piped > 0 && n < sizeof more)
        n += (size_t)snprintf(more + n, sizeof more - n, ", %llu WebSocket sessions, %llu other upgrades piped",
                              (unsigned long long)px->ws_sessions, (unsigned long long)px->upgrades_piped);
    if (rs.clear > 0 && n < sizeof more)
        snprintf(more + n, sizeof more - n, ", %llu exchanges carry Authorization/Cookie in clear: "
                 "see --redact-defaults", (unsigned long long)rs.clear);
    fprintf(stderr, "aiotest-capture: %s: %llu exchanges recorded, %llu filtered out, %llu tunnels, "
            "%s up, %s down, %llu errors%s\n", when, (unsigned long long)s.exchanges,
            (unsigned long long)s.skipped, (unsigned long long)s.tunnels, up, down,
            (unsigned long long)s.errors, more);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr,
                      int len, void *arg)
{
    runtime_t *rt = arg;
    (void)l, (void)len;
    if (!access_client_ok(rt->px.cfg->access, addr)) {
        char a[64] = "?";
        if (addr->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, a, sizeof a);
        else if (addr->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, a, sizeof a);
        log_debug("client %s refused: outside --allow-clients", a);
        rt->px.refused_clients++;
        evutil_closesocket(fd);
        return;
    }
    evutil_make_socket_nonblocking(fd);
    if (client_start(&rt->px, fd, addr) != 0)
        log_error("out of memory: connection dropped");
}

static void on_accept_resume(evutil_socket_t fd, short what, void *arg)
{
    runtime_t *rt = arg;
    (void)fd, (void)what;
    if (rt->listener)
        evconnlistener_enable(rt->listener);
}

/* EMFILE and friends: the pending connection stays readable, so accepting
 * again at once would spin; the listener rests 100 ms instead. */
static void on_accept_error(struct evconnlistener *l, void *arg)
{
    runtime_t *rt = arg;
    static const struct timeval pause = { .tv_sec = 0, .tv_usec = 100000 };
    log_warn("accept: %s (pausing 100ms)", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    evconnlistener_disable(l);
    if (rt->accept_pause == NULL)
        rt->accept_pause = evtimer_new(rt->px.base, on_accept_resume, rt);
    if (rt->accept_pause)
        evtimer_add(rt->accept_pause, &pause);
}

static void abort_all(runtime_t *rt)
{
    proxy_t *px = &rt->px;
    while (px->links.next != &px->links)
        px->links.next->on_abort(px->links.next);
    event_base_loopbreak(px->base);
}

static void on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    log_warn("drain timeout: cutting %u connections", ((runtime_t *)arg)->px.nlinks);
    abort_all(arg);
}

/* SIGINT/SIGTERM: stop accepting and let exchanges in flight finish; a second
 * signal cuts them at once. */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    runtime_t *rt = arg;
    proxy_t *px = &rt->px;
    (void)what;
    if (px->draining) {
        abort_all(rt);
        return;
    }
    log_info("%s: stopping (in flight: %u connections)", sig == SIGINT ? "SIGINT" : "SIGTERM", px->nlinks);
    px->draining = true;
    if (rt->listener) {
        evconnlistener_free(rt->listener);
        rt->listener = NULL;
    }
    for (proxy_link_t *l = px->links.next, *next; l != &px->links; l = next) {
        next = l->next;
        l->on_drain(l);
    }
    if (px->nlinks == 0) {
        event_base_loopbreak(px->base);
        return;
    }
    struct timeval tv = { .tv_sec = (time_t)(px->cfg->drain_timeout_us / 1000000),
                          .tv_usec = (suseconds_t)(px->cfg->drain_timeout_us % 1000000) };
    rt->drain_timer = evtimer_new(px->base, on_drain_timeout, rt);
    if (rt->drain_timer)
        evtimer_add(rt->drain_timer, &tv);
}

static void on_stats(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    print_stats(arg, "so far");
}

static struct evconnlistener *listen_on(runtime_t *rt)
{
    const proxy_config_t *cfg = rt->px.cfg;
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *ai = NULL;
    char port[8];
    snprintf(port, sizeof port, "%u", cfg->listen_port);
    int rc = getaddrinfo(cfg->listen_host, port, &hints, &ai);
    if (rc != 0) {
        log_error("--proxy %s:%u: %s", cfg->listen_host, cfg->listen_port, gai_strerror(rc));
        return NULL;
    }
    if (!access_is_loopback(ai->ai_addr) && !access_limits_clients(cfg->access)) {
        /* Anyone who reaches it could use it, CONNECT to any host included. */
        log_error("--proxy %s:%u is not a loopback address: name the clients allowed to use it "
                  "with --allow-clients CIDR[,CIDR...]", cfg->listen_host, cfg->listen_port);
        freeaddrinfo(ai);
        return NULL;
    }
    struct evconnlistener *l = evconnlistener_new_bind(
        rt->px.base, on_accept, rt, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
        1024, ai->ai_addr, (int)ai->ai_addrlen);
    if (l == NULL)
        log_error("--proxy %s:%u: cannot listen: %s", cfg->listen_host, cfg->listen_port,
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    else
        evconnlistener_set_error_cb(l, on_accept_error);
    freeaddrinfo(ai);
    return l;
}

/* Resolver for origin names: /etc/hosts first, then resolv.conf if any. It
 * never keeps the loop alive by itself. */
static struct evdns_base *resolver(struct event_base *base)
{
    struct evdns_base *dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (dns == NULL)
        return NULL;
    evdns_base_resolv_conf_parse(dns, DNS_OPTIONS_ALL, "/etc/resolv.conf");
    evdns_base_load_hosts(dns, NULL);
    return dns;
}

/* The reverse listener's TLS context: from CERT,KEY files, or a leaf for a
 * host name signed by the --ca CA. */
static int reverse_tls(proxy_t *px, char *err, size_t errlen)
{
    const char *spec = px->cfg->reverse_tls, *comma = strchr(spec, ',');
    if (comma == NULL) {
        if (px->ca == NULL) {
            snprintf(err, errlen, "a host name needs --ca DIR to sign its certificate (or give CERT,KEY)");
            return -1;
        }
        return (px->reverse_tls = ca_server_ctx(px->ca, spec, err, errlen)) ? 0 : -1;
    }
    char cert[1024];
    if ((size_t)(comma - spec) >= sizeof cert) {
        snprintf(err, errlen, "certificate path too long");
        return -1;
    }
    memcpy(cert, spec, (size_t)(comma - spec));
    cert[comma - spec] = '\0';
    px->reverse_tls = ca_file_server_ctx(cert, comma + 1, px->cfg->h2, err, errlen);
    px->own_reverse_tls = px->reverse_tls != NULL;
    return px->reverse_tls ? 0 : -1;
}

int listener_run(const proxy_config_t *cfg)
{
    runtime_t rt = { 0 };
    proxy_t *px = &rt.px;
    SSL_CTX *up_tls = NULL;
    char err[512];
    int code = 2;
    px->cfg = cfg;
    px->links.next = px->links.prev = &px->links;
    signal(SIGPIPE, SIG_IGN);
    if ((px->base = event_base_new()) == NULL || (px->dns = resolver(px->base)) == NULL) {
        log_error("cannot start the event loop");
        goto out;
    }
    tls_client_opts_t topts = { .insecure = cfg->upstream_insecure, .ca_file = cfg->upstream_ca,
                                .alpn = cfg->upstream_h2 ? tls_alpn_h2_http11 : tls_alpn_http11,
                                .alpn_len = cfg->upstream_h2 ? tls_alpn_h2_http11_len : tls_alpn_http11_len };
    if ((up_tls = tls_client_ctx_new(&topts, err, sizeof err)) == NULL) {
        log_error("--upstream-ca: %s", err);
        goto out;
    }
    px->up_tls = up_tls;
    up_pool_opts_t popts = { .base = px->base, .dns = px->dns, .tls = up_tls, .h2 = cfg->upstream_h2,
                             .timeout_us = cfg->upstream_timeout_us };
    if ((px->pool = up_pool_new(&popts)) == NULL)
        goto out;
    if (cfg->ca_dir && (px->ca = ca_load(cfg->ca_dir, cfg->h2, err, sizeof err)) == NULL) {
        log_error("--ca: %s", err);
        goto out;
    }
    if (cfg->reverse_tls && reverse_tls(px, err, sizeof err) != 0) {
        log_error("--reverse-tls %s: %s", cfg->reverse_tls, err);
        goto out;
    }
    if ((rt.listener = listen_on(&rt)) == NULL)
        goto out;
    if ((px->rec = record_open(&cfg->rec, err, sizeof err)) == NULL) {
        log_error("-o: %s", err);
        goto out;
    }
    if (record_set_loop(px->rec, px->base) != 0)
        log_warn("-o: out of memory: records are written one by one");
    rt.sigint = evsignal_new(px->base, SIGINT, on_signal, &rt);
    rt.sigterm = evsignal_new(px->base, SIGTERM, on_signal, &rt);
    if (!rt.sigint || !rt.sigterm || evsignal_add(rt.sigint, NULL) || evsignal_add(rt.sigterm, NULL))
        goto out;
    if (cfg->stats_interval_us > 0 && (rt.stats = event_new(px->base, -1, EV_PERSIST, on_stats, px))) {
        struct timeval tv = { .tv_sec = (time_t)(cfg->stats_interval_us / 1000000),
                              .tv_usec = (suseconds_t)(cfg->stats_interval_us % 1000000) };
        evtimer_add(rt.stats, &tv);
    }
    char origin[300] = "";
    if (cfg->reverse)
        url_origin(&cfg->reverse_url, origin, sizeof origin);
    /* With port 0 the kernel chose: say which, so a script can use it. */
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    unsigned port = cfg->listen_port;
    if (getsockname(evconnlistener_get_fd(rt.listener), (struct sockaddr *)&bound, &blen) == 0)
        port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                 : ((struct sockaddr_in *)&bound)->sin_port);
    log_info("listening on %s%s%s:%u as a %s%s%s, recording to %s", strchr(cfg->listen_host, ':') ? "[" : "",
             cfg->listen_host, strchr(cfg->listen_host, ':') ? "]" : "", port,
             cfg->reverse ? (px->reverse_tls ? "reverse proxy over TLS for " : "reverse proxy for ")
                          : "forward proxy", origin,
             !cfg->reverse && cfg->ca_dir ? " (TLS interception)" : "", cfg->out_path);
    event_base_dispatch(px->base);
    print_stats(px, "done");
    code = 0;
out:
    if (rt.listener)
        evconnlistener_free(rt.listener);
    while (px->links.next != NULL && px->links.next != &px->links)
        px->links.next->on_abort(px->links.next);
    if (rt.sigint)
        event_free(rt.sigint);
    if (rt.sigterm)
        event_free(rt.sigterm);
    if (rt.stats)
        event_free(rt.stats);
    if (rt.drain_timer)
        event_free(rt.drain_timer);
    if (rt.accept_pause)
        event_free(rt.accept_pause);
    up_pool_free(px->pool);
    if (px->rec && record_close(px->rec) != 0) {
        log_error("%s: the last writes failed", cfg->out_path);
        code = 2;
    }
    if (px->own_reverse_tls)
        SSL_CTX_free(px->reverse_tls);
    ca_free(px->ca);
    SSL_CTX_free(up_tls);
    if (px->dns)
        evdns_base_free(px->dns, 0);
    if (px->base)
        event_base_free(px->base);
    return code;
}

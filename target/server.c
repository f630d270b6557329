#include "server.h"

#include "app.h"
#include "assets.h"
#include "clock.h"
#include "control.h"
#include "counters.h"
#include "faults.h"
#include "sessions.h"
#include "shop.h"
#include "sleeper.h"
#include "web.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX (1024 * 1024)
#define IDLE_TIMEOUT_S 120
#define BACKLOG 4096

struct route {
    const char *method; /* "GET" also takes HEAD */
    const char *path;
    bool prefix;        /* path is a prefix ("/static/") rather than the whole path */
    bool faulty;        /* subject to --delay-ms and --fail-rate */
    web_handler fn;
    const char *key;    /* name in /stats; NULL: not counted */
};

static const struct route routes[] = {
    {"GET", "/", false, false, assets_index, "GET /"},
    {"GET", "/static/", true, false, assets_static, "GET /static/*"},
    {"POST", "/api/login", false, true, shop_login, "POST /api/login"},
    {"GET", "/api/search", false, true, shop_search, "GET /api/search"},
    {"GET", "/api/profile", false, true, shop_profile, "GET /api/profile"},
    {"POST", "/api/cart", false, true, shop_cart, "POST /api/cart"},
    {"GET", "/checkout", false, true, shop_checkout, "GET /checkout"},
    {"POST", "/api/order", false, true, shop_order, "POST /api/order"},
    {"GET", "/api/item/", true, true, shop_item, "GET /api/item/{id}"},
    {"POST", "/api/logout", false, true, shop_logout, "POST /api/logout"},
    {"GET", "/health", false, false, control_health, "GET /health"},
    {"GET", "/download", false, false, shop_download, "GET /download"},
    {"GET", "/redirect", true, false, shop_redirect, "GET /redirect"},
    {"GET", "/stats", false, false, control_stats, NULL},
    {"POST", "/stats/reset", false, false, control_stats_reset, NULL},
    {"POST", "/_control", false, false, control_set, NULL},
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

struct server {
    struct MHD_Daemon *daemon;
    struct sleeper *sleeper;
    struct app app;
    const char *names[N_ROUTES + 1];
    size_t counter_of[N_ROUTES]; /* route -> counter index; SIZE_MAX: not counted */
    size_t other;                /* counter of unrouted requests (404, 405) */
    compress_set_t compress;
    const char *require_name, *require_value;
};

/* Per request, from the first call of the access handler to completion. */
struct req_state {
    bool waited; /* the injected delay is behind us (or there was none) */
    bool too_big;
    char *body;
    size_t len, cap;
};

static bool method_is(const char *method, const char *want)
{
    return !strcmp(method, want) || (!strcmp(want, "GET") && !strcmp(method, "HEAD"));
}

static bool path_is(const struct route *r, const char *path)
{
    return r->prefix ? !strncmp(path, r->path, strlen(r->path)) : !strcmp(path, r->path);
}

/* The route of the request; *path_known tells a 405 from a 404 when NULL. */
static const struct route *route_find(const char *method, const char *path, bool *path_known)
{
    *path_known = false;
    for (size_t i = 0; i < N_ROUTES; i++) {
        if (!path_is(&routes[i], path))
            continue;
        *path_known = true;
        if (method_is(method, routes[i].method))
            return &routes[i];
    }
    return NULL;
}

static void body_append(struct req_state *st, const char *data, size_t len)
{
    if (st->too_big || st->len + len > BODY_MAX) {
        st->too_big = true;
        return;
    }
    if (st->len + len + 1 > st->cap) {
        size_t cap = st->cap ? st->cap : 1024;
        while (cap < st->len + len + 1)
            cap *= 2;
        char *b = realloc(st->body, cap);
        if (!b) {
            st->too_big = true;
            return;
        }
        st->body = b;
        st->cap = cap;
    }
    memcpy(st->body + st->len, data, len);
    st->len += len;
    st->body[st->len] = '\0';
}

static enum MHD_Result respond(struct server *s, struct MHD_Connection *conn, size_t counter,
                               unsigned status, struct MHD_Response *resp)
{
    if (!resp)
        return MHD_NO;
    enum MHD_Result rc = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    if (counter != SIZE_MAX)
        counters_add(s->app.counters, counter, status);
    return rc;
}

static enum MHD_Result on_unrouted(struct server *s, struct MHD_Connection *conn, bool path_known)
{
    struct MHD_Response *r = web_error(path_known ? "method not allowed" : "not found");
    return respond(s, conn, s->other, path_known ? MHD_HTTP_METHOD_NOT_ALLOWED : MHD_HTTP_NOT_FOUND, r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct server *s = cls;
    struct req_state *st = *con_cls;
    (void)version;

    /* First call: headers only. The body (if any) arrives in later calls; the
     * last call, with no data, is where the request is answered. */
    if (!st) {
        st = calloc(1, sizeof(*st));
        if (!st)
            return MHD_NO;
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_data_size) {
        body_append(st, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }

    bool path_known;
    const struct route *r = route_find(method, url, &path_known);
    if (!r)
        return on_unrouted(s, conn, path_known);
    size_t counter = s->counter_of[r - routes];
    if (s->require_name && counter != SIZE_MAX) { /* /stats and /_control stay open */
        const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, s->require_name);
        if (!v || strcmp(v, s->require_value) != 0)
            return respond(s, conn, counter, MHD_HTTP_FORBIDDEN,
                           web_error("missing or wrong required header (--require-header)"));
    }

    if (r->faulty && !st->waited) {
        uint64_t delay = faults_pick_delay_us(s->app.faults);
        st->waited = true;
        if (delay) {
            /* Called again with the same state once the sleeper resumes us. */
            MHD_suspend_connection(conn);
            sleeper_add(s->sleeper, clk_mono_us() + delay, conn);
            return MHD_YES;
        }
    }
    if (r->faulty && faults_roll_fail(s->app.faults))
        return respond(s, conn, counter, MHD_HTTP_INTERNAL_SERVER_ERROR,
                       web_error("injected failure (--fail-rate)"));
    if (st->too_big)
        return respond(s, conn, counter, MHD_HTTP_CONTENT_TOO_LARGE,
                       web_error("request body larger than 1 MiB"));

    struct web_req req = {conn, method, url, st->body ? st->body : "", st->len, &s->app};
    struct MHD_Response *resp = NULL;
    bool coded = r->faulty && s->compress.n;
    if (coded)
        web_set_coding(compress_pick(&s->compress, web_header(&req, MHD_HTTP_HEADER_ACCEPT_ENCODING)));
    unsigned status = r->fn(&req, &resp);
    web_set_coding(COMPRESS_NONE);
    if (coded && resp && MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding") != MHD_YES) {
        MHD_destroy_response(resp);
        resp = NULL;
    }
    return respond(s, conn, counter, status, resp);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct req_state *st = *con_cls;
    (void)cls;
    (void)conn;
    (void)toe;
    if (st) {
        free(st->body);
        free(st);
        *con_cls = NULL;
    }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    if (*(const bool *)cls)
        return;
    fputs("aiotest-target: libmicrohttpd: ", stderr);
    vfprintf(stderr, fmt, ap);
}

static const bool quiet_on = true, quiet_off = false;

/* Fills addr from cfg; returns its length, or 0 when bind is not a numeric address. */
static socklen_t make_addr(const struct server_config *cfg, struct sockaddr_storage *addr,
                           bool *v6)
{
    struct sockaddr_in *a4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
    memset(addr, 0, sizeof(*addr));
    *v6 = false;
    if (inet_pton(AF_INET, cfg->bind, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)cfg->port);
        return sizeof(*a4);
    }
    if (inet_pton(AF_INET6, cfg->bind, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)cfg->port);
        *v6 = true;
        return sizeof(*a6);
    }
    return 0;
}

static void init_counters_names(struct server *s)
{
    size_t n = 0;
    for (size_t i = 0; i < N_ROUTES; i++) {
        s->counter_of[i] = routes[i].key ? n : SIZE_MAX;
        if (routes[i].key)
            s->names[n++] = routes[i].key;
    }
    s->other = n;
    s->names[n] = "other";
}

static struct MHD_Daemon *start_daemon(struct server *s, const struct server_config *cfg,
                                       char *err, size_t errlen)
{
    struct sockaddr_storage addr;
    bool v6;
    if (!make_addr(cfg, &addr, &v6)) {
        snprintf(err, errlen, "bind address '%s' is not a numeric IPv4 or IPv6 address", cfg->bind);
        return NULL;
    }
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (v6)
        flags |= MHD_USE_IPv6;
    struct MHD_OptionItem ops[16];
    size_t n = 0;
    /* The logger first, or MHD prints the messages about earlier options itself. */
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log,
                                       (void *)(cfg->quiet ? &quiet_on : &quiet_off)};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &addr};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, cfg->max_conns, NULL};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, IDLE_TIMEOUT_S, NULL};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_BACKLOG_SIZE, BACKLOG, NULL};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL};
    if (cfg->threads > 1)
        ops[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, NULL};
    if (cfg->tls_cert_pem) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            snprintf(err, errlen, "--tls: this libmicrohttpd was built without TLS support");
            return NULL;
        }
        flags |= MHD_USE_TLS;
        ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cfg->tls_cert_pem};
        ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)cfg->tls_key_pem};
    }
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

    struct MHD_Daemon *d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                                            MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
    if (!d)
        snprintf(err, errlen, "cannot listen on %s port %u%s (address in use, or a bad TLS "
                 "certificate or key; see the message above)", cfg->bind, cfg->port,
                 cfg->tls_cert_pem ? " with TLS" : "");
    return d;
}

struct server *server_start(const struct server_config *cfg, char *err, size_t errlen)
{
    struct server *s = calloc(1, sizeof(*s));
    if (!s)
        goto oom;
    init_counters_names(s);
    s->compress = cfg->compress;
    s->app.counters = counters_new(s->names, s->other + 1);
    s->app.sessions = sessions_new(cfg->max_sessions);
    s->app.faults = faults_new();
    s->sleeper = sleeper_new();
    if (!s->app.counters || !s->app.sessions || !s->app.faults || !s->sleeper)
        goto oom;
    faults_set_delay(s->app.faults, cfg->delay_min_ms, cfg->delay_max_ms);
    faults_set_fail_rate(s->app.faults, cfg->fail_rate);
    s->require_name = cfg->require_name;
    s->require_value = cfg->require_value;
    s->daemon = start_daemon(s, cfg, err, errlen);
    if (!s->daemon)
        goto fail;
    return s;

oom:
    snprintf(err, errlen, "out of memory (or no thread) while starting");
fail:
    server_stop(s);
    return NULL;
}

unsigned server_port(const struct server *s)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

void server_stop(struct server *s)
{
    if (!s)
        return;
    /* MHD must not find suspended connections when it stops: answer them first. */
    if (s->sleeper)
        sleeper_drain(s->sleeper);
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    sleeper_free(s->sleeper);
    faults_free(s->app.faults);
    sessions_free(s->app.sessions);
    counters_free(s->app.counters);
    free(s);
}

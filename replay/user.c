/* user: the virtual user state machine (see user.h). */
#include "user.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "clock.h"
#include "cookies.h"

enum phase { PH_NEW = 0, PH_START, PH_TASKS, PH_IDLE, PH_STOP, PH_DONE };
/* What the user's timer is armed for. */
enum wait { W_NONE = 0, W_THINK, W_REQUEST };

#define MAX_REDIRECTS 10
/* Below this think time connection buffers are kept for the next request. */
#define TRIM_AFTER_US 50000

typedef struct user_conn {
    const plan_origin_t *origin;
    uint32_t slot;                /* 0; more HTTP/1.1 connections serve parallel steps */
    conn_t *conn;
} user_conn_t;

/* One request and its redirect chain: the request of a serial step, or one
 * request of a parallel step. */
typedef struct flight {
    xch_t x;                      /* x.owner is the flight */
    user_t *u;
    const plan_req_t *req;        /* NULL when not in flight */
    const plan_origin_t *origin;  /* its origin (a redirect may change it) */
    char *redirect_path;          /* path of a redirect hop, NULL otherwise */
    const char *method;           /* a redirect may turn POST into GET */
    uint64_t acc_sent, acc_recv;  /* bytes of earlier hops of a redirect chain */
    uint8_t redirects;
    bool retried, in_submit;
    bool deferred;                /* ends from the loop (kick) with deferred_fail */
    stats_fail_t deferred_fail;
} flight_t;

struct user {
    user_env_t *env;
    uint64_t id;
    uint32_t cls;
    uint8_t phase, wait;
    bool stopping, pooled, first_of_iter;
    uint32_t step, ireq;
    uint64_t iters;
    uint64_t sched_us;            /* open model: when the current iteration was due */
    uint64_t due_us;              /* W_REQUEST: when the timeout is due (precise clock) */
    struct event timer;           /* think time, or the request (or parallel step) timeout */
    struct event kick;            /* ends deferred flights from the loop */
    tpl_vars_t *vars;
    cookie_jar_t *jar;            /* NULL until the first cookie */
    user_conn_t *conns;
    size_t n_conns;
    flight_t one;                 /* serial steps */
    flight_t *group;              /* parallel steps: group_cap flights, n_group in use */
    uint32_t group_cap, n_group, group_left;
    uint32_t group_gen;           /* bumped per parallel step: loops over one step stop at the next */
};

static void run(user_t *u);
static void finish(flight_t *f, const resp_view_t *resp, stats_fail_t fail);
static int render(xch_t *x, req_view_t *rv);
static void on_done(xch_t *x, const resp_view_t *resp, stats_fail_t fail);
static void on_negotiated(conn_t *c, void *owner);

int user_env_init(user_env_t *env, const plan_t *plan, struct event_base *base, stats_t *stats,
                  uint64_t seed)
{
    memset(env, 0, sizeof *env);
    if (conn_env_init(&env->conn, base) != 0)
        return -1;
    env->conn.render = render;
    env->conn.on_done = on_done;
    env->conn.on_negotiated = on_negotiated;
    env->plan = plan;
    env->stats = stats;
    env->rng = seed ? seed : 0x9E3779B97F4A7C15ull;
    env->think_scale = 1.0;
    return 0;
}

void user_env_fini(user_env_t *env)
{
    conn_env_fini(&env->conn);
    free(env->s_path);
    free(env->s_hdrs);
    free(env->s_cookie);
    free(env->s_body);
    for (size_t i = 0; i < env->n_extra; i++)
        free(env->extra[i]);
    free(env->extra);
}

uint64_t user_id(const user_t *u) { return u->id; }
uint32_t user_class(const user_t *u) { return u->cls; }
bool user_done(const user_t *u) { return u->phase == PH_DONE; }

size_t user_memory(const user_t *u)
{
    size_t n = sizeof *u + u->n_conns * (sizeof(user_conn_t) + 512) +
               u->group_cap * sizeof(flight_t);
    n += tpl_vars_size(u->vars);
    if (u->jar)
        n += cookie_jar_size(u->jar);
    return n;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg);
static void kick_cb(evutil_socket_t fd, short what, void *arg);

user_t *user_new(user_env_t *env, uint64_t id, uint32_t cls, bool pooled)
{
    const plan_t *p = env->plan;
    user_t *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->env = env;
    u->id = id;
    u->cls = cls;
    u->pooled = pooled;
    u->vars = tpl_vars_new(tpl_symtab_count(p->symtab));
    if (!u->vars)
        goto fail;
    for (size_t i = 0; i < p->n_init; i++)
        if (tpl_vars_set(u->vars, (size_t)p->init[i].sym, p->init[i].value,
                         strlen(p->init[i].value)) != 0)
            goto fail;
    for (size_t i = 0; i < p->n_csv; i++)
        if (csvdata_bind(p->csv[i], (size_t)id, u->vars) != 0)
            goto fail;
    evtimer_assign(&u->timer, env->conn.base, timer_cb, u);
    event_assign(&u->kick, env->conn.base, -1, 0, kick_cb, u);
    u->one.u = u;
    u->one.x.owner = &u->one;
    return u;
fail:
    tpl_vars_free(u->vars);
    free(u);
    return NULL;
}

void user_free(user_t *u)
{
    if (!u)
        return;
    evtimer_del(&u->timer);
    event_del(&u->kick);
    for (size_t i = 0; i < u->n_conns; i++)
        conn_free(u->conns[i].conn);
    free(u->conns);
    free(u->one.redirect_path);
    for (uint32_t i = 0; i < u->group_cap; i++)
        free(u->group[i].redirect_path);
    free(u->group);
    cookie_jar_free(u->jar);
    tpl_vars_free(u->vars);
    free(u);
}

/* ---- waits */

static uint64_t scaled(const user_t *u, uint64_t us)
{
    return (uint64_t)((double)us * u->env->think_scale);
}

static uint64_t wait_after(user_t *u, const plan_step_t *st, bool last_task)
{
    if (u->stopping || (u->pooled && last_task))
        return 0;
    const scn_wait_t *w = &u->env->plan->classes[u->cls].wait;
    switch (w->kind) {
    case SCN_WAIT_RECORDED:
        return scaled(u, st->think_us);
    case SCN_WAIT_CONSTANT:
        return u->phase == PH_TASKS ? scaled(u, w->min_us) : 0;
    case SCN_WAIT_BETWEEN:
        if (u->phase != PH_TASKS)
            return 0;
        return scaled(u, w->min_us + (w->max_us > w->min_us
                                          ? tpl_rand(&u->env->rng) % (w->max_us - w->min_us + 1)
                                          : 0));
    default:
        return 0;
    }
}

static void arm(user_t *u, enum wait what, uint64_t us)
{
    u->wait = (uint8_t)what;
    struct timeval tv = {(time_t)(us / 1000000), (suseconds_t)(us % 1000000)};
    evtimer_add(&u->timer, &tv);
}

static void think(user_t *u, uint64_t us)
{
    if (us >= TRIM_AFTER_US)
        for (size_t i = 0; i < u->n_conns; i++)
            conn_trim(u->conns[i].conn);
    arm(u, W_THINK, us);
}

/* ---- phases */

static const plan_steps_t *phase_steps(const user_t *u)
{
    const plan_class_t *c = &u->env->plan->classes[u->cls];
    switch (u->phase) {
    case PH_START: return &c->on_start;
    case PH_TASKS: return &c->tasks;
    case PH_STOP: return &c->on_stop;
    default: return NULL;
    }
}

static void enter(user_t *u, enum phase ph)
{
    u->phase = (uint8_t)ph;
    u->step = u->ireq = 0;
    if (ph == PH_TASKS)
        stats_iteration(u->env->stats, false);
}

/* The phase's steps are over: move on. Returns false when the user stops
 * running (DONE, or idle in the pool). */
static bool phase_over(user_t *u)
{
    user_env_t *env = u->env;
    switch (u->phase) {
    case PH_START:
        if (u->stopping) {
            enter(u, PH_STOP);
            return true;
        }
        if (u->pooled && !u->first_of_iter) {
            /* Warmed ahead of the schedule (user_warm): free for an iteration. */
            u->phase = PH_IDLE;
            env->on_idle(u, env->arg);
            return false;
        }
        enter(u, PH_TASKS);
        return true;
    case PH_TASKS:
        stats_iteration(env->stats, true);
        u->iters++;
        if (u->stopping || (!u->pooled && env->iterations && u->iters >= env->iterations)) {
            enter(u, PH_STOP);
            return true;
        }
        if (u->pooled) {
            u->phase = PH_IDLE;
            for (size_t i = 0; i < u->n_conns; i++)
                conn_trim(u->conns[i].conn);
            env->on_idle(u, env->arg);
            return false;
        }
        enter(u, PH_TASKS);
        return true;
    case PH_STOP:
        u->phase = PH_DONE;
        env->on_end(u, env->arg);
        return false;
    default:
        return false;
    }
}

static conn_t *conn_for(user_t *u, const plan_origin_t *o, uint32_t slot)
{
    for (size_t i = 0; i < u->n_conns; i++)
        if (u->conns[i].origin == o && u->conns[i].slot == slot)
            return u->conns[i].conn;
    user_conn_t *v = realloc(u->conns, (u->n_conns + 1) * sizeof *v);
    if (!v)
        return NULL;
    u->conns = v;
    conn_t *c = conn_new(&u->env->conn, o);
    if (!c)
        return NULL;
    conn_set_owner(c, u);
    u->conns[u->n_conns++] = (user_conn_t){o, slot, c};
    return c;
}

/* The connection for f: slot 0 for serial steps and for h2 (streams of one
 * connection); in a parallel step over HTTP/1.1, the k-th request to an origin
 * takes connection k modulo --max-conns-per-host, as browsers spread a page. */
static conn_t *conn_of_flight(user_t *u, flight_t *f)
{
    conn_t *c0 = conn_for(u, f->origin, 0);
    if (f == &u->one || !c0 || conn_multiplexed(c0))
        return c0;
    uint32_t k = 0;
    for (flight_t *g = u->group; g < f; g++)
        if (g->origin == f->origin)
            k++;
    uint32_t maxc = u->env->plan->max_conns_per_host ? u->env->plan->max_conns_per_host : 6;
    return k % maxc ? conn_for(u, f->origin, k % maxc) : c0;
}

/* A first connection to an https:// origin is expected to be h2, so a parallel
 * step waits on it whole; when ALPN gave HTTP/1.1 instead, the step is
 * spread over the origin's connections before anything was sent. */
static void on_negotiated(conn_t *c, void *owner)
{
    user_t *u = owner;
    if (conn_multiplexed(c) || !u->group_left)
        return;
    for (uint32_t i = 0, gen = u->group_gen; i < u->n_group && u->group_gen == gen; i++) {
        flight_t *f = &u->group[i];
        if (!f->req || f->x.conn != c)
            continue;
        conn_t *t = conn_of_flight(u, f);
        if (!t || t == c)
            continue;
        conn_cancel(c, &f->x);
        f->in_submit = true;
        conn_submit(t, &f->x);
        f->in_submit = false;
    }
}

/* ---- rendering into the thread's buffers */

static tpl_ctx_t ctx_of(user_t *u)
{
    return (tpl_ctx_t){.vars = u->vars, .user_id = u->id, .rng = &u->env->rng};
}

/* Expands t into *buf (grown as needed). Returns the length or -1. */
static long expand(user_t *u, const tpl_t *t, char **buf, size_t *cap)
{
    tpl_ctx_t ctx = ctx_of(u);
    size_t n = tpl_expand_buf(t, &ctx, *buf, *cap);
    if (n + 1 > *cap) {
        size_t nc = *cap ? *cap : 256;
        while (nc < n + 1)
            nc *= 2;
        char *p = realloc(*buf, nc);
        if (!p)
            return -1;
        *buf = p;
        *cap = nc;
        n = tpl_expand_buf(t, &ctx, *buf, *cap);
    }
    return (long)n;
}

/* Text of t: the literal itself, or its expansion into *buf. */
static const char *text_of(user_t *u, const tpl_t *t, char **buf, size_t *cap, size_t *len)
{
    const char *lit = tpl_literal(t, len);
    if (lit)
        return lit;
    long n = expand(u, t, buf, cap);
    if (n < 0)
        return NULL;
    *len = (size_t)n;
    return *buf;
}

/* Origin of an expanded absolute URL: the plan's, or one this thread added. */
static const plan_origin_t *origin_of_url(user_env_t *env, const char *url, const char **path)
{
    url_t u;
    char err[256];
    if (url_parse(url, &u, err, sizeof err) != 0)
        return NULL;
    *path = u.path;
    int i = plan_origin_find(env->plan, &u);
    if (i >= 0)
        return &env->plan->origins[i];
    for (size_t k = 0; k < env->n_extra; k++)
        if (env->extra[k]->url.tls == u.tls && env->extra[k]->url.port == u.port &&
            strcasecmp(env->extra[k]->url.host, u.host) == 0)
            return env->extra[k];
    plan_origin_t **v = realloc(env->extra, (env->n_extra + 1) * sizeof *v);
    if (!v)
        return NULL;
    env->extra = v;
    plan_origin_t *o = malloc(sizeof *o);
    if (!o || plan_origin_init(o, url, err, sizeof err) != 0) {
        free(o);
        return NULL;
    }
    plan_origin_force(env->plan, o);
    env->extra[env->n_extra++] = o;
    return o;
}

/* Path of f's request (NUL-terminated). */
static const char *path_of(flight_t *f, size_t *len)
{
    user_t *u = f->u;
    user_env_t *env = u->env;
    if (f->redirect_path) {
        *len = strlen(f->redirect_path);
        return f->redirect_path;
    }
    if (f->req->origin >= 0) {
        long n = expand(u, f->req->url, &env->s_path, &env->s_path_cap);
        *len = n < 0 ? 0 : (size_t)n;
        return n < 0 ? NULL : env->s_path;
    }
    if (expand(u, f->req->url, &env->s_path, &env->s_path_cap) < 0)
        return NULL;
    const char *path = NULL;
    if (!origin_of_url(env, env->s_path, &path))
        return NULL;
    *len = strlen(path);
    return path;
}

/* The cookie jar wants the path without its query. */
static const char *cookie_path(user_t *u, const char *path, size_t len)
{
    size_t n = strcspn(path, "?");
    if (n > len)
        n = len;
    user_env_t *env = u->env;
    if (n + 1 > env->s_cookie_cap) {
        char *p = realloc(env->s_cookie, n + 256);
        if (!p)
            return "/";
        env->s_cookie = p;
        env->s_cookie_cap = n + 256;
    }
    memmove(env->s_cookie, path, n);
    env->s_cookie[n] = '\0';
    return env->s_cookie;
}

static int render(xch_t *x, req_view_t *rv)
{
    flight_t *f = x->owner;
    user_t *u = f->u;
    user_env_t *env = u->env;
    const plan_req_t *r = f->req;
    bool plain = !f->redirect_path && f->method == r->src->method;
    memset(rv, 0, sizeof *rv);
    rv->method = f->method;
    rv->method_len = strlen(f->method);
    rv->head = strcasecmp(f->method, "HEAD") == 0;
    rv->authority = f->origin->host_hdr;
    rv->authority_len = f->origin->host_hdr_len;

    if (plain && r->h1_bytes && (!u->jar || cookie_jar_count(u->jar) == 0)) {
        rv->h1_bytes = r->h1_bytes;
        rv->h1_len = r->h1_len;
    }
    if (f->redirect_path) {
        rv->path = f->redirect_path;
        rv->path_len = strlen(f->redirect_path);
    } else if (r->origin >= 0) {
        rv->path = text_of(u, r->url, &env->s_path, &env->s_path_cap, &rv->path_len);
    } else {
        rv->path = path_of(f, &rv->path_len);
    }
    if (!rv->path)
        return -1;
    if (r->headers) {
        rv->headers = text_of(u, r->headers, &env->s_hdrs, &env->s_hdrs_cap, &rv->headers_len);
        if (!rv->headers)
            return -1;
    }
    if (u->jar && cookie_jar_count(u->jar)) {
        char path[2048];
        size_t pl = strcspn(rv->path, "?");
        if (pl > rv->path_len)
            pl = rv->path_len;
        if (pl >= sizeof path)
            pl = sizeof path - 1;
        memcpy(path, rv->path, pl);
        path[pl] = '\0';
        int64_t now_s = clk_wall_us() / 1000000;
        size_t n = cookie_jar_header(u->jar, f->origin->url.host, path, f->origin->url.tls, now_s,
                                     env->s_cookie, env->s_cookie_cap);
        if (n + 1 > env->s_cookie_cap) {
            char *p = realloc(env->s_cookie, n + 256);
            if (!p)
                return -1;
            env->s_cookie = p;
            env->s_cookie_cap = n + 256;
            n = cookie_jar_header(u->jar, f->origin->url.host, path, f->origin->url.tls, now_s,
                                  env->s_cookie, env->s_cookie_cap);
        }
        if (n) {
            rv->cookie = env->s_cookie;
            rv->cookie_len = n;
        }
    }
    if (f->method == r->src->method) {
        rv->has_body = r->has_body;
        if (r->body) {
            rv->body = text_of(u, r->body, &env->s_body, &env->s_body_cap, &rv->body_len);
            if (!rv->body)
                return -1;
        }
    }
    return 0;
}

/* ---- requests */

/* f ends from the loop with fail: conn_submit may end an exchange inside the
 * call (refused at once), and a dead server would otherwise turn the task
 * loop into recursion. */
static void defer(flight_t *f, stats_fail_t fail)
{
    f->deferred = true;
    f->deferred_fail = fail;
    event_active(&f->u->kick, EV_TIMEOUT, 1);
}


/* Arms the request (or parallel step) timeout. libevent keeps time with the
 * coarse monotonic clock (a few ms of resolution), so its timer may fire a
 * little early: the precise due time is kept, and timer_cb waits out the rest. */
static void arm_timeout(user_t *u)
{
    u->wait = W_REQUEST;
    u->due_us = clk_mono_us() + u->env->timeout_us;
    evtimer_add(&u->timer, u->env->timeout_tv);
}

static void submit(flight_t *f)
{
    user_t *u = f->u;
    conn_t *c = conn_of_flight(u, f);
    if (!c) {
        defer(f, STATS_FAIL_PROTOCOL);
        return;
    }
    /* A parallel step has one timeout, armed when it starts. */
    if (u->env->timeout_tv && f == &u->one)
        arm_timeout(u);
    f->in_submit = true;
    conn_submit(c, &f->x);
    f->in_submit = false;
}

static void start_request(flight_t *f, const plan_req_t *r, uint64_t start_us)
{
    user_t *u = f->u;
    user_env_t *env = u->env;
    f->req = r;
    f->retried = f->deferred = false;
    f->redirects = 0;
    f->acc_sent = f->acc_recv = 0;
    free(f->redirect_path);
    f->redirect_path = NULL;
    f->method = r->src->method;
    f->x.owner = f;
    f->x.want_body = r->needs_body;
    f->x.proto = STATS_PROTO_H1;
    f->x.bytes_sent = f->x.bytes_received = 0;
    f->x.start_us = start_us;
    if (r->origin >= 0) {
        f->origin = &env->plan->origins[r->origin];
    } else {
        const char *path;
        f->origin = NULL;
        if (expand(u, r->url, &env->s_path, &env->s_path_cap) >= 0)
            f->origin = origin_of_url(env, env->s_path, &path);
        if (!f->origin) {
            defer(f, STATS_FAIL_PROTOCOL); /* counted like any failed request */
            return;
        }
    }
    submit(f);
}

/* Latency origin of the next request: the scheduled start for the first
 * request of an open-model iteration. */
static uint64_t start_time(user_t *u)
{
    /* Only a task request: an iteration given to a new user waits for its
     * on_start (and that step's think time), and the wait is the iteration's. */
    if (u->phase != PH_TASKS)
        return clk_mono_us();
    uint64_t t = u->first_of_iter && u->sched_us ? u->sched_us : clk_mono_us();
    u->first_of_iter = false;
    return t;
}

/* A parallel step: every request starts now; the step ends when all ended. */
static void start_group(user_t *u, const plan_step_t *st)
{
    if (st->n > u->group_cap) {
        flight_t *v = realloc(u->group, st->n * sizeof *v);
        if (!v) {
            u->ireq = (uint32_t)st->n; /* skipped: counted nowhere, but the user goes on */
            event_active(&u->kick, EV_TIMEOUT, 1);
            return;
        }
        memset(v + u->group_cap, 0, (st->n - u->group_cap) * sizeof *v);
        u->group = v;
        u->group_cap = (uint32_t)st->n;
        for (uint32_t i = 0; i < u->group_cap; i++) {
            u->group[i].u = u;
            u->group[i].x.owner = &u->group[i];
        }
    }
    u->n_group = u->group_left = (uint32_t)st->n;
    u->ireq = (uint32_t)st->n;
    u->group_gen++;
    if (u->env->timeout_tv)
        arm_timeout(u);
    uint64_t t = start_time(u);
    for (uint32_t i = 0; i < st->n; i++)
        start_request(&u->group[i], &st->reqs[i], t);
}

static const char *header_get(const resp_view_t *r, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < r->n_headers; i++)
        if (r->headers[i].name_len == nl && strncasecmp(r->headers[i].name, name, nl) == 0) {
            *len = r->headers[i].value_len;
            return r->headers[i].value;
        }
    return NULL;
}

static void store_cookies(flight_t *f, const resp_view_t *resp)
{
    user_t *u = f->u;
    const char *path = NULL;
    int64_t now_s = 0;
    for (size_t i = 0; i < resp->n_headers; i++) {
        const resp_header_t *h = &resp->headers[i];
        if (h->name_len != 10 || strncasecmp(h->name, "set-cookie", 10) != 0)
            continue;
        if (!path) {
            size_t len = 0;
            const char *p = path_of(f, &len);
            path = p ? cookie_path(u, p, len) : "/";
            now_s = clk_wall_us() / 1000000;
        }
        if (!u->jar && !(u->jar = cookie_jar_new()))
            return;
        cookie_jar_set(u->jar, h->value, h->value_len, f->origin->url.host, path,
                       f->origin->url.tls, now_s);
    }
}

/* Follows a redirect when the request asks for it. True when a new hop started. */
static bool follow(flight_t *f, const resp_view_t *resp)
{
    user_t *u = f->u;
    int s = resp->status;
    if (!f->req->src->follow_redirects || f->redirects >= MAX_REDIRECTS ||
        (s != 301 && s != 302 && s != 303 && s != 307 && s != 308))
        return false;
    size_t len;
    const char *loc = header_get(resp, "location", &len);
    if (!loc || len == 0)
        return false;
    char *target = malloc(len + 2);
    if (!target)
        return false;
    const plan_origin_t *o = f->origin;
    const char *path = target;
    if (loc[0] == '/') {
        memcpy(target, loc, len);
        target[len] = '\0';
    } else if (memmem(loc, len, "://", 3)) {
        memcpy(target, loc, len);
        target[len] = '\0';
        o = origin_of_url(u->env, target, &path);
        if (!o) {
            free(target);
            return false;
        }
    } else {
        target[0] = '/'; /* relative reference: taken from the root */
        memcpy(target + 1, loc, len);
        target[len + 1] = '\0';
    }
    char *p = strdup(path);
    free(target);
    if (!p)
        return false;
    free(f->redirect_path);
    f->redirect_path = p;
    f->origin = o;
    if (s == 303 || ((s == 301 || s == 302) && strcasecmp(f->method, "POST") == 0))
        if (strcasecmp(f->method, "HEAD") != 0)
            f->method = "GET";
    f->redirects++;
    f->acc_sent += f->x.bytes_sent;
    f->acc_recv += f->x.bytes_received;
    f->retried = false;
    submit(f);
    return true;
}

static bool in_flight(const user_t *u)
{
    return u->one.req || u->group_left;
}

static void finish(flight_t *f, const resp_view_t *resp, stats_fail_t fail)
{
    user_t *u = f->u;
    user_env_t *env = u->env;
    const plan_req_t *r = f->req;
    bool serial = f == &u->one;
    f->deferred = false;
    if (serial) {
        if (u->wait == W_REQUEST)
            evtimer_del(&u->timer);
        u->wait = W_NONE;
    }
    if (!resp && f->x.retryable && !f->retried &&
        (fail == STATS_FAIL_RESET || fail == STATS_FAIL_H2_GOAWAY || fail == STATS_FAIL_H2_RST)) {
        /* Not processed by the server (kept-alive socket closed, stream
         * refused, GOAWAY): resend once. */
        f->retried = true;
        submit(f);
        return;
    }
    if (resp) {
        store_cookies(f, resp);
        if (follow(f, resp))
            return;
        fail = check_eval(&r->src->check, resp);
        for (size_t i = 0; i < r->n_ext; i++)
            if (ext_apply(r->ext[i], resp, u->vars) != 0 && fail == STATS_OK)
                fail = STATS_FAIL_EXTRACT;
    }
    uint64_t now = clk_mono_us();
    stats_record(env->stats, r->entry, f->x.proto, resp ? resp->status : 0, fail,
                 now > f->x.start_us ? now - f->x.start_us : 0, f->acc_sent + f->x.bytes_sent,
                 f->acc_recv + f->x.bytes_received);
    f->req = NULL;
    if (serial) {
        u->ireq++;
    } else {
        if (--u->group_left)
            return; /* the step ends with its last request */
        if (u->wait == W_REQUEST)
            evtimer_del(&u->timer);
        u->wait = W_NONE;
    }
    if (u->stopping && (u->phase == PH_START || u->phase == PH_TASKS))
        enter(u, PH_STOP);
    run(u);
}

static void on_done(xch_t *x, const resp_view_t *resp, stats_fail_t fail)
{
    flight_t *f = x->owner;
    if (f->in_submit) {
        defer(f, fail);
        return;
    }
    finish(f, resp, fail);
}

/* Ends the flights deferred so far (new ones re-arm the kick: one round per
 * loop pass, so a dead server cannot keep the loop here). */
static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    user_t *u = arg;
    if (u->one.deferred && u->one.req) {
        finish(&u->one, NULL, u->one.deferred_fail);
        return;
    }
    uint32_t n = u->n_group, gen = u->group_gen;
    for (uint32_t i = 0; i < n && u->group_gen == gen && u->group_left; i++)
        if (u->group[i].deferred && u->group[i].req)
            finish(&u->group[i], NULL, u->group[i].deferred_fail);
    /* start_group could not allocate: the step is skipped. */
    if (!in_flight(u) && u->wait == W_NONE && u->phase != PH_IDLE && u->phase != PH_DONE &&
        u->phase != PH_NEW)
        run(u);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    user_t *u = arg;
    enum wait w = (enum wait)u->wait;
    if (w == W_REQUEST) {
        uint64_t now = clk_mono_us();
        if (now < u->due_us) {
            struct timeval rest = {(time_t)((u->due_us - now) / 1000000u),
                                   (suseconds_t)((u->due_us - now) % 1000000u)};
            evtimer_add(&u->timer, &rest);
            return;
        }
    }
    u->wait = W_NONE;
    switch (w) {
    case W_THINK:
        run(u);
        return;
    case W_REQUEST:
        if (u->one.req) {
            if (u->one.x.conn)
                conn_cancel(u->one.x.conn, &u->one.x);
            finish(&u->one, NULL, STATS_FAIL_TIMEOUT);
            return;
        }
        /* A parallel step timed out: withdraw everything first, then end each. */
        for (uint32_t i = 0; i < u->n_group; i++)
            if (u->group[i].req && u->group[i].x.conn)
                conn_cancel(u->group[i].x.conn, &u->group[i].x);
        for (uint32_t i = 0, n = u->n_group, gen = u->group_gen;
             i < n && u->group_gen == gen && u->group_left; i++)
            if (u->group[i].req)
                finish(&u->group[i], NULL, STATS_FAIL_TIMEOUT);
        return;
    default:
        return;
    }
}

/* Starts the next request, or waits, or changes phase, until something is armed. */
static void run(user_t *u)
{
    for (;;) {
        const plan_steps_t *steps = phase_steps(u);
        if (!steps)
            return;
        if (u->step < steps->n) {
            const plan_step_t *st = &steps->v[u->step];
            if (u->ireq < st->n) {
                if (st->parallel && st->n > 1)
                    start_group(u, st);
                else
                    start_request(&u->one, &st->reqs[u->ireq], start_time(u));
                return;
            }
            u->step++;
            u->ireq = 0;
            uint64_t w = wait_after(u, st, u->phase == PH_TASKS && u->step == steps->n);
            if (w) {
                think(u, w);
                return;
            }
            continue;
        }
        if (!phase_over(u))
            return;
    }
}

void user_start(user_t *u)
{
    if (u->phase != PH_NEW)
        return;
    enter(u, PH_START);
    run(u);
}

void user_iteration(user_t *u, uint64_t sched_us)
{
    u->sched_us = sched_us;
    u->first_of_iter = true;
    if (u->phase == PH_NEW)
        enter(u, PH_START);
    else if (u->phase == PH_IDLE)
        enter(u, PH_TASKS);
    else
        return;
    run(u);
}

void user_warm(user_t *u)
{
    if (u->phase != PH_NEW || !u->pooled)
        return;
    u->first_of_iter = false;
    enter(u, PH_START);
    run(u);
}

uint64_t user_iterations(const user_t *u) { return u->iters; }

void user_stop(user_t *u)
{
    if (u->stopping || u->phase == PH_STOP || u->phase == PH_DONE)
        return;
    u->stopping = true;
    if (u->phase == PH_NEW) {
        /* Never started: no on_start ran, so no on_stop either. */
        u->phase = PH_DONE;
        u->env->on_end(u, u->env->arg);
        return;
    }
    if (in_flight(u))
        return; /* the requests in flight finish first (finish() moves on) */
    if (u->wait == W_THINK)
        evtimer_del(&u->timer);
    u->wait = W_NONE;
    enter(u, PH_STOP);
    run(u);
}

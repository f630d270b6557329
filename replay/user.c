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
/* What the user's one timer is armed for. */
enum wait { W_NONE = 0, W_THINK, W_REQUEST, W_DEFER };

#define MAX_REDIRECTS 10
/* Below this think time connection buffers are kept for the next request. */
#define TRIM_AFTER_US 50000

typedef struct user_conn {
    const plan_origin_t *origin;
    conn_t *conn;
} user_conn_t;

struct user {
    user_env_t *env;
    uint64_t id;
    uint32_t cls;
    uint8_t phase, wait;
    bool stopping, pooled, first_of_iter, retried;
    uint8_t redirects;
    stats_fail_t deferred_fail;   /* W_DEFER: the failure to report from the loop */
    bool in_submit;
    uint32_t step, ireq;
    uint64_t iters;
    uint64_t sched_us;            /* open model: when the current iteration was due */
    uint64_t acc_sent, acc_recv;  /* bytes of earlier hops of a redirect chain */
    const plan_req_t *req;        /* request in flight */
    const plan_origin_t *origin;  /* its origin (a redirect may change it) */
    char *redirect_path;          /* path of a redirect hop, NULL otherwise */
    const char *method;           /* a redirect may turn POST into GET */
    struct event timer;
    tpl_vars_t *vars;
    cookie_jar_t *jar;            /* NULL until the first cookie */
    user_conn_t *conns;
    size_t n_conns;
    xch_t x;
};

static void run(user_t *u);
static void finish(user_t *u, const resp_view_t *resp, stats_fail_t fail);
static int render(xch_t *x, req_view_t *rv);
static void on_done(xch_t *x, const resp_view_t *resp, stats_fail_t fail);

int user_env_init(user_env_t *env, const plan_t *plan, struct event_base *base, stats_t *stats,
                  uint64_t seed)
{
    memset(env, 0, sizeof *env);
    if (conn_env_init(&env->conn, base) != 0)
        return -1;
    env->conn.render = render;
    env->conn.on_done = on_done;
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
    size_t n = sizeof *u + u->n_conns * (sizeof(user_conn_t) + 512);
    n += tpl_vars_size(u->vars);
    if (u->jar)
        n += cookie_jar_size(u->jar);
    return n;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg);

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
    u->x.owner = u;
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
    for (size_t i = 0; i < u->n_conns; i++)
        conn_free(u->conns[i].conn);
    free(u->conns);
    free(u->redirect_path);
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

static conn_t *conn_for(user_t *u, const plan_origin_t *o)
{
    for (size_t i = 0; i < u->n_conns; i++)
        if (u->conns[i].origin == o)
            return u->conns[i].conn;
    user_conn_t *v = realloc(u->conns, (u->n_conns + 1) * sizeof *v);
    if (!v)
        return NULL;
    u->conns = v;
    conn_t *c = conn_new(&u->env->conn, o);
    if (!c)
        return NULL;
    u->conns[u->n_conns++] = (user_conn_t){o, c};
    return c;
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
    env->extra[env->n_extra++] = o;
    return o;
}

/* Path of the request now in flight (NUL-terminated). */
static const char *path_of(user_t *u, size_t *len)
{
    user_env_t *env = u->env;
    if (u->redirect_path) {
        *len = strlen(u->redirect_path);
        return u->redirect_path;
    }
    if (u->req->origin >= 0) {
        long n = expand(u, u->req->url, &env->s_path, &env->s_path_cap);
        *len = n < 0 ? 0 : (size_t)n;
        return n < 0 ? NULL : env->s_path;
    }
    if (expand(u, u->req->url, &env->s_path, &env->s_path_cap) < 0)
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
    user_t *u = x->owner;
    user_env_t *env = u->env;
    const plan_req_t *r = u->req;
    bool plain = !u->redirect_path && u->method == r->src->method;
    memset(rv, 0, sizeof *rv);
    rv->method = u->method;
    rv->method_len = strlen(u->method);
    rv->head = strcasecmp(u->method, "HEAD") == 0;
    rv->authority = u->origin->host_hdr;
    rv->authority_len = u->origin->host_hdr_len;

    if (plain && r->h1_bytes && (!u->jar || cookie_jar_count(u->jar) == 0)) {
        rv->h1_bytes = r->h1_bytes;
        rv->h1_len = r->h1_len;
    }
    if (u->redirect_path) {
        rv->path = u->redirect_path;
        rv->path_len = strlen(u->redirect_path);
    } else if (r->origin >= 0) {
        rv->path = text_of(u, r->url, &env->s_path, &env->s_path_cap, &rv->path_len);
    } else {
        rv->path = path_of(u, &rv->path_len);
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
        size_t n = cookie_jar_header(u->jar, u->origin->url.host, path, u->origin->url.tls, now_s,
                                     env->s_cookie, env->s_cookie_cap);
        if (n + 1 > env->s_cookie_cap) {
            char *p = realloc(env->s_cookie, n + 256);
            if (!p)
                return -1;
            env->s_cookie = p;
            env->s_cookie_cap = n + 256;
            n = cookie_jar_header(u->jar, u->origin->url.host, path, u->origin->url.tls, now_s,
                                  env->s_cookie, env->s_cookie_cap);
        }
        if (n) {
            rv->cookie = env->s_cookie;
            rv->cookie_len = n;
        }
    }
    if (u->method == r->src->method) {
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

static void submit(user_t *u)
{
    conn_t *c = conn_for(u, u->origin);
    if (!c) {
        finish(u, NULL, STATS_FAIL_PROTOCOL);
        return;
    }
    if (u->env->timeout_tv) {
        u->wait = W_REQUEST;
        evtimer_add(&u->timer, u->env->timeout_tv);
    }
    u->in_submit = true;
    conn_submit(c, &u->x);
    u->in_submit = false;
}

static void start_request(user_t *u, const plan_req_t *r)
{
    user_env_t *env = u->env;
    u->req = r;
    u->retried = false;
    u->redirects = 0;
    u->acc_sent = u->acc_recv = 0;
    free(u->redirect_path);
    u->redirect_path = NULL;
    u->method = r->src->method;
    u->x.want_body = r->needs_body;
    u->x.proto = STATS_PROTO_H1;
    uint64_t now = clk_mono_us();
    u->x.start_us = u->first_of_iter && u->sched_us ? u->sched_us : now;
    u->first_of_iter = false;
    if (r->origin >= 0) {
        u->origin = &env->plan->origins[r->origin];
    } else {
        const char *path;
        u->origin = NULL;
        if (expand(u, r->url, &env->s_path, &env->s_path_cap) >= 0)
            u->origin = origin_of_url(env, env->s_path, &path);
        if (!u->origin) {
            /* Counted like any failed request, reported from the loop. */
            u->deferred_fail = STATS_FAIL_PROTOCOL;
            u->wait = W_DEFER;
            event_active(&u->timer, EV_TIMEOUT, 1);
            return;
        }
    }
    submit(u);
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

static void store_cookies(user_t *u, const resp_view_t *resp)
{
    const char *path = NULL;
    int64_t now_s = 0;
    for (size_t i = 0; i < resp->n_headers; i++) {
        const resp_header_t *h = &resp->headers[i];
        if (h->name_len != 10 || strncasecmp(h->name, "set-cookie", 10) != 0)
            continue;
        if (!path) {
            size_t len = 0;
            const char *p = path_of(u, &len);
            path = p ? cookie_path(u, p, len) : "/";
            now_s = clk_wall_us() / 1000000;
        }
        if (!u->jar && !(u->jar = cookie_jar_new()))
            return;
        cookie_jar_set(u->jar, h->value, h->value_len, u->origin->url.host, path,
                       u->origin->url.tls, now_s);
    }
}

/* Follows a redirect when the request asks for it. True when a new hop started. */
static bool follow(user_t *u, const resp_view_t *resp)
{
    int s = resp->status;
    if (!u->req->src->follow_redirects || u->redirects >= MAX_REDIRECTS ||
        (s != 301 && s != 302 && s != 303 && s != 307 && s != 308))
        return false;
    size_t len;
    const char *loc = header_get(resp, "location", &len);
    if (!loc || len == 0)
        return false;
    char *target = malloc(len + 2);
    if (!target)
        return false;
    const plan_origin_t *o = u->origin;
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
    free(u->redirect_path);
    u->redirect_path = p;
    u->origin = o;
    if (s == 303 || ((s == 301 || s == 302) && strcasecmp(u->method, "POST") == 0))
        if (strcasecmp(u->method, "HEAD") != 0)
            u->method = "GET";
    u->redirects++;
    u->acc_sent += u->x.bytes_sent;
    u->acc_recv += u->x.bytes_received;
    u->retried = false;
    submit(u);
    return true;
}

static void finish(user_t *u, const resp_view_t *resp, stats_fail_t fail)
{
    user_env_t *env = u->env;
    const plan_req_t *r = u->req;
    if (u->wait == W_REQUEST)
        evtimer_del(&u->timer);
    u->wait = W_NONE;
    if (!resp && fail == STATS_FAIL_RESET && u->x.retryable && !u->retried) {
        u->retried = true; /* the server closed a kept-alive socket: resend once */
        submit(u);
        return;
    }
    if (resp) {
        store_cookies(u, resp);
        if (follow(u, resp))
            return;
        fail = check_eval(&r->src->check, resp);
        for (size_t i = 0; i < r->n_ext; i++)
            if (ext_apply(r->ext[i], resp, u->vars) != 0 && fail == STATS_OK)
                fail = STATS_FAIL_EXTRACT;
    }
    uint64_t now = clk_mono_us();
    stats_record(env->stats, r->entry, u->x.proto, resp ? resp->status : 0, fail,
                 now > u->x.start_us ? now - u->x.start_us : 0, u->acc_sent + u->x.bytes_sent,
                 u->acc_recv + u->x.bytes_received);
    u->req = NULL;
    u->ireq++;
    if (u->stopping && (u->phase == PH_START || u->phase == PH_TASKS))
        enter(u, PH_STOP);
    run(u);
}

static void on_done(xch_t *x, const resp_view_t *resp, stats_fail_t fail)
{
    user_t *u = x->owner;
    if (u->in_submit) {
        /* Failed inside conn_submit (refused at once): continue from the loop,
         * or a dead server would turn the task loop into recursion. */
        evtimer_del(&u->timer);
        u->deferred_fail = fail;
        u->wait = W_DEFER;
        event_active(&u->timer, EV_TIMEOUT, 1);
        return;
    }
    finish(u, resp, fail);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    user_t *u = arg;
    enum wait w = (enum wait)u->wait;
    u->wait = W_NONE;
    switch (w) {
    case W_THINK:
        run(u);
        return;
    case W_REQUEST:
        if (u->x.conn)
            conn_cancel(u->x.conn, &u->x);
        finish(u, NULL, STATS_FAIL_TIMEOUT);
        return;
    case W_DEFER:
        finish(u, NULL, u->deferred_fail);
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
                start_request(u, &st->reqs[u->ireq]);
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
    if (u->req)
        return; /* the request in flight finishes first (finish() moves on) */
    if (u->wait == W_THINK || u->wait == W_DEFER)
        evtimer_del(&u->timer);
    u->wait = W_NONE;
    enter(u, PH_STOP);
    run(u);
}

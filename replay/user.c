/* user: the virtual user state machine (see user.h). */
#include "user.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "clock.h"
#include "cookies.h"
#include "diff.h"
#include "grpc.h"
#include "log.h"
#include "script.h"

enum phase { PH_NEW = 0, PH_START, PH_TASKS, PH_IDLE, PH_STOP, PH_DONE };
/* What the user's timer is armed for. */
enum wait { W_NONE = 0, W_THINK, W_REQUEST };

#define MAX_REDIRECTS 10
/* Below this think time connection buffers are kept for the next request. */
#define TRIM_AFTER_US 50000
/* Timed replay: steps due within one such cell start together (timed_wait). */
#define TIMED_GRID_US 1000

typedef struct user_conn {
    const plan_origin_t *origin;
    uint32_t slot;                /* 0; more HTTP/1.1 connections serve parallel steps */
    hc_conn_t *conn;
} user_conn_t;

/* One request and its redirect chain: the request of a serial step, or one
 * request of a parallel step. */
typedef struct flight {
    hc_xch_t x;                   /* x.owner is the flight */
    user_t *u;
    const plan_req_t *req;        /* NULL when not in flight */
    const plan_origin_t *origin;  /* its origin (a redirect may change it) */
    tpl_buf_t url;                /* the URL template expanded once for this request */
    const char *path;             /* its origin-form path (in url, or the literal), NUL-terminated */
    size_t path_len;
    tpl_memo_t *memo;             /* generators drawn for this request; allocated
                                   * by the first request that draws any */
    char *redirect_path;          /* path of a redirect hop, NULL otherwise */
    const char *method;           /* a redirect may turn POST into GET */
    uint64_t acc_sent, acc_recv;  /* bytes of earlier hops of a redirect chain */
    uint8_t redirects;
    bool retried, in_submit;
    bool lua;                     /* a custom step's user:request or user:parallel (script.h) */
    int16_t lua_idx;              /* user:parallel's request index; -1: user:request */
    const char *lua_url;          /* its URL, kept by the script until the step's next action */
    const char *why;              /* reason of a script failure (scr_why: lives with the script) */
    bool deferred;                /* ends from the loop (kick) with deferred_fail */
    stats_fail_t deferred_fail;
    stats_fail_t render_fail;     /* why render refused the request (HC_FAIL_REQUEST) */
} flight_t;

struct user {
    user_env_t *env;
    int scr_ref;                  /* its Lua table's registry ref (script.h), 0: none */
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
    bool lua_step;                /* a custom step is running (its coroutine waits) */
    bool lua_sleep;               /* W_THINK is its user:sleep */
    /* Timed replay (user_timed); t_step NULL otherwise. */
    const uint64_t *t_step;
    uint64_t t_base, t_due, t_slot;
    double t_speed;
    uint32_t t_ready;             /* step + 1 whose due time and slot are set */
    uint32_t t_ahead;             /* step + 1 whose connections were opened ahead */
    wsr_t *ws;                    /* the WebSocket step running (wsrun.h); NULL: none */
    bool ws_ended;                /* ... and it ended: freed from the kick */
    /* Background WebSocket sessions (scn_ws_t.background) of this phase: they
     * run beside the steps; the phase ends once every one ended (bg_wait). */
    struct bgws {
        wsr_t *w;
        bool ended;
    } *bg;
    uint32_t n_bg, bg_cap;
    bool bg_wait;
};

static void run(user_t *u);
static void lua_act(user_t *u, const scr_step_t *a);
static void finish(flight_t *f, const resp_view_t *resp, stats_fail_t fail);
static int render(hc_xch_t *x, hc_req_t *rv);
static void on_done(hc_xch_t *x, const hc_resp_t *resp, hc_fail_t fail);
static void on_negotiated(hc_conn_t *c, void *owner);
static void on_unsolicited(hc_conn_t *c, size_t len);

int user_env_init(user_env_t *env, const plan_t *plan, struct event_base *base, stats_t *stats,
                  uint64_t seed)
{
    memset(env, 0, sizeof *env);
    if (hc_env_init(&env->conn, base) != 0)
        return -1;
    env->conn.tls_hint = " (trust the server with --ca FILE, or skip verification with "
                         "--insecure); counted as 'tls' failures";
    env->conn.dns_hint = ": counted as 'connect' failures (pin an address with "
                         "--resolve HOST:PORT:ADDR)";
    env->conn.render = render;
    env->conn.on_done = on_done;
    env->conn.on_negotiated = on_negotiated;
    env->conn.on_unsolicited = on_unsolicited;
    env->plan = plan;
    if (plan->max_body)
        env->conn.max_body = plan->max_body;
    env->stats = stats;
    stats_pipeline_depth(stats, plan->pipeline);
    env->rng = seed ? seed : 0x9E3779B97F4A7C15ull;
    env->think_scale = 1.0;
    env->ws.hc = &env->conn;
    env->ws.stats = stats;
    env->ws.rd = &env->rd;
    env->ws.rng = &env->rng;
    env->ws.think_scale = 1.0;
    env->ws.max_msg = env->conn.max_body;
    return 0;
}

void user_env_fini(user_env_t *env)
{
    hc_env_fini(&env->conn);
    render_fini(&env->rd);
    wsr_env_fini(&env->ws);
    free(env->grpc_hdrs);
    scr_free(env->scr);
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
               u->group_cap * sizeof(flight_t) + u->one.url.cap +
               (u->one.memo ? sizeof(tpl_memo_t) : 0);
    for (uint32_t i = 0; i < u->group_cap; i++)
        n += u->group[i].url.cap + (u->group[i].memo ? sizeof(tpl_memo_t) : 0);
    n += tpl_vars_size(u->vars);
    if (u->jar)
        n += cookie_jar_size(u->jar);
    n += scr_user_memory(u->env->scr, u);
    n += wsr_memory(u->ws) + u->bg_cap * sizeof *u->bg;
    for (uint32_t i = 0; i < u->n_bg; i++)
        n += wsr_memory(u->bg[i].w);
    return n;
}

/* u as the Lua hooks see it (a compound literal of the calling block). */
#define SCR_USER(u) (&(scr_user_t){(u), (u)->id, (u)->env->plan->classes[(u)->cls].name, \
                                   (u)->vars, (u)->env->plan->symtab, &(u)->scr_ref})
/* The request's name as the stats show it. */
#define REQ_NAME(r) ((r)->src->name ? (r)->src->name : (r)->src->url)

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
    scr_user_free(u->env->scr, SCR_USER(u));
    wsr_free(u->ws);
    for (uint32_t i = 0; i < u->n_bg; i++)
        wsr_free(u->bg[i].w);
    free(u->bg);
    for (size_t i = 0; i < u->n_conns; i++)
        hc_conn_free(u->conns[i].conn);
    free(u->conns);
    free(u->one.redirect_path);
    free(u->one.url.p);
    free(u->one.memo);
    for (uint32_t i = 0; i < u->group_cap; i++) {
        free(u->group[i].redirect_path);
        free(u->group[i].url.p);
        free(u->group[i].memo);
    }
    free(u->group);
    cookie_jar_free(u->jar);
    tpl_vars_free(u->vars);
    free(u);
}

/* The client's protocols and failures in replay's stats categories. */
static stats_proto_t proto_of(const flight_t *f)
{
    return f->x.proto == HC_PROTO_H2 ? STATS_PROTO_H2 : STATS_PROTO_H1;
}

static stats_fail_t fail_of(const flight_t *f, hc_fail_t fail)
{
    switch (fail) {
    case HC_OK: return STATS_OK;
    case HC_FAIL_CONNECT: return STATS_FAIL_CONNECT;
    case HC_FAIL_TIMEOUT: return STATS_FAIL_TIMEOUT;
    case HC_FAIL_RESET: return STATS_FAIL_RESET;
    case HC_FAIL_TLS: return STATS_FAIL_TLS;
    case HC_FAIL_H2_RST: return STATS_FAIL_H2_RST;
    case HC_FAIL_H2_GOAWAY: return STATS_FAIL_H2_GOAWAY;
    case HC_FAIL_H2_PROTOCOL: return STATS_FAIL_H2_PROTOCOL;
    case HC_FAIL_REQUEST: return f->render_fail;
    case HC_FAIL_PROTOCOL:
    default: return STATS_FAIL_PROTOCOL;
    }
}

static void abandon_flight(user_t *u, flight_t *f, uint64_t now)
{
    if (!f->req)
        return;
    stats_fail_t fail = f->deferred ? f->deferred_fail : STATS_FAIL_UNFINISHED;
    stats_record(u->env->stats, f->req->entry, proto_of(f), 0, fail,
                 now > f->x.start_us ? now - f->x.start_us : 0, f->acc_sent + f->x.bytes_sent,
                 f->acc_recv + f->x.bytes_received);
    f->req = NULL;
}

void user_abandon(user_t *u)
{
    uint64_t now = clk_mono_us();
    if (u->ws && !u->ws_ended)
        wsr_abandon(u->ws);
    for (uint32_t i = 0; i < u->n_bg; i++)
        if (!u->bg[i].ended)
            wsr_abandon(u->bg[i].w);
    abandon_flight(u, &u->one, now);
    for (uint32_t i = 0; i < u->n_group && u->group_left; i++)
        abandon_flight(u, &u->group[i], now);
    u->group_left = 0;
}

/* ---- waits */

static uint64_t scaled(const user_t *u, uint64_t us)
{
    return (uint64_t)((double)us * u->env->think_scale);
}

static uint64_t wait_after(user_t *u, const plan_step_t *st, bool last_task)
{
    if (u->stopping || (u->pooled && last_task) || u->t_step)
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
            hc_conn_trim(u->conns[i].conn);
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
    u->bg_wait = false;
    u->lua_sleep = false;
    if (u->lua_step) { /* stopped in the middle of a custom step */
        scr_step_abort(u->env->scr, SCR_USER(u));
        u->lua_step = false;
    }
    if (ph == PH_TASKS)
        stats_iteration(u->env->stats, false);
    if (ph == PH_START && u->env->scr)
        scr_user_start(u->env->scr, SCR_USER(u));
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
                hc_conn_trim(u->conns[i].conn);
            env->on_idle(u, env->arg);
            return false;
        }
        enter(u, PH_TASKS);
        return true;
    case PH_STOP:
        u->phase = PH_DONE;
        if (env->scr)
            scr_user_stop(env->scr, SCR_USER(u));
        env->on_end(u, env->arg);
        return false;
    default:
        return false;
    }
}

/* What the client needs of a plan origin. The address is the origin's own:
 * resolved up front for the plan's origins, by the connection (evdns) for
 * origins met at run time, which belong to this thread (plan.h). */
static hc_target_t target_of(const plan_origin_t *o)
{
    plan_origin_t *w = (plan_origin_t *)o;
    hc_want_t want = o->proto == SCN_PROTO_H1    ? HC_WANT_H1
                     : o->proto == SCN_PROTO_H2  ? HC_WANT_H2
                     : o->proto == SCN_PROTO_H2C ? HC_WANT_H2C
                                                 : HC_WANT_AUTO;
    return (hc_target_t){.host = o->url.host, .port = o->url.port, .tls = o->url.tls,
                         .want = want, .name = o->origin, .addr = &w->addr,
                         .addr_len = &w->addr_len};
}

static hc_conn_t *conn_for(user_t *u, const plan_origin_t *o, uint32_t slot)
{
    for (size_t i = 0; i < u->n_conns; i++)
        if (u->conns[i].origin == o && u->conns[i].slot == slot)
            return u->conns[i].conn;
    user_conn_t *v = realloc(u->conns, (u->n_conns + 1) * sizeof *v);
    if (!v)
        return NULL;
    u->conns = v;
    hc_target_t t = target_of(o);
    t.pipeline = (uint16_t)u->env->plan->pipeline;
    hc_conn_t *c = hc_conn_new(&u->env->conn, &t);
    if (!c)
        return NULL;
    hc_conn_set_owner(c, u);
    u->conns[u->n_conns++] = (user_conn_t){o, slot, c};
    return c;
}

/* The connection for f: slot 0 for serial steps and for h2 (streams of one
 * connection); in a parallel step over HTTP/1.1, the k-th request to an origin
 * takes connection k modulo --max-conns-per-host, as browsers spread a page,
 * or with --pipeline D, connection (k / D) modulo it: D requests in a row
 * share one connection as one pipelined batch. */
static uint32_t group_slot(const user_t *u, uint32_t k)
{
    uint32_t maxc = u->env->plan->max_conns_per_host ? u->env->plan->max_conns_per_host : 6;
    if (u->env->plan->pipeline > 1)
        k /= u->env->plan->pipeline;
    return k % maxc;
}

static hc_conn_t *conn_of_flight(user_t *u, flight_t *f)
{
    hc_conn_t *c0 = conn_for(u, f->origin, 0);
    if (f == &u->one || !c0 || hc_conn_multiplexed(c0))
        return c0;
    uint32_t k = 0;
    for (flight_t *g = u->group; g < f; g++)
        if (g->origin == f->origin)
            k++;
    uint32_t slot = group_slot(u, k);
    return slot ? conn_for(u, f->origin, slot) : c0;
}

/* Opens the closed ones of the connections step st will use, as
 * conn_of_flight picks them, for the requests whose origin is known before
 * rendering (a templated URL's is not; a refused origin is never connected). */
static void step_connect(user_t *u, const plan_step_t *st)
{
    size_t n = st->parallel ? st->n : 1;
    for (size_t i = 0; i < n; i++) {
        const plan_req_t *r = &st->reqs[i];
        if (r->origin < 0 || u->env->plan->origins[r->origin].refused)
            continue;
        const plan_origin_t *o = &u->env->plan->origins[r->origin];
        hc_conn_t *c = conn_for(u, o, 0);
        if (c && i > 0 && !hc_conn_multiplexed(c)) {
            uint32_t k = 0;
            for (size_t j = 0; j < i; j++)
                k += st->reqs[j].origin == r->origin;
            uint32_t slot = group_slot(u, k);
            c = slot ? conn_for(u, o, slot) : c;
        }
        if (c && hc_conn_state(c) == HC_CONN_CLOSED)
            hc_conn_open(c);
    }
}

/* Whether every connection u has is open (and it has one). */
static bool conns_open(const user_t *u)
{
    for (size_t i = 0; i < u->n_conns; i++)
        if (hc_conn_state(u->conns[i].conn) == HC_CONN_CLOSED)
            return false;
    return u->n_conns > 0;
}

/* Stray response bytes on one of this thread's connections (hc_proto.h): not
 * a request's outcome, the run's (the summary and the report name them). */
static void on_unsolicited(hc_conn_t *c, size_t len)
{
    user_env_t *env = (user_env_t *)((char *)hc_conn_env(c) - offsetof(user_env_t, conn));
    stats_unsolicited(env->stats, len);
}

/* A first connection to an https:// origin is expected to be h2, so a parallel
 * step waits on it whole; when ALPN gave HTTP/1.1 instead, the step is
 * spread over the origin's connections before anything was sent. */
static void on_negotiated(hc_conn_t *c, void *owner)
{
    user_t *u = owner;
    if (hc_conn_multiplexed(c) || !u->group_left)
        return;
    for (uint32_t i = 0, gen = u->group_gen; i < u->n_group && u->group_gen == gen; i++) {
        flight_t *f = &u->group[i];
        if (!f->req || f->x.conn != c)
            continue;
        hc_conn_t *t = conn_of_flight(u, f);
        if (!t || t == c)
            continue;
        hc_conn_cancel(c, &f->x);
        f->in_submit = true;
        hc_conn_submit(t, &f->x);
        f->in_submit = false;
    }
}

/* ---- rendering (replay/render.c) */

static tpl_ctx_t ctx_of(flight_t *f)
{
    user_t *u = f->u;
    return (tpl_ctx_t){.vars = u->vars, .user_id = u->id, .rng = &u->env->rng, .memo = f->memo};
}

/* Origin of an expanded URL (absolute, or a path for the default origin): the
 * plan's, or one this thread met. Origins the rules refuse are kept too (marked
 * refused), so each is said once per thread and never looked up. */
static const plan_origin_t *origin_of_url(user_env_t *env, const char *url, const char **path)
{
    const plan_t *p = env->plan;
    if (url[0] == '/') {
        *path = url;
        return p->dflt >= 0 ? &p->origins[p->dflt] : NULL;
    }
    url_t u;
    char err[400];
    if (url_parse(url, &u, err, sizeof err) != 0)
        return NULL;
    *path = u.path;
    int i = plan_origin_find(p, &u);
    if (i >= 0)
        return &p->origins[i];
    for (size_t k = 0; k < env->n_extra; k++)
        if (plan_same_origin(&env->extra[k]->from, &u))
            return env->extra[k];
    plan_origin_t **v = realloc(env->extra, (env->n_extra + 1) * sizeof *v);
    if (!v)
        return NULL;
    env->extra = v;
    plan_origin_t *o = malloc(sizeof *o);
    if (!o)
        return NULL;
    if (plan_origin_runtime(p, &u, o, err, sizeof err) != 0)
        log_warn("%s", err);
    else
        plan_origin_force(p, o);
    env->extra[env->n_extra++] = o;
    return o;
}

/* Path of f's request as sent (NUL-terminated): a redirect's, or the URL's. */
static const char *path_of(const flight_t *f, size_t *len)
{
    if (f->redirect_path) {
        *len = strlen(f->redirect_path);
        return f->redirect_path;
    }
    *len = f->path_len;
    return f->path;
}

/* A request a template made unsendable: said once per process (the rest are
 * counted under "extract"), so a bad token does not flood stderr. */
static void warn_refused(const flight_t *f, const char *why)
{
    static atomic_flag said = ATOMIC_FLAG_INIT;
    if (atomic_flag_test_and_set(&said))
        return;
    const scn_request_t *src = f->req->src;
    log_warn("request '%s': not sent: %s; counted as an extract failure (further ones are "
             "counted without this message)", src->name ? src->name : src->url, why);
}

/* A gRPC call carries te: trailers (servers refuse a call without it) and its
 * deadline as grpc-timeout: what is left of --timeout for this request (or
 * parallel step). Appended to the rendered headers. 0 or -STATS_FAIL_PROTOCOL. */
static int grpc_headers(flight_t *f, hc_req_t *rv)
{
    user_env_t *env = f->u->env;
    if (env->grpc_hdrs_cap < rv->n_hdrs + 2) {
        hc_header_t *h = realloc(env->grpc_hdrs, (rv->n_hdrs + 2) * sizeof *h);
        if (!h)
            return -STATS_FAIL_PROTOCOL;
        env->grpc_hdrs = h;
        env->grpc_hdrs_cap = rv->n_hdrs + 2;
    }
    size_t n = rv->n_hdrs;
    if (n)
        memcpy(env->grpc_hdrs, rv->hdrs, n * sizeof *rv->hdrs);
    if (!f->req->has_te)
        env->grpc_hdrs[n++] = (hc_header_t){"te", 2, "trailers", 8};
    uint64_t left = 0, now = clk_mono_us();
    if (env->timeout_tv)
        left = f->u->wait == W_REQUEST && f->u->due_us > now ? f->u->due_us - now : env->timeout_us;
    size_t tl = grpc_timeout_format(left, env->grpc_timeout);
    if (tl)
        env->grpc_hdrs[n++] = (hc_header_t){"grpc-timeout", 12, env->grpc_timeout, tl};
    rv->hdrs = env->grpc_hdrs;
    rv->n_hdrs = n;
    rv->h1_bytes = NULL; /* the prebuilt HTTP/1.1 bytes lack what was added */
    return 0;
}

static int render(hc_xch_t *x, hc_req_t *rv)
{
    flight_t *f = x->owner;
    user_t *u = f->u;
    render_in_t in = {
        .req = f->req,
        .method = f->method,
        .origin = f->origin,
        .redirected = f->redirect_path != NULL,
        .jar = u->jar,
        .now_s = u->jar ? clk_wall_us() / 1000000 : 0,
    };
    in.path = path_of(f, &in.path_len);
    tpl_ctx_t ctx = ctx_of(f);
    int rc = render_request(&u->env->rd, &in, &ctx, rv);
    if (rc == 0 && f->lua)
        rc = scr_step_fill(u->env->scr, SCR_USER(u), f->lua_idx, rv);
    else if (rc == 0 && u->env->scr)
        rc = scr_request(u->env->scr, SCR_USER(u), REQ_NAME(f->req), rv);
    if (rc == -STATS_FAIL_EXTRACT)
        warn_refused(f, render_why(&u->env->rd));
    if (rc == -STATS_FAIL_SCRIPT)
        f->why = scr_why(u->env->scr);
    if (rc == 0 && f->req->grpc)
        rc = grpc_headers(f, rv);
    if (rc != 0)
        f->render_fail = rc < 0 && -rc < STATS_FAIL__COUNT ? (stats_fail_t)-rc : STATS_FAIL_PROTOCOL;
    return rc;
}

/* ---- requests */

/* f ends from the loop with fail: hc_conn_submit may end an exchange inside the
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
    hc_conn_t *c = conn_of_flight(u, f);
    if (!c) {
        defer(f, STATS_FAIL_PROTOCOL);
        return;
    }
    /* A parallel step has one timeout, armed when it starts. */
    if (u->env->timeout_tv && f == &u->one)
        arm_timeout(u);
    f->in_submit = true;
    hc_conn_submit(c, &f->x);
    f->in_submit = false;
}

static void start_request(flight_t *f, const plan_req_t *r, uint64_t start_us)
{
    user_t *u = f->u;
    user_env_t *env = u->env;
    f->req = r;
    f->retried = f->deferred = false;
    f->why = NULL;
    f->redirects = 0;
    f->acc_sent = f->acc_recv = 0;
    free(f->redirect_path);
    f->redirect_path = NULL;
    f->method = r->method;
    f->x.owner = f;
    f->x.want_body = r->needs_body || scr_has(env->scr, SCR_RESPONSE);
    f->x.proto = HC_PROTO_H1;
    f->x.bytes_sent = f->x.bytes_received = 0;
    f->x.pipelined = false;
    f->x.start_us = start_us;
    /* Out of memory for the memo: each use of a generator draws anew. */
    if (!f->memo && !f->lua && render_draws(r))
        f->memo = malloc(sizeof *f->memo);
    if (f->memo)
        tpl_memo_clear(f->memo);
    tpl_ctx_t ctx = ctx_of(f);
    const char *url;
    size_t url_len = 0;
    int rc = 0;
    if (f->lua)
        url = f->lua_url ? f->lua_url : "";
    else
        rc = render_url(&env->rd, r, &ctx, &f->url, &url, &url_len);
    if (rc != 0) {
        if (rc == -STATS_FAIL_EXTRACT)
            warn_refused(f, render_why(&env->rd));
        defer(f, (stats_fail_t)-rc); /* counted like any failed request */
        return;
    }
    if (r->origin >= 0) {
        f->origin = &env->plan->origins[r->origin];
        f->path = url;
        f->path_len = f->lua ? strlen(url) : url_len;
    } else {
        f->origin = origin_of_url(env, url, &f->path);
        if (!f->origin || f->origin->refused) {
            /* counted like any failed request; a refused origin is never sent to */
            defer(f, f->origin ? STATS_FAIL_ORIGIN : STATS_FAIL_PROTOCOL);
            return;
        }
        f->path_len = strlen(f->path);
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

/* Room for n flights of a parallel step. 0 or -1 (out of memory). */
static int group_reserve(user_t *u, size_t n)
{
    if (n > u->group_cap) {
        flight_t *v = realloc(u->group, n * sizeof *v);
        if (!v)
            return -1;
        memset(v + u->group_cap, 0, (n - u->group_cap) * sizeof *v);
        u->group = v;
        u->group_cap = (uint32_t)n;
        for (uint32_t i = 0; i < u->group_cap; i++) {
            u->group[i].u = u;
            u->group[i].x.owner = &u->group[i];
        }
    }
    return 0;
}

/* A parallel step: every request starts now; the step ends when all ended. */
static void start_group(user_t *u, const plan_step_t *st)
{
    if (group_reserve(u, st->n) != 0) {
        u->ireq = (uint32_t)st->n; /* skipped: counted nowhere, but the user goes on */
        event_active(&u->kick, EV_TIMEOUT, 1);
        return;
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
            path = path_of(f, &len); /* the jar ignores the query */
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
    if ((s != 301 && s != 302 && s != 303 && s != 307 && s != 308) ||
        !f->req->follow_redirects || f->redirects >= MAX_REDIRECTS)
        return false;
    size_t len;
    const char *loc = header_get(resp, "location", &len);
    if (!loc || len == 0)
        return false;
    /* Resolved against the URL of the request that got the answer (RFC 3986). */
    size_t plen = 0;
    const char *cur = path_of(f, &plen);
    if (!cur)
        return false;
    size_t olen = strlen(f->origin->origin), cap = olen + plen + len + 16;
    char *base = malloc(olen + plen + 1), *target = malloc(cap);
    long tl = -1;
    if (base && target) {
        memcpy(base, f->origin->origin, olen);
        memcpy(base + olen, cur, plen);
        base[olen + plen] = '\0';
        tl = url_resolve(base, loc, len, target, cap);
    }
    free(base);
    const char *path = NULL;
    const plan_origin_t *o = NULL;
    url_t tu;
    char perr[8];
    /* Same origin as the answer's (most redirects): no lookup, whatever the rules
     * say about the name the mapping replaced. */
    if (tl > 0 && url_parse(target, &tu, perr, sizeof perr) == 0 &&
        plan_same_origin(&tu, &f->origin->url))
        o = f->origin, path = tu.path;
    else if (tl > 0)
        o = origin_of_url(u->env, target, &path);
    if (!o) {
        free(target);
        return false;
    }
    if (o->refused) {
        /* The next hop goes to an origin the rules do not allow: not sent. */
        free(target);
        f->acc_sent += f->x.bytes_sent;
        f->acc_recv += f->x.bytes_received;
        f->x.bytes_sent = f->x.bytes_received = 0;
        finish(f, NULL, STATS_FAIL_ORIGIN);
        return true;
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
    if (f->x.pipelined) /* this hop's attempt; the next hop's counts in finish */
        stats_pipeline(f->u->env->stats, true, false);
    f->retried = false;
    submit(f);
    return true;
}

static bool in_flight(const user_t *u)
{
    return u->one.req || u->group_left || u->ws;
}

/* -1 when neither the request nor the response is gRPC; else the response's
 * grpc-status, GRPC_STATUS_MISSING or _BAD. The client library hands the
 * trailers apart from the headers: grpc-status is a trailer, or a header of a
 * trailers-only response; a trailer wins over a header, the last one of each. */
static int grpc_outcome(const plan_req_t *r, const resp_view_t *resp)
{
    bool grpc = r->grpc;
    int status = GRPC_STATUS_MISSING;
    for (size_t i = 0; i < resp->n_headers; i++) {
        const resp_header_t *h = &resp->headers[i];
        if (h->name_len == 12 && strncasecmp(h->name, "content-type", 12) == 0)
            grpc = grpc || scn_grpc_content_type(h->value, h->value_len);
        else if (h->name_len == 11 && strncasecmp(h->name, "grpc-status", 11) == 0)
            status = grpc_status_parse(h->value, h->value_len);
    }
    for (size_t i = 0; i < resp->n_trailers; i++) {
        const resp_header_t *h = &resp->trailers[i];
        if (h->name_len == 11 && strncasecmp(h->name, "grpc-status", 11) == 0)
            status = grpc_status_parse(h->value, h->value_len);
    }
    return grpc ? status : -1;
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
         * refused, GOAWAY, a broken pipeline): resend once. */
        if (f->x.pipelined)
            stats_pipeline(env->stats, true, true);
        f->retried = true;
        submit(f);
        return;
    }
    if (resp) {
        store_cookies(f, resp);
        if (follow(f, resp))
            return;
        if (resp->body_cut || resp->body_undecoded)
            stats_body(env->stats, resp->body_cut, resp->body_undecoded, resp->body_dropped);
        fail = !r->check_default           ? check_eval(&r->src->check, resp)
               : resp->status >= 400 ? STATS_FAIL_HTTP : STATS_OK;
        /* A gRPC call is judged by its grpc-status (an HTTP failure stays one). */
        int g = fail == STATS_FAIL_HTTP ? -1 : grpc_outcome(r, resp);
        if (g >= 0) {
            stats_grpc(env->stats, r->entry, g);
            if (g != 0)
                fail = STATS_FAIL_GRPC;
        }
        /* One pass over the extractors: a JSON body is parsed once for all. */
        if (r->n_ext && ext_apply_all(r->ext, r->n_ext, resp, u->vars) != 0 && fail == STATS_OK)
            fail = STATS_FAIL_EXTRACT;
        if (env->scr)
            fail = scr_response(env->scr, SCR_USER(u), REQ_NAME(r), f->method, f->path, resp, fail);
        if (fail == STATS_FAIL_SCRIPT)
            f->why = scr_why(env->scr);
        if (env->diff) {
            char ex[600];
            size_t plen;
            unsigned kinds = diff_compare(env->diff, r->src, f->method, path_of(f, &plen), resp, ex, sizeof ex);
            stats_diff(env->stats, r->entry, kinds, kinds ? ex : NULL);
        }
    }
    if (fail == STATS_FAIL_SCRIPT)
        stats_reason(env->stats, r->entry, f->why ? f->why : "script");
    uint64_t now = clk_mono_us();
    if (f->x.pipelined)
        stats_pipeline(env->stats, true, false);
    stats_record(env->stats, r->entry, proto_of(f), resp ? resp->status : 0, fail,
                 now > f->x.start_us ? now - f->x.start_us : 0, f->acc_sent + f->x.bytes_sent,
                 f->acc_recv + f->x.bytes_received);
    f->req = NULL;
    if (f->lua) {
        /* The custom step goes on with the response (user:parallel: with all
         * of them, once the last one ended), or stops with the user. */
        f->lua = false;
        if (!serial) {
            if (!u->stopping)
                scr_step_result(env->scr, SCR_USER(u), (size_t)f->lua_idx, resp, fail);
            if (--u->group_left)
                return;
            if (u->wait == W_REQUEST)
                evtimer_del(&u->timer);
            u->wait = W_NONE;
        }
        if (!u->stopping) {
            scr_step_t a;
            scr_step_resume(env->scr, SCR_USER(u), serial ? resp : NULL, serial ? fail : STATS_OK, &a);
            lua_act(u, &a);
            return;
        }
    } else if (serial) {
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

static void on_done(hc_xch_t *x, const hc_resp_t *resp, hc_fail_t fail)
{
    flight_t *f = x->owner;
    if (f->in_submit) {
        defer(f, fail_of(f, fail));
        return;
    }
    finish(f, resp, fail_of(f, fail));
}

/* Ends the flights deferred so far (new ones re-arm the kick: one round per
 * loop pass, so a dead server cannot keep the loop here). */
static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    user_t *u = arg;
    /* Background WebSocket sessions that ended are freed here, outside their callbacks. */
    bool reaped = false;
    for (uint32_t i = 0; i < u->n_bg;) {
        if (u->bg[i].ended) {
            wsr_free(u->bg[i].w);
            u->bg[i] = u->bg[--u->n_bg];
            reaped = true;
        } else {
            i++;
        }
    }
    if (reaped && u->bg_wait && u->n_bg == 0 && !u->ws) {
        u->bg_wait = false;
        run(u); /* the phase waited for them */
        return;
    }
    if (u->ws && u->ws_ended) {
        /* The WebSocket step ended: its session is freed here, outside its callbacks. */
        wsr_free(u->ws);
        u->ws = NULL;
        u->ws_ended = false;
        u->ireq = (uint32_t)phase_steps(u)->v[u->step].n;
        if (u->stopping && (u->phase == PH_START || u->phase == PH_TASKS))
            enter(u, PH_STOP);
        run(u);
        return;
    }
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
        if (u->lua_sleep) {
            u->lua_sleep = false;
            scr_step_t a;
            scr_step_resume(u->env->scr, SCR_USER(u), NULL, STATS_OK, &a);
            lua_act(u, &a);
            return;
        }
        run(u);
        return;
    case W_REQUEST:
        if (u->one.req) {
            if (u->one.x.conn)
                hc_conn_cancel(u->one.x.conn, &u->one.x);
            finish(&u->one, NULL, STATS_FAIL_TIMEOUT);
            return;
        }
        /* A parallel step timed out: withdraw everything first, then end each. */
        for (uint32_t i = 0; i < u->n_group; i++)
            if (u->group[i].req && u->group[i].x.conn)
                hc_conn_cancel(u->group[i].x.conn, &u->group[i].x);
        for (uint32_t i = 0, n = u->n_group, gen = u->group_gen;
             i < n && u->group_gen == gen && u->group_left; i++)
            if (u->group[i].req)
                finish(&u->group[i], NULL, STATS_FAIL_TIMEOUT);
        return;
    default:
        return;
    }
}

/* What a custom step asked for: a request, a sleep, or its end (an error is
 * counted as a script failure of the step's entry). The end moves on from the
 * loop (kick), so a step that never yields cannot recurse into the next. */
static void lua_act(user_t *u, const scr_step_t *a)
{
    const plan_step_t *st = &phase_steps(u)->v[u->step];
    switch (a->kind) {
    case SCR_STEP_REQUEST:
        u->one.lua_url = a->url;
        u->one.lua_idx = -1;
        u->one.lua = true;
        start_request(&u->one, &st->reqs[0], start_time(u));
        return;
    case SCR_STEP_PARALLEL: {
        if (group_reserve(u, a->n) == 0) {
            u->n_group = u->group_left = (uint32_t)a->n;
            u->group_gen++;
            if (u->env->timeout_tv)
                arm_timeout(u);
            uint64_t t = start_time(u);
            for (uint32_t i = 0; i < a->n; i++) {
                flight_t *g = &u->group[i];
                g->lua = true;
                g->lua_idx = (int16_t)i;
                g->lua_url = scr_step_url(u->env->scr, SCR_USER(u), i);
                start_request(g, &st->reqs[0], t);
            }
            return;
        }
        const scr_step_t oom = {.kind = SCR_STEP_ERROR, .error = "user:parallel: out of memory"};
        lua_act(u, &oom);
        return;
    }
    case SCR_STEP_SLEEP:
        u->lua_sleep = true;
        arm(u, W_THINK, a->sleep_us);
        return;
    case SCR_STEP_ERROR: {
        static atomic_flag said = ATOMIC_FLAG_INIT;
        if (!atomic_flag_test_and_set(&said))
            log_warn("script: custom step '%s': %s (counted as category script; further errors "
                     "are counted without this message)", st->lua, a->error);
        stats_record(u->env->stats, st->reqs[0].entry, STATS_PROTO_H1, 0, STATS_FAIL_SCRIPT, 0, 0, 0);
        stats_reason(u->env->stats, st->reqs[0].entry, a->error);
    }
        /* fall through */
    case SCR_STEP_DONE:
        u->lua_step = false;
        u->ireq = (uint32_t)st->n;
        event_active(&u->kick, EV_TIMEOUT, 1);
        return;
    }
}

/* Timed replay: whether step st must wait for its time (the timer is then armed).
 * When it may start, its lag is counted and its requests' latency will count
 * from the due time (or the later --limit-rate slot). */
static bool timed_wait(user_t *u, const plan_step_t *st)
{
    if (!u->t_step || u->phase != PH_TASKS || u->ireq != 0 || u->stopping)
        return false;
    user_env_t *env = u->env;
    if (u->t_ready != u->step + 1) {
        u->t_due = u->t_base + (uint64_t)((double)u->t_step[u->step] / u->t_speed);
        u->t_slot = u->t_due;
        if (env->limit_gap_us) {
            if (env->limit_next_us > u->t_slot)
                u->t_slot = env->limit_next_us;
            env->limit_next_us = u->t_slot + env->limit_gap_us * st->n;
        }
        u->t_ready = u->step + 1;
    }
    uint64_t now = clk_mono_us();
    /* The timer may fire a little early: it is armed again for the rest. */
    if (now < u->t_slot) {
        /* Connect ahead: a request due later should not pay for the
         * connection (a burst of sessions due together would otherwise pay
         * for all their connects at once, and run behind schedule). */
        uint64_t ahead = env->connect_ahead_us;
        if (ahead && u->t_ahead != u->step + 1 && !st->lua && !st->ws) {
            if (u->t_slot - now > ahead) {
                /* Woken again when the step is that close: its connection
                 * may be open now and closed by then (server idle timeout). */
                arm(u, W_THINK, u->t_slot - ahead - now);
                return true;
            }
            u->t_ahead = u->step + 1;
            /* Most steps go on connections that are open already: their
             * requests (cold memory by now) are not read twice to see it. */
            if (st->new_conn || !conns_open(u))
                step_connect(u, st);
        }
        /* Due times meet on a grid of TIMED_GRID_US: the steps due in one cell
         * start in one pass of the event loop, one wake-up (epoll_wait and
         * timerfd_settime) for all instead of one each. A step starts at most
         * one cell late, and the lag and latency (from t_due) count that. */
        uint64_t wake = (u->t_slot + TIMED_GRID_US - 1) / TIMED_GRID_US * TIMED_GRID_US;
        arm(u, W_THINK, wake - now);
        return true;
    }
    stats_lag(env->stats, now - u->t_due);
    u->sched_us = u->t_slot;
    u->first_of_iter = true;
    return false;
}

void user_timed(user_t *u, uint64_t base_us, const uint64_t *step_us, double speed, uint32_t copy)
{
    u->t_step = step_us;
    u->t_base = base_us;
    u->t_speed = speed > 0 ? speed : 1.0;
    int sym = tpl_symtab_find(u->env->plan->symtab, "copy");
    if (sym >= 0) {
        char v[16];
        int n = snprintf(v, sizeof v, "%u", copy);
        tpl_vars_set(u->vars, (size_t)sym, v, (size_t)n);
    }
}

static void ws_done(wsr_t *w, void *arg)
{
    user_t *u = arg;
    if (w == u->ws)
        u->ws_ended = true;
    for (uint32_t i = 0; i < u->n_bg; i++)
        if (u->bg[i].w == w)
            u->bg[i].ended = true;
    event_active(&u->kick, EV_TIMEOUT, 1);
}

/* Keeps a background session. false when out of memory. */
static bool bg_add(user_t *u, wsr_t *w)
{
    if (u->n_bg == u->bg_cap) {
        uint32_t cap = u->bg_cap ? u->bg_cap * 2 : 2;
        struct bgws *v = realloc(u->bg, cap * sizeof *v);
        if (!v)
            return false;
        u->bg = v;
        u->bg_cap = cap;
    }
    u->bg[u->n_bg++] = (struct bgws){w, false};
    return true;
}

/* A WebSocket step: its handshake URL rendered and routed like a request's,
 * then the session runs on its own (wsrun.h) until ws_done. Returns true when
 * the user waits (the session, or a failure ended from the loop), false when
 * it goes on at once (a background session started). */
static bool ws_begin(user_t *u, const plan_step_t *st)
{
    user_env_t *env = u->env;
    const plan_req_t *r = &st->reqs[0];
    flight_t *f = &u->one; /* its URL buffer; no request is in flight */
    tpl_ctx_t ctx = {.vars = u->vars, .user_id = u->id, .rng = &env->rng};
    const char *url = NULL, *path = NULL;
    size_t url_len = 0;
    uint64_t t0 = start_time(u);
    int rc = render_url(&env->rd, r, &ctx, &f->url, &url, &url_len);
    const plan_origin_t *o = NULL;
    if (rc == 0) {
        if (r->origin >= 0) {
            o = &env->plan->origins[r->origin];
            path = url;
        } else {
            o = origin_of_url(env, url, &path);
        }
    }
    stats_fail_t fail = rc != 0 ? (stats_fail_t)-rc : !o ? STATS_FAIL_WS_HANDSHAKE
                                                    : o->refused ? STATS_FAIL_ORIGIN : STATS_OK;
    if (fail == STATS_OK) {
        /* The run's options, as the worker set them after user_env_init. */
        env->ws.timeout_us = env->timeout_tv ? env->timeout_us : 0;
        env->ws.think_scale = env->think_scale;
        env->ws.max_msg = env->conn.max_body;
        wsr_in_t in = {.step = st, .origin = o, .path = path, .path_len = strlen(path), .vars = u->vars,
                       .jar = u->jar, .user_id = u->id, .start_us = t0, .done = ws_done, .arg = u};
        wsr_t *w = wsr_start(&env->ws, &in);
        if (w && st->ws->src->background && bg_add(u, w)) {
            u->ireq = (uint32_t)st->n;
            return false;
        }
        if ((u->ws = w) != NULL)
            return true; /* background without room to keep it: runs in the foreground */
        fail = STATS_FAIL_PROTOCOL; /* out of memory */
    }
    /* Not started: counted on the connect entry; the user goes on from the loop. */
    if (fail == STATS_FAIL_EXTRACT) {
        static atomic_flag said = ATOMIC_FLAG_INIT;
        if (!atomic_flag_test_and_set(&said))
            log_warn("WebSocket step '%s': not connected: %s; counted as an extract failure (further "
                     "ones are counted without this message)", st->ws->src->name, render_why(&env->rd));
    }
    stats_record(env->stats, r->entry, STATS_PROTO_H1, 0, fail, 0, 0, 0);
    u->ireq = (uint32_t)st->n;
    event_active(&u->kick, EV_TIMEOUT, 1);
    return true;
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
                if (timed_wait(u, st))
                    return;
                if (st->lua) {
                    scr_step_t a;
                    if (u->env->scr)
                        scr_step_begin(u->env->scr, SCR_USER(u), st->lua, &a);
                    else
                        a = (scr_step_t){.kind = SCR_STEP_ERROR,
                                         .error = "a custom step needs --script (or the scenario's script)"};
                    u->lua_step = true;
                    lua_act(u, &a);
                    return;
                }
                if (st->ws) {
                    if (ws_begin(u, st))
                        return;
                    continue;
                }
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
        if (u->n_bg) {
            u->bg_wait = true; /* the phase ends with its background sessions */
            return;
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
    if (u->ws && !u->ws_ended)
        wsr_stop(u->ws); /* the await in flight ends, then the session closes */
    for (uint32_t i = 0; i < u->n_bg; i++)
        if (!u->bg[i].ended)
            wsr_stop(u->bg[i].w);
    if (in_flight(u))
        return; /* the requests in flight finish first (finish() moves on) */
    if (u->wait == W_THINK)
        evtimer_del(&u->timer);
    u->wait = W_NONE;
    enter(u, PH_STOP);
    run(u);
}

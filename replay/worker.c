/* worker: a load thread (see worker.h). */
#include "worker.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "clock.h"
#include "script.h"
#include "tls.h"
#include "user.h"

/* A per-class stack of user pointers (free pooled users) or of due times. */
typedef struct ustack {
    user_t **v;
    size_t n, cap;
} ustack_t;

/* Pooled users running their on_start ahead of the schedule, with the time
 * they began (the measured warm-up time sizes the reserve). */
typedef struct wlist {
    struct warming { user_t *u; uint64_t t0; } *v;
    size_t n, cap;
} wlist_t;

typedef struct tqueue {
    uint64_t *v;                  /* ring of due times */
    size_t head, n, cap;
} tqueue_t;

struct worker {
    worker_cfg_t cfg;
    pthread_t th;
    bool spawned;
    bool events;                  /* the ev_* below are assigned */
    struct event_base *base;
    SSL_CTX *ssl_ctx;
    user_env_t env;
    stats_t *cur;                 /* hot: written by this thread only */
    bool pub_steady;              /* ev_pub runs at its 200 ms period */
    struct event ev_mbox, ev_pub, ev_sched, ev_reap, ev_stop, ev_timed;
    timed_iter_t *titer;          /* timed replay's starts (replay/timed.c); NULL: none */
    uint64_t timed_t0_us;         /* the recording's start on this run's clock, every worker alike */

    /* Shared with the main thread, under mu. The main thread wakes the loop
     * through an eventfd: the bases are not made thread-safe (evthread), so
     * no libevent call on the request path takes a lock. */
    pthread_mutex_t mu;
    int wake_fd;
    worker_cmd_t *mb;
    size_t mb_n, mb_cap;
    double mb_rate, mb_warm;
    bool mb_rate_set, mb_warm_set, mb_stop, mb_force;
    stats_t *pub;
    uint64_t mem_users, mem_bytes; /* user_memory() at the publish with the most users */

    /* Read by the main thread without a lock. */
    _Atomic uint32_t *running;    /* per class */
    _Atomic uint64_t *tstarted;   /* per class: timed-replay users started */
    _Atomic uint64_t ended;
    atomic_bool finished, timed_over;
    _Atomic uint64_t warm_us;     /* longest warm-up estimate of the classes */
    _Atomic uint32_t n_warming;   /* users in a warm-up now */
    _Atomic uint64_t warm_acks;   /* warm rates taken from the mailbox */
    _Atomic uint64_t scheduled;   /* open model: iterations that fell due */
    _Atomic uint64_t not_started; /* ... and were still waiting for a user at the stop */

    /* This thread only. */
    user_t **users;               /* closed-model users by id / threads */
    size_t users_cap;
    ustack_t *free_pool;          /* per class: idle pooled users */
    ustack_t all_pool;            /* every pooled user */
    tqueue_t *backlog;            /* per class: iterations due with no free user */
    wlist_t *warming;             /* per class: users in their on_start, no iteration */
    double *warm_est_s;           /* per class: how long a warm-up takes (EWMA) */
    double *static_warm_s;        /* per class: the think times of on_start alone */
    double *share;                /* per class: its part of the iterations (weight / sum) */
    double warm_rate;             /* the most iterations/s soon due (engine's look-ahead) */
    uint64_t next_pool_id;
    double rate;                  /* iterations/s on this worker */
    uint64_t next_due_us, last_due_us;
    int64_t *wrr;                 /* smooth weighted round robin over classes */
    ustack_t dead;                /* ended users, freed from the loop */
    uint64_t alive;
    uint64_t pubs;                /* publishes so far */
    bool stopping;
};

static int ustack_push(ustack_t *s, user_t *u)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        user_t **v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = u;
    return 0;
}

static void ustack_remove(ustack_t *s, user_t *u)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i] == u) {
            s->v[i] = s->v[--s->n];
            return;
        }
}

static int wlist_push(wlist_t *l, user_t *u, uint64_t t0)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct warming *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (struct warming){u, t0};
    return 0;
}

/* Removes u; returns when it began its warm-up, or 0 when it was not warming. */
static uint64_t wlist_remove(wlist_t *l, user_t *u)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].u == u) {
            uint64_t t0 = l->v[i].t0;
            l->v[i] = l->v[--l->n];
            return t0;
        }
    return 0;
}

static int tq_push(tqueue_t *q, uint64_t t)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        uint64_t *v = malloc(cap * sizeof *v);
        if (!v)
            return -1;
        for (size_t i = 0; i < q->n; i++)
            v[i] = q->v[(q->head + i) % q->cap];
        free(q->v);
        q->v = v;
        q->head = 0;
        q->cap = cap;
    }
    q->v[(q->head + q->n++) % q->cap] = t;
    return 0;
}

static uint64_t tq_pop(tqueue_t *q)
{
    uint64_t t = q->v[q->head];
    q->head = (q->head + 1) % q->cap;
    q->n--;
    return t;
}

/* Closed-model users of this process are numbered id / segments locally;
 * worker (local % threads) holds them at slot local / threads. */
static uint64_t slot_of(const worker_t *w, uint64_t id)
{
    return id / w->cfg.segments / w->cfg.threads;
}

/* ---- user callbacks */

static void on_user_end(user_t *u, void *arg)
{
    worker_t *w = arg;
    uint32_t cls = user_class(u);
    atomic_fetch_sub(&w->running[cls], 1);
    w->alive--;
    uint64_t slot = slot_of(w, user_id(u));
    if (slot < w->users_cap && w->users[slot] == u) {
        w->users[slot] = NULL;
        atomic_fetch_add(&w->ended, 1);
    } else {
        ustack_remove(&w->all_pool, u);
        ustack_remove(&w->free_pool[cls], u);
        if (wlist_remove(&w->warming[cls], u))
            atomic_fetch_sub(&w->n_warming, 1);
    }
    /* Freed from the loop: we are inside this user's own callbacks. */
    ustack_push(&w->dead, u);
    event_active(&w->ev_reap, EV_TIMEOUT, 1);
}

static void warm_done(worker_t *w, uint32_t cls, uint64_t t0);
static void keep_reserve(worker_t *w);

static void on_user_idle(user_t *u, void *arg)
{
    worker_t *w = arg;
    uint32_t cls = user_class(u);
    uint64_t t0 = wlist_remove(&w->warming[cls], u);
    if (t0)
        warm_done(w, cls, t0);
    if (w->backlog[cls].n && !w->stopping) {
        /* Latency from the due time: the wait for this user is the iteration's. */
        user_iteration(u, tq_pop(&w->backlog[cls]));
    } else if (w->stopping || (w->rate <= 0 && w->warm_rate <= 0)) {
        user_stop(u); /* no open stage any more: the pool empties */
        return;
    } else {
        ustack_push(&w->free_pool[cls], u);
    }
    /* The estimate may have grown: so does the reserve (u is counted again). */
    if (t0)
        keep_reserve(w);
}

/* ---- open model
 *
 * An iteration goes to a free pooled user of its class. A class with on_start
 * steps gets its users ahead of the schedule: each new user runs on_start (and
 * its think times) with no iteration, then waits in the free pool. The reserve
 * (free + warming users) is kept at rate x warm-up time + 1, so that a user
 * taken from it is replaced by one that is ready before the reserve runs dry;
 * the engine raises warm_rate a warm-up time before a stage needs it. An
 * iteration that still finds no free user waits in the backlog with its due
 * time, and that wait is in its latency. */

static void publish_warm_us(worker_t *w)
{
    double most = 0;
    for (size_t c = 0; c < w->cfg.plan->n_classes; c++)
        if (w->warm_est_s[c] > most)
            most = w->warm_est_s[c];
    atomic_store(&w->warm_us, (uint64_t)(most * 1e6));
}

/* A warm-up ended after now - t0. The estimate rises at once to a longer
 * warm-up (a reserve too small makes iterations wait) and falls slowly
 * (EWMA), never below the think times alone. */
static void warm_done(worker_t *w, uint32_t cls, uint64_t t0)
{
    atomic_fetch_sub(&w->n_warming, 1);
    uint64_t now = clk_mono_us();
    double took = now > t0 ? (double)(now - t0) / 1e6 : 0;
    double est = took > w->warm_est_s[cls] ? took : 0.9 * w->warm_est_s[cls] + 0.1 * took;
    w->warm_est_s[cls] = est > w->static_warm_s[cls] ? est : w->static_warm_s[cls];
    publish_warm_us(w);
}

static user_t *new_pool_user(worker_t *w, uint32_t cls)
{
    if (w->all_pool.n >= w->cfg.max_pool)
        return NULL;
    /* Pooled users are numbered apart from the closed ones of any segment. */
    uint64_t local = w->cfg.idx + w->cfg.threads * w->next_pool_id++;
    uint64_t id = w->cfg.segment + (uint64_t)w->cfg.segments * local;
    user_t *u = user_new(&w->env, id, cls, true);
    if (!u || ustack_push(&w->all_pool, u) != 0) {
        user_free(u);
        return NULL;
    }
    atomic_fetch_add(&w->running[cls], 1);
    w->alive++;
    return u;
}

/* Tops up the reserve of every class that has an on_start. */
static void keep_reserve(worker_t *w)
{
    double rate = w->rate > w->warm_rate ? w->rate : w->warm_rate;
    if (rate <= 0 || w->stopping)
        return;
    uint64_t now = clk_mono_us();
    for (uint32_t c = 0; c < w->cfg.plan->n_classes; c++) {
        if (w->cfg.plan->classes[c].on_start.n == 0)
            continue;
        double want_d = ceil(rate * w->share[c] * w->warm_est_s[c]) + 1;
        size_t want = want_d < (double)w->cfg.max_pool ? (size_t)want_d : w->cfg.max_pool;
        while (w->free_pool[c].n + w->warming[c].n < want) {
            user_t *u = new_pool_user(w, c);
            if (!u)
                return; /* the pool is full: iterations queue in the backlog */
            if (wlist_push(&w->warming[c], u, now) != 0) {
                user_stop(u);
                return;
            }
            atomic_fetch_add(&w->n_warming, 1);
            user_warm(u);
        }
    }
}

static uint32_t pick_class(worker_t *w)
{
    /* Smooth weighted round robin: deterministic, proportional at every count. */
    const plan_t *p = w->cfg.plan;
    int64_t total = 0;
    size_t best = 0;
    for (size_t i = 0; i < p->n_classes; i++) {
        w->wrr[i] += p->weights[i];
        total += p->weights[i];
        if (w->wrr[i] > w->wrr[best])
            best = i;
    }
    w->wrr[best] -= total;
    return (uint32_t)best;
}

static void start_iteration(worker_t *w, uint64_t due)
{
    uint32_t cls = pick_class(w);
    atomic_fetch_add(&w->scheduled, 1);
    ustack_t *fp = &w->free_pool[cls];
    if (fp->n) {
        user_iteration(fp->v[--fp->n], due);
        keep_reserve(w);
        return;
    }
    /* Without on_start a new user is ready at once. */
    if (w->cfg.plan->classes[cls].on_start.n == 0) {
        user_t *u = new_pool_user(w, cls);
        if (u) {
            user_iteration(u, due);
            return;
        }
    }
    /* No user free: the iteration waits, and its latency counts the wait. */
    tq_push(&w->backlog[cls], due);
    keep_reserve(w);
}

/* µs between iterations at rate (> 0): at least 1, and at most a day, so that
 * a tiny rate neither overflows the conversion nor schedules past the clock. */
static uint64_t interval_us(double rate)
{
    double us = 1e6 / rate;
    if (!(us >= 1))
        return 1;
    return us < 86400e6 ? (uint64_t)us : (uint64_t)86400e6;
}

static void sched_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker_t *w = arg;
    if (w->rate <= 0 || w->stopping)
        return;
    uint64_t interval = interval_us(w->rate);
    uint64_t now = clk_mono_us();
    while (w->next_due_us <= now) {
        w->last_due_us = w->next_due_us;
        start_iteration(w, w->next_due_us);
        w->next_due_us += interval;
    }
    uint64_t d = w->next_due_us - now;
    struct timeval tv = {(time_t)(d / 1000000), (suseconds_t)(d % 1000000)};
    evtimer_add(&w->ev_sched, &tv);
}

/* No open stage now or soon: idle pooled users run on_stop and go (those in
 * an iteration or a warm-up follow when it ends, see on_user_idle). */
static void drain_pool(worker_t *w)
{
    if (w->warm_rate > 0)
        return;
    for (size_t c = 0; c < w->cfg.plan->n_classes; c++) {
        ustack_t *fp = &w->free_pool[c];
        while (fp->n)
            user_stop(fp->v[--fp->n]);
    }
}

static void set_rate(worker_t *w, double rate)
{
    if (rate == w->rate)
        return;
    uint64_t now = clk_mono_us();
    if (w->rate <= 0 && rate > 0) {
        /* Workers interleave their schedules instead of starting together. */
        uint64_t iv = interval_us(rate);
        w->next_due_us = now + iv / w->cfg.threads * w->cfg.idx;
        /* As if one was due an interval before: a rate change measures from it. */
        w->last_due_us = w->next_due_us > iv ? w->next_due_us - iv : 0;
    } else if (rate > 0) {
        /* A faster rate (a ramp up from a few per second) takes effect now,
         * not after the slow interval already planned. */
        uint64_t sooner = w->last_due_us + interval_us(rate);
        if (sooner < now)
            sooner = now;
        if (sooner < w->next_due_us)
            w->next_due_us = sooner;
    }
    w->rate = rate;
    evtimer_del(&w->ev_sched);
    if (rate > 0) {
        keep_reserve(w);
        sched_cb(-1, 0, w);
        return;
    }
    drain_pool(w);
}

static void set_warm(worker_t *w, double rate)
{
    w->warm_rate = rate;
    if (rate > 0)
        keep_reserve(w);
    else if (w->rate <= 0)
        drain_pool(w);
}

/* ---- stop */

/* Ends every user now; their requests in flight count as unfinished. */
static void free_all_users(worker_t *w)
{
    for (size_t i = 0; i < w->users_cap; i++)
        if (w->users[i]) {
            user_abandon(w->users[i]);
            user_free(w->users[i]);
            w->users[i] = NULL;
            atomic_fetch_add(&w->ended, 1);
        }
    for (size_t i = 0; i < w->all_pool.n; i++) {
        user_abandon(w->all_pool.v[i]);
        user_free(w->all_pool.v[i]);
    }
    w->all_pool.n = 0;
    for (size_t c = 0; c < w->cfg.plan->n_classes; c++) {
        w->free_pool[c].n = 0;
        w->warming[c].n = 0;
        atomic_store(&w->running[c], 0);
    }
    for (size_t i = 0; i < w->dead.n; i++)
        user_free(w->dead.v[i]);
    w->dead.n = 0;
    w->alive = 0;
    atomic_store(&w->n_warming, 0);
}

static void stop_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker_t *w = arg;
    free_all_users(w);
    event_base_loopbreak(w->base);
}

static void begin_stop(worker_t *w)
{
    if (w->stopping)
        return;
    w->stopping = true;
    w->warm_rate = 0;
    set_rate(w, 0);
    /* Iterations that never found a user are counted, then dropped. */
    for (size_t c = 0; c < w->cfg.plan->n_classes; c++) {
        atomic_fetch_add(&w->not_started, w->backlog[c].n);
        w->backlog[c].n = 0;
    }
    struct timeval tv = {(time_t)(w->cfg.stop_timeout_us / 1000000),
                         (suseconds_t)(w->cfg.stop_timeout_us % 1000000)};
    evtimer_add(&w->ev_stop, &tv);
    /* user_stop may end a user at once, which edits these arrays: walk copies. */
    for (size_t i = 0; i < w->users_cap; i++)
        if (w->users[i])
            user_stop(w->users[i]);
    size_t n = w->all_pool.n;
    user_t **pool = n ? malloc(n * sizeof *pool) : NULL;
    if (pool) {
        memcpy(pool, w->all_pool.v, n * sizeof *pool);
        for (size_t i = 0; i < n; i++)
            user_stop(pool[i]);
        free(pool);
    }
    event_active(&w->ev_reap, EV_TIMEOUT, 1);
}

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker_t *w = arg;
    for (size_t i = 0; i < w->dead.n; i++)
        user_free(w->dead.v[i]);
    w->dead.n = 0;
    if (w->titer && w->alive == 0 && timed_iter_due(w->titer) == UINT64_MAX)
        atomic_store(&w->timed_over, true);
    if (w->stopping && w->alive == 0)
        event_base_loopbreak(w->base);
}

/* ---- timed replay */

static void start_user(worker_t *w, uint64_t id, uint32_t cls, const timed_start_t *ts);

/* Starts the users whose first step is due, and sleeps until the next one. */
static void timed_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker_t *w = arg;
    if (w->stopping)
        return;
    timed_start_t ts;
    uint64_t now = clk_mono_us(), ahead = w->cfg.timed->ahead_us;
    /* Users start ahead of their first step (--connect-ahead): it opens
     * their connection, then waits for its time (user.c timed_wait). */
    while (timed_iter_next(w->titer, now + ahead, &ts)) {
        /* Ids as start_user numbers this worker's users (slot = local). */
        uint64_t local = w->cfg.idx + (uint64_t)w->cfg.threads * ts.local;
        start_user(w, w->cfg.segment + (uint64_t)w->cfg.segments * local, ts.session, &ts);
    }
    uint64_t due = timed_iter_due(w->titer);
    if (due == UINT64_MAX) {
        event_active(&w->ev_reap, EV_TIMEOUT, 1); /* says timed_over once all have ended */
        return;
    }
    uint64_t d = due > now + ahead ? due - now - ahead : 0;
    struct timeval tv = {(time_t)(d / 1000000), (suseconds_t)(d % 1000000)};
    evtimer_add(&w->ev_timed, &tv);
}

/* ---- mailbox */

static void start_user(worker_t *w, uint64_t id, uint32_t cls, const timed_start_t *ts)
{
    uint64_t slot = slot_of(w, id);
    if (slot >= w->users_cap) {
        size_t cap = w->users_cap ? w->users_cap : 64;
        while (cap <= slot)
            cap *= 2;
        user_t **v = realloc(w->users, cap * sizeof *v);
        if (!v)
            return;
        memset(v + w->users_cap, 0, (cap - w->users_cap) * sizeof *v);
        w->users = v;
        w->users_cap = cap;
    }
    user_t *u = user_new(&w->env, id, cls, false);
    if (!u) {
        atomic_fetch_add(&w->ended, 1); /* never ran: counted so the run can end */
        return;
    }
    w->users[slot] = u;
    atomic_fetch_add(&w->running[cls], 1);
    w->alive++;
    if (ts)
        atomic_fetch_add(&w->tstarted[cls], 1);
    if (ts)
        user_timed(u, ts->base_us, w->cfg.timed->step_us[ts->session], w->cfg.timed->speed, ts->copy);
    user_start(u);
}

static void mbox_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    worker_t *w = arg;
    uint64_t n_wakes;
    if (read(fd, &n_wakes, sizeof n_wakes) < 0) {
        /* EAGAIN: a wake-up already consumed; the mailbox is read anyway. */
    }
    pthread_mutex_lock(&w->mu);
    worker_cmd_t *cmds = w->mb;
    size_t n = w->mb_n;
    w->mb = NULL;
    w->mb_n = w->mb_cap = 0;
    bool rate_set = w->mb_rate_set, stop = w->mb_stop, force = w->mb_force;
    bool warm_set = w->mb_warm_set;
    double rate = w->mb_rate, warm = w->mb_warm;
    w->mb_rate_set = w->mb_warm_set = false;
    pthread_mutex_unlock(&w->mu);

    if (force) {
        free(cmds);
        free_all_users(w);
        event_base_loopbreak(w->base);
        return;
    }
    for (size_t i = 0; i < n && !w->stopping; i++) {
        if (cmds[i].kind == WORKER_START) {
            start_user(w, cmds[i].id, cmds[i].cls, NULL);
        } else {
            uint64_t slot = slot_of(w, cmds[i].id);
            if (slot < w->users_cap && w->users[slot])
                user_stop(w->users[slot]);
        }
    }
    free(cmds);
    if (warm_set && !w->stopping)
        set_warm(w, warm);
    if (rate_set && !w->stopping)
        set_rate(w, rate);
    if (warm_set)
        atomic_fetch_add(&w->warm_acks, 1);
    if (stop)
        begin_stop(w);
}

static void wake(worker_t *w)
{
    uint64_t one = 1;
    if (write(w->wake_fd, &one, sizeof one) < 0) {
        /* EAGAIN: the counter is saturated, so a wake-up is pending anyway. */
    }
}

void worker_post(worker_t *w, const worker_cmd_t *cmds, size_t n)
{
    if (n == 0)
        return;
    pthread_mutex_lock(&w->mu);
    if (w->mb_n + n > w->mb_cap) {
        size_t cap = w->mb_cap ? w->mb_cap : 64;
        while (cap < w->mb_n + n)
            cap *= 2;
        worker_cmd_t *v = realloc(w->mb, cap * sizeof *v);
        if (!v) {
            pthread_mutex_unlock(&w->mu);
            return;
        }
        w->mb = v;
        w->mb_cap = cap;
    }
    memcpy(w->mb + w->mb_n, cmds, n * sizeof *cmds);
    w->mb_n += n;
    pthread_mutex_unlock(&w->mu);
    wake(w);
}

void worker_post_rate(worker_t *w, double rate)
{
    pthread_mutex_lock(&w->mu);
    w->mb_rate = rate;
    w->mb_rate_set = true;
    pthread_mutex_unlock(&w->mu);
    wake(w);
}

void worker_post_warm(worker_t *w, double rate)
{
    pthread_mutex_lock(&w->mu);
    w->mb_warm = rate;
    w->mb_warm_set = true;
    pthread_mutex_unlock(&w->mu);
    wake(w);
}

void worker_post_stop(worker_t *w, bool force)
{
    pthread_mutex_lock(&w->mu);
    w->mb_stop = true;
    w->mb_force |= force;
    pthread_mutex_unlock(&w->mu);
    wake(w);
}

/* ---- stats */

/* How often this thread hands its counts to the main thread. */
#define PUB_US 200000

/* What the live users hold (user_memory), so a run reports how much memory
 * a user costs: a walk over every user, once a second (every
 * MEM_EVERY-th publish), cheap beside the requests they make. */
static void user_mem(const worker_t *w, uint64_t *users, uint64_t *bytes)
{
    *users = *bytes = 0;
    for (size_t i = 0; i < w->users_cap; i++)
        if (w->users[i] != NULL) {
            ++*users;
            *bytes += user_memory(w->users[i]);
        }
    for (size_t i = 0; i < w->all_pool.n; i++) {
        ++*users;
        *bytes += user_memory(w->all_pool.v[i]);
    }
}

#define MEM_EVERY 5

static void publish(worker_t *w)
{
    uint64_t users = 0, bytes = 0;
    if (w->pubs++ % MEM_EVERY == 0)
        user_mem(w, &users, &bytes);
    pthread_mutex_lock(&w->mu);
    stats_merge(w->pub, w->cur);
    if (users > 0 && users >= w->mem_users) {
        w->mem_users = users;
        w->mem_bytes = bytes;
    }
    pthread_mutex_unlock(&w->mu);
    stats_reset(w->cur);
}

void worker_memory(worker_t *w, uint64_t *users, uint64_t *bytes)
{
    pthread_mutex_lock(&w->mu);
    *users = w->mem_users;
    *bytes = w->mem_bytes;
    pthread_mutex_unlock(&w->mu);
}

static void pub_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker_t *w = arg;
    publish(w);
    if (!w->pub_steady) {
        struct timeval period = {0, PUB_US};
        w->pub_steady = true;
        event_add(&w->ev_pub, &period);
    }
}

void worker_collect(worker_t *w, stats_t *into)
{
    pthread_mutex_lock(&w->mu);
    stats_merge(into, w->pub);
    stats_reset(w->pub);
    pthread_mutex_unlock(&w->mu);
}

uint32_t worker_running(const worker_t *w, uint32_t cls) { return atomic_load(&w->running[cls]); }
uint64_t worker_ended(const worker_t *w) { return atomic_load(&w->ended); }
bool worker_finished(const worker_t *w) { return atomic_load(&w->finished); }
uint64_t worker_warm_us(const worker_t *w) { return atomic_load(&w->warm_us); }
uint32_t worker_warming(const worker_t *w) { return atomic_load(&w->n_warming); }
uint64_t worker_warm_acks(const worker_t *w) { return atomic_load(&w->warm_acks); }
uint64_t worker_scheduled(const worker_t *w) { return atomic_load(&w->scheduled); }
uint64_t worker_not_started(const worker_t *w) { return atomic_load(&w->not_started); }
bool worker_timed_over(const worker_t *w) { return atomic_load(&w->timed_over); }
uint64_t worker_timed_started(const worker_t *w, uint32_t cls) { return atomic_load(&w->tstarted[cls]); }

/* ---- thread */

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    /* Five times a second (a merge under the mutex; nothing per request), half
     * a period out of step with the main thread's once-a-second rows, which
     * start with the threads: a publish that fell on a row's boundary went to
     * one row or the next by a millisecond of jitter, and under load (the open
     * model's stall) a second showed 1 600 started iterations and the next
     * 2 400 where 2 000 had started in each. Rows now lag the truth by ~100 ms. */
    struct timeval first = {0, PUB_US / 2};
    event_add(&w->ev_pub, &first);
    if (w->cfg.timed) {
        w->titer = timed_iter_new(w->cfg.timed, w->cfg.idx, w->cfg.threads, w->cfg.segment,
                                  w->cfg.segments, w->timed_t0_us ? w->timed_t0_us : clk_mono_us());
        if (w->titer)
            timed_cb(-1, 0, w);
        else
            atomic_store(&w->timed_over, true); /* out of memory: nothing to run here */
    }
    event_base_dispatch(w->base);
    free_all_users(w);
    publish(w);
    atomic_store(&w->finished, true);
    return NULL;
}

void worker_timed_t0(worker_t *w, uint64_t t0_us) { w->timed_t0_us = t0_us; }

int worker_spawn(worker_t *w)
{
    if (pthread_create(&w->th, NULL, worker_main, w) != 0)
        return -1;
    w->spawned = true;
    return 0;
}

void worker_join(worker_t *w)
{
    if (w->spawned)
        pthread_join(w->th, NULL);
    w->spawned = false;
}

worker_t *worker_new(const worker_cfg_t *cfg, char *err, size_t errlen)
{
    worker_t *w = calloc(1, sizeof *w);
    if (!w)
        goto oom;
    size_t nc = cfg->plan->n_classes;
    w->cfg = *cfg;
    if (w->cfg.segments == 0)
        w->cfg.segments = 1;
    w->wake_fd = -1;
    pthread_mutex_init(&w->mu, NULL);
    if (cfg->timed) {
        /* Steps are due to the µs: timers from the precise clock (a timerfd under
         * epoll) rather than the coarse one, which fires up to a tick late. */
        struct event_config *ec = event_config_new();
        if (ec) {
            event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
            w->base = event_base_new_with_config(ec);
            event_config_free(ec);
        }
    } else {
        w->base = event_base_new();
    }
    w->cur = stats_new(cfg->plan->names);
    w->pub = stats_new(cfg->plan->names);
    w->running = calloc(nc, sizeof *w->running);
    w->tstarted = calloc(nc, sizeof *w->tstarted);
    w->free_pool = calloc(nc, sizeof *w->free_pool);
    w->backlog = calloc(nc, sizeof *w->backlog);
    w->wrr = calloc(nc, sizeof *w->wrr);
    w->warming = calloc(nc, sizeof *w->warming);
    w->warm_est_s = calloc(nc, sizeof *w->warm_est_s);
    w->static_warm_s = calloc(nc, sizeof *w->static_warm_s);
    w->share = calloc(nc, sizeof *w->share);
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->wake_fd < 0 || !w->base || !w->cur || !w->pub || !w->running || !w->tstarted || !w->free_pool ||
        !w->backlog || !w->wrr || !w->warming || !w->warm_est_s || !w->static_warm_s || !w->share)
        goto oom;
    double wsum = 0;
    for (size_t c = 0; c < nc; c++)
        wsum += cfg->plan->weights[c];
    for (size_t c = 0; c < nc; c++)
        w->share[c] = wsum > 0 ? cfg->plan->weights[c] / wsum : 1.0 / (double)nc;
    for (size_t c = 0; c < nc; c++) {
        /* The think times of on_start are known; its requests are guessed at
         * 50 ms each until warm-ups are measured. */
        const plan_class_t *pc = &cfg->plan->classes[c];
        double thinks = 0;
        for (size_t i = 0; pc->wait.kind == SCN_WAIT_RECORDED && i < pc->on_start.n; i++)
            thinks += (double)pc->on_start.v[i].think_us / 1e6;
        w->static_warm_s[c] = thinks * cfg->think_scale;
        w->warm_est_s[c] = w->static_warm_s[c] + 0.05 * (double)pc->on_start.n;
    }
    publish_warm_us(w);
    /* the context is this worker's own: the system store loads at its first
     * TLS handshake, so a run without TLS does not pay for it */
    tls_client_opts_t to = {.insecure = cfg->insecure, .ca_file = cfg->ca_file,
                            .alpn = tls_alpn_http11, .alpn_len = tls_alpn_http11_len,
                            .lazy_system_store = true};
    w->ssl_ctx = tls_client_ctx_new(&to, err, errlen);
    if (!w->ssl_ctx)
        goto fail;
    if (user_env_init(&w->env, cfg->plan, w->base, w->cur,
                      cfg->seed ^ (0x9E3779B97F4A7C15ull * (cfg->idx + 1))) != 0)
        goto oom;
    w->env.conn.ssl_ctx = w->ssl_ctx;
    w->env.conn.connect_timeout_us = cfg->connect_timeout_us;
    w->env.think_scale = cfg->think_scale;
    w->env.iterations = cfg->iterations;
    w->env.on_end = on_user_end;
    w->env.on_idle = on_user_idle;
    w->env.arg = w;
    w->env.diff = cfg->diff;
    if (cfg->timed)
        w->env.connect_ahead_us = cfg->timed->ahead_us;
    if (cfg->timed && cfg->timed->limit_rate > 0) {
        double per_worker = cfg->timed->limit_rate / cfg->threads / (cfg->segments ? cfg->segments : 1);
        w->env.limit_gap_us = (uint64_t)(1e6 / per_worker) ? (uint64_t)(1e6 / per_worker) : 1;
    }
    if (cfg->script && !(w->env.scr = scr_open(cfg->script, (int)cfg->idx, cfg->threads, cfg->smet, err, errlen)))
        goto fail;
    if (cfg->timeout_us) {
        /* One common timeout: O(1) add/remove per request instead of a heap. */
        struct timeval tv = {(time_t)(cfg->timeout_us / 1000000),
                             (suseconds_t)(cfg->timeout_us % 1000000)};
        w->env.timeout_tv = event_base_init_common_timeout(w->base, &tv);
        w->env.timeout_us = cfg->timeout_us;
    }
    event_assign(&w->ev_mbox, w->base, w->wake_fd, EV_READ | EV_PERSIST, mbox_cb, w);
    event_add(&w->ev_mbox, NULL);
    event_assign(&w->ev_pub, w->base, -1, EV_PERSIST, pub_cb, w);
    evtimer_assign(&w->ev_sched, w->base, sched_cb, w);
    event_assign(&w->ev_reap, w->base, -1, 0, reap_cb, w);
    evtimer_assign(&w->ev_stop, w->base, stop_timeout_cb, w);
    evtimer_assign(&w->ev_timed, w->base, timed_cb, w);
    w->events = true;
    return w;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    worker_free(w);
    return NULL;
}

void worker_free(worker_t *w)
{
    if (!w)
        return;
    worker_join(w);
    /* The worker's own events go first: user_env_fini may run the loop once
     * (hc_env_fini) and nothing of the worker's may fire then. */
    if (w->events) {
        event_del(&w->ev_mbox);
        event_del(&w->ev_pub);
        event_del(&w->ev_sched);
        event_del(&w->ev_reap);
        event_del(&w->ev_stop);
        event_del(&w->ev_timed);
    }
    if (w->env.plan) {
        free_all_users(w);
        user_env_fini(&w->env);
    }
    timed_iter_free(w->titer);
    if (w->base)
        event_base_free(w->base);
    size_t nc = w->cfg.plan ? w->cfg.plan->n_classes : 0;
    for (size_t c = 0; w->free_pool && c < nc; c++)
        free(w->free_pool[c].v);
    for (size_t c = 0; w->backlog && c < nc; c++)
        free(w->backlog[c].v);
    for (size_t c = 0; w->warming && c < nc; c++)
        free(w->warming[c].v);
    free(w->warming);
    free(w->warm_est_s);
    free(w->static_warm_s);
    free(w->share);
    free(w->free_pool);
    free(w->backlog);
    free(w->all_pool.v);
    free(w->dead.v);
    free(w->users);
    free(w->wrr);
    free((void *)w->running);
    free((void *)w->tstarted);
    free(w->mb);
    SSL_CTX_free(w->ssl_ctx);
    if (w->wake_fd >= 0)
        close(w->wake_fd);
    stats_free(w->cur);
    stats_free(w->pub);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

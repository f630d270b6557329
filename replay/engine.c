/* engine: the controller of a run on the main thread (see engine.h). */
#include "engine.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "units.h"
#include "worker.h"

#define TICK_US 100000
#define SAMPLE_US 200000
#define LIVE_US 2000000
#define TIMED_LEAD_US 20000

/* Closed-model users the controller has started, per class, newest last:
 * ramping down stops the newest first. */
typedef struct idstack {
    uint64_t *v;
    size_t n, cap;
} idstack_t;

struct engine {
    engine_opts_t o;
    worker_t **w;
    size_t n_classes;
    idstack_t *assigned;          /* per class */
    uint32_t *want;               /* per class, scratch for shape_distribute */
    uint64_t *started_per_class;
    uint32_t *peak_per_class;
    uint64_t next_id;             /* global numbering, every segment */
    uint64_t own_started;         /* users of this segment started */
    uint32_t own_assigned;        /* users of this segment the shape wants now */
    worker_cmd_t **cmds;          /* per worker, batched per tick */
    size_t *n_cmds, *cap_cmds;
    double rate_sent, warm_sent;
    bool warm_needed;             /* some class has on_start: pool users warm up */
    stats_t *total, *interval;
    stats_history_t *history;
    json_t *samples;
    uint64_t t0_us, end_us;
    int64_t wall0_us;
    bool stopping, forced, failed_fast;
    uint64_t stop_deadline_us;
    uint32_t target_users;        /* this segment's share: the segments' sum is the shape's */
    double target_rate;           /* this segment's share, likewise */
    int stage;
};

engine_t *engine_new(const engine_opts_t *o, char *err, size_t errlen)
{
    engine_t *e = calloc(1, sizeof *e);
    if (!e)
        goto oom;
    e->o = *o;
    if (e->o.threads == 0)
        e->o.threads = 1;
    if (e->o.segments == 0)
        e->o.segments = 1;
    size_t nc = e->n_classes = o->plan->n_classes;
    unsigned nt = e->o.threads;
    e->w = calloc(nt, sizeof *e->w);
    e->assigned = calloc(nc, sizeof *e->assigned);
    e->want = calloc(nc, sizeof *e->want);
    e->started_per_class = calloc(nc, sizeof *e->started_per_class);
    e->peak_per_class = calloc(nc, sizeof *e->peak_per_class);
    e->cmds = calloc(nt, sizeof *e->cmds);
    e->n_cmds = calloc(nt, sizeof *e->n_cmds);
    e->cap_cmds = calloc(nt, sizeof *e->cap_cmds);
    e->total = stats_new(o->plan->names);
    e->interval = stats_new(o->plan->names);
    e->history = stats_history_new();
    e->samples = json_array();
    if (!e->w || !e->assigned || !e->want || !e->started_per_class || !e->peak_per_class ||
        !e->cmds || !e->n_cmds || !e->cap_cmds || !e->total || !e->interval || !e->history ||
        !e->samples)
        goto oom;
    for (size_t c = 0; c < nc; c++)
        if (o->plan->classes[c].on_start.n)
            e->warm_needed = true;
    for (unsigned i = 0; i < nt; i++) {
        worker_cfg_t cfg = {
            .plan = o->plan, .idx = i, .threads = nt, .iterations = o->iterations,
            .timeout_us = o->timeout_us, .connect_timeout_us = o->connect_timeout_us,
            .stop_timeout_us = o->stop_timeout_us, .think_scale = o->think_scale,
            .max_pool = (o->max_users + nt - 1 - i) / nt, .insecure = o->insecure,
            .ca_file = o->ca_file, .seed = o->seed, .segment = e->o.segment,
            .segments = e->o.segments, .timed = o->timed, .script = o->script,
            .diff = o->diff,
            .smet = o->smet,
        };
        e->w[i] = worker_new(&cfg, err, errlen);
        if (!e->w[i])
            goto fail;
    }
    return e;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    engine_free(e);
    return NULL;
}

void engine_free(engine_t *e)
{
    if (!e)
        return;
    for (unsigned i = 0; e->w && i < e->o.threads; i++)
        worker_free(e->w[i]);
    for (size_t c = 0; e->assigned && c < e->n_classes; c++)
        free(e->assigned[c].v);
    for (unsigned i = 0; e->cmds && i < e->o.threads; i++)
        free(e->cmds[i]);
    free(e->w);
    free(e->assigned);
    free(e->want);
    free(e->started_per_class);
    free(e->peak_per_class);
    free(e->cmds);
    free(e->n_cmds);
    free(e->cap_cmds);
    stats_free(e->total);
    stats_free(e->interval);
    stats_history_free(e->history);
    json_decref(e->samples);
    free(e);
}

/* ---- commands to workers, batched per tick */

/* Queues a command for the worker of user id, when the user is this segment's. */
static void queue_cmd(engine_t *e, uint32_t kind, uint32_t cls, uint64_t id)
{
    if (id % e->o.segments != e->o.segment)
        return;
    unsigned t = (unsigned)(id / e->o.segments % e->o.threads);
    if (e->n_cmds[t] == e->cap_cmds[t]) {
        size_t cap = e->cap_cmds[t] ? e->cap_cmds[t] * 2 : 64;
        worker_cmd_t *v = realloc(e->cmds[t], cap * sizeof *v);
        if (!v)
            return;
        e->cmds[t] = v;
        e->cap_cmds[t] = cap;
    }
    e->cmds[t][e->n_cmds[t]++] = (worker_cmd_t){kind, cls, id};
}

static void flush_cmds(engine_t *e)
{
    for (unsigned t = 0; t < e->o.threads; t++) {
        worker_post(e->w[t], e->cmds[t], e->n_cmds[t]);
        e->n_cmds[t] = 0;
    }
}

static int idstack_push(idstack_t *s, uint64_t id)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        uint64_t *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = id;
    return 0;
}

/* Starts or stops closed-model users so that each class has want[c]. */
static void apply_users(engine_t *e)
{
    for (size_t c = 0; c < e->n_classes; c++) {
        idstack_t *s = &e->assigned[c];
        while (s->n < e->want[c]) {
            uint64_t id = e->next_id;
            if (idstack_push(s, id) != 0)
                break;
            e->next_id++;
            if (id % e->o.segments == e->o.segment) {
                e->started_per_class[c]++;
                e->own_started++;
                e->own_assigned++;
            }
            queue_cmd(e, WORKER_START, (uint32_t)c, id);
        }
        while (s->n > e->want[c]) {
            uint64_t id = s->v[--s->n];
            if (id % e->o.segments == e->o.segment)
                e->own_assigned--;
            queue_cmd(e, WORKER_STOP, (uint32_t)c, id);
        }
    }
    flush_cmds(e);
}

/* Worker t's share of the arrival rate: its share of the pool (--max-users
 * split over the threads), so that a worker with no pool users gets none. */
static double worker_share(const engine_t *e, unsigned t)
{
    unsigned nt = e->o.threads;
    uint32_t max = e->o.max_users ? e->o.max_users : nt;
    uint32_t pool = (max + nt - 1 - t) / nt;
    return (double)pool / (double)max / e->o.segments;
}

static void set_rate(engine_t *e, double rate)
{
    if (rate == e->rate_sent)
        return;
    e->rate_sent = rate;
    for (unsigned t = 0; t < e->o.threads; t++)
        worker_post_rate(e->w[t], rate * worker_share(e, t));
}

/* How far ahead pool users are readied: the longest measured warm-up of any
 * worker plus a second, at most two minutes. */
static uint64_t warm_lead_us(const engine_t *e)
{
    uint64_t most = 0;
    for (unsigned t = 0; t < e->o.threads; t++) {
        uint64_t w = worker_warm_us(e->w[t]);
        if (w > most)
            most = w;
    }
    most += 1000000;
    return most < 120000000 ? most : 120000000;
}

/* The highest arrival rate the shape asks for from t to t + the lead. */
static double warm_rate_at(const engine_t *e, uint64_t t)
{
    uint64_t lead = warm_lead_us(e);
    double most = 0;
    for (uint64_t d = 0; d <= lead; d += TICK_US) {
        shape_point_t p = shape_at(e->o.shape, t + d);
        if (p.stage < e->o.shape->n && p.kind == SHAPE_RATE && p.rate > most)
            most = p.rate;
    }
    return most;
}

static void set_warm(engine_t *e, double rate)
{
    if (!e->warm_needed || rate == e->warm_sent)
        return;
    e->warm_sent = rate;
    for (unsigned t = 0; t < e->o.threads; t++)
        worker_post_warm(e->w[t], rate * worker_share(e, t));
}

static void begin_stop(engine_t *e, bool force)
{
    if (force) {
        if (e->forced)
            return;
        e->forced = true;
    } else if (e->stopping) {
        return;
    }
    if (!e->stopping)
        e->stop_deadline_us = clk_mono_us() + e->o.stop_timeout_us + 2000000;
    e->stopping = true;
    for (unsigned t = 0; t < e->o.threads; t++)
        worker_post_stop(e->w[t], force);
}

static uint64_t ended_total(const engine_t *e)
{
    uint64_t n = 0;
    for (unsigned t = 0; t < e->o.threads; t++)
        n += worker_ended(e->w[t]);
    return n;
}

static uint32_t running_class(const engine_t *e, size_t c)
{
    uint32_t n = 0;
    for (unsigned t = 0; t < e->o.threads; t++)
        n += worker_running(e->w[t], (uint32_t)c);
    return n;
}

/* Timed replay: the workers keep the schedule; over when all of them ran every
 * session (or at -t). */
static void control_timed(engine_t *e, uint64_t t)
{
    bool over = true;
    for (unsigned i = 0; i < e->o.threads && over; i++)
        over = worker_timed_over(e->w[i]);
    if (over || (e->o.timed_duration_us && t >= e->o.timed_duration_us))
        begin_stop(e, false);
}

/* Follows the shape at time t; decides when the run is over. */
static void control(engine_t *e, uint64_t t)
{
    if (e->o.timed) {
        control_timed(e, t);
        return;
    }
    shape_point_t p = shape_at(e->o.shape, t);
    if (p.stage >= e->o.shape->n) {
        begin_stop(e, false);
        return;
    }
    e->stage = (int)p.stage + 1;
    if (e->warm_needed)
        set_warm(e, warm_rate_at(e, t));
    if (p.kind == SHAPE_RATE) {
        memset(e->want, 0, e->n_classes * sizeof *e->want);
        apply_users(e);
        e->target_users = 0;
        e->target_rate = p.rate / e->o.segments; /* this segment's share (sum() over segments) */
        /* A ramp is followed in tick steps, each at the rate of its middle, so
         * that the iterations of a tick are those of the line. */
        shape_point_t mid = shape_at(e->o.shape, t + TICK_US / 2);
        set_rate(e, mid.stage == p.stage ? mid.rate : p.rate);
        return;
    }
    set_rate(e, 0);
    e->target_rate = 0;
    shape_distribute(e->o.plan->weights, e->n_classes, p.users, e->want);
    apply_users(e);
    /* The users of the global numbering that are this segment's (all of them
     * without --segment): summed over the segments, the shape's target. */
    e->target_users = e->own_assigned;
    /* --iterations: over when the ramp is complete and every user has ended. */
    if (e->o.iterations && p.users == p.target && p.target > 0 && ended_total(e) == e->own_started)
        begin_stop(e, false);
}

/* ---- once a second: stats, history, live line, metrics, fail-fast */

static uint32_t running_total(const engine_t *e)
{
    uint32_t n = 0;
    for (size_t c = 0; c < e->n_classes; c++)
        n += running_class(e, c);
    return n;
}

/* Iterations per second the shape asked for from t0 to t1 (µs), on average:
 * the sum of the open stages' rates over 10 ms steps. */
static double shape_mean_rate(const shape_t *sh, uint64_t t0, uint64_t t1)
{
    if (t1 <= t0)
        return 0;
    double sum = 0;
    uint64_t n = 0;
    for (uint64_t t = t0 + 5000; t < t1; t += 10000, n++) {
        shape_point_t p = shape_at(sh, t);
        if (p.stage < sh->n && p.kind == SHAPE_RATE)
            sum += p.rate;
    }
    return n ? sum / (double)n : 0;
}

static void collect(engine_t *e, double t, double interval_s)
{
    stats_reset(e->interval);
    for (unsigned i = 0; i < e->o.threads; i++)
        worker_collect(e->w[i], e->interval);
    stats_merge(e->total, e->interval);
    /* The row's events are those handed over up to ~100 ms before t (see
     * worker.c): its targets are of the same window, the target rate its mean,
     * the target users those at its end (0 when the window ends in an open
     * stage, so a row does not say "target 0" while the pool runs). */
    double lag = 0.1, t1 = t > lag ? t - lag : 0, t0 = t1 > interval_s ? t1 - interval_s : 0;
    shape_point_t at = shape_at(e->o.shape, (uint64_t)(t1 * 1e6));
    /* With --segment the target is this segment's share of the numbered users
     * (e->target_users, kept by apply_users), which the shape alone cannot give. */
    uint32_t target_users = e->o.segments == 1 && at.stage < e->o.shape->n && at.kind == SHAPE_USERS
                                ? at.users
                                : e->target_users;
    if (at.stage < e->o.shape->n && at.kind == SHAPE_RATE)
        target_users = 0;
    stats_history_add(e->history, t, running_total(e), target_users, interval_s, e->interval);
    stats_history_set_rate(e->history, shape_mean_rate(e->o.shape, (uint64_t)(t0 * 1e6),
                                                       (uint64_t)(t1 * 1e6)) / e->o.segments);
}

static void live_line(engine_t *e, double t)
{
    size_t n = stats_history_len(e->history);
    if (n == 0)
        return;
    const stats_second_t *s = stats_history_at(e->history, n - 1);
    const stats_entry_t *tot = stats_total(e->total);
    char p50[32], p99[32];
    units_fmt_duration(s->p50_us, p50, sizeof p50);
    units_fmt_duration(s->p99_us, p99, sizeof p99);
    char load[64];
    /* An open stage asks for a rate, not users: "users 88/0" would mislead. */
    if (s->target_rate > 0 && s->target_users == 0)
        snprintf(load, sizeof load, "users %u | %.0f/%.0f it/s", s->users, s->iterations_per_s,
                 s->target_rate);
    else
        snprintf(load, sizeof load, "users %u/%u", s->users, e->target_users);
    fprintf(stderr, "[%6.1fs] %s | %.0f req/s | p50 %s p99 %s | failures %llu (%.2f%%)\n", t, load,
            s->rps, p50, p99, (unsigned long long)tot->failures,
            tot->count ? 100.0 * (double)tot->failures / (double)tot->count : 0.0);
}

static void publish_metrics(engine_t *e, double t)
{
    uint32_t per_class[e->n_classes ? e->n_classes : 1];
    for (size_t c = 0; c < e->n_classes; c++)
        per_class[c] = running_class(e, c);
    metrics_state_t st = {.users_per_class = per_class, .target_users = e->target_users,
                          .stage = e->stopping ? 0 : e->stage, .target_rate = e->target_rate,
                          .elapsed_s = t, .script = e->o.smet};
    metrics_publish(e->o.metrics, e->total, &st);
}

static double steps_requests(const plan_steps_t *st)
{
    double n = 0;
    for (size_t i = 0; i < st->n; i++)
        n += (double)st->v[i].n;
    return n;
}

/* Requests the whole run will make, when that is known in advance (closed
 * model with --iterations and one stage; open-model stages): lets --fail-fast
 * call an error-rate threshold lost before the end. 0 when unknown. */
static double planned_requests(const engine_t *e)
{
    const plan_t *p = e->o.plan;
    const shape_t *sh = e->o.shape;
    double wsum = 0;
    for (size_t c = 0; c < p->n_classes; c++)
        wsum += p->weights[c];
    if (e->o.iterations && sh->n == 1 && sh->stages[0].kind == SHAPE_USERS) {
        uint32_t want[e->n_classes ? e->n_classes : 1];
        shape_distribute(p->weights, e->n_classes, sh->stages[0].users, want);
        double n = 0;
        for (size_t c = 0; c < p->n_classes; c++)
            n += want[c] * (steps_requests(&p->classes[c].on_start) +
                            (double)e->o.iterations * steps_requests(&p->classes[c].tasks) +
                            steps_requests(&p->classes[c].on_stop));
        return n / e->o.segments;
    }
    double n = 0;
    for (size_t i = 0; i < sh->n; i++) {
        if (sh->stages[i].kind != SHAPE_RATE)
            return 0;
        double per_it = 0;
        for (size_t c = 0; c < p->n_classes; c++)
            per_it += p->weights[c] / wsum * steps_requests(&p->classes[c].tasks);
        double mean = (sh->stages[i].rate + sh->stages[i].rate_to) / 2;
        n += mean * ((double)sh->stages[i].duration_us / 1e6) * per_it;
    }
    return n / e->o.segments;
}

static void check_fail_fast(engine_t *e, double t)
{
    json_t *meta = json_pack("{s:f}", "planned_requests", planned_requests(e));
    json_t *rep = stats_report_json(e->total, e->o.plan->names, e->history, t, e->wall0_us, meta);
    json_decref(meta);
    if (rep && verdict_lost(e->o.fail_fast, rep)) {
        log_warn("--fail-fast: a threshold can no longer pass; stopping the run");
        e->failed_fast = true;
        begin_stop(e, false);
    }
    json_decref(rep);
}

static void sample(engine_t *e, double t)
{
    /* Thinned for long runs: every 200 ms for the first 10 minutes, then every 2 s. */
    if (json_array_size(e->samples) >= 3000 && ((uint64_t)(t * 5)) % 10 != 0)
        return;
    json_t *pc = json_array();
    uint32_t total = 0;
    for (size_t c = 0; c < e->n_classes; c++) {
        uint32_t n = running_class(e, c);
        if (n > e->peak_per_class[c])
            e->peak_per_class[c] = n;
        total += n;
        json_array_append_new(pc, json_integer(n));
    }
    json_array_append_new(e->samples, json_pack("{s:f, s:i, s:i, s:f, s:o}", "t", t, "users",
                                                (json_int_t)total, "target",
                                                (json_int_t)e->target_users, "rate",
                                                e->target_rate, "per_class", pc));
}

static bool all_finished(const engine_t *e)
{
    for (unsigned t = 0; t < e->o.threads; t++)
        if (!worker_finished(e->w[t]))
            return false;
    return true;
}

/* Before the clock starts: when the run opens with an open stage whose classes
 * have on_start, the first pool users run it now (bounded by the lead plus
 * 10 s), so the first second starts its iterations like any other. A signal
 * ends the wait and the run. Returns the signals taken. */
static int prewarm(engine_t *e, sigset_t *set)
{
    double rate = warm_rate_at(e, 0);
    if (!e->warm_needed || rate <= 0 || e->stopping)
        return 0;
    uint64_t deadline = clk_mono_us() + warm_lead_us(e) + 10000000;
    set_warm(e, rate);
    log_info("open model: pool users run on_start before the clock starts (about %.1f s each)",
             (double)warm_lead_us(e) / 1e6 - 1);
    for (;;) {
        bool ready = true;
        for (unsigned t = 0; t < e->o.threads; t++)
            if (worker_warm_acks(e->w[t]) == 0 || worker_warming(e->w[t]) > 0)
                ready = false;
        if (ready || clk_mono_us() > deadline)
            return 0;
        struct timespec ts = {0, 20 * 1000000};
        if (sigtimedwait(set, NULL, &ts) > 0) {
            log_info("stopping: users finish their request and run on_stop (signal again "
                     "to stop at once)");
            begin_stop(e, false);
            return 1;
        }
    }
}

int engine_run(engine_t *e)
{
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    /* Blocked here before the threads start, so they inherit it and the main
     * thread alone takes the signals, synchronously, in sigtimedwait. */
    pthread_sigmask(SIG_BLOCK, &set, &old);

    e->t0_us = clk_mono_us();
    e->wall0_us = clk_wall_us();
    /* One clock for every worker's schedule, a little ahead so that the
     * threads are running when the first steps are due, and the users due
     * first have their connections open in time (--connect-ahead). */
    uint64_t lead = TIMED_LEAD_US;
    if (e->o.timed && e->o.timed->ahead_us > lead)
        lead = e->o.timed->ahead_us;
    for (unsigned i = 0; e->o.timed && i < e->o.threads; i++)
        worker_timed_t0(e->w[i], e->t0_us + lead);
    unsigned spawned = 0;
    for (; spawned < e->o.threads; spawned++)
        if (worker_spawn(e->w[spawned]) != 0) {
            log_error("cannot start worker thread %u", spawned);
            break;
        }
    if (spawned < e->o.threads)
        begin_stop(e, true);
    int signals = prewarm(e, &set);
    uint64_t warmed = clk_mono_us();
    if (warmed > e->t0_us + TICK_US) {
        /* The clock starts after the warm-up, on a whole number of the
         * workers' hand-over periods (200 ms) so rows stay out of step with
         * hand-overs (see worker.c). */
        uint64_t periods = (warmed - e->t0_us + 199999) / 200000;
        uint64_t t0 = e->t0_us + periods * 200000;
        e->wall0_us = clk_wall_us() + (int64_t)(t0 - warmed);
        e->t0_us = t0;
    }

    uint64_t next_tick = e->t0_us, next_sec = e->t0_us + 1000000;
    uint64_t next_live = e->t0_us + LIVE_US, next_sample = e->t0_us, last_collect = e->t0_us;
    for (;;) {
        uint64_t now = clk_mono_us();
        if (now < next_tick) {
            uint64_t d = next_tick - now;
            struct timespec ts = {(time_t)(d / 1000000), (long)(d % 1000000) * 1000};
            int sig = sigtimedwait(&set, NULL, &ts);
            if (sig > 0) {
                if (++signals == 1)
                    log_info("stopping: users finish their request and run on_stop (signal again "
                             "to stop at once)");
                begin_stop(e, signals > 1);
            }
            continue;
        }
        next_tick += TICK_US;
        if (next_tick < now)
            next_tick = now + TICK_US;
        uint64_t t = now - e->t0_us;
        if (!e->stopping)
            control(e, t);
        if (now >= next_sample) {
            sample(e, (double)t / 1e6);
            next_sample += SAMPLE_US;
        }
        if (now >= next_sec) {
            collect(e, (double)t / 1e6, (double)(now - last_collect) / 1e6);
            last_collect = now;
            next_sec += 1000000;
            if (e->o.metrics)
                publish_metrics(e, (double)t / 1e6);
            if (e->o.fail_fast && !e->stopping)
                check_fail_fast(e, (double)t / 1e6);
        }
        if (e->o.live && now >= next_live) {
            live_line(e, (double)t / 1e6);
            next_live += LIVE_US;
        }
        if (e->stopping) {
            if (all_finished(e))
                break;
            if (now > e->stop_deadline_us)
                begin_stop(e, true);
        }
    }
    for (unsigned i = 0; i < e->o.threads; i++)
        worker_join(e->w[i]);
    e->end_us = clk_mono_us();
    uint64_t not_started = 0;
    for (unsigned i = 0; i < e->o.threads; i++)
        not_started += worker_not_started(e->w[i]);
    if (not_started)
        log_warn("open model: %llu scheduled iterations never started: no pooled user was free "
                 "(--max-users) before the run ended; see \"open_model\" in the report",
                 (unsigned long long)not_started);
    /* The last partial second. */
    uint64_t t = e->end_us - e->t0_us;
    collect(e, (double)t / 1e6, (double)(e->end_us - last_collect) / 1e6);
    sample(e, (double)t / 1e6);
    if (e->o.metrics)
        publish_metrics(e, (double)t / 1e6);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return 0;
}

stats_t *engine_total(engine_t *e) { return e->total; }
const stats_history_t *engine_history(const engine_t *e) { return e->history; }
int64_t engine_started_wall_us(const engine_t *e) { return e->wall0_us; }
bool engine_failed_fast(const engine_t *e) { return e->failed_fast; }

bool engine_nothing_planned(const engine_t *e)
{
    const shape_t *sh = e->o.shape;
    /* A timed replay's plan is the recording's sessions, not the shape. */
    if (e->o.timed)
        return timed_users(e->o.timed, e->o.segment, e->o.segments) == 0;
    if (e->own_started > 0)
        return false;
    for (size_t i = 0; i < sh->n; i++) {
        const shape_stage_t *st = &sh->stages[i];
        /* users 0..U-1 of a stage's first ramp; a segment at or past U gets none */
        if (st->kind == SHAPE_RATE ? st->rate > 0 : st->users > e->o.segment)
            return false;
    }
    return true;
}

double engine_duration_s(const engine_t *e)
{
    return e->end_us > e->t0_us ? (double)(e->end_us - e->t0_us) / 1e6 : 0.0;
}

json_t *engine_meta(const engine_t *e)
{
    json_t *classes = json_array();
    for (size_t c = 0; c < e->n_classes; c++) {
        uint64_t started = e->started_per_class[c];
        for (unsigned t = 0; e->o.timed && t < e->o.threads; t++)
            started += worker_timed_started(e->w[t], (uint32_t)c);
        json_array_append_new(
            classes, json_pack("{s:s, s:i, s:i, s:i}", "name", e->o.plan->classes[c].name,
                               "weight", (json_int_t)e->o.plan->weights[c], "users_peak",
                               (json_int_t)e->peak_per_class[c], "users_started",
                               (json_int_t)started));
    }
    uint64_t users = 0, bytes = 0;
    for (unsigned t = 0; t < e->o.threads; t++) {
        uint64_t u, b;
        worker_memory(e->w[t], &u, &b);
        users += u;
        bytes += b;
    }
    json_t *mem = json_pack("{s:i, s:i, s:i}", "users", (json_int_t)users, "bytes", (json_int_t)bytes,
                            "bytes_per_user", (json_int_t)(users ? bytes / users : 0));
    char seg[32];
    snprintf(seg, sizeof seg, "%u/%u", e->o.segment, e->o.segments);
    json_t *meta = json_pack("{s:o, s:i, s:O, s:b, s:s, s:o}", "classes", classes, "threads",
                             (json_int_t)e->o.threads, "user_samples", e->samples, "interrupted",
                             e->forced, "segment", seg, "user_memory", mem);
    uint64_t sched = 0, not_started = 0;
    for (unsigned t = 0; t < e->o.threads; t++) {
        sched += worker_scheduled(e->w[t]);
        not_started += worker_not_started(e->w[t]);
    }
    if (meta && sched)
        json_object_set_new(meta, "open_model",
                            json_pack("{s:I, s:I}", "scheduled", (json_int_t)sched, "not_started",
                                      (json_int_t)not_started));
    return meta;
}

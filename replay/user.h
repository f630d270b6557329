/* user: one virtual user, a small state machine advanced by callbacks.
 *
 *   NEW ──start──► ON_START ──► TASKS ──(loop; or --iterations reached)──► ON_STOP ──► DONE
 *                                 │  ▲                                        ▲
 *       open model:  iteration    ▼  │ next iteration                          │
 *                                IDLE ───────────── stop ─────────────────────┘
 *
 * Within a phase the user runs its steps in order; a serial step's requests
 * run one after the other; a parallel step's requests start together (on h2 as
 * streams of the user's one connection to the origin, on HTTP/1.1 over up to
 * max_conns_per_host connections) and the step ends when the last one ended.
 * Then the user waits (the class wait after task steps, or the recorded think
 * time) on its timer. While requests are in flight the same timer is the
 * request timeout (one for a whole parallel step). user_stop lets the request in
 * flight finish, then runs on_stop; a thinking or idle user goes to on_stop at
 * once. A WebSocket step (wsrun.h) runs as one session on a connection of its
 * own, allocated while the step runs; a background one runs beside the steps
 * that follow and the phase ends when it closed too; user_stop lets each
 * finish the await in flight, then close. Every transition happens on the
 * user's worker thread. */
#ifndef AIOTEST_USER_H
#define AIOTEST_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hc.h"
#include "plan.h"
#include "render.h"
#include "stats.h"
#include "wsrun.h"

typedef struct user user_t;

/* Per-thread environment of the users of one worker. */
typedef struct user_env {
    hc_env_t conn;                   /* shared by every connection of the thread */
    const plan_t *plan;
    stats_t *stats;                  /* this thread's stats (written only here) */
    uint64_t rng;                    /* xorshift state for generators and waits */
    const struct timeval *timeout_tv;/* --timeout as a libevent common timeout, NULL: none */
    uint64_t timeout_us;             /* the same in µs (a common timeout's fields are coded) */
    double think_scale;              /* multiplies every wait (1 = as written) */
    uint64_t iterations;             /* closed model: passes per user, 0 = until stopped */
    /* A user reached DONE (after on_stop). Called from the user's callbacks:
     * free the user later, not inside this call. */
    void (*on_end)(user_t *u, void *arg);
    /* Open model: a pooled user finished its iteration and is free. */
    void (*on_idle)(user_t *u, void *arg);
    void *arg;
    render_t rd;                     /* per-thread request rendering */
    hc_header_t *grpc_hdrs;          /* a gRPC request's headers plus te and grpc-timeout */
    size_t grpc_hdrs_cap;
    char grpc_timeout[16];
    /* Timed replay --limit-rate: a step of n requests takes n slots this far apart;
     * the next free slot (this thread's share of the cap). 0: no cap. */
    uint64_t limit_gap_us, limit_next_us;
    /* Timed replay --connect-ahead: a step whose connection is closed has it
     * opened this long before the step is due (0: when it is due). */
    uint64_t connect_ahead_us;
    /* --diff: each response compared with the recorded one (replay/diff.h); NULL: none. */
    const struct diff *diff;
    /* Origins met at run time (templated URLs, redirects), this thread only. */
    plan_origin_t **extra;
    size_t n_extra;
    struct scr *scr;                 /* this thread's Lua hooks (script.h), NULL: none */
    wsr_env_t ws;                    /* WebSocket steps (wsrun.h) */
} user_env_t;

/* Sets env up for plan over base (conn callbacks, buffers). 0 or -1 (out of memory). */
int user_env_init(user_env_t *env, const plan_t *plan, struct event_base *base, stats_t *stats,
                  uint64_t seed);
void user_env_fini(user_env_t *env);

/* A user of class cls with global number id (user_id, CSV row). pooled: an
 * open-model user that runs one iteration per user_iteration call. NULL on out
 * of memory. */
user_t *user_new(user_env_t *env, uint64_t id, uint32_t cls, bool pooled);
/* Closes the connections and frees, whatever the state (no callback). */
void user_free(user_t *u);
/* The run is over for u (stop timeout, forced stop): records every request
 * still in flight as STATS_FAIL_UNFINISHED (latency up to now; a failure
 * already decided but not yet delivered keeps its own category), so that no
 * request sent goes uncounted. No callback; call before user_free. */
void user_abandon(user_t *u);

/* Closed model: on_start, then the tasks in a loop. */
void user_start(user_t *u);
/* Open model: one pass of the tasks (after on_start the first time); the first
 * task request's latency counts from sched_us, the time the iteration was due
 * (so a wait for this user's on_start is in it). */
void user_iteration(user_t *u, uint64_t sched_us);
/* Open model: runs a new pooled user's on_start (and its think times) with no
 * iteration; then the user is idle (env->on_idle), ready for user_iteration
 * without a wait. Called on another state: nothing happens. */
void user_warm(user_t *u);
/* Iterations (passes of the tasks) this user has finished. */
uint64_t user_iterations(const user_t *u);
/* Timed replay (before user_start): task step k is due at base_us + step_us[k] /
 * speed (monotonic µs; step_us has one value per task step and must outlive u).
 * The user waits for each step's time instead of think times, runs its tasks
 * once, counts each step's lag behind schedule (stats_lag) and measures the
 * latency of its requests from the step's due time (or the --limit-rate slot
 * when later). copy is set as the variable {{copy}} when templates use it. */
void user_timed(user_t *u, uint64_t base_us, const uint64_t *step_us, double speed, uint32_t copy);
/* Graceful stop: the request in flight finishes, then on_stop runs. */
void user_stop(user_t *u);

uint64_t user_id(const user_t *u);
uint32_t user_class(const user_t *u);
bool user_done(const user_t *u);
/* Bytes this user holds now (struct, variables, cookie jar, connection slots). */
size_t user_memory(const user_t *u);

#endif

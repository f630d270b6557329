/* engine: the worker threads and the main-thread controller of a run.
 *
 * Workers: one libevent event_base each. Closed-model users are numbered
 * globally in the order the shape starts them and live on worker (id % threads)
 * for their whole life; open-model users come from a per-class pool on each
 * worker. A worker records into its own stats_t and publishes it five times a second
 * under its mutex; nothing on the request path takes a lock.
 *
 * Main thread (engine_run): every 100 ms it reads the shape (shape_at), maps
 * the user count to classes (shape_distribute) and posts start/stop commands
 * or the per-worker arrival rate into the workers' mailboxes (mutex +
 * event_active); every second it merges the workers' stats into the history,
 * the live line and the metrics snapshot. SIGINT/SIGTERM: graceful stop (users
 * finish the request in flight and run on_stop, bounded by the stop timeout);
 * a second signal stops at once. Either way the totals stay readable. */
#ifndef AIOTEST_ENGINE_H
#define AIOTEST_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "metrics.h"
#include "plan.h"
#include "shape.h"
#include "stats.h"
#include "timed.h"
#include "verdict.h"

typedef struct engine_opts {
    const plan_t *plan;
    const shape_t *shape;
    unsigned threads;             /* >= 1 */
    uint64_t iterations;          /* closed model: passes per user, 0 = loop */
    uint64_t timeout_us;          /* per request, 0 = none */
    uint64_t connect_timeout_us;
    uint64_t stop_timeout_us;     /* graceful stop bound */
    double think_scale;
    uint32_t max_users;           /* open model: pooled users, all workers together */
    bool insecure;
    const char *ca_file;
    uint64_t seed;
    bool live;                    /* live line on stderr every 2 s */
    metrics_t *metrics;           /* NULL: none */
    const verdict_t *fail_fast;   /* stop as soon as a threshold is lost; NULL: never */
    const char *script;           /* --script: Lua hooks, one state per worker; NULL: none */
    struct smet *smet;            /* the script's metrics, writers 0..threads-1 for the
                                     workers (published with the metrics); NULL: none */
    unsigned segment, segments;   /* --segment K/N: this process runs closed-model users
                                     with id % N == K and 1/N of the arrival rate */
    const timed_t *timed;         /* timed replay instead of the shape (which is then
                                     unused): over when every session ran, or at
                                     timed_duration_us (0: none) */
    uint64_t timed_duration_us;
    const struct diff *diff;      /* --diff: responses compared with the recording; NULL: none */
} engine_opts_t;

typedef struct engine engine_t;

/* Prepares threads' resources (event bases, TLS contexts, stats). Returns NULL
 * with err (TLS CA file unreadable, out of memory). */
engine_t *engine_new(const engine_opts_t *o, char *err, size_t errlen);
void engine_free(engine_t *e);

/* Runs until the shape ends, --iterations are done, a signal or --fail-fast.
 * Blocks SIGINT/SIGTERM in the calling thread while it runs. Returns 0. */
int engine_run(engine_t *e);

/* After engine_run: merged totals, per-second history, run length and start. */
stats_t *engine_total(engine_t *e);
const stats_history_t *engine_history(const engine_t *e);
double engine_duration_s(const engine_t *e);
int64_t engine_started_wall_us(const engine_t *e);
/* True when --fail-fast ended the run. */
bool engine_failed_fast(const engine_t *e);
/* True after a run whose shape gave this segment nothing to do: no user of the
 * global numbering (more segments than users) and no arrival rate; in a timed
 * replay, no session of the recording for this segment. False when users were
 * planned but not started (a stop during the ramp). */
bool engine_nothing_planned(const engine_t *e);
/* Users by class (peak and started), threads and the user-count samples
 * (every 200 ms: t, target, users, per class), for the report's meta. New reference. */
json_t *engine_meta(const engine_t *e);

#endif

/* worker: one load thread of the engine: an event_base, its users, its stats.
 * The main thread talks to it only through the mailbox (commands, arrival
 * rate, stop) and reads back published stats and user counts; see engine.h. */
#ifndef AIOTEST_WORKER_H
#define AIOTEST_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"
#include "stats.h"
#include "timed.h"

typedef struct worker worker_t;

typedef struct worker_cfg {
    const plan_t *plan;
    unsigned idx, threads;
    uint64_t iterations, timeout_us, connect_timeout_us, stop_timeout_us;
    double think_scale;
    uint32_t max_pool;            /* open model: pooled users on this worker */
    bool insecure;
    const char *ca_file;
    uint64_t seed;
    unsigned segment, segments;   /* --segment K/N: ids with id % N == K run here */
    const char *script;           /* Lua hooks (script.h): this worker's own state; NULL: none */
    struct smet *smet;            /* the script's metrics (smetric.h): this worker writes
                                     its slot array idx; NULL: none */
    const timed_t *timed;         /* timed replay: this worker starts its share of the
                                     recording's sessions on its own clock; NULL: none */
    const struct diff *diff;      /* --diff (diff.h), timed or not; NULL: none */
} worker_cfg_t;

typedef enum worker_cmd_kind { WORKER_START = 0, WORKER_STOP = 1 } worker_cmd_kind_t;
typedef struct worker_cmd {
    uint32_t kind;
    uint32_t cls;
    uint64_t id;                  /* global user number; (id / segments) % threads == idx */
} worker_cmd_t;

/* Returns NULL with err (TLS context, out of memory). */
worker_t *worker_new(const worker_cfg_t *cfg, char *err, size_t errlen);
void worker_free(worker_t *w);
/* Timed replay, before worker_spawn: the monotonic time at which the recording
 * starts, the same for every worker (threads start some ms apart). */
void worker_timed_t0(worker_t *w, uint64_t t0_us);
/* Starts the thread. 0 or -1. */
int worker_spawn(worker_t *w);
void worker_join(worker_t *w);

/* ---- main thread -> worker (mutex + event_active, a few times a second). */
void worker_post(worker_t *w, const worker_cmd_t *cmds, size_t n);
/* Open model: iterations per second this worker starts (0 = none). */
void worker_post_rate(worker_t *w, double rate);
/* Open model: the most iterations per second this worker will start within a
 * warm-up time from now; pooled users of classes with on_start are readied for
 * it ahead of the schedule (0 = none soon). */
void worker_post_warm(worker_t *w, double rate);
/* Graceful stop (force false) or immediate stop. */
void worker_post_stop(worker_t *w, bool force);

/* ---- worker -> main thread. */
/* Adds what the worker published since the last call to into, then clears it. */
void worker_collect(worker_t *w, stats_t *into);
uint32_t worker_running(const worker_t *w, uint32_t cls);
/* Closed-model users ended (all of them, whatever the reason). */
uint64_t worker_ended(const worker_t *w);
/* Open model: how long a new pooled user's on_start takes (the longest class,
 * measured; think times alone before any was measured), in µs. */
uint64_t worker_warm_us(const worker_t *w);
/* Pooled users in their on_start now, and warm rates taken from the mailbox
 * (the engine waits for both before the clock of a run starts). */
uint32_t worker_warming(const worker_t *w);
uint64_t worker_warm_acks(const worker_t *w);
/* Open model: iterations that fell due on this worker, and those of them that
 * never found a free user before the run stopped (queued, then dropped). */
uint64_t worker_scheduled(const worker_t *w);
uint64_t worker_not_started(const worker_t *w);
/* Timed replay: every user of the schedule has started and ended (never with --loop). */
bool worker_timed_over(const worker_t *w);
/* Timed replay: users of class cls this worker started. */
uint64_t worker_timed_started(const worker_t *w, uint32_t cls);
/* The users the worker held at the publish with the most of them, and the
 * bytes they held then (user_memory); 0, 0 before any user lived. */
void worker_memory(worker_t *w, uint64_t *users, uint64_t *bytes);
/* The loop has exited and the final stats are published. */
bool worker_finished(const worker_t *w);

#endif

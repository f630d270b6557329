/* timed: the schedule of a timed replay (docs/aiotest-replay.md, "Timed replay").
 *
 * A timed replay drives users from a recording's clock instead of a shape:
 * session s (plan class s) becomes one user per copy, whose task step k is due
 * at   t0 + loop * length / speed + copy * spread / copies + step_us[s][k] / speed.
 * This module only computes who starts when; the worker creates the users
 * (user_timed gives them their step times) and the stats keep the lag. */
#ifndef AIOTEST_TIMED_H
#define AIOTEST_TIMED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct timed {
    const uint64_t *const *step_us; /* [session][step]: µs after the recording's start */
    const size_t *n_steps;          /* [session] */
    size_t n_sessions;              /* = the plan's classes */
    uint64_t length_us;             /* recording length: the period of --loop */
    double speed;                   /* > 0; 2 = twice as fast */
    bool loop;                      /* start again when the recording ends (until -t) */
    uint32_t copies;                /* >= 1: users per session */
    uint64_t spread_us;             /* copies' starts spread over this (copy k at k*spread/copies) */
    double limit_rate;              /* most steps started per second, all threads; 0: no cap */
    uint64_t ahead_us;              /* --connect-ahead: users start (and open their first
                                     * step's connection) this long before it is due */
} timed_t;

/* A user to start. */
typedef struct timed_start {
    uint64_t local;                 /* this worker's user number (0, 1, 2 ...) */
    uint32_t session;
    uint32_t copy;
    uint64_t base_us;               /* monotonic µs: step k is due at base_us + step_us[k] / speed */
    uint64_t due_us;                /* when its first step is due (the user starts then) */
} timed_start_t;

typedef struct timed_iter timed_iter_t;

/* The starts of one worker: the users numbered g = session * copies + copy with
 * g % segments == segment and (g / segments) % threads == idx, the recording
 * starting at t0_us. NULL on out of memory. */
timed_iter_t *timed_iter_new(const timed_t *t, unsigned idx, unsigned threads, unsigned segment,
                             unsigned segments, uint64_t t0_us);
void timed_iter_free(timed_iter_t *it);
/* The next start due at or before now into *out (true), in due order; false
 * when none is due yet or the schedule is over. The worker passes its clock
 * plus t->ahead_us, to start users that much ahead of their first step. */
bool timed_iter_next(timed_iter_t *it, uint64_t now_us, timed_start_t *out);
/* When the next start is due; UINT64_MAX when the schedule is over (no
 * --loop, every start made, or a worker with no user at all). */
uint64_t timed_iter_due(const timed_iter_t *it);

/* Users (sessions x copies, sessions with steps only) of segment K of N, as
 * timed_iter_new numbers them over all threads. */
uint64_t timed_users(const timed_t *t, unsigned segment, unsigned segments);

/* Parses a --speed value: "2", "2x", "10X", "50%" (= 0.5). Returns 0 or -1
 * (not a number > 0). */
int timed_parse_speed(const char *s, double *out);

#endif

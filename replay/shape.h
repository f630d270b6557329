/* shape: the load shape of stages.conf (docs/aiotest-replay.md, "Shape file").
 *   <duration> <users> <spawn-rate>          closed model: ramp to users at spawn-rate/s
 *   rate <duration> <iterations/s> [<to>]    open model: iterations start on schedule,
 *                                            ramping linearly to <to>/s when given
 * '#' starts a comment; blank lines are ignored; durations take units (30s, 5m, 1h). */
#ifndef AIOTEST_SHAPE_H
#define AIOTEST_SHAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum shape_kind { SHAPE_USERS = 0, SHAPE_RATE = 1 } shape_kind_t;

typedef struct shape_stage {
    shape_kind_t kind;
    uint64_t duration_us;
    uint32_t users;      /* SHAPE_USERS: target user count */
    double spawn_rate;   /* SHAPE_USERS: users started (or stopped) per second */
    double rate;         /* SHAPE_RATE: iterations started per second at the start */
    double rate_to;      /* SHAPE_RATE: at the end (== rate without a ramp) */
    int line;            /* line in the file, for messages */
} shape_stage_t;

typedef struct shape {
    shape_stage_t *stages;
    size_t n;
} shape_t;

/* Parses a stages file. Returns 0, or -1 with err "FILE:LINE:COL: what was expected"
 * (numbers out of range, hex, signs, inf and nan refused; see docs/shape-file.md). */
int shape_load(const char *path, shape_t *out, char *err, size_t errlen);
/* Parses from text (name used in messages). */
int shape_parse(const char *text, const char *name, shape_t *out, char *err, size_t errlen);
/* One closed stage from -u/-r/-t (duration 0 = until --iterations or a signal). */
void shape_single(shape_t *out, uint32_t users, double spawn_rate, uint64_t duration_us);
void shape_fini(shape_t *s);

uint64_t shape_total_us(const shape_t *s);

/* Where the shape is at time t (µs since start): the stage index (n when the
 * shape is over), and for closed stages the user count to have now, ramping
 * from the previous stage's count at its spawn rate; for open stages the rate
 * at t (a ramp's rate moves linearly over its stage). */
typedef struct shape_point {
    size_t stage;        /* == s->n when finished */
    shape_kind_t kind;
    uint32_t users;      /* users wanted now */
    uint32_t target;     /* the stage's user target */
    double rate;         /* iterations/s wanted at t (SHAPE_RATE) */
} shape_point_t;
shape_point_t shape_at(const shape_t *s, uint64_t t_us);

/* Users per class for a total: class weights map to counts deterministically and
 * proportionally at every total (largest remainder, ties to the earlier class);
 * weights 3:1 with 8 -> 6,2; with 1 -> the heavier class. out has n_classes slots. */
void shape_distribute(const uint32_t *weights, size_t n_classes, uint32_t total, uint32_t *out);

#endif

/* opts: the options of a conversion (aiotest-convert's flags, or replay's
 * defaults when it runs a recording directly). Apart from convert.h so the
 * pipeline's stages (pick.c ...) can read them without depending on the
 * pipeline that calls them. */
#ifndef AIOTEST_CONV_OPTS_H
#define AIOTEST_CONV_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct rec_exchange; /* recording.h */

typedef enum conv_think {
    CONV_THINK_KEEP = 0,  /* recorded gaps as they were */
    CONV_THINK_SCALE = 1, /* recorded gaps times think_scale */
    CONV_THINK_NONE = 2,  /* no pauses (class wait SCN_WAIT_NONE) */
    CONV_THINK_MAX = 3,   /* recorded gaps capped at think_max_us */
} conv_think_t;

typedef struct conv_opts {
    uint64_t session_gap_us;      /* 0: a client key is one session; else a pause this long starts a new visit */
    uint64_t parallel_window_us;  /* default 50 ms */
    uint64_t asset_gap_us;        /* a page's asset starting this soon after its group ends joins it (500 ms; 0: off) */
    conv_think_t think;
    double think_scale;           /* CONV_THINK_SCALE */
    uint64_t think_max_us;        /* CONV_THINK_MAX */
    size_t max_classes;           /* 0: no limit; else the rarest classes merge into the nearest */
    bool correlate;               /* default true */
    const char *data_csv;         /* --data: CSV whose header row names variables, or NULL */
    const char *const *include_hosts; /* only these hosts (NULL/0: all) */
    size_t n_include_hosts;
    const char *const *exclude_hosts;
    size_t n_exclude_hosts;
    const char *const *exclude_paths; /* POSIX extended regexes on the request target */
    size_t n_exclude_paths;
    bool no_static;               /* drop images, fonts, css, js */
    FILE *report;                 /* correlation lines and the filter summary; NULL: silent */
    /* Timed replay (conv_to_timed): every session one class; with timed_by_connection a
     * session is one recorded connection. */
    bool timed_by_connection;
    /* A caller's rule (aiotest-replay --include/--exclude): exchanges it returns
     * false for are left out, counted in dropped_rule. NULL: none. */
    bool (*keep)(void *arg, const struct rec_exchange *x);
    void *keep_arg;
} conv_opts_t;

/* Defaults: no session gap, 50 ms parallel window, 500 ms asset gap, think keep, no class
 * limit, correlation on, no filters, report NULL. */
void conv_opts_init(conv_opts_t *o);

#endif

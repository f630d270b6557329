/* cvscript: aiotest-convert --script FILE, the Lua hook request(req, ctx) run
 * on every request of the drafted scenario (after correlation, before it is
 * written): it may change the request's name, method, url, headers, body and
 * redirect following, or return false to leave the request out (a step left
 * without requests goes too). docs/scripting.md, "Convert: request(req, ctx)".
 * Unlike replay and capture, convert is a one-shot tool: an error in the hook
 * is an input error naming the request (the caller exits 2). */
#ifndef AIOTEST_CONV_CVSCRIPT_H
#define AIOTEST_CONV_CVSCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "scenario.h"

typedef struct cvscr cvscr_t;

/* Loads path (its top level runs once). NULL with err: "--script: FILE:LINE:
 * message", no function request, no Lua in this build. */
cvscr_t *cvscr_new(const char *path, char *err, size_t errlen);
void cvscr_free(cvscr_t *c);

typedef struct cvscr_stats {
    uint64_t seen, dropped, steps_dropped;
} cvscr_stats_t;

/* Runs the hook on every request of s (classes in order; on_start, tasks,
 * on_stop; steps and requests in order) and validates s after it. 0, or -1
 * with err naming the class, phase, step and request ("class 'c' tasks step
 * 3 request 1 (GET /x): FILE:LINE: message"); s is then partly changed. */
int cvscr_apply(cvscr_t *c, scn_scenario_t *s, cvscr_stats_t *st, char *err, size_t errlen);

#endif

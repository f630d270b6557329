/* steps: one session's requests as steps. A request joins the current
 * parallel group when it overlaps the request before it (started while that
 * one was in flight), or starts within the parallel window after it while a
 * request of the group is still in flight (a browser fetching a page's
 * assets), or is an asset of the page the group loads starting within the
 * asset gap after the group's last answer (the same burst spread over
 * HTTP/1.1 connections); the others are serial. Gaps between steps are think times. The
 * requests up to a login go to on_start, a logout and what follows to on_stop. */
#ifndef AIOTEST_CONV_STEPS_H
#define AIOTEST_CONV_STEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "opts.h"
#include "recording.h"

typedef struct step_plan {
    size_t first, n;     /* requests [first, first + n) of the session */
    bool parallel;       /* n > 1 */
    uint64_t think_us;   /* pause after the step, after the --think rule */
} step_plan_t;

typedef struct step_sections {
    size_t start_end;    /* steps [0, start_end) are on_start (0: none) */
    size_t stop_begin;   /* steps [stop_begin, n) are on_stop (n: none) */
} step_sections_t;

/* Plans the steps of xs[0..n) (sorted by start time). *out (caller frees) has
 * *n_out steps. Returns 0 or -1 (out of memory). */
int steps_plan(const rec_exchange_t *const *xs, size_t n, const conv_opts_t *o,
               step_plan_t **out, size_t *n_out);

/* The page x is an asset of: its Referer, when x is a subresource
 * (Sec-Fetch-Dest image, script, style, font ...; without that header, a
 * static type by pick_is_static). NULL otherwise (a document, a fetch/XHR,
 * no Referer). */
const char *steps_asset_page(const rec_exchange_t *x);

/* The think time of a recorded gap under the --think rule of o. */
uint64_t steps_think(uint64_t gap_us, const conv_opts_t *o);

/* True when x is a login: a POST whose response sets a cookie or returns a
 * token (a JSON field whose name holds "token", "jwt" or "session"). */
bool steps_is_login(const rec_exchange_t *x);

/* True when x is a logout (path holds logout, signout, log_out, sign-out...). */
bool steps_is_logout(const rec_exchange_t *x);

/* Where on_start ends and on_stop begins. Both are left empty when they would
 * leave no task step. */
step_sections_t steps_sections(const rec_exchange_t *const *xs, const step_plan_t *p, size_t n_steps);

#endif

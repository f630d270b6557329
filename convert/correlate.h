/* correlate: values a response returns (Set-Cookie, JSON fields, Location,
 * other headers, hidden form inputs) that a later request sends back become an
 * extractor on the earliest such response and a {{variable}} in the later
 * requests, so each virtual user replays with its own token, CSRF value, id. */
#ifndef AIOTEST_CONV_CORRELATE_H
#define AIOTEST_CONV_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "recording.h"
#include "scenario.h"

/* One session: xs[i] was recorded as reqs[i] (edited in place); step_of[i]
 * is its step. A value a response offers (offer.h) is weighed at the first
 * response that offers it, and taken only for requests of later steps (a
 * Location only by a request to exactly that URL), and only when no request
 * up to that response's step sent it already (then the client knew it).
 * report (may be NULL) gets one line per correlation, prefixed with who
 * ("class 'x'"). Adds the extractors made to *made and, when checks is not
 * NULL, the requests searched for a value to *checks: an index keeps that
 * near the number of requests that hold each value, not requests times
 * values (tests watch it). Returns 0 or -1 (out of memory). */
int corr_run(const rec_exchange_t *const *xs, scn_request_t *reqs, const size_t *step_of, size_t n,
             const char *who, FILE *report, size_t *made, size_t *checks);

#endif

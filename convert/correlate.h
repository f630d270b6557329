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

/* What a response offers: a value and how the replay finds it again. */
typedef struct corr_cand {
    char *value;
    scn_ext_kind_t kind;
    char *expr;        /* header/cookie name, JSON path or regex */
    int group;         /* regex group */
    char *base;        /* variable name it suggests ("token", "csrf") */
    bool whole_url;    /* a Location: only a later request to exactly that URL uses it */
} corr_cand_t;

typedef struct corr_cands {
    corr_cand_t *v;
    size_t n;
} corr_cands_t;

/* Every candidate value of x's response, longest first. Returns 0 or -1. */
int corr_candidates(const rec_exchange_t *x, corr_cands_t *out);
void corr_cands_fini(corr_cands_t *c);

/* True for a value worth correlating: long enough to be an id or a token
 * (>= 6 bytes, or >= 4 with a digit), no blanks, not true/false/null. */
bool corr_worth(const char *v);

/* One session: xs[i] was recorded as reqs[i] (edited in place); step_of[i]
 * is its step. A value is taken from a response only for requests of later
 * steps (a Location only by a request to exactly that URL), and only when no request up to that response's step sent it already
 * (then the client knew it). report (may be NULL) gets one line per
 * correlation, prefixed with who ("class 'x'"). Adds to *made. Returns 0 or -1. */
int corr_run(const rec_exchange_t *const *xs, scn_request_t *reqs, const size_t *step_of, size_t n,
             const char *who, FILE *report, size_t *made);

#endif

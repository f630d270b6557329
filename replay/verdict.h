/* verdict: pass/fail for CI.
 *   --fail-on 'p99<300ms,p95[GET /api/search]<100ms,errors<1%,rps>500'
 *   --baseline previous.json --tolerance 10%
 * A threshold is METRIC[SELECTOR] OP VALUE; METRIC one of p50 p90 p95 p99 p99.9
 * avg max min (durations), errors (percent of failed requests), rps, count;
 * SELECTOR "METHOD NAME" of one entry (default: the total), or an entry's whole
 * name (names often begin with the method: "GET /api/search"); OP < <= > >=. */
#ifndef AIOTEST_VERDICT_H
#define AIOTEST_VERDICT_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

typedef struct verdict verdict_t;

/* Parses a --fail-on list. Returns NULL with err naming the bad item and what
 * was expected ("'p99<300': expected a duration with a unit ..."; the caller
 * adds "--fail-on: "). */
verdict_t *verdict_parse(const char *spec, char *err, size_t errlen);
void verdict_free(verdict_t *v);

/* Evaluates the thresholds on a JSON report (stats_report_json). Prints one line
 * per threshold to out ("PASS p99<300ms: 212.0ms" / "FAIL ..."). Returns true
 * when all pass. */
bool verdict_check(const verdict_t *v, const json_t *report, FILE *out);

/* With --fail-fast: true when a threshold is already lost for good (a count-based
 * metric that can no longer recover, e.g. errors over the limit with the rest of the
 * planned requests assumed ok). Lost for good: count< / max< already over the
 * limit, min> already under it, and errors< when the report has a top-level
 * "planned_requests" (e.g. from meta with --iterations) and failures / planned
 * already exceed the limit. Percentiles and rps can always recover. */
bool verdict_lost(const verdict_t *v, const json_t *report_so_far);

/* Compares report with baseline, entry by entry (matched by method and name):
 * p50/p95/p99 and error rate may be worse by at most tolerance (0.10 = 10 %),
 * rps lower by at most tolerance. Prints each regression; returns true when none.
 * Latencies within 1 ms of the baseline and error rates within 0.1 percentage
 * point are never regressions (noise); the Aggregated row is compared too;
 * entries of the baseline absent from the report are noted, not failed. */
bool verdict_baseline(const json_t *report, const json_t *baseline, double tolerance, FILE *out);

#endif

/* verdict: pass/fail for CI.
 *   --fail-on 'p99<300ms,p95[GET /api/search]<100ms,errors<1%,rps>500'
 *   --baseline previous.json --tolerance 10%,2ms --tolerance p99=20%,5ms --compare p50,p99
 * A threshold is METRIC[SELECTOR] OP VALUE; METRIC one of p50 p90 p95 p99 p99.9
 * avg max min (durations), errors (percent of failed requests), rps, count,
 * diff (percent of the responses compared by --diff that differ from the recording);
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
 * per threshold to out ("PASS p99<300ms: 212.0ms" / "FAIL ..."), and when lines
 * is an array appends {"threshold", "passed", "value"} per threshold to it (for
 * the report's "thresholds"). Returns true when all pass. */
bool verdict_check(const verdict_t *v, const json_t *report, FILE *out, json_t *lines);

/* With --fail-fast: true when a threshold is already lost for good (a count-based
 * metric that can no longer recover, e.g. errors over the limit with the rest of the
 * planned requests assumed ok). Lost for good: count< / max< already over the
 * limit, min> already under it, and errors< when the report has a top-level
 * "planned_requests" (e.g. from meta with --iterations) and failures / planned
 * already exceed the limit. Percentiles and rps can always recover. */
bool verdict_lost(const verdict_t *v, const json_t *report_so_far);

/* ---- --baseline: what is compared and how much worse is allowed.
 * Metrics: p50 p90 p95 p99 p99.9 avg (latency), errors (failure percentage),
 * rps. Default set: p50 p95 p99 errors rps; rps only when both reports say
 * "paced": true (open model or think times), since an unpaced closed model's
 * rate measures the generator's machine. A metric regresses when the run's
 * value exceeds baseline * (1 + relative) + absolute (rps: falls below
 * baseline * (1 - relative) - absolute). Defaults: p50 and avg 10%,2ms; p90
 * and p95 10%,5ms; p99 20%,10ms; p99.9 20%,25ms; errors 10%,0.5pp; rps 10%.
 * A percentile pX is compared only when both runs have 20 requests beyond it
 * (count >= 20 / (1 - X/100)); errors, avg and rps need 40 requests. */
typedef struct verdict_cmp verdict_cmp_t;

/* tolerances: the --tolerance values, each a comma list of items: "10%"
 * (relative, every metric), "2ms" (latency floor), "0.5pp" (errors floor),
 * "5/s" (rps floor), a bare fraction "0.1" (relative), and "METRIC=..." which
 * sets that metric alone, following values included ("p99=20%,5ms"); a
 * per-metric item wins over a global one whatever the order. compare: the
 * --compare list, NULL for the default set. Returns NULL with err ("--tolerance
 * 'x': ...: expected ...") on a bad item. */
verdict_cmp_t *verdict_cmp_new(const char *const *tolerances, size_t n, const char *compare,
                               char *err, size_t errlen);
void verdict_cmp_free(verdict_cmp_t *c);

/* Compares report with baseline, entry by entry (matched by method and name)
 * and the Aggregated row. Prints to out a table of every comparison (entry,
 * metric, baseline, this run, change, allowed, ok/regression/skipped with the
 * reason), then one "REGRESSION LABEL METRIC: ..." line per regression, notes
 * (entries absent from this run, rps not compared), and "PASS baseline: ..." or
 * "FAIL baseline: ...". *passed: no regression. Returns the same as JSON for
 * the report's "baseline" (docs/report-format.md); NULL on out of memory. */
json_t *verdict_baseline(const verdict_cmp_t *c, const json_t *report, const json_t *baseline,
                         const char *baseline_name, FILE *out, bool *passed);

#endif

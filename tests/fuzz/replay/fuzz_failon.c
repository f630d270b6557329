/* Fuzz target of the --fail-on parser (replay/verdict.c): any list parses or is
 * refused with a message; what parses is evaluated against a small report
 * (every metric kind and a selector that may or may not match) without a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "verdict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char report_text[] =
    "{\"duration_s\": 10, \"planned_requests\": 100,"
    " \"entries\": [{\"method\": \"GET\", \"name\": \"/api/search\", \"count\": 40, \"failures\": 1,"
    "  \"rps\": 4.0, \"latency_ms\": {\"min\": 1, \"avg\": 2, \"p50\": 2, \"p90\": 3, \"p95\": 4,"
    "  \"p99\": 5, \"p99.9\": 6, \"max\": 7}}],"
    " \"total\": {\"method\": \"\", \"name\": \"Aggregated\", \"count\": 40, \"failures\": 1,"
    "  \"rps\": 4.0, \"latency_ms\": {\"min\": 1, \"avg\": 2, \"p50\": 2, \"p90\": 3, \"p95\": 4,"
    "  \"p99\": 5, \"p99.9\": 6, \"max\": 7}}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = malloc(size + 1);
    if (!spec)
        return 0;
    memcpy(spec, data, size);
    spec[size] = '\0';
    char err[256] = "";
    verdict_t *v = verdict_parse(spec, err, sizeof err);
    if (!v) {
        if (!err[0])
            abort(); /* a refusal says why */
    } else {
        json_t *report = json_loads(report_text, 0, NULL);
        FILE *sink = fopen("/dev/null", "w");
        if (report && sink) {
            (void)verdict_check(v, report, sink, NULL);
            (void)verdict_lost(v, report);
        }
        if (sink)
            fclose(sink);
        json_decref(report);
        verdict_free(v);
    }
    free(spec);
    return 0;
}

/* diff: replayed responses compared with the recorded ones (aiotest-replay
 * --diff, docs/aiotest-replay.md "Response diff"). Built once from the
 * recording before the run, read-only afterwards (shared by every thread).
 *
 * Compared: the status; the media type of Content-Type; for JSON bodies the
 * shape (the set of key paths with their value types: "$.user:string",
 * "$.items[]:object"...), and with values on the values too; for other bodies
 * the length, within a relative tolerance. A body the recording or the
 * replay kept only in part (--max-body) is compared by status and type only. */
#ifndef AIOTEST_DIFF_H
#define AIOTEST_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "extract.h"
#include "scenario.h"

typedef struct diff diff_t;

typedef struct diff_opts {
    bool values;                  /* --diff-values: JSON values must match too */
    double length_tolerance;      /* other bodies: |replayed - recorded| <= this * recorded */
} diff_opts_t;

/* NULL on out of memory. */
diff_t *diff_new(const diff_opts_t *o);
void diff_free(diff_t *d);
/* The recorded response of the request src (a pointer into the scenario, which
 * must outlive d). Returns 0 or -1 (out of memory). */
int diff_add(diff_t *d, const scn_request_t *src, int status, const char *content_type,
             const uint8_t *body, size_t len, bool truncated);
/* After the last diff_add, before diff_compare. Returns 0 or -1. */
int diff_seal(diff_t *d);
size_t diff_count(const diff_t *d);

/* Compares resp, the answer to src, with the recording. Returns a mask of
 * 1 << stats_diff_t (0: the same, or no recorded response for src); when not
 * 0, ex gets one line "METHOD PATH: KIND: recorded ...; replayed ...". Thread-safe. */
unsigned diff_compare(const diff_t *d, const scn_request_t *src, const char *method, const char *path,
                      const resp_view_t *resp, char *ex, size_t exlen);

/* The shape of a JSON text: its key paths with value types, sorted, one a line
 * ("$:object\n$.a:number\n$.a.b[]:string"). NULL when not JSON (or out of
 * memory); the caller frees. */
char *diff_json_shape(const char *text, size_t len);

#endif

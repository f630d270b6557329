/* draft: a scenario request made from a recorded exchange, and the edits the
 * later stages make to it (a recorded value replaced by a {{template}}, an
 * extractor added). */
#ifndef AIOTEST_CONV_DRAFT_H
#define AIOTEST_CONV_DRAFT_H

#include <stdbool.h>
#include <stddef.h>

#include "recording.h"
#include "scenario.h"

/* Fills r (zeroed by the caller) from x: stats name, method, url (a path when
 * x's origin is default_origin, else absolute), the headers the replay may
 * send as recorded (pick_header_dropped), the body, and a status check when
 * the recorded answer was an error (so the replay expects the same).
 * Returns 0 or -1 (out of memory; r is then for scn_request_fini). */
int draft_from_exchange(const rec_exchange_t *x, const char *default_origin, scn_request_t *r);

/* Position of the next occurrence of value in hay[from..len) that stands as a
 * whole token (no letter or digit glued to an alphanumeric end of it) and lies
 * outside any {{...}}; -1 when none. */
long draft_find(const char *hay, size_t len, size_t from, const char *value, size_t vlen);

/* Calls fn on each text of r that values are searched and replaced in: the
 * url, the header values but Referer and Origin (they repeat where the
 * browser was, not data it sends), the body (len bytes, may hold NULs). */
void draft_each_text(const scn_request_t *r, void (*fn)(const char *text, size_t len, void *ctx), void *ctx);

/* Occurrences of value in the texts draft_each_text names. */
size_t draft_count(const scn_request_t *r, const char *value);

/* Replaces every occurrence draft_count counts by
 * repl. Returns the number replaced, or -1 (out of memory). */
long draft_replace(scn_request_t *r, const char *value, const char *repl);

/* Appends an extractor var <- kind/expr. The request keeps its
 * Accept-Encoding: the replay decodes what it extracts from. Returns 0 or -1. */
int draft_add_extractor(scn_request_t *r, const char *var, scn_ext_kind_t kind, const char *expr, int group);

/* Origin "scheme://authority" of x into buf. Returns buf. */
char *draft_origin(const rec_exchange_t *x, char *buf, size_t len);

#endif

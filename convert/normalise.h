/* normalise: request identity without the values that change between visits.
 * Path segments that are ids, UUIDs, hashes or tokens become placeholders, so
 * "GET /api/item/42" and "GET /api/item/7" are both "GET /api/item/{id}";
 * query values are dropped, query names kept. */
#ifndef AIOTEST_CONV_NORMALISE_H
#define AIOTEST_CONV_NORMALISE_H

#include <stddef.h>

/* The placeholder for one whole path segment, by shape: "{id}" (digits
 * only), "{uuid}", "{hash}" (16 or more hex digits, with digits and letters),
 * "{token}" (a JWT, or a random-looking base64url run of 10 or more: letters
 * and digits alternating, few vowels, or mostly digits); NULL for a name kept
 * as is ("bootstrap3-typeahead", "v2"). norm_path also replaces ids inside
 * such a name ("main.{hash}.js"). */
const char *norm_segment(const char *seg, size_t len);

/* True when s (len bytes) is a UUID (8-4-4-4-12 hex digits). */
int norm_is_uuid(const char *s, size_t len);

/* Normalised path of target into out ("/api/item/{id}"); with_query adds the
 * query's names ("?page&q"). Returns the length (cut to cap - 1). */
size_t norm_path(const char *target, int with_query, char *out, size_t cap);

/* Stats name of a request: "GET /api/item/{id}", with the host in front of
 * the path when host is not NULL ("GET cdn.example.com/app.js"). Heap string
 * (caller frees), NULL on out of memory. */
char *norm_name(const char *method, const char *host, const char *target);

/* The class identity of one request: method, authority and normalised path
 * with query names. Heap string, NULL on out of memory. */
char *norm_key(const char *method, const char *authority, const char *target);

#endif

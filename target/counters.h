/* counters: requests seen per endpoint and per status, for GET /stats, so tests
 * can compare what a load generator says it sent with what the server saw.
 * Lock-free: one relaxed atomic add per counter per request. */
#ifndef TARGET_COUNTERS_H
#define TARGET_COUNTERS_H

#include <jansson.h>
#include <stddef.h>

struct counters;

/* Counters for n endpoints named names[0..n-1] ("GET /api/item/{id}"); the
 * names are borrowed and must outlive the handle. NULL when out of memory. */
struct counters *counters_new(const char *const *names, size_t n);
void counters_free(struct counters *c);

/* Counts one response of the given endpoint index; statuses outside 100-599
 * count in the total and the endpoint only. */
void counters_add(struct counters *c, size_t endpoint, unsigned status);

/* Zeroes every counter. Requests counted concurrently may survive the reset. */
void counters_reset(struct counters *c);

/* {"total": n, "endpoints": {name: n, ...}, "status": {"200": n, ...}}: every
 * endpoint, only the statuses seen. A new reference, or NULL when out of memory. */
json_t *counters_to_json(const struct counters *c);

#endif

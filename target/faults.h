/* faults: the injected latency and error rate of the demo shop. Both knobs can
 * change at runtime (POST /_control) while pool threads read them, so they are
 * atomics; each request draws its own delay and failure from a per-thread RNG. */
#ifndef TARGET_FAULTS_H
#define TARGET_FAULTS_H

#include <stdbool.h>
#include <stdint.h>

/* Longest delay accepted, in milliseconds (one hour). */
#define FAULTS_DELAY_MAX_MS 3600000u

struct faults;

/* A new handle with no delay and no failures, or NULL when out of memory. */
struct faults *faults_new(void);
void faults_free(struct faults *f);

/* Parses "N" or "A-B" milliseconds (0 <= A <= B <= FAULTS_DELAY_MAX_MS).
 * Returns 0 and sets *min_ms, *max_ms, or -1 when s is not such a range. */
int faults_parse_delay(const char *s, uint32_t *min_ms, uint32_t *max_ms);

/* Parses a fraction in [0, 1]. Returns 0 and sets *rate, or -1. */
int faults_parse_rate(const char *s, double *rate);

void faults_set_delay(struct faults *f, uint32_t min_ms, uint32_t max_ms);
void faults_set_fail_rate(struct faults *f, double rate);
void faults_get(const struct faults *f, uint32_t *min_ms, uint32_t *max_ms, double *rate);

/* The delay of one request in microseconds, uniform in the current range; 0 when
 * no delay is set. */
uint64_t faults_pick_delay_us(struct faults *f);

/* Whether one request should be answered 500, with the current fail rate. */
bool faults_roll_fail(struct faults *f);

#endif

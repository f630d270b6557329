/* units: numbers with units on the command line and in stages.conf, as wrk does
 * ("10k", "2s", "1.5m", "300ms", "10%", "64KiB"). Parsed from tables. */
#ifndef AIOTEST_UNITS_H
#define AIOTEST_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Duration: a decimal number followed by us, ms, s, m, h (a bare number means
 * seconds). Returns 0 and sets *us, or -1 when s is not a duration. */
int units_parse_duration(const char *s, uint64_t *us);

/* Count: a decimal number with an optional k, M, G suffix (x1000). Returns 0 or -1. */
int units_parse_count(const char *s, uint64_t *n);

/* Rate or plain decimal: a non-negative number, e.g. "2.5". Returns 0 or -1. */
int units_parse_double(const char *s, double *v);

/* Bytes: a number with an optional k/K/KiB, M/MiB, G/GiB suffix (powers of 1024). */
int units_parse_bytes(const char *s, uint64_t *bytes);

/* Formats a duration in µs into buf as a short human string ("1.23ms", "4.5s").
 * Returns buf. */
char *units_fmt_duration(uint64_t us, char *buf, size_t len);

#endif

/* timeval: wall-clock timestamps a client wrote into a request (a query's
 * start and end, an event time) recognised near the request's recording time
 * and turned into time templates that keep their offset from it, so a query
 * for "the last hour" asks for the last hour at every replay.
 *
 * Recognised, standing alone in text: 13 digits (ms since the epoch), 10
 * digits (s), 10 digits '.' 1-9 digits (s with a fraction). Offsets count
 * from a reference: the first timestamp of the request within TIMEVAL_NOW_S of
 * its recording time (the client's own "now", so "from=now-600&to=now" keeps
 * exactly 600 s), else the recording time. A value within TIMEVAL_NOW_S of the
 * reference is "now" (client clocks and send delays differ by that much);
 * beyond it the offset is kept, rounded to the second; beyond TIMEVAL_WINDOW_S
 * it is not a clock reading of this request (a date of birth, an id). */
#ifndef AIOTEST_CONV_TIMEVAL_H
#define AIOTEST_CONV_TIMEVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIMEVAL_NOW_S 10
#define TIMEVAL_WINDOW_S (24 * 3600)

/* Length of the timestamp-shaped number that starts s[0..len) (13 or 10
 * digits, or 10 digits with a fraction), 0 when none. The caller checks what
 * stands before and after it. */
size_t timeval_match(const char *s, size_t len);

/* The value of timestamp text[0..len) (a timeval_match) in µs since the epoch
 * (fraction digits past µs dropped). */
int64_t timeval_us(const char *text, size_t len);

/* The reference of a request recorded at at_us whose timestamps are
 * stamps[0..n) (NUL-terminated timeval_match texts): see above. */
int64_t timeval_reference(const char *const *stamps, size_t n, int64_t at_us);

/* The template for the timestamp text[0..len) (a timeval_match) against the
 * reference ref_us (timeval_reference) into out: "{{now_ms}}",
 * "{{now_ms -3600000}}", "{{now_s +60}}", "{{now_s.3 -3600}}". Returns false
 * (out untouched) when the value is farther than TIMEVAL_WINDOW_S from ref_us
 * or out is too small. */
bool timeval_template(const char *text, size_t len, int64_t ref_us, char *out, size_t cap);

#endif

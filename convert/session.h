/* session: one visit of one client. Kept exchanges are grouped by session key
 * (the recording's client key; one HAR file is one key) and, with a session
 * gap, a key is split wherever the client paused that long. */
#ifndef AIOTEST_CONV_SESSION_H
#define AIOTEST_CONV_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xset.h"

typedef struct sess {
    size_t *idx;   /* indices into the xset, by start time */
    size_t n, cap;
} sess_t;

typedef struct sess_list {
    sess_t *v;
    size_t n;
} sess_list_t;

/* Splits the items of xs with keep[i] true into sessions, ordered by their
 * first request. gap_us 0: no split by pause. Returns 0 or -1 (out of memory). */
int sess_split(const xset_t *xs, const bool *keep, uint64_t gap_us, sess_list_t *out);
void sess_list_fini(sess_list_t *l);

#endif

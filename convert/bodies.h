/* bodies: the converter reads response bodies for meaning (correlation,
 * parameter detection, the login test of steps), so it undoes their
 * Content-Encoding once, when the exchanges are read: every later stage sees
 * decoded bodies. Only the converter's copy in memory changes; the recording
 * keeps the bytes as sent. HAR bodies are left alone (HAR 1.2 stores content
 * already decoded, under the original Content-Encoding header). */
#ifndef AIOTEST_CONV_BODIES_H
#define AIOTEST_CONV_BODIES_H

#include <stdbool.h>
#include <stddef.h>

#include "xset.h"

/* A decoded body stops here (a decompression bomb does not fill memory). */
#define BODIES_MAX_DECODED (64u << 20)

typedef struct bodies_stats {
    size_t decoded;      /* bodies whose coding was undone */
    size_t undecoded;    /* left as recorded: unknown coding or invalid bytes */
    size_t limited;      /* decoded past BODIES_MAX_DECODED: the prefix kept, marked truncated */
    char names[160];     /* the codings of undecoded bodies with counts, "compress 6, bad br 1" */
} bodies_stats_t;

/* Decodes the response body of every kept exchange from a recording in place
 * (keep may be NULL: all). A body cut short (capture --max-body, or bytes
 * missing) keeps its decoded prefix and is marked truncated; a body that
 * cannot be decoded stays as recorded and is counted by coding. Adds to st.
 * Returns 0 or -1 (out of memory). */
int bodies_decode(xset_t *xs, const bool *keep, bodies_stats_t *st);

#endif

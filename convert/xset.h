/* xset: the exchanges read from every input, each with where it came from
 * (file, record or entry index) so later stages can name it in messages. */
#ifndef AIOTEST_CONV_XSET_H
#define AIOTEST_CONV_XSET_H

#include <stddef.h>

#include "recording.h"

typedef struct xs_item {
    rec_exchange_t x;
    char *key;          /* session key: "<file index>|<client>" (owned) */
    const char *file;   /* input path (borrowed from the caller's paths) */
    long index;         /* record index (recording) or entry index (HAR), from 1 / 0 */
    const char *unit;   /* "record" or "entry", for messages */
    char *page;         /* HAR pageref or NULL (owned) */
} xs_item_t;

typedef struct xset {
    xs_item_t *v;
    size_t n, cap;
} xset_t;

void xs_init(xset_t *s);
void xs_fini(xset_t *s);

/* A zeroed item appended to s; NULL on out of memory. Owned by s. */
xs_item_t *xs_push(xset_t *s);

/* Drops the last item (after a failed fill). */
void xs_pop(xset_t *s);

#endif

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

/* An entry that could not be read (a field of the wrong type, a bad URL or
 * time, a number out of range): left out, counted and named, so one odd entry
 * never loses a whole file. */
typedef struct xs_skip {
    const char *file;   /* borrowed, as xs_item_t.file */
    long index;         /* entry index, from 0 */
    char *why;          /* "<file>: entry <i>: <field>: expected ..." (owned) */
} xs_skip_t;

typedef struct xset {
    xs_item_t *v;
    size_t n, cap;
    xs_skip_t *skips;
    size_t n_skips;
    char **notes;       /* warnings about what was read ("x.har: 3 odd characters ..."), owned */
    size_t n_notes;
} xset_t;

void xs_init(xset_t *s);
void xs_fini(xset_t *s);

/* A zeroed item appended to s; NULL on out of memory. Owned by s. */
xs_item_t *xs_push(xset_t *s);

/* Drops the last item (after a failed fill). */
void xs_pop(xset_t *s);

/* Adds a warning about an input (msg copied). Returns 0 or -1. */
int xs_note(xset_t *s, const char *msg);

/* Records a skipped entry (why is copied). Returns 0 or -1 (out of memory). */
int xs_skip(xset_t *s, const char *file, long index, const char *why);

#endif

/* mpwrite: writing side shared by both file kinds. One record is packed into
 * a memory buffer, then written and flushed in one go, so a writer killed
 * between records never leaves half a record behind a complete one.
 * Pack errors (out of memory) are remembered and reported by mpw_emit.
 * Internal to scenarios/. */
#ifndef AIOTEST_MPWRITE_H
#define AIOTEST_MPWRITE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <msgpack.h>

/* The encoding is msgpack-c's, byte for byte (the smallest form of every
 * integer, str8 for strings of 32 to 255 bytes), written straight into the
 * buffer: msgpack-c's packer calls a write callback for every item, and a
 * record of ~130 items spent more in those calls than in its bytes (issue 20). */
typedef struct mpw {
    struct {
        char *data;
        size_t size, alloc;
    } sb;               /* the record(s) being packed */
    int fail;           /* non-zero once a pack call failed */
} mpw_t;

void mpw_init(mpw_t *w);
void mpw_fini(mpw_t *w);
/* Starts a new record (drops what the buffer holds). */
void mpw_reset(mpw_t *w);

void mpw_map(mpw_t *w, size_t n);
void mpw_array(mpw_t *w, size_t n);
void mpw_str(mpw_t *w, const char *s);              /* NULL packs "" */
void mpw_strn(mpw_t *w, const char *s, size_t n);
void mpw_uint(mpw_t *w, uint64_t v);
void mpw_int(mpw_t *w, int64_t v);
void mpw_bool(mpw_t *w, bool v);
void mpw_bin(mpw_t *w, const void *p, size_t n);
void mpw_pair(mpw_t *w, const char *name, const char *value);
/* Appends bytes as they are (tests write damaged records with it). */
void mpw_raw(mpw_t *w, const void *p, size_t n);

/* Writes the buffered record to fp and flushes. Returns 0, or -1 when a
 * pack call failed or the write failed (errno tells which). */
int mpw_emit(mpw_t *w, FILE *fp);

#endif

/* mpskim: a guard in front of msgpack_unpacker. msgpack-c allocates an array
 * or map's element table as soon as it parses the header, trusting the count:
 * five bytes claiming 2^32 entries ask for 192 GiB. The skim walks the same
 * bytes first (headers only, payloads skipped) and stops the feed at a header
 * whose count cannot fit in the rest of the file, so the reader reports that
 * record instead of the allocator failing. Internal to scenarios/. */
#ifndef AIOTEST_MPSKIM_H
#define AIOTEST_MPSKIM_H

#include <stddef.h>
#include <stdint.h>

typedef struct mpskim {
    int64_t pos;       /* file offset of the next byte to skim */
    uint64_t skip;     /* payload bytes still to pass over */
    uint8_t hdr[5];    /* a header split across two feeds */
    int hl;
    uint64_t bad_count;/* set when a count was refused */
    int64_t bad_at;    /* offset of that header */
    int64_t file_size; /* the size it was checked against */
} mpskim_t;

/* Skims p[0..n) which continue the file at k->pos; file_size is the size of
 * the whole file (INT64_MAX when unknown). Returns how many of the n bytes may
 * go to the unpacker: n, or fewer when a header claims more elements than the
 * bytes left after it (then bad_count and bad_at say which). */
size_t mpskim_feed(mpskim_t *k, const uint8_t *p, size_t n, int64_t file_size);

#endif

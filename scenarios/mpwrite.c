/* mpwrite: record packing and flushing (mpwrite.h). */
#include "mpwrite.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Grows the buffer for n more bytes; 0, or -1 with fail set. */
static int grow(mpw_t *w, size_t n)
{
    size_t a = w->sb.alloc ? w->sb.alloc : 8192;
    while (a - w->sb.size < n) {
        if (a > SIZE_MAX / 2) {
            w->fail = 1;
            return -1;
        }
        a *= 2;
    }
    char *d = realloc(w->sb.data, a);
    if (!d) {
        w->fail = 1;
        return -1;
    }
    w->sb.data = d;
    w->sb.alloc = a;
    return 0;
}

/* Where n more bytes go (the size already counts them), or NULL with fail
 * set. Inline: a record is ~130 items of a few bytes each. */
static inline unsigned char *take(mpw_t *w, size_t n)
{
    if (w->sb.alloc - w->sb.size < n && grow(w, n) != 0)
        return NULL;
    unsigned char *p = (unsigned char *)w->sb.data + w->sb.size;
    w->sb.size += n;
    return p;
}

/* A type byte followed by v in big-endian over len bytes (0, 1, 2, 4 or 8),
 * then extra bytes of payload. */
static inline void put_be(mpw_t *w, unsigned char type, uint64_t v, int len, const void *extra,
                          size_t extra_len)
{
    unsigned char *b = take(w, (size_t)len + 1 + extra_len);
    if (!b)
        return;
    b[0] = type;
    for (int i = 0; i < len; i++)
        b[1 + i] = (unsigned char)(v >> (8 * (len - 1 - i)));
    if (extra_len)
        memcpy(b + 1 + len, extra, extra_len);
}

/* The header of a map, array, str or bin of n (fix form from fix_base below
 * fix_max, or the 8/16/32-bit length forms; c8 0 when the format has none),
 * then its payload p[0..pn). */
static inline void put_len(mpw_t *w, size_t n, unsigned char fix_base, size_t fix_max, unsigned char c8,
                           unsigned char c16, unsigned char c32, const void *p, size_t pn)
{
    if (fix_max && n < fix_max)
        put_be(w, (unsigned char)(fix_base | n), 0, 0, p, pn);
    else if (c8 && n < 256)
        put_be(w, c8, n, 1, p, pn);
    else if (n < 65536)
        put_be(w, c16, n, 2, p, pn);
    else if (n <= UINT32_MAX)
        put_be(w, c32, n, 4, p, pn);
    else
        w->fail = 1;
}

void mpw_init(mpw_t *w) { memset(w, 0, sizeof *w); }

void mpw_fini(mpw_t *w)
{
    free(w->sb.data);
    memset(w, 0, sizeof *w);
}

void mpw_reset(mpw_t *w)
{
    w->sb.size = 0;
    w->fail = 0;
}

void mpw_map(mpw_t *w, size_t n) { put_len(w, n, 0x80, 16, 0, 0xde, 0xdf, NULL, 0); }
void mpw_array(mpw_t *w, size_t n) { put_len(w, n, 0x90, 16, 0, 0xdc, 0xdd, NULL, 0); }

void mpw_uint(mpw_t *w, uint64_t v)
{
    if (v < 128)
        put_be(w, (unsigned char)v, 0, 0, NULL, 0);
    else if (v < 256)
        put_be(w, 0xcc, v, 1, NULL, 0);
    else if (v < 65536)
        put_be(w, 0xcd, v, 2, NULL, 0);
    else if (v <= UINT32_MAX)
        put_be(w, 0xce, v, 4, NULL, 0);
    else
        put_be(w, 0xcf, v, 8, NULL, 0);
}

void mpw_int(mpw_t *w, int64_t v)
{
    if (v >= 0)
        mpw_uint(w, (uint64_t)v); /* msgpack-c packs a non-negative int64 as unsigned */
    else if (v >= -32)
        put_be(w, (unsigned char)(int8_t)v, 0, 0, NULL, 0);
    else if (v >= -128)
        put_be(w, 0xd0, (uint64_t)v, 1, NULL, 0);
    else if (v >= -32768)
        put_be(w, 0xd1, (uint64_t)v, 2, NULL, 0);
    else if (v >= INT32_MIN)
        put_be(w, 0xd2, (uint64_t)v, 4, NULL, 0);
    else
        put_be(w, 0xd3, (uint64_t)v, 8, NULL, 0);
}

void mpw_bool(mpw_t *w, bool v)
{
    put_be(w, v ? 0xc3 : 0xc2, 0, 0, NULL, 0);
}

void mpw_strn(mpw_t *w, const char *s, size_t n)
{
    put_len(w, n, 0xa0, 32, 0xd9, 0xda, 0xdb, s, n);
}

void mpw_str(mpw_t *w, const char *s)
{
    mpw_strn(w, s ? s : "", s ? strlen(s) : 0);
}

void mpw_bin(mpw_t *w, const void *p, size_t n)
{
    put_len(w, n, 0, 0, 0xc4, 0xc5, 0xc6, p, n);
}

void mpw_pair(mpw_t *w, const char *name, const char *value)
{
    mpw_array(w, 2);
    mpw_str(w, name);
    mpw_str(w, value);
}

void mpw_raw(mpw_t *w, const void *p, size_t n)
{
    unsigned char *b = n ? take(w, n) : NULL;
    if (b)
        memcpy(b, p, n);
}

int mpw_emit(mpw_t *w, FILE *fp)
{
    if (w->fail) {
        errno = ENOMEM;
        return -1;
    }
    if (w->sb.size && fwrite(w->sb.data, 1, w->sb.size, fp) != w->sb.size)
        return -1;
    if (fflush(fp) != 0)
        return -1;
    return 0;
}

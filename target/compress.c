/* compress: see compress.h. */
#include "compress.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

static const char *const names[COMPRESS__COUNT] = {"identity", "gzip", "deflate", "br", "zstd"};

const char *compress_name(compress_coding_t c)
{
    return (unsigned)c < COMPRESS__COUNT ? names[c] : "identity";
}

int compress_parse(const char *list, compress_set_t *set)
{
    memset(set, 0, sizeof *set);
    if (!strcmp(list, "off") || !strcmp(list, "none"))
        return 0;
    const char *p = list;
    while (*p) {
        size_t len = strcspn(p, ",");
        compress_coding_t c = COMPRESS_NONE;
        for (int k = COMPRESS_GZIP; k < COMPRESS__COUNT; k++)
            if (strlen(names[k]) == len && !strncmp(p, names[k], len))
                c = (compress_coding_t)k;
        for (size_t i = 0; i < set->n; i++)
            if (set->v[i] == c)
                return -1;
        if (c == COMPRESS_NONE)
            return -1;
        set->v[set->n++] = c;
        p += len;
        if (*p == ',' && !*++p)
            return -1;
    }
    return set->n ? 0 : -1;
}

/* The q of coding name in accept: -1 when not listed, else 0..1. */
static double q_of(const char *accept, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = accept;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t len = strcspn(p, ",;");
        size_t tl = len;
        while (tl && isspace((unsigned char)p[tl - 1]))
            tl--;
        double q = 1;
        const char *e = p + len;
        if (*e == ';') {
            const char *qp = strcasestr(e, "q=");
            size_t plen = strcspn(e, ",");
            if (qp && qp < e + plen)
                q = strtod(qp + 2, NULL);
            e += plen;
        }
        if (tl == nlen && !strncasecmp(p, name, nlen))
            return q;
        p = *e ? e + 1 : e;
    }
    return -1;
}

compress_coding_t compress_pick(const compress_set_t *set, const char *accept)
{
    if (!accept)
        return COMPRESS_NONE;
    double star = q_of(accept, "*");
    for (size_t i = 0; i < set->n; i++) {
        double q = q_of(accept, names[set->v[i]]);
        if (set->v[i] == COMPRESS_GZIP && q < 0)
            q = q_of(accept, "x-gzip");
        if (q > 0 || (q < 0 && star > 0))
            return set->v[i];
    }
    return COMPRESS_NONE;
}

static int zlib_encode(int wbits, const void *in, size_t len, char **out, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    size_t cap = deflateBound(&z, (uLong)len) + 32;
    char *buf = malloc(cap);
    int rc = -1;
    if (buf) {
        z.next_in = (Bytef *)(uintptr_t)in;
        z.avail_in = (uInt)len;
        z.next_out = (Bytef *)buf;
        z.avail_out = (uInt)cap;
        if (deflate(&z, Z_FINISH) == Z_STREAM_END) {
            *out = buf;
            *out_len = z.total_out;
            rc = 0;
        } else {
            free(buf);
        }
    }
    deflateEnd(&z);
    return rc;
}

int compress_encode(compress_coding_t c, const void *in, size_t len, char **out, size_t *out_len)
{
    switch (c) {
    case COMPRESS_GZIP: return zlib_encode(16 + MAX_WBITS, in, len, out, out_len);
    case COMPRESS_DEFLATE: return zlib_encode(MAX_WBITS, in, len, out, out_len);
    case COMPRESS_BR: {
        size_t cap = BrotliEncoderMaxCompressedSize(len) + 16;
        char *buf = malloc(cap);
        if (!buf)
            return -1;
        if (!BrotliEncoderCompress(5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT, len, in, &cap, (uint8_t *)buf)) {
            free(buf);
            return -1;
        }
        *out = buf;
        *out_len = cap;
        return 0;
    }
    case COMPRESS_ZSTD: {
        size_t cap = ZSTD_compressBound(len);
        char *buf = malloc(cap ? cap : 1);
        if (!buf)
            return -1;
        size_t n = ZSTD_compress(buf, cap, in, len, 3);
        if (ZSTD_isError(n)) {
            free(buf);
            return -1;
        }
        *out = buf;
        *out_len = n;
        return 0;
    }
    default: return -1;
    }
}

/* bodydec: Content-Encoding decoding with bounded output (see bodydec.h). */
#include "bodydec.h"

#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

/* RFC 9659 asks HTTP zstd decoders to support 8 MiB windows and allows them
 * to refuse more; a larger window would let a tiny frame claim 128 MiB. */
#define BODYDEC_ZSTD_WINDOW_LOG 23
#define BODYDEC_MAX_CODINGS 8

typedef enum coding { C_GZIP, C_DEFLATE, C_BR, C_ZSTD } coding_t;

static const struct {
    const char *name;
    coding_t c;
} codings[] = {
    {"gzip", C_GZIP}, {"x-gzip", C_GZIP}, {"deflate", C_DEFLATE}, {"br", C_BR}, {"zstd", C_ZSTD},
};

void bodydec_init(bodydec_t *d)
{
    memset(d, 0, sizeof *d);
}

void bodydec_fini(bodydec_t *d)
{
    free(d->buf[0]);
    free(d->buf[1]);
    ZSTD_freeDCtx(d->zstd);
    memset(d, 0, sizeof *d);
}

const char *bodydec_coding(const bodydec_t *d)
{
    return d->coding;
}

const char *bodydec_result_name(bodydec_result_t r)
{
    static const char *const names[] = {"identity", "ok", "limit", "truncated", "corrupt", "unsupported", "nomem"};
    return (unsigned)r < sizeof names / sizeof *names ? names[r] : "?";
}

/* The next token of a comma-separated list: start and length, blanks trimmed. */
static bool next_token(const char **p, const char *end, const char **tok, size_t *len)
{
    while (*p < end && (**p == ',' || isspace((unsigned char)**p)))
        (*p)++;
    if (*p >= end)
        return false;
    const char *s = *p;
    while (*p < end && **p != ',')
        (*p)++;
    const char *e = *p;
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    *tok = s;
    *len = (size_t)(e - s);
    return true;
}

static bool is_identity(const char *t, size_t len)
{
    return len == 8 && strncasecmp(t, "identity", 8) == 0;
}

int bodydec_is_coded(const char *enc, size_t enc_len)
{
    const char *p = enc, *end = enc ? enc + enc_len : NULL, *t;
    size_t len;
    while (enc && next_token(&p, end, &t, &len))
        if (!is_identity(t, len))
            return 1;
    return 0;
}

static void set_coding(bodydec_t *d, const char *t, size_t len)
{
    size_t n = len < sizeof d->coding - 1 ? len : sizeof d->coding - 1;
    for (size_t i = 0; i < n; i++)
        d->coding[i] = (char)tolower((unsigned char)t[i]);
    d->coding[n] = '\0';
}

/* One stage's output: buf[slot], allowed to reach max + 1 bytes so that
 * going over the limit is seen. */
typedef struct out {
    bodydec_t *d;
    int slot;
    size_t len, max;
} out_t;

/* Room after len: grows buf[slot] (doubling, capped at max + 1). Returns the
 * room, 0 when at the cap, or (size_t)-1 on out of memory. */
static size_t room(out_t *o, size_t hint)
{
    bodydec_t *d = o->d;
    size_t top = o->max + 1, cap = d->cap[o->slot];
    if (o->len < cap)
        return cap - o->len;
    if (cap >= top)
        return 0;
    size_t want = cap ? cap * 2 : (hint < 4096 ? 4096 : hint);
    if (want > top || want < cap)
        want = top;
    uint8_t *nb = realloc(d->buf[o->slot], want);
    if (!nb)
        return (size_t)-1;
    d->buf[o->slot] = nb;
    d->cap[o->slot] = want;
    return want - o->len;
}

static bool zlib_header(const uint8_t *in, size_t len)
{
    return len >= 2 && (in[0] & 0x0f) == 8 && (in[0] >> 4) <= 7 && ((in[0] << 8) | in[1]) % 31 == 0;
}

static bodydec_result_t run_zlib(out_t *o, coding_t c, const uint8_t *in, size_t in_len)
{
    int wbits = c == C_GZIP ? 16 + MAX_WBITS : zlib_header(in, in_len) ? MAX_WBITS : -MAX_WBITS;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, wbits) != Z_OK)
        return BODYDEC_NOMEM;
    size_t fed = 0;  /* input handed to zlib so far (it takes uInt at a time) */
    bodydec_result_t r = BODYDEC_OK;
    for (;;) {
        if (z.avail_in == 0 && fed < in_len) {
            size_t n = in_len - fed < UINT_MAX ? in_len - fed : UINT_MAX;
            z.next_in = (Bytef *)(uintptr_t)(in + fed);
            z.avail_in = (uInt)n;
            fed += n;
        }
        size_t rm = room(o, in_len * 4);
        if (rm == (size_t)-1) {
            r = BODYDEC_NOMEM;
            break;
        }
        if (rm > UINT_MAX)
            rm = UINT_MAX;
        z.next_out = o->d->buf[o->slot] + o->len;
        z.avail_out = (uInt)rm;
        int zr = inflate(&z, Z_NO_FLUSH);
        o->len += rm - z.avail_out;
        if (o->len > o->max) {
            r = BODYDEC_LIMIT;
            break;
        }
        size_t left = z.avail_in + (in_len - fed);
        if (zr == Z_STREAM_END) {
            /* gzip allows members back to back; anything else after the
             * end is ignored, as browsers do. */
            if (c == C_GZIP && left >= 2 && z.next_in[0] == 0x1f && z.next_in[1] == 0x8b &&
                inflateReset(&z) == Z_OK)
                continue;
            break;
        }
        if (zr == Z_MEM_ERROR) {
            r = BODYDEC_NOMEM;
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            r = BODYDEC_CORRUPT;
            break;
        }
        if (left == 0 && z.avail_out != 0) {
            r = BODYDEC_TRUNCATED;  /* every byte taken, the stream not ended */
            break;
        }
    }
    inflateEnd(&z);
    return r;
}

static bodydec_result_t run_br(out_t *o, const uint8_t *in, size_t in_len)
{
    BrotliDecoderState *s = BrotliDecoderCreateInstance(NULL, NULL, NULL);
    if (!s)
        return BODYDEC_NOMEM;
    size_t avail_in = in_len;
    const uint8_t *next_in = in;
    bodydec_result_t r;
    for (;;) {
        size_t rm = room(o, in_len * 4);
        if (rm == (size_t)-1) {
            r = BODYDEC_NOMEM;
            break;
        }
        uint8_t *next_out = o->d->buf[o->slot] + o->len;
        size_t avail_out = rm;
        BrotliDecoderResult br = BrotliDecoderDecompressStream(s, &avail_in, &next_in, &avail_out, &next_out, NULL);
        o->len += rm - avail_out;
        if (o->len > o->max) {
            r = BODYDEC_LIMIT;
            break;
        }
        if (br == BROTLI_DECODER_RESULT_SUCCESS) {
            r = BODYDEC_OK;
            break;
        }
        if (br == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) {
            r = BODYDEC_TRUNCATED;
            break;
        }
        if (br == BROTLI_DECODER_RESULT_ERROR) {
            int ec = BrotliDecoderGetErrorCode(s);
            r = ec <= BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MODES && ec >= BROTLI_DECODER_ERROR_ALLOC_BLOCK_TYPE_TREES
                    ? BODYDEC_NOMEM
                    : BODYDEC_CORRUPT;
            break;
        }
        /* NEEDS_MORE_OUTPUT: room() grows on the next pass. */
    }
    BrotliDecoderDestroyInstance(s);
    return r;
}

static bodydec_result_t run_zstd(out_t *o, const uint8_t *in, size_t in_len)
{
    bodydec_t *d = o->d;
    if (!d->zstd) {
        if (!(d->zstd = ZSTD_createDCtx()))
            return BODYDEC_NOMEM;
        ZSTD_DCtx_setParameter(d->zstd, ZSTD_d_windowLogMax, BODYDEC_ZSTD_WINDOW_LOG);
    }
    ZSTD_DCtx_reset(d->zstd, ZSTD_reset_session_only);
    ZSTD_inBuffer ib = {in, in_len, 0};
    for (;;) {
        size_t rm = room(o, in_len * 4);
        if (rm == (size_t)-1)
            return BODYDEC_NOMEM;
        ZSTD_outBuffer ob = {d->buf[o->slot], o->len + rm, o->len};
        size_t ret = ZSTD_decompressStream(d->zstd, &ob, &ib);
        o->len = ob.pos;
        if (ZSTD_isError(ret))
            return ZSTD_getErrorCode(ret) == ZSTD_error_memory_allocation ? BODYDEC_NOMEM : BODYDEC_CORRUPT;
        if (o->len > o->max)
            return BODYDEC_LIMIT;
        if (ret == 0 && ib.pos == ib.size)
            return BODYDEC_OK;  /* the last frame ended with the input */
        if (ib.pos == ib.size && ob.pos < ob.size)
            return BODYDEC_TRUNCATED;
    }
}

bodydec_result_t bodydec_run(bodydec_t *d, const char *enc, size_t enc_len, const uint8_t *in,
                             size_t in_len, size_t max_out, const uint8_t **out, size_t *out_len)
{
    coding_t list[BODYDEC_MAX_CODINGS];
    const char *name[BODYDEC_MAX_CODINGS];
    size_t name_len[BODYDEC_MAX_CODINGS], n = 0;
    const char *p = enc, *end = enc ? enc + enc_len : NULL, *t;
    size_t len;
    d->coding[0] = '\0';
    *out = in;
    *out_len = in_len;
    if (max_out > SIZE_MAX / 4)
        max_out = SIZE_MAX / 4;
    while (enc && next_token(&p, end, &t, &len)) {
        if (is_identity(t, len))
            continue;
        size_t k;
        for (k = 0; k < sizeof codings / sizeof *codings; k++)
            if (strlen(codings[k].name) == len && strncasecmp(t, codings[k].name, len) == 0)
                break;
        if (k == sizeof codings / sizeof *codings || n == BODYDEC_MAX_CODINGS) {
            set_coding(d, t, len);
            return BODYDEC_UNSUPPORTED;
        }
        list[n] = codings[k].c;
        name[n] = t;
        name_len[n++] = len;
    }
    if (n == 0)
        return BODYDEC_IDENTITY;
    if (in_len == 0) {
        /* No body to undo (HEAD, 204, 304 keep the header of the full answer). */
        static const uint8_t empty[1] = {0};
        *out = empty;
        *out_len = 0;
        return BODYDEC_OK;
    }
    const uint8_t *src = in;
    size_t src_len = in_len;
    bodydec_result_t worst = BODYDEC_OK;
    for (size_t i = n; i-- > 0;) {
        out_t o = {d, (int)((n - 1 - i) % 2), 0, max_out};
        bodydec_result_t r;
        switch (list[i]) {
        case C_GZIP:
        case C_DEFLATE: r = run_zlib(&o, list[i], src, src_len); break;
        case C_BR: r = run_br(&o, src, src_len); break;
        default: r = run_zstd(&o, src, src_len); break;
        }
        if (r == BODYDEC_CORRUPT || r == BODYDEC_NOMEM) {
            set_coding(d, name[i], name_len[i]);
            return r;
        }
        if (r == BODYDEC_LIMIT)
            o.len = max_out;
        if (r != BODYDEC_OK && worst == BODYDEC_OK) {
            worst = r;  /* the first shortfall names the result; later stages decode a prefix */
            set_coding(d, name[i], name_len[i]);
        }
        if (room(&o, 1) == (size_t)-1) {
            set_coding(d, name[i], name_len[i]);
            return BODYDEC_NOMEM;
        }
        if (o.len < d->cap[o.slot])
            d->buf[o.slot][o.len] = '\0';
        src = d->buf[o.slot];
        src_len = o.len;
        if (worst != BODYDEC_OK && i > 0 && src_len == 0)
            break;
    }
    *out = src;
    *out_len = src_len;
    return worst;
}

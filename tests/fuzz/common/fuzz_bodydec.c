/* Fuzz target: common/bodydec. The first byte picks a Content-Encoding value
 * (single codings, stacks, identity, unknown) and, with its top bit set,
 * round-trip mode; the second byte picks the output limit. Decode mode feeds
 * the rest as a coded body: the result must respect the limit and the
 * contract of bodydec.h. Round-trip mode codes the rest with the libraries'
 * encoders first: decoding must give it back exactly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

#include "bodydec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const codings[] = {
    "gzip", "x-gzip", "deflate", "br", "zstd", "gzip, br", "br, zstd", "deflate,gzip", "identity", "",
    "compress", "gzip, whatever", " GZIP ", "zstd, zstd", "gzip,,br", "identity, br",
};
#define N_CODINGS (sizeof codings / sizeof *codings)

/* Codes in with one coding (0 gzip, 1 zlib deflate, 2 br, 3 zstd) into a new buffer. */
static uint8_t *encode(int c, const uint8_t *in, size_t len, size_t *out_len)
{
    size_t cap = len * 2 + 1024;
    uint8_t *out = malloc(cap);
    if (!out)
        return NULL;
    if (c == 0 || c == 1) {
        z_stream z;
        memset(&z, 0, sizeof z);
        if (deflateInit2(&z, 6, Z_DEFLATED, c == 0 ? 31 : 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            abort();
        z.next_in = (Bytef *)(uintptr_t)in;
        z.avail_in = (uInt)len;
        z.next_out = out;
        z.avail_out = (uInt)cap;
        if (deflate(&z, Z_FINISH) != Z_STREAM_END)
            abort();
        *out_len = z.total_out;
        deflateEnd(&z);
    } else if (c == 2) {
        *out_len = cap;
        if (!BrotliEncoderCompress(1, 18, BROTLI_MODE_GENERIC, len, in, out_len, out))
            abort();
    } else {
        *out_len = ZSTD_compress(out, cap, in, len, 1);
        if (ZSTD_isError(*out_len))
            abort();
    }
    return out;
}

static void round_trip(bodydec_t *d, int c, const uint8_t *in, size_t len)
{
    static const char *const names[] = {"gzip", "deflate", "br", "zstd"};
    size_t n;
    uint8_t *coded = encode(c, in, len, &n);
    if (!coded)
        return;
    const uint8_t *out;
    size_t out_len;
    bodydec_result_t r = bodydec_run(d, names[c], strlen(names[c]), coded, n, len + 1, &out, &out_len);
    if (r != BODYDEC_OK || out_len != len || memcmp(out, in, len) != 0)
        abort();
    if (len > 1) {  /* one byte less room: exactly at the limit plus one */
        r = bodydec_run(d, names[c], strlen(names[c]), coded, n, len - 1, &out, &out_len);
        if (r != BODYDEC_LIMIT || out_len != len - 1 || memcmp(out, in, len - 1) != 0)
            abort();
    }
    free(coded);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    bodydec_t d;
    bodydec_init(&d);
    const uint8_t *body = data + 2;
    size_t len = size - 2;
    if (data[0] & 0x80) {
        round_trip(&d, data[0] & 3, body, len);
        bodydec_fini(&d);
        return 0;
    }
    const char *enc = codings[data[0] % N_CODINGS];
    size_t max = (size_t)1 << (data[1] % 22);  /* 1 byte .. 2 MiB */
    const uint8_t *out;
    size_t out_len;
    bodydec_result_t r = bodydec_run(&d, enc, strlen(enc), body, len, max, &out, &out_len);
    switch (r) {
    case BODYDEC_IDENTITY:
    case BODYDEC_UNSUPPORTED:
    case BODYDEC_CORRUPT:
    case BODYDEC_NOMEM:
        if (out != body || out_len != len)
            abort();
        break;
    case BODYDEC_OK:
    case BODYDEC_LIMIT:
    case BODYDEC_TRUNCATED:
        if (out_len > max || (out_len && out[out_len] != '\0'))
            abort();
        if (r == BODYDEC_LIMIT && out_len != max && !strchr(enc, ','))  /* a stack may end shorter */
            abort();
        break;
    default:
        abort();
    }
    if ((r == BODYDEC_UNSUPPORTED || r == BODYDEC_CORRUPT) && !*bodydec_coding(&d))
        abort();
    bodydec_fini(&d);
    return 0;
}

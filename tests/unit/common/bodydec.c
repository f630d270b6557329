/* Unit tests of common/bodydec.c: every coding round-trips through the
 * libraries' own encoders; stacked, concatenated, truncated, corrupt,
 * oversized (a decompression bomb) and unknown inputs give their results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

#include "bodydec.h"

typedef struct blob {
    uint8_t *p;
    size_t len;
} blob_t;

static const char *text(void)
{
    return "{\"token\":\"abc123def456\",\"user\":{\"id\":42,\"name\":\"alice\"},"
           "\"items\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]}";
}

/* wbits: 16+15 gzip, 15 zlib, -15 raw deflate. */
static blob_t z_encode(const void *in, size_t len, int wbits)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    blob_t b = {malloc(deflateBound(&z, len) + 32), 0};
    assert_non_null(b.p);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = b.p;
    z.avail_out = (uInt)(deflateBound(&z, len) + 32);
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    b.len = z.total_out;
    deflateEnd(&z);
    return b;
}

static blob_t br_encode(const void *in, size_t len)
{
    size_t cap = BrotliEncoderMaxCompressedSize(len) + 16;
    blob_t b = {malloc(cap), cap};
    assert_non_null(b.p);
    assert_true(BrotliEncoderCompress(5, 22, BROTLI_MODE_GENERIC, len, in, &b.len, b.p));
    return b;
}

static blob_t zstd_encode(const void *in, size_t len)
{
    size_t cap = ZSTD_compressBound(len);
    blob_t b = {malloc(cap), 0};
    assert_non_null(b.p);
    b.len = ZSTD_compress(b.p, cap, in, len, 3);
    assert_false(ZSTD_isError(b.len));
    return b;
}

static bodydec_result_t run(bodydec_t *d, const char *enc, blob_t b, size_t max, const uint8_t **out, size_t *out_len)
{
    return bodydec_run(d, enc, enc ? strlen(enc) : 0, b.p, b.len, max, out, out_len);
}

static void expect_text(bodydec_t *d, const char *enc, blob_t b)
{
    const uint8_t *out;
    size_t len;
    assert_int_equal(run(d, enc, b, 1 << 20, &out, &len), BODYDEC_OK);
    assert_int_equal(len, strlen(text()));
    assert_memory_equal(out, text(), len);
    assert_int_equal(out[len], '\0');
    assert_string_equal(bodydec_coding(d), "");
}

static void test_identity(void **state)
{
    (void)state;
    bodydec_t d;
    bodydec_init(&d);
    blob_t b = {(uint8_t *)(uintptr_t)text(), strlen(text())};
    const uint8_t *out;
    size_t len;
    assert_int_equal(run(&d, NULL, b, 10, &out, &len), BODYDEC_IDENTITY);
    assert_ptr_equal(out, b.p);
    assert_int_equal(len, b.len);
    assert_int_equal(run(&d, " identity ", b, 10, &out, &len), BODYDEC_IDENTITY);
    assert_ptr_equal(out, b.p);
    assert_false(bodydec_is_coded("identity", 8));
    assert_true(bodydec_is_coded("identity, gzip", 14));
    bodydec_fini(&d);
}

static void test_each_coding(void **state)
{
    (void)state;
    bodydec_t d;
    bodydec_init(&d);
    size_t n = strlen(text());
    blob_t g = z_encode(text(), n, 16 + 15), zl = z_encode(text(), n, 15), raw = z_encode(text(), n, -15);
    blob_t br = br_encode(text(), n), zs = zstd_encode(text(), n);
    expect_text(&d, "gzip", g);
    expect_text(&d, "x-gzip", g);
    expect_text(&d, "GZip", g);
    expect_text(&d, "deflate", zl);
    expect_text(&d, "deflate", raw);
    expect_text(&d, "br", br);
    expect_text(&d, "zstd", zs);
    expect_text(&d, "zstd", zs);  /* the zstd context is reused */
    free(g.p), free(zl.p), free(raw.p), free(br.p), free(zs.p);
    bodydec_fini(&d);
}

/* "gzip, br": gzip was applied first, so br is undone first. */
static void test_stacked(void **state)
{
    (void)state;
    bodydec_t d;
    bodydec_init(&d);
    size_t n = strlen(text());
    blob_t g = z_encode(text(), n, 16 + 15);
    blob_t gb = br_encode(g.p, g.len);
    expect_text(&d, "gzip, br", gb);
    expect_text(&d, "gzip,identity ,br", gb);
    blob_t z = zstd_encode(gb.p, gb.len);
    expect_text(&d, "gzip, br, zstd", z);
    const uint8_t *out;
    size_t len;
    assert_int_equal(run(&d, "br, gzip", gb, 1 << 20, &out, &len), BODYDEC_CORRUPT);
    assert_string_equal(bodydec_coding(&d), "gzip");
    assert_ptr_equal(out, gb.p);
    free(g.p), free(gb.p), free(z.p);
    bodydec_fini(&d);
}

static void test_gzip_members(void **state)
{
    (void)state;
    bodydec_t d;
    bodydec_init(&d);
    size_t n = strlen(text()), half = n / 2;
    blob_t a = z_encode(text(), half, 16 + 15), b = z_encode(text() + half, n - half, 16 + 15);
    blob_t ab = {malloc(a.len + b.len), a.len + b.len};
    memcpy(ab.p, a.p, a.len);
    memcpy(ab.p + a.len, b.p, b.len);
    expect_text(&d, "gzip", ab);
    free(a.p), free(b.p), free(ab.p);
    bodydec_fini(&d);
}

static void test_truncated(void **state)
{
    (void)state;
    bodydec_t d;
    bodydec_init(&d);
    /* Long enough that a cut leaves a decodable prefix. */
    size_t n = 200000;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + (i * 7 + i / 13) % 26);
    blob_t enc[3] = {z_encode(big, n, 16 + 15), br_encode(big, n), zstd_encode(big, n)};
    const char *names[3] = {"gzip", "br", "zstd"};
    for (int k = 0; k < 3; k++) {
        blob_t cut = {enc[k].p, enc[k].len * 2 / 3};
        const uint8_t *out;
        size_t len;
        assert_int_equal(run(&d, names[k], cut, 1 << 20, &out, &len), BODYDEC_TRUNCATED);
        assert_string_equal(bodydec_coding(&d), names[k]);
        assert_true(len < n);
        assert_memory_equal(out, big, len);  /* a prefix of the body */
        free(enc[k].p);
    }
    blob_t g = z_encode(text(), strlen(text()), 16 + 15);
    blob_t tail_cut = {g.p, g.len - 4};  /* the deflate stream whole, the gzip trailer cut */
    const uint8_t *out;
    size_t len;
    assert_int_equal(run(&d, "gzip", tail_cut, 1 << 20, &out, &len), BODYDEC_TRUNCATED);
    free(g.p);
    free(big);
    bodydec_fini(&d);
}

static void test_corrupt(void **state)
{
    (void)state;
    bodydec_t d;
    bodydec_init(&d);
    blob_t plain = {(uint8_t *)(uintptr_t)text(), strlen(text())};
    const char *names[] = {"gzip", "deflate", "br", "zstd"};
    for (int k = 0; k < 4; k++) {
        const uint8_t *out;
        size_t len;
        bodydec_result_t r = run(&d, names[k], plain, 1 << 20, &out, &len);
        /* raw deflate may read plain text as a few stored bits before failing */
        assert_true(r == BODYDEC_CORRUPT || (k == 1 && r == BODYDEC_TRUNCATED));
        assert_string_equal(bodydec_coding(&d), names[k]);
    }
    bodydec_fini(&d);
}

/* 64 MiB of zeros compress to a few KiB: the output stops at the limit and
 * the buffers never grow past it. */
static void test_bomb(void **state)
{
    (void)state;
    bodydec_t d;
    bodydec_init(&d);
    size_t n = 64u << 20, max = 1u << 20;
    uint8_t *zeros = calloc(1, n);
    assert_non_null(zeros);
    blob_t enc[4] = {z_encode(zeros, n, 16 + 15), z_encode(zeros, n, 15), br_encode(zeros, n), zstd_encode(zeros, n)};
    const char *names[4] = {"gzip", "deflate", "br", "zstd"};
    for (int k = 0; k < 4; k++) {
        const uint8_t *out;
        size_t len;
        assert_true(enc[k].len < n / 100);
        assert_int_equal(run(&d, names[k], enc[k], max, &out, &len), BODYDEC_LIMIT);
        assert_string_equal(bodydec_coding(&d), names[k]);
        assert_int_equal(len, max);
        assert_int_equal(out[0], 0);
        assert_true(d.cap[0] <= max + 1 && d.cap[1] <= max + 1);
    }
    /* Exactly at the limit is not over it. */
    blob_t exact = z_encode(zeros, max, 16 + 15);
    const uint8_t *out;
    size_t len;
    assert_int_equal(run(&d, "gzip", exact, max, &out, &len), BODYDEC_OK);
    assert_int_equal(len, max);
    /* A bomb inside a stack: the inner stage's limit names the result. */
    blob_t gz = z_encode(zeros, n, 16 + 15);
    blob_t stacked = br_encode(gz.p, gz.len);
    assert_int_equal(run(&d, "gzip, br", stacked, max, &out, &len), BODYDEC_LIMIT);
    assert_string_equal(bodydec_coding(&d), "gzip");
    assert_int_equal(len, max);
    for (int k = 0; k < 4; k++)
        free(enc[k].p);
    free(exact.p), free(gz.p), free(stacked.p);
    free(zeros);
    bodydec_fini(&d);
}

static void test_unknown(void **state)
{
    (void)state;
    bodydec_t d;
    bodydec_init(&d);
    blob_t b = {(uint8_t *)(uintptr_t)text(), strlen(text())};
    const uint8_t *out;
    size_t len;
    assert_int_equal(run(&d, "compress", b, 1 << 20, &out, &len), BODYDEC_UNSUPPORTED);
    assert_string_equal(bodydec_coding(&d), "compress");
    assert_ptr_equal(out, b.p);
    assert_int_equal(run(&d, "gzip, X-Custom", b, 1 << 20, &out, &len), BODYDEC_UNSUPPORTED);
    assert_string_equal(bodydec_coding(&d), "x-custom");
    assert_string_equal(bodydec_result_name(BODYDEC_UNSUPPORTED), "unsupported");
    bodydec_fini(&d);
}

static void test_empty_body(void **state)
{
    (void)state;
    bodydec_t d;
    bodydec_init(&d);
    blob_t b = {NULL, 0};
    const uint8_t *out;
    size_t len;
    assert_int_equal(run(&d, "gzip", b, 1 << 20, &out, &len), BODYDEC_OK);
    assert_int_equal(len, 0);
    bodydec_fini(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity),  cmocka_unit_test(test_each_coding), cmocka_unit_test(test_stacked),
        cmocka_unit_test(test_gzip_members), cmocka_unit_test(test_truncated), cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_bomb),      cmocka_unit_test(test_unknown),     cmocka_unit_test(test_empty_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

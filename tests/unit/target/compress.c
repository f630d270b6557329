/* Unit tests of target/compress.c: --compress lists, the choice from
 * Accept-Encoding (q values, "*", refusals), and each coding decoded back by
 * common/bodydec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bodydec.h"
#include "compress.h"

static void test_parse(void **state)
{
    (void)state;
    compress_set_t s;
    assert_int_equal(compress_parse("br,gzip,zstd,deflate", &s), 0);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.v[0], COMPRESS_BR);
    assert_int_equal(s.v[3], COMPRESS_DEFLATE);
    assert_int_equal(compress_parse("off", &s), 0);
    assert_int_equal(s.n, 0);
    assert_int_equal(compress_parse("gzip,gzip", &s), -1);
    assert_int_equal(compress_parse("gzip,", &s), -1);
    assert_int_equal(compress_parse("lzma", &s), -1);
    assert_int_equal(compress_parse("", &s), -1);
}

static void test_pick(void **state)
{
    (void)state;
    compress_set_t s;
    assert_int_equal(compress_parse("zstd,br,gzip", &s), 0);
    assert_int_equal(compress_pick(&s, NULL), COMPRESS_NONE);
    assert_int_equal(compress_pick(&s, "gzip, deflate, br, zstd"), COMPRESS_ZSTD);  /* server's order */
    assert_int_equal(compress_pick(&s, "gzip, deflate, br"), COMPRESS_BR);
    assert_int_equal(compress_pick(&s, "br;q=0, gzip;q=0.5"), COMPRESS_GZIP);
    assert_int_equal(compress_pick(&s, "x-gzip"), COMPRESS_GZIP);
    assert_int_equal(compress_pick(&s, "*;q=0.1, zstd;q=0"), COMPRESS_BR);
    assert_int_equal(compress_pick(&s, "identity"), COMPRESS_NONE);
    assert_int_equal(compress_pick(&s, "deflate"), COMPRESS_NONE);
    assert_int_equal(compress_pick(&s, " GZIP ; q=1"), COMPRESS_GZIP);
}

static void test_round_trip(void **state)
{
    (void)state;
    const char *text = "{\"token\":\"0123456789abcdef\",\"items\":[1,2,3,4,5,6,7,8,9]}";
    bodydec_t d;
    bodydec_init(&d);
    for (int c = COMPRESS_GZIP; c < COMPRESS__COUNT; c++) {
        char *out;
        size_t n;
        assert_int_equal(compress_encode((compress_coding_t)c, text, strlen(text), &out, &n), 0);
        const char *name = compress_name((compress_coding_t)c);
        const uint8_t *dec;
        size_t dl;
        assert_int_equal(bodydec_run(&d, name, strlen(name), (uint8_t *)out, n, 1 << 20, &dec, &dl), BODYDEC_OK);
        assert_int_equal(dl, strlen(text));
        assert_memory_equal(dec, text, dl);
        free(out);
    }
    bodydec_fini(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_pick),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

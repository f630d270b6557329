/* h1chars: every byte value 0..255, for every character class, at every
 * position of runs of every length that the scanners treat differently
 * (short tails, whole unrolled blocks, a block and a tail), checked against
 * the definitions as they were before the tables (the bitsets and the word
 * test below, kept verbatim as the reference) and against the RFC text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>

#include "h1chars.h"

/* ---- the reference: common/h1chars.h before the lookup tables */
static const uint32_t ref_tchar_bits[8] = {0, 0x03ff6cfau, 0xc7fffffeu, 0x57ffffffu, 0, 0, 0, 0};
static const uint32_t ref_target_bits[8] = {0, 0xaffffff2u, 0x87ffffffu, 0x47fffffeu, 0, 0, 0, 0};

static bool ref_in(const uint32_t *set, unsigned char c) { return (set[c >> 5] >> (c & 31)) & 1u; }

static bool ref_token(const char *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!ref_in(ref_tchar_bits, (unsigned char)p[i]))
            return false;
    return true;
}

static bool ref_target(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!ref_in(ref_target_bits, (unsigned char)p[i]))
            return false;
    return true;
}

static bool ref_plain_value(const char *v, size_t n)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, v + i, 8);
        uint64_t d = w ^ 0x7f * ones;
        if (!(((w - 0x20 * ones) & ~w & highs) | ((d - ones) & ~d & highs)))
            continue;
        for (size_t j = i; j < i + 8; j++)
            if (((unsigned char)v[j] < 0x20 && v[j] != '\t') || v[j] == 0x7f)
                return false;
    }
    for (; i < n; i++)
        if (((unsigned char)v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f)
            return false;
    return true;
}

/* Longest run tried: several unrolled blocks of any width up to 16, plus tails. */
#define RUN_MAX 40

typedef bool (*class_fn)(const char *p, size_t n);

/* For every byte value b, every length n in 1..RUN_MAX and position i < n:
 * filler bytes (one accepted by the class) with b at i give the same answer
 * from the function under test and the reference. The run sits at an odd
 * offset so that unaligned reads are exercised too. */
static void check_class(class_fn fn, class_fn ref, char filler)
{
    char buf[RUN_MAX + 1];
    for (unsigned b = 0; b < 256; b++) {
        for (size_t n = 1; n <= RUN_MAX; n++) {
            for (size_t i = 0; i < n; i++) {
                memset(buf, filler, sizeof buf);
                char *p = buf + 1;
                p[i] = (char)b;
                bool want = ref(p, n), got = fn(p, n);
                if (want != got)
                    fail_msg("byte 0x%02x at %zu of %zu: got %d, the old definition says %d", b, i, n,
                             got, want);
            }
        }
    }
}

static void test_token_every_byte(void **state)
{
    (void)state;
    check_class(h1c_token, ref_token, 'a');
    check_class(h1c_token, ref_token, '~');
    assert_false(h1c_token("", 0));
    assert_false(ref_token("", 0));
}

static void test_target_every_byte(void **state)
{
    (void)state;
    check_class(h1c_target, ref_target, 'a');
    check_class(h1c_target, ref_target, '/');
    assert_true(h1c_target("", 0));
}

static void test_value_every_byte(void **state)
{
    (void)state;
    check_class(h1c_plain_value, ref_plain_value, 'a');
    check_class(h1c_plain_value, ref_plain_value, ' ');
    check_class(h1c_plain_value, ref_plain_value, (char)0x80); /* obs-text */
    check_class(h1c_plain_value, ref_plain_value, '\t');
    assert_true(h1c_plain_value("", 0));
}

/* Two bad bytes in one run: the first one found decides, whichever block it is in. */
static void test_two_bad_bytes(void **state)
{
    (void)state;
    char buf[RUN_MAX];
    for (size_t n = 2; n <= RUN_MAX; n++)
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++) {
                memset(buf, 'x', n);
                buf[i] = ' ';
                buf[j] = '\n';
                assert_false(h1c_token(buf, n));
                assert_false(h1c_target(buf, n));
                assert_false(h1c_plain_value(buf, n));
            }
}

/* The classes as RFC 9110 and RFC 3986 write them, independent of any table. */
static void test_rfc_sets(void **state)
{
    (void)state;
    const char *tchar_punct = "!#$%&'*+-.^_`|~";
    const char *pchar_punct = "-._~%!$&'()*+,;=:@/?";
    for (unsigned b = 0; b < 256; b++) {
        char c = (char)b;
        bool alnum = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
        bool tchar = alnum || (b && strchr(tchar_punct, (int)b));
        bool target = alnum || (b && strchr(pchar_punct, (int)b));
        bool vchar = b == '\t' || (b >= 0x20 && b != 0x7f);
        assert_int_equal(h1c_token(&c, 1), tchar);
        assert_int_equal(h1c_target(&c, 1), target);
        assert_int_equal(h1c_plain_value(&c, 1), vchar);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_every_byte),
        cmocka_unit_test(test_target_every_byte),
        cmocka_unit_test(test_value_every_byte),
        cmocka_unit_test(test_two_bad_bytes),
        cmocka_unit_test(test_rfc_sets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

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

/* The header-line loop of both fast readers before h1c_field_line (one
 * iteration: hc_h1.c fast_response, capture/h1msg.c fast_check). p[-1] must
 * be readable (it follows the previous line's LF there). */
static const char *ref_field_line(const char *p, const char *end, h1c_field_t *f)
{
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol || eol[-1] != '\r')
        return NULL;
    const char *colon = memchr(p, ':', (size_t)(eol - p));
    if (!colon || colon == p)
        return NULL;
    if (!ref_token(p, (size_t)(colon - p)))
        return NULL;
    const char *v = colon + 1, *ve = eol - 1;
    while (v < ve && (*v == ' ' || *v == '\t'))
        v++;
    if (v == ve || ve[-1] == ' ' || ve[-1] == '\t')
        return NULL;
    if (!ref_plain_value(v, (size_t)(ve - v)))
        return NULL;
    f->name = p;
    f->name_len = (size_t)(colon - p);
    f->value = v;
    f->value_len = (size_t)(ve - v);
    return eol + 1;
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

/* line[0..n) after an LF, followed by "X-Next: 1\r\n": the new scanner and
 * the old loop agree on accepting, on the slices and on where the next line
 * starts. */
static void check_line(const char *line, size_t n)
{
    char buf[256];
    static const char next[] = "X-Next: 1\r\n";
    assert_true(n + sizeof next < sizeof buf);
    buf[0] = '\n';
    memcpy(buf + 1, line, n);
    memcpy(buf + 1 + n, next, sizeof next - 1);
    const char *p = buf + 1, *end = p + n + sizeof next - 1;
    h1c_field_t a = {0}, b = {0};
    const char *want = ref_field_line(p, end, &a), *got = h1c_field_line(p, end, &b);
    if (want != got)
        fail_msg("line \"%.*s\": next line at %td, the old loop says %td", (int)n, line,
                 got ? got - p : -1, want ? want - p : -1);
    if (want) {
        assert_ptr_equal(a.name, b.name);
        assert_int_equal(a.name_len, b.name_len);
        assert_ptr_equal(a.value, b.value);
        assert_int_equal(a.value_len, b.value_len);
    }
    /* Cut anywhere: never a line read past the end given. */
    for (size_t k = 0; k < n; k++) {
        want = ref_field_line(p, p + k, &a);
        got = h1c_field_line(p, p + k, &b);
        if (want != got)
            fail_msg("line \"%.*s\" cut at %zu: got %td, the old loop says %td", (int)n, line, k,
                     got ? got - p : -1, want ? want - p : -1);
    }
}

/* Every byte value at every position of lines of the shapes servers send,
 * and the shapes that are refused (blanks, empty values, folding, bare LF). */
static void test_field_line_every_byte(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "Content-Length: 92\r\n",
        "Date: Sat, 05 Dec 2026 23:06:25 GMT\r\n",
        "ETag: \"6b1498f0-5c\"\r\n",
        "K:v\r\n",
        "A:\t b \t c\r\n",
        "Set-Cookie: sid=0123456789abcdef0123456789; Path=/; HttpOnly\r\n",
        "X-Long-Header-Name-For-Blocks: x\r\n",
        "N: \r\n",
        "N:\r\n",
        ": v\r\n",
        "N : v\r\n",
        "N: v \r\n",
        "N: v\n",
        " N: v\r\n",
        "N: a\rb\r\n",
        "N: \x80\xff\r\n",
    };
    char line[128];
    for (size_t l = 0; l < sizeof lines / sizeof lines[0]; l++) {
        size_t n = strlen(lines[l]);
        check_line(lines[l], n);
        for (size_t i = 0; i < n; i++)
            for (unsigned b = 0; b < 256; b++) {
                memcpy(line, lines[l], n);
                line[i] = (char)b;
                check_line(line, n);
            }
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
        cmocka_unit_test(test_field_line_every_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

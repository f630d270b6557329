/* Tests of replay/template.c: compile errors, variables, every generator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "clock.h"
#include "template.h"

typedef struct fixture {
    tpl_symtab_t *st;
    tpl_vars_t *vars;
    uint64_t rng;
    tpl_ctx_t ctx;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    f->st = tpl_symtab_new();
    f->rng = 12345;
    f->ctx.rng = &f->rng;
    f->ctx.user_id = 42;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    tpl_vars_free(f->vars);
    tpl_symtab_free(f->st);
    free(f);
    return 0;
}

/* Compiles s, expands it once into out, returns the expansion length. */
static size_t expand(fixture_t *f, const char *s, char *out, size_t cap)
{
    char err[128] = "";
    tpl_t *t = tpl_compile(f->st, s, strlen(s), err, sizeof(err));
    if (!t)
        fail_msg("compile \"%s\": %s", s, err);
    size_t n = tpl_expand_buf(t, &f->ctx, out, cap);
    tpl_free(t);
    return n;
}

static void expect_error(fixture_t *f, const char *s, const char *msg)
{
    char err[128] = "";
    tpl_t *t = tpl_compile(f->st, s, strlen(s), err, sizeof(err));
    assert_null(t);
    if (!strstr(err, msg))
        fail_msg("\"%s\": error \"%s\" lacks \"%s\"", s, err, msg);
}

static void test_literal(void **state)
{
    fixture_t *f = *state;
    char err[64];
    const char *s = "GET /plain?a=}}&b={";
    tpl_t *t = tpl_compile(f->st, s, strlen(s), err, sizeof(err));
    assert_non_null(t);
    assert_true(tpl_is_literal(t));
    size_t len;
    const char *lit = tpl_literal(t, &len);
    assert_int_equal(len, strlen(s));
    assert_memory_equal(lit, s, len);
    tpl_free(t);

    t = tpl_compile(f->st, "", 0, err, sizeof(err));
    assert_non_null(t);
    assert_true(tpl_is_literal(t));
    assert_non_null(tpl_literal(t, &len));
    assert_int_equal(len, 0);
    tpl_free(t);

    t = tpl_compile(f->st, "a{{x}}", 6, err, sizeof(err));
    assert_false(tpl_is_literal(t));
    assert_null(tpl_literal(t, &len));
    tpl_free(t);
}

static void test_binary_literal(void **state)
{
    fixture_t *f = *state;
    char err[64];
    const char s[] = "a\0b{{user_id}}\0";
    tpl_t *t = tpl_compile(f->st, s, sizeof(s) - 1, err, sizeof(err));
    assert_non_null(t);
    struct evbuffer *b = evbuffer_new();
    long n = tpl_expand(t, &f->ctx, b);
    assert_int_equal(n, 6);
    assert_int_equal(evbuffer_get_length(b), 6);
    assert_memory_equal(evbuffer_pullup(b, -1), "a\0b42\0", 6);
    evbuffer_free(b);
    tpl_free(t);
}

static void test_variables(void **state)
{
    fixture_t *f = *state;
    char err[64];
    const char *s = "/users/{{ id }}/items/{{item}}?t={{id}}";
    tpl_t *t = tpl_compile(f->st, s, strlen(s), err, sizeof(err));
    assert_non_null(t);
    assert_int_equal(tpl_symtab_count(f->st), 2);
    int id = tpl_symtab_find(f->st, "id"), item = tpl_symtab_find(f->st, "item");
    assert_int_equal(id, 0);
    assert_int_equal(item, 1);
    assert_string_equal(tpl_symtab_name(f->st, 1), "item");
    assert_int_equal(tpl_symtab_find(f->st, "nope"), -1);

    f->vars = tpl_vars_new(tpl_symtab_count(f->st));
    f->ctx.vars = f->vars;
    char out[128];
    /* unset variables expand to nothing */
    assert_int_equal(tpl_expand_buf(t, &f->ctx, out, sizeof(out)), strlen("/users//items/?t="));
    assert_string_equal(out, "/users//items/?t=");

    assert_int_equal(tpl_vars_set(f->vars, (size_t)id, "7", 1), 0);
    assert_int_equal(tpl_vars_set(f->vars, (size_t)item, "abc", 3), 0);
    tpl_expand_buf(t, &f->ctx, out, sizeof(out));
    assert_string_equal(out, "/users/7/items/abc?t=7");

    struct evbuffer *b = evbuffer_new();
    assert_int_equal(tpl_expand(t, &f->ctx, b), (long)strlen(out));
    assert_memory_equal(evbuffer_pullup(b, -1), out, strlen(out));
    evbuffer_free(b);
    tpl_free(t);
}

static void test_expand_cut(void **state)
{
    fixture_t *f = *state;
    char out[8];
    size_t n = expand(f, "0123456789{{user_id}}", out, sizeof(out));
    assert_int_equal(n, 12);
    assert_string_equal(out, "0123456");
    /* cap 0 writes nothing but still reports the length */
    assert_int_equal(expand(f, "abc", NULL, 0), 3);
}

static void test_vars_set_get_size(void **state)
{
    (void)state;
    tpl_vars_t *v = tpl_vars_new(2);
    size_t base = tpl_vars_size(v);
    size_t len = 99;
    assert_null(tpl_vars_get(v, 0, &len));
    assert_int_equal(len, 0);
    assert_int_equal(tpl_vars_set(v, 2, "x", 1), -1); /* out of range */
    assert_null(tpl_vars_get(v, 5, &len));

    assert_int_equal(tpl_vars_set(v, 0, "hello", 5), 0);
    assert_string_equal(tpl_vars_get(v, 0, &len), "hello");
    assert_int_equal(len, 5);
    size_t grown = tpl_vars_size(v);
    assert_true(grown >= base + 6);
    /* a shorter value reuses the slot */
    assert_int_equal(tpl_vars_set(v, 0, "hi", 2), 0);
    assert_string_equal(tpl_vars_get(v, 0, &len), "hi");
    assert_int_equal(tpl_vars_size(v), grown);
    /* an empty value is set, not unset */
    assert_int_equal(tpl_vars_set(v, 1, "", 0), 0);
    assert_non_null(tpl_vars_get(v, 1, &len));
    assert_int_equal(len, 0);
    tpl_vars_free(v);
}

static void test_symtab_intern_len(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(tpl_symtab_intern(f->st, "token_xyz", 5), 0);
    assert_int_equal(tpl_symtab_intern(f->st, "token", 5), 0);
    assert_int_equal(tpl_symtab_intern(f->st, "tok", 3), 1);
    assert_string_equal(tpl_symtab_name(f->st, 0), "token");
    assert_null(tpl_symtab_name(f->st, 2));
    /* many names grow the table */
    char name[16];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "v%d", i);
        assert_int_equal(tpl_symtab_intern(f->st, name, strlen(name)), i + 2);
    }
    assert_int_equal(tpl_symtab_find(f->st, "v99"), 101);
}

static void test_uuid(void **state)
{
    fixture_t *f = *state;
    char a[64], b[64];
    assert_int_equal(expand(f, "{{uuid}}", a, sizeof(a)), 36);
    assert_int_equal(expand(f, "{{ uuid }}", b, sizeof(b)), 36);
    assert_string_not_equal(a, b);
    for (int k = 0; k < 200; k++) {
        expand(f, "{{uuid}}", a, sizeof(a));
        for (int i = 0; i < 36; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23)
                assert_int_equal(a[i], '-');
            else
                assert_non_null(strchr("0123456789abcdef", a[i]));
        }
        assert_int_equal(a[14], '4');
        assert_non_null(strchr("89ab", a[19]));
    }
}

static void test_now_ms(void **state)
{
    fixture_t *f = *state;
    char out[32];
    int64_t before = clk_wall_us() / 1000;
    expand(f, "{{now_ms}}", out, sizeof(out));
    int64_t after = clk_wall_us() / 1000;
    long long v = strtoll(out, NULL, 10);
    assert_true(v >= before && v <= after);
}

/* Seconds, fractions and offsets: every time of one request comes from one
 * clock reading, so "start" and "end" are exactly the offset apart. */
static void test_now_s_offsets(void **state)
{
    fixture_t *f = *state;
    char err[128], out[128];
    const char *s = "{{now_s}} {{now_s -3600}} {{now_s.3 -3600}} {{now_s.3}} {{now_ms +5000}} "
                    "{{now_ms}} {{now_s.9 -1.5}} {{ now_s.1 +0.25 }}";
    tpl_t *t = tpl_compile(f->st, s, strlen(s), err, sizeof(err));
    if (!t)
        fail_msg("%s", err);
    tpl_memo_t memo;
    tpl_memo_clear(&memo);
    f->ctx.memo = &memo;
    int64_t before = clk_wall_us();
    tpl_expand_buf(t, &f->ctx, out, sizeof(out));
    int64_t after = clk_wall_us();
    long long s0, s1, ms0, ms1;
    double f1, f2, f9, f10;
    assert_int_equal(sscanf(out, "%lld %lld %lf %lf %lld %lld %lf %lf", &s0, &s1, &f1, &f2, &ms0, &ms1,
                            &f9, &f10), 8);
    assert_true(s0 >= before / 1000000 && s0 <= after / 1000000);
    assert_int_equal(s0 - s1, 3600);
    assert_int_equal(ms0 - ms1, 5000);
    assert_true(ms1 >= before / 1000 && ms1 <= after / 1000);
    assert_true(f2 - f1 > 3599.9995 && f2 - f1 < 3600.0005);
    assert_int_equal((long long)f2, s0);
    /* 3 fraction digits, 9 fraction digits (the last 3 zero), 1 digit */
    const char *w3 = strchr(out, '.');
    assert_int_equal(strspn(w3 + 1, "0123456789"), 3);
    char *p9 = out;
    for (int i = 0; i < 6; i++)
        p9 = strchr(p9, ' ') + 1;
    assert_int_equal(strspn(strchr(p9, '.') + 1, "0123456789"), 9);
    assert_memory_equal(strchr(p9, '.') + 7, "000", 3);
    assert_true(f2 - f9 > 1.498 && f2 - f9 <= 1.5); /* f2 is cut to ms */
    char *p1 = strchr(p9, ' ') + 1;
    assert_int_equal(strspn(strchr(p1, '.') + 1, "0123456789"), 1);
    assert_true(f10 - f2 > 0.1 && f10 - f2 < 0.4);
    /* a second expansion in the same request repeats the bytes */
    char again[128];
    tpl_expand_buf(t, &f->ctx, again, sizeof(again));
    assert_string_equal(out, again);
    tpl_free(t);
}

/* A negative time (an offset beyond the epoch) still prints a valid number. */
static void test_now_before_epoch(void **state)
{
    fixture_t *f = *state;
    char out[64];
    int64_t now_s = clk_wall_us() / 1000000;
    char tplt[64];
    snprintf(tplt, sizeof tplt, "{{now_s.2 -%lld.5}}", (long long)now_s + 10);
    expand(f, tplt, out, sizeof(out));
    double v = strtod(out, NULL);
    assert_true(v < -9.0 && v > -12.0);
    assert_int_equal(strspn(strchr(out, '.') + 1, "0123456789"), 2);
}

static void test_random_int(void **state)
{
    fixture_t *f = *state;
    char err[64], out[32];
    const char *s = "{{random_int -3 5}}";
    tpl_t *t = tpl_compile(f->st, s, strlen(s), err, sizeof(err));
    assert_non_null(t);
    int seen[9] = { 0 };
    for (int k = 0; k < 2000; k++) {
        tpl_expand_buf(t, &f->ctx, out, sizeof(out));
        long v = strtol(out, NULL, 10);
        assert_in_range(v + 3, 0, 8);
        seen[v + 3]++;
    }
    for (int i = 0; i < 9; i++)
        assert_true(seen[i] > 100); /* every value, roughly uniformly (expect ~222) */
    tpl_free(t);

    expand(f, "{{random_int 7 7}}", out, sizeof(out));
    assert_string_equal(out, "7");
    expand(f, "{{random_int 0 0}}", out, sizeof(out));
    assert_string_equal(out, "0");
    expand(f, "{{random_int -5 -5}}", out, sizeof(out));
    assert_string_equal(out, "-5");
    expand(f, "{{random_int -9223372036854775808 -9223372036854775808}}", out, sizeof(out));
    assert_string_equal(out, "-9223372036854775808");
    expand(f, "{{random_int 9223372036854775807 9223372036854775807}}", out, sizeof(out));
    assert_string_equal(out, "9223372036854775807");
    /* the full int64 range must not divide by zero */
    expand(f, "{{random_int -9223372036854775808 9223372036854775807}}", out, sizeof(out));
    assert_true(strlen(out) > 0);
}

static void test_user_id(void **state)
{
    fixture_t *f = *state;
    char out[32];
    f->ctx.user_id = 18446744073709551615ull;
    expand(f, "u{{user_id}}", out, sizeof(out));
    assert_string_equal(out, "u18446744073709551615");
    f->ctx.user_id = 0;
    expand(f, "u{{user_id}}", out, sizeof(out));
    assert_string_equal(out, "u0");
    f->ctx.user_id = 1000;
    expand(f, "{{user_id}}", out, sizeof(out));
    assert_string_equal(out, "1000");
}

static void test_braces(void **state)
{
    fixture_t *f = *state;
    char out[64];
    f->ctx.user_id = 3;
    expand(f, "{\"id\":{{user_id}}}", out, sizeof(out));
    assert_string_equal(out, "{\"id\":3}");
    expand(f, "{{{user_id}}}", out, sizeof(out));
    assert_string_equal(out, "{3}");
}

static void test_errors(void **state)
{
    fixture_t *f = *state;
    expect_error(f, "abc{{x", "unterminated {{");
    expect_error(f, "abc{{x}", "unterminated {{");
    expect_error(f, "{{a {{b}}", "unterminated {{");
    expect_error(f, "{{random_int 1}}", "random_int needs two integers");
    expect_error(f, "{{random_int}}", "random_int needs two integers");
    expect_error(f, "{{random_int a b}}", "random_int needs two integers");
    expect_error(f, "{{random_int 1 2 3}}", "random_int needs two integers");
    expect_error(f, "{{random_int 5 1}}", "random_int needs two integers");
    expect_error(f, "{{random_int 1 99999999999999999999}}", "random_int needs two integers");
    expect_error(f, "{{uuid4 x}}", "unknown generator");
    expect_error(f, "{{now_ms 3}}", "now_ms takes one offset with a sign");
    expect_error(f, "{{now_ms +1.5}}", "now_ms takes one offset");
    expect_error(f, "{{now_s -1 -2}}", "now_s takes one offset");
    expect_error(f, "{{now_s -1.1234567}}", "now_s takes one offset");
    expect_error(f, "{{now_s +9999999999999}}", "now_s takes one offset");
    expect_error(f, "{{}}", "empty");
    expect_error(f, "{{ }}", "empty");
    expect_error(f, "{{a/b}}", "bad variable name");
    /* the error names the place */
    char err[128];
    assert_null(tpl_compile(f->st, "0123{{x", 7, err, sizeof(err)));
    assert_non_null(strstr(err, "byte 4"));
    /* none of the malformed templates above interned a variable */
    assert_int_equal(tpl_symtab_count(f->st), 0);
}

static void test_rand(void **state)
{
    (void)state;
    uint64_t s = 0; /* a zero seed must not stick at zero */
    uint64_t a = tpl_rand(&s), b = tpl_rand(&s);
    assert_true(a != 0 && b != 0 && a != b);
    uint64_t s1 = 99, s2 = 99;
    assert_true(tpl_rand(&s1) == tpl_rand(&s2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_literal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binary_literal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_variables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expand_cut, setup, teardown),
        cmocka_unit_test(test_vars_set_get_size),
        cmocka_unit_test_setup_teardown(test_symtab_intern_len, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uuid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_now_ms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_now_s_offsets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_now_before_epoch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_int, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_braces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test(test_rand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

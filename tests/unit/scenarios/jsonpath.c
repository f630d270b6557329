/* Tests of scenarios/jsonpath.c: path syntax, lookups, value text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "jsonpath.h"

static const char *doc_text =
    "{\"a\":{\"b\":[{\"c\":\"x\"},{\"c\":\"y\",\"n\":-12}]},"
    "\"key.with.dots\":1,\"sp ace\":true,\"q\\\"uote\":\"qq\","
    "\"h\\u00e9llo\":\"w\\u00f6rld \\u2603\",\"nul\":null,\"r\":1.5,"
    "\"obj\":{\"k\":[1,2]},\"reals\":[0.1,19.99,1e3,1e-7,0.30000000000000004,-2.50],\"arr\":[[10,20],[30]],\"empty\":\"\"}";

/* The text found at path in doc_text, or NULL when nothing is found. */
static char *lookup(const char *path)
{
    char err[200];
    jpath_t *p = jpath_compile(path, err, sizeof(err));
    if (!p)
        fail_msg("compile %s: %s", path, err);
    json_t *root = json_loads(doc_text, 0, NULL);
    assert_non_null(root);
    json_t *v = jpath_lookup(p, root);
    char *out = NULL;
    if (v) {
        char scratch[JPATH_SCRATCH], *owned;
        size_t len;
        const char *t = jpath_text(v, scratch, &len, &owned);
        assert_non_null(t);
        out = strndup(t, len);
        free(owned);
    }
    json_decref(root);
    jpath_free(p);
    return out;
}

static void expect(const char *path, const char *want)
{
    char *got = lookup(path);
    if (!want) {
        if (got)
            fail_msg("%s: expected nothing, got \"%s\"", path, got);
        return;
    }
    if (!got)
        fail_msg("%s: expected \"%s\", found nothing", path, want);
    assert_string_equal(got, want);
    free(got);
}

static void test_dotted_and_indexed(void **state)
{
    (void)state;
    expect("$.a.b[0].c", "x");
    expect("$.a.b[1].c", "y");
    expect("$.a.b[1].n", "-12");
    expect("$.a.b[-1].c", "y");
    expect("$.arr[0][1]", "20");
    expect("$.arr[1][0]", "30");
    expect("a.b[0].c", "x"); /* $ may be left out */
    expect("$[\"a\"][\"b\"][0]['c']", "x");
}

static void test_bracket_keys(void **state)
{
    (void)state;
    expect("$[\"key.with.dots\"]", "1");
    expect("$['sp ace']", "true");
    expect("$[\"q\\\"uote\"]", "qq");
}

static void test_value_text(void **state)
{
    (void)state;
    expect("$.nul", "null");
    expect("$.r", "1.5");
    expect("$.reals[0]", "0.1");
    expect("$.reals[1]", "19.99");
    expect("$.reals[2]", "1000");
    expect("$.reals[3]", "1e-07");
    expect("$.reals[4]", "0.30000000000000004"); /* 0.1 + 0.2 needs all 17 digits */
    expect("$.reals[5]", "-2.5");
    expect("$.obj", "{\"k\":[1,2]}");
    expect("$.obj.k", "[1,2]");
    expect("$.empty", "");
    expect("$[\"h\xc3\xa9llo\"]", "w\xc3\xb6rld \xe2\x98\x83"); /* unicode keys and values, unescaped */
    char *whole = lookup("$");
    assert_non_null(whole);
    assert_non_null(strstr(whole, "\"key.with.dots\":1"));
    free(whole);
}

static void test_missing(void **state)
{
    (void)state;
    expect("$.nope", NULL);
    expect("$.a.b[2]", NULL);
    expect("$.a.b[-3]", NULL);
    expect("$.a.b.c", NULL);      /* key on an array */
    expect("$.a[0]", NULL);       /* index on an object */
    expect("$.a.b[0].c.d", NULL); /* key on a string */
    expect("$.nul.x", NULL);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct { const char *path, *msg; } bad[] = {
        { "", "empty JSON path" },
        { "$.", "expected a key at byte 2" },
        { "$..a", "not supported" },
        { "$.a.*", "wildcards" },
        { "$[", "expected an integer index or a quoted key at byte 2" },
        { "$[x]", "expected an integer index" },
        { "$[1", "expected ] at byte 3" },
        { "$[\"a\"", "expected ] at byte 5" },
        { "$[\"a]", "unterminated quoted key" },
        { "$[+1]", "expected an integer index" },
        { "$a", "expected . or [ at byte 1" },
        { "$[99999999999999999999999]", "expected an integer index" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[200] = "";
        jpath_t *p = jpath_compile(bad[i].path, err, sizeof(err));
        if (p)
            fail_msg("\"%s\" compiled", bad[i].path);
        if (!strstr(err, bad[i].msg))
            fail_msg("\"%s\": error \"%s\" lacks \"%s\"", bad[i].path, err, bad[i].msg);
    }
}

static void test_scalar_root(void **state)
{
    (void)state;
    char err[64], scratch[JPATH_SCRATCH], *owned;
    jpath_t *p = jpath_compile("$", err, sizeof(err));
    json_t *root = json_integer(-9223372036854775807LL - 1);
    size_t len;
    const char *t = jpath_text(jpath_lookup(p, root), scratch, &len, &owned);
    assert_int_equal(len, 20);
    assert_memory_equal(t, "-9223372036854775808", 20);
    assert_null(owned);
    json_decref(root);
    jpath_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dotted_and_indexed),
        cmocka_unit_test(test_bracket_keys),
        cmocka_unit_test(test_value_text),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_scalar_root),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

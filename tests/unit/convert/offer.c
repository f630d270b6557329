/* Unit tests of convert/offer.c: what a response offers (JSON fields with
 * their paths, cookies, headers worth it, hidden inputs by name in any
 * attribute order) and which values are worth correlating. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "offer.h"

static const offer_t *find(const offer_list_t *c, const char *value)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].value, value) == 0)
            return &c->v[i];
    return NULL;
}

static void test_json_cookie_header(void **state)
{
    (void)state;
    rec_exchange_t x;
    offer_list_t c;
    fx_make(&x, "POST", "/api/login", 0, 1, 200, "application/json",
            "{\"user\": {\"access-token\": \"abc123xyz\", \"ids\": [17, 123456]}, \"ok\": true, \"msg\": \"hi there you\"}");
    rec_headers_add(&x.resp_headers, "Set-Cookie", "sid=q9w8e7r6; Path=/; HttpOnly");
    rec_headers_add(&x.resp_headers, "X-Auth", "Zm9vYmFy42");
    rec_headers_add(&x.resp_headers, "Date", "Mon, 01 Jan 2024 00:00:00 GMT");
    rec_headers_add(&x.resp_headers, "Location", "/next/step2");
    assert_int_equal(offer_collect(&x, &c), 0);
    const offer_t *o = find(&c, "abc123xyz");
    assert_non_null(o);
    assert_int_equal(o->kind, SCN_EXT_JSON);
    assert_string_equal(o->expr, "$.user['access-token']");
    assert_string_equal(o->base, "access-token");
    assert_non_null(o = find(&c, "123456"));
    assert_string_equal(o->expr, "$.user.ids[1]");
    assert_string_equal(o->base, "ids");
    assert_null(find(&c, "17"));            /* too short to be an id */
    assert_null(find(&c, "hi there you"));  /* a sentence, not a value */
    assert_non_null(o = find(&c, "q9w8e7r6"));
    assert_int_equal(o->kind, SCN_EXT_COOKIE);
    assert_string_equal(o->expr, "sid");
    assert_non_null(o = find(&c, "Zm9vYmFy42"));
    assert_int_equal(o->kind, SCN_EXT_HEADER);
    assert_non_null(o = find(&c, "/next/step2"));
    assert_true(o->whole_url);
    for (size_t i = 0; i < c.n; i++)
        assert_string_not_equal(c.v[i].expr, "Date");
    for (size_t i = 1; i < c.n; i++)      /* longest first */
        assert_true(strlen(c.v[i - 1].value) >= strlen(c.v[i].value));
    offer_list_fini(&c);
    rec_exchange_fini(&x);
}

static void test_regex_finds_value(void **state)
{
    (void)state;
    rec_exchange_t x;
    offer_list_t c;
    fx_make(&x, "GET", "/f", 0, 1, 200, "text/html",
            "<input type=\"hidden\" name=\"csrf_token\" value=\"wrong1\">"
            "<INPUT name=csrf type=hidden value=right22>");
    assert_int_equal(offer_collect(&x, &c), 0);
    assert_int_equal(c.n, 2);
    const offer_t *k = strcmp(c.v[0].base, "csrf") == 0 ? &c.v[0] : &c.v[1];
    assert_string_equal(k->value, "right22");
    assert_string_equal(k->expr, "name=[\"']?csrf[\"' ][^>]*value=[\"']?([^\"' >]*)");
    offer_list_fini(&c);
    rec_exchange_fini(&x);
}

/* Bodies whose every value is shorter than 4 bytes offer nothing (and are
 * not parsed); a longer one, an escaped quote inside it, a number of 4
 * digits, or a hidden input still offers. */
static void test_short_bodies(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        const char *offers; /* NULL: none */
    } cases[] = {
        {"{\"id\": 7}", NULL},
        {"{\"ok\": true, \"n\": [1, 22, 333], \"s\": \"abc\"}", NULL},
        {"[]", NULL},
        {"{\"n\": 4321}", "4321"},
        {"{\"t\": \"ab\\\"cd9\"}", "ab\"cd9"},
        {"{\"id\": 7, \"next\": \"cur10x9\"}", "cur10x9"},
        {"<form><input type=\"hidden\" name=\"k\" value=\"v9\"></form>", NULL},
        {"<form><input type=\"hidden\" name=\"k\" value=\"tok123\"></form>", "tok123"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        rec_exchange_t x;
        offer_list_t c;
        fx_make(&x, "GET", "/x", 0, 1, 200, "application/json", cases[i].body);
        assert_int_equal(offer_collect(&x, &c), 0);
        if (!cases[i].offers) {
            if (c.n != 0)
                fail_msg("%s: offers %s", cases[i].body, c.v[0].value);
        } else if (c.n != 1 || strcmp(c.v[0].value, cases[i].offers) != 0) {
            fail_msg("%s: %zu offers, expected %s", cases[i].body, c.n, cases[i].offers);
        }
        offer_list_fini(&c);
        rec_exchange_fini(&x);
    }
}

static void test_worth(void **state)
{
    (void)state;
    assert_true(offer_worth("abcdef"));
    assert_true(offer_worth("a1b2"));
    assert_false(offer_worth("abcd"));
    assert_false(offer_worth("42"));
    assert_false(offer_worth("hello world"));
    assert_false(offer_worth("false"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_cookie_header),
        cmocka_unit_test(test_regex_finds_value),
        cmocka_unit_test(test_short_bodies),
        cmocka_unit_test(test_worth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

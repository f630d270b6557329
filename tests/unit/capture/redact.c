/* Unit tests of capture/redact.c: headers become variables or markers, JSON,
 * form and regex rules, derived values left for correlation, the secrets
 * file, the secrets-in-clear count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "redact.h"

static void set_body(uint8_t **b, size_t *n, const char *s)
{
    free(*b);
    *b = (uint8_t *)strdup(s);
    *n = strlen(s);
}

static void exchange(rec_exchange_t *x, const char *target, const char *auth, const char *ctype,
                     const char *req_body, const char *set_cookie, const char *resp_body)
{
    memset(x, 0, sizeof *x);
    x->method = strdup("POST");
    x->target = strdup(target);
    if (auth)
        rec_headers_add(&x->req_headers, "Authorization", auth);
    if (ctype)
        rec_headers_add(&x->req_headers, "Content-Type", ctype);
    if (req_body) {
        set_body(&x->req_body, &x->req_body_len, req_body);
        char n[24];
        snprintf(n, sizeof n, "%zu", x->req_body_len);
        rec_headers_add(&x->req_headers, "Content-Length", n);
    }
    if (set_cookie)
        rec_headers_add(&x->resp_headers, "Set-Cookie", set_cookie);
    if (resp_body)
        set_body(&x->resp_body, &x->resp_body_len, resp_body);
}

static void headers_become_variables_and_markers(void **state)
{
    (void)state;
    redact_t *r = redact_new();
    assert_int_equal(redact_defaults(r), 0);
    rec_exchange_t x;
    exchange(&x, "/a", "Basic c3RhdGlj", NULL, NULL, "session=abc123; Path=/; HttpOnly", NULL);
    rec_headers_add(&x.req_headers, "cookie", "session=abc123");
    assert_int_equal(redact_exchange(r, &x), 0);
    assert_string_equal(rec_headers_get(&x.req_headers, "Authorization"), "{{secret.authorization}}");
    assert_string_equal(rec_headers_get(&x.req_headers, "Cookie"), "{{secret.cookie}}");
    assert_string_equal(rec_headers_get(&x.resp_headers, "Set-Cookie"), "session=<redacted>; Path=/; HttpOnly");
    rec_exchange_fini(&x);
    /* Another value of the same header: another name; the first value its old one. */
    exchange(&x, "/b", "Basic b3RoZXI=", NULL, NULL, NULL, NULL);
    redact_exchange(r, &x);
    assert_string_equal(rec_headers_get(&x.req_headers, "Authorization"), "{{secret.authorization_2}}");
    rec_exchange_fini(&x);
    exchange(&x, "/c", "Basic c3RhdGlj", NULL, NULL, NULL, NULL);
    redact_exchange(r, &x);
    assert_string_equal(rec_headers_get(&x.req_headers, "Authorization"), "{{secret.authorization}}");
    rec_exchange_fini(&x);
    redact_stats_t st;
    redact_get_stats(r, &st);
    assert_int_equal(st.clear, 0);
    assert_int_equal(st.secrets, 3); /* two authorizations, one cookie */
    redact_free(r);
}

static void clear_secrets_are_counted(void **state)
{
    (void)state;
    redact_t *r = redact_new();
    redact_header(r, "X-Api-Key");
    rec_exchange_t x;
    exchange(&x, "/a", "Bearer zzzzzzzz", NULL, NULL, NULL, NULL);
    redact_exchange(r, &x);
    assert_string_equal(rec_headers_get(&x.req_headers, "Authorization"), "Bearer zzzzzzzz");
    rec_exchange_fini(&x);
    exchange(&x, "/b", NULL, NULL, NULL, "sid=1", NULL);
    redact_exchange(r, &x);
    rec_exchange_fini(&x);
    exchange(&x, "/c", NULL, NULL, NULL, NULL, NULL);
    redact_exchange(r, &x);
    rec_exchange_fini(&x);
    redact_stats_t st;
    redact_get_stats(r, &st);
    assert_int_equal(st.clear, 2);
    redact_free(r);
}

static void derived_token_is_left_for_correlation(void **state)
{
    (void)state;
    redact_t *r = redact_new();
    redact_header(r, "Authorization");
    char err[200];
    assert_int_equal(redact_body(r, "$.password", err, sizeof err), 0);
    rec_exchange_t x;
    exchange(&x, "/login", NULL, "application/json", "{\"user\": \"a\", \"password\": \"hunter22\"}", NULL,
             "{\"token\":\"0123456789abcdef\"}");
    assert_int_equal(redact_exchange(r, &x), 0);
    static const char want[] = "{\"user\": \"a\", \"password\": \"{{secret.password}}\"}";
    assert_int_equal(x.req_body_len, strlen(want));
    assert_memory_equal(x.req_body, want, x.req_body_len);
    assert_string_equal(rec_headers_get(&x.req_headers, "Content-Length"), "48");
    rec_exchange_fini(&x);
    exchange(&x, "/profile", "Bearer 0123456789abcdef", NULL, NULL, NULL, NULL);
    redact_exchange(r, &x);
    assert_string_equal(rec_headers_get(&x.req_headers, "Authorization"), "Bearer 0123456789abcdef");
    rec_exchange_fini(&x);
    exchange(&x, "/profile", "Bearer fedcba9876543210", NULL, NULL, NULL, NULL);
    redact_exchange(r, &x);
    assert_string_equal(rec_headers_get(&x.req_headers, "Authorization"), "{{secret.authorization}}");
    rec_exchange_fini(&x);
    redact_stats_t st;
    redact_get_stats(r, &st);
    assert_int_equal(st.kept, 1);
    assert_int_equal(st.replaced, 2);
    redact_free(r);
}

static void json_rules_say_what_they_could_not_read(void **state)
{
    (void)state;
    redact_t *r = redact_new();
    char err[200];
    assert_int_equal(redact_body(r, "$.pin", err, sizeof err), 0);
    assert_int_equal(redact_body(r, "$.[", err, sizeof err), -1);
    assert_non_null(strstr(err, "--redact-body '$.['"));
    rec_exchange_t x;
    exchange(&x, "/a", NULL, "application/json", "{\"pin\": 1234}", NULL, "{\"pin\": \"cut");
    redact_exchange(r, &x);
    assert_memory_equal(x.req_body, "{\"pin\": 1234}", x.req_body_len);
    rec_exchange_fini(&x);
    redact_stats_t st;
    redact_get_stats(r, &st);
    assert_int_equal(st.unchecked, 2); /* a number, and a body cut short */
    redact_free(r);
}

static void form_fields_in_body_and_query(void **state)
{
    (void)state;
    redact_t *r = redact_new();
    char err[200];
    assert_int_equal(redact_form(r, "password", err, sizeof err), 0);
    assert_int_equal(redact_form(r, "a=b", err, sizeof err), -1);
    rec_exchange_t x;
    exchange(&x, "/login?user=u&password=q1w2e3r4", NULL, "application/x-www-form-urlencoded",
             "user=u&password=p%40ss&x=1", NULL, NULL);
    redact_exchange(r, &x);
    assert_string_equal(x.target, "/login?user=u&password={{secret.password}}");
    assert_memory_equal(x.req_body, "user=u&password={{secret.password_2}}&x=1", x.req_body_len);
    rec_exchange_fini(&x);
    /* Not a form: the body is left alone. */
    exchange(&x, "/a", NULL, "text/plain", "password=p", NULL, NULL);
    redact_exchange(r, &x);
    assert_memory_equal(x.req_body, "password=p", x.req_body_len);
    rec_exchange_fini(&x);
    redact_free(r);
}

static void regex_replaces_its_group_everywhere(void **state)
{
    (void)state;
    redact_t *r = redact_new();
    char err[200];
    assert_int_equal(redact_regex(r, "card=([0-9]+)", err, sizeof err), 0);
    assert_int_equal(redact_regex(r, "(", err, sizeof err), -1);
    assert_non_null(strstr(err, "--redact-regex '('"));
    rec_exchange_t x;
    exchange(&x, "/a", NULL, NULL, "card=4111&card=5500;", NULL, "your card=4111 ok");
    redact_exchange(r, &x);
    assert_memory_equal(x.req_body, "card={{secret.regex1}}&card={{secret.regex1_2}};", x.req_body_len);
    assert_int_equal(x.req_body_len, strlen("card={{secret.regex1}}&card={{secret.regex1_2}};"));
    assert_memory_equal(x.resp_body, "your card=<redacted> ok", x.resp_body_len);
    rec_exchange_fini(&x);
    redact_free(r);
}

static void secrets_file_is_private_json(void **state)
{
    (void)state;
    char path[] = "/tmp/test-capture-redact.XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    chmod(path, 0644);
    redact_t *r = redact_new();
    char err[300];
    redact_header(r, "Authorization");
    assert_int_equal(redact_secrets_out(r, path, err, sizeof err), 0);
    rec_exchange_t x;
    exchange(&x, "/a", "Basic c2VjcmV0", NULL, NULL, NULL, NULL);
    redact_exchange(r, &x);
    rec_exchange_fini(&x);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    json_t *o = json_load_file(path, 0, NULL);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "secret.authorization")), "Basic c2VjcmV0");
    json_decref(o);
    assert_int_equal(redact_secrets_out(r, "/nonexistent-dir/s.json", err, sizeof err), -1);
    assert_non_null(strstr(err, "--secrets-out"));
    redact_free(r);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(headers_become_variables_and_markers),
        cmocka_unit_test(clear_secrets_are_counted),
        cmocka_unit_test(derived_token_is_left_for_correlation),
        cmocka_unit_test(json_rules_say_what_they_could_not_read),
        cmocka_unit_test(form_fields_in_body_and_query),
        cmocka_unit_test(regex_replaces_its_group_everywhere),
        cmocka_unit_test(secrets_file_is_private_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

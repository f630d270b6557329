/* Unit tests of convert/params.c: CSV columns bound to recorded values, CSV
 * errors naming file and line, and client-made UUIDs and timestamps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "draft.h"
#include "fixture.h"
#include "params.h"

static char *write_tmp(const char *text)
{
    char *path = strdup("/tmp/aiotest-csv-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_csv(void **state)
{
    (void)state;
    char *path = write_tmp("user,password,note\r\nalice,\"s3,cr\"\"et\",x\nbob,b,y\n");
    params_row_t row;
    mp_error_t err = {0};
    assert_int_equal(params_load_csv(path, &row, &err), 0);
    assert_int_equal(row.n, 3);
    assert_string_equal(row.names[1], "password");
    assert_string_equal(row.values[1], "s3,cr\"et");

    rec_exchange_t x;
    scn_request_t r = {0};
    fx_make(&x, "POST", "/login?u=alice", 0, 1, 200, NULL, NULL);
    fx_req_body(&x, "{\"user\":\"alice\",\"pw\":\"s3,cr\\\"et\",\"n\":\"x\",\"alias\":\"malice\"}");
    free(x.req_body);
    x.req_body = (uint8_t *)strdup("user=alice&pw=s3,cr\"et&n=x&alias=malice");
    x.req_body_len = strlen((char *)x.req_body);
    assert_int_equal(draft_from_exchange(&x, "http://shop.test", &r), 0);
    /* "x" is too short to stand for a column; "malice" is another word. */
    assert_int_equal(params_apply_row(&row, &r, 1), 3);
    assert_string_equal(r.url, "/login?u={{user}}");
    const char *want = "user={{user}}&pw={{password}}&n=x&alias=malice";
    assert_int_equal(r.body_len, strlen(want));
    assert_memory_equal(r.body, want, r.body_len);
    scn_request_fini(&r);
    rec_exchange_fini(&x);
    params_row_fini(&row);
    unlink(path);
    free(path);
}

static void csv_error(const char *text, const char *needle)
{
    char *path = write_tmp(text);
    params_row_t row;
    mp_error_t err = {0};
    assert_true(params_load_csv(path, &row, &err) < 0);
    if (!strstr(err.msg, needle) || !strstr(err.msg, path))
        fail_msg("'%s' lacks '%s' or the path", err.msg, needle);
    unlink(path);
    free(path);
}

static void test_csv_errors(void **state)
{
    (void)state;
    csv_error("", ":1: expected a header row");
    csv_error("user,2bad\na,b\n", ":1: column 2: expected a variable name");
    csv_error("user,pw\nonly\n", ":2: expected a data row of 2 columns, got 1");
    csv_error("user,pw\n", ":2: expected a data row");
    csv_error("user,pw\n\"open,x\n", ":2:");
}

static void test_generators(void **state)
{
    (void)state;
    rec_exchange_t x[3];
    const rec_exchange_t *p[3];
    scn_request_t r[3] = {{0}};
    /* start is 1700000000000 ms; a stamp 2 s later is "now", one from 2001 is not. */
    fx_make(&x[0], "POST", "/api/event?ts=1700000002000&old=1000000000000", 0, 1, 200, "application/json",
            "{\"order\": \"6f1c0d3e-0000-4000-8000-000000000001\"}");
    fx_req_body(&x[0], "{\"rid\": \"0b7c6a7e-1111-4111-8111-111111111111\"}");
    fx_make(&x[1], "GET", "/api/order/6f1c0d3e-0000-4000-8000-000000000001", 10, 11, 200, NULL, NULL);
    fx_make(&x[2], "GET", "/api/a/2b7c6a7e-2222-4222-8222-222222222222", 20, 21, 200, NULL, NULL);
    rec_headers_add(&x[2].req_headers, "X-Trace", "2b7c6a7e-2222-4222-8222-222222222222");
    for (int i = 0; i < 3; i++) {
        p[i] = &x[i];
        assert_int_equal(draft_from_exchange(&x[i], "http://shop.test", &r[i]), 0);
    }
    char *buf = NULL;
    size_t len = 0, made = 0;
    FILE *rep = open_memstream(&buf, &len);
    assert_int_equal(params_generators(p, r, 3, "class 'c'", rep, &made), 0);
    fclose(rep);
    assert_string_equal(r[0].url, "/api/event?ts={{now_ms}}&old=1000000000000");
    assert_memory_equal(r[0].body, "{\"rid\": \"{{uuid}}\"}", r[0].body_len);
    /* Returned by a response: correlation's business, not a generator's. */
    assert_string_equal(r[1].url, "/api/order/6f1c0d3e-0000-4000-8000-000000000001");
    /* Used twice in one request: still one request, both become {{uuid}}. */
    assert_string_equal(r[2].url, "/api/a/{{uuid}}");
    assert_int_equal(made, 3);
    assert_non_null(strstr(buf, "class 'c': 2 client-made UUID(s) -> {{uuid}}"));
    assert_non_null(strstr(buf, "1 timestamp(s)"));
    free(buf);
    for (int i = 0; i < 3; i++) {
        scn_request_fini(&r[i]);
        rec_exchange_fini(&x[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_generators),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

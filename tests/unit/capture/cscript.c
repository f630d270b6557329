/* Tests of capture/cscript.c: exchange(ex) sees the exchange as it would be
 * written and changes it in place (request line, header arrays, bodies,
 * client key); false drops it; an error, or a change that makes the exchange
 * invalid, leaves it unchanged and not to be written; the counts; a script
 * without exchange() is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cscript.h"
#include "luart.h"

static char *write_lua(const char *text)
{
    char *path = strdup("/tmp/aiotest-cscript-XXXXXX.lua");
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void make(rec_exchange_t *x, const char *target)
{
    memset(x, 0, sizeof *x);
    x->client = strdup("127.0.0.1");
    x->scheme = strdup("http");
    x->authority = strdup("shop:8080");
    x->method = strdup("POST");
    x->target = strdup(target);
    x->http_version = strdup("HTTP/1.1");
    x->t_start_us = 1000;
    x->t_end_us = 2000;
    x->status = 200;
    rec_headers_add(&x->req_headers, "Content-Type", "application/json");
    rec_headers_add(&x->req_headers, "X-Keep", "1");
    x->req_body = (uint8_t *)strdup("{\"password\": \"hunter2\"}");
    x->req_body_len = strlen((char *)x->req_body);
    rec_headers_add(&x->resp_headers, "Set-Cookie", "s=1");
    x->resp_body = (uint8_t *)strdup("{\"token\": \"abc\"}");
    x->resp_body_len = strlen((char *)x->resp_body);
}

static const char script[] =
    "function exchange(ex)\n"
    "  if ex.target == '/drop' then return false end\n"
    "  if ex.target == '/boom' then error('boom') end\n"
    "  if ex.target == '/badmethod' then ex.method = 'A B' return end\n"
    "  if ex.target == '/badhdr' then ex.request.headers[1] = {'only a name'} return end\n"
    "  if ex.status ~= 200 or ex.scheme ~= 'http' or ex.tls then error('fields') end\n"
    "  ex.request.body = ex.request.body:gsub('hunter2', '***')\n"
    "  ex.response.body = nil\n"
    "  table.remove(ex.response.headers, 1)\n"
    "  table.insert(ex.request.headers, {'X-Added', ex.request.headers[2][2] .. '!'})\n"
    "  ex.client = 'session:' .. ex.authority\n"
    "  ex.target = ex.target .. '?masked'\n"
    "end\n";

static void test_exchange(void **state)
{
    (void)state;
    if (!lrt_available(NULL))
        skip();
    char err[512], *path = write_lua(script);
    cscr_t *s = cscr_new(path, err, sizeof err);
    if (!s)
        fail_msg("%s", err);
    rec_exchange_t x;
    make(&x, "/login");
    assert_int_equal(cscr_exchange(s, &x), CSCR_KEEP);
    assert_string_equal(x.target, "/login?masked");
    assert_string_equal(x.client, "session:shop:8080");
    assert_int_equal(x.req_body_len, strlen("{\"password\": \"***\"}"));
    assert_memory_equal(x.req_body, "{\"password\": \"***\"}", x.req_body_len);
    assert_int_equal(x.resp_body_len, 0);
    assert_int_equal(x.resp_headers.n, 0);
    assert_int_equal(x.req_headers.n, 3);
    assert_string_equal(x.req_headers.v[2].name, "X-Added");
    assert_string_equal(x.req_headers.v[2].value, "1!");
    assert_int_equal(x.t_end_us, 2000); /* what the hook cannot change stays */
    rec_exchange_fini(&x);

    const char *bad[] = {"/boom", "/badmethod", "/badhdr"};
    for (size_t i = 0; i < 3; i++) {
        make(&x, bad[i]);
        assert_int_equal(cscr_exchange(s, &x), CSCR_ERROR);
        assert_string_equal(x.method, "POST"); /* unchanged */
        assert_int_equal(x.req_headers.n, 2);
        assert_string_equal(x.req_headers.v[0].name, "Content-Type");
        rec_exchange_fini(&x);
    }
    make(&x, "/drop");
    assert_int_equal(cscr_exchange(s, &x), CSCR_DROP);
    rec_exchange_fini(&x);
    cscr_stats_t st;
    cscr_get_stats(s, &st);
    assert_int_equal(st.seen, 5);
    assert_int_equal(st.dropped, 1);
    assert_int_equal(st.errors, 3);
    cscr_free(s);
    unlink(path);
    free(path);
}

static void test_refused(void **state)
{
    (void)state;
    if (!lrt_available(NULL))
        skip();
    char err[512], *path = write_lua("x = 1\n");
    assert_null(cscr_new(path, err, sizeof err));
    assert_non_null(strstr(err, "defines no function exchange"));
    unlink(path);
    free(path);
    path = write_lua("function exchange(ex)\n  return (\nend\n");
    assert_null(cscr_new(path, err, sizeof err));
    char want[300];
    snprintf(want, sizeof want, "%s:3:", path);
    assert_non_null(strstr(err, want));
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exchange), cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

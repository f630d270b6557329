/* Unit tests of convert/har.c: HAR entries become exchanges (URL split,
 * timings, bodies, base64, cookies), bad input names entry and field, a broken
 * entry is skipped with its index, NUL bytes in bodies are kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "har.h"

static char *write_tmp(const char *text)
{
    char *path = strdup("/tmp/aiotest-har-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static const char *GOOD =
    "\xEF\xBB\xBF{\"log\": {\"version\": \"1.2\", \"entries\": ["
    "{\"startedDateTime\": \"2024-01-02T03:04:05.250+01:00\", \"time\": 120.5,"
    " \"timings\": {\"blocked\": -1, \"dns\": 2, \"connect\": 3, \"send\": 1, \"wait\": 50, \"receive\": 64.5},"
    " \"request\": {\"method\": \"POST\", \"url\": \"HTTPS://shop.test:8443/api/login?x=1#frag\","
    "   \"httpVersion\": \"h2\", \"headers\": [{\"name\": \":authority\", \"value\": \"shop.test\"},"
    "   {\"name\": \"Content-Type\", \"value\": \"application/json\"}],"
    "   \"postData\": {\"mimeType\": \"application/json\", \"text\": \"{\\\"user\\\":\\\"a\\\"}\"}},"
    " \"response\": {\"status\": 200, \"headers\": [], \"cookies\": [{\"name\": \"sid\", \"value\": \"s3cr3t\"}],"
    "   \"content\": {\"mimeType\": \"text/plain\", \"text\": \"aGVsbG8gd29ybGQ=\", \"encoding\": \"base64\"}}},"
    "{\"startedDateTime\": \"2024-01-02T02:04:06Z\", \"time\": 1,"
    " \"request\": {\"method\": \"POST\", \"url\": \"http://shop.test/form\", \"headers\": [],"
    "   \"postData\": {\"mimeType\": \"application/x-www-form-urlencoded\","
    "     \"params\": [{\"name\": \"q\", \"value\": \"a b&c\"}, {\"name\": \"n\", \"value\": \"1\"}]}},"
    " \"response\": {\"status\": 0, \"headers\": []}}"
    "]}}";

static void test_entries(void **state)
{
    (void)state;
    char *path = write_tmp(GOOD);
    xset_t xs;
    mp_error_t err = {0};
    xs_init(&xs);
    assert_int_equal(har_load(path, 3, &xs, &err), 0);
    assert_int_equal(xs.n, 2);
    const rec_exchange_t *x = &xs.v[0].x;
    assert_string_equal(xs.v[0].key, "3|har");
    assert_string_equal(x->scheme, "https");
    assert_string_equal(x->authority, "shop.test:8443");
    assert_string_equal(x->target, "/api/login?x=1");
    assert_string_equal(x->method, "POST");
    assert_string_equal(x->http_version, "h2");
    /* 03:04:05.250+01:00 is 02:04:05.250Z; the second entry starts 0.75 s later. */
    assert_int_equal(xs.v[1].x.t_start_us - x->t_start_us, 750000);
    assert_int_equal(x->t_end_us - x->t_start_us, 120500);
    assert_int_equal(x->t_first_byte_us - x->t_start_us, 56000);
    assert_int_equal(x->req_body_len, strlen("{\"user\":\"a\"}"));
    assert_int_equal(x->resp_body_len, 11);
    assert_memory_equal(x->resp_body, "hello world", 11);
    assert_string_equal(rec_headers_get(&x->resp_headers, "set-cookie"), "sid=s3cr3t");
    assert_string_equal(rec_headers_get(&x->req_headers, ":authority"), "shop.test");
    const rec_exchange_t *y = &xs.v[1].x;
    assert_int_equal(y->req_body_len, strlen("q=a+b%26c&n=1"));
    assert_memory_equal(y->req_body, "q=a+b%26c&n=1", y->req_body_len);
    assert_true(y->flags & REC_F_ERROR);
    xs_fini(&xs);
    unlink(path);
    free(path);
}

#define OK_ENTRY_WS "{\"startedDateTime\": \"2024-01-02T03:04:05Z\", \"request\": {\"method\": \"GET\", " \
                    "\"url\": \"ws://a/\"}, \"response\": {\"status\": 101}, " \
                    "\"_webSocketMessages\": [{\"type\": \"sideways\"}]}"
static void expect_skips(const char *text, const char *keep, size_t n_entries, const char *needle);

/* Chrome's WebSocket entry: wss URL, 101, _webSocketMessages (binary as
 * base64) become the recording's messages, timed from the request's start. */
static void test_websocket(void **state)
{
    (void)state;
    char *path = write_tmp(
        "{\"log\": {\"entries\": [{\"startedDateTime\": \"2024-01-02T03:04:05Z\", \"_resourceType\": \"websocket\","
        " \"request\": {\"method\": \"GET\", \"url\": \"wss://shop.test/live\", \"headers\": []},"
        " \"response\": {\"status\": 101, \"headers\": []},"
        " \"_webSocketMessages\": ["
        "  {\"type\": \"send\", \"time\": 1704164645.5, \"opcode\": 1, \"data\": \"{\\\"sub\\\":1}\"},"
        "  {\"type\": \"receive\", \"time\": 1704164645.75, \"opcode\": 2, \"data\": \"AP+A\"}]}]}}");
    xset_t xs;
    mp_error_t err = {0};
    xs_init(&xs);
    assert_int_equal(har_load(path, 0, &xs, &err), 0);
    assert_int_equal(xs.n, 1);
    const rec_exchange_t *x = &xs.v[0].x;
    assert_string_equal(x->scheme, "https");
    assert_int_equal(x->status, 101);
    assert_int_equal(x->n_ws, 2);
    assert_int_equal(x->ws[0].dir, REC_WS_UP);
    assert_int_equal(x->ws[0].opcode, 1);
    assert_int_equal(x->ws[0].len, 9);
    assert_memory_equal(x->ws[0].data, "{\"sub\":1}", 9);
    assert_int_equal(x->ws[0].t_us, 500000);
    assert_int_equal(x->ws[1].dir, REC_WS_DOWN);
    assert_int_equal(x->ws[1].len, 3);
    assert_memory_equal(x->ws[1].data, "\x00\xff\x80", 3);
    assert_int_equal(x->ws[1].t_us, 750000);
    xs_fini(&xs);
    unlink(path);
    free(path);
    /* A broken message names its place; the entry is skipped, not the file. */
    expect_skips("{\"log\": {\"entries\": [" OK_ENTRY_WS "]}}", "0", 1, "_webSocketMessages[0]");
}

static void expect_error(const char *text, const char *needle)
{
    char *path = write_tmp(text);
    xset_t xs;
    mp_error_t err = {0};
    xs_init(&xs);
    assert_true(har_load(path, 0, &xs, &err) < 0);
    if (!strstr(err.msg, needle) || !strstr(err.msg, path))
        fail_msg("error '%s' lacks '%s' or the file name", err.msg, needle);
    xs_fini(&xs);
    unlink(path);
    free(path);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("{\"log\": {\"entries\": [", "line 1");
    expect_error("{\"nolog\": 1}", "log");
    expect_error("{\"log\": {\"entries\": 5}}", "log.entries");
}

/* Loads text; expects the entries of keep (1) read and the others skipped,
 * the first skip's message naming the file and holding needle. */
static void expect_skips(const char *text, const char *keep, size_t n_entries, const char *needle)
{
    char *path = write_tmp(text);
    xset_t xs;
    mp_error_t err = {0};
    xs_init(&xs);
    int rc = har_load(path, 0, &xs, &err);
    if (rc != 0)
        fail_msg("rc %d: '%s' (one broken entry lost the whole file)", rc, err.msg);
    size_t want_kept = 0;
    for (size_t i = 0; i < n_entries; i++)
        want_kept += keep[i] == '1';
    assert_int_equal(xs.n, want_kept);
    assert_int_equal(xs.n_skips, n_entries - want_kept);
    for (size_t i = 0, k = 0, s = 0; i < n_entries; i++) {
        if (keep[i] == '1')
            assert_int_equal(xs.v[k++].index, (long)i);
        else
            assert_int_equal(xs.skips[s++].index, (long)i);
    }
    if (xs.n_skips && (!strstr(xs.skips[0].why, needle) || !strstr(xs.skips[0].why, path)))
        fail_msg("skip '%s' lacks '%s' or the file name", xs.skips[0].why, needle);
    xs_fini(&xs);
    unlink(path);
    free(path);
}

#define OK_ENTRY "{\"startedDateTime\": \"2024-01-02T03:04:05Z\", \"request\": {\"method\": \"GET\", " \
                 "\"url\": \"http://a/\"}, \"response\": {\"status\": 200}}"

/* A broken entry is skipped with its index and reason; the others are read
 * (issue 13: one odd entry lost the whole file). */
static void test_broken_entries_skipped(void **state)
{
    (void)state;
    expect_skips("{\"log\": {\"entries\": [" OK_ENTRY ", {\"startedDateTime\": \"2024-01-02T03:04:05Z\","
                 "\"request\": {\"method\": \"GET\", \"url\": 7}, \"response\": {\"status\": 200}}, " OK_ENTRY "]}}",
                 "101", 3, "entry 1: request.url: expected a string");
    expect_skips("{\"log\": {\"entries\": [{\"startedDateTime\": \"yesterday\","
                 "\"request\": {\"method\": \"GET\", \"url\": \"http://a/\"}}, " OK_ENTRY "]}}",
                 "01", 2, "entry 0: startedDateTime");
    expect_skips("{\"log\": {\"entries\": [" OK_ENTRY ", {\"startedDateTime\": \"2024-01-02T03:04:05Z\","
                 "\"request\": {\"method\": \"GET\", \"url\": \"/relative\"}}]}}",
                 "10", 2, "entry 1: request.url: expected an absolute URL");
    expect_skips("{\"log\": {\"entries\": [{\"startedDateTime\": \"2024-01-02T03:04:05Z\","
                 "\"request\": {\"method\": \"GET\", \"url\": \"http://a/\", \"headers\": [{\"value\": \"x\"}]}}]}}",
                 "0", 1, "entry 0: request.headers[0].name: missing");
    expect_skips("{\"log\": {\"entries\": [7, " OK_ENTRY "]}}", "01", 2, "entry 0: entry: expected an object");
}

/* Other odd characters (issue 13 item 4): a raw control character in a
 * string, invalid UTF-8 (a Latin-1 body written as text) and a lone
 * surrogate escape (Python's surrogateescape) do not lose the file: the
 * control character is read as itself, the others as U+FFFD, and a note
 * says how many and where the first was. A syntax error is still one, at
 * its place in the file as written. */
static void test_odd_characters(void **state)
{
    (void)state;
    const char *text =
        "{\"log\": {\"entries\": [\n"
        "{\"startedDateTime\": \"2024-01-02T03:04:05Z\", \"request\": {\"method\": \"GET\", \"url\": \"http://a/\"},"
        " \"response\": {\"status\": 200, \"content\": {\"text\": \"a\x01" "b\xe9" "c\\udcff\\ud83d\\ude00\\u00e9\"}}}\n"
        "]}}";
    char *path = write_tmp(text);
    xset_t xs;
    mp_error_t err = {0};
    xs_init(&xs);
    int rc = har_load(path, 0, &xs, &err);
    if (rc != 0)
        fail_msg("rc %d: '%s'", rc, err.msg);
    assert_int_equal(xs.n, 1);
    const char *want = "a\x01" "b\xef\xbf\xbd" "c\xef\xbf\xbd" "\xf0\x9f\x98\x80" "\xc3\xa9";
    assert_int_equal(xs.v[0].x.resp_body_len, strlen(want));
    assert_memory_equal(xs.v[0].x.resp_body, want, strlen(want));
    assert_int_equal(xs.n_notes, 1);
    if (!strstr(xs.notes[0], path) || !strstr(xs.notes[0], "3 odd character(s)") ||
        !strstr(xs.notes[0], "line 2 column ") || !strstr(xs.notes[0], "control character 0x01"))
        fail_msg("note '%s'", xs.notes[0]);
    xs_fini(&xs);
    unlink(path);
    free(path);
    /* A syntax error after a mended character: named where it is in the file. */
    expect_error("{\"log\": {\"x\": \"\xff\x01\",\n \"entries\": [}}", "line 2 column 14");
    /* The text ends inside a mended string: the end of the file (the fuzz
     * target found a read past it). */
    expect_error("{\"log\": \"\x01\xff", "line 1 column 12");
}

/* Numbers out of range are refused with entry and field, never cast
 * (issue 21 item 7: "time": 1e300 was accepted, an undefined conversion). */
static void test_out_of_range_numbers(void **state)
{
    (void)state;
#define ENTRY_WITH(time, timings, status) \
    "{\"log\": {\"entries\": [" OK_ENTRY ", {\"startedDateTime\": \"2024-01-02T03:04:05Z\", \"time\": " time \
    ", \"timings\": " timings ", \"request\": {\"method\": \"GET\", \"url\": \"http://a/\"}, " \
    "\"response\": {\"status\": " status "}}]}}"
    expect_skips(ENTRY_WITH("1e300", "{}", "200"), "10", 2, "entry 1: time: expected");
    expect_skips(ENTRY_WITH("-1e300", "{}", "200"), "10", 2, "entry 1: time: expected");
    expect_skips(ENTRY_WITH("5", "{\"wait\": 1e300}", "200"), "10", 2, "entry 1: timings.wait: expected");
    expect_skips(ENTRY_WITH("5", "{\"send\": 9.3e18}", "200"), "10", 2, "entry 1: timings.send: expected");
    expect_skips(ENTRY_WITH("5", "{}", "1e300"), "10", 2, "entry 1: response.status: expected");
    expect_skips(ENTRY_WITH("5", "{}", "-4294967496"), "10", 2, "entry 1: response.status: expected");
    expect_skips(ENTRY_WITH("5", "{}", "200.5"), "10", 2, "entry 1: response.status: expected");
    /* In range: kept as before (-1 is "not applicable" in timings). */
    expect_skips(ENTRY_WITH("86400000", "{\"blocked\": -1, \"wait\": 12.5}", "404"), "11", 2, "");
}

/* NUL in strings (mitmproxy writes \u0000): bodies keep every byte, their
 * length is the JSON string's, not strlen's; a NUL in a field that must be
 * text (a header) skips that entry with the reason, not the file. */
static void test_nul(void **state)
{
    (void)state;
    const char *text =
        "{\"log\": {\"entries\": ["
        "{\"startedDateTime\": \"2024-01-02T03:04:05Z\", \"request\": {\"method\": \"POST\", \"url\": \"http://a/up\","
        "  \"postData\": {\"mimeType\": \"application/octet-stream\", \"text\": \"x\\u0000y\\u0000\"}},"
        " \"response\": {\"status\": 200, \"content\": {\"mimeType\": \"text/plain\", \"text\": \"a\\u0000bc\"}}},"
        "{\"startedDateTime\": \"2024-01-02T03:04:06Z\", \"request\": {\"method\": \"GET\", \"url\": \"http://a/\","
        "  \"headers\": [{\"name\": \"X-Odd\", \"value\": \"v\\u0000w\"}]}, \"response\": {\"status\": 200}},"
        "{\"startedDateTime\": \"2024-01-02T03:04:07Z\", \"request\": {\"method\": \"POST\", \"url\": \"http://a/f\","
        "  \"postData\": {\"params\": [{\"name\": \"k\", \"value\": \"1\\u00002\"}]}}, \"response\": {\"status\": 200}}"
        "]}}";
    char *path = write_tmp(text);
    xset_t xs;
    mp_error_t err = {0};
    xs_init(&xs);
    int rc = har_load(path, 0, &xs, &err);
    if (rc != 0)
        fail_msg("rc %d: '%s'", rc, err.msg);
    assert_int_equal(xs.n, 2);
    const rec_exchange_t *x = &xs.v[0].x;
    assert_int_equal(x->req_body_len, 4);
    assert_memory_equal(x->req_body, "x\0y\0", 4);
    assert_int_equal(x->resp_body_len, 4);
    assert_memory_equal(x->resp_body, "a\0bc", 4);
    assert_int_equal(xs.v[1].index, 2);
    assert_int_equal(xs.v[1].x.req_body_len, strlen("k=1%002"));
    assert_memory_equal(xs.v[1].x.req_body, "k=1%002", xs.v[1].x.req_body_len);
    assert_int_equal(xs.n_skips, 1);
    assert_int_equal(xs.skips[0].index, 1);
    if (!strstr(xs.skips[0].why, "entry 1: request.headers[0].value: ") || !strstr(xs.skips[0].why, "NUL"))
        fail_msg("skip reason '%s'", xs.skips[0].why);
    xs_fini(&xs);
    unlink(path);
    free(path);
}

static void test_time_and_base64(void **state)
{
    (void)state;
    int64_t a, b;
    assert_int_equal(har_parse_time("1970-01-01T00:00:01.5Z", &a), 0);
    assert_int_equal(a, 1500000);
    assert_int_equal(har_parse_time("2016-06-16T12:34:56.123456-07:00", &a), 0);
    assert_int_equal(har_parse_time("2016-06-16T19:34:56.123456Z", &b), 0);
    assert_int_equal(a, b);
    assert_int_equal(har_parse_time("2016-06-16 12:34", &a), -1);
    uint8_t out[16];
    assert_int_equal(har_base64_decode("YWJj\nZA==", 9, out), 4);
    assert_memory_equal(out, "abcd", 4);
    assert_int_equal(har_base64_decode("a*b", 3, out), -1);
}

/* Every prefix of a good HAR: an error naming the JSON position, never a crash. */
static void test_truncated(void **state)
{
    (void)state;
    size_t len = strlen(GOOD);
    for (size_t cut = 0; cut < len; cut++) {
        char *text = strndup(GOOD, cut);
        char *path = write_tmp(text);
        xset_t xs;
        mp_error_t err = {0};
        xs_init(&xs);
        int rc = har_load(path, 0, &xs, &err);
        if (rc == 0 || !strstr(err.msg, path))
            fail_msg("cut at %zu: rc %d, '%s'", cut, rc, err.msg);
        xs_fini(&xs);
        unlink(path);
        free(path);
        free(text);
    }
}

/* Replaces, one at a time, every value inside the entries by a value of each
 * other JSON type: har_load either accepts it or names entry and field. */
static void mutate(json_t *root, json_t *node, int depth)
{
    json_t *kinds[] = {json_null(), json_integer(-7), json_string("x"), json_array(), json_object(), json_true()};
    const char *key;
    json_t *v;
    void *tmp;
    if (depth > 6)
        goto out;
    json_object_foreach_safe(node, tmp, key, v) {
        json_t *keep = json_incref(v);
        for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
            json_object_set(node, key, kinds[k]);
            char *text = json_dumps(root, 0);
            char *path = write_tmp(text);
            xset_t xs;
            mp_error_t err = {0};
            xs_init(&xs);
            int rc = har_load(path, 0, &xs, &err);
            if (rc < 0)
                fail_msg("%s replaced: '%s': the file was refused for one entry", key, err.msg);
            if (xs.n_skips && !strstr(xs.skips[0].why, "entry 0: "))
                fail_msg("%s replaced: '%s' does not name the entry", key, xs.skips[0].why);
            xs_fini(&xs);
            unlink(path);
            free(path);
            free(text);
        }
        json_object_set(node, key, keep);
        if (json_is_object(keep))
            mutate(root, keep, depth + 1);
        else if (json_is_array(keep) && json_array_size(keep) && json_is_object(json_array_get(keep, 0)))
            mutate(root, json_array_get(keep, 0), depth + 1);
        json_decref(keep);
    }
out:
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
        json_decref(kinds[k]);
}

static void test_wrong_types(void **state)
{
    (void)state;
    json_t *root = json_loads(GOOD + 3, 0, NULL);
    assert_non_null(root);
    json_t *entry = json_array_get(json_object_get(json_object_get(root, "log"), "entries"), 0);
    mutate(root, entry, 0);
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entries),
        cmocka_unit_test(test_websocket),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_broken_entries_skipped),
        cmocka_unit_test(test_nul),
        cmocka_unit_test(test_odd_characters),
        cmocka_unit_test(test_out_of_range_numbers),
        cmocka_unit_test(test_time_and_base64),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_wrong_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

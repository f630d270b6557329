/* Unit tests of scenarios/view_rec.c, view_scn.c, view_file.c and vjson.c:
 * the JSON view round-trips both files exactly and names the place of an error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixtures.h"
#include "view.h"

#define N_X 4

static char *write_recording(int n)
{
    char *path = fx_tmp(".mp");
    rec_header_t h;
    fx_rec_header(&h);
    mp_error_t err;
    rec_writer_t *w = rec_writer_open(path, &h, false, &err);
    assert_non_null(w);
    for (int i = 0; i < n; i++) {
        rec_exchange_t x;
        fx_exchange(i, &x);
        assert_int_equal(rec_writer_write(w, &x, &err), 0);
        rec_exchange_fini(&x);
    }
    assert_int_equal(rec_writer_close(w), 0);
    rec_header_fini(&h);
    return path;
}

static char *dump(const char *mp, int want_rc)
{
    char *json = fx_tmp(".json");
    FILE *fp = fopen(json, "w");
    assert_non_null(fp);
    mp_error_t err;
    int rc = view_dump_file(mp, fp, &err);
    if (rc != want_rc)
        fail_msg("view_dump_file: %d %s", rc, rc ? err.msg : "");
    fclose(fp);
    return json;
}

static void assert_same_file(const char *a, const char *b)
{
    size_t na, nb;
    uint8_t *da = fx_read(a, &na), *db = fx_read(b, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(da, db, na);
    free(da);
    free(db);
}

static void test_recording_roundtrip(void **state)
{
    (void)state;
    char *mp = write_recording(N_X);
    char *json = dump(mp, 0);
    char *mp2 = fx_tmp(".mp");
    mp_error_t err;
    if (view_json_file_to_mp(json, mp2, &err) != 0)
        fail_msg("%s", err.msg);
    assert_same_file(mp, mp2);
    /* The dump is JSON a reader can use: bodies as text or base64. */
    json_error_t je;
    json_t *j = json_load_file(json, JSON_ALLOW_NUL, &je);
    assert_non_null(j);
    json_t *xs = json_object_get(j, "exchanges");
    assert_int_equal(json_array_size(xs), N_X);
    assert_string_equal(json_string_value(json_object_get(json_array_get(xs, 0), "req_body")),
                        "{\"user\":\"ann\",\"pass\":\"é\"}");
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(xs, 1), "req_body"), "base64")),
                        "AP/+gGEAww==");
    assert_string_equal(json_string_value(json_object_get(json_array_get(xs, 0), "tunnel_bytes_down")),
                        "18446744073709551615");
    json_t *flags = json_object_get(json_array_get(xs, 1), "flags");
    assert_string_equal(json_string_value(json_array_get(flags, 0)), "tls");
    assert_string_equal(json_string_value(json_array_get(flags, 1)), "error");
    assert_string_equal(json_string_value(json_array_get(flags, 2)), "h2");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(json_array_get(xs, 2), "flags"), 1)), 1 << 20);
    json_decref(j);
    unlink(mp);
    unlink(mp2);
    unlink(json);
    free(mp);
    free(mp2);
    free(json);
}

static void test_exchange_json_in_memory(void **state)
{
    (void)state;
    for (int i = 0; i < N_X; i++) {
        rec_exchange_t x, back;
        fx_exchange(i, &x);
        json_t *j = view_exchange_to_json(&x);
        assert_non_null(j);
        mp_error_t err;
        if (view_exchange_from_json(j, &back, &err) != 0)
            fail_msg("%s", err.msg);
        fx_assert_exchange_equal(&x, &back);
        rec_exchange_fini(&back);
        /* A wrong type names the field. */
        json_object_set_new(j, "status", json_true());
        assert_int_equal(view_exchange_from_json(j, &back, &err), MP_ERR_FORMAT);
        assert_string_equal(err.msg, "exchange.status: expected an unsigned integer, got a boolean");
        json_object_set_new(j, "conn", json_integer(-1));
        assert_int_equal(view_exchange_from_json(j, &back, &err), MP_ERR_FORMAT);
        assert_string_equal(err.msg, "exchange.conn: expected an unsigned integer, got an integer below 0");
        json_object_set_new(j, "conn", json_string("18446744073709551615"));
        json_object_set_new(j, "status", json_integer(200));
        json_object_set_new(j, "resp_body", json_pack("{s:s}", "base64", "abc"));
        assert_int_equal(view_exchange_from_json(j, &back, &err), MP_ERR_FORMAT);
        assert_non_null(strstr(err.msg, "exchange.resp_body: base64: expected groups of 4"));
        json_decref(j);
        rec_exchange_fini(&x);
    }
}

static void test_scenario_roundtrip(void **state)
{
    (void)state;
    scn_scenario_t *s = fx_scenario();
    char *mp = fx_tmp(".scn.mp");
    mp_error_t err;
    assert_int_equal(scn_save(mp, s, &err), 0);
    char *json = dump(mp, 0);
    char *mp2 = fx_tmp(".scn.mp");
    if (view_json_file_to_mp(json, mp2, &err) != 0)
        fail_msg("%s", err.msg);
    assert_same_file(mp, mp2);
    scn_scenario_t *back;
    if (view_scenario_load_json(json, &back, &err) != 0)
        fail_msg("%s", err.msg);
    fx_assert_scenario_equal(s, back);
    scn_free(back);
    /* In memory too. */
    json_t *j = view_scenario_to_json(s);
    assert_non_null(j);
    assert_int_equal(view_scenario_from_json(j, &back, &err), 0);
    fx_assert_scenario_equal(s, back);
    scn_free(back);
    json_decref(j);
    scn_free(s);
    unlink(mp);
    unlink(mp2);
    unlink(json);
    free(mp);
    free(mp2);
    free(json);
}

static char *write_text(const char *text)
{
    char *path = fx_tmp(".json");
    fx_write(path, text, strlen(text));
    return path;
}

/* Loads text as a scenario view; expects rc and "<file>: want" (or
 * "<file>:want" when want starts with a digit: a line number). */
static void expect_json(const char *text, int want_rc, const char *want)
{
    char *path = write_text(text);
    scn_scenario_t *s;
    mp_error_t err;
    int rc = view_scenario_load_json(path, &s, &err);
    if (rc != want_rc)
        fail_msg("rc %d, want %d: %s", rc, want_rc, rc ? err.msg : "");
    if (want_rc == 0) {
        scn_free(s);
    } else {
        char full[600];
        snprintf(full, sizeof full, "%s%s%s", path, want[0] >= '0' && want[0] <= '9' ? ":" : ": ", want);
        if (strcmp(err.msg, full) != 0)
            fail_msg("got  \"%s\"\nwant \"%s\"", err.msg, full);
        assert_null(s);
    }
    unlink(path);
    free(path);
}

static void test_hand_written_minimal(void **state)
{
    (void)state;
    char *path = write_text("{\"hosts\": [{\"base_url\": \"http://127.0.0.1:8080\"}],\n"
                            " \"classes\": [{\"name\": \"c\", \"tasks\": [\n"
                            "   {\"method\": \"GET\", \"url\": \"/health\"},\n"
                            "   {\"requests\": [{\"method\": \"POST\", \"url\": \"/x\", \"body\": \"\"}], \"parallel\": true}]}]}\n");
    scn_scenario_t *s;
    mp_error_t err;
    if (view_scenario_load_json(path, &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(s->version_major, SCN_VERSION_MAJOR);
    assert_int_equal(s->n_classes, 1);
    assert_int_equal(s->classes[0].weight, 1);
    assert_int_equal(s->classes[0].tasks.n, 2);
    assert_string_equal(s->classes[0].tasks.v[0].requests[0].name, "GET /health");
    assert_false(s->classes[0].tasks.v[0].parallel);
    assert_true(s->classes[0].tasks.v[1].parallel);
    assert_null(s->classes[0].tasks.v[1].requests[0].body);
    assert_int_equal(s->hosts[0].proto, SCN_PROTO_AUTO);
    assert_null(s->tool);
    /* Absent stays absent through the binary file. */
    char *mp = fx_tmp(".scn.mp");
    assert_int_equal(scn_save(mp, s, &err), 0);
    scn_scenario_t *back;
    assert_int_equal(scn_load(mp, &back, &err), 0);
    fx_assert_scenario_equal(s, back);
    scn_free(back);
    unlink(mp);
    free(mp);
    scn_free(s);
    unlink(path);
    free(path);
}

/* The shipped example is valid and in the canonical layout: converting it
 * to .mp and dumping that gives the file back byte for byte. */
static void test_example_is_canonical(void **state)
{
    (void)state;
    const char *dir = getenv("SCN_EXAMPLES");
    if (!dir)
        skip();
    char json[512];
    snprintf(json, sizeof json, "%s/shop.json", dir);
    char *mp = fx_tmp(".scn.mp");
    mp_error_t err;
    if (view_json_file_to_mp(json, mp, &err) != 0)
        fail_msg("%s", err.msg);
    char *back = dump(mp, 0);
    assert_same_file(json, back);
    scn_scenario_t *s;
    assert_int_equal(scn_load(mp, &s, &err), 0);
    assert_int_equal(s->n_classes, 2);
    assert_string_equal(s->classes[0].on_start.v[0].requests[0].url, "/api/login");
    assert_string_equal(s->classes[0].on_stop.v[0].requests[0].url, "/api/logout");
    scn_free(s);
    unlink(mp);
    unlink(back);
    free(mp);
    free(back);
}

static void test_json_errors(void **state)
{
    (void)state;
    expect_json("{\"classes\": [\n  {\"name\": \"c\",,}\n]}", MP_ERR_FORMAT, "2:16: string or '}' expected near ','");
    expect_json("{\"classes\": [{\"name\": \"c\", \"tasks\": [{\"method\": 7, \"url\": \"/\"}]}]}", MP_ERR_FORMAT,
                "1:49: classes[0].tasks[0].method: expected a string, got an integer");
    expect_json("{\"classes\": [\n {\"name\": \"c\", \"tasks\": [\n  {\"requests\": [{\"method\": \"GET\"}]}]}]}", MP_ERR_INVALID,
                "3:17: classes[0].tasks[0].requests[0].url: missing (expected a string)");
    expect_json("{\"classes\": [{\"name\": \"c\", \"tasks\": [{\"method\": \"GET\", \"url\": \"/{{x\"}]}]}", MP_ERR_INVALID,
                "1:63: classes[0].tasks[0].requests[0].url: unterminated {{ at byte 1: expected }}");
    expect_json("{\"version\": [2, 1], \"classes\": []}", MP_ERR_VERSION,
                "version 2.1 is newer than this build reads (1.x); upgrade aiotest");
    expect_json("{\"format\": \"aiotest-recording\", \"classes\": []}", MP_ERR_KIND,
                "1:12: format: is 'aiotest-recording', expected 'aiotest-scenario'");
    expect_json("{\"header\": {}, \"exchanges\": []}", MP_ERR_KIND, "is a recording, expected a scenario");
    expect_json("{\"classes\": [{\"name\": \"c\", \"wait\": {\"kind\": \"sometimes\"}, \"tasks\": []}]}", MP_ERR_INVALID,
                "1:45: classes[0].wait.kind: expected recorded, none, constant or between");
    expect_json("{\"vars\": {\"a\": 1}, \"classes\": []}", MP_ERR_FORMAT, "1:16: vars.a: expected a string, got an integer");
    expect_json("{\"classes\": [{\"name\": \"c\", \"tasks\": [{\"method\": \"GET\", \"url\": \"/\", "
                "\"extract\": [{\"var\": \"v\", \"kind\": \"json\", \"expr\": \"$.a[\"}]}]}]}", MP_ERR_INVALID,
                "1:117: classes[0].tasks[0].requests[0].extract[0].expr: JSON path \"$.a[\": expected an integer index or a quoted key at byte 4");
    expect_json("[]", MP_ERR_FORMAT, "1:1: (top level): expected a header object, got an array");
    expect_json("{\"classes\": [], \"classes\": []}", MP_ERR_FORMAT, "1:25: duplicate object key near '\"classes\"'");
}

/* A NUL byte that jansson takes as the end of a number ("[1, 2\0]" parses) used to
 * stop vjpos' walk without moving it, and the error's line:column search spun
 * forever (issue 21, item 4). An alarm turns a hang into a failure. */
static void test_json_error_after_nul(void **state)
{
    (void)state;
    static const char text[] = "{\"classes\": [{\"name\": \"c\", \"tasks\": [\n"
                               "  {\"method\": \"GET\", \"url\": \"/\", \"think\": [1, 2\0]},\n"
                               "  {\"method\": 7, \"url\": \"/\"}]}]}";
    char *path = fx_tmp(".json");
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, sizeof text - 1, fp), sizeof text - 1);
    fclose(fp);
    alarm(20);
    scn_scenario_t *s = NULL;
    mp_error_t err;
    int rc = view_scenario_load_json(path, &s, &err);
    alarm(0);
    assert_int_not_equal(rc, 0);
    assert_null(s);
    assert_non_null(strstr(err.msg, "3:14: classes[0].tasks[1].method"));
    unlink(path);
    free(path);
}

static void test_recording_json_errors(void **state)
{
    (void)state;
    char *mp = fx_tmp(".mp");
    mp_error_t err;
    char *path = write_text("{\"header\": {\"created_us\": 1, \"source\": \"har\", \"tool\": \"t\"},\n"
                            " \"exchanges\": [{\"client\": \"c\", \"conn\": 1, \"t_start_us\": 1, \"scheme\": \"http\",\n"
                            "   \"authority\": \"a\", \"method\": \"GET\", \"target\": \"/\", \"http_version\": \"HTTP/1.1\"},\n"
                            "  {\"client\": \"c\", \"conn\": 1, \"t_start_us\": 1, \"scheme\": \"gopher\",\n"
                            "   \"authority\": \"a\", \"method\": \"GET\", \"target\": \"/\", \"http_version\": \"HTTP/1.1\"}]}\n");
    assert_int_equal(view_json_file_to_mp(path, mp, &err), MP_ERR_INVALID);
    char want[400];
    snprintf(want, sizeof want, "%s:4:57: exchanges[1].scheme: expected \"http\" or \"https\"", path);
    assert_string_equal(err.msg, want);
    assert_int_equal(access(mp, F_OK), -1); /* no half-written file left */
    /* A JSON view given where an .mp is expected gets a hint. */
    assert_int_equal(mp_file_kind(path, &err), MP_ERR_KIND);
    assert_non_null(strstr(err.msg, "; it looks like JSON text: a JSON view?"));
    rec_header_t h;
    assert_null(rec_reader_open(path, &h, &err));
    assert_non_null(strstr(err.msg, "expected the header map, got an integer (the file looks like JSON text: a JSON view?)"));
    unlink(path);
    free(path);
    free(mp);
}

/* A recording cut inside its last record dumps the complete ones as valid
 * JSON and reports the cut. */
static void test_dump_of_cut_recording(void **state)
{
    (void)state;
    char *mp = write_recording(3);
    size_t n;
    uint8_t *data = fx_read(mp, &n);
    fx_write(mp, data, n - 5);
    free(data);
    char *json = dump(mp, MP_ERR_FORMAT);
    json_error_t je;
    json_t *j = json_load_file(json, JSON_ALLOW_NUL, &je);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "exchanges")), 2);
    json_decref(j);
    unlink(mp);
    unlink(json);
    free(mp);
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recording_roundtrip),
        cmocka_unit_test(test_exchange_json_in_memory),
        cmocka_unit_test(test_scenario_roundtrip),
        cmocka_unit_test(test_hand_written_minimal),
        cmocka_unit_test(test_example_is_canonical),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_json_error_after_nul),
        cmocka_unit_test(test_recording_json_errors),
        cmocka_unit_test(test_dump_of_cut_recording),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

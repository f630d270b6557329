/* Tests of replay/grpc.c: status names, grpc-status values, content-type,
 * grpc-timeout; and the stats side (stats_grpc in the report and its reload). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "grpc.h"
#include "scenario.h"
#include "stats.h"

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(grpc_status_name(0), "OK");
    assert_string_equal(grpc_status_name(14), "UNAVAILABLE");
    assert_string_equal(grpc_status_name(16), "UNAUTHENTICATED");
    assert_string_equal(grpc_status_name(GRPC_STATUS_MISSING), "MISSING");
    assert_string_equal(grpc_status_name(-1), "BAD");
    assert_string_equal(grpc_status_name(99), "BAD");
    for (int i = 0; i < GRPC_STATUS__COUNT; i++)
        assert_int_equal(grpc_status_from_name(grpc_status_name(i)), i);
    assert_int_equal(grpc_status_from_name("unavailable"), -1);
}

static void test_parse(void **state)
{
    (void)state;
    assert_int_equal(grpc_status_parse("0", 1), 0);
    assert_int_equal(grpc_status_parse("14", 2), 14);
    assert_int_equal(grpc_status_parse("16", 2), 16);
    assert_int_equal(grpc_status_parse("17", 2), GRPC_STATUS_BAD);
    assert_int_equal(grpc_status_parse("", 0), GRPC_STATUS_BAD);
    assert_int_equal(grpc_status_parse("1x", 2), GRPC_STATUS_BAD);
    assert_int_equal(grpc_status_parse("-1", 2), GRPC_STATUS_BAD);
    assert_int_equal(grpc_status_parse("014", 3), GRPC_STATUS_BAD);
}

static void test_content_type(void **state)
{
    (void)state;
#define CT(s) scn_grpc_content_type(s, strlen(s))
    assert_true(CT("application/grpc"));
    assert_true(CT("application/grpc+proto"));
    assert_true(CT("Application/GRPC+json"));
    assert_true(CT("application/grpc; charset=utf-8"));
    assert_false(CT("application/grpc-web"));
    assert_false(CT("application/grpcx"));
    assert_false(CT("application/json"));
    assert_false(CT("application/grp"));
#undef CT
}

static void test_timeout(void **state)
{
    (void)state;
    char b[16];
    assert_int_equal(grpc_timeout_format(0, b), 0);
    assert_int_equal(grpc_timeout_format(7000000, b), 8);
    assert_string_equal(b, "7000000u");
    grpc_timeout_format(99999999, b);
    assert_string_equal(b, "99999999u");
    /* Past 8 digits of µs: milliseconds, rounded up (never a shorter deadline). */
    grpc_timeout_format(100000001, b);
    assert_string_equal(b, "100001m");
    grpc_timeout_format(30ull * 86400 * 1000000, b); /* 30 days */
    assert_string_equal(b, "2592000S");
    grpc_timeout_format(UINT64_MAX, b);
    assert_true(strlen(b) <= 9);
    assert_true(b[strlen(b) - 1] == 'H');
}

/* grpc statuses go into the report by name, come back from it, and gRPC
 * failures are told by name in the summary's failure table. */
static void test_stats(void **state)
{
    (void)state;
    stats_names_t *names = stats_names_new();
    uint32_t e = stats_names_intern(names, "POST", "/pkg.Svc/M");
    stats_t *s = stats_new(names);
    assert_non_null(s);
    for (int i = 0; i < 3; i++) {
        stats_grpc(s, e, 0);
        stats_record(s, e, STATS_PROTO_H2, 200, STATS_OK, 100, 10, 10);
    }
    stats_grpc(s, e, 14);
    stats_record(s, e, STATS_PROTO_H2, 200, STATS_FAIL_GRPC, 100, 10, 10);
    stats_grpc(s, e, GRPC_STATUS_MISSING);
    stats_record(s, e, STATS_PROTO_H2, 200, STATS_FAIL_GRPC, 100, 10, 10);
    json_t *r = stats_report_json(s, names, NULL, 1.0, 0, NULL);
    assert_non_null(r);
    json_t *g = json_object_get(json_array_get(json_object_get(r, "entries"), 0), "grpc_status");
    assert_int_equal(json_integer_value(json_object_get(g, "OK")), 3);
    assert_int_equal(json_integer_value(json_object_get(g, "UNAVAILABLE")), 1);
    assert_int_equal(json_integer_value(json_object_get(g, "MISSING")), 1);
    json_t *f = json_object_get(json_array_get(json_object_get(r, "entries"), 0), "fail");
    assert_int_equal(json_integer_value(json_object_get(f, "grpc")), 2);
    g = json_object_get(json_object_get(r, "total"), "grpc_status");
    assert_int_equal(json_integer_value(json_object_get(g, "OK")), 3);

    stats_names_t *n2 = NULL;
    stats_t *s2 = NULL;
    stats_history_t *h2 = NULL;
    double d;
    char err[200];
    assert_int_equal(stats_report_load(r, &n2, &s2, &h2, &d, err, sizeof err), 0);
    assert_int_equal(stats_entry(s2, 0)->grpc[14], 1);
    assert_int_equal(stats_entry(s2, 0)->grpc[0], 3);

    char buf[4096] = {0};
    FILE *out = fmemopen(buf, sizeof buf - 1, "w");
    stats_print_summary(out, s, names, 1.0);
    fclose(out);
    assert_non_null(strstr(buf, "grpc UNAVAILABLE"));
    assert_non_null(strstr(buf, "grpc MISSING"));

    /* A report with an unknown status name is refused, naming the field. */
    json_object_set_new(json_object_get(json_array_get(json_object_get(r, "entries"), 0), "grpc_status"),
                        "NOPE", json_integer(1));
    stats_names_t *n3 = NULL;
    stats_t *s3 = NULL;
    stats_history_t *h3 = NULL;
    assert_int_equal(stats_report_load(r, &n3, &s3, &h3, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "grpc_status.NOPE"));
    stats_free(s3);
    stats_names_free(n3);
    stats_history_free(h3);

    json_decref(r);
    stats_free(s2);
    stats_names_free(n2);
    stats_history_free(h2);
    stats_free(s);
    stats_names_free(names);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_content_type),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_stats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

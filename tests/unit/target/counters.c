/* Unit tests of target/counters.c: counting, JSON shape, reset, threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "counters.h"

#include <pthread.h>

static const char *const names[] = {"GET /a", "POST /b", "other"};

static json_int_t get(json_t *j, const char *obj, const char *key)
{
    json_t *v = json_object_get(json_object_get(j, obj), key);
    return v ? json_integer_value(v) : -1;
}

static void test_counts_and_json(void **state)
{
    (void)state;
    struct counters *c = counters_new(names, 3);
    counters_add(c, 0, 200);
    counters_add(c, 0, 200);
    counters_add(c, 1, 401);
    counters_add(c, 2, 404);
    counters_add(c, 7, 200);  /* unknown endpoint: total and status only */
    counters_add(c, 1, 999);  /* odd status: total and endpoint only */
    json_t *j = counters_to_json(c);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 6);
    assert_int_equal(get(j, "endpoints", "GET /a"), 2);
    assert_int_equal(get(j, "endpoints", "POST /b"), 2);
    assert_int_equal(get(j, "endpoints", "other"), 1);
    assert_int_equal(json_object_size(json_object_get(j, "endpoints")), 3);
    assert_int_equal(get(j, "status", "200"), 3);
    assert_int_equal(get(j, "status", "401"), 1);
    assert_int_equal(get(j, "status", "404"), 1);
    assert_int_equal(json_object_size(json_object_get(j, "status")), 3);
    json_decref(j);

    counters_reset(c);
    j = counters_to_json(c);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 0);
    assert_int_equal(get(j, "endpoints", "GET /a"), 0);
    assert_int_equal(json_object_size(json_object_get(j, "status")), 0);
    json_decref(j);
    counters_free(c);
}

enum { THREADS = 4, PER_THREAD = 100000 };

static void *hammer(void *arg)
{
    for (int i = 0; i < PER_THREAD; i++)
        counters_add(arg, (size_t)i % 2, 200 + (unsigned)(i % 3));
    return NULL;
}

static void test_concurrent_adds_are_not_lost(void **state)
{
    (void)state;
    struct counters *c = counters_new(names, 3);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, c), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    json_t *j = counters_to_json(c);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), THREADS * PER_THREAD);
    assert_int_equal(get(j, "endpoints", "GET /a") + get(j, "endpoints", "POST /b"),
                     THREADS * PER_THREAD);
    assert_int_equal(get(j, "status", "200") + get(j, "status", "201") + get(j, "status", "202"),
                     THREADS * PER_THREAD);
    json_decref(j);
    counters_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_json),
        cmocka_unit_test(test_concurrent_adds_are_not_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

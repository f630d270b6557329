/* Tests of http/hc_pool.c: blocks of every class and big ones behave as
 * malloc's (contents kept by realloc across classes, calloc zeroed), a freed
 * block is reused by the next allocation of its class on the same thread (not
 * under AddressSanitizer, where the pool is off), and a thread's kept blocks
 * are freed when it exits (LeakSanitizer would tell otherwise). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hc_pool.h"

#if defined(__SANITIZE_ADDRESS__)
#define POOL_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_OFF 1
#endif
#endif

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed + i * 7);
}

static void check(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        assert_int_equal(p[i], (unsigned char)(seed + i * 7));
}

static void realloc_keeps_contents(void **state)
{
    (void)state;
    static const size_t sizes[] = {1, 31, 32, 33, 100, 512, 2048, 2049, 10000, 70000, 5, 3000, 17};
    unsigned char *p = hc_pool_alloc(sizes[0]);
    assert_non_null(p);
    fill(p, sizes[0], 3);
    size_t have = sizes[0];
    for (size_t i = 1; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        p = hc_pool_realloc(p, n);
        assert_non_null(p);
        check(p, have < n ? have : n, 3);
        fill(p, n, 3);
        have = n;
    }
    hc_pool_free(p);
    hc_pool_free(NULL);
    unsigned char *z = hc_pool_calloc(100, 30); /* a big block */
    assert_non_null(z);
    for (size_t i = 0; i < 3000; i++)
        assert_int_equal(z[i], 0);
    hc_pool_free(z);
    z = hc_pool_calloc(1, 24);
    assert_non_null(z);
    fill(z, 24, 9);
    hc_pool_free(z);
    z = hc_pool_calloc(3, 8); /* the same class again: zeroed although reused */
    for (size_t i = 0; i < 24; i++)
        assert_int_equal(z[i], 0);
    hc_pool_free(z);
    assert_null(hc_pool_calloc(SIZE_MAX / 2, 4));
}

static void freed_blocks_are_reused(void **state)
{
    (void)state;
    void *a = hc_pool_alloc(200), *b = hc_pool_alloc(200);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    hc_pool_free(a);
    void *c = hc_pool_alloc(250); /* the same class (256) */
#ifndef POOL_OFF
    assert_ptr_equal(c, a);
#endif
    hc_pool_free(b);
    hc_pool_free(c);
}

static void *churn(void *arg)
{
    (void)arg;
    void *v[600];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 600; i++)
            v[i] = hc_pool_alloc((size_t)(16 + (i % 7) * 300));
        for (int i = 0; i < 600; i++)
            hc_pool_free(v[i]);
    }
    return NULL;
}

static void thread_exit_frees_what_it_kept(void **state)
{
    (void)state;
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, churn, NULL), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(realloc_keeps_contents),
        cmocka_unit_test(freed_blocks_are_reused),
        cmocka_unit_test(thread_exit_frees_what_it_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

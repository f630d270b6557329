/* Unit tests of convert/strtab.c: put keeps the first value, set overwrites,
 * keys are byte strings (NULs inside, prefixes distinct), the table grows
 * past many keys and finds every one again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "strtab.h"

static void test_put_get_set(void **state)
{
    (void)state;
    stab_t t;
    stab_init(&t);
    assert_int_equal(stab_get(&t, "a", 1), -1);
    assert_int_equal(stab_put(&t, "token", 5, 7), 7);
    assert_int_equal(stab_put(&t, "token", 5, 9), 7);  /* first value kept */
    assert_int_equal(stab_get(&t, "token", 5), 7);
    assert_int_equal(stab_get(&t, "tok", 3), -1);      /* a prefix is another key */
    assert_int_equal(stab_set(&t, "token", 5, 11), 0);
    assert_int_equal(stab_get(&t, "token", 5), 11);
    assert_int_equal(stab_put(&t, "a\0b", 3, 1), 1);
    assert_int_equal(stab_put(&t, "a\0c", 3, 2), 2);
    assert_int_equal(stab_get(&t, "a\0b", 3), 1);
    assert_int_equal(stab_get(&t, "a", 1), -1);
    assert_int_equal(t.n, 3);
    stab_fini(&t);
}

static void test_many(void **state)
{
    (void)state;
    stab_t t;
    stab_init(&t);
    char k[32];
    for (int i = 0; i < 100000; i++) {
        int len = snprintf(k, sizeof k, "key-%d", i);
        assert_int_equal(stab_put(&t, k, (size_t)len, (size_t)i), i);
    }
    assert_int_equal(t.n, 100000);
    for (int i = 0; i < 100000; i++) {
        int len = snprintf(k, sizeof k, "key-%d", i);
        assert_int_equal(stab_get(&t, k, (size_t)len), i);
    }
    assert_int_equal(stab_get(&t, "key-100000", 10), -1);
    stab_fini(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_set),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

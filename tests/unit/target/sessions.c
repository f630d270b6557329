/* Unit tests of target/sessions.c: keys, cart, CSRF rotation, logout, eviction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "sessions.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define K (SESSIONS_KEY_LEN + 1)

static int is_hex_key(const char *s)
{
    return strlen(s) == SESSIONS_KEY_LEN && strspn(s, "0123456789abcdef") == SESSIONS_KEY_LEN;
}

static void test_login_gives_distinct_random_keys(void **state)
{
    (void)state;
    struct sessions *s = sessions_new(16);
    char t1[K], s1[K], t2[K], s2[K];
    struct sessions_view v;
    assert_non_null(s);
    assert_int_equal(sessions_login(s, "ann", t1, s1), SESSIONS_OK);
    assert_int_equal(sessions_login(s, "bob", t2, s2), SESSIONS_OK);
    assert_true(is_hex_key(t1) && is_hex_key(s1) && is_hex_key(t2) && is_hex_key(s2));
    assert_string_not_equal(t1, t2);
    assert_string_not_equal(s1, s2);
    assert_string_not_equal(t1, s1);
    assert_int_equal(sessions_by_token(s, t1, &v), SESSIONS_OK);
    assert_string_equal(v.user, "ann");
    assert_int_equal(sessions_by_sid(s, s2, &v), SESSIONS_OK);
    assert_string_equal(v.user, "bob");
    /* A token is not a session id and the other way round. */
    assert_int_equal(sessions_by_token(s, s1, &v), SESSIONS_ENOENT);
    assert_int_equal(sessions_by_sid(s, t1, &v), SESSIONS_ENOENT);
    sessions_free(s);
}

static void test_malformed_keys_are_unknown(void **state)
{
    (void)state;
    struct sessions *s = sessions_new(4);
    char t[K], sid[K], longer[K + 1];
    struct sessions_view v;
    sessions_login(s, "ann", t, sid);
    snprintf(longer, sizeof(longer), "%s0", t);
    assert_int_equal(sessions_by_token(s, NULL, &v), SESSIONS_ENOENT);
    assert_int_equal(sessions_by_token(s, "", &v), SESSIONS_ENOENT);
    assert_int_equal(sessions_by_token(s, "xyz", &v), SESSIONS_ENOENT);
    assert_int_equal(sessions_by_token(s, longer, &v), SESSIONS_ENOENT);
    t[SESSIONS_KEY_LEN - 1] = '\0';
    assert_int_equal(sessions_by_token(s, t, &v), SESSIONS_ENOENT);
    sessions_free(s);
}

static void test_user_name_length(void **state)
{
    (void)state;
    struct sessions *s = sessions_new(4);
    char t[K], sid[K], name[SESSIONS_USER_MAX + 2];
    memset(name, 'u', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    assert_int_equal(sessions_login(s, name, t, sid), SESSIONS_ERANGE);
    name[SESSIONS_USER_MAX] = '\0';
    assert_int_equal(sessions_login(s, name, t, sid), SESSIONS_OK);
    sessions_free(s);
}

static void test_cart_adds_up_and_fills(void **state)
{
    (void)state;
    struct sessions *s = sessions_new(4);
    char t[K], sid[K];
    struct sessions_view v;
    sessions_login(s, "ann", t, sid);
    assert_int_equal(sessions_cart_add(s, t, 1, 1, &v), SESSIONS_ENOENT);
    assert_int_equal(sessions_cart_add(s, sid, 1, 0, &v), SESSIONS_ERANGE);
    assert_int_equal(sessions_cart_add(s, sid, 7, 2, &v), SESSIONS_OK);
    assert_int_equal(sessions_cart_add(s, sid, 7, 3, &v), SESSIONS_OK);
    assert_int_equal(v.n_lines, 1);
    assert_int_equal(v.lines[0].qty, 5);
    for (uint32_t i = 1; i < SESSIONS_CART_MAX; i++)
        assert_int_equal(sessions_cart_add(s, sid, 100 + i, 1, &v), SESSIONS_OK);
    assert_int_equal(v.n_lines, SESSIONS_CART_MAX);
    assert_int_equal(sessions_cart_add(s, sid, 999, 1, &v), SESSIONS_EFULL);
    /* An item already in a full cart still adds up. */
    assert_int_equal(sessions_cart_add(s, sid, 7, 1, &v), SESSIONS_OK);
    sessions_free(s);
}

static void test_csrf_rotates_per_checkout(void **state)
{
    (void)state;
    struct sessions *s = sessions_new(4);
    char t[K], sid[K], t2[K], sid2[K], c1[K], c2[K], c3[K];
    struct sessions_view v;
    uint64_t o1, o2;
    sessions_login(s, "ann", t, sid);
    sessions_login(s, "bob", t2, sid2);
    assert_int_equal(sessions_order(s, sid, NULL, &o1), SESSIONS_ECSRF);
    assert_int_equal(sessions_checkout(s, "nope", c1), SESSIONS_ENOENT);
    assert_int_equal(sessions_checkout(s, sid, c1), SESSIONS_OK);
    assert_int_equal(sessions_checkout(s, sid, c2), SESSIONS_OK);
    assert_true(is_hex_key(c1) && is_hex_key(c2));
    assert_string_not_equal(c1, c2);
    assert_int_equal(sessions_checkout(s, sid2, c3), SESSIONS_OK);
    assert_int_equal(sessions_order(s, sid, c1, &o1), SESSIONS_ECSRF);
    assert_int_equal(sessions_order(s, sid, c3, &o1), SESSIONS_ECSRF);
    assert_int_equal(sessions_order(s, sid2, c2, &o1), SESSIONS_ECSRF);
    assert_int_equal(sessions_order(s, "0123", c2, &o1), SESSIONS_ENOENT);
    sessions_cart_add(s, sid, 1, 1, &v);
    assert_int_equal(sessions_order(s, sid, c2, &o1), SESSIONS_OK);
    assert_int_equal(sessions_by_sid(s, sid, &v), SESSIONS_OK);
    assert_int_equal(v.n_lines, 0);
    assert_int_equal(sessions_order(s, sid2, c3, &o2), SESSIONS_OK);
    assert_true(o2 > o1);
    sessions_free(s);
}

static void test_logout_ends_both_keys(void **state)
{
    (void)state;
    struct sessions *s = sessions_new(4);
    char t[K], sid[K], t2[K], sid2[K];
    struct sessions_view v;
    sessions_login(s, "ann", t, sid);
    sessions_login(s, "bob", t2, sid2);
    assert_int_equal(sessions_logout(s, NULL, NULL), SESSIONS_ENOENT);
    assert_int_equal(sessions_logout(s, t, NULL), SESSIONS_OK);
    assert_int_equal(sessions_by_token(s, t, &v), SESSIONS_ENOENT);
    assert_int_equal(sessions_by_sid(s, sid, &v), SESSIONS_ENOENT);
    assert_int_equal(sessions_logout(s, t, sid), SESSIONS_ENOENT);
    /* By cookie when the token is unknown. */
    assert_int_equal(sessions_logout(s, "bad", sid2), SESSIONS_OK);
    assert_int_equal(sessions_by_token(s, t2, &v), SESSIONS_ENOENT);
    sessions_free(s);
}

static void test_full_table_evicts_the_oldest(void **state)
{
    (void)state;
    enum { CAP = 8, LOGINS = 3 * CAP + 3 };
    struct sessions *s = sessions_new(CAP);
    char tok[LOGINS][K], sid[LOGINS][K], user[16];
    struct sessions_view v;
    for (int i = 0; i < LOGINS; i++) {
        snprintf(user, sizeof(user), "u%d", i);
        assert_int_equal(sessions_login(s, user, tok[i], sid[i]), SESSIONS_OK);
        /* A logout in between must not disturb the ring. */
        if (i == CAP + 1)
            assert_int_equal(sessions_logout(s, tok[i], NULL), SESSIONS_OK);
    }
    for (int i = 0; i < LOGINS; i++) {
        int live = i >= LOGINS - CAP;
        assert_int_equal(sessions_by_token(s, tok[i], &v), live ? SESSIONS_OK : SESSIONS_ENOENT);
        assert_int_equal(sessions_by_sid(s, sid[i], &v), live ? SESSIONS_OK : SESSIONS_ENOENT);
        if (live) {
            snprintf(user, sizeof(user), "u%d", i);
            assert_string_equal(v.user, user);
        }
    }
    sessions_free(s);
}

enum { THREADS = 4, ROUNDS = 2000 };

/* Each thread logs in, shops, checks out, orders and logs out over and over in a
 * table small enough that the others keep evicting: every call must answer
 * either its own data or "unknown", never someone else's. */
static void *shopper(void *arg)
{
    struct sessions *s = arg;
    char t[K], sid[K], c[K], user[16];
    struct sessions_view v;
    uint64_t order;
    snprintf(user, sizeof(user), "t%p", (void *)&t);
    for (int i = 0; i < ROUNDS; i++) {
        if (sessions_login(s, user, t, sid) != SESSIONS_OK)
            return "login";
        if (sessions_by_token(s, t, &v) == SESSIONS_OK && strcmp(v.user, user))
            return "someone else's session";
        int rc = sessions_cart_add(s, sid, (uint32_t)i, 1, &v);
        if (rc != SESSIONS_OK && rc != SESSIONS_ENOENT)
            return "cart";
        if (sessions_checkout(s, sid, c) == SESSIONS_OK) {
            rc = sessions_order(s, sid, c, &order);
            if (rc != SESSIONS_OK && rc != SESSIONS_ENOENT)
                return "order refused its own csrf";
        }
        if (i % 2)
            sessions_logout(s, t, sid);
    }
    return NULL;
}

static void test_concurrent_sessions(void **state)
{
    (void)state;
    struct sessions *s = sessions_new(8);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, shopper, s), 0);
    for (int i = 0; i < THREADS; i++) {
        void *err;
        pthread_join(th[i], &err);
        if (err)
            fail_msg("thread %d: %s", i, (const char *)err);
    }
    sessions_free(s);
}

static void test_bad_capacity(void **state)
{
    (void)state;
    assert_null(sessions_new(0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_gives_distinct_random_keys),
        cmocka_unit_test(test_malformed_keys_are_unknown),
        cmocka_unit_test(test_user_name_length),
        cmocka_unit_test(test_cart_adds_up_and_fills),
        cmocka_unit_test(test_csrf_rotates_per_checkout),
        cmocka_unit_test(test_logout_ends_both_keys),
        cmocka_unit_test(test_full_table_evicts_the_oldest),
        cmocka_unit_test(test_concurrent_sessions),
        cmocka_unit_test(test_bad_capacity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

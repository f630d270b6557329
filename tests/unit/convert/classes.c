/* Unit tests of convert/session.c and convert/classes.c: sessions by key and
 * gap; equal normalised sequences form one class weighted by sessions; the
 * rarest classes merge into the nearest; names are readable and unique. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "classes.h"
#include "fixture.h"
#include "session.h"

/* Appends a visit of client key: "browse" (home, item) or "buy" (home,
 * cart, order) or "odd" (home, item, item), starting at t ms. */
static void visit(xset_t *xs, const char *key, const char *kind, int t, int item)
{
    const char *paths[3];
    const char *methods[3] = {"GET", "GET", "GET"};
    size_t n = 2;
    char ip[32];
    snprintf(ip, sizeof ip, "/api/item/%d", item);
    paths[0] = "/";
    if (strcmp(kind, "buy") == 0) {
        paths[1] = "/api/cart";
        paths[2] = "/api/order";
        methods[1] = methods[2] = "POST";
        n = 3;
    } else {
        paths[1] = ip;
        if (strcmp(kind, "odd") == 0) {
            paths[2] = ip;
            n = 3;
        }
    }
    for (size_t i = 0; i < n; i++) {
        xs_item_t *it = xs_push(xs);
        fx_make(&it->x, methods[i], paths[i], t + (int)i * 100, t + (int)i * 100 + 50, 200,
                i == 0 ? "text/html" : "application/json", "{}");
        it->key = strdup(key);
    }
}

static void test_classes(void **state)
{
    (void)state;
    xset_t xs;
    xs_init(&xs);
    char key[16];
    for (int i = 0; i < 30; i++) {
        snprintf(key, sizeof key, "b%d", i);
        visit(&xs, key, "browse", i * 1000, 100 + i);  /* ids differ: same class */
    }
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "s%d", i);
        visit(&xs, key, "buy", 500 + i * 1000, 0);
    }
    visit(&xs, "o1", "odd", 99000, 5);
    bool *keep = calloc(xs.n, sizeof *keep);
    for (size_t i = 0; i < xs.n; i++)
        keep[i] = true;
    sess_list_t ss;
    cls_list_t cl;
    assert_int_equal(sess_split(&xs, keep, 0, &ss), 0);
    assert_int_equal(ss.n, 41);
    assert_int_equal(cls_build(&xs, &ss, 0, &cl), 0);
    assert_int_equal(cl.n, 3);
    assert_int_equal(cl.v[0].weight, 30);
    assert_int_equal(cl.v[1].weight, 10);
    assert_int_equal(cl.v[2].weight, 1);
    /* Three classes start at the same page: names add what sets each apart. */
    assert_string_equal(cl.v[1].name, "GET / + POST /api/cart");
    assert_string_not_equal(cl.v[0].name, cl.v[2].name);
    cls_list_fini(&cl);

    /* Two classes at most: "odd" (browse plus one request) joins browse. */
    assert_int_equal(cls_build(&xs, &ss, 2, &cl), 0);
    assert_int_equal(cl.n, 2);
    assert_int_equal(cl.v[0].weight, 31);
    assert_int_equal(cl.v[1].weight, 10);
    cls_list_fini(&cl);
    sess_list_fini(&ss);

    /* One client key across all visits (250 ms or more apart), split by a 200 ms gap. */
    for (size_t i = 0; i < xs.n; i++) {
        free(xs.v[i].key);
        xs.v[i].key = strdup("same");
    }
    assert_int_equal(sess_split(&xs, keep, 0, &ss), 0);
    assert_int_equal(ss.n, 1);
    sess_list_fini(&ss);
    assert_int_equal(sess_split(&xs, keep, 200000, &ss), 0);
    assert_int_equal(ss.n, 41);
    sess_list_fini(&ss);
    free(keep);
    xs_fini(&xs);
}

/* Appends session key: the page / then paths[0..n), at t ms. */
static void visit_paths(xset_t *xs, const char *key, const char *const *paths, size_t n, int t)
{
    for (size_t i = 0; i <= n; i++) {
        xs_item_t *it = xs_push(xs);
        fx_make(&it->x, "GET", i ? paths[i - 1] : "/", t + (int)i * 100, t + (int)i * 100 + 50, 200,
                i == 0 ? "text/html" : "application/json", "{}");
        it->key = strdup(key);
    }
}

/* Classes that share their first page are named by the request found in the
 * fewest other classes (the first of equal counts), and numbered when that
 * name is taken; many sessions of many classes group exactly (the tables that
 * replaced the scans of every class keep this). */
static void test_names_shared(void **state)
{
    (void)state;
    xset_t xs;
    xs_init(&xs);
    static const char *const c1[] = {"/a", "/b"}, *const c2[] = {"/a", "/c"}, *const c3[] = {"/a", "/c", "/a"};
    char key[32];
    int t = 0;
    for (int i = 0; i < 3; i++, t += 1000) {
        snprintf(key, sizeof key, "one%d", i);
        visit_paths(&xs, key, c1, 2, t);
    }
    for (int i = 0; i < 2; i++, t += 1000) {
        snprintf(key, sizeof key, "two%d", i);
        visit_paths(&xs, key, c2, 2, t);
    }
    visit_paths(&xs, "three", c3, 3, t);
    t += 1000;
    /* 2 000 more sessions of 500 classes (4 each): /, /d/kN, /e */
    char path[32];
    for (int i = 0; i < 2000; i++, t += 1000) {
        snprintf(key, sizeof key, "many%d", i);
        snprintf(path, sizeof path, "/d/k%c%c%c", 'a' + (i % 500) / 100, 'a' + (i % 100) / 10, 'a' + i % 10);
        const char *const ps[] = {path, "/e"};
        visit_paths(&xs, key, ps, 2, t);
    }
    bool *keep = calloc(xs.n, sizeof *keep);
    for (size_t i = 0; i < xs.n; i++)
        keep[i] = true;
    sess_list_t ss;
    cls_list_t cl;
    assert_int_equal(sess_split(&xs, keep, 0, &ss), 0);
    assert_int_equal(ss.n, 2006);
    assert_int_equal(cls_build(&xs, &ss, 0, &cl), 0);
    assert_int_equal(cl.n, 503);
    for (size_t i = 0; i < 500; i++)
        assert_int_equal(cl.v[i].weight, 4);
    assert_int_equal(cl.v[500].weight, 3);
    assert_int_equal(cl.v[501].weight, 2);
    assert_int_equal(cl.v[502].weight, 1);
    assert_string_equal(cl.v[500].name, "GET / + GET /b");
    assert_string_equal(cl.v[501].name, "GET / + GET /c");
    assert_string_equal(cl.v[502].name, "GET / + GET /c #2");
    assert_string_equal(cl.v[0].name, "GET / + GET /d/kaaa");
    assert_string_equal(cl.v[499].name, "GET / + GET /d/kejj");
    cls_list_fini(&cl);
    sess_list_fini(&ss);
    free(keep);
    xs_fini(&xs);
}

/* Records of three clients interleaved and out of time order: each session
 * holds its client's requests in start order (equal starts by record order),
 * and the sessions come by first start. */
static void test_sessions_out_of_order(void **state)
{
    (void)state;
    static const struct { const char *key; int t; } recs[] = {
        {"b", 500}, {"a", 300}, {"c", 100}, {"a", 100}, {"b", 200}, {"c", 900}, {"a", 200}, {"b", 200}, {"a", 5000},
    };
    xset_t xs;
    xs_init(&xs);
    for (size_t i = 0; i < sizeof recs / sizeof *recs; i++) {
        xs_item_t *it = xs_push(&xs);
        fx_make(&it->x, "GET", "/", recs[i].t, recs[i].t + 10, 200, "text/html", "");
        it->key = strdup(recs[i].key);
    }
    bool keep[9];
    for (size_t i = 0; i < 9; i++)
        keep[i] = i != 5; /* c at 900 left out */
    sess_list_t ss;
    assert_int_equal(sess_split(&xs, keep, 1000000, &ss), 0); /* 1 s gap: a's 5000 ms is its own visit */
    assert_int_equal(ss.n, 4);
    static const size_t want[4][3] = {{3, 6, 1}, {2}, {4, 7, 0}, {8}};
    static const size_t want_n[4] = {3, 1, 3, 1};
    /* first starts: a 100 (idx 3), c 100 (idx 2), b 200, a 5000: ties by record index */
    static const size_t order[4] = {1, 0, 2, 3};
    for (size_t k = 0; k < 4; k++) {
        const sess_t *se = &ss.v[k];
        size_t w = order[k];
        assert_int_equal(se->n, want_n[w]);
        for (size_t i = 0; i < se->n; i++)
            assert_int_equal(se->idx[i], want[w][i]);
    }
    sess_list_fini(&ss);
    xs_fini(&xs);
}

static void test_distance(void **state)
{
    (void)state;
    char *a[] = {"GET /", "GET /a", "POST /b"};
    char *b[] = {"GET /", "POST /b"};
    assert_int_equal(cls_distance(a, 3, b, 2), 1);
    assert_int_equal(cls_distance(a, 3, a, 3), 0);
    assert_int_equal(cls_distance(a, 3, NULL, 0), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_names_shared),
        cmocka_unit_test(test_sessions_out_of_order),
        cmocka_unit_test(test_distance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

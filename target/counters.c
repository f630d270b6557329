#include "counters.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define STATUS_MIN 100
#define STATUS_MAX 599

struct counters {
    const char *const *names;
    size_t n;
    _Atomic uint64_t total;
    _Atomic uint64_t status[STATUS_MAX - STATUS_MIN + 1];
    _Atomic uint64_t endpoint[]; /* n entries */
};

struct counters *counters_new(const char *const *names, size_t n)
{
    struct counters *c = calloc(1, sizeof(*c) + n * sizeof(c->endpoint[0]));
    if (!c)
        return NULL;
    c->names = names;
    c->n = n;
    counters_reset(c);
    return c;
}

void counters_free(struct counters *c)
{
    free(c);
}

void counters_add(struct counters *c, size_t endpoint, unsigned status)
{
    atomic_fetch_add_explicit(&c->total, 1, memory_order_relaxed);
    if (endpoint < c->n)
        atomic_fetch_add_explicit(&c->endpoint[endpoint], 1, memory_order_relaxed);
    if (status >= STATUS_MIN && status <= STATUS_MAX)
        atomic_fetch_add_explicit(&c->status[status - STATUS_MIN], 1, memory_order_relaxed);
}

void counters_reset(struct counters *c)
{
    atomic_store_explicit(&c->total, 0, memory_order_relaxed);
    for (size_t i = 0; i < c->n; i++)
        atomic_store_explicit(&c->endpoint[i], 0, memory_order_relaxed);
    for (size_t i = 0; i <= STATUS_MAX - STATUS_MIN; i++)
        atomic_store_explicit(&c->status[i], 0, memory_order_relaxed);
}

static uint64_t load(const _Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

json_t *counters_to_json(const struct counters *c)
{
    json_t *root = json_object(), *ep = json_object(), *st = json_object();
    if (!root || !ep || !st)
        goto fail;
    for (size_t i = 0; i < c->n; i++)
        if (json_object_set_new(ep, c->names[i], json_integer((json_int_t)load(&c->endpoint[i]))))
            goto fail;
    for (unsigned i = 0; i <= STATUS_MAX - STATUS_MIN; i++) {
        uint64_t v = load(&c->status[i]);
        char key[8];
        if (!v)
            continue;
        snprintf(key, sizeof(key), "%u", i + STATUS_MIN);
        if (json_object_set_new(st, key, json_integer((json_int_t)v)))
            goto fail;
    }
    if (json_object_set_new(root, "total", json_integer((json_int_t)load(&c->total))) ||
        json_object_set(root, "endpoints", ep) || json_object_set(root, "status", st))
        goto fail;
    json_decref(ep);
    json_decref(st);
    return root;

fail:
    json_decref(st);
    json_decref(ep);
    json_decref(root);
    return NULL;
}

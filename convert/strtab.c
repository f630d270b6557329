#include "strtab.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void stab_init(stab_t *t)
{
    memset(t, 0, sizeof *t);
}

void stab_fini(stab_t *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->slots[i].key);
    free(t->slots);
    stab_init(t);
}

/* FNV-1a, 64 bit. */
static size_t hash_of(const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 1099511628211ULL;
    }
    return (size_t)h;
}

/* The slot holding key, or the empty slot where it would go (linear probing). */
static stab_slot_t *find(const stab_t *t, const char *key, size_t len, size_t h)
{
    size_t mask = t->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        stab_slot_t *s = &t->slots[i];
        if (!s->key || (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0))
            return s;
    }
}

static int grow(stab_t *t)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    stab_slot_t *old = t->slots, *slots = calloc(cap, sizeof *slots);
    size_t old_cap = t->cap;
    if (!slots)
        return -1;
    t->slots = slots;
    t->cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].key)
            *find(t, old[i].key, old[i].len, old[i].hash) = old[i];
    free(old);
    return 0;
}

long stab_get(const stab_t *t, const char *key, size_t len)
{
    if (!t->cap)
        return -1;
    const stab_slot_t *s = find(t, key, len, hash_of(key, len));
    return s->key ? (long)s->val : -1;
}

/* The slot of key, added (with val) when missing; NULL on out of memory. */
static stab_slot_t *slot_for(stab_t *t, const char *key, size_t len, size_t val)
{
    if ((t->n + 1) * 4 > t->cap * 3 && grow(t) < 0)  /* load factor at most 3/4 */
        return NULL;
    size_t h = hash_of(key, len);
    stab_slot_t *s = find(t, key, len, h);
    if (s->key)
        return s;
    /* One byte more so a text key stays a C string for the caller's messages. */
    if (!(s->key = malloc(len + 1)))
        return NULL;
    memcpy(s->key, key, len);
    s->key[len] = '\0';
    s->len = len;
    s->hash = h;
    s->val = val;
    t->n++;
    return s;
}

long stab_put(stab_t *t, const char *key, size_t len, size_t val)
{
    stab_slot_t *s = slot_for(t, key, len, val);
    return s ? (long)s->val : -1;
}

int stab_set(stab_t *t, const char *key, size_t len, size_t val)
{
    stab_slot_t *s = slot_for(t, key, len, val);
    if (!s)
        return -1;
    s->val = val;
    return 0;
}

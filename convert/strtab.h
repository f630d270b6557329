/* strtab: a hash table from byte strings to indexes, so the converter's
 * stages look a value up in constant time instead of scanning every earlier
 * one (correlation was quadratic in session length, issue 21). Keys are
 * copied; values are the caller's indexes into its own arrays. */
#ifndef AIOTEST_CONV_STRTAB_H
#define AIOTEST_CONV_STRTAB_H

#include <stddef.h>

typedef struct stab_slot {
    char *key;       /* NULL: empty slot */
    size_t len;
    size_t hash;
    size_t val;
} stab_slot_t;

typedef struct stab {
    stab_slot_t *slots;
    size_t cap, n;   /* cap: 0 or a power of two */
} stab_t;

void stab_init(stab_t *t);
void stab_fini(stab_t *t);

/* The value stored under key[0..len), or -1 when there is none. */
long stab_get(const stab_t *t, const char *key, size_t len);

/* Stores key -> val unless key is there already. Returns the value now under
 * key (the old one when it was there), or -1 on out of memory. */
long stab_put(stab_t *t, const char *key, size_t len, size_t val);

/* Overwrites (or adds) key -> val. Returns 0 or -1 on out of memory. */
int stab_set(stab_t *t, const char *key, size_t len, size_t val);

#endif

/* jsonpath: parse a path once into steps, walk them per response. */
#include "jsonpath.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct jstep {
    char *key;      /* object member; NULL for an array index */
    size_t key_len; /* keys may hold NUL bytes once escapes are decoded */
    long index;     /* negative: from the end */
} jstep_t;

struct jpath {
    jstep_t *steps;
    size_t n, cap;
};

void jpath_free(jpath_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        free(p->steps[i].key);
    free(p->steps);
    free(p);
}

static int push_step(jpath_t *p, char *key, size_t key_len, long index)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 4;
        jstep_t *s = realloc(p->steps, cap * sizeof(*s));
        if (!s)
            return -1;
        p->steps = s;
        p->cap = cap;
    }
    p->steps[p->n++] = (jstep_t){ .key = key, .key_len = key_len, .index = index };
    return 0;
}

/* A dotted name runs to the next '.' or '['. */
static size_t name_len(const char *s)
{
    return strcspn(s, ".[");
}

/* Reads a quoted key starting at s[0] (the quote). Returns the bytes consumed
 * including both quotes, or 0 when the closing quote is missing. */
static size_t quoted_key(const char *s, char **out, size_t *out_len)
{
    char q = s[0];
    size_t i = 1, n = 0;
    char *key = malloc(strlen(s) + 1);
    if (!key)
        return 0;
    for (; s[i] && s[i] != q; i++) {
        if (s[i] == '\\' && s[i + 1])
            i++;
        key[n++] = s[i];
    }
    if (s[i] != q) {
        free(key);
        return 0;
    }
    key[n] = '\0';
    *out = key;
    *out_len = n;
    return i + 1;
}

jpath_t *jpath_compile(const char *expr, char *err, size_t errlen)
{
    jpath_t *p = calloc(1, sizeof(*p));
    if (!p)
        goto oom;
    size_t i = 0;
    bool implicit_root = expr[0] != '$';
    if (!implicit_root)
        i = 1;
    if (expr[0] == '\0') {
        snprintf(err, errlen, "empty JSON path: expected $ or a key");
        goto fail;
    }
    while (expr[i]) {
        char *key = NULL;
        size_t klen = 0;
        long index = 0;
        if (expr[i] == '.' || (implicit_root && i == 0 && expr[i] != '[')) {
            if (expr[i] == '.')
                i++;
            klen = name_len(expr + i);
            if (klen == 0) {
                snprintf(err, errlen, "JSON path \"%s\": expected a key at byte %zu%s", expr, i,
                         expr[i] == '.' ? " (.. is not supported)" : "");
                goto fail;
            }
            if (klen == 1 && expr[i] == '*') {
                snprintf(err, errlen, "JSON path \"%s\": wildcards are not supported (byte %zu)", expr, i);
                goto fail;
            }
            key = strndup(expr + i, klen);
            if (!key)
                goto oom;
            i += klen;
        } else if (expr[i] == '[') {
            size_t open = i++;
            if (expr[i] == '"' || expr[i] == '\'') {
                size_t used = quoted_key(expr + i, &key, &klen);
                if (used == 0) {
                    snprintf(err, errlen, "JSON path \"%s\": unterminated quoted key at byte %zu", expr, i);
                    goto fail;
                }
                i += used;
            } else {
                char *end;
                errno = 0;
                index = strtol(expr + i, &end, 10);
                if (end == expr + i || errno || (expr[i] != '-' && (expr[i] < '0' || expr[i] > '9'))) {
                    snprintf(err, errlen, "JSON path \"%s\": expected an integer index or a quoted key at byte %zu",
                             expr, i);
                    goto fail;
                }
                i = (size_t)(end - expr);
            }
            if (expr[i] != ']') {
                free(key);
                snprintf(err, errlen, "JSON path \"%s\": expected ] at byte %zu for [ at byte %zu", expr, i, open);
                goto fail;
            }
            i++;
        } else {
            snprintf(err, errlen, "JSON path \"%s\": expected . or [ at byte %zu", expr, i);
            goto fail;
        }
        if (push_step(p, key, klen, index) < 0) {
            free(key);
            goto oom;
        }
    }
    return p;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    jpath_free(p);
    return NULL;
}

json_t *jpath_lookup(const jpath_t *p, json_t *root)
{
    json_t *v = root;
    for (size_t i = 0; v && i < p->n; i++) {
        const jstep_t *s = &p->steps[i];
        if (s->key) {
            v = json_is_object(v) ? json_object_getn(v, s->key, s->key_len) : NULL;
        } else if (json_is_array(v)) {
            long n = (long)json_array_size(v);
            long at = s->index < 0 ? n + s->index : s->index;
            v = at >= 0 && at < n ? json_array_get(v, (size_t)at) : NULL;
        } else {
            v = NULL;
        }
    }
    return v;
}

/* The shortest %g text that reads back as d: "0.1", not jansson's 17-digit
 * "0.10000000000000001", which a server would not recognise as its price. */
static size_t real_text(double d, char *out)
{
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(out, JPATH_SCRATCH, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            break;
    }
    return (size_t)n;
}

const char *jpath_text(const json_t *v, char *scratch, size_t *len, char **owned)
{
    *owned = NULL;
    switch (json_typeof(v)) {
    case JSON_STRING:
        *len = json_string_length(v);
        return json_string_value(v);
    case JSON_INTEGER:
        *len = (size_t)snprintf(scratch, JPATH_SCRATCH, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return scratch;
    case JSON_REAL:
        *len = real_text(json_real_value(v), scratch);
        return scratch;
    case JSON_TRUE:
    case JSON_FALSE:
    case JSON_NULL: {
        const char *lit = json_is_true(v) ? "true" : json_is_false(v) ? "false" : "null";
        *len = strlen(lit);
        return lit;
    }
    default: /* objects and arrays: rare, so allocating is fine */
        *owned = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!*owned)
            return NULL;
        *len = strlen(*owned);
        return *owned;
    }
}

/* vjprint: JSON for people (vjprint.h): short values on one line, long ones
 * one member a line. */
#include "vjprint.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VJ_WIDTH 100

typedef struct sbuf {
    char *p;
    size_t n, cap, max;
} sbuf_t;

/* Appends; -1 when over max (the inline form does not fit) or out of memory. */
static int sb_add(sbuf_t *b, const char *s, size_t n)
{
    if (b->n + n > b->max)
        return -1;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
    return 0;
}

static int sb_scalar(sbuf_t *b, const json_t *v)
{
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    int rc = s ? sb_add(b, s, strlen(s)) : -1;
    free(s);
    return rc;
}

/* The one-line form of v: {"a": 1, "b": [2, 3]}. */
static int sb_inline(sbuf_t *b, const json_t *v)
{
    if (json_is_object(v)) {
        const char *k;
        const json_t *m;
        int first = 1;
        if (sb_add(b, "{", 1) != 0)
            return -1;
        json_object_foreach((json_t *)v, k, m) {
            json_t *key = json_string(k);
            int rc = (first ? 0 : sb_add(b, ", ", 2)) || !key || sb_scalar(b, key) || sb_add(b, ": ", 2) ||
                     sb_inline(b, m);
            json_decref(key);
            if (rc)
                return -1;
            first = 0;
        }
        return sb_add(b, "}", 1);
    }
    if (json_is_array(v)) {
        size_t i;
        const json_t *m;
        if (sb_add(b, "[", 1) != 0)
            return -1;
        json_array_foreach(v, i, m)
            if ((i && sb_add(b, ", ", 2)) || sb_inline(b, m))
                return -1;
        return sb_add(b, "]", 1);
    }
    return sb_scalar(b, v);
}

int vj_print(FILE *out, const json_t *v, int indent)
{
    sbuf_t b = { .max = indent < VJ_WIDTH - 20 ? (size_t)(VJ_WIDTH - indent) : 20 };
    bool container = json_is_object(v) || json_is_array(v);
    if (!container)
        b.max = SIZE_MAX;
    int fits = sb_inline(&b, v) == 0;
    if (fits || !container) {
        int rc = fits && fputs(b.p, out) >= 0 ? 0 : -1;
        free(b.p);
        return rc;
    }
    free(b.p);
    if (json_is_object(v)) {
        const char *k;
        const json_t *m;
        size_t i = 0, n = json_object_size(v);
        if (fputs("{\n", out) < 0)
            return -1;
        json_object_foreach((json_t *)v, k, m) {
            json_t *key = json_string(k);
            char *ks = key ? json_dumps(key, JSON_ENCODE_ANY) : NULL;
            json_decref(key);
            int rc = ks && fprintf(out, "%*s%s: ", indent + 2, "", ks) >= 0 && vj_print(out, m, indent + 2) == 0 &&
                     fputs(++i < n ? ",\n" : "\n", out) >= 0 ? 0 : -1;
            free(ks);
            if (rc)
                return -1;
        }
        return fprintf(out, "%*s}", indent, "") < 0 ? -1 : 0;
    }
    size_t i, n = json_array_size(v);
    const json_t *m;
    if (fputs("[\n", out) < 0)
        return -1;
    json_array_foreach(v, i, m)
        if (fprintf(out, "%*s", indent + 2, "") < 0 || vj_print(out, m, indent + 2) != 0 ||
            fputs(i + 1 < n ? ",\n" : "\n", out) < 0)
            return -1;
    return fprintf(out, "%*s]", indent, "") < 0 ? -1 : 0;
}

/* diff: replayed responses against the recording (see diff.h). */
#include "diff.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "stats.h"

typedef struct expect {
    const scn_request_t *src;
    int status;
    char type[128];               /* media type, lower case, no parameters */
    char *shape;                  /* JSON bodies; NULL otherwise */
    char *values;                 /* with --diff-values: the body, keys sorted, compact */
    size_t len;
    bool partial;                 /* truncated: status and type only */
} expect_t;

struct diff {
    diff_opts_t o;
    expect_t *v;
    size_t n, cap;
};

diff_t *diff_new(const diff_opts_t *o)
{
    diff_t *d = calloc(1, sizeof *d);
    if (d)
        d->o = *o;
    return d;
}

void diff_free(diff_t *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].shape);
        free(d->v[i].values);
    }
    free(d->v);
    free(d);
}

size_t diff_count(const diff_t *d) { return d->n; }

static void media_type(const char *ct, size_t len, char *out, size_t outlen)
{
    size_t n = 0;
    for (size_t i = 0; ct && i < len && ct[i] != ';' && n + 1 < outlen; i++)
        if (!isspace((unsigned char)ct[i]))
            out[n++] = (char)tolower((unsigned char)ct[i]);
    out[n] = '\0';
}

static bool is_json_type(const char *t)
{
    size_t n = strlen(t);
    return (n >= 4 && strcmp(t + n - 4, "json") == 0) || n == 0;
}

/* ---- shape */

typedef struct strset {
    char **v;
    size_t n, cap;
} strset_t;

static int set_add(strset_t *s, const char *path, const char *type)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        char **v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    size_t pl = strlen(path), tl = strlen(type);
    char *e = malloc(pl + tl + 2);
    if (!e)
        return -1;
    memcpy(e, path, pl);
    e[pl] = ':';
    memcpy(e + pl + 1, type, tl + 1);
    s->v[s->n++] = e;
    return 0;
}

static const char *type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER:
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "bool";
    default: return "null";
    }
}

/* Depth and size bounds: a shape is a summary, not a copy of a huge body. */
#define SHAPE_DEPTH 32
#define SHAPE_PATH 512

static int walk(const json_t *j, char *path, size_t plen, int depth, strset_t *s)
{
    if (set_add(s, path, type_name(j)) < 0)
        return -1;
    if (depth >= SHAPE_DEPTH)
        return 0;
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)j, k, v) {
            int n = snprintf(path + plen, SHAPE_PATH - plen, ".%s", k);
            if (n < 0 || plen + (size_t)n >= SHAPE_PATH)
                continue;
            if (walk(v, path, plen + (size_t)n, depth + 1, s) < 0)
                return -1;
        }
    } else if (json_is_array(j)) {
        if (plen + 3 >= SHAPE_PATH)
            return 0;
        memcpy(path + plen, "[]", 3);
        for (size_t i = 0; i < json_array_size(j); i++)
            if (walk(json_array_get(j, i), path, plen + 2, depth + 1, s) < 0)
                return -1;
    }
    path[plen] = '\0';
    return 0;
}

static int by_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *shape_of(const json_t *j)
{
    strset_t s = {0};
    char path[SHAPE_PATH] = "$";
    char *out = NULL;
    if (walk(j, path, 1, 0, &s) == 0) {
        qsort(s.v, s.n, sizeof *s.v, by_str);
        size_t total = 1, w = 0;
        for (size_t i = 0; i < s.n; i++) {
            if (w && strcmp(s.v[w - 1], s.v[i]) == 0) {
                free(s.v[i]);
                continue;
            }
            s.v[w++] = s.v[i];
            total += strlen(s.v[w - 1]) + 1;
        }
        s.n = w;
        if ((out = malloc(total))) {
            size_t o = 0;
            for (size_t i = 0; i < s.n; i++) {
                size_t l = strlen(s.v[i]);
                memcpy(out + o, s.v[i], l);
                o += l;
                out[o++] = '\n';
            }
            out[o ? o - 1 : 0] = '\0';
        }
    }
    for (size_t i = 0; i < s.n; i++)
        free(s.v[i]);
    free(s.v);
    return out;
}

char *diff_json_shape(const char *text, size_t len)
{
    json_t *j = json_loadb(text, len, JSON_DECODE_ANY, NULL);
    if (!j)
        return NULL;
    char *s = shape_of(j);
    json_decref(j);
    return s;
}

/* ---- building */

int diff_add(diff_t *d, const scn_request_t *src, int status, const char *content_type,
             const uint8_t *body, size_t len, bool truncated)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        expect_t *v = realloc(d->v, cap * sizeof *v);
        if (!v)
            return -1;
        d->v = v;
        d->cap = cap;
    }
    expect_t *e = &d->v[d->n];
    memset(e, 0, sizeof *e);
    e->src = src;
    e->status = status;
    e->len = len;
    e->partial = truncated;
    media_type(content_type, content_type ? strlen(content_type) : 0, e->type, sizeof e->type);
    if (!truncated && len && is_json_type(e->type)) {
        json_t *j = json_loadb((const char *)body, len, JSON_DECODE_ANY, NULL);
        if (j) {
            e->shape = shape_of(j);
            if (d->o.values)
                e->values = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
            json_decref(j);
            if (!e->shape || (d->o.values && !e->values))
                return -1;
        }
    }
    d->n++;
    return 0;
}

static int by_src(const void *a, const void *b)
{
    const expect_t *x = a, *y = b;
    return x->src < y->src ? -1 : x->src > y->src;
}

int diff_seal(diff_t *d)
{
    if (d->n)
        qsort(d->v, d->n, sizeof *d->v, by_src);
    return 0;
}

/* ---- comparing */

/* The first line of a that b lacks (both sorted, one a line), copied into out. */
static void first_missing(const char *a, const char *b, char *out, size_t outlen)
{
    out[0] = '\0';
    for (const char *p = a; *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        bool found = false;
        for (const char *q = b; *q && !found;) {
            const char *f = strchr(q, '\n');
            size_t m = f ? (size_t)(f - q) : strlen(q);
            found = m == n && memcmp(p, q, n) == 0;
            q = f ? f + 1 : q + m;
        }
        if (!found) {
            snprintf(out, outlen, "%.*s", (int)n, p);
            return;
        }
        p = e ? e + 1 : p + n;
    }
}

static const char *header_of(const resp_view_t *r, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < r->n_headers; i++)
        if (r->headers[i].name_len == nl && strncasecmp(r->headers[i].name, name, nl) == 0) {
            *len = r->headers[i].value_len;
            return r->headers[i].value;
        }
    *len = 0;
    return NULL;
}

unsigned diff_compare(const diff_t *d, const scn_request_t *src, const char *method, const char *path,
                      const resp_view_t *resp, char *ex, size_t exlen)
{
    expect_t key = {.src = src};
    const expect_t *e = d->n ? bsearch(&key, d->v, d->n, sizeof *d->v, by_src) : NULL;
    if (!e)
        return 0;
    unsigned kinds = 0;
    char what[400] = "";
    int n0 = snprintf(ex, exlen, "%s %.200s: ", method, path);
    size_t at = n0 > 0 && (size_t)n0 < exlen ? (size_t)n0 : 0;
    if (resp->status != e->status) {
        kinds |= 1u << STATS_DIFF_STATUS;
        snprintf(what, sizeof what, "status: recorded %d, replayed %d", e->status, resp->status);
    }
    size_t ctl;
    const char *ct = header_of(resp, "content-type", &ctl);
    char type[128];
    media_type(ct, ctl, type, sizeof type);
    if (strcmp(type, e->type) != 0) {
        kinds |= 1u << STATS_DIFF_TYPE;
        if (!what[0])
            snprintf(what, sizeof what, "type: recorded '%s', replayed '%s'", e->type, type);
    }
    if (!e->partial && !resp->body_cut && !resp->body_undecoded) {
        json_t *j = e->shape ? json_loadb(resp->body, resp->body_len, JSON_DECODE_ANY, NULL) : NULL;
        if (e->shape && !j) {
            kinds |= 1u << STATS_DIFF_SHAPE;
            if (!what[0])
                snprintf(what, sizeof what, "shape: recorded JSON, replayed %zu bytes that are not JSON",
                         resp->body_len);
        } else if (j) {
            char *shape = shape_of(j);
            if (shape && strcmp(shape, e->shape) != 0) {
                kinds |= 1u << STATS_DIFF_SHAPE;
                if (!what[0]) {
                    char miss[160], extra[160];
                    first_missing(e->shape, shape, miss, sizeof miss);
                    first_missing(shape, e->shape, extra, sizeof extra);
                    snprintf(what, sizeof what, "shape: recorded has %s, replayed has %s",
                             miss[0] ? miss : "nothing more", extra[0] ? extra : "nothing more");
                }
            } else if (shape && e->values) {
                char *v = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
                if (v && strcmp(v, e->values) != 0) {
                    kinds |= 1u << STATS_DIFF_VALUES;
                    if (!what[0])
                        snprintf(what, sizeof what, "values: recorded %.150s, replayed %.150s", e->values, v);
                }
                free(v);
            }
            free(shape);
            json_decref(j);
        } else {
            double a = (double)e->len, b = (double)resp->body_len;
            if ((a == 0 && b > 0) || (a > 0 && (b > a ? b - a : a - b) > d->o.length_tolerance * a)) {
                kinds |= 1u << STATS_DIFF_LENGTH;
                if (!what[0])
                    snprintf(what, sizeof what, "length: recorded %zu bytes, replayed %zu", e->len,
                             resp->body_len);
            }
        }
    }
    if (kinds && at < exlen)
        snprintf(ex + at, exlen - at, "%s", what);
    return kinds;
}

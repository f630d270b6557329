#include "classes.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "normalise.h"
#include "strtab.h"

static void cls_fini(cls_t *c)
{
    for (size_t i = 0; i < c->n_seq; i++)
        free(c->seq[i]);
    free(c->seq);
    free(c->name);
}

void cls_list_fini(cls_list_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        cls_fini(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

size_t cls_distance(char *const *a, size_t na, char *const *b, size_t nb)
{
    size_t *row = malloc((nb + 1) * sizeof *row);
    if (!row)
        return SIZE_MAX;
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t best = diag + (strcmp(a[i - 1], b[j - 1]) != 0);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    size_t d = row[nb];
    free(row);
    return d;
}

static int session_seq(const xset_t *xs, const sess_t *s, char ***seq)
{
    *seq = calloc(s->n ? s->n : 1, sizeof **seq);
    if (!*seq)
        return -1;
    for (size_t i = 0; i < s->n; i++) {
        const rec_exchange_t *x = &xs->v[s->idx[i]].x;
        if (!((*seq)[i] = norm_key(x->method, x->authority, x->target)))
            return -1;
    }
    return 0;
}

static int by_weight(const void *a, const void *b)
{
    const cls_t *x = a, *y = b;
    if (x->weight != y->weight)
        return x->weight > y->weight ? -1 : 1;
    return x->rep < y->rep ? -1 : 1;
}

/* Folds the rarest classes into their nearest until at most max remain. */
static void merge_rarest(cls_list_t *l, size_t max)
{
    while (max && l->n > max) {
        cls_t *last = &l->v[l->n - 1];
        size_t best = 0, best_d = SIZE_MAX;
        for (size_t i = 0; i + 1 < l->n; i++) {
            size_t d = cls_distance(last->seq, last->n_seq, l->v[i].seq, l->v[i].n_seq);
            if (d < best_d) {
                best_d = d;
                best = i;
            }
        }
        l->v[best].weight += last->weight;
        cls_fini(last);
        l->n--;
        qsort(l->v, l->n, sizeof *l->v, by_weight);
    }
}

/* The first page: the first request answered with HTML, else the first request. */
static char *first_page(const xset_t *xs, const sess_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        const rec_exchange_t *x = &xs->v[s->idx[i]].x;
        const char *ct = rec_headers_get(&x->resp_headers, "content-type");
        if (ct && strcasestr(ct, "text/html"))
            return norm_name(x->method, NULL, x->target);
    }
    const rec_exchange_t *x = &xs->v[s->idx[0]].x;
    return norm_name(x->method, NULL, x->target);
}

/* Index of the request of c found in the fewest other classes: what sets it
 * apart. in[t] is how many classes hold the key stored under t in keys (c
 * among them); the first of equal counts wins. */
static size_t distinctive(const cls_t *c, const stab_t *keys, const size_t *in)
{
    size_t best = 0, best_n = SIZE_MAX;
    for (size_t k = 0; k < c->n_seq; k++) {
        size_t n = in[stab_get(keys, c->seq[k], strlen(c->seq[k]))] - 1;
        if (n < best_n) {
            best_n = n;
            best = k;
        }
    }
    return best;
}

/* For distinctive: every key of every class in keys, and in[t] the number of
 * classes holding key t (*in, heap). A table, not a scan of every class per
 * key: naming was quadratic in the number of classes. Returns 0 or -1. */
static int count_keys(const cls_list_t *l, stab_t *keys, size_t **in)
{
    size_t cap = 0, n = 0, *last = NULL;
    *in = NULL;
    for (size_t o = 0; o < l->n; o++) {
        for (size_t m = 0; m < l->v[o].n_seq; m++) {
            const char *k = l->v[o].seq[m];
            long t = stab_put(keys, k, strlen(k), n);
            if (t < 0)
                goto oom;
            if ((size_t)t == n) {
                if (n == cap) {
                    size_t nc = cap ? 2 * cap : 64;
                    size_t *ni = realloc(*in, nc * sizeof *ni);
                    if (!ni)
                        goto oom;
                    *in = ni;
                    size_t *nl = realloc(last, nc * sizeof *nl);
                    if (!nl)
                        goto oom;
                    last = nl;
                    cap = nc;
                }
                (*in)[n] = 0;
                last[n] = SIZE_MAX;
                n++;
            }
            if (last[t] != o) { /* once per class */
                last[t] = o;
                (*in)[t]++;
            }
        }
    }
    free(last);
    return 0;
oom:
    free(last);
    return -1;
}

/* Names: the first page; when two classes share it, the first page and the
 * request that sets the class apart; a number as the last resort. Tables,
 * not scans of the classes before: naming was quadratic in their number. */
static int name_classes(const xset_t *xs, const sess_list_t *ss, cls_list_t *l)
{
    bool *shared = calloc(l->n ? l->n : 1, sizeof *shared), any_shared = false;
    stab_t names, keys, taken;
    size_t *in = NULL;
    int rc = -1;
    stab_init(&names);
    stab_init(&keys);
    stab_init(&taken);
    if (!shared)
        return -1;
    for (size_t i = 0; i < l->n; i++)
        if (!(l->v[i].name = first_page(xs, &ss->v[l->v[i].rep])))
            goto out;
    for (size_t i = 0; i < l->n; i++) {
        long first = stab_put(&names, l->v[i].name, strlen(l->v[i].name), i);
        if (first < 0)
            goto out;
        if ((size_t)first != i)
            shared[i] = shared[first] = any_shared = true;
    }
    if (any_shared && count_keys(l, &keys, &in) < 0)
        goto out;
    for (size_t i = 0; i < l->n; i++) {
        if (!shared[i])
            continue;
        const rec_exchange_t *x = &xs->v[ss->v[l->v[i].rep].idx[distinctive(&l->v[i], &keys, in)]].x;
        char *d = norm_name(x->method, NULL, x->target), *name;
        if (!d || asprintf(&name, "%s + %s", l->v[i].name, d) < 0) {
            free(d);
            goto out;
        }
        free(d);
        free(l->v[i].name);
        l->v[i].name = name;
    }
    /* taken: the names of the classes before i, final */
    for (size_t i = 0; i < l->n; i++) {
        for (int k = 2; stab_get(&taken, l->v[i].name, strlen(l->v[i].name)) >= 0 && k < 100000; k++) {
            char *numbered;
            if (asprintf(&numbered, "%s #%d", l->v[i].name, k) < 0)
                goto out;
            if (stab_get(&taken, numbered, strlen(numbered)) < 0) {
                free(l->v[i].name);
                l->v[i].name = numbered;
                break;
            }
            free(numbered);
        }
        if (stab_put(&taken, l->v[i].name, strlen(l->v[i].name), i) < 0)
            goto out;
    }
    rc = 0;
out:
    stab_fini(&taken);
    stab_fini(&keys);
    stab_fini(&names);
    free(in);
    free(shared);
    return rc;
}

/* A session's key sequence as one byte string (keys hold no NUL: joined by
 * NULs), the key of the class table. Heap, *len its length; NULL on out of memory. */
static char *seq_join(char *const *seq, size_t n, size_t *len)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += strlen(seq[i]) + 1;
    char *j = malloc(total ? total : 1), *p = j;
    if (!j)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t kl = strlen(seq[i]);
        memcpy(p, seq[i], kl);
        p[kl] = '\0';
        p += kl + 1;
    }
    *len = total;
    return j;
}

int cls_build(const xset_t *xs, const sess_list_t *ss, size_t max_classes, cls_list_t *out)
{
    memset(out, 0, sizeof *out);
    if (ss->n && !(out->v = calloc(ss->n, sizeof *out->v)))
        return -1;
    stab_t byseq;
    stab_init(&byseq);
    for (size_t s = 0; s < ss->n; s++) {
        char **seq;
        if (session_seq(xs, &ss->v[s], &seq) < 0) {
            cls_t tmp = {.seq = seq, .n_seq = ss->v[s].n};
            cls_fini(&tmp);
            goto oom;
        }
        /* a table of the sequences seen: a scan of every class per session was
         * quadratic in the number of classes */
        size_t jl;
        char *joined = seq_join(seq, ss->v[s].n, &jl);
        long at = joined ? stab_put(&byseq, joined, jl, out->n) : -1;
        free(joined);
        if (at < 0) {
            cls_t tmp = {.seq = seq, .n_seq = ss->v[s].n};
            cls_fini(&tmp);
            goto oom;
        }
        size_t c = (size_t)at;
        if (c < out->n) {
            out->v[c].weight++;
            cls_t tmp = {.seq = seq, .n_seq = ss->v[s].n};
            cls_fini(&tmp);
            continue;
        }
        out->v[out->n++] = (cls_t){.rep = s, .weight = 1, .seq = seq, .n_seq = ss->v[s].n};
    }
    stab_fini(&byseq);
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, by_weight);
    merge_rarest(out, max_classes);
    if (name_classes(xs, ss, out) < 0)
        goto oom;
    return 0;
oom:
    stab_fini(&byseq);
    cls_list_fini(out);
    return -1;
}

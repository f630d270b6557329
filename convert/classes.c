#include "classes.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "normalise.h"

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

static bool seq_equal(char *const *a, size_t na, char *const *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return false;
    return true;
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

/* Index of the request of c found in the fewest other classes: what sets it apart. */
static size_t distinctive(const cls_list_t *l, size_t ci)
{
    const cls_t *c = &l->v[ci];
    size_t best = 0, best_n = SIZE_MAX;
    for (size_t k = 0; k < c->n_seq; k++) {
        size_t n = 0;
        for (size_t o = 0; o < l->n; o++) {
            if (o == ci)
                continue;
            for (size_t m = 0; m < l->v[o].n_seq; m++)
                if (strcmp(l->v[o].seq[m], c->seq[k]) == 0) {
                    n++;
                    break;
                }
        }
        if (n < best_n) {
            best_n = n;
            best = k;
        }
    }
    return best;
}

static bool name_taken(const cls_list_t *l, size_t upto, const char *name)
{
    for (size_t i = 0; i < upto; i++)
        if (strcmp(l->v[i].name, name) == 0)
            return true;
    return false;
}

/* Names: the first page; when two classes share it, the first page and the
 * request that sets the class apart; a number as the last resort. */
static int name_classes(const xset_t *xs, const sess_list_t *ss, cls_list_t *l)
{
    bool *shared = calloc(l->n ? l->n : 1, sizeof *shared);
    int rc = -1;
    if (!shared)
        return -1;
    for (size_t i = 0; i < l->n; i++)
        if (!(l->v[i].name = first_page(xs, &ss->v[l->v[i].rep])))
            goto out;
    for (size_t i = 0; i < l->n; i++)
        for (size_t o = i + 1; o < l->n; o++)
            if (strcmp(l->v[i].name, l->v[o].name) == 0)
                shared[i] = shared[o] = true;
    for (size_t i = 0; i < l->n; i++) {
        if (!shared[i])
            continue;
        const rec_exchange_t *x = &xs->v[ss->v[l->v[i].rep].idx[distinctive(l, i)]].x;
        char *d = norm_name(x->method, NULL, x->target), *name;
        if (!d || asprintf(&name, "%s + %s", l->v[i].name, d) < 0) {
            free(d);
            goto out;
        }
        free(d);
        free(l->v[i].name);
        l->v[i].name = name;
    }
    for (size_t i = 0; i < l->n; i++) {
        for (int k = 2; name_taken(l, i, l->v[i].name) && k < 100000; k++) {
            char *numbered;
            if (asprintf(&numbered, "%s #%d", l->v[i].name, k) < 0)
                goto out;
            if (!name_taken(l, i, numbered)) {
                free(l->v[i].name);
                l->v[i].name = numbered;
                break;
            }
            free(numbered);
        }
    }
    rc = 0;
out:
    free(shared);
    return rc;
}

int cls_build(const xset_t *xs, const sess_list_t *ss, size_t max_classes, cls_list_t *out)
{
    memset(out, 0, sizeof *out);
    if (ss->n && !(out->v = calloc(ss->n, sizeof *out->v)))
        return -1;
    for (size_t s = 0; s < ss->n; s++) {
        char **seq;
        if (session_seq(xs, &ss->v[s], &seq) < 0) {
            cls_t tmp = {.seq = seq, .n_seq = ss->v[s].n};
            cls_fini(&tmp);
            goto oom;
        }
        size_t c;
        for (c = 0; c < out->n; c++)
            if (seq_equal(out->v[c].seq, out->v[c].n_seq, seq, ss->v[s].n))
                break;
        if (c < out->n) {
            out->v[c].weight++;
            cls_t tmp = {.seq = seq, .n_seq = ss->v[s].n};
            cls_fini(&tmp);
            continue;
        }
        out->v[out->n++] = (cls_t){.rep = s, .weight = 1, .seq = seq, .n_seq = ss->v[s].n};
    }
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, by_weight);
    merge_rarest(out, max_classes);
    if (name_classes(xs, ss, out) < 0)
        goto oom;
    return 0;
oom:
    cls_list_fini(out);
    return -1;
}

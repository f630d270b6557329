#include "session.h"

#include <stdlib.h>
#include <string.h>

#include "strtab.h"

/* qsort has no context argument: the set being sorted. */
static const xset_t *sort_xs;

static int by_time(const void *a, const void *b)
{
    const xs_item_t *x = &sort_xs->v[*(const size_t *)a], *y = &sort_xs->v[*(const size_t *)b];
    if (x->x.t_start_us != y->x.t_start_us)
        return x->x.t_start_us < y->x.t_start_us ? -1 : 1;
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* order[0..n) (kept indexes, ascending) grouped by key, each group by start
 * time then index: what sorting by (key, time, index) gives but for the
 * order of the groups, which the caller does not depend on. A table of keys
 * and a counting pass instead of a sort with a strcmp per comparison; a
 * group already in time order (a recording usually is) is not sorted.
 * Returns 0 or -1 (out of memory). */
static int group_by_key(const xset_t *xs, size_t *order, size_t n)
{
    stab_t keys;
    stab_init(&keys);
    size_t *grp = malloc((n ? n : 1) * sizeof *grp), *start = calloc(n + 1, sizeof *start);
    size_t *tmp = malloc((n ? n : 1) * sizeof *tmp), ng = 0;
    int rc = -1;
    if (!grp || !start || !tmp)
        goto out;
    for (size_t k = 0; k < n; k++) {
        const char *key = xs->v[order[k]].key;
        long g = stab_put(&keys, key, strlen(key), ng);
        if (g < 0)
            goto out;
        if ((size_t)g == ng)
            ng++;
        grp[k] = (size_t)g;
        start[g + 1]++;
    }
    for (size_t g = 0; g < ng; g++)
        start[g + 1] += start[g];
    for (size_t k = 0; k < n; k++) /* stable: a group keeps index order */
        tmp[start[grp[k]]++] = order[k];
    memcpy(order, tmp, n * sizeof *order);
    for (size_t g = 0, from = 0; g < ng; g++) {
        size_t to = start[g]; /* advanced to the group's end above */
        bool sorted = true;
        for (size_t k = from + 1; k < to && sorted; k++)
            sorted = xs->v[order[k - 1]].x.t_start_us <= xs->v[order[k]].x.t_start_us;
        if (!sorted)
            qsort(order + from, to - from, sizeof *order, by_time);
        from = to;
    }
    rc = 0;
out:
    stab_fini(&keys);
    free(tmp);
    free(start);
    free(grp);
    return rc;
}

static int by_first_start(const void *a, const void *b)
{
    const sess_t *s = a, *t = b;
    int64_t x = sort_xs->v[s->idx[0]].x.t_start_us, y = sort_xs->v[t->idx[0]].x.t_start_us;
    if (x != y)
        return x < y ? -1 : 1;
    return s->idx[0] < t->idx[0] ? -1 : 1;
}

static sess_t *open_session(sess_list_t *l, size_t *cap)
{
    if (l->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        sess_t *v = realloc(l->v, nc * sizeof *v);
        if (!v)
            return NULL;
        l->v = v;
        *cap = nc;
    }
    sess_t *s = &l->v[l->n++];
    memset(s, 0, sizeof *s);
    return s;
}

int sess_split(const xset_t *xs, const bool *keep, uint64_t gap_us, sess_list_t *out)
{
    size_t n = 0, cap = 0;
    memset(out, 0, sizeof *out);
    size_t *order = malloc((xs->n ? xs->n : 1) * sizeof *order);
    if (!order)
        return -1;
    for (size_t i = 0; i < xs->n; i++)
        if (keep[i])
            order[n++] = i;
    sort_xs = xs;
    if (group_by_key(xs, order, n) < 0)
        goto oom;
    sess_t *cur = NULL;
    int64_t cur_end = 0;
    for (size_t k = 0; k < n; k++) {
        const xs_item_t *it = &xs->v[order[k]];
        bool fresh = !cur || strcmp(it->key, xs->v[cur->idx[0]].key) != 0 ||
                     (gap_us && it->x.t_start_us - cur_end > (int64_t)gap_us);
        if (fresh) {
            if (!(cur = open_session(out, &cap)))
                goto oom;
            cur_end = it->x.t_start_us;
        }
        if (cur->n == cur->cap) {
            size_t nc = cur->cap ? cur->cap * 2 : 16;
            size_t *v = realloc(cur->idx, nc * sizeof *v);
            if (!v)
                goto oom;
            cur->idx = v;
            cur->cap = nc;
        }
        cur->idx[cur->n++] = order[k];
        int64_t end = it->x.t_end_us > it->x.t_start_us ? it->x.t_end_us : it->x.t_start_us;
        if (end > cur_end)
            cur_end = end;
    }
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, by_first_start);
    free(order);
    return 0;
oom:
    free(order);
    sess_list_fini(out);
    return -1;
}

void sess_list_fini(sess_list_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].idx);
    free(l->v);
    memset(l, 0, sizeof *l);
}

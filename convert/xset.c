#include "xset.h"

#include <stdlib.h>
#include <string.h>

void xs_init(xset_t *s)
{
    memset(s, 0, sizeof *s);
}

static void item_fini(xs_item_t *it)
{
    rec_exchange_fini(&it->x);
    free(it->key);
    free(it->page);
}

void xs_fini(xset_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        item_fini(&s->v[i]);
    free(s->v);
    for (size_t i = 0; i < s->n_skips; i++)
        free(s->skips[i].why);
    free(s->skips);
    for (size_t i = 0; i < s->n_notes; i++)
        free(s->notes[i]);
    free(s->notes);
    xs_init(s);
}

xs_item_t *xs_push(xset_t *s)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        xs_item_t *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return NULL;
        s->v = v;
        s->cap = cap;
    }
    xs_item_t *it = &s->v[s->n++];
    memset(it, 0, sizeof *it);
    return it;
}

void xs_pop(xset_t *s)
{
    if (s->n)
        item_fini(&s->v[--s->n]);
}

int xs_skip(xset_t *s, const char *file, long index, const char *why)
{
    xs_skip_t *v = realloc(s->skips, (s->n_skips + 1) * sizeof *v);
    if (!v)
        return -1;
    s->skips = v;
    if (!(v[s->n_skips].why = strdup(why)))
        return -1;
    v[s->n_skips].file = file;
    v[s->n_skips].index = index;
    s->n_skips++;
    return 0;
}

int xs_note(xset_t *s, const char *msg)
{
    char **v = realloc(s->notes, (s->n_notes + 1) * sizeof *v);
    if (!v)
        return -1;
    s->notes = v;
    if (!(v[s->n_notes] = strdup(msg)))
        return -1;
    s->n_notes++;
    return 0;
}

/* timed: the schedule of a timed replay (see timed.h). */
#include "timed.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
    uint64_t off_us;              /* first step's offset within one pass, after speed and spread */
    uint64_t spread_us;           /* this copy's share of the spread */
    uint32_t session, copy;
} entry_t;

struct timed_iter {
    const timed_t *t;
    entry_t *v;
    size_t n, next;
    uint64_t pass;                /* --loop: passes started */
    uint64_t t0_us, period_us;    /* one pass, after speed */
};

static int by_off(const void *a, const void *b)
{
    const entry_t *x = a, *y = b;
    if (x->off_us != y->off_us)
        return x->off_us < y->off_us ? -1 : 1;
    if (x->session != y->session)
        return x->session < y->session ? -1 : 1;
    return x->copy < y->copy ? -1 : x->copy > y->copy;
}

static uint64_t scaled(uint64_t us, double speed)
{
    return (uint64_t)((double)us / speed);
}

uint64_t timed_users(const timed_t *t, unsigned segment, unsigned segments)
{
    uint32_t copies = t->copies ? t->copies : 1;
    segments = segments ? segments : 1;
    uint64_t n = 0;
    for (size_t s = 0; s < t->n_sessions; s++)
        for (uint32_t c = 0; t->n_steps[s] > 0 && c < copies; c++)
            n += ((uint64_t)s * copies + c) % segments == segment;
    return n;
}

timed_iter_t *timed_iter_new(const timed_t *t, unsigned idx, unsigned threads, unsigned segment,
                             unsigned segments, uint64_t t0_us)
{
    timed_iter_t *it = calloc(1, sizeof *it);
    if (!it)
        return NULL;
    uint32_t copies = t->copies ? t->copies : 1;
    threads = threads ? threads : 1;
    segments = segments ? segments : 1;
    size_t cap = 0;
    for (size_t s = 0; s < t->n_sessions; s++)
        for (uint32_t c = 0; c < copies; c++) {
            uint64_t g = (uint64_t)s * copies + c;
            if (g % segments != segment || (g / segments) % threads != idx || t->n_steps[s] == 0)
                continue;
            if (it->n == cap) {
                cap = cap ? cap * 2 : 64;
                entry_t *v = realloc(it->v, cap * sizeof *v);
                if (!v) {
                    timed_iter_free(it);
                    return NULL;
                }
                it->v = v;
            }
            uint64_t spread = c ? (uint64_t)((double)t->spread_us * c / copies) : 0;
            it->v[it->n++] = (entry_t){scaled(t->step_us[s][0], t->speed) + spread, spread,
                                       (uint32_t)s, c};
        }
    if (it->n)
        qsort(it->v, it->n, sizeof *it->v, by_off);
    it->t = t;
    it->t0_us = t0_us;
    /* A pass lasts the recording (at least 1 ms, so a one-request recording loops
     * instead of spinning). */
    it->period_us = scaled(t->length_us, t->speed);
    if (it->period_us < 1000)
        it->period_us = 1000;
    return it;
}

void timed_iter_free(timed_iter_t *it)
{
    if (!it)
        return;
    free(it->v);
    free(it);
}

uint64_t timed_iter_due(const timed_iter_t *it)
{
    if (it->n == 0 || (it->next == it->n && !it->t->loop))
        return UINT64_MAX;
    size_t i = it->next == it->n ? 0 : it->next;
    uint64_t pass = it->next == it->n ? it->pass + 1 : it->pass;
    return it->t0_us + pass * it->period_us + it->v[i].off_us;
}

bool timed_iter_next(timed_iter_t *it, uint64_t now_us, timed_start_t *out)
{
    uint64_t due = timed_iter_due(it);
    if (due == UINT64_MAX || due > now_us)
        return false;
    if (it->next == it->n) {
        it->next = 0;
        it->pass++;
    }
    const entry_t *e = &it->v[it->next];
    out->local = it->pass * it->n + it->next;
    out->session = e->session;
    out->copy = e->copy;
    out->base_us = it->t0_us + it->pass * it->period_us + e->spread_us;
    out->due_us = due;
    it->next++;
    return true;
}

int timed_parse_speed(const char *s, double *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || !(v > 0) || v > 1e6)
        return -1;
    if (*end == '%') {
        v /= 100.0;
        end++;
    } else if (*end == 'x' || *end == 'X') {
        end++;
    }
    if (*end != '\0' || !(v > 0))
        return -1;
    *out = v;
    return 0;
}

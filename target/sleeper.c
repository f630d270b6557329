#include "sleeper.h"

#include "clock.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct wake {
    uint64_t at_us;
    struct MHD_Connection *conn;
};

struct sleeper {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* on CLOCK_MONOTONIC, like the wake-up times */
    pthread_t thread;
    struct wake *heap;
    size_t len, cap;
    bool draining, stop;
    bool resuming; /* a popped batch is being resumed outside the lock */
};

/* Resumed outside the lock, in batches, so adders are never held up by MHD. */
#define BATCH 256

static void heap_swap(struct wake *h, size_t a, size_t b)
{
    struct wake t = h[a];
    h[a] = h[b];
    h[b] = t;
}

static void heap_up(struct wake *h, size_t i)
{
    while (i > 0 && h[(i - 1) / 2].at_us > h[i].at_us) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(struct wake *h, size_t len, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < len && h[l].at_us < h[m].at_us)
            m = l;
        if (r < len && h[r].at_us < h[m].at_us)
            m = r;
        if (m == i)
            return;
        heap_swap(h, i, m);
        i = m;
    }
}

static struct MHD_Connection *heap_pop(struct sleeper *s)
{
    struct MHD_Connection *c = s->heap[0].conn;
    s->heap[0] = s->heap[--s->len];
    heap_down(s->heap, s->len, 0);
    return c;
}

static void *sleeper_main(void *arg)
{
    struct sleeper *s = arg;
    struct MHD_Connection *due[BATCH];
    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        size_t n = 0;
        uint64_t now = clk_mono_us();
        while (s->len && n < BATCH && (s->draining || s->heap[0].at_us <= now))
            due[n++] = heap_pop(s);
        if (n) {
            s->resuming = true;
            pthread_mutex_unlock(&s->lock);
            for (size_t i = 0; i < n; i++)
                MHD_resume_connection(due[i]);
            pthread_mutex_lock(&s->lock);
            s->resuming = false;
        } else if (!s->len) {
            pthread_cond_wait(&s->cond, &s->lock);
        } else {
            uint64_t at = s->heap[0].at_us;
            struct timespec ts = {(time_t)(at / 1000000), (long)(at % 1000000) * 1000};
            pthread_cond_timedwait(&s->cond, &s->lock, &ts);
        }
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

struct sleeper *sleeper_new(void)
{
    pthread_condattr_t attr;
    struct sleeper *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    if (pthread_condattr_init(&attr))
        goto fail_free;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (pthread_cond_init(&s->cond, &attr))
        goto fail_attr;
    if (pthread_mutex_init(&s->lock, NULL))
        goto fail_cond;
    if (pthread_create(&s->thread, NULL, sleeper_main, s))
        goto fail_mutex;
    pthread_condattr_destroy(&attr);
    return s;

fail_mutex:
    pthread_mutex_destroy(&s->lock);
fail_cond:
    pthread_cond_destroy(&s->cond);
fail_attr:
    pthread_condattr_destroy(&attr);
fail_free:
    free(s);
    return NULL;
}

static bool heap_reserve(struct sleeper *s)
{
    if (s->len < s->cap)
        return true;
    size_t cap = s->cap ? s->cap * 2 : 1024;
    struct wake *h = realloc(s->heap, cap * sizeof(*h));
    if (!h)
        return false;
    s->heap = h;
    s->cap = cap;
    return true;
}

void sleeper_add(struct sleeper *s, uint64_t wake_us, struct MHD_Connection *conn)
{
    pthread_mutex_lock(&s->lock);
    if (s->draining || !heap_reserve(s)) {
        pthread_mutex_unlock(&s->lock);
        MHD_resume_connection(conn);
        return;
    }
    s->heap[s->len] = (struct wake){wake_us, conn};
    heap_up(s->heap, s->len);
    /* Only a new earliest entry changes when the thread must wake. */
    if (s->heap[0].conn == conn)
        pthread_cond_signal(&s->cond);
    s->len++;
    pthread_mutex_unlock(&s->lock);
}

void sleeper_drain(struct sleeper *s)
{
    pthread_mutex_lock(&s->lock);
    s->draining = true;
    pthread_cond_signal(&s->cond);
    /* Wait until the thread has resumed everything (bounded: it only pops). */
    while (s->len || s->resuming) {
        pthread_mutex_unlock(&s->lock);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
}

void sleeper_free(struct sleeper *s)
{
    if (!s)
        return;
    sleeper_drain(s);
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s->heap);
    free(s);
}

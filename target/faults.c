#include "faults.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

/* The fail rate is kept in parts per million so that one integer comparison
 * decides a request; the delay range is packed in one word so a reader never
 * sees the minimum of one setting with the maximum of another. */
#define PPM 1000000u

struct faults {
    _Atomic uint64_t delay_range; /* min_ms << 32 | max_ms */
    _Atomic uint32_t fail_ppm;
};

struct faults *faults_new(void)
{
    struct faults *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    atomic_init(&f->delay_range, 0);
    atomic_init(&f->fail_ppm, 0);
    return f;
}

void faults_free(struct faults *f)
{
    free(f);
}

static int parse_ms(const char *s, char **end, uint32_t *ms)
{
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long v = strtoul(s, end, 10);
    if (errno || v > FAULTS_DELAY_MAX_MS)
        return -1;
    *ms = (uint32_t)v;
    return 0;
}

int faults_parse_delay(const char *s, uint32_t *min_ms, uint32_t *max_ms)
{
    char *end;
    uint32_t a, b;
    if (!s || parse_ms(s, &end, &a) < 0)
        return -1;
    b = a;
    if (*end == '-' && parse_ms(end + 1, &end, &b) < 0)
        return -1;
    if (*end || b < a)
        return -1;
    *min_ms = a;
    *max_ms = b;
    return 0;
}

int faults_parse_rate(const char *s, double *rate)
{
    char *end;
    if (!s || !*s || (*s != '.' && (*s < '0' || *s > '9')))
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !(v >= 0.0 && v <= 1.0))
        return -1;
    *rate = v;
    return 0;
}

void faults_set_delay(struct faults *f, uint32_t min_ms, uint32_t max_ms)
{
    atomic_store_explicit(&f->delay_range, (uint64_t)min_ms << 32 | max_ms,
                          memory_order_relaxed);
}

void faults_set_fail_rate(struct faults *f, double rate)
{
    atomic_store_explicit(&f->fail_ppm, (uint32_t)lround(rate * PPM), memory_order_relaxed);
}

void faults_get(const struct faults *f, uint32_t *min_ms, uint32_t *max_ms, double *rate)
{
    uint64_t r = atomic_load_explicit(&f->delay_range, memory_order_relaxed);
    *min_ms = (uint32_t)(r >> 32);
    *max_ms = (uint32_t)r;
    *rate = atomic_load_explicit(&f->fail_ppm, memory_order_relaxed) / (double)PPM;
}

/* xorshift64*, one state per pool thread: no shared state on the hot path. */
static uint64_t rng_next(void)
{
    static _Thread_local uint64_t state;
    if (!state) {
        if (getrandom(&state, sizeof(state), 0) != sizeof(state))
            state = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&state;
        state |= 1;
    }
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1Dull;
}

uint64_t faults_pick_delay_us(struct faults *f)
{
    uint64_t r = atomic_load_explicit(&f->delay_range, memory_order_relaxed);
    uint64_t lo = (r >> 32) * 1000, hi = (uint32_t)r * 1000ull;
    if (hi == 0)
        return 0;
    return lo + rng_next() % (hi - lo + 1);
}

bool faults_roll_fail(struct faults *f)
{
    uint32_t ppm = atomic_load_explicit(&f->fail_ppm, memory_order_relaxed);
    return ppm && (rng_next() >> 11) % PPM < ppm;
}

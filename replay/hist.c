/* hist: HdrHistogram's log-linear layout with unit 1 µs and 2048 sub-buckets.
 *
 * Bucket 0 holds 0..2047 exactly; each further bucket b covers
 * [1024 << b, 2048 << b) in 1024 steps of 1 << b, so a value's bucket is at
 * most 1/1024 of it wide (3 significant digits). Only the upper half of every
 * bucket above 0 is stored, hence the index arithmetic below. */
#include "hist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUB_BITS 11                       /* log2(sub-bucket count) */
#define SUB_COUNT (1u << SUB_BITS)        /* 2048 */
#define HALF_BITS (SUB_BITS - 1)
#define HALF_COUNT (1u << HALF_BITS)      /* 1024 */
#define SUB_MASK ((uint64_t)SUB_COUNT - 1)
/* Buckets until SUB_COUNT << (BUCKETS - 1) > HIST_MAX_US: 2048 << 21 > 3.6e9. */
#define BUCKETS 22
#define COUNTS_LEN ((BUCKETS + 1) * HALF_COUNT)

struct hist {
    uint64_t total;
    uint64_t sum;
    uint64_t min, max;
    /* Counts live in the same allocation. calloc hands large blocks out as
     * untouched zero pages, so a histogram only costs the pages its values
     * reach; reset and merge therefore touch the [min, max] range only. */
    uint64_t counts[];
};

static inline uint32_t index_of(uint64_t v)
{
    int pow2ceil = 64 - __builtin_clzll(v | SUB_MASK);
    int bucket = pow2ceil - (HALF_BITS + 1);
    uint64_t sub = v >> bucket;
    return (uint32_t)(((uint64_t)(bucket + 1) << HALF_BITS) + sub - HALF_COUNT);
}

/* Lowest value of index i, and the width of its bucket. */
static inline uint64_t lowest_of(uint32_t i, uint64_t *width)
{
    int bucket = (int)(i >> HALF_BITS) - 1;
    uint64_t sub = (i & (HALF_COUNT - 1)) + HALF_COUNT;
    if (bucket < 0) {
        sub -= HALF_COUNT;
        bucket = 0;
    }
    *width = 1ull << bucket;
    return sub << bucket;
}

static inline uint64_t highest_of(uint32_t i)
{
    uint64_t w;
    uint64_t lo = lowest_of(i, &w);
    return lo + w - 1;
}

static inline uint64_t clamp(uint64_t us)
{
    if (us < HIST_MIN_US)
        return HIST_MIN_US;
    return us > HIST_MAX_US ? HIST_MAX_US : us;
}

hist_t *hist_new(void)
{
    hist_t *h = calloc(1, sizeof(*h) + COUNTS_LEN * sizeof(uint64_t));
    return h;
}

void hist_free(hist_t *h)
{
    free(h);
}

void hist_reset(hist_t *h)
{
    if (h->total > 0) {
        uint32_t lo = index_of(h->min), hi = index_of(h->max);
        memset(&h->counts[lo], 0, (size_t)(hi - lo + 1) * sizeof(uint64_t));
    }
    h->total = h->sum = h->min = h->max = 0;
}

void hist_record_n(hist_t *h, uint64_t us, uint64_t n)
{
    if (n == 0)
        return;
    us = clamp(us);
    h->counts[index_of(us)] += n;
    if (h->total == 0 || us < h->min)
        h->min = us;
    if (us > h->max)
        h->max = us;
    h->total += n;
    h->sum += us * n;
}

void hist_record(hist_t *h, uint64_t us)
{
    hist_record_n(h, us, 1);
}

void hist_merge(hist_t *dst, const hist_t *src)
{
    if (src->total == 0)
        return;
    uint32_t lo = index_of(src->min), hi = index_of(src->max);
    for (uint32_t i = lo; i <= hi; i++)
        dst->counts[i] += src->counts[i];
    if (dst->total == 0 || src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    dst->total += src->total;
    dst->sum += src->sum;
}

uint64_t hist_count(const hist_t *h) { return h->total; }
uint64_t hist_min(const hist_t *h) { return h->min; }
uint64_t hist_max(const hist_t *h) { return h->max; }

double hist_mean(const hist_t *h)
{
    return h->total ? (double)h->sum / (double)h->total : 0.0;
}

uint64_t hist_sum(const hist_t *h)
{
    return h->sum;
}

uint64_t hist_percentile(const hist_t *h, double p)
{
    if (h->total == 0)
        return 0;
    if (p < 0)
        p = 0;
    if (p > 100)
        p = 100;
    /* The rank of the value at p, as HdrHistogram counts it: at least 1. */
    uint64_t rank = (uint64_t)((p / 100.0) * (double)h->total + 0.5);
    if (rank < 1)
        rank = 1;
    uint32_t lo = index_of(h->min), hi = index_of(h->max);
    uint64_t seen = 0;
    for (uint32_t i = lo; i <= hi; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            /* The bucket's highest value, but never outside what was seen:
             * the exact min and max are known, so they bound the answer. */
            uint64_t v = highest_of(i);
            if (v > h->max)
                v = h->max;
            return v < h->min ? h->min : v;
        }
    }
    return h->max;
}

uint64_t hist_count_le(const hist_t *h, uint64_t us)
{
    uint64_t out;
    hist_count_le_many(h, &us, 1, &out);
    return out;
}

void hist_count_le_many(const hist_t *h, const uint64_t *bounds, size_t n, uint64_t *out)
{
    if (h->total == 0) {
        memset(out, 0, n * sizeof(*out));
        return;
    }
    uint32_t lo = index_of(h->min), hi = index_of(h->max);
    uint32_t i = lo;
    uint64_t seen = 0;
    for (size_t k = 0; k < n; k++) {
        if (bounds[k] < h->min) {
            out[k] = 0;
            continue;
        }
        if (bounds[k] >= h->max) {
            out[k] = h->total;
            continue;
        }
        /* A value counts as <= bound when its whole bucket is: the count never
         * includes a value above the bound (Prometheus' "le"). */
        uint32_t end = index_of(bounds[k] + 1); /* first bucket not entirely <= bound */
        for (; i < end && i <= hi; i++)
            seen += h->counts[i];
        out[k] = seen;
    }
}

json_t *hist_to_json(const hist_t *h)
{
    json_t *counts = json_array();
    json_t *j = NULL;
    if (counts == NULL)
        return NULL;
    if (h->total > 0) {
        uint32_t lo = index_of(h->min), hi = index_of(h->max);
        for (uint32_t i = lo; i <= hi; i++) {
            if (h->counts[i] == 0)
                continue;
            json_t *pair = json_pack("[II]", (json_int_t)i, (json_int_t)h->counts[i]);
            if (pair == NULL || json_array_append_new(counts, pair) < 0)
                goto fail;
        }
    }
    j = json_pack("{s:i, s:o, s:I, s:I, s:I}", "sub_bucket_bits", SUB_BITS, "counts", counts,
                  "sum_us", (json_int_t)h->sum, "min_us", (json_int_t)h->min,
                  "max_us", (json_int_t)h->max);
    return j; /* json_pack took counts, also on failure */
fail:
    json_decref(counts);
    return NULL;
}

static int get_uint(const json_t *j, const char *key, uint64_t *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(j, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        snprintf(err, errlen, "histogram: \"%s\" must be a non-negative integer", key);
        return -1;
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

hist_t *hist_from_json(const json_t *j, char *err, size_t errlen)
{
    uint64_t bits, sum, min, max;
    if (!json_is_object(j)) {
        snprintf(err, errlen, "histogram: expected an object");
        return NULL;
    }
    if (get_uint(j, "sub_bucket_bits", &bits, err, errlen) < 0 ||
        get_uint(j, "sum_us", &sum, err, errlen) < 0 ||
        get_uint(j, "min_us", &min, err, errlen) < 0 ||
        get_uint(j, "max_us", &max, err, errlen) < 0)
        return NULL;
    if (bits != SUB_BITS) {
        snprintf(err, errlen, "histogram: sub_bucket_bits %llu, expected %d",
                 (unsigned long long)bits, SUB_BITS);
        return NULL;
    }
    const json_t *counts = json_object_get(j, "counts");
    if (!json_is_array(counts)) {
        snprintf(err, errlen, "histogram: \"counts\" must be an array of [index, count]");
        return NULL;
    }
    hist_t *h = hist_new();
    if (h == NULL) {
        snprintf(err, errlen, "histogram: out of memory");
        return NULL;
    }
    size_t k;
    const json_t *pair;
    json_array_foreach(counts, k, pair) {
        json_int_t idx, n;
        if (json_unpack((json_t *)pair, "[II]", &idx, &n) < 0 || idx < 0 || idx >= COUNTS_LEN ||
            n < 0) {
            snprintf(err, errlen, "histogram: counts[%zu] must be [index < %d, count >= 0]", k,
                     COUNTS_LEN);
            goto fail;
        }
        h->counts[idx] += (uint64_t)n;
        h->total += (uint64_t)n;
    }
    if (h->total > 0 && (min < HIST_MIN_US || max > HIST_MAX_US || min > max)) {
        snprintf(err, errlen, "histogram: min_us/max_us out of range");
        goto fail;
    }
    /* Counts outside [min, max] would escape the range reset and merge walk. */
    if (h->total > 0) {
        uint32_t lo = index_of(min), hi = index_of(max);
        json_array_foreach(counts, k, pair) {
            json_int_t idx = json_integer_value(json_array_get(pair, 0));
            if ((uint32_t)idx < lo || (uint32_t)idx > hi) {
                snprintf(err, errlen, "histogram: counts[%zu] lies outside min_us..max_us", k);
                goto fail;
            }
        }
    }
    h->sum = sum;
    h->min = h->total ? min : 0;
    h->max = h->total ? max : 0;
    return h;
fail:
    hist_free(h);
    return NULL;
}

/* ---- runs: 1 << RUN_BITS adjacent buckets. Runs never straddle two buckets
 * of the layout (both sizes are powers of two, 8 divides 1024). */
#define RUN_BITS 3
#define RUNS_LEN (COUNTS_LEN >> RUN_BITS)

struct hist_runs {
    uint64_t total, min, max;
    uint64_t counts[RUNS_LEN];
};

hist_runs_t *hist_runs_new(void)
{
    return calloc(1, sizeof(hist_runs_t));
}

void hist_runs_free(hist_runs_t *r)
{
    free(r);
}

void hist_runs_reset(hist_runs_t *r)
{
    memset(r, 0, sizeof *r);
}

static void runs_bounds(hist_runs_t *r, uint64_t total, uint64_t min, uint64_t max)
{
    if (total == 0)
        return;
    if (r->total == 0 || min < r->min)
        r->min = min;
    if (max > r->max)
        r->max = max;
    r->total += total;
}

void hist_runs_add(hist_runs_t *r, const hist_t *h)
{
    if (h->total == 0)
        return;
    uint32_t lo = index_of(h->min), hi = index_of(h->max);
    for (uint32_t i = lo; i <= hi; i++)
        r->counts[i >> RUN_BITS] += h->counts[i];
    runs_bounds(r, h->total, h->min, h->max);
}

uint64_t hist_runs_count(const hist_runs_t *r) { return r->total; }
uint64_t hist_runs_min(const hist_runs_t *r) { return r->min; }
uint64_t hist_runs_max(const hist_runs_t *r) { return r->max; }

uint64_t hist_runs_percentile(const hist_runs_t *r, double p)
{
    if (r->total == 0)
        return 0;
    p = p < 0 ? 0 : p > 100 ? 100 : p;
    uint64_t rank = (uint64_t)((p / 100.0) * (double)r->total + 0.5);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (uint32_t k = index_of(r->min) >> RUN_BITS; k <= index_of(r->max) >> RUN_BITS; k++) {
        seen += r->counts[k];
        if (seen >= rank) {
            uint64_t v = highest_of((k << RUN_BITS) | ((1u << RUN_BITS) - 1));
            return v > r->max ? r->max : v < r->min ? r->min : v;
        }
    }
    return r->max;
}

char *hist_runs_text(const hist_runs_t *r)
{
    size_t cap = 64, len = 0;
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    out[0] = '\0';
    if (r->total == 0)
        return out;
    uint32_t prev = 0;
    for (uint32_t k = index_of(r->min) >> RUN_BITS; k <= index_of(r->max) >> RUN_BITS; k++) {
        uint64_t n = r->counts[k];
        if (n == 0)
            continue;
        char item[48];
        int w = n == 1 ? snprintf(item, sizeof item, "%s%u", len ? " " : "", k - prev)
                       : snprintf(item, sizeof item, "%s%u:%llu", len ? " " : "", k - prev,
                                  (unsigned long long)n);
        prev = k;
        if (len + (size_t)w + 1 > cap) {
            char *p = realloc(out, cap * 2 + (size_t)w);
            if (p == NULL) {
                free(out);
                return NULL;
            }
            out = p;
            cap = cap * 2 + (size_t)w;
        }
        memcpy(out + len, item, (size_t)w + 1);
        len += (size_t)w;
    }
    return out;
}

/* One pass over text: checks it, and adds to r when r is not NULL. */
static int text_pass(hist_runs_t *r, const char *text, uint32_t lo, uint32_t hi, uint64_t *total,
                     char *err, size_t errlen)
{
    const char *p = text;
    uint64_t run = 0;
    *total = 0;
    for (size_t k = 0; *p != '\0'; k++) {
        char *end;
        if ((k > 0 && *p++ != ' ') || *p < '0' || *p > '9')
            goto bad;
        unsigned long long d = strtoull(p, &end, 10), n = 1;
        p = end;
        if (*p == ':') {
            if (p[1] < '0' || p[1] > '9')
                goto bad;
            n = strtoull(p + 1, &end, 10);
            p = end;
        }
        run += d < RUNS_LEN ? d : RUNS_LEN;
        if ((k > 0 && d == 0) || n == 0 || run < lo || run > hi) {
            snprintf(err, errlen, "histogram runs: item %zu (run %llu) lies outside "
                     "min_us..max_us, repeats a run or counts 0", k, (unsigned long long)run);
            return -1;
        }
        if (r != NULL)
            r->counts[run] += n;
        *total += n;
        continue;
bad:
        snprintf(err, errlen, "histogram runs: at offset %zu: expected \"D\" or \"D:C\" "
                 "(decimal numbers) separated by single spaces", (size_t)(p - text));
        return -1;
    }
    return 0;
}

int hist_runs_add_text(hist_runs_t *r, const char *text, uint64_t min_us, uint64_t max_us,
                       char *err, size_t errlen)
{
    uint64_t total;
    bool empty = text[0] == '\0';
    if (!empty && (min_us < HIST_MIN_US || max_us > HIST_MAX_US || min_us > max_us)) {
        snprintf(err, errlen, "histogram runs: min_us/max_us out of range");
        return -1;
    }
    uint32_t lo = empty ? 0 : index_of(min_us) >> RUN_BITS;
    uint32_t hi = empty ? 0 : index_of(max_us) >> RUN_BITS;
    if (text_pass(NULL, text, lo, hi, &total, err, errlen) < 0)
        return -1;
    if (r == NULL || total == 0)
        return 0;
    (void)text_pass(r, text, lo, hi, &total, err, errlen);
    runs_bounds(r, total, min_us, max_us);
    return 0;
}

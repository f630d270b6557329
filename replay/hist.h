/* hist: a log-linear latency histogram in the manner of HdrHistogram: values
 * from 1 µs to 1 h with 3 significant digits (relative error <= 0.1 %),
 * mergeable by adding counts. Not thread-safe: one per thread, merged. */
#ifndef AIOTEST_HIST_H
#define AIOTEST_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define HIST_MIN_US 1ull
#define HIST_MAX_US 3600000000ull /* 1 h; larger values are clamped and counted */

typedef struct hist hist_t;

/* NULL on out of memory. Counts start at zero. */
hist_t *hist_new(void);
void hist_free(hist_t *h);
void hist_reset(hist_t *h);

/* Records one value in µs (0 is counted as 1, above HIST_MAX_US as HIST_MAX_US). */
void hist_record(hist_t *h, uint64_t us);
/* Records n values of us at once. */
void hist_record_n(hist_t *h, uint64_t us, uint64_t n);
/* dst += src. */
void hist_merge(hist_t *dst, const hist_t *src);

uint64_t hist_count(const hist_t *h);
uint64_t hist_min(const hist_t *h);  /* 0 when empty */
uint64_t hist_max(const hist_t *h);  /* 0 when empty */
double hist_mean(const hist_t *h);   /* exact mean of recorded values; 0 when empty */
/* Value at percentile p in [0, 100] (highest value equivalent of the bucket,
 * like HdrHistogram); 0 when empty. */
uint64_t hist_percentile(const hist_t *h, double p);
/* Number of recorded values <= us (for cumulative Prometheus buckets). Values
 * within 0.1 % below us may share a bucket with values above it; such a bucket
 * is left out, so the count never includes a value > us. */
uint64_t hist_count_le(const hist_t *h, uint64_t us);
/* hist_count_le for n ascending bounds in one pass: out[k] = count <= bounds[k]. */
void hist_count_le_many(const hist_t *h, const uint64_t *bounds, size_t n, uint64_t *out);
/* Sum of recorded values in µs (as clamped). */
uint64_t hist_sum(const hist_t *h);

/* Sparse JSON form for reports: {"sub_bucket_bits": B, "counts": [[index, count], ...],
 * "sum_us": S, "min_us": m, "max_us": M}. hist_from_json returns NULL (with a message
 * in err) when j is not such an object. Merging two runs' reports = merging these. */
json_t *hist_to_json(const hist_t *h);
hist_t *hist_from_json(const json_t *j, char *err, size_t errlen);

/* ---- runs: the counts at 1/8 of the resolution (runs of 8 adjacent buckets,
 * each at most 1/128 of its values wide, 2 significant digits) with the exact
 * min and max. The per-second rows of reports keep their histograms in this
 * form (docs/report-format.md), an eighth of the size; runs add up exactly, so
 * the percentiles of added runs are those of runs made from all the values. */
typedef struct hist_runs hist_runs_t;

/* NULL on out of memory; about 23 KiB. */
hist_runs_t *hist_runs_new(void);
void hist_runs_free(hist_runs_t *r);
void hist_runs_reset(hist_runs_t *r);
/* r += h. */
void hist_runs_add(hist_runs_t *r, const hist_t *h);
uint64_t hist_runs_count(const hist_runs_t *r);
uint64_t hist_runs_min(const hist_runs_t *r); /* 0 when empty */
uint64_t hist_runs_max(const hist_runs_t *r); /* 0 when empty */
/* Value at percentile p as hist_percentile counts it: the highest value of the
 * run, bounded by min..max; 0 when empty. */
uint64_t hist_runs_percentile(const hist_runs_t *r, double p);
/* Text form: the nonzero runs in ascending order separated by single spaces,
 * each "D" or "D:C": D the run's number minus the previous one's (the first:
 * its number), C its count, ":C" left out when 1; "" when empty. The bounds are
 * not in it (hist_runs_min/max). Malloc'd, the caller frees; NULL on out of memory. */
char *hist_runs_text(const hist_runs_t *r);
/* r += the runs of text, whose values lay in [min_us, max_us]. r NULL: only
 * checks. Returns 0, or -1 with a message in err and r unchanged when the text
 * is malformed or a run lies outside min_us..max_us. */
int hist_runs_add_text(hist_runs_t *r, const char *text, uint64_t min_us, uint64_t max_us,
                       char *err, size_t errlen);

#endif

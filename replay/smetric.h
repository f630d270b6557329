/* smetric: the metrics a Lua script defines (metric.counter, metric.histogram;
 * script.c is the Lua side), summed over threads for /metrics and the report.
 *
 * One smet_t per run, made by main when there is a script. Each series (a
 * metric name and one set of label values) owns a few consecutive slots; every
 * writer (a worker thread, and the main thread's Lua state) has its own array
 * of slots, written only by that thread with relaxed atomic stores: nothing on
 * the hot path takes a lock, and readers (metrics_publish, the report) sum the
 * writers' arrays whenever they like. A new series is registered under a mutex,
 * once per writer (script.c caches the handle).
 *
 * Bounds, so a label made from data (a user id, a URL) cannot grow memory or
 * the /metrics page without end: SMET_SERIES_MAX label sets per metric (a new
 * set past it is refused: smet_series says so, and the updates made through a
 * refused handle are counted per metric: smet_refused), SMET_METRICS_MAX names,
 * SMET_LABELS_MAX labels per set, SMET_BUCKETS_MAX histogram bounds. */
#ifndef AIOTEST_SMETRIC_H
#define AIOTEST_SMETRIC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define SMET_METRICS_MAX 64
#define SMET_SERIES_MAX 100
#define SMET_LABELS_MAX 8
#define SMET_BUCKETS_MAX 30
#define SMET_NAME_MAX 100   /* bytes of a metric or label name */
#define SMET_VALUE_MAX 200  /* bytes of a label value */

typedef struct smet smet_t;
typedef _Atomic double smet_slot_t;

typedef enum smet_kind { SMET_COUNTER = 0, SMET_HISTOGRAM = 1 } smet_kind_t;

typedef struct smet_label {
    const char *name;
    const char *value;
} smet_label_t;

/* writers: how many slot arrays (threads that update metrics). NULL when out
 * of memory. */
smet_t *smet_new(unsigned writers);
void smet_free(smet_t *m);

/* Writer w's slots (w < writers): only that thread adds to them. */
smet_slot_t *smet_slots(smet_t *m, unsigned w);

/* Adds v to slot i of a writer's array (the one writer: load + store, no
 * read-modify-write instruction needed). */
static inline void smet_add(smet_slot_t *slots, int i, double v)
{
    atomic_store_explicit(&slots[i],
                          atomic_load_explicit(&slots[i], memory_order_relaxed) + v,
                          memory_order_relaxed);
}

/* Where a series' updates go. A histogram has nb + 1 bucket slots (value <=
 * bounds[i], then +Inf) from slot on, then its sum. */
typedef struct smet_handle {
    int slot;
    smet_kind_t kind;
    bool refused;            /* past a bound: slot is the metric's refused count */
    size_t nb;
    const double *bounds;    /* nb increasing bounds, owned by m, stable */
} smet_handle_t;

/* Finds or registers the series (name, labels in any order; bounds NULL: the
 * default ones, ignored for counters). Thread-safe. 0 with *h; or 1 when the
 * metric has SMET_SERIES_MAX label sets already: *h then counts refused
 * updates, and err says which metric and bound (the caller prints it once); or
 * -1 with err for a usage error (bad name or label, a name used as the other
 * kind or with other buckets, too many names or labels). */
int smet_series(smet_t *m, smet_kind_t kind, const char *name, const smet_label_t *labels,
                size_t n_labels, const double *bounds, size_t nb, smet_handle_t *h, char *err,
                size_t errlen);

/* A counter's increment / a histogram observation through h on slots. */
static inline void smet_inc(smet_slot_t *slots, const smet_handle_t *h, double v)
{
    smet_add(slots, h->slot, h->refused ? 1.0 : v);
}
static inline void smet_observe(smet_slot_t *slots, const smet_handle_t *h, double v)
{
    if (h->refused) {
        smet_add(slots, h->slot, 1.0);
        return;
    }
    size_t b = 0;
    while (b < h->nb && !(v <= h->bounds[b]))
        b++;
    smet_add(slots, h->slot + (int)b, 1.0);
    smet_add(slots, h->slot + (int)h->nb + 1, v);
}

/* ---- reading: the sums over all writers at the time of the call. */
size_t smet_metrics(const smet_t *m);
typedef struct smet_info {
    const char *name;        /* as the script gave it, a counter's without "_total"
                                (exported as aiotest_script_NAME[_total]) */
    smet_kind_t kind;
    size_t n_series;
    size_t nb;
    const double *bounds;
    double refused;          /* updates through refused label sets */
} smet_info_t;
void smet_metric(const smet_t *m, size_t i, smet_info_t *out);
/* Series j of metric i: its labels (sorted by name) and values. value: a
 * counter's total; count/sum and buckets (nb + 1 cumulative counts, the last
 * = count) for a histogram (buckets may be NULL). */
typedef struct smet_values {
    const smet_label_t *labels;
    size_t n_labels;
    double value;
    double count, sum;
} smet_values_t;
void smet_read(const smet_t *m, size_t i, size_t j, smet_values_t *out, double *buckets);

/* The report's "script_metrics": [{name, type ("counter" | "histogram"),
 * refused, series: [{labels: {}, value} | {labels, count, sum, buckets:
 * [{le, count}...]}]}] (buckets cumulative, the last le "+Inf"). New
 * reference, NULL when out of memory. */
json_t *smet_json(const smet_t *m);

/* Total refused updates (all metrics). */
double smet_refused(const smet_t *m);

#endif

/* smetric: script-defined metrics (see smetric.h). */
#include "smetric.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct series {
    smet_label_t labels[SMET_LABELS_MAX]; /* sorted by name; strings owned */
    size_t n_labels;
    int slot;
} series_t;

typedef struct metric {
    char *name;
    smet_kind_t kind;
    size_t nb;
    double bounds[SMET_BUCKETS_MAX];
    int refused_slot;
    size_t n_series;
    series_t *series;    /* SMET_SERIES_MAX, allocated with the metric */
} metric_t;

/* Every series of every metric at the bounds: slots never run out, and the
 * arrays are calloc'd, so the pages no series uses are never touched. */
#define SMET_SLOTS (SMET_METRICS_MAX * (1 + SMET_SERIES_MAX * (SMET_BUCKETS_MAX + 2)))

struct smet {
    pthread_mutex_t mu;          /* registration only */
    _Atomic size_t n_metrics;    /* published after the metric is complete */
    metric_t metrics[SMET_METRICS_MAX];
    int next_slot;
    unsigned writers;
    smet_slot_t **slots;
};

/* Prometheus' default buckets (client libraries' DefBuckets). */
static const double def_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

smet_t *smet_new(unsigned writers)
{
    smet_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->writers = writers;
    m->slots = calloc(writers ? writers : 1, sizeof *m->slots);
    if (!m->slots) {
        free(m);
        return NULL;
    }
    for (unsigned w = 0; w < writers; w++)
        if (!(m->slots[w] = calloc(SMET_SLOTS, sizeof(smet_slot_t)))) {
            smet_free(m);
            return NULL;
        }
    pthread_mutex_init(&m->mu, NULL);
    return m;
}

void smet_free(smet_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_metrics; i++) {
        metric_t *x = &m->metrics[i];
        for (size_t j = 0; j < x->n_series; j++)
            for (size_t k = 0; k < x->series[j].n_labels; k++) {
                free((char *)x->series[j].labels[k].name);
                free((char *)x->series[j].labels[k].value);
            }
        free(x->series);
        free(x->name);
    }
    for (unsigned w = 0; w < m->writers; w++)
        free(m->slots[w]);
    free(m->slots);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

smet_slot_t *smet_slots(smet_t *m, unsigned w) { return w < m->writers ? m->slots[w] : NULL; }

static bool ident(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SMET_NAME_MAX || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* Well-formed UTF-8 (Prometheus and JSON both want it). */
static bool utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p, n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2
                                        : (c & 0xf8) == 0xf0 ? 3 : 4;
        if (n == 4 || (n == 1 && c < 0xc2) || (c > 0xf4))
            return false;
        p++;
        for (unsigned i = 0; i < n; i++, p++)
            if ((*p & 0xc0) != 0x80)
                return false;
    }
    return true;
}

static int label_cmp(const void *a, const void *b)
{
    return strcmp(((const smet_label_t *)a)->name, ((const smet_label_t *)b)->name);
}

static bool same_labels(const series_t *s, const smet_label_t *l, size_t n)
{
    if (s->n_labels != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(s->labels[i].name, l[i].name) != 0 || strcmp(s->labels[i].value, l[i].value) != 0)
            return false;
    return true;
}

/* Checks and sorts the labels into out. 0, or -1 with err. */
static int check_labels(const char *name, smet_kind_t kind, const smet_label_t *labels, size_t n,
                        smet_label_t *out, char *err, size_t errlen)
{
    if (n > SMET_LABELS_MAX) {
        snprintf(err, errlen, "metric %s: %zu labels, at most %d", name, n, SMET_LABELS_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const char *ln = labels[i].name, *lv = labels[i].value;
        if (!ln || !ident(ln) || strncmp(ln, "__", 2) == 0 ||
            (kind == SMET_HISTOGRAM && strcmp(ln, "le") == 0)) {
            snprintf(err, errlen, "metric %s: label name '%s' is not [A-Za-z_][A-Za-z0-9_]* (nor "
                     "__..., nor le on a histogram)", name, ln ? ln : "");
            return -1;
        }
        if (!lv || strlen(lv) > SMET_VALUE_MAX || !utf8(lv)) {
            snprintf(err, errlen, "metric %s: label %s: the value must be UTF-8 of at most %d bytes",
                     name, ln, SMET_VALUE_MAX);
            return -1;
        }
        out[i] = labels[i];
    }
    qsort(out, n, sizeof *out, label_cmp);
    for (size_t i = 1; i < n; i++)
        if (strcmp(out[i - 1].name, out[i].name) == 0) {
            snprintf(err, errlen, "metric %s: label %s given twice", name, out[i].name);
            return -1;
        }
    return 0;
}

static int check_bounds(const char *name, const double *b, size_t nb, char *err, size_t errlen)
{
    if (nb == 0 || nb > SMET_BUCKETS_MAX) {
        snprintf(err, errlen, "metric %s: 1 to %d bucket bounds, got %zu", name, SMET_BUCKETS_MAX, nb);
        return -1;
    }
    for (size_t i = 0; i < nb; i++)
        if (!isfinite(b[i]) || (i && !(b[i] > b[i - 1]))) {
            snprintf(err, errlen, "metric %s: bucket bounds must be finite and increasing", name);
            return -1;
        }
    return 0;
}

/* The metric of name, made if new (under m->mu). NULL with err. */
static metric_t *metric_get(smet_t *m, smet_kind_t kind, const char *name, const double *bounds,
                            size_t nb, char *err, size_t errlen)
{
    size_t n = atomic_load(&m->n_metrics);
    for (size_t i = 0; i < n; i++) {
        metric_t *x = &m->metrics[i];
        if (strcmp(x->name, name) != 0)
            continue;
        if (x->kind != kind) {
            snprintf(err, errlen, "metric %s is a %s, not a %s", name,
                     x->kind == SMET_COUNTER ? "counter" : "histogram",
                     kind == SMET_COUNTER ? "counter" : "histogram");
            return NULL;
        }
        if (kind == SMET_HISTOGRAM &&
            (x->nb != nb || memcmp(x->bounds, bounds, nb * sizeof *bounds) != 0)) {
            snprintf(err, errlen, "metric %s: made before with other bucket bounds", name);
            return NULL;
        }
        return x;
    }
    if (n == SMET_METRICS_MAX) {
        snprintf(err, errlen, "metric %s: a script has at most %d metric names", name,
                 SMET_METRICS_MAX);
        return NULL;
    }
    metric_t *x = &m->metrics[n];
    *x = (metric_t){.kind = kind, .nb = kind == SMET_HISTOGRAM ? nb : 0};
    if (!(x->name = strdup(name)) || !(x->series = calloc(SMET_SERIES_MAX, sizeof *x->series))) {
        free(x->name);
        snprintf(err, errlen, "metric %s: out of memory", name);
        return NULL;
    }
    if (kind == SMET_HISTOGRAM)
        memcpy(x->bounds, bounds, nb * sizeof *bounds);
    x->refused_slot = m->next_slot++;
    atomic_store(&m->n_metrics, n + 1);
    return x;
}

int smet_series(smet_t *m, smet_kind_t kind, const char *name, const smet_label_t *labels,
                size_t n_labels, const double *bounds, size_t nb, smet_handle_t *h, char *err,
                size_t errlen)
{
    if (!name || !ident(name)) {
        snprintf(err, errlen, "metric name '%s' is not [A-Za-z_][A-Za-z0-9_]* (at most %d bytes)",
                 name ? name : "", SMET_NAME_MAX);
        return -1;
    }
    /* A counter is exported as NAME_total: "x" and "x_total" are one counter
     * (one family on the page), and the refused counts' family is taken. */
    char base[SMET_NAME_MAX + 1];
    size_t nl = strlen(name);
    if (kind == SMET_COUNTER && nl > 6 && strcmp(name + nl - 6, "_total") == 0) {
        memcpy(base, name, nl - 6);
        base[nl - 6] = '\0';
        name = base;
    }
    if (strcmp(name, "updates_refused") == 0) {
        snprintf(err, errlen, "metric name updates_refused is aiotest's own (refused updates)");
        return -1;
    }
    if (kind == SMET_HISTOGRAM && !bounds) {
        bounds = def_bounds;
        nb = sizeof def_bounds / sizeof *def_bounds;
    }
    if (kind == SMET_HISTOGRAM && check_bounds(name, bounds, nb, err, errlen) != 0)
        return -1;
    smet_label_t sorted[SMET_LABELS_MAX];
    if (check_labels(name, kind, labels, n_labels, sorted, err, errlen) != 0)
        return -1;
    pthread_mutex_lock(&m->mu);
    int rc = -1;
    metric_t *x = metric_get(m, kind, name, bounds, nb, err, errlen);
    if (!x)
        goto out;
    *h = (smet_handle_t){.kind = kind, .nb = x->nb, .bounds = x->bounds};
    for (size_t j = 0; j < x->n_series; j++)
        if (same_labels(&x->series[j], sorted, n_labels)) {
            h->slot = x->series[j].slot;
            rc = 0;
            goto out;
        }
    if (x->n_series == SMET_SERIES_MAX) {
        snprintf(err, errlen, "metric %s: a new label set past the bound of %d per metric is "
                 "refused; its updates are counted as refused", name, SMET_SERIES_MAX);
        h->refused = true;
        h->slot = x->refused_slot;
        rc = 1;
        goto out;
    }
    series_t *s = &x->series[x->n_series];
    *s = (series_t){.n_labels = n_labels};
    for (size_t k = 0; k < n_labels; k++) {
        s->labels[k].name = strdup(sorted[k].name);
        s->labels[k].value = strdup(sorted[k].value);
        if (!s->labels[k].name || !s->labels[k].value) {
            for (size_t k2 = 0; k2 <= k; k2++) {
                free((char *)s->labels[k2].name);
                free((char *)s->labels[k2].value);
            }
            snprintf(err, errlen, "metric %s: out of memory", name);
            goto out;
        }
    }
    s->slot = m->next_slot;
    m->next_slot += kind == SMET_HISTOGRAM ? (int)x->nb + 2 : 1;
    x->n_series++;
    h->slot = s->slot;
    rc = 0;
out:
    pthread_mutex_unlock(&m->mu);
    return rc;
}

/* ---- reading */

static double sum_slot(const smet_t *m, int slot)
{
    double v = 0;
    for (unsigned w = 0; w < m->writers; w++)
        v += atomic_load_explicit(&m->slots[w][slot], memory_order_relaxed);
    return v;
}

size_t smet_metrics(const smet_t *m) { return m ? atomic_load(&((smet_t *)m)->n_metrics) : 0; }

void smet_metric(const smet_t *m, size_t i, smet_info_t *out)
{
    smet_t *mm = (smet_t *)m;
    pthread_mutex_lock(&mm->mu); /* n_series of a metric grows under it */
    const metric_t *x = &m->metrics[i];
    *out = (smet_info_t){.name = x->name, .kind = x->kind, .n_series = x->n_series, .nb = x->nb,
                         .bounds = x->bounds, .refused = sum_slot(m, x->refused_slot)};
    pthread_mutex_unlock(&mm->mu);
}

void smet_read(const smet_t *m, size_t i, size_t j, smet_values_t *out, double *buckets)
{
    const metric_t *x = &m->metrics[i];
    const series_t *s = &x->series[j];
    *out = (smet_values_t){.labels = s->labels, .n_labels = s->n_labels};
    if (x->kind == SMET_COUNTER) {
        out->value = sum_slot(m, s->slot);
        return;
    }
    double cum = 0;
    for (size_t b = 0; b <= x->nb; b++) {
        cum += sum_slot(m, s->slot + (int)b);
        if (buckets)
            buckets[b] = cum;
    }
    out->count = cum;
    out->sum = sum_slot(m, s->slot + (int)x->nb + 1);
}

double smet_refused(const smet_t *m)
{
    double n = 0;
    for (size_t i = 0; i < smet_metrics(m); i++) {
        smet_info_t in;
        smet_metric(m, i, &in);
        n += in.refused;
    }
    return n;
}

json_t *smet_json(const smet_t *m)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < smet_metrics(m); i++) {
        smet_info_t in;
        smet_metric(m, i, &in);
        json_t *ser = json_array();
        json_t *o = json_pack("{s:s, s:s, s:f, s:o}", "name", in.name, "type",
                              in.kind == SMET_COUNTER ? "counter" : "histogram", "refused",
                              in.refused, "series", ser);
        if (!o || json_array_append_new(arr, o) != 0)
            goto oom;
        for (size_t j = 0; j < in.n_series; j++) {
            smet_values_t v;
            double b[SMET_BUCKETS_MAX + 1];
            smet_read(m, i, j, &v, b);
            json_t *lab = json_object();
            for (size_t k = 0; lab && k < v.n_labels; k++)
                json_object_set_new(lab, v.labels[k].name, json_string(v.labels[k].value));
            json_t *e = in.kind == SMET_COUNTER
                            ? json_pack("{s:o?, s:f}", "labels", lab, "value", v.value)
                            : json_pack("{s:o?, s:f, s:f}", "labels", lab, "count", v.count, "sum",
                                        v.sum);
            if (!e || json_array_append_new(ser, e) != 0)
                goto oom;
            if (in.kind == SMET_COUNTER)
                continue;
            json_t *bk = json_array();
            for (size_t k = 0; bk && k <= in.nb; k++)
                json_array_append_new(bk, k < in.nb ? json_pack("{s:f, s:f}", "le", in.bounds[k],
                                                                "count", b[k])
                                                    : json_pack("{s:s, s:f}", "le", "+Inf", "count",
                                                                b[k]));
            if (!bk || json_object_set_new(e, "buckets", bk) != 0)
                goto oom;
        }
    }
    return arr;
oom:
    json_decref(arr);
    return NULL;
}

/* stats: per-thread request counters and histograms, merged by the main thread;
 * the summary table and the JSON report (which must stay in step with the
 * loader, so they sit beside it). */
#include "stats.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const fail_names[STATS_FAIL__COUNT] = {
    "ok", "connect", "timeout", "reset", "tls", "http", "check", "extract",
    "protocol", "h2_rst", "h2_goaway", "h2_protocol", "unfinished", "origin", "grpc", "script",
    "ws_handshake", "ws_closed", "ws_timeout", "ws_protocol",
};
static const char *const proto_names[STATS_PROTO__COUNT] = {"http/1.1", "h2"};

const char *stats_fail_name(stats_fail_t f)
{
    return (unsigned)f < STATS_FAIL__COUNT ? fail_names[f] : "unknown";
}

const char *stats_proto_name(stats_proto_t p)
{
    return (unsigned)p < STATS_PROTO__COUNT ? proto_names[p] : "unknown";
}

int stats_fail_from_name(const char *s)
{
    for (int i = 0; i < STATS_FAIL__COUNT; i++)
        if (strcmp(s, fail_names[i]) == 0)
            return i;
    return -1;
}

int stats_proto_from_name(const char *s)
{
    for (int i = 0; i < STATS_PROTO__COUNT; i++)
        if (strcmp(s, proto_names[i]) == 0)
            return i;
    return -1;
}

/* ---- names */

struct stats_names {
    char **method, **name;
    size_t n, cap;
};

stats_names_t *stats_names_new(void)
{
    return calloc(1, sizeof(stats_names_t));
}

void stats_names_free(stats_names_t *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->n; i++) {
        free(n->method[i]);
        free(n->name[i]);
    }
    free(n->method);
    free(n->name);
    free(n);
}

int stats_names_intern(stats_names_t *n, const char *method, const char *name)
{
    /* Linear: called once per request of the scenario, before the run. */
    for (size_t i = 0; i < n->n; i++)
        if (strcmp(n->method[i], method) == 0 && strcmp(n->name[i], name) == 0)
            return (int)i;
    if (n->n == n->cap) {
        size_t cap = n->cap ? n->cap * 2 : 16;
        char **m = realloc(n->method, cap * sizeof(*m));
        if (m == NULL)
            return -1;
        n->method = m;
        char **nm = realloc(n->name, cap * sizeof(*nm));
        if (nm == NULL)
            return -1; /* method grown, cap not: the next call grows again */
        n->name = nm;
        n->cap = cap;
    }
    char *dm = strdup(method), *dn = strdup(name);
    if (dm == NULL || dn == NULL) {
        free(dm);
        free(dn);
        return -1;
    }
    n->method[n->n] = dm;
    n->name[n->n] = dn;
    return (int)n->n++;
}

const char *stats_display_name(const char *method, const char *name)
{
    size_t ml = strlen(method);
    if (ml > 0 && strncmp(name, method, ml) == 0 && name[ml] == ' ' && name[ml + 1] != '\0')
        return name + ml + 1;
    return name;
}

size_t stats_names_count(const stats_names_t *n) { return n->n; }
const char *stats_names_method(const stats_names_t *n, uint32_t i) { return n->method[i]; }
const char *stats_names_name(const stats_names_t *n, uint32_t i) { return n->name[i]; }

/* ---- stats */

/* Per entry and protocol: STATS_STATUS_MAX status counters, then one counter
 * per failure category for requests that ended without a response. */
#define SLOTS (STATS_STATUS_MAX + STATS_FAIL__COUNT)

struct stats {
    size_t n;
    stats_entry_t *entries;
    uint64_t *responses; /* n * STATS_PROTO__COUNT * SLOTS */
    stats_entry_t total;
    uint64_t it_started, it_completed;
    uint64_t bodies_cut, bodies_undecoded, body_bytes_dropped;
    uint64_t pipelined, pipeline_resent;
    uint32_t pipeline_depth;
    uint64_t unsolicited, unsolicited_bytes;
    struct {
        uint32_t entry;
        uint64_t n;
        char text[STATS_REASON_LEN];
    } reasons[STATS_REASONS_MAX];
    size_t n_reasons;
    uint64_t reasons_other;
    hist_t *lag;         /* timed replay: how late steps started behind their schedule */
    struct {
        uint32_t entry;
        char text[640];
    } examples[STATS_DIFF_EXAMPLES];
    size_t n_examples;
    uint64_t late;       /* of those, more than STATS_LATE_US late */
};

static inline uint64_t *slot(const stats_t *s, uint32_t i, int proto, int k)
{
    return &s->responses[((size_t)i * STATS_PROTO__COUNT + (size_t)proto) * SLOTS + (size_t)k];
}

stats_t *stats_new(const stats_names_t *names)
{
    stats_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->n = stats_names_count(names);
    s->entries = calloc(s->n ? s->n : 1, sizeof(*s->entries));
    s->responses = calloc((s->n ? s->n : 1) * STATS_PROTO__COUNT * SLOTS, sizeof(uint64_t));
    s->total.latency = hist_new();
    s->lag = hist_new();
    if (s->entries == NULL || s->responses == NULL || s->total.latency == NULL || s->lag == NULL)
        goto fail;
    for (size_t i = 0; i < s->n; i++)
        if ((s->entries[i].latency = hist_new()) == NULL)
            goto fail;
    return s;
fail:
    stats_free(s);
    return NULL;
}

void stats_free(stats_t *s)
{
    if (s == NULL)
        return;
    if (s->entries != NULL)
        for (size_t i = 0; i < s->n; i++)
            hist_free(s->entries[i].latency);
    free(s->entries);
    free(s->responses);
    hist_free(s->total.latency);
    hist_free(s->lag);
    free(s);
}

static void entry_clear(stats_entry_t *e)
{
    hist_t *h = e->latency;
    memset(e, 0, sizeof(*e));
    e->latency = h;
    hist_reset(h);
}

void stats_reset(stats_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        entry_clear(&s->entries[i]);
    memset(s->responses, 0, s->n * STATS_PROTO__COUNT * SLOTS * sizeof(uint64_t));
    entry_clear(&s->total);
    s->it_started = s->it_completed = 0;
    s->bodies_cut = s->bodies_undecoded = s->body_bytes_dropped = 0;
    s->pipelined = s->pipeline_resent = 0;
    s->unsolicited = s->unsolicited_bytes = 0;
    s->n_reasons = 0;
    s->reasons_other = 0;
    hist_reset(s->lag);
    s->late = 0;
    s->n_examples = 0;
}

const char *stats_diff_name(stats_diff_t d)
{
    static const char *const names[] = {"status", "type", "shape", "values", "length"};
    return (unsigned)d < STATS_DIFF__COUNT ? names[d] : "?";
}

void stats_diff(stats_t *s, uint32_t entry, unsigned kinds, const char *example)
{
    if (entry >= s->n)
        return;
    stats_entry_t *e = &s->entries[entry];
    e->diff_compared++;
    if (!kinds)
        return;
    e->diff_mismatched++;
    for (int k = 0; k < STATS_DIFF__COUNT; k++)
        if (kinds & (1u << k))
            e->diff[k]++;
    if (example && s->n_examples < STATS_DIFF_EXAMPLES) {
        s->examples[s->n_examples].entry = entry;
        snprintf(s->examples[s->n_examples].text, sizeof s->examples[0].text, "%s", example);
        s->n_examples++;
    }
}

static void reason_add(stats_t *s, uint32_t entry, const char *text, uint64_t n)
{
    for (size_t i = 0; i < s->n_reasons; i++)
        if (s->reasons[i].entry == entry &&
            strncmp(s->reasons[i].text, text, STATS_REASON_LEN - 1) == 0) {
            s->reasons[i].n += n;
            return;
        }
    if (s->n_reasons == STATS_REASONS_MAX) {
        s->reasons_other += n;
        return;
    }
    s->reasons[s->n_reasons].entry = entry;
    s->reasons[s->n_reasons].n = n;
    snprintf(s->reasons[s->n_reasons].text, STATS_REASON_LEN, "%s", text);
    s->n_reasons++;
}

void stats_reason(stats_t *s, uint32_t entry, const char *text)
{
    if (entry < s->n && text)
        reason_add(s, entry, text, 1);
}

size_t stats_reasons(const stats_t *s) { return s->n_reasons; }
uint64_t stats_reasons_other(const stats_t *s) { return s->reasons_other; }

const char *stats_reason_at(const stats_t *s, size_t i, uint32_t *entry, uint64_t *n)
{
    if (i >= s->n_reasons)
        return NULL;
    *entry = s->reasons[i].entry;
    *n = s->reasons[i].n;
    return s->reasons[i].text;
}

void stats_record(stats_t *s, uint32_t entry, stats_proto_t proto, int status,
                  stats_fail_t fail, uint64_t latency_us, uint64_t bytes_sent,
                  uint64_t bytes_received)
{
    if (entry >= s->n || (unsigned)proto >= STATS_PROTO__COUNT || (unsigned)fail >= STATS_FAIL__COUNT)
        return;
    stats_entry_t *e = &s->entries[entry];
    e->count++;
    if (fail != STATS_OK) {
        e->fail[fail]++;
        e->failures++;
    }
    e->by_proto[proto]++;
    e->bytes_sent += bytes_sent;
    e->bytes_received += bytes_received;
    hist_record(e->latency, latency_us);
    if (status > 0 && status < STATS_STATUS_MAX)
        (*slot(s, entry, proto, status))++;
    else
        (*slot(s, entry, proto, STATS_STATUS_MAX + fail))++;
}

void stats_grpc(stats_t *s, uint32_t entry, int code)
{
    if (entry < s->n)
        s->entries[entry].grpc[code >= 0 && code < GRPC_STATUS__COUNT ? code : GRPC_STATUS_BAD]++;
}

void stats_body(stats_t *s, bool cut, bool undecoded, uint64_t dropped_bytes)
{
    s->bodies_cut += cut;
    s->bodies_undecoded += undecoded;
    s->body_bytes_dropped += dropped_bytes;
}

void stats_pipeline(stats_t *s, bool pipelined, bool resent)
{
    s->pipelined += pipelined;
    s->pipeline_resent += resent;
}

void stats_pipeline_depth(stats_t *s, uint32_t depth)
{
    if (depth > s->pipeline_depth)
        s->pipeline_depth = depth;
}

void stats_unsolicited(stats_t *s, uint64_t bytes)
{
    s->unsolicited++;
    s->unsolicited_bytes += bytes;
}

uint64_t stats_unsolicited_events(const stats_t *s) { return s->unsolicited; }
uint64_t stats_unsolicited_bytes(const stats_t *s) { return s->unsolicited_bytes; }
uint64_t stats_pipelined(const stats_t *s) { return s->pipelined; }
uint64_t stats_pipeline_resent(const stats_t *s) { return s->pipeline_resent; }
uint64_t stats_bodies_cut(const stats_t *s) { return s->bodies_cut; }
uint64_t stats_bodies_undecoded(const stats_t *s) { return s->bodies_undecoded; }
uint64_t stats_body_bytes_dropped(const stats_t *s) { return s->body_bytes_dropped; }

void stats_lag(stats_t *s, uint64_t lag_us)
{
    hist_record(s->lag, lag_us);
    if (lag_us > STATS_LATE_US)
        s->late++;
}

const hist_t *stats_lag_hist(const stats_t *s) { return s->lag; }
uint64_t stats_late(const stats_t *s) { return s->late; }

void stats_iteration(stats_t *s, bool completed)
{
    if (completed)
        s->it_completed++;
    else
        s->it_started++;
}

static void entry_add(stats_entry_t *dst, const stats_entry_t *src)
{
    dst->count += src->count;
    dst->failures += src->failures;
    for (int f = 0; f < STATS_FAIL__COUNT; f++)
        dst->fail[f] += src->fail[f];
    for (int p = 0; p < STATS_PROTO__COUNT; p++)
        dst->by_proto[p] += src->by_proto[p];
    for (int g = 0; g < GRPC_STATUS__COUNT; g++)
        dst->grpc[g] += src->grpc[g];
    dst->bytes_sent += src->bytes_sent;
    dst->bytes_received += src->bytes_received;
    hist_merge(dst->latency, src->latency);
    dst->diff_compared += src->diff_compared;
    dst->diff_mismatched += src->diff_mismatched;
    for (int k = 0; k < STATS_DIFF__COUNT; k++)
        dst->diff[k] += src->diff[k];
}

void stats_merge(stats_t *dst, const stats_t *src)
{
    size_t n = dst->n < src->n ? dst->n : src->n;
    for (size_t i = 0; i < src->n_examples && dst->n_examples < STATS_DIFF_EXAMPLES; i++)
        dst->examples[dst->n_examples++] = src->examples[i];
    for (size_t i = 0; i < n; i++) {
        if (src->entries[i].count == 0 && src->entries[i].diff_compared == 0)
            continue;
        entry_add(&dst->entries[i], &src->entries[i]);
        for (int p = 0; p < STATS_PROTO__COUNT; p++)
            for (int k = 0; k < SLOTS; k++)
                *slot(dst, (uint32_t)i, p, k) += *slot(src, (uint32_t)i, p, k);
    }
    dst->it_started += src->it_started;
    dst->it_completed += src->it_completed;
    dst->bodies_cut += src->bodies_cut;
    dst->bodies_undecoded += src->bodies_undecoded;
    dst->body_bytes_dropped += src->body_bytes_dropped;
    dst->pipelined += src->pipelined;
    dst->pipeline_resent += src->pipeline_resent;
    stats_pipeline_depth(dst, src->pipeline_depth);
    dst->unsolicited += src->unsolicited;
    dst->unsolicited_bytes += src->unsolicited_bytes;
    for (size_t i = 0; i < src->n_reasons; i++)
        reason_add(dst, src->reasons[i].entry, src->reasons[i].text, src->reasons[i].n);
    dst->reasons_other += src->reasons_other;
    hist_merge(dst->lag, src->lag);
    dst->late += src->late;
}

size_t stats_entries(const stats_t *s) { return s->n; }

const stats_entry_t *stats_entry(const stats_t *s, uint32_t i)
{
    return i < s->n ? &s->entries[i] : NULL;
}

const stats_entry_t *stats_total(stats_t *s)
{
    entry_clear(&s->total);
    for (size_t i = 0; i < s->n; i++)
        entry_add(&s->total, &s->entries[i]);
    return &s->total;
}

uint64_t stats_status_count(const stats_t *s, uint32_t i, int status)
{
    uint64_t n = 0;
    for (int p = 0; p < STATS_PROTO__COUNT; p++)
        n += stats_status_count_proto(s, i, (stats_proto_t)p, status);
    return n;
}

uint64_t stats_status_count_proto(const stats_t *s, uint32_t i, stats_proto_t proto, int status)
{
    if (i >= s->n || status <= 0 || status >= STATS_STATUS_MAX ||
        (unsigned)proto >= STATS_PROTO__COUNT)
        return 0;
    return *slot(s, i, proto, status);
}

uint64_t stats_noresp_count(const stats_t *s, uint32_t i, stats_proto_t proto, stats_fail_t fail)
{
    if (i >= s->n || (unsigned)proto >= STATS_PROTO__COUNT || (unsigned)fail >= STATS_FAIL__COUNT)
        return 0;
    return *slot(s, i, proto, STATS_STATUS_MAX + fail);
}

uint64_t stats_iterations_started(const stats_t *s) { return s->it_started; }
uint64_t stats_iterations_completed(const stats_t *s) { return s->it_completed; }

/* ---- history */

struct stats_history {
    stats_second_t *rows;
    size_t n, cap;
    hist_runs_t *runs; /* the second being added */
};

/* The row's histogram and percentiles from runs (lat_text NULL when out of memory). */
static void row_runs(stats_second_t *row, const hist_runs_t *runs)
{
    row->p50_us = hist_runs_percentile(runs, 50);
    row->p95_us = hist_runs_percentile(runs, 95);
    row->p99_us = hist_runs_percentile(runs, 99);
    row->lat_min_us = hist_runs_min(runs);
    row->lat_max_us = hist_runs_max(runs);
    row->lat_text = hist_runs_text(runs);
}

stats_history_t *stats_history_new(void)
{
    return calloc(1, sizeof(stats_history_t));
}

void stats_history_free(stats_history_t *h)
{
    if (h == NULL)
        return;
    for (size_t i = 0; i < h->n; i++)
        free(h->rows[i].lat_text);
    hist_runs_free(h->runs);
    free(h->rows);
    free(h);
}

static int history_push(stats_history_t *h, const stats_second_t *row)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        stats_second_t *r = realloc(h->rows, cap * sizeof(*r));
        if (r == NULL)
            return -1;
        h->rows = r;
        h->cap = cap;
    }
    h->rows[h->n++] = *row;
    return 0;
}

void stats_history_add(stats_history_t *h, double t, uint32_t users, uint32_t target_users,
                       double interval_s, stats_t *interval)
{
    const stats_entry_t *tot = stats_total(interval);
    if (interval_s <= 0)
        interval_s = 1;
    stats_second_t row = {
        .t = t,
        .users = users,
        .target_users = target_users,
        .rps = (double)tot->count / interval_s,
        .fails_per_s = (double)tot->failures / interval_s,
        .p50_us = hist_percentile(tot->latency, 50),
        .p95_us = hist_percentile(tot->latency, 95),
        .p99_us = hist_percentile(tot->latency, 99),
        .iterations_per_s = (double)interval->it_started / interval_s,
    };
    /* The percentiles come from the runs the report keeps, so a merge of
     * segments' runs computes them as this process does. */
    if (h->runs == NULL)
        h->runs = hist_runs_new();
    if (h->runs != NULL) {
        hist_runs_reset(h->runs);
        hist_runs_add(h->runs, tot->latency);
        row_runs(&row, h->runs);
    }
    /* A lost row only thins the charts; the run goes on. */
    if (history_push(h, &row) < 0)
        free(row.lat_text);
}

void stats_history_set_rate(stats_history_t *h, double target_rate)
{
    if (h->n)
        h->rows[h->n - 1].target_rate = target_rate;
}

size_t stats_history_len(const stats_history_t *h) { return h->n; }

#define MERGE_SPAN_MAX (31L * 24 * 3600)

/* dst, a row covering dst_s seconds, takes in the next row r of the same
 * input (covering r_s seconds) that falls into the same second. */
static void row_join(stats_second_t *dst, double dst_s, const stats_second_t *r, double r_s)
{
    double w = dst_s + r_s;
    dst->rps = (dst->rps * dst_s + r->rps * r_s) / w;
    dst->fails_per_s = (dst->fails_per_s * dst_s + r->fails_per_s * r_s) / w;
    dst->iterations_per_s = (dst->iterations_per_s * dst_s + r->iterations_per_s * r_s) / w;
    dst->t = r->t;
    dst->users = r->users;
    dst->target_users = r->target_users;
    dst->p50_us = r->p50_us > dst->p50_us ? r->p50_us : dst->p50_us;
    dst->p95_us = r->p95_us > dst->p95_us ? r->p95_us : dst->p95_us;
    dst->p99_us = r->p99_us > dst->p99_us ? r->p99_us : dst->p99_us;
}

/* Adds one input's row (its second already joined) into the merged second. */
static void row_add(stats_second_t *acc, bool *used, const stats_second_t *r, double offset_s)
{
    double t = offset_s + r->t;
    if (!*used || t > acc->t)
        acc->t = t;
    *used = true;
    acc->users += r->users;
    acc->target_users += r->target_users;
    acc->rps += r->rps;
    acc->fails_per_s += r->fails_per_s;
    acc->iterations_per_s += r->iterations_per_s;
    acc->p50_us = r->p50_us > acc->p50_us ? r->p50_us : acc->p50_us;
    acc->p95_us = r->p95_us > acc->p95_us ? r->p95_us : acc->p95_us;
    acc->p99_us = r->p99_us > acc->p99_us ? r->p99_us : acc->p99_us;
}

stats_history_t *stats_history_merge(const stats_history_t *const *in, const double *offset_s,
                                     size_t n)
{
    long lo = LONG_MAX, hi = LONG_MIN;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; in[i] != NULL && j < in[i]->n; j++) {
            double t = offset_s[i] + in[i]->rows[j].t;
            if (!(t >= 0 && t < (double)MERGE_SPAN_MAX))
                return NULL;
            long b = lround(t);
            lo = b < lo ? b : lo;
            hi = b > hi ? b : hi;
        }
    stats_history_t *out = stats_history_new();
    if (out == NULL || lo > hi)
        return out;
    size_t *pos = calloc(n, sizeof *pos);
    hist_runs_t *lat = hist_runs_new();
    if (pos == NULL || lat == NULL)
        goto fail;
    /* Second by second; each input's rows are in time order (stats_report_load
     * checks), so a cursor per input finds the rows of the second. */
    for (long b = lo; b <= hi; b++) {
        stats_second_t acc = {0};
        bool used = false, exact = true;
        hist_runs_reset(lat);
        for (size_t i = 0; i < n; i++) {
            stats_second_t cur = {0};
            double cur_s = 0;
            bool have = false;
            for (; in[i] != NULL && pos[i] < in[i]->n; pos[i]++) {
                const stats_second_t *r = &in[i]->rows[pos[i]];
                if (lround(offset_s[i] + r->t) != b)
                    break;
                double prev_t = pos[i] ? in[i]->rows[pos[i] - 1].t : 0;
                double len = r->t > prev_t ? r->t - prev_t : 1.0;
                if (have)
                    row_join(&cur, cur_s, r, len);
                else
                    cur = *r;
                cur_s += len;
                have = true;
                char err[160];
                if (r->lat_text == NULL ||
                    hist_runs_add_text(lat, r->lat_text, r->lat_min_us, r->lat_max_us, err,
                                  sizeof err) < 0)
                    exact = false;
            }
            if (have)
                row_add(&acc, &used, &cur, offset_s[i]);
        }
        if (!used)
            continue;
        acc.lat_text = NULL;
        if (exact) {
            row_runs(&acc, lat);
            if (acc.lat_text == NULL)
                goto fail;
        }
        if (history_push(out, &acc) < 0) {
            free(acc.lat_text);
            goto fail;
        }
    }
    free(pos);
    hist_runs_free(lat);
    return out;
fail:
    free(pos);
    hist_runs_free(lat);
    stats_history_free(out);
    return NULL;
}

const stats_second_t *stats_history_at(const stats_history_t *h, size_t i)
{
    return i < h->n ? &h->rows[i] : NULL;
}

/* ---- summary table */

/* Milliseconds with the precision a reader needs: 0.123, 12.3, 1234. */
static void fmt_ms(char *buf, size_t len, double ms)
{
    if (ms < 10)
        snprintf(buf, len, "%.2f", ms);
    else if (ms < 1000)
        snprintf(buf, len, "%.1f", ms);
    else
        snprintf(buf, len, "%.0f", ms);
}

static const double summary_pcts[] = {50, 90, 95, 99, 99.9};
#define N_PCTS (sizeof(summary_pcts) / sizeof(summary_pcts[0]))

static void print_row(FILE *out, int tw, int nw, const char *type, const char *name,
                      const stats_entry_t *e, double duration_s)
{
    char fails[48], num[16];
    if (e->count > 0)
        snprintf(fails, sizeof(fails), "%" PRIu64 "(%.2f%%)", e->failures,
                 100.0 * (double)e->failures / (double)e->count);
    else
        snprintf(fails, sizeof(fails), "0(0.00%%)");
    fprintf(out, "%-*s %-*.*s %9" PRIu64 " %15s %9.1f |", tw, type, nw, nw, name, e->count,
            fails, duration_s > 0 ? (double)e->count / duration_s : 0.0);
    const hist_t *h = e->latency;
    fmt_ms(num, sizeof(num), (double)hist_min(h) / 1000.0);
    fprintf(out, " %7s", num);
    fmt_ms(num, sizeof(num), hist_mean(h) / 1000.0);
    fprintf(out, " %7s", num);
    for (size_t k = 0; k < N_PCTS; k++) {
        fmt_ms(num, sizeof(num), (double)hist_percentile(h, summary_pcts[k]) / 1000.0);
        fprintf(out, " %7s", num);
    }
    fmt_ms(num, sizeof(num), (double)hist_max(h) / 1000.0);
    fprintf(out, " %7s\n", num);
}

static void print_rule(FILE *out, int width)
{
    for (int i = 0; i < width; i++)
        fputc('-', out);
    fputc('\n', out);
}

typedef struct fail_row {
    uint32_t entry;
    int cat;
    int sub; /* STATS_FAIL_GRPC: the grpc-status; else -1 */
    uint64_t n;
} fail_row_t;

static int fail_row_cmp(const void *a, const void *b)
{
    const fail_row_t *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    if (x->entry != y->entry)
        return x->entry < y->entry ? -1 : 1;
    if (x->cat != y->cat)
        return x->cat - y->cat;
    return x->sub - y->sub;
}

/* The rows of entry e into rows (when not NULL); returns how many. gRPC
 * failures are told by status name ("grpc UNAVAILABLE"). */
static size_t fail_rows(const stats_entry_t *e, uint32_t i, fail_row_t *rows)
{
    size_t k = 0;
    for (int f = 1; f < STATS_FAIL__COUNT; f++) {
        if (e->fail[f] == 0)
            continue;
        uint64_t named = 0;
        if (f == STATS_FAIL_GRPC)
            for (int g = 1; g < GRPC_STATUS__COUNT; g++) {
                if (e->grpc[g] == 0)
                    continue;
                named += e->grpc[g];
                if (rows)
                    rows[k] = (fail_row_t){i, f, g, e->grpc[g]};
                k++;
            }
        if (named < e->fail[f]) {
            if (rows)
                rows[k] = (fail_row_t){i, f, -1, e->fail[f] - named};
            k++;
        }
    }
    return k;
}

static void print_failures(FILE *out, stats_t *s, const stats_names_t *names, int tw, int nw)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += fail_rows(&s->entries[i], (uint32_t)i, NULL);
    if (n == 0)
        return;
    fail_row_t *rows = calloc(n, sizeof(*rows));
    if (rows == NULL)
        return;
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++)
        k += fail_rows(&s->entries[i], (uint32_t)i, rows + k);
    qsort(rows, n, sizeof(*rows), fail_row_cmp);
    fprintf(out, "\nFailures\n%12s %-*s %-*s %s\n", "# occurrences", tw, "Type", nw, "Name",
            "Category");
    print_rule(out, 14 + tw + 1 + nw + 1 + 12);
    for (size_t r = 0; r < n; r++) {
        const char *method = stats_names_method(names, rows[r].entry);
        fprintf(out, "%13" PRIu64 " %-*s %-*.*s %s%s%s\n", rows[r].n, tw, method, nw, nw,
                stats_display_name(method, stats_names_name(names, rows[r].entry)),
                stats_fail_name((stats_fail_t)rows[r].cat), rows[r].sub >= 0 ? " " : "",
                rows[r].sub >= 0 ? grpc_status_name(rows[r].sub) : "");
    }
    free(rows);
    if (s->n_reasons || s->reasons_other) {
        fprintf(out, "\nFailure reasons (script)\n%12s %-*s %-*s %s\n", "# occurrences", tw, "Type",
                nw, "Name", "Reason");
        print_rule(out, 14 + tw + 1 + nw + 1 + 40);
        for (size_t r = 0; r < s->n_reasons; r++) {
            const char *method = stats_names_method(names, s->reasons[r].entry);
            fprintf(out, "%13" PRIu64 " %-*s %-*.*s %s\n", s->reasons[r].n, tw, method, nw, nw,
                    stats_display_name(method, stats_names_name(names, s->reasons[r].entry)),
                    s->reasons[r].text);
        }
        if (s->reasons_other)
            fprintf(out, "%13" PRIu64 " (other reasons: more than %d distinct)\n", s->reasons_other,
                    STATS_REASONS_MAX);
    }
}

void stats_print_summary(FILE *out, stats_t *s, const stats_names_t *names, double duration_s)
{
    int tw = 4, nw = (int)strlen("Aggregated");
    for (size_t i = 0; i < s->n; i++) {
        const char *method = stats_names_method(names, (uint32_t)i);
        int m = (int)strlen(method);
        int l = (int)strlen(stats_display_name(method, stats_names_name(names, (uint32_t)i)));
        tw = m > tw ? m : tw;
        nw = l > nw ? l : nw;
    }
    if (nw > 60)
        nw = 60; /* longer names are cut in the table; the reports keep them whole */
    fprintf(out, "%-*s %-*s %9s %15s %9s |", tw, "Type", nw, "Name", "# reqs", "# fails", "req/s");
    fprintf(out, " %7s %7s %7s %7s %7s %7s %7s %7s  (ms)\n", "min", "avg", "p50", "p90", "p95",
            "p99", "p99.9", "max");
    int width = tw + 1 + nw + 1 + 9 + 1 + 15 + 1 + 9 + 2 + 8 * 8 + 6;
    print_rule(out, width);
    for (size_t i = 0; i < s->n; i++)
        print_row(out, tw, nw, stats_names_method(names, (uint32_t)i),
                  stats_display_name(stats_names_method(names, (uint32_t)i),
                                     stats_names_name(names, (uint32_t)i)),
                  &s->entries[i], duration_s);
    print_rule(out, width);
    print_row(out, tw, nw, "", "Aggregated", stats_total(s), duration_s);
    print_failures(out, s, names, tw, nw);
    if (s->bodies_cut || s->bodies_undecoded)
        fprintf(out, "Response bodies: %" PRIu64 " cut at --max-body (checks and extractors saw the first bytes; "
                "%" PRIu64 " bytes more read and dropped), %" PRIu64 " left coded (Content-Encoding not decodable)\n",
                s->bodies_cut, s->body_bytes_dropped, s->bodies_undecoded);
    if (s->pipeline_depth > 1 || s->pipelined || s->pipeline_resent)
        fprintf(out, "Pipelining (--pipeline %" PRIu32 "): %" PRIu64 " request(s) sent behind another on "
                "their HTTP/1.1 connection, %" PRIu64 " resent after a pipeline broke\n",
                s->pipeline_depth > 1 ? s->pipeline_depth : 1, s->pipelined, s->pipeline_resent);
    if (s->unsolicited)
        fprintf(out, "Unsolicited response bytes: %" PRIu64 " time(s) a server sent bytes that no request "
                "waited for (%" PRIu64 " bytes, dropped; the connection was closed each time)\n",
                s->unsolicited, s->unsolicited_bytes);
    stats_print_lag(out, s);
    const stats_entry_t *tot = stats_total(s);
    if (tot->diff_compared) {
        fprintf(out, "Diff: %" PRIu64 " of %" PRIu64 " response(s) differ from the recording (%.2f%%)",
                tot->diff_mismatched, tot->diff_compared,
                100.0 * (double)tot->diff_mismatched / (double)tot->diff_compared);
        const char *sep = ": ";
        for (int k = 0; k < STATS_DIFF__COUNT; k++)
            if (tot->diff[k]) {
                fprintf(out, "%sdiff %s %" PRIu64, sep, stats_diff_name((stats_diff_t)k), tot->diff[k]);
                sep = ", ";
            }
        fputc('\n', out);
        for (size_t i = 0; i < s->n_examples; i++)
            fprintf(out, "  %s\n", s->examples[i].text);
    }
}

void stats_print_lag(FILE *out, const stats_t *s)
{
    uint64_t n = hist_count(s->lag);
    if (n == 0)
        return;
    char p50[32], p99[32], max[32];
    fmt_ms(p50, sizeof p50, (double)hist_percentile(s->lag, 50) / 1000.0);
    fmt_ms(p99, sizeof p99, (double)hist_percentile(s->lag, 99) / 1000.0);
    fmt_ms(max, sizeof max, (double)hist_max(s->lag) / 1000.0);
    fprintf(out, "Schedule: %" PRIu64 " step(s) started; lag behind schedule p50 %s ms, p99 %s ms, max %s ms\n",
            n, p50, p99, max);
    /* One step in a hundred late by more than STATS_LATE_US: the schedule was not kept. */
    if (s->late * 100 > n)
        fprintf(out, "The replay could not keep the schedule: %" PRIu64 " of %" PRIu64 " step(s) started more "
                "than %u ms late (max %s ms): the target or this machine was too slow\n",
                s->late, n, STATS_LATE_US / 1000, max);
}

/* ---- JSON report */

static double ms(uint64_t us)
{
    return (double)us / 1000.0;
}

static json_t *entry_pack(const char *method, const char *name, const stats_entry_t *e, json_t *fail,
                          json_t *protos, json_t *statuses, json_t *noresp, json_t *lat, const hist_t *h,
                          double c, double duration_s);

/* The figures of one row; statuses come from the table unless entry < 0 (total). */
static json_t *entry_json(stats_t *s, long entry, const char *method, const char *name,
                          const stats_entry_t *e, double duration_s)
{
    json_t *fail = json_object(), *protos = json_object(), *statuses = json_object();
    json_t *noresp = json_object();
    json_t *lat = hist_to_json(e->latency);
    if (fail == NULL || protos == NULL || statuses == NULL || noresp == NULL || lat == NULL)
        goto fail;
    json_t *grpc = NULL;
    for (int g = 0; g < GRPC_STATUS__COUNT; g++)
        if (e->grpc[g] > 0) {
            if (grpc == NULL && (grpc = json_object()) == NULL)
                goto fail;
            json_object_set_new(grpc, grpc_status_name(g), json_integer((json_int_t)e->grpc[g]));
        }
    for (int f = 1; f < STATS_FAIL__COUNT; f++)
        if (e->fail[f] > 0)
            json_object_set_new(fail, stats_fail_name((stats_fail_t)f), json_integer((json_int_t)e->fail[f]));
    for (int p = 0; p < STATS_PROTO__COUNT; p++)
        if (e->by_proto[p] > 0)
            json_object_set_new(protos, stats_proto_name((stats_proto_t)p),
                                json_integer((json_int_t)e->by_proto[p]));
    size_t first = entry < 0 ? 0 : (size_t)entry, last = entry < 0 ? s->n : (size_t)entry + 1;
    for (int k = 1; k < STATS_STATUS_MAX + STATS_FAIL__COUNT; k++) {
        uint64_t n = 0;
        for (size_t i = first; i < last; i++)
            for (int p = 0; p < STATS_PROTO__COUNT; p++)
                n += *slot(s, (uint32_t)i, p, k);
        if (n == 0)
            continue;
        char key[16];
        if (k < STATS_STATUS_MAX) {
            snprintf(key, sizeof(key), "%d", k);
            json_object_set_new(statuses, key, json_integer((json_int_t)n));
        } else {
            json_object_set_new(noresp, stats_fail_name((stats_fail_t)(k - STATS_STATUS_MAX)),
                                json_integer((json_int_t)n));
        }
    }
    const hist_t *h = e->latency;
    double c = (double)e->count;
    json_t *r = entry_pack(method, name, e, fail, protos, statuses, noresp, lat, h, c, duration_s);
    /* Only entries that saw gRPC responses carry "grpc_status": HTTP reports stay as they were. */
    if (r != NULL && grpc != NULL)
        json_object_set_new(r, "grpc_status", grpc);
    else
        json_decref(grpc);
    if (r && e->diff_compared) {
        json_t *d = json_pack("{s:I, s:I}", "compared", (json_int_t)e->diff_compared, "mismatched",
                              (json_int_t)e->diff_mismatched);
        for (int k = 0; d && k < STATS_DIFF__COUNT; k++)
            if (e->diff[k])
                json_object_set_new(d, stats_diff_name((stats_diff_t)k), json_integer((json_int_t)e->diff[k]));
        json_object_set_new(r, "diff", d);
    }
    return r;
fail:
    json_decref(fail);
    json_decref(protos);
    json_decref(statuses);
    json_decref(noresp);
    json_decref(lat);
    return NULL;
}

static json_t *entry_pack(const char *method, const char *name, const stats_entry_t *e, json_t *fail,
                          json_t *protos, json_t *statuses, json_t *noresp, json_t *lat, const hist_t *h,
                          double c, double duration_s)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:I, s:I, s:f, s:f,"
                     " s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:o}",
                     "method", method, "name", name, "count", (json_int_t)e->count,
                     "failures", (json_int_t)e->failures, "fail", fail, "protocols", protos,
                     "statuses", statuses, "no_response", noresp,
                     "bytes_sent", (json_int_t)e->bytes_sent,
                     "bytes_received", (json_int_t)e->bytes_received,
                     "rps", duration_s > 0 ? c / duration_s : 0.0,
                     "failure_ratio", c > 0 ? (double)e->failures / c : 0.0,
                     "min_ms", ms(hist_min(h)), "avg_ms", hist_mean(h) / 1000.0,
                     "p50_ms", ms(hist_percentile(h, 50)), "p90_ms", ms(hist_percentile(h, 90)),
                     "p95_ms", ms(hist_percentile(h, 95)), "p99_ms", ms(hist_percentile(h, 99)),
                     "p99.9_ms", ms(hist_percentile(h, 99.9)), "max_ms", ms(hist_max(h)),
                     "latency", lat);
}

static json_t *history_json(const stats_history_t *h)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && h != NULL && i < h->n; i++) {
        const stats_second_t *r = &h->rows[i];
        json_t *row = json_pack("{s:f, s:I, s:I, s:f, s:f, s:I, s:I, s:I, s:f, s:f}", "t", r->t,
                                "users", (json_int_t)r->users, "target_users",
                                (json_int_t)r->target_users, "rps", r->rps, "fails_per_s",
                                r->fails_per_s, "p50_us", (json_int_t)r->p50_us, "p95_us",
                                (json_int_t)r->p95_us, "p99_us", (json_int_t)r->p99_us,
                                "iterations_per_s", r->iterations_per_s, "target_rate",
                                r->target_rate);
        if (row != NULL && r->lat_text != NULL &&
            json_object_set_new(row, "latency",
                                json_pack("{s:I, s:I, s:s}", "min_us", (json_int_t)r->lat_min_us,
                                          "max_us", (json_int_t)r->lat_max_us, "runs",
                                          r->lat_text)) < 0) {
            json_decref(row);
            row = NULL;
        }
        if (row == NULL || json_array_append_new(a, row) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static void iso8601(int64_t wall_us, char *buf, size_t len)
{
    time_t t = (time_t)(wall_us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03dZ", (int)(wall_us % 1000000 / 1000));
}

json_t *stats_report_json(stats_t *s, const stats_names_t *names, const stats_history_t *h,
                          double duration_s, int64_t started_wall_us, json_t *meta)
{
    char started[40];
    iso8601(started_wall_us, started, sizeof(started));
    json_t *entries = json_array();
    if (entries == NULL)
        return NULL;
    for (size_t i = 0; i < s->n; i++) {
        json_t *e = entry_json(s, (long)i, stats_names_method(names, (uint32_t)i),
                               stats_names_name(names, (uint32_t)i), &s->entries[i], duration_s);
        if (e == NULL || json_array_append_new(entries, e) < 0) {
            json_decref(entries);
            return NULL;
        }
    }
    json_t *total = entry_json(s, -1, "", "Aggregated", stats_total(s), duration_s);
    json_t *hist = history_json(h);
    json_t *r = json_pack("{s:s, s:i, s:s, s:I, s:f, s:o, s:o*, s:{s:I, s:I}, s:{s:I, s:I, s:I}, "
                          "s:{s:I, s:I}, s:o*}",
                          "format", "aiotest-report", "version", 1, "started", started,
                          "started_unix_us", (json_int_t)started_wall_us,
                          "duration_s", duration_s, "entries", entries, "total", total,
                          "iterations", "started", (json_int_t)s->it_started, "completed",
                          (json_int_t)s->it_completed, "bodies", "cut", (json_int_t)s->bodies_cut,
                          "undecoded", (json_int_t)s->bodies_undecoded, "dropped_bytes",
                          (json_int_t)s->body_bytes_dropped, "unsolicited", "events",
                          (json_int_t)s->unsolicited, "bytes", (json_int_t)s->unsolicited_bytes,
                          "history", hist);
    if (r == NULL || total == NULL || hist == NULL) {
        json_decref(r);
        return NULL;
    }
    if (s->pipeline_depth > 1 || s->pipelined || s->pipeline_resent)
        json_object_set_new(r, "pipeline",
                            json_pack("{s:I, s:I, s:I}", "depth",
                                      (json_int_t)(s->pipeline_depth > 1 ? s->pipeline_depth : 1),
                                      "pipelined", (json_int_t)s->pipelined, "resent",
                                      (json_int_t)s->pipeline_resent));
    if (s->n_reasons || s->reasons_other) {
        json_t *fr = json_array();
        for (size_t i = 0; fr && i < s->n_reasons; i++)
            json_array_append_new(fr, json_pack("{s:s, s:s, s:s, s:s, s:I}", "method",
                stats_names_method(names, s->reasons[i].entry), "name",
                stats_names_name(names, s->reasons[i].entry), "category", "script", "reason",
                s->reasons[i].text, "count", (json_int_t)s->reasons[i].n));
        if (fr)
            json_object_set_new(r, "failure_reasons", fr);
        if (s->reasons_other)
            json_object_set_new(r, "failure_reasons_other", json_integer((json_int_t)s->reasons_other));
    }
    const stats_entry_t *tot = stats_total(s);
    if (tot->diff_compared > 0) {
        json_t *kinds = json_object(), *ex = json_array();
        for (int k = 0; k < STATS_DIFF__COUNT; k++)
            json_object_set_new(kinds, stats_diff_name((stats_diff_t)k), json_integer((json_int_t)tot->diff[k]));
        for (size_t i = 0; i < s->n_examples; i++)
            json_array_append_new(ex, json_pack("{s:s, s:s, s:s}", "method",
                                                stats_names_method(names, s->examples[i].entry), "name",
                                                stats_names_name(names, s->examples[i].entry), "example",
                                                s->examples[i].text));
        json_object_set_new(r, "diff",
                            json_pack("{s:I, s:I, s:f, s:o, s:o}", "compared", (json_int_t)tot->diff_compared,
                                      "mismatched", (json_int_t)tot->diff_mismatched, "mismatched_percent",
                                      100.0 * (double)tot->diff_mismatched / (double)tot->diff_compared,
                                      "kinds", kinds, "examples", ex));
    }
    if (hist_count(s->lag) > 0) {
        const hist_t *l = s->lag;
        json_object_set_new(r, "schedule",
                            json_pack("{s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:b}", "steps", (json_int_t)hist_count(l),
                                      "late", (json_int_t)s->late, "late_threshold_ms",
                                      (json_int_t)(STATS_LATE_US / 1000), "lag_p50_ms",
                                      ms(hist_percentile(l, 50)), "lag_p99_ms", ms(hist_percentile(l, 99)),
                                      "lag_max_ms", ms(hist_max(l)), "lag_avg_ms", hist_mean(l) / 1000.0,
                                      "kept", !(s->late * 100 > hist_count(l))));
    }
    if (meta != NULL)
        json_object_update_missing(r, meta);
    return r;
}

/* ---- loading a report back */

#define LOAD_FAIL(...)                                \
    do {                                              \
        snprintf(err, errlen, __VA_ARGS__);           \
        goto fail;                                    \
    } while (0)

static int get_count(const json_t *obj, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* Fills entry i of s from the report's entries[i]. */
static int load_entry(stats_t *s, uint32_t i, const json_t *je, char *err, size_t errlen)
{
    stats_entry_t *e = &s->entries[i];
    char herr[200];
    const char *key;
    json_t *v;
    if (get_count(je, "count", &e->count) < 0 || get_count(je, "bytes_sent", &e->bytes_sent) < 0 ||
        get_count(je, "bytes_received", &e->bytes_received) < 0)
        LOAD_FAIL("report: entries[%u]: count, bytes_sent and bytes_received must be integers >= 0", i);
    json_t *dj = json_object_get(je, "diff");
    if (dj) {
        if (get_count(dj, "compared", &e->diff_compared) < 0 || get_count(dj, "mismatched", &e->diff_mismatched) < 0)
            LOAD_FAIL("report: entries[%u].diff: compared and mismatched must be integers >= 0", i);
        for (int k = 0; k < STATS_DIFF__COUNT; k++)
            if (json_object_get(dj, stats_diff_name((stats_diff_t)k)) &&
                get_count(dj, stats_diff_name((stats_diff_t)k), &e->diff[k]) < 0)
                LOAD_FAIL("report: entries[%u].diff.%s: expected an integer >= 0", i,
                          stats_diff_name((stats_diff_t)k));
    }
    json_t *fail = json_object_get(je, "fail");
    if (!json_is_object(fail))
        LOAD_FAIL("report: entries[%u].fail: expected an object {category: count}", i);
    json_object_foreach(fail, key, v) {
        int f = stats_fail_from_name(key);
        if (f <= 0 || !json_is_integer(v) || json_integer_value(v) < 0)
            LOAD_FAIL("report: entries[%u].fail.%s: unknown category or bad count", i, key);
        e->fail[f] = (uint64_t)json_integer_value(v);
        e->failures += e->fail[f];
    }
    json_t *protos = json_object_get(je, "protocols");
    if (!json_is_object(protos))
        LOAD_FAIL("report: entries[%u].protocols: expected an object {protocol: count}", i);
    int main_proto = STATS_PROTO_H1;
    json_object_foreach(protos, key, v) {
        int p = stats_proto_from_name(key);
        if (p < 0 || !json_is_integer(v) || json_integer_value(v) < 0)
            LOAD_FAIL("report: entries[%u].protocols.%s: unknown protocol or bad count", i, key);
        e->by_proto[p] = (uint64_t)json_integer_value(v);
    }
    /* The report keeps statuses per entry, not per protocol: they go back
     * under the protocol that carried most of the entry's requests. */
    if (e->by_proto[STATS_PROTO_H2] > e->by_proto[STATS_PROTO_H1])
        main_proto = STATS_PROTO_H2;
    json_t *statuses = json_object_get(je, "statuses");
    if (!json_is_object(statuses))
        LOAD_FAIL("report: entries[%u].statuses: expected an object {\"200\": count}", i);
    json_object_foreach(statuses, key, v) {
        char *end;
        long st = strtol(key, &end, 10);
        if (*end != '\0' || st <= 0 || st >= STATS_STATUS_MAX || !json_is_integer(v) ||
            json_integer_value(v) < 0)
            LOAD_FAIL("report: entries[%u].statuses.%s: expected a status code and a count", i, key);
        *slot(s, i, main_proto, (int)st) += (uint64_t)json_integer_value(v);
    }
    json_t *noresp = json_object_get(je, "no_response");
    json_object_foreach(noresp, key, v) {
        int f = stats_fail_from_name(key);
        if (f < 0 || !json_is_integer(v) || json_integer_value(v) < 0)
            LOAD_FAIL("report: entries[%u].no_response.%s: unknown category or bad count", i, key);
        *slot(s, i, main_proto, STATS_STATUS_MAX + f) += (uint64_t)json_integer_value(v);
    }
    json_t *grpc = json_object_get(je, "grpc_status");
    if (grpc != NULL && !json_is_object(grpc))
        LOAD_FAIL("report: entries[%u].grpc_status: expected an object {\"UNAVAILABLE\": count}", i);
    json_object_foreach(grpc, key, v) {
        int g = grpc_status_from_name(key);
        if (g < 0 || !json_is_integer(v) || json_integer_value(v) < 0)
            LOAD_FAIL("report: entries[%u].grpc_status.%s: unknown status name or bad count", i, key);
        e->grpc[g] = (uint64_t)json_integer_value(v);
    }
    hist_t *h = hist_from_json(json_object_get(je, "latency"), herr, sizeof(herr));
    if (h == NULL)
        LOAD_FAIL("report: entries[%u].latency: %s", i, herr);
    hist_merge(e->latency, h);
    hist_free(h);
    if (hist_count(e->latency) != e->count)
        LOAD_FAIL("report: entries[%u]: latency holds %" PRIu64 " values, count is %" PRIu64, i,
                  hist_count(e->latency), e->count);
    return 0;
fail:
    return -1;
}

static int load_history(const json_t *a, stats_history_t *h, char *err, size_t errlen)
{
    size_t i;
    json_t *row;
    if (a == NULL)
        return 0;
    if (!json_is_array(a))
        LOAD_FAIL("report: history: expected an array");
    json_array_foreach(a, i, row) {
        json_int_t users, target, p50, p95, p99;
        stats_second_t r = {0};
        /* target_rate came later: older reports lack it (0). */
        if (json_unpack(row, "{s:F, s:I, s:I, s:F, s:F, s:I, s:I, s:I, s:F, s?F}", "t", &r.t,
                        "users", &users, "target_users", &target, "rps", &r.rps, "fails_per_s",
                        &r.fails_per_s, "p50_us", &p50, "p95_us", &p95, "p99_us", &p99,
                        "iterations_per_s", &r.iterations_per_s, "target_rate",
                        &r.target_rate) < 0)
            LOAD_FAIL("report: history[%zu]: expected {t, users, target_users, rps, fails_per_s, "
                      "p50_us, p95_us, p99_us, iterations_per_s}", i);
        r.users = (uint32_t)users;
        r.target_users = (uint32_t)target;
        r.p50_us = (uint64_t)p50;
        r.p95_us = (uint64_t)p95;
        r.p99_us = (uint64_t)p99;
        if (i > 0 && r.t < h->rows[h->n - 1].t)
            LOAD_FAIL("report: history[%zu]: t %.3f is before the previous row's", i, r.t);
        /* latency came later: without it, a merge falls back to the highest
         * of the inputs' percentiles. */
        json_t *lat = json_object_get(row, "latency");
        if (lat != NULL) {
            json_int_t lo, hi;
            const char *text;
            char why[160];
            if (json_unpack(lat, "{s:I, s:I, s:s}", "min_us", &lo, "max_us", &hi, "runs",
                            &text) < 0 || lo < 0 || hi < 0)
                LOAD_FAIL("report: history[%zu].latency: expected {min_us, max_us, runs}", i);
            if (hist_runs_add_text(NULL, text, (uint64_t)lo, (uint64_t)hi, why, sizeof why) < 0)
                LOAD_FAIL("report: history[%zu].latency: %s", i, why);
            if ((r.lat_text = strdup(text)) == NULL)
                LOAD_FAIL("report: history: out of memory");
            r.lat_min_us = (uint64_t)lo;
            r.lat_max_us = (uint64_t)hi;
        }
        if (history_push(h, &r) < 0) {
            free(r.lat_text);
            LOAD_FAIL("report: history: out of memory");
        }
    }
    return 0;
fail:
    return -1;
}

int stats_report_load(const json_t *report, stats_names_t **names_out, stats_t **stats_out,
                      stats_history_t **history_out, double *duration_s, char *err, size_t errlen)
{
    stats_names_t *names = stats_names_new();
    stats_t *s = NULL;
    stats_history_t *h = stats_history_new();
    size_t i;
    json_t *je;
    if (names == NULL || h == NULL)
        LOAD_FAIL("report: out of memory");
    const char *format = json_string_value(json_object_get(report, "format"));
    if (format == NULL || strcmp(format, "aiotest-report") != 0)
        LOAD_FAIL("report: \"format\" must be \"aiotest-report\"");
    if (json_integer_value(json_object_get(report, "version")) != 1)
        LOAD_FAIL("report: \"version\" must be 1");
    json_t *dur = json_object_get(report, "duration_s");
    if (!json_is_number(dur) || json_number_value(dur) < 0)
        LOAD_FAIL("report: \"duration_s\" must be a number >= 0");
    json_t *entries = json_object_get(report, "entries");
    if (!json_is_array(entries))
        LOAD_FAIL("report: \"entries\" must be an array");
    json_array_foreach(entries, i, je) {
        const char *m = json_string_value(json_object_get(je, "method"));
        const char *n = json_string_value(json_object_get(je, "name"));
        if (m == NULL || n == NULL)
            LOAD_FAIL("report: entries[%zu]: \"method\" and \"name\" must be strings", i);
        int at = stats_names_intern(names, m, n);
        if (at < 0)
            LOAD_FAIL("report: out of memory");
        if ((size_t)at != i)
            LOAD_FAIL("report: entries[%zu]: %s %s appears twice", i, m, n);
    }
    if ((s = stats_new(names)) == NULL)
        LOAD_FAIL("report: out of memory");
    json_array_foreach(entries, i, je)
        if (load_entry(s, (uint32_t)i, je, err, errlen) < 0)
            goto fail;
    json_t *it = json_object_get(report, "iterations");
    if (it != NULL && (get_count(it, "started", &s->it_started) < 0 ||
                       get_count(it, "completed", &s->it_completed) < 0))
        LOAD_FAIL("report: iterations: expected {started, completed} integers");
    json_t *bo = json_object_get(report, "bodies");
    if (bo != NULL && (get_count(bo, "cut", &s->bodies_cut) < 0 || get_count(bo, "undecoded", &s->bodies_undecoded) < 0 ||
                       get_count(bo, "dropped_bytes", &s->body_bytes_dropped) < 0))
        LOAD_FAIL("report: bodies: expected {cut, undecoded, dropped_bytes} integers");
    json_t *pl = json_object_get(report, "pipeline");
    uint64_t depth = 0;
    if (pl != NULL && (get_count(pl, "depth", &depth) < 0 || depth > UINT32_MAX ||
                       get_count(pl, "pipelined", &s->pipelined) < 0 ||
                       get_count(pl, "resent", &s->pipeline_resent) < 0))
        LOAD_FAIL("report: pipeline: expected {depth, pipelined, resent} integers");
    s->pipeline_depth = (uint32_t)depth;
    json_t *un = json_object_get(report, "unsolicited");
    if (un != NULL && (get_count(un, "events", &s->unsolicited) < 0 ||
                       get_count(un, "bytes", &s->unsolicited_bytes) < 0))
        LOAD_FAIL("report: unsolicited: expected {events, bytes} integers");
    if (load_history(json_object_get(report, "history"), h, err, errlen) < 0)
        goto fail;
    *names_out = names;
    *stats_out = s;
    if (history_out != NULL)
        *history_out = h;
    else
        stats_history_free(h);
    if (duration_s != NULL)
        *duration_s = json_number_value(dur);
    return 0;
fail:
    stats_free(s);
    stats_history_free(h);
    stats_names_free(names);
    return -1;
}

int stats_report_write(const json_t *report, const char *path, char *err, size_t errlen)
{
    if (json_dump_file(report, path, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) < 0) {
        snprintf(err, errlen, "%s: cannot write the report: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

json_t *stats_report_read(const char *path, char *err, size_t errlen)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (j == NULL)
        snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    return j;
}

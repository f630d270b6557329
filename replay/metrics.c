/* metrics: /metrics in the Prometheus text format 0.0.4, served by
 * libmicrohttpd on its own thread. The run's part of the page is rendered by
 * the main thread in metrics_publish and swapped in under a mutex; a scrape
 * copies it and appends the process metrics of that moment. */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <time.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "smetric.h"
#include "url.h"
#ifdef AIOTEST_HAVE_RWRITE
#include "rwrite.h"
#endif

struct metrics {
    struct MHD_Daemon *d;
    pthread_mutex_t lock;
    pthread_cond_t scraped;   /* signalled when final_sent grows */
    char *page; /* guarded by lock */
    size_t page_len;
    bool final;               /* guarded by lock: page is the run's last (metrics_linger) */
    unsigned final_sent;      /* guarded by lock: scrapes of the last page sent completely */
    /* Copies of the names, so the page never reads the engine's tables. */
    char **method, **name;
    size_t n_names;
    char **classes;
    size_t n_classes;
    rwrite_t *remote; /* --remote-write: each published page is pushed; not owned */
};

/* Latency buckets for web requests, in µs, with their label text. */
static const struct {
    uint64_t us;
    const char *le;
} buckets[] = {
    {5000, "0.005"},   {10000, "0.01"},   {25000, "0.025"},   {50000, "0.05"},
    {75000, "0.075"},  {100000, "0.1"},   {250000, "0.25"},   {500000, "0.5"},
    {750000, "0.75"},  {1000000, "1"},    {2500000, "2.5"},   {5000000, "5"},
    {7500000, "7.5"},  {10000000, "10"},  {30000000, "30"},   {60000000, "60"},
};
#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

/* A label value as the exposition format wants it: \\, \" and \n escaped. */
static void put_label(FILE *f, const char *key, const char *v, bool first)
{
    fprintf(f, "%s%s=\"", first ? "" : ",", key);
    for (; *v != '\0'; v++) {
        if (*v == '\\' || *v == '"')
            fputc('\\', f), fputc(*v, f);
        else if (*v == '\n')
            fputs("\\n", f);
        else
            fputc(*v, f);
    }
    fputc('"', f);
}

static void put_head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Entries on the page: the names copied at start, as far as s has them. */
static size_t n_of(const metrics_t *m, const stats_t *s)
{
    size_t n = stats_entries(s);
    return n < m->n_names ? n : m->n_names;
}

/* name{name="..",method=".." then the caller's labels, closed by the caller. */
static void put_entry(FILE *f, const metrics_t *m, const char *metric, size_t i)
{
    fprintf(f, "%s{", metric);
    put_label(f, "name", m->name[i], true);
    put_label(f, "method", m->method[i], false);
}

static void render_requests(FILE *f, const metrics_t *m, const stats_t *s)
{
    put_head(f, "aiotest_requests_total", "counter",
             "Requests ended, by HTTP status, or by failure category when there was no response.");
    for (size_t i = 0; i < n_of(m, s); i++) {
        for (int p = 0; p < STATS_PROTO__COUNT; p++) {
            const char *proto = stats_proto_name((stats_proto_t)p);
            for (int st = 1; st < STATS_STATUS_MAX; st++) {
                uint64_t n = stats_status_count_proto(s, (uint32_t)i, (stats_proto_t)p, st);
                if (n == 0)
                    continue;
                char code[8];
                snprintf(code, sizeof(code), "%d", st);
                put_entry(f, m, "aiotest_requests_total", i);
                put_label(f, "protocol", proto, false);
                put_label(f, "status", code, false);
                fprintf(f, "} %" PRIu64 "\n", n);
            }
            for (int c = 0; c < STATS_FAIL__COUNT; c++) {
                uint64_t n = stats_noresp_count(s, (uint32_t)i, (stats_proto_t)p, (stats_fail_t)c);
                if (n == 0)
                    continue;
                put_entry(f, m, "aiotest_requests_total", i);
                put_label(f, "protocol", proto, false);
                put_label(f, "status", stats_fail_name((stats_fail_t)c), false);
                fprintf(f, "} %" PRIu64 "\n", n);
            }
        }
    }
    put_head(f, "aiotest_request_failures_total", "counter",
             "Failed requests by category (connect, timeout, reset, tls, http, check, ...).");
    for (size_t i = 0; i < n_of(m, s); i++) {
        const stats_entry_t *e = stats_entry(s, (uint32_t)i);
        for (int c = 1; c < STATS_FAIL__COUNT; c++) {
            if (e->fail[c] == 0)
                continue;
            put_entry(f, m, "aiotest_request_failures_total", i);
            put_label(f, "category", stats_fail_name((stats_fail_t)c), false);
            fprintf(f, "} %" PRIu64 "\n", e->fail[c]);
        }
    }
}

/* base_bucket{[name,method,]le=".."}, base_sum and base_count of h in seconds;
 * entry < 0: a histogram without labels. */
static void put_histogram(FILE *f, const metrics_t *m, const char *base, long entry, const hist_t *h)
{
    uint64_t bounds[N_BUCKETS], le[N_BUCKETS];
    char name[96];
    for (size_t b = 0; b < N_BUCKETS; b++)
        bounds[b] = buckets[b].us;
    hist_count_le_many(h, bounds, N_BUCKETS, le);
    snprintf(name, sizeof name, "%s_bucket", base);
    for (size_t b = 0; b <= N_BUCKETS; b++) {
        if (entry >= 0) {
            put_entry(f, m, name, (size_t)entry);
            fputc(',', f);
        } else {
            fprintf(f, "%s{", name);
        }
        fprintf(f, "le=\"%s\"} %" PRIu64 "\n", b < N_BUCKETS ? buckets[b].le : "+Inf",
                b < N_BUCKETS ? le[b] : hist_count(h));
    }
    snprintf(name, sizeof name, "%s_sum", base);
    if (entry >= 0) {
        put_entry(f, m, name, (size_t)entry);
        fputc('}', f);
    } else {
        fputs(name, f);
    }
    fprintf(f, " %.6f\n", (double)hist_sum(h) / 1e6);
    snprintf(name, sizeof name, "%s_count", base);
    if (entry >= 0) {
        put_entry(f, m, name, (size_t)entry);
        fputc('}', f);
    } else {
        fputs(name, f);
    }
    fprintf(f, " %" PRIu64 "\n", hist_count(h));
}

static void render_latency(FILE *f, const metrics_t *m, const stats_t *s)
{
    put_head(f, "aiotest_request_duration_seconds", "histogram",
             "Request latency from the (scheduled) start to the end of the response.");
    for (size_t i = 0; i < n_of(m, s); i++)
        put_histogram(f, m, "aiotest_request_duration_seconds", (long)i,
                      stats_entry(s, (uint32_t)i)->latency);
}

static void render_bytes(FILE *f, const metrics_t *m, const stats_t *s)
{
    put_head(f, "aiotest_bytes_sent_total", "counter", "Request bytes written (headers and body).");
    for (size_t i = 0; i < n_of(m, s); i++) {
        put_entry(f, m, "aiotest_bytes_sent_total", i);
        fprintf(f, "} %" PRIu64 "\n", stats_entry(s, (uint32_t)i)->bytes_sent);
    }
    put_head(f, "aiotest_bytes_received_total", "counter", "Response bytes read (headers and body).");
    for (size_t i = 0; i < n_of(m, s); i++) {
        put_entry(f, m, "aiotest_bytes_received_total", i);
        fprintf(f, "} %" PRIu64 "\n", stats_entry(s, (uint32_t)i)->bytes_received);
    }
}

static void put_counter(FILE *f, const char *name, const char *help, uint64_t v)
{
    put_head(f, name, "counter", help);
    fprintf(f, "%s %" PRIu64 "\n", name, v);
}

/* What the replay could not do or did specially, as the report's bodies,
 * unsolicited, pipeline and schedule count it; 0 until it happens, so a
 * dashboard's query has its series from the first scrape. */
static void render_notes(FILE *f, const stats_t *s)
{
    put_counter(f, "aiotest_bodies_cut_total",
                "Response bodies cut at --max-body (checks and extractors saw the first bytes).",
                stats_bodies_cut(s));
    put_counter(f, "aiotest_bodies_undecoded_total",
                "Response bodies left coded: a Content-Encoding that could not be undone.",
                stats_bodies_undecoded(s));
    put_counter(f, "aiotest_body_bytes_dropped_total",
                "Response body bytes read past --max-body and dropped.", stats_body_bytes_dropped(s));
    put_counter(f, "aiotest_unsolicited_events_total",
                "Reads of HTTP/1.1 response bytes that no request waited for (each closed its connection).",
                stats_unsolicited_events(s));
    put_counter(f, "aiotest_unsolicited_bytes_total",
                "HTTP/1.1 response bytes that no request waited for, dropped.",
                stats_unsolicited_bytes(s));
    put_counter(f, "aiotest_pipelined_requests_total",
                "Request attempts sent behind another on their HTTP/1.1 connection (--pipeline).",
                stats_pipelined(s));
    put_counter(f, "aiotest_pipeline_resent_total",
                "Requests sent again because their pipeline broke before their response began.",
                stats_pipeline_resent(s));
    put_counter(f, "aiotest_schedule_steps_total",
                "Timed replay: steps started (each at or after its due time).",
                hist_count(stats_lag_hist(s)));
    char help[96];
    snprintf(help, sizeof help, "Timed replay: steps started more than %u ms behind their due time.",
             STATS_LATE_US / 1000);
    put_counter(f, "aiotest_schedule_late_steps_total", help, stats_late(s));
    /* 19 series: only for a timed replay, once a step started. */
    if (hist_count(stats_lag_hist(s)) == 0)
        return;
    put_head(f, "aiotest_schedule_lag_seconds", "histogram",
             "Timed replay: how far behind their due time steps started.");
    put_histogram(f, NULL, "aiotest_schedule_lag_seconds", -1, stats_lag_hist(s));
}

/* --diff: per entry the responses compared with the recording, those that
 * differed, and by what (a response may differ in several ways). Only entries
 * with a comparison have series; none without --diff. */
static void render_diff(FILE *f, const metrics_t *m, const stats_t *s)
{
    bool any = false;
    for (size_t i = 0; i < n_of(m, s); i++)
        any = any || stats_entry(s, (uint32_t)i)->diff_compared > 0;
    if (!any)
        return;
    put_head(f, "aiotest_diff_compared_total", "counter",
             "--diff: responses compared with the recorded ones.");
    for (size_t i = 0; i < n_of(m, s); i++) {
        const stats_entry_t *e = stats_entry(s, (uint32_t)i);
        if (e->diff_compared == 0)
            continue;
        put_entry(f, m, "aiotest_diff_compared_total", i);
        fprintf(f, "} %" PRIu64 "\n", e->diff_compared);
    }
    put_head(f, "aiotest_diff_mismatched_total", "counter",
             "--diff: responses that differed from the recorded ones in any way.");
    for (size_t i = 0; i < n_of(m, s); i++) {
        const stats_entry_t *e = stats_entry(s, (uint32_t)i);
        if (e->diff_compared == 0)
            continue;
        put_entry(f, m, "aiotest_diff_mismatched_total", i);
        fprintf(f, "} %" PRIu64 "\n", e->diff_mismatched);
    }
    put_head(f, "aiotest_diff_kind_total", "counter",
             "--diff: responses that differed in that way (status, type, shape, values, length).");
    for (size_t i = 0; i < n_of(m, s); i++) {
        const stats_entry_t *e = stats_entry(s, (uint32_t)i);
        for (int k = 0; k < STATS_DIFF__COUNT; k++) {
            if (e->diff[k] == 0)
                continue;
            put_entry(f, m, "aiotest_diff_kind_total", i);
            put_label(f, "kind", stats_diff_name((stats_diff_t)k), false);
            fprintf(f, "} %" PRIu64 "\n", e->diff[k]);
        }
    }
}

static void render_state(FILE *f, const metrics_t *m, const stats_t *s, const metrics_state_t *st)
{
    put_head(f, "aiotest_users", "gauge", "Running virtual users per user class.");
    for (size_t c = 0; c < m->n_classes; c++) {
        fprintf(f, "aiotest_users{");
        put_label(f, "class", m->classes[c], true);
        fprintf(f, "} %" PRIu32 "\n", st && st->users_per_class ? st->users_per_class[c] : 0);
    }
    put_head(f, "aiotest_target_users", "gauge",
             "Users the shape wants now, this segment's share (sum over segments: the shape's).");
    fprintf(f, "aiotest_target_users %" PRIu32 "\n", st ? st->target_users : 0);
    put_head(f, "aiotest_iterations_total", "counter",
             "Iterations (one pass of a class's tasks) started and completed.");
    fprintf(f, "aiotest_iterations_total{state=\"started\"} %" PRIu64 "\n",
            s ? stats_iterations_started(s) : 0);
    fprintf(f, "aiotest_iterations_total{state=\"completed\"} %" PRIu64 "\n",
            s ? stats_iterations_completed(s) : 0);
    put_head(f, "aiotest_stage", "gauge", "Current stage of the shape, 1-based; 0 after the run.");
    fprintf(f, "aiotest_stage %d\n", st ? st->stage : 0);
    put_head(f, "aiotest_target_rate", "gauge",
             "Open model: iterations per second wanted now, this segment's share, else 0.");
    fprintf(f, "aiotest_target_rate %g\n", st ? st->target_rate : 0.0);
    put_head(f, "aiotest_elapsed_seconds", "gauge", "Seconds since the run started.");
    fprintf(f, "aiotest_elapsed_seconds %.3f\n", st ? st->elapsed_s : 0.0);
}

/* The shortest of %.15g / %.17g that reads back as v ("0.1", not
 * "0.10000000000000001"). */
static const char *num(char *buf, size_t len, double v)
{
    snprintf(buf, len, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, len, "%.17g", v);
    return buf;
}

/* One sample of a script series: metric{labels[,le=".."]} value. */
static void put_script(FILE *f, const char *metric, const char *suffix, const smet_values_t *v,
                       const char *le, double value)
{
    char nb[40];
    fprintf(f, "%s%s", metric, suffix);
    if (v->n_labels || le) {
        fputc('{', f);
        for (size_t k = 0; k < v->n_labels; k++)
            put_label(f, v->labels[k].name, v->labels[k].value, k == 0);
        if (le)
            put_label(f, "le", le, v->n_labels == 0);
        fputc('}', f);
    }
    fprintf(f, " %s\n", num(nb, sizeof nb, value));
}

/* The Lua script's metric.counter / metric.histogram series, summed over the
 * threads now (aiotest_script_NAME[_total], histograms with _bucket/_sum/_count). */
static void render_script(FILE *f, const smet_t *sm)
{
    size_t n = smet_metrics(sm);
    if (n == 0)
        return;
    char name[160], le[40];
    for (size_t i = 0; i < n; i++) {
        smet_info_t in;
        smet_metric(sm, i, &in);
        bool counter = in.kind == SMET_COUNTER;
        snprintf(name, sizeof name, "aiotest_script_%s%s", in.name, counter ? "_total" : "");
        put_head(f, name, counter ? "counter" : "histogram", "Defined by the Lua script (metric.*).");
        for (size_t j = 0; j < in.n_series; j++) {
            smet_values_t v;
            double b[SMET_BUCKETS_MAX + 1];
            smet_read(sm, i, j, &v, b);
            if (counter) {
                put_script(f, name, "", &v, NULL, v.value);
                continue;
            }
            for (size_t k = 0; k <= in.nb; k++)
                put_script(f, name, "_bucket", &v, k < in.nb ? num(le, sizeof le, in.bounds[k]) : "+Inf",
                           b[k]);
            put_script(f, name, "_sum", &v, NULL, v.sum);
            put_script(f, name, "_count", &v, NULL, v.count);
        }
    }
    put_head(f, "aiotest_script_updates_refused_total", "counter",
             "Updates of script metrics lost: their label set came past the bound per metric.");
    for (size_t i = 0; i < n; i++) {
        smet_info_t in;
        smet_metric(sm, i, &in);
        smet_values_t v = {.labels = &(smet_label_t){"metric", in.name}, .n_labels = 1};
        put_script(f, "aiotest_script_updates_refused_total", "", &v, NULL, in.refused);
    }
}

/* Renders the run's part of the page; NULL stats and state give zeros. */
static char *render(const metrics_t *m, const stats_t *s, const metrics_state_t *st, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (f == NULL)
        return NULL;
    if (s != NULL) {
        render_requests(f, m, s);
        render_latency(f, m, s);
        render_bytes(f, m, s);
        render_notes(f, s);
        render_diff(f, m, s);
    }
    render_state(f, m, s, st);
    if (st && st->script)
        render_script(f, st->script);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---- process metrics, read from /proc at scrape time */

static void render_process(FILE *f)
{
    char line[1024];
    long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    unsigned long long utime = 0, stime = 0, start = 0, rss = 0, btime = 0;
    FILE *p = fopen("/proc/self/stat", "r");
    if (p != NULL && fgets(line, sizeof(line), p) != NULL) {
        /* Fields after the ")" that ends the command name: 3 is state. */
        char *r = strrchr(line, ')');
        if (r == NULL ||
            sscanf(r + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d"
                          " %*d %*d %llu %*u %llu", &utime, &stime, &start, &rss) != 4)
            utime = stime = start = rss = 0;
    }
    if (p != NULL)
        fclose(p);
    p = fopen("/proc/stat", "r");
    while (p != NULL && fgets(line, sizeof(line), p) != NULL)
        if (sscanf(line, "btime %llu", &btime) == 1)
            break;
    if (p != NULL)
        fclose(p);
    put_head(f, "process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.");
    fprintf(f, "process_cpu_seconds_total %.2f\n", (double)(utime + stime) / (double)tck);
    put_head(f, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    fprintf(f, "process_resident_memory_bytes %llu\n", rss * (unsigned long long)page);
    put_head(f, "process_start_time_seconds", "gauge",
             "Start time of the process since unix epoch in seconds.");
    fprintf(f, "process_start_time_seconds %.2f\n", (double)btime + (double)start / (double)tck);
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned code, char *body, size_t len,
                              const char *type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_len, void **req)
{
    metrics_t *m = cls;
    (void)version, (void)upload, (void)upload_len, (void)req;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, strdup("only GET\n"), 9, "text/plain");
    if (strcmp(url, "/metrics") != 0)
        return answer(c, MHD_HTTP_NOT_FOUND, strdup("see /metrics\n"), 13, "text/plain");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return MHD_NO;
    pthread_mutex_lock(&m->lock);
    fwrite(m->page, 1, m->page_len, f);
    if (m->final)
        *req = m; /* counted in on_completed once the scraper has it all */
    pthread_mutex_unlock(&m->lock);
    render_process(f);
    if (fclose(f) != 0) {
        free(buf);
        return MHD_NO;
    }
    return answer(c, MHD_HTTP_OK, buf, len, "text/plain; version=0.0.4; charset=utf-8");
}

/* A scrape of the final page counts once its response was sent completely. */
static void on_completed(void *cls, struct MHD_Connection *c, void **req,
                         enum MHD_RequestTerminationCode toe)
{
    metrics_t *m = cls;
    (void)c;
    if (*req != m)
        return;
    *req = NULL;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        return;
    pthread_mutex_lock(&m->lock);
    m->final_sent++;
    pthread_cond_signal(&m->scraped);
    pthread_mutex_unlock(&m->lock);
}

/* ---- lifecycle */

static char **copy_strings(size_t n, const char *(*get)(const void *, size_t), const void *src)
{
    char **out = calloc(n ? n : 1, sizeof(*out));
    for (size_t i = 0; out != NULL && i < n; i++)
        if ((out[i] = strdup(get(src, i))) == NULL)
            return out; /* the caller sees the NULL slot */
    return out;
}

static const char *name_method(const void *n, size_t i) { return stats_names_method(n, (uint32_t)i); }
static const char *name_name(const void *n, size_t i) { return stats_names_name(n, (uint32_t)i); }
static const char *class_name(const void *c, size_t i) { return ((const char *const *)c)[i]; }

static bool all_set(char **v, size_t n)
{
    if (v == NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        if (v[i] == NULL)
            return false;
    return true;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        free(v[i]);
    free(v);
}

metrics_t *metrics_start(const char *listen, const stats_names_t *names,
                         const char *const *class_names, size_t n_classes,
                         char *err, size_t errlen)
{
    char host[256];
    unsigned short port = 0;
    if (listen && url_parse_listen(listen, "127.0.0.1", host, sizeof(host), &port, err, errlen) < 0)
        return NULL;
    metrics_t *m = calloc(1, sizeof(*m));
    if (m == NULL)
        goto oom;
    pthread_mutex_init(&m->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->scraped, &ca);
    pthread_condattr_destroy(&ca);
    m->n_names = stats_names_count(names);
    m->method = copy_strings(m->n_names, name_method, names);
    m->name = copy_strings(m->n_names, name_name, names);
    m->n_classes = n_classes;
    m->classes = copy_strings(n_classes, class_name, class_names);
    if (!all_set(m->method, m->n_names) || !all_set(m->name, m->n_names) ||
        !all_set(m->classes, n_classes))
        goto oom;
    if ((m->page = render(m, NULL, NULL, &m->page_len)) == NULL)
        goto oom;
    if (listen == NULL)
        return m; /* rendered for --remote-write only */

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char portstr[8];
    snprintf(portstr, sizeof(portstr), "%u", port);
    int rc = getaddrinfo(host, portstr, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve '%s': %s", host, gai_strerror(rc));
        goto fail;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    errno = 0;
    m->d = MHD_start_daemon(flags, port, NULL, NULL, on_request, m, MHD_OPTION_SOCK_ADDR,
                            ai->ai_addr, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, m, MHD_OPTION_END);
    int e = errno;
    freeaddrinfo(ai);
    if (m->d == NULL) {
        snprintf(err, errlen, "cannot listen on %s port %u: %s", host, port,
                 e ? strerror(e) : "address in use or not available");
        goto fail;
    }
    return m;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    metrics_stop(m);
    return NULL;
}

unsigned short metrics_port(const metrics_t *m)
{
    if (m->d == NULL)
        return 0;
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_BIND_PORT);
    return i ? i->port : 0;
}

void metrics_set_remote(metrics_t *m, rwrite_t *w) { m->remote = w; }

/* The page as a scrape would get it (run part + process metrics), for remote write. */
static void push_remote(metrics_t *m, const char *page, size_t len)
{
#ifdef AIOTEST_HAVE_RWRITE
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (f == NULL)
        return;
    fwrite(page, 1, len, f);
    render_process(f);
    if (fclose(f) != 0) {
        free(buf);
        return;
    }
    rwrite_push(m->remote, buf, n, clk_wall_us() / 1000);
#else
    (void)m, (void)page, (void)len;
#endif
}

void metrics_publish(metrics_t *m, const stats_t *total, const metrics_state_t *st)
{
    size_t len;
    char *page = render(m, total, st, &len);
    if (page == NULL)
        return; /* out of memory: the previous page stays */
    if (m->remote)
        push_remote(m, page, len);
    pthread_mutex_lock(&m->lock);
    char *old = m->page;
    m->page = page;
    m->page_len = len;
    pthread_mutex_unlock(&m->lock);
    free(old);
}

bool metrics_linger(metrics_t *m, uint64_t timeout_us)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(timeout_us / 1000000);
    until.tv_nsec += (long)(timeout_us % 1000000) * 1000;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&m->lock);
    m->final = true;
    while (m->final_sent == 0)
        if (pthread_cond_timedwait(&m->scraped, &m->lock, &until) == ETIMEDOUT)
            break;
    bool sent = m->final_sent > 0;
    pthread_mutex_unlock(&m->lock);
    return sent;
}

void metrics_stop(metrics_t *m)
{
    if (m == NULL)
        return;
    if (m->d != NULL)
        MHD_stop_daemon(m->d);
    pthread_cond_destroy(&m->scraped);
    pthread_mutex_destroy(&m->lock);
    free(m->page);
    free_strings(m->method, m->n_names);
    free_strings(m->name, m->n_names);
    free_strings(m->classes, m->n_classes);
    free(m);
}

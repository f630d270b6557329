/* report_csv: Locust-like CSV files (docs/report-format.md, "CSV"). */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const double csv_pcts[] = {50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100};
#define N_CSV_PCTS (sizeof(csv_pcts) / sizeof(csv_pcts[0]))

/* One field, quoted (RFC 4180) when it holds a comma, quote or line break. */
static void put_field(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static FILE *open_csv(const char *prefix, const char *suffix, char *path, size_t pathlen,
                      char *err, size_t errlen)
{
    snprintf(path, pathlen, "%s_%s.csv", prefix, suffix);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        snprintf(err, errlen, "--csv: cannot write %s: %s", path, strerror(errno));
    return f;
}

static int close_csv(FILE *f, const char *path, char *err, size_t errlen)
{
    if (ferror(f) | (fclose(f) != 0)) {
        snprintf(err, errlen, "--csv: cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static double ms(uint64_t us)
{
    return (double)us / 1000.0;
}

static void stats_row(FILE *f, const char *type, const char *name, const stats_entry_t *e,
                      double duration_s)
{
    const hist_t *h = e->latency;
    double d = duration_s > 0 ? duration_s : 1;
    put_field(f, type);
    fputc(',', f);
    put_field(f, name);
    fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%.3f,%.3f,%.3f,%.3f,%.1f,%.3f,%.3f", e->count,
            e->failures, ms(hist_percentile(h, 50)), hist_mean(h) / 1000.0, ms(hist_min(h)),
            ms(hist_max(h)), e->count ? (double)e->bytes_received / (double)e->count : 0.0,
            (double)e->count / d, (double)e->failures / d);
    for (size_t k = 0; k < N_CSV_PCTS; k++)
        fprintf(f, ",%.3f", ms(hist_percentile(h, csv_pcts[k])));
    fputc('\n', f);
}

static int write_stats(const char *prefix, stats_t *s, const stats_names_t *names,
                       double duration_s, char *err, size_t errlen)
{
    char path[4096];
    FILE *f = open_csv(prefix, "stats", path, sizeof(path), err, errlen);
    if (f == NULL)
        return -1;
    fputs("Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
          "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s",
          f);
    for (size_t k = 0; k < N_CSV_PCTS; k++)
        fprintf(f, ",%g%%", csv_pcts[k]);
    fputc('\n', f);
    for (uint32_t i = 0; i < stats_entries(s); i++)
        stats_row(f, stats_names_method(names, i), stats_names_name(names, i), stats_entry(s, i),
                  duration_s);
    stats_row(f, "", "Aggregated", stats_total(s), duration_s);
    return close_csv(f, path, err, errlen);
}

static int write_failures(const char *prefix, const stats_t *s, const stats_names_t *names,
                          char *err, size_t errlen)
{
    char path[4096];
    FILE *f = open_csv(prefix, "failures", path, sizeof(path), err, errlen);
    if (f == NULL)
        return -1;
    fputs("Method,Name,Error,Occurrences\n", f);
    for (uint32_t i = 0; i < stats_entries(s); i++) {
        const stats_entry_t *e = stats_entry(s, i);
        for (int c = 1; c < STATS_FAIL__COUNT; c++) {
            if (e->fail[c] == 0)
                continue;
            put_field(f, stats_names_method(names, i));
            fputc(',', f);
            put_field(f, stats_names_name(names, i));
            fprintf(f, ",%s,%" PRIu64 "\n", stats_fail_name((stats_fail_t)c), e->fail[c]);
        }
    }
    return close_csv(f, path, err, errlen);
}

static int write_history(const char *prefix, const stats_history_t *h, char *err, size_t errlen)
{
    char path[4096];
    FILE *f = open_csv(prefix, "stats_history", path, sizeof(path), err, errlen);
    if (f == NULL)
        return -1;
    fputs("Elapsed,User Count,Target User Count,Type,Name,Requests/s,Failures/s,50%,95%,99%,"
          "Iterations/s\n",
          f);
    for (size_t i = 0; h != NULL && i < stats_history_len(h); i++) {
        const stats_second_t *r = stats_history_at(h, i);
        fprintf(f, "%.3f,%" PRIu32 ",%" PRIu32 ",,Aggregated,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f\n", r->t,
                r->users, r->target_users, r->rps, r->fails_per_s, ms(r->p50_us), ms(r->p95_us),
                ms(r->p99_us), r->iterations_per_s);
    }
    return close_csv(f, path, err, errlen);
}

int report_write_csv(const char *prefix, stats_t *total, const stats_names_t *names,
                     const stats_history_t *history, double duration_s, char *err, size_t errlen)
{
    if (write_stats(prefix, total, names, duration_s, err, errlen) < 0 ||
        write_failures(prefix, total, names, err, errlen) < 0 ||
        write_history(prefix, history, err, errlen) < 0)
        return -1;
    return 0;
}

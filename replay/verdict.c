/* verdict: --fail-on thresholds and --baseline comparison, both read from JSON reports. */
#include "verdict.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"

typedef enum kind { K_DURATION, K_PERCENT, K_RATE, K_COUNT } kind_t;
typedef enum op { OP_LT, OP_LE, OP_GT, OP_GE } op_t;

/* A metric: its name in --fail-on, the report field it reads, its unit kind. */
typedef struct metric {
    const char *name, *field;
    kind_t kind;
} metric_t;

static const metric_t metrics[] = {
    {"p99.9", "p99.9_ms", K_DURATION}, {"p50", "p50_ms", K_DURATION},
    {"p90", "p90_ms", K_DURATION},     {"p95", "p95_ms", K_DURATION},
    {"p99", "p99_ms", K_DURATION},     {"avg", "avg_ms", K_DURATION},
    {"max", "max_ms", K_DURATION},     {"min", "min_ms", K_DURATION},
    {"errors", NULL, K_PERCENT},       {"rps", NULL, K_RATE},
    {"count", NULL, K_COUNT},
};
#define N_METRICS (sizeof(metrics) / sizeof(metrics[0]))
#define METRIC_LIST "p50 p90 p95 p99 p99.9 avg min max errors rps count"


typedef struct threshold {
    const metric_t *m;
    op_t op;
    double limit;   /* ms for durations, percent for errors */
    char *selector; /* as written inside [ ]; NULL for the total */
    char *method;   /* the selector split at its first space; method NULL when none */
    char *name;
    char *text;     /* the item as written, trimmed, for messages */
} threshold_t;

struct verdict {
    threshold_t *t;
    size_t n;
};

void verdict_free(verdict_t *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < v->n; i++) {
        free(v->t[i].selector);
        free(v->t[i].method);
        free(v->t[i].name);
        free(v->t[i].text);
    }
    free(v->t);
    free(v);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Parses the value after the operator into t->limit. Returns 0 or -1 with why. */
static int parse_limit(threshold_t *t, char *val, const char **why)
{
    size_t len = strlen(val);
    switch (t->m->kind) {
    case K_DURATION: {
        uint64_t us;
        /* A bare number is a duration in seconds to units.c; here it would
         * surely be a mistake for ms, so a unit is required. */
        if (len == 0 || !isalpha((unsigned char)val[len - 1]) ||
            units_parse_duration(val, &us) < 0) {
            *why = "expected a duration with a unit (e.g. 300ms, 1.5s, 800us)";
            return -1;
        }
        t->limit = (double)us / 1000.0;
        return 0;
    }
    case K_PERCENT:
        if (len > 0 && val[len - 1] == '%')
            val[len - 1] = '\0';
        val = trim(val);
        if (units_parse_double(val, &t->limit) < 0 || t->limit > 100) {
            *why = "expected a percentage between 0 and 100 (e.g. 1%, 0.5%)";
            return -1;
        }
        return 0;
    case K_RATE:
        if (units_parse_double(val, &t->limit) < 0) {
            *why = "expected requests per second as a number (e.g. 500, 12.5)";
            return -1;
        }
        return 0;
    case K_COUNT: {
        uint64_t n;
        if (units_parse_count(val, &n) < 0) {
            *why = "expected a request count (e.g. 1000, 10k)";
            return -1;
        }
        t->limit = (double)n;
        return 0;
    }
    }
    return -1;
}

/* Parses one item ("p95[GET /x]<100ms") into t. Returns 0 or -1 with why. */
static int parse_item(char *item, threshold_t *t, const char **why)
{
    char *p = item;
    size_t best = 0;
    for (size_t i = 0; i < N_METRICS; i++) {
        size_t l = strlen(metrics[i].name);
        if (strncmp(p, metrics[i].name, l) == 0 && l > best) {
            t->m = &metrics[i];
            best = l;
        }
    }
    if (t->m == NULL) {
        *why = "expected a metric: " METRIC_LIST;
        return -1;
    }
    p = trim(p + best);
    if (*p == '[') {
        char *close = strchr(p, ']');
        if (close == NULL) {
            *why = "expected ']' after the selector";
            return -1;
        }
        *close = '\0';
        char *sel = trim(p + 1);
        char *sp = strpbrk(sel, " \t");
        if (*sel == '\0') {
            *why = "expected 'METHOD NAME' or 'NAME' inside [ ]";
            return -1;
        }
        t->selector = strdup(sel);
        if (sp != NULL) {
            *sp = '\0';
            t->method = strdup(sel);
            t->name = strdup(trim(sp + 1));
        } else {
            t->name = strdup(sel);
        }
        p = trim(close + 1);
    }
    if (p[0] == '<' || p[0] == '>') {
        bool eq = p[1] == '=';
        t->op = p[0] == '<' ? (eq ? OP_LE : OP_LT) : (eq ? OP_GE : OP_GT);
        p = trim(p + 1 + eq);
    } else {
        *why = "expected an operator <, <=, > or >= after the metric";
        return -1;
    }
    return parse_limit(t, p, why);
}

verdict_t *verdict_parse(const char *spec, char *err, size_t errlen)
{
    verdict_t *v = calloc(1, sizeof(*v));
    char *copy = strdup(spec);
    if (v == NULL || copy == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    /* Split on commas outside [ ], so a selector may hold one. */
    char *p = copy;
    while (*p != '\0') {
        char *start = p;
        int depth = 0;
        for (; *p != '\0' && (*p != ',' || depth > 0); p++)
            depth += (*p == '[') - (*p == ']');
        if (*p == ',')
            *p++ = '\0';
        char *item = trim(start);
        if (*item == '\0')
            continue;
        threshold_t *t2 = realloc(v->t, (v->n + 1) * sizeof(*t2));
        if (t2 == NULL) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        v->t = t2;
        threshold_t *t = &v->t[v->n++];
        memset(t, 0, sizeof(*t));
        t->text = strdup(item);
        const char *why = NULL;
        if (parse_item(item, t, &why) < 0) {
            snprintf(err, errlen, "'%s': %s", t->text ? t->text : item, why);
            goto fail;
        }
    }
    if (v->n == 0) {
        snprintf(err, errlen, "expected thresholds like 'p99<300ms,errors<1%%'");
        goto fail;
    }
    free(copy);
    return v;
fail:
    free(copy);
    verdict_free(v);
    return NULL;
}

/* ---- evaluation */

/* The entry a selector means: first one whose whole name is the selector
 * (scenario names often start with the method, "GET /api/search"), else one
 * with that method and name. */
static const json_t *find_entry(const json_t *report, const threshold_t *t)
{
    if (t->name == NULL)
        return json_object_get(report, "total");
    const json_t *entries = json_object_get(report, "entries");
    size_t i;
    const json_t *e;
    json_array_foreach(entries, i, e) {
        const char *n = json_string_value(json_object_get(e, "name"));
        if (n != NULL && t->selector != NULL && strcmp(n, t->selector) == 0)
            return e;
    }
    json_array_foreach(entries, i, e) {
        const char *m = json_string_value(json_object_get(e, "method"));
        const char *n = json_string_value(json_object_get(e, "name"));
        if (n != NULL && strcmp(n, t->name) == 0 &&
            (t->method == NULL || (m != NULL && strcmp(m, t->method) == 0)))
            return e;
    }
    return NULL;
}

static double num(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

static double value_of(const threshold_t *t, const json_t *report, const json_t *e)
{
    double count = num(e, "count");
    switch (t->m->kind) {
    case K_DURATION:
        return num(e, t->m->field);
    case K_PERCENT:
        return count > 0 ? 100.0 * num(e, "failures") / count : 0.0;
    case K_RATE: {
        double d = num(report, "duration_s");
        return d > 0 ? count / d : 0.0;
    }
    case K_COUNT:
        return count;
    }
    return 0;
}

static bool holds(op_t op, double v, double limit)
{
    switch (op) {
    case OP_LT: return v < limit;
    case OP_LE: return v <= limit;
    case OP_GT: return v > limit;
    case OP_GE: return v >= limit;
    }
    return false;
}

static void fmt_value(char *buf, size_t len, kind_t kind, double v)
{
    switch (kind) {
    case K_DURATION:
        snprintf(buf, len, v < 10 ? "%.2fms" : "%.1fms", v);
        break;
    case K_PERCENT:
        snprintf(buf, len, "%.2f%%", v);
        break;
    case K_RATE:
        snprintf(buf, len, "%.1f/s", v);
        break;
    case K_COUNT:
        snprintf(buf, len, "%.0f", v);
        break;
    }
}

bool verdict_check(const verdict_t *v, const json_t *report, FILE *out)
{
    bool all = true;
    for (size_t i = 0; i < v->n; i++) {
        const threshold_t *t = &v->t[i];
        const json_t *e = find_entry(report, t);
        if (e == NULL) {
            fprintf(out, "FAIL %s: no entry %s%s%s in the report\n", t->text,
                     t->method ? t->method : "", t->method ? " " : "", t->name);
            all = false;
            continue;
        }
        double val = value_of(t, report, e);
        bool ok = holds(t->op, val, t->limit);
        char buf[64];
        fmt_value(buf, sizeof(buf), t->m->kind, val);
        fprintf(out, "%s %s: %s\n", ok ? "PASS" : "FAIL", t->text, buf);
        all = all && ok;
    }
    return all;
}

bool verdict_lost(const verdict_t *v, const json_t *report_so_far)
{
    double planned = num(report_so_far, "planned_requests");
    for (size_t i = 0; i < v->n; i++) {
        const threshold_t *t = &v->t[i];
        const json_t *e = find_entry(report_so_far, t);
        if (e == NULL)
            continue;
        bool upper = t->op == OP_LT || t->op == OP_LE;
        double count = num(e, "count");
        if (count <= 0)
            continue;
        const char *name = t->m->name;
        /* Only figures that move one way can be lost before the end: counts and
         * max grow, min shrinks; errors are lost once they exceed the limit even
         * if every request still planned succeeds. */
        if (upper && (t->m->kind == K_COUNT || strcmp(name, "max") == 0) &&
            !holds(t->op, value_of(t, report_so_far, e), t->limit))
            return true;
        if (!upper && strcmp(name, "min") == 0 && !holds(t->op, value_of(t, report_so_far, e), t->limit))
            return true;
        if (upper && t->m->kind == K_PERCENT && planned > 0) {
            double best = 100.0 * num(e, "failures") / (planned > count ? planned : count);
            if (!holds(t->op, best, t->limit))
                return true;
        }
    }
    return false;
}

/* ---- baseline */

/* Latency differences below this are noise on any machine, whatever the ratio. */
#define BASELINE_MIN_MS 1.0
/* Error rates may differ by this many percentage points without a regression. */
#define BASELINE_MIN_PP 0.1

static int compare_entry(const json_t *cur, const json_t *base, double cur_dur, double base_dur,
                         double tol, const char *label, FILE *out)
{
    static const char *const pcts[] = {"p50_ms", "p95_ms", "p99_ms"};
    int regressions = 0;
    for (size_t k = 0; k < 3; k++) {
        double c = num(cur, pcts[k]), b = num(base, pcts[k]);
        if (c > b * (1 + tol) && c - b >= BASELINE_MIN_MS) {
            fprintf(out, "REGRESSION %s %.*s: %.1fms, baseline %.1fms (+%.0f%%, tolerance %.0f%%)\n",
                    label, (int)strlen(pcts[k]) - 3, pcts[k], c, b, b > 0 ? 100 * (c / b - 1) : 100,
                    100 * tol);
            regressions++;
        }
    }
    double cc = num(cur, "count"), bc = num(base, "count");
    double ce = cc > 0 ? 100 * num(cur, "failures") / cc : 0, be = bc > 0 ? 100 * num(base, "failures") / bc : 0;
    if (ce > be * (1 + tol) + BASELINE_MIN_PP) {
        fprintf(out, "REGRESSION %s errors: %.2f%%, baseline %.2f%% (tolerance %.0f%%)\n", label, ce,
                be, 100 * tol);
        regressions++;
    }
    double crps = cur_dur > 0 ? cc / cur_dur : 0, brps = base_dur > 0 ? bc / base_dur : 0;
    if (crps < brps * (1 - tol)) {
        fprintf(out, "REGRESSION %s rps: %.1f/s, baseline %.1f/s (-%.0f%%, tolerance %.0f%%)\n",
                label, crps, brps, brps > 0 ? 100 * (1 - crps / brps) : 0, 100 * tol);
        regressions++;
    }
    return regressions;
}

bool verdict_baseline(const json_t *report, const json_t *baseline, double tolerance, FILE *out)
{
    double cur_dur = num(report, "duration_s"), base_dur = num(baseline, "duration_s");
    int regressions = 0, compared = 0;
    size_t i;
    const json_t *be;
    json_array_foreach(json_object_get(baseline, "entries"), i, be) {
        threshold_t sel = {
            .method = (char *)json_string_value(json_object_get(be, "method")),
            .name = (char *)json_string_value(json_object_get(be, "name")),
        };
        if (sel.name == NULL || sel.method == NULL || num(be, "count") <= 0)
            continue;
        char label[512];
        /* Names that already start with their method are printed once. */
        size_t ml = strlen(sel.method);
        if (strncmp(sel.name, sel.method, ml) == 0 && sel.name[ml] == ' ')
            snprintf(label, sizeof(label), "%s", sel.name);
        else
            snprintf(label, sizeof(label), "%s %s", sel.method, sel.name);
        const json_t *ce = find_entry(report, &sel);
        if (ce == NULL || num(ce, "count") <= 0) {
            fprintf(out, "note: %s is in the baseline but made no requests in this run\n", label);
            continue;
        }
        regressions += compare_entry(ce, be, cur_dur, base_dur, tolerance, label, out);
        compared++;
    }
    const json_t *ct = json_object_get(report, "total"), *bt = json_object_get(baseline, "total");
    if (ct != NULL && bt != NULL && num(bt, "count") > 0)
        regressions += compare_entry(ct, bt, cur_dur, base_dur, tolerance, "Aggregated", out);
    if (regressions == 0)
        fprintf(out, "PASS baseline: no regression in %d entries (tolerance %.0f%%)\n", compared,
                100 * tolerance);
    else
        fprintf(out, "FAIL baseline: %d regression%s (tolerance %.0f%%)\n", regressions,
                regressions == 1 ? "" : "s", 100 * tolerance);
    return regressions == 0;
}

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
    {"count", NULL, K_COUNT},          {"diff", "diff", K_PERCENT},
};
#define N_METRICS (sizeof(metrics) / sizeof(metrics[0]))
#define METRIC_LIST "p50 p90 p95 p99 p99.9 avg min max errors rps count diff"


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

/* Length of the trimmed text from s up to end (exclusive). */
static size_t trim_len(const char *s, const char *end)
{
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    return (size_t)(end - s);
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
        if (t->m->field) { /* diff: responses that differ from the recording, of those compared */
            const json_t *d = json_object_get(e, t->m->field);
            double n = num(d, "compared");
            return n > 0 ? 100.0 * num(d, "mismatched") / n : 0.0;
        }
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

bool verdict_check(const verdict_t *v, const json_t *report, FILE *out, json_t *lines)
{
    bool all = true;
    for (size_t i = 0; i < v->n; i++) {
        const threshold_t *t = &v->t[i];
        const json_t *e = find_entry(report, t);
        if (e == NULL) {
            fprintf(out, "FAIL %s: no entry %s%s%s in the report\n", t->text,
                     t->method ? t->method : "", t->method ? " " : "", t->name);
            if (lines)
                json_array_append_new(lines, json_pack("{s:s, s:b, s:s}", "threshold", t->text,
                                                       "passed", 0, "value", "no such entry"));
            all = false;
            continue;
        }
        double val = value_of(t, report, e);
        bool ok = holds(t->op, val, t->limit);
        char buf[64];
        fmt_value(buf, sizeof(buf), t->m->kind, val);
        fprintf(out, "%s %s: %s\n", ok ? "PASS" : "FAIL", t->text, buf);
        if (lines)
            json_array_append_new(lines, json_pack("{s:s, s:b, s:s}", "threshold", t->text,
                                                   "passed", ok, "value", buf));
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
        if (upper && t->m->kind == K_PERCENT && !t->m->field && planned > 0) {
            double best = 100.0 * num(e, "failures") / (planned > count ? planned : count);
            if (!holds(t->op, best, t->limit))
                return true;
        }
    }
    return false;
}

/* ---- baseline */

typedef enum cmp_kind { C_LATENCY, C_ERRORS, C_RPS } cmp_kind_t;

/* A metric --compare knows, its defaults (docs/aiotest-replay.md "Baseline"),
 * and the share of requests above it (percentiles): a percentile is compared
 * only when both runs have CMP_TAIL_MIN requests beyond it. */
typedef struct cmp_metric {
    const char *name, *field;
    cmp_kind_t kind;
    double tail;          /* 1 - percentile / 100; 0 for the others */
    double rel, abs;      /* default tolerance: relative, absolute (ms, pp, /s) */
    bool dflt;            /* compared without --compare */
} cmp_metric_t;

static const cmp_metric_t cmp_metrics[] = {
    {"p50", "p50_ms", C_LATENCY, 0.5, 0.10, 2, true},
    {"p90", "p90_ms", C_LATENCY, 0.1, 0.10, 5, false},
    {"p95", "p95_ms", C_LATENCY, 0.05, 0.10, 5, true},
    {"p99", "p99_ms", C_LATENCY, 0.01, 0.20, 10, true},
    {"p99.9", "p99.9_ms", C_LATENCY, 0.001, 0.20, 25, false},
    {"avg", "avg_ms", C_LATENCY, 0, 0.10, 2, false},
    {"errors", NULL, C_ERRORS, 0, 0.10, 0.5, true},
    {"rps", NULL, C_RPS, 0, 0.10, 0, true},
};
#define N_CMP (sizeof(cmp_metrics) / sizeof(cmp_metrics[0]))
#define CMP_LIST "p50 p90 p95 p99 p99.9 avg errors rps"
/* Requests beyond a percentile before it is compared: a p99 decided by a
 * handful of requests is decided by whichever of them met a descheduled thread. */
#define CMP_TAIL_MIN 20
/* Requests an entry needs before its error rate, average or rate is compared. */
#define CMP_COUNT_MIN 40

struct verdict_cmp {
    bool on[N_CMP];
    double rel[N_CMP], abs[N_CMP];
};

static const char *cmp_unit(cmp_kind_t k) { return k == C_LATENCY ? "ms" : k == C_ERRORS ? "pp" : "/s"; }

static int cmp_index(const char *name, size_t len)
{
    for (size_t i = 0; i < N_CMP; i++)
        if (strlen(cmp_metrics[i].name) == len && strncmp(cmp_metrics[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

/* One value of a tolerance: "10%" (relative), "2ms" (latency floor), "0.5pp"
 * (error-rate floor, percentage points), "5/s" (rate floor), or a bare
 * fraction "0.1" (relative, the old form). Applies it to metric m, or to
 * every metric it fits when m < 0. Returns 0 or -1 with why. */
static int tol_value(verdict_cmp_t *c, int m, char *v, const char **why, bool *rel_set,
                     bool *abs_set)
{
    size_t n = strlen(v);
    double x;
    uint64_t us;
    cmp_kind_t kind = C_LATENCY;
    bool rel = false;
    if (n > 1 && v[n - 1] == '%') {
        v[n - 1] = '\0';
        if (units_parse_double(trim(v), &x) != 0 || x < 0 || x > 10000)
            goto bad;
        x /= 100, rel = true;
    } else if (n > 2 && strcmp(v + n - 2, "pp") == 0) {
        v[n - 2] = '\0';
        if (units_parse_double(trim(v), &x) != 0 || x < 0 || x > 100)
            goto bad;
        kind = C_ERRORS;
    } else if (n > 2 && strcmp(v + n - 2, "/s") == 0) {
        v[n - 2] = '\0';
        if (units_parse_double(trim(v), &x) != 0 || x < 0)
            goto bad;
        kind = C_RPS;
    } else if (n > 0 && isalpha((unsigned char)v[n - 1])) {
        if (units_parse_duration(v, &us) != 0)
            goto bad;
        x = (double)us / 1000.0, kind = C_LATENCY;
    } else {
        if (units_parse_double(v, &x) != 0 || x < 0 || x > 1)
            goto bad; /* "10" is more likely meant as 10 % than as 1000 % */
        rel = true;
    }
    for (size_t i = 0; i < N_CMP; i++) {
        if (m >= 0 && (size_t)m != i)
            continue;
        if (rel) {
            if (m >= 0 || !rel_set[i])
                c->rel[i] = x;
            if (m >= 0)
                rel_set[i] = true;
        } else if (cmp_metrics[i].kind == kind) {
            if (m >= 0 || !abs_set[i])
                c->abs[i] = x;
            if (m >= 0)
                abs_set[i] = true;
        } else if (m >= 0) {
            *why = kind == C_LATENCY ? "a duration floor fits latency metrics only"
                   : kind == C_ERRORS ? "a 'pp' floor fits errors only"
                                      : "a '/s' floor fits rps only";
            return -1;
        }
    }
    return 0;
bad:
    *why = "expected 10% (relative), 2ms (latency floor), 0.5pp (error-rate floor), 5/s (rate "
           "floor) or a fraction 0..1";
    return -1;
}

verdict_cmp_t *verdict_cmp_new(const char *const *tolerances, size_t n, const char *compare,
                               char *err, size_t errlen)
{
    verdict_cmp_t *c = calloc(1, sizeof(*c));
    bool rel_set[N_CMP] = {0}, abs_set[N_CMP] = {0};
    char *copy = NULL;
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < N_CMP; i++) {
        c->on[i] = cmp_metrics[i].dflt;
        c->rel[i] = cmp_metrics[i].rel;
        c->abs[i] = cmp_metrics[i].abs;
    }
    /* Per-metric items win over global ones whatever their order: globals are
     * applied first (rel_set/abs_set mark what a METRIC= item set). */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < n; k++) {
            free(copy);
            copy = strdup(tolerances[k]);
            if (copy == NULL) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            int m = -1;
            char *save = NULL;
            for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                char *item = trim(tok), *eq = strchr(item, '=');
                const char *why = NULL;
                if (eq != NULL) {
                    m = cmp_index(item, (size_t)(trim_len(item, eq)));
                    if (m < 0) {
                        snprintf(err, errlen, "--tolerance '%s': expected a metric before '=': "
                                 CMP_LIST, tolerances[k]);
                        goto fail;
                    }
                    item = trim(eq + 1);
                }
                if ((m < 0) != (pass == 0))
                    continue;
                char shown[64];
                snprintf(shown, sizeof(shown), "%s", item); /* tol_value cuts the unit off */
                if (tol_value(c, m, item, &why, rel_set, abs_set) != 0) {
                    snprintf(err, errlen, "--tolerance '%s': '%s': %s", tolerances[k], shown, why);
                    goto fail;
                }
            }
        }
    }
    if (compare != NULL) {
        free(copy);
        copy = strdup(compare);
        if (copy == NULL) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        memset(c->on, 0, sizeof(c->on));
        size_t on = 0;
        char *save = NULL;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            char *item = trim(tok);
            int m = cmp_index(item, strlen(item));
            if (m < 0) {
                snprintf(err, errlen, "--compare '%s': '%s': expected one of " CMP_LIST, compare,
                         item);
                goto fail;
            }
            c->on[m] = true;
            on++;
        }
        if (on == 0) {
            snprintf(err, errlen, "--compare '%s': expected metrics like p95,p99,errors", compare);
            goto fail;
        }
    }
    free(copy);
    return c;
fail:
    free(copy);
    free(c);
    return NULL;
}

void verdict_cmp_free(verdict_cmp_t *c) { free(c); }

/* What pacing a report records ("paced": true/false); false when it does not say. */
static bool paced_of(const json_t *r, const char **why)
{
    const json_t *p = json_object_get(r, "paced");
    const char *how = json_string_value(json_object_get(r, "pacing"));
    *why = json_is_boolean(p) ? (how ? how : "") : "not recorded in the report";
    return json_is_true(p);
}

typedef struct cmp_run {
    const json_t *cur, *base;
    double cur_dur, base_dur;
    bool paced;               /* both runs paced: rps means the server's rate */
    const verdict_cmp_t *c;
    FILE *out;
    json_t *rows;
    int compared, regressions, skipped;
    char *regr;               /* the REGRESSION lines, printed after the table */
    size_t regr_len;
    FILE *regr_f;
} cmp_run_t;

static void fmt_cmp(char *buf, size_t len, cmp_kind_t k, double v)
{
    if (k == C_LATENCY)
        snprintf(buf, len, v < 10 ? "%.2fms" : "%.1fms", v);
    else if (k == C_ERRORS)
        snprintf(buf, len, "%.2f%%", v);
    else
        snprintf(buf, len, "%.1f/s", v);
}

static void add_row(cmp_run_t *r, const char *label, const json_t *be, size_t m, const char *result,
                    double b, double cu, double limit, const char *reason)
{
    const cmp_metric_t *cm = &cmp_metrics[m];
    char bs[32] = "-", cs[32] = "-", ls[32] = "-", ch[32] = "-";
    if (strcmp(result, "skipped") != 0) {
        fmt_cmp(bs, sizeof(bs), cm->kind, b);
        fmt_cmp(cs, sizeof(cs), cm->kind, cu);
        fmt_cmp(ls, sizeof(ls), cm->kind, limit);
        if (cm->kind == C_ERRORS)
            snprintf(ch, sizeof(ch), "%+.2fpp", cu - b);
        else if (b > 0)
            snprintf(ch, sizeof(ch), "%+.0f%%", 100 * (cu / b - 1));
    }
    char allowed[48] = "-";
    if (strcmp(result, "skipped") != 0)
        snprintf(allowed, sizeof(allowed), "%s %s", cm->kind == C_RPS ? ">=" : "<=", ls);
    fprintf(r->out, "%-32.32s %-6s %10s %10s %8s %13s  %s%s%s\n", label, cm->name, bs, cs, ch,
            allowed, result, reason ? ": " : "", reason ? reason : "");
    json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:s}", "entry", label, "method",
                            be ? json_string_value(json_object_get(be, "method")) : "", "name",
                            be ? json_string_value(json_object_get(be, "name")) : "Aggregated",
                            "metric", cm->name, "result", result);
    if (strcmp(result, "skipped") != 0) {
        json_object_set_new(row, "baseline", json_real(b));
        json_object_set_new(row, "current", json_real(cu));
        json_object_set_new(row, "limit", json_real(limit));
        json_object_set_new(row, "unit", json_string(cm->kind == C_ERRORS ? "%" : cmp_unit(cm->kind)));
    }
    if (reason)
        json_object_set_new(row, "reason", json_string(reason));
    json_array_append_new(r->rows, row);
    if (strcmp(result, "regression") == 0)
        fprintf(r->regr_f, "REGRESSION %s %s: %s, baseline %s (%s, allowed %s %s)\n", label,
                cm->name, cs, bs, ch, cm->kind == C_RPS ? ">=" : "<=", ls);
}

static void compare_entry(cmp_run_t *r, const json_t *ce, const json_t *be, const char *label)
{
    double cc = num(ce, "count"), bc = num(be, "count");
    double fewer = cc < bc ? cc : bc;
    for (size_t m = 0; m < N_CMP; m++) {
        const cmp_metric_t *cm = &cmp_metrics[m];
        if (!r->c->on[m])
            continue;
        char why[160];
        double need = cm->tail > 0 ? ceil(CMP_TAIL_MIN / cm->tail) : CMP_COUNT_MIN;
        if (cm->kind == C_RPS && !r->paced)
            continue; /* said once, in the notes */
        if (fewer < need) {
            snprintf(why, sizeof(why), "%.0f requests, %.0f needed", fewer, need);
            add_row(r, label, be, m, "skipped", 0, 0, 0, why);
            r->skipped++;
            continue;
        }
        double b, cu, limit;
        bool bad;
        switch (cm->kind) {
        case C_LATENCY:
            b = num(be, cm->field), cu = num(ce, cm->field);
            limit = b * (1 + r->c->rel[m]) + r->c->abs[m];
            bad = cu > limit;
            break;
        case C_ERRORS:
            b = 100 * num(be, "failures") / bc, cu = 100 * num(ce, "failures") / cc;
            limit = fmin(b * (1 + r->c->rel[m]) + r->c->abs[m], 100.0);
            bad = cu > limit;
            break;
        default:
            b = r->base_dur > 0 ? bc / r->base_dur : 0, cu = r->cur_dur > 0 ? cc / r->cur_dur : 0;
            limit = b * (1 - r->c->rel[m]) - r->c->abs[m];
            if (limit < 0)
                limit = 0;
            bad = cu < limit;
            break;
        }
        add_row(r, label, be, m, bad ? "regression" : "ok", b, cu, limit, NULL);
        r->compared++;
        r->regressions += bad;
    }
}

json_t *verdict_baseline(const verdict_cmp_t *c, const json_t *report, const json_t *baseline,
                         const char *baseline_name, FILE *out, bool *passed)
{
    cmp_run_t r = {.cur = report, .base = baseline, .c = c, .out = out,
                   .cur_dur = num(report, "duration_s"), .base_dur = num(baseline, "duration_s")};
    const char *cur_how, *base_how;
    bool cur_paced = paced_of(report, &cur_how), base_paced = paced_of(baseline, &base_how);
    r.paced = cur_paced && base_paced;
    r.rows = json_array();
    json_t *notes = json_array();
    r.regr_f = open_memstream(&r.regr, &r.regr_len);
    if (r.rows == NULL || notes == NULL || r.regr_f == NULL) {
        json_decref(r.rows);
        json_decref(notes);
        if (r.regr_f)
            fclose(r.regr_f);
        free(r.regr);
        *passed = false;
        return NULL;
    }
    fprintf(out, "Baseline %s: this run %s%s%s%s, baseline %s%s%s%s\n", baseline_name,
            cur_paced ? "paced" : "not paced", *cur_how ? " (" : "", cur_how, *cur_how ? ")" : "",
            base_paced ? "paced" : "not paced", *base_how ? " (" : "", base_how,
            *base_how ? ")" : "");
    size_t irps = (size_t)cmp_index("rps", 3);
    if (c->on[irps] && !r.paced) {
        char note[256];
        snprintf(note, sizeof(note), "rps not compared: %s was not paced (an unpaced closed "
                 "model's rate measures the load generator's machine, not the server)",
                 !cur_paced ? "this run" : "the baseline");
        fprintf(out, "note: %s\n", note);
        json_array_append_new(notes, json_string(note));
    }
    fprintf(out, "%-32s %-6s %10s %10s %8s %13s  %s\n", "entry", "metric", "baseline", "this run",
            "change", "allowed", "result");
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
            char note[600];
            snprintf(note, sizeof(note), "%s is in the baseline but made no requests in this run",
                     label);
            fprintf(r.regr_f, "note: %s\n", note);
            json_array_append_new(notes, json_string(note));
            continue;
        }
        compare_entry(&r, ce, be, label);
    }
    const json_t *ct = json_object_get(report, "total"), *bt = json_object_get(baseline, "total");
    if (ct != NULL && bt != NULL && num(bt, "count") > 0 && num(ct, "count") > 0)
        compare_entry(&r, ct, bt, "Aggregated");
    fclose(r.regr_f);
    if (r.regr)
        fputs(r.regr, out);
    free(r.regr);
    json_t *tol = json_object();
    for (size_t m = 0; m < N_CMP; m++)
        if (c->on[m])
            json_object_set_new(tol, cmp_metrics[m].name,
                                json_pack("{s:f, s:f, s:s}", "relative", c->rel[m], "absolute",
                                          c->abs[m], "absolute_unit", cmp_unit(cmp_metrics[m].kind)));
    *passed = r.regressions == 0;
    fprintf(out, "%s baseline: %d compared, %d regression%s, %d skipped (too few requests)\n",
            *passed ? "PASS" : "FAIL", r.compared, r.regressions, r.regressions == 1 ? "" : "s",
            r.skipped);
    return json_pack("{s:s, s:b, s:i, s:i, s:i, s:{s:b, s:b}, s:o, s:o, s:o}", "file",
                     baseline_name, "passed", *passed, "compared", r.compared, "regressions",
                     r.regressions, "skipped", r.skipped, "paced", "run", cur_paced, "baseline",
                     base_paced, "tolerance", tol, "rows", r.rows, "notes", notes);
}

/* merge: user samples, classes and script metrics of --segment reports (see merge.h). */
#include "merge.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLE_S 0.2
#define THIN_AFTER 3000
#define THIN_EVERY 10

static double num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

/* The input's latest sample at merged time g (its samples are in time order;
 * *pos advances). Half a step of tolerance, so equal clocks meet. NULL before
 * its first sample. */
static const json_t *sample_at(const json_t *a, double offset_s, double g, size_t *pos)
{
    size_t n = json_array_size(a);
    while (*pos < n && offset_s + num(json_array_get(a, *pos), "t") <= g + SAMPLE_S / 2)
        (*pos)++;
    return *pos ? json_array_get(a, *pos - 1) : NULL;
}

static json_t *sum_at(const json_t *const *reports, const double *offset_s, size_t n, double g,
                      size_t *pos)
{
    double users = 0, target = 0, rate = 0;
    json_t *pc = json_array();
    if (pc == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const json_t *a = json_object_get(reports[i], "user_samples");
        const json_t *s = sample_at(a, offset_s[i], g, &pos[i]);
        if (s == NULL)
            continue;
        users += num(s, "users");
        target += num(s, "target");
        rate += num(s, "rate");
        const json_t *cls = json_object_get(s, "per_class");
        for (size_t c = 0; c < json_array_size(cls); c++) {
            double v = json_is_number(json_array_get(cls, c))
                           ? json_number_value(json_array_get(cls, c)) : 0;
            if (c < json_array_size(pc))
                v += json_number_value(json_array_get(pc, c));
            json_t *x = json_integer((json_int_t)v);
            if (c < json_array_size(pc) ? json_array_set_new(pc, c, x) < 0
                                        : json_array_append_new(pc, x) < 0) {
                json_decref(pc);
                return NULL;
            }
        }
    }
    return json_pack("{s:f, s:I, s:I, s:f, s:o}", "t", g, "users", (json_int_t)users, "target",
                     (json_int_t)target, "rate", rate, "per_class", pc);
}

json_t *merge_user_samples(const json_t *const *reports, const double *offset_s, size_t n)
{
    double end = -1;
    for (size_t i = 0; i < n; i++) {
        const json_t *a = json_object_get(reports[i], "user_samples");
        size_t len = json_array_size(a);
        if (len && offset_s[i] + num(json_array_get(a, len - 1), "t") > end)
            end = offset_s[i] + num(json_array_get(a, len - 1), "t");
    }
    json_t *out = json_array();
    size_t *pos = calloc(n ? n : 1, sizeof *pos);
    if (out == NULL || pos == NULL)
        goto fail;
    /* Steps counted, not accumulated, so 0.2 s stays exact over long runs. */
    for (size_t k = 0; end >= 0 && (double)k * SAMPLE_S <= end + SAMPLE_S / 2;) {
        json_t *s = sum_at(reports, offset_s, n, (double)k * SAMPLE_S, pos);
        if (s == NULL || json_array_append_new(out, s) < 0)
            goto fail;
        k += json_array_size(out) >= THIN_AFTER ? THIN_EVERY : 1;
    }
    free(pos);
    return out;
fail:
    free(pos);
    json_decref(out);
    return NULL;
}

/* Highest per_class[c] over the samples. */
static json_int_t sample_peak(const json_t *samples, size_t c)
{
    json_int_t peak = 0;
    size_t i;
    const json_t *s;
    json_array_foreach(samples, i, s) {
        const json_t *v = json_array_get(json_object_get(s, "per_class"), c);
        if (json_is_integer(v) && json_integer_value(v) > peak)
            peak = json_integer_value(v);
    }
    return peak;
}

static json_t *find_class(const json_t *classes, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(classes, i, c) {
        const char *cn = json_string_value(json_object_get(c, "name"));
        if (cn && strcmp(cn, name) == 0)
            return c;
    }
    return NULL;
}

json_t *merge_classes(const json_t *const *reports, size_t n, const json_t *samples)
{
    json_t *out = json_array();
    for (size_t i = 0; out != NULL && i < n; i++) {
        size_t j;
        const json_t *c;
        json_array_foreach(json_object_get(reports[i], "classes"), j, c) {
            const char *name = json_string_value(json_object_get(c, "name"));
            if (name == NULL)
                continue;
            json_int_t started = (json_int_t)num(c, "users_started");
            json_int_t peak = (json_int_t)num(c, "users_peak");
            json_t *m = find_class(out, name);
            if (m == NULL) {
                m = json_pack("{s:s, s:I, s:I, s:I}", "name", name, "weight",
                              (json_int_t)num(c, "weight"), "users_peak", (json_int_t)0,
                              "users_started", (json_int_t)0);
                if (m == NULL || json_array_append_new(out, m) < 0) {
                    json_decref(out);
                    return NULL;
                }
                /* The samples' per_class follows the plan's class order, which
                 * is the reports' order of "classes". */
                json_int_t sp = sample_peak(samples, j);
                json_object_set_new(m, "users_peak", json_integer(sp));
            }
            json_object_set_new(m, "users_started",
                                json_integer(json_integer_value(json_object_get(m, "users_started")) +
                                             started));
            if (peak > json_integer_value(json_object_get(m, "users_peak")))
                json_object_set_new(m, "users_peak", json_integer(peak));
        }
    }
    return out;
}

/* ---- script metrics */

static json_t *find_by(json_t *arr, const char *key, const json_t *want)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (json_equal(json_object_get(v, key), want))
            return v;
    }
    return NULL;
}

/* dst[key] += src[key] (numbers). */
static void add_num(json_t *dst, const json_t *src, const char *key)
{
    double a = json_number_value(json_object_get(dst, key));
    double b = json_number_value(json_object_get(src, key));
    json_object_set_new(dst, key, json_real(a + b));
}

/* Adds series s into metric m's series (a deep copy when new). 0, or -1 when
 * the buckets' bounds differ. */
static int add_series(json_t *m, const json_t *s, bool histogram)
{
    json_t *ser = json_object_get(m, "series");
    json_t *d = find_by(ser, "labels", json_object_get(s, "labels"));
    if (!d)
        return json_array_append_new(ser, json_deep_copy(s)) == 0 ? 0 : -1;
    if (!histogram) {
        add_num(d, s, "value");
        return 0;
    }
    json_t *db = json_object_get(d, "buckets"), *sb = json_object_get(s, "buckets");
    if (json_array_size(db) != json_array_size(sb))
        return -1;
    for (size_t k = 0; k < json_array_size(db); k++) {
        json_t *x = json_array_get(db, k), *y = json_array_get(sb, k);
        if (!json_equal(json_object_get(x, "le"), json_object_get(y, "le")))
            return -1;
        add_num(x, y, "count");
    }
    add_num(d, s, "count");
    add_num(d, s, "sum");
    return 0;
}

json_t *merge_script_metrics(const json_t *const *reports, size_t n, char *err, size_t errlen)
{
    json_t *out = json_array();
    for (size_t r = 0; out && r < n; r++) {
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(reports[r], "script_metrics"), i, m) {
            const json_t *name = json_object_get(m, "name");
            const char *type = json_string_value(json_object_get(m, "type"));
            if (!json_is_string(name) || !type) {
                snprintf(err, errlen, "script_metrics[%zu]: no name or type", i);
                goto bad;
            }
            json_t *d = find_by(out, "name", name);
            if (!d) {
                if (json_array_append_new(out, json_pack("{s:O, s:s, s:f, s:[]}", "name", name,
                                                         "type", type, "refused", 0.0,
                                                         "series")) != 0)
                    goto oom;
                d = json_array_get(out, json_array_size(out) - 1);
            } else if (strcmp(json_string_value(json_object_get(d, "type")), type) != 0) {
                snprintf(err, errlen, "script metric %s is a %s in one report and a %s in another",
                         json_string_value(name), json_string_value(json_object_get(d, "type")), type);
                goto bad;
            }
            add_num(d, m, "refused");
            size_t j;
            json_t *s;
            json_array_foreach(json_object_get(m, "series"), j, s) {
                if (add_series(d, s, strcmp(type, "histogram") == 0) != 0) {
                    snprintf(err, errlen, "script metric %s: histograms with other bucket bounds",
                             json_string_value(name));
                    goto bad;
                }
            }
        }
    }
    if (out)
        return out;
oom:
    snprintf(err, errlen, "out of memory");
bad:
    json_decref(out);
    return NULL;
}

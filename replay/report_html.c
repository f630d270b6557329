/* report_html: one self-contained HTML page from a JSON report: key figures,
 * the summary table and inline SVG charts. Every chart's <svg> carries its id
 * and the plotted numbers in data-points (JSON), so tests and scripts can read
 * what is drawn. With --fail-on and --baseline, their verdicts come first
 * (tables "thresholds" and "baseline"), then the notes (list "notes": what the
 * replay could not do or did specially, as the text summary says it), the
 * --diff and --timed schedule sections; responses by status code per entry
 * follow the summary ("statuses"). No scripts, fonts or images from anywhere else. */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W 640
#define H 280
#define ML 64  /* margins: room for tick labels and axis titles */
#define MR 20
#define MT 36
#define MB 44
#define PW (W - ML - MR)
#define PH (H - MT - MB)

static const char *const palette[] = {"#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c",
                                      "#0891b2"};

/* Text for HTML content and attribute values. */
static void put_esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static double num(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

static void fmt_ms(char *buf, size_t len, double ms)
{
    snprintf(buf, len, ms < 10 ? "%.2f" : ms < 1000 ? "%.1f" : "%.0f", ms);
}

/* ---- charts */

typedef struct chart {
    FILE *f;
    double x0, x1, y0, y1;
    bool xlog; /* x axis in log10 of the value */
} chart_t;

static double px(const chart_t *c, double x)
{
    if (c->xlog)
        x = log10(x);
    return ML + (x - c->x0) / (c->x1 - c->x0) * PW;
}

static double py(const chart_t *c, double y)
{
    return MT + PH - (y - c->y0) / (c->y1 - c->y0) * PH;
}

/* A 1-2-5 step giving about n ticks over range. */
static double nice_step(double range, int n)
{
    double raw = range / n, mag = pow(10, floor(log10(raw))), r = raw / mag;
    return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
}

/* Opens the <svg> with its data; data is stolen. */
static void chart_begin(chart_t *c, const char *id, const char *title, json_t *data)
{
    char *text = json_dumps(data, JSON_COMPACT | JSON_REAL_PRECISION(10));
    fprintf(c->f, "<figure class=\"chart\"><figcaption>");
    put_esc(c->f, title);
    fprintf(c->f, "</figcaption>\n<svg id=\"%s\" viewBox=\"0 0 %d %d\" role=\"img\" "
                  "aria-label=\"", id, W, H);
    put_esc(c->f, title);
    fprintf(c->f, "\" data-points=\"");
    put_esc(c->f, text ? text : "null");
    fprintf(c->f, "\">\n");
    free(text);
    json_decref(data);
}

static void chart_end(chart_t *c)
{
    fprintf(c->f, "</svg></figure>\n");
}

static void chart_empty(chart_t *c, const char *why)
{
    fprintf(c->f, "<text class=\"empty\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">", W / 2, H / 2);
    put_esc(c->f, why);
    fprintf(c->f, "</text>\n");
}

/* Y grid, ticks and title; y0 is 0 and y1 rounded up to a tick. */
static void axis_y(chart_t *c, double ymax, const char *title)
{
    if (ymax <= 0)
        ymax = 1;
    double step = nice_step(ymax, 5);
    c->y0 = 0;
    c->y1 = ceil(ymax / step) * step;
    for (double y = 0; y <= c->y1 + step / 2; y += step) {
        fprintf(c->f, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
                      "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                ML, ML + PW, py(c, y), py(c, y), ML - 6, py(c, y) + 4, y);
    }
    fprintf(c->f, "<text class=\"axis\" transform=\"translate(14,%d) rotate(-90)\" "
                  "text-anchor=\"middle\">%s</text>\n", MT + PH / 2, title);
}

/* X ticks in seconds of the run. */
static void axis_x_time(chart_t *c, double tmax)
{
    c->x0 = 0;
    c->x1 = tmax > 0 ? tmax : 1;
    double step = nice_step(c->x1, 6);
    for (double x = 0; x <= c->x1 + 1e-9; x += step)
        fprintf(c->f, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%gs</text>\n",
                px(c, x), MT + PH + 16, x);
    fprintf(c->f, "<line class=\"frame\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>\n", ML, ML + PW,
            MT + PH, MT + PH);
    fprintf(c->f, "<text class=\"axis\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">time since start"
                  " (s)</text>\n", ML + PW / 2, H - 6);
}

static void legend(chart_t *c, const char *const *labels, size_t n)
{
    int x = ML;
    for (size_t k = 0; k < n; k++) {
        fprintf(c->f, "<rect x=\"%d\" y=\"10\" width=\"12\" height=\"12\" rx=\"2\" fill=\"%s\"/>"
                      "<text class=\"legend\" x=\"%d\" y=\"20\">",
                x, palette[k % 6], x + 16);
        put_esc(c->f, labels[k]);
        fprintf(c->f, "</text>\n");
        x += 28 + 7 * (int)strlen(labels[k]);
    }
}

/* A row of an open stage: the shape asked for an arrival rate and no users
 * (a row across a boundary from a closed stage has both, and counts as closed). */
static bool open_row(const json_t *row)
{
    return num(row, "target_rate") > 0 && num(row, "target_users") == 0;
}

/* Which rows a series of a line chart has a point in. */
enum rows { ROWS_ALL = 0, ROWS_CLOSED, ROWS_OPEN };

static bool skip_row(const enum rows *which, size_t k, const json_t *row)
{
    if (which == NULL || which[k] == ROWS_ALL)
        return false;
    return open_row(row) != (which[k] == ROWS_OPEN);
}

/* Line chart of history fields over t. which (NULL: all rows) limits a series
 * to the rows of closed or of open stages: a "target users 0" while an open
 * stage's pool users run would be false. Each run of rows a series has is one
 * polyline. */
static void line_chart(FILE *f, const json_t *history, const char *id, const char *title,
                       const char *ytitle, const char *const *fields, const char *const *labels,
                       size_t n, double scale, const enum rows *which)
{
    chart_t c = {.f = f};
    json_t *data = json_object();
    double tmax = 0, ymax = 0;
    size_t i;
    const json_t *row;
    for (size_t k = 0; k < n; k++) {
        json_t *pts = json_array();
        json_array_foreach(history, i, row) {
            double t = num(row, "t"), y = num(row, fields[k]) * scale;
            tmax = t > tmax ? t : tmax;
            if (skip_row(which, k, row))
                continue;
            json_array_append_new(pts, json_pack("[ff]", t, y));
            ymax = y > ymax ? y : ymax;
        }
        json_object_set_new(data, fields[k], pts);
    }
    chart_begin(&c, id, title, data);
    legend(&c, labels, n);
    axis_y(&c, ymax * 1.05, ytitle);
    axis_x_time(&c, tmax);
    if (json_array_size(history) == 0)
        chart_empty(&c, "no per-second history (the run was shorter than a second)");
    for (size_t k = 0; k < n; k++) {
        bool in_line = false;
        json_array_foreach(history, i, row) {
            if (skip_row(which, k, row)) {
                if (in_line)
                    fprintf(f, "\"/>\n");
                in_line = false;
                continue;
            }
            if (!in_line)
                fprintf(f, "<polyline class=\"series\" stroke=\"%s\" points=\"", palette[k % 6]);
            in_line = true;
            fprintf(f, "%.1f,%.1f ", px(&c, num(row, "t")), py(&c, num(row, fields[k]) * scale));
        }
        if (in_line || json_array_size(history) == 0)
            fprintf(f, "%s\"/>\n", in_line ? "" : "<polyline class=\"series\" points=\"");
    }
    chart_end(&c);
}

/* Bin edges in µs for h: just under the minimum, then 1, 1.5, 2, 3, 5, 7 per
 * decade up to the first edge at or above the maximum. Returns the count. */
static size_t hist_edges(const hist_t *h, uint64_t *edges, size_t cap)
{
    static const double steps[] = {1, 1.5, 2, 3, 5, 7};
    size_t n = 0;
    edges[n++] = hist_min(h) - 1;
    for (double mag = 1; n < cap && mag < 1e12; mag *= 10) {
        for (size_t k = 0; k < 6 && n < cap; k++) {
            uint64_t e = (uint64_t)llround(steps[k] * mag);
            if (e <= edges[n - 1])
                continue;
            edges[n++] = e;
            if (e >= hist_max(h))
                return n;
        }
    }
    return n;
}

/* Latency histogram of the total on log-spaced bins; data-points holds
 * [from_ms, to_ms, count] per bin, the counts adding up to the total. */
static void histogram_chart(FILE *f, const json_t *total)
{
    char herr[128];
    hist_t *h = hist_from_json(json_object_get(total, "latency"), herr, sizeof(herr));
    json_t *data = json_array();
    chart_t c = {.f = f, .xlog = true};
    uint64_t edges[128], le[128];
    size_t ne = 0;
    if (h != NULL && hist_count(h) > 0) {
        ne = hist_edges(h, edges, 128);
        hist_count_le_many(h, edges, ne, le);
        le[ne - 1] = hist_count(h);
        for (size_t k = 0; k + 1 < ne; k++)
            json_array_append_new(data, json_pack("[ffI]", (double)edges[k] / 1000.0,
                                                  (double)edges[k + 1] / 1000.0,
                                                  (json_int_t)(le[k + 1] - le[k])));
    }
    chart_begin(&c, "chart-histogram", "Latency distribution (all requests)", data);
    uint64_t top = 0;
    for (size_t k = 0; k + 1 < ne; k++)
        top = le[k + 1] - le[k] > top ? le[k + 1] - le[k] : top;
    axis_y(&c, (double)top * 1.05, "requests");
    if (ne < 2) {
        chart_empty(&c, "no requests");
    } else {
        c.x0 = log10(edges[0] > 0 ? (double)edges[0] : 1);
        c.x1 = log10((double)edges[ne - 1]);
        if (c.x1 <= c.x0)
            c.x1 = c.x0 + 1;
        for (size_t k = 0; k + 1 < ne; k++) {
            double x0 = px(&c, edges[k] > 0 ? (double)edges[k] : 1), x1 = px(&c, (double)edges[k + 1]);
            double y = py(&c, (double)(le[k + 1] - le[k]));
            fprintf(f, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
                       "<title>%.3f-%.3f ms: %llu</title></rect>\n",
                    x0 + 0.5, y, x1 - x0 > 1.5 ? x1 - x0 - 1 : 0.5, MT + PH - y,
                    (double)edges[k] / 1000.0, (double)edges[k + 1] / 1000.0,
                    (unsigned long long)(le[k + 1] - le[k]));
        }
        for (size_t k = 0; k < ne; k += ne > 12 ? 2 : 1) {
            fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.3g</text>\n",
                    px(&c, edges[k] > 0 ? (double)edges[k] : 1), MT + PH + 16,
                    (double)edges[k] / 1000.0);
        }
        fprintf(f, "<line class=\"frame\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>\n", ML, ML + PW,
                MT + PH, MT + PH);
        fprintf(f, "<text class=\"axis\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">latency (ms, log"
                   " scale)</text>\n", ML + PW / 2, H - 6);
    }
    chart_end(&c);
    hist_free(h);
}

/* Horizontal bars: failures by category over all entries. */
static void failures_chart(FILE *f, const json_t *total)
{
    json_t *data = json_array();
    const char *key;
    json_t *v;
    double top = 0;
    json_object_foreach(json_object_get(total, "fail"), key, v) {
        json_array_append_new(data, json_pack("[sI]", key, json_integer_value(v)));
        top = (double)json_integer_value(v) > top ? (double)json_integer_value(v) : top;
    }
    size_t n = json_array_size(data);
    chart_t c = {.f = f, .x0 = 0, .y0 = 0, .y1 = 1};
    json_incref(data); /* chart_begin takes one reference; the bars below read data too */
    chart_begin(&c, "chart-failures", "Failures by category", data);
    if (n == 0) {
        chart_empty(&c, "no failures");
    } else {
        double step = nice_step(top * 1.05, 5);
        c.x1 = ceil(top * 1.05 / step) * step;
        double bh = (double)PH / (double)n; /* a band per category, thin when few */
        if (bh > 56)
            bh = 56;
        for (double x = 0; x <= c.x1 + step / 2; x += step)
            fprintf(f, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>"
                       "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
                    px(&c, x), px(&c, x), MT, MT + PH, px(&c, x), MT + PH + 16, x);
        for (size_t k = 0; k < n; k++) {
            json_t *pair = json_array_get(data, k);
            double count = (double)json_integer_value(json_array_get(pair, 1));
            double y = MT + bh * (double)k + bh * 0.15;
            fprintf(f, "<rect class=\"fail\" x=\"%d\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>"
                       "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>"
                       "<text class=\"value\" x=\"%.1f\" y=\"%.1f\">%.0f</text>\n",
                    ML, y, px(&c, count) - ML, bh * 0.7, ML - 6, y + bh * 0.35 + 4,
                    json_string_value(json_array_get(pair, 0)), px(&c, count) + 4,
                    y + bh * 0.35 + 4, count);
        }
        fprintf(f, "<text class=\"axis\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">failed requests"
                   "</text>\n", ML + PW / 2, H - 6);
    }
    chart_end(&c);
    json_decref(data);
}

/* ---- verdicts and status codes (thresholds, baseline, statuses): from the
 * report's "thresholds", "baseline" and each entry's "statuses"/"no_response". */

static void verdict_cell(FILE *f, bool ok, const char *text)
{
    fprintf(f, "<td class=\"l %s\">%s</td>", ok ? "ok" : "bad", text);
}

/* --fail-on: one row per threshold, as the PASS/FAIL lines printed. */
static void thresholds_section(FILE *f, const json_t *report)
{
    const json_t *lines = json_object_get(report, "thresholds");
    if (!json_is_array(lines))
        return;
    fprintf(f, "<h2>Thresholds (--fail-on)</h2>\n<table id=\"thresholds\"><thead><tr>"
               "<th class=\"l\">result</th><th class=\"l\">threshold</th><th>value</th>"
               "</tr></thead>\n<tbody>\n");
    size_t i;
    const json_t *l;
    json_array_foreach(lines, i, l) {
        bool ok = json_is_true(json_object_get(l, "passed"));
        fprintf(f, "<tr>");
        verdict_cell(f, ok, ok ? "PASS" : "FAIL");
        fprintf(f, "<td class=\"l\">");
        put_esc(f, str(l, "threshold"));
        fprintf(f, "</td><td>");
        put_esc(f, str(l, "value"));
        fprintf(f, "</td></tr>\n");
    }
    fprintf(f, "</tbody></table>\n");
}

/* --diff: how many responses differed from the recording, by kind, and the
 * first examples (request, recorded against replayed). */
static void diff_section(FILE *f, const json_t *report)
{
    const json_t *d = json_object_get(report, "diff");
    if (!json_is_object(d))
        return;
    fprintf(f, "<h2>Response diff (--diff)</h2>\n<p id=\"diff-summary\" class=\"meta\">%.0f of %.0f "
               "responses differ from the recording (%.2f%%)</p>\n<table id=\"diff\"><thead><tr>"
               "<th class=\"l\">kind</th><th>responses</th></tr></thead>\n<tbody>\n",
            num(d, "mismatched"), num(d, "compared"), num(d, "mismatched_percent"));
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)json_object_get(d, "kinds"), k, v) {
        fprintf(f, "<tr><td class=\"l\">diff ");
        put_esc(f, k);
        fprintf(f, "</td><td>%.0f</td></tr>\n", json_number_value(v));
    }
    fprintf(f, "</tbody></table>\n");
    const json_t *ex = json_object_get(d, "examples");
    if (json_array_size(ex) == 0)
        return;
    fprintf(f, "<table id=\"diff-examples\"><thead><tr><th class=\"l\">first differences: request, "
               "recorded against replayed</th></tr></thead>\n<tbody>\n");
    size_t i;
    json_array_foreach(ex, i, v) {
        fprintf(f, "<tr><td class=\"l\">");
        put_esc(f, str(v, "example"));
        fprintf(f, "</td></tr>\n");
    }
    fprintf(f, "</tbody></table>\n");
}

/* ---- notes: what the run could not do or did specially, from the report's
 * bodies, unsolicited, pipeline, requests_left_out, origins_refused_at_run_time
 * (at most the 64 names the report keeps), schedule, open_model, script_metrics
 * and interrupted; each non-zero count one item, worded as the text summary or
 * the warning on stderr, so a reader of the page alone sees them. */

static double sub(const json_t *report, const char *obj, const char *key)
{
    return num(json_object_get(report, obj), key);
}

/* The timed replay's lag behind schedule (report field "schedule"). */
static void schedule_section(FILE *f, const json_t *report)
{
    const json_t *s = json_object_get(report, "schedule");
    if (!json_is_object(s))
        return;
    char p50[32], p99[32], max[32];
    fmt_ms(p50, sizeof p50, num(s, "lag_p50_ms"));
    fmt_ms(p99, sizeof p99, num(s, "lag_p99_ms"));
    fmt_ms(max, sizeof max, num(s, "lag_max_ms"));
    fprintf(f, "<h2>Schedule (--timed)</h2>\n<p id=\"schedule\" class=\"meta\">%.0f step(s) started; "
               "lag behind schedule p50 %s ms, p99 %s ms, max %s ms; %.0f started more than %.0f ms "
               "late</p>\n", num(s, "steps"), p50, p99, max, num(s, "late"), num(s, "late_threshold_ms"));
}

static void note_begin(FILE *f, bool *open, const char *id, bool bad)
{
    if (!*open)
        fprintf(f, "<h2>Notes</h2>\n<ul id=\"notes\">\n");
    *open = true;
    fprintf(f, "<li id=\"note-%s\"%s>", id, bad ? " class=\"bad\"" : "");
}

static void notes_section(FILE *f, const json_t *report)
{
    bool open = false;
    double cut = sub(report, "bodies", "cut"), undecoded = sub(report, "bodies", "undecoded");
    if (cut > 0 || undecoded > 0) {
        note_begin(f, &open, "bodies", false);
        fprintf(f, "Response bodies: %.0f cut at --max-body (checks and extractors saw the first bytes; "
                   "%.0f bytes more read and dropped), %.0f left coded (Content-Encoding not decodable)"
                   "</li>\n", cut, sub(report, "bodies", "dropped_bytes"), undecoded);
    }
    double events = sub(report, "unsolicited", "events");
    if (events > 0) {
        note_begin(f, &open, "unsolicited", true);
        fprintf(f, "Unsolicited response bytes: %.0f time(s) a server sent bytes that no request "
                   "waited for (%.0f bytes, dropped; the connection was closed each time)</li>\n",
                events, sub(report, "unsolicited", "bytes"));
    }
    const json_t *pl = json_object_get(report, "pipeline");
    if (json_is_object(pl)) {
        note_begin(f, &open, "pipeline", false);
        fprintf(f, "Pipelining (--pipeline %.0f): %.0f request(s) sent behind another on their HTTP/1.1 "
                   "connection, %.0f resent after a pipeline broke</li>\n",
                num(pl, "depth"), num(pl, "pipelined"), num(pl, "resent"));
    }
    double left_out = num(report, "requests_left_out");
    if (left_out > 0) {
        note_begin(f, &open, "left-out", false);
        fprintf(f, "%.0f request(s) of the scenario left out by --only-host</li>\n", left_out);
    }
    const json_t *refused = json_object_get(report, "origins_refused_at_run_time");
    if (json_array_size(refused) > 0) {
        note_begin(f, &open, "origins-refused", true);
        fprintf(f, "%zu origin(s) met at run time that the command line does not name (their "
                   "requests failed as 'origin' and were not sent): ", json_array_size(refused));
        size_t i;
        const json_t *o;
        json_array_foreach(refused, i, o) {
            fputs(i ? ", " : "", f);
            put_esc(f, json_string_value(o) ? json_string_value(o) : "");
        }
        fprintf(f, "</li>\n");
    }
    const json_t *sch = json_object_get(report, "schedule");
    if (json_is_object(sch) && json_is_false(json_object_get(sch, "kept"))) {
        char max[32];
        fmt_ms(max, sizeof max, num(sch, "lag_max_ms"));
        note_begin(f, &open, "schedule", true);
        fprintf(f, "The replay could not keep the schedule: %.0f of %.0f step(s) started more than "
                   "%.0f ms late (max %s ms): the target or this machine was too slow</li>\n",
                num(sch, "late"), num(sch, "steps"), num(sch, "late_threshold_ms"), max);
    }
    double not_started = sub(report, "open_model", "not_started");
    if (not_started > 0) {
        note_begin(f, &open, "not-started", true);
        fprintf(f, "open model: %.0f scheduled iteration(s) never started: no pooled user was free "
                   "(--max-users) before the run ended</li>\n", not_started);
    }
    double refused_updates = 0;
    size_t i;
    const json_t *m;
    json_array_foreach(json_object_get(report, "script_metrics"), i, m)
        refused_updates += num(m, "refused");
    if (refused_updates > 0) {
        note_begin(f, &open, "script-refused", true);
        fprintf(f, "script metrics: %.0f update(s) refused: a label set came past the bound per metric "
                   "(by metric: script_metrics[].refused in the JSON report)</li>\n", refused_updates);
    }
    if (json_is_true(json_object_get(report, "interrupted"))) {
        note_begin(f, &open, "interrupted", true);
        fprintf(f, "The run was interrupted by a second signal: requests still in flight count as "
                   "'unfinished'</li>\n");
    }
    if (open)
        fprintf(f, "</ul>\n");
}

/* Lua hooks' failure reasons (report fields failure_reasons, _other), as the
 * summary's "Failure reasons (script)" table. */
static void reasons_section(FILE *f, const json_t *report)
{
    const json_t *rs = json_object_get(report, "failure_reasons");
    double other = num(report, "failure_reasons_other");
    if (json_array_size(rs) == 0 && other <= 0)
        return;
    fprintf(f, "<h2>Failure reasons (script)</h2>\n<table id=\"failure-reasons\"><thead><tr>"
               "<th># occurrences</th><th class=\"l\">Type</th><th class=\"l\">Name</th>"
               "<th class=\"l\">Reason</th></tr></thead>\n<tbody>\n");
    size_t i;
    const json_t *r;
    json_array_foreach(rs, i, r) {
        fprintf(f, "<tr><td>%.0f</td><td class=\"l\">", num(r, "count"));
        put_esc(f, str(r, "method"));
        fprintf(f, "</td><td class=\"l name\">");
        put_esc(f, stats_display_name(str(r, "method"), str(r, "name")));
        fprintf(f, "</td><td class=\"l name\">");
        put_esc(f, str(r, "reason"));
        fprintf(f, "</td></tr>\n");
    }
    if (other > 0)
        fprintf(f, "<tr><td>%.0f</td><td class=\"l\" colspan=\"3\">(other reasons: more than %d "
                   "distinct)</td></tr>\n", other, STATS_REASONS_MAX);
    fprintf(f, "</tbody></table>\n");
}

static void baseline_value(FILE *f, const json_t *row, const char *key)
{
    const char *unit = str(row, "unit");
    double v = num(row, key);
    if (!json_is_number(json_object_get(row, key))) {
        fprintf(f, "<td>-</td>");
        return;
    }
    if (strcmp(unit, "ms") == 0) {
        char buf[32];
        fmt_ms(buf, sizeof(buf), v);
        fprintf(f, "<td>%s ms</td>", buf);
    } else {
        fprintf(f, strcmp(unit, "%") == 0 ? "<td>%.2f%%</td>" : "<td>%.1f/s</td>", v);
    }
}

/* --baseline: the comparison table, as printed. */
static void baseline_section(FILE *f, const json_t *report)
{
    const json_t *b = json_object_get(report, "baseline");
    if (!json_is_object(b))
        return;
    bool passed = json_is_true(json_object_get(b, "passed"));
    const json_t *paced = json_object_get(b, "paced");
    fprintf(f, "<h2>Baseline comparison</h2>\n<p id=\"baseline-verdict\" class=\"meta\">"
               "<b class=\"%s\">%s</b> against ", passed ? "ok" : "bad", passed ? "PASS" : "FAIL");
    put_esc(f, str(b, "file"));
    fprintf(f, ": %.0f compared, %.0f regressions, %.0f skipped &middot; this run %s, baseline %s"
               "</p>\n", num(b, "compared"), num(b, "regressions"), num(b, "skipped"),
            json_is_true(json_object_get(paced, "run")) ? "paced" : "not paced",
            json_is_true(json_object_get(paced, "baseline")) ? "paced" : "not paced");
    size_t i;
    const json_t *row;
    json_array_foreach(json_object_get(b, "notes"), i, row) {
        fprintf(f, "<p class=\"meta\">note: ");
        put_esc(f, json_string_value(row) ? json_string_value(row) : "");
        fprintf(f, "</p>\n");
    }
    fprintf(f, "<table id=\"baseline\"><thead><tr><th class=\"l\">Name</th><th class=\"l\">"
               "metric</th><th>baseline</th><th>this run</th><th>allowed</th>"
               "<th class=\"l\">result</th></tr></thead>\n<tbody>\n");
    json_array_foreach(json_object_get(b, "rows"), i, row) {
        const char *result = str(row, "result");
        bool total = strcmp(str(row, "entry"), "Aggregated") == 0;
        fprintf(f, "<tr%s><td class=\"l name\">", total ? " class=\"total\"" : "");
        put_esc(f, str(row, "entry"));
        fprintf(f, "</td><td class=\"l\">");
        put_esc(f, str(row, "metric"));
        fprintf(f, "</td>");
        baseline_value(f, row, "baseline");
        baseline_value(f, row, "current");
        baseline_value(f, row, "limit");
        if (strcmp(result, "skipped") == 0) {
            fprintf(f, "<td class=\"l skip\">skipped: ");
            put_esc(f, str(row, "reason"));
            fprintf(f, "</td>");
        } else {
            verdict_cell(f, strcmp(result, "ok") == 0, strcmp(result, "ok") == 0 ? "ok" : "regression");
        }
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</tbody></table>\n");
}

static int cmp_code(const void *a, const void *b)
{
    return atoi(*(const char *const *)a) - atoi(*(const char *const *)b);
}

/* Adds the keys of obj not yet in keys (a JSON array used as a set). */
static void collect_keys(json_t *keys, const json_t *obj)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        size_t i;
        const json_t *have;
        bool seen = false;
        json_array_foreach(keys, i, have)
            seen = seen || strcmp(json_string_value(have), k) == 0;
        if (!seen)
            json_array_append_new(keys, json_string(k));
    }
}

static void status_row(FILE *f, const json_t *e, const char *const *codes, size_t n_codes,
                       const json_t *noresp, bool total)
{
    fprintf(f, "<tr%s><td class=\"l\">", total ? " class=\"total\"" : "");
    put_esc(f, str(e, "method"));
    fprintf(f, "</td><td class=\"l name\">");
    put_esc(f, stats_display_name(str(e, "method"), str(e, "name")));
    fprintf(f, "</td>");
    const json_t *st = json_object_get(e, "statuses"), *nr = json_object_get(e, "no_response");
    for (size_t k = 0; k < n_codes; k++) {
        double n = num(st, codes[k]);
        fprintf(f, "<td%s>%.0f</td>", n > 0 && atoi(codes[k]) >= 400 ? " class=\"bad\"" : "", n);
    }
    size_t i;
    const json_t *cat;
    json_array_foreach(noresp, i, cat) {
        double n = num(nr, json_string_value(cat));
        fprintf(f, "<td%s>%.0f</td>", n > 0 ? " class=\"bad\"" : "", n);
    }
    fprintf(f, "</tr>\n");
}

/* Responses per entry by status code, and requests without a response by
 * failure category. */
static void statuses_section(FILE *f, const json_t *report, const json_t *total)
{
    json_t *codes = json_array(), *noresp = json_array();
    const json_t *entries = json_object_get(report, "entries");
    size_t i;
    const json_t *e;
    json_array_foreach(entries, i, e) {
        collect_keys(codes, json_object_get(e, "statuses"));
        collect_keys(noresp, json_object_get(e, "no_response"));
    }
    size_t n = json_array_size(codes);
    const char **v = calloc(n ? n : 1, sizeof(*v));
    if (v != NULL) {
        for (size_t k = 0; k < n; k++)
            v[k] = json_string_value(json_array_get(codes, k));
        qsort(v, n, sizeof(*v), cmp_code);
        fprintf(f, "<h2>Status codes</h2>\n<table id=\"statuses\"><thead><tr><th class=\"l\">Type"
                   "</th><th class=\"l\">Name</th>");
        for (size_t k = 0; k < n; k++) {
            fprintf(f, "<th>");
            put_esc(f, v[k]);
            fprintf(f, "</th>");
        }
        json_array_foreach(noresp, i, e) {
            fprintf(f, "<th>no response: ");
            put_esc(f, json_string_value(e));
            fprintf(f, "</th>");
        }
        fprintf(f, "</tr></thead>\n<tbody>\n");
        json_array_foreach(entries, i, e)
            status_row(f, e, v, n, noresp, false);
        status_row(f, total, v, n, noresp, true);
        fprintf(f, "</tbody></table>\n");
        if (n == 0 && json_array_size(noresp) == 0)
            fprintf(f, "<p class=\"meta\">no requests</p>\n");
    }
    free(v);
    json_decref(codes);
    json_decref(noresp);
}

/* ---- page */

static const char css[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2937;"
    "background:#f3f4f6;margin:0}main{max-width:1240px;margin:0 auto;padding:24px}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 10px}"
    ".meta{color:#6b7280;margin:0 0 18px}"
    ".kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px}"
    ".kpi{background:#fff;border-radius:10px;padding:12px 16px;box-shadow:0 1px 2px #0001}"
    ".kpi b{display:block;font-size:22px}.kpi span{color:#6b7280;font-size:12px;"
    "text-transform:uppercase;letter-spacing:.04em}.kpi.bad b{color:#dc2626}"
    "table{border-collapse:collapse;width:100%;background:#fff;border-radius:10px;"
    "overflow:hidden;box-shadow:0 1px 2px #0001;font-variant-numeric:tabular-nums}"
    "th,td{padding:6px 10px;text-align:right;white-space:nowrap}th{background:#f9fafb;"
    "color:#374151;font-weight:600;border-bottom:1px solid #e5e7eb}"
    "td.l,th.l{text-align:left}td.name{white-space:normal;word-break:break-all}"
    "tr:nth-child(even) td{background:#fafafa}tr.total td{font-weight:600;border-top:2px solid "
    "#e5e7eb;background:#f9fafb}td.bad{color:#dc2626}"
    ".charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:16px}"
    "figure.chart{margin:0;background:#fff;border-radius:10px;padding:12px;"
    "box-shadow:0 1px 2px #0001}figcaption{font-weight:600;margin-bottom:4px}"
    "svg{width:100%;height:auto;display:block}.grid{stroke:#e5e7eb}.frame{stroke:#9ca3af}"
    ".tick,.legend,.value{font-size:11px;fill:#4b5563}.axis{font-size:12px;fill:#6b7280}"
    ".series{fill:none;stroke-width:2;stroke-linejoin:round}.bar{fill:#2563eb}"
    ".fail{fill:#dc2626}.empty{fill:#9ca3af;font-size:14px}"
    "td.ok,b.ok{color:#16a34a;font-weight:600}td.bad.l,b.bad{color:#dc2626;font-weight:600}"
    "td.skip{color:#6b7280}ul#notes{background:#fff;border-radius:10px;padding:10px 10px 10px 32px;"
    "box-shadow:0 1px 2px #0001;margin:0}li.bad{color:#dc2626}"
    "footer{color:#9ca3af;font-size:12px;margin-top:28px}";

static void kpi(FILE *f, const char *label, const char *value, bool bad)
{
    fprintf(f, "<div class=\"kpi%s\"><span>%s</span><b>%s</b></div>\n", bad ? " bad" : "", label,
            value);
}

static void header(FILE *f, const json_t *report, const json_t *total)
{
    char buf[64];
    double count = num(total, "count"), fails = num(total, "failures");
    fprintf(f, "<h1>aiotest report</h1>\n<p class=\"meta\">started ");
    put_esc(f, str(report, "started"));
    fprintf(f, " &middot; %.1f s", num(report, "duration_s"));
    const char *scenario = json_string_value(json_object_get(report, "scenario"));
    if (scenario != NULL) {
        fprintf(f, " &middot; scenario ");
        put_esc(f, scenario);
    }
    fprintf(f, "</p>\n<div class=\"kpis\">\n");
    snprintf(buf, sizeof(buf), "%.0f", count);
    kpi(f, "requests", buf, false);
    snprintf(buf, sizeof(buf), "%.0f (%.2f%%)", fails, count > 0 ? 100 * fails / count : 0);
    kpi(f, "failures", buf, fails > 0);
    snprintf(buf, sizeof(buf), "%.1f/s", num(total, "rps"));
    kpi(f, "throughput", buf, false);
    static const char *const pk[] = {"p50_ms", "p95_ms", "p99_ms"}, *const pl[] = {"p50", "p95", "p99"};
    for (int k = 0; k < 3; k++) {
        fmt_ms(buf, sizeof(buf), num(total, pk[k]));
        strncat(buf, " ms", sizeof(buf) - strlen(buf) - 1);
        kpi(f, pl[k], buf, false);
    }
    fprintf(f, "</div>\n");
}

static void table_row(FILE *f, const json_t *e, bool total)
{
    static const char *const cols[] = {"min_ms", "avg_ms", "p50_ms", "p90_ms", "p95_ms",
                                       "p99_ms", "p99.9_ms", "max_ms"};
    char buf[32];
    double count = num(e, "count"), fails = num(e, "failures");
    fprintf(f, "<tr%s><td class=\"l\">", total ? " class=\"total\"" : "");
    put_esc(f, str(e, "method"));
    fprintf(f, "</td><td class=\"l name\">");
    put_esc(f, stats_display_name(str(e, "method"), str(e, "name")));
    fprintf(f, "</td><td>%.0f</td><td%s>%.0f (%.2f%%)</td><td>%.1f</td>", count,
            fails > 0 ? " class=\"bad\"" : "", fails, count > 0 ? 100 * fails / count : 0,
            num(e, "rps"));
    for (size_t k = 0; k < sizeof(cols) / sizeof(cols[0]); k++) {
        fmt_ms(buf, sizeof(buf), num(e, cols[k]));
        fprintf(f, "<td>%s</td>", buf);
    }
    fprintf(f, "</tr>\n");
}

static void summary_table(FILE *f, const json_t *report, const json_t *total)
{
    fprintf(f, "<h2>Requests</h2>\n<table id=\"summary\"><thead><tr><th class=\"l\">Type</th>"
               "<th class=\"l\">Name</th><th># reqs</th><th># fails</th><th>req/s</th>"
               "<th>min</th><th>avg</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th>"
               "<th>p99.9</th><th>max</th></tr></thead>\n<tbody>\n");
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(report, "entries"), i, e)
        table_row(f, e, false);
    table_row(f, total, true);
    fprintf(f, "</tbody></table>\n<p class=\"meta\">latencies in milliseconds</p>\n");
}

static void charts(FILE *f, const json_t *report, const json_t *total)
{
    const json_t *hist = json_object_get(report, "history");
    static const char *const rps_f[] = {"rps", "fails_per_s"}, *const rps_l[] = {"requests/s", "failures/s"};
    static const char *const usr_f[] = {"users", "target_users"}, *const usr_l[] = {"users", "target users"};
    static const char *const rate_f[] = {"target_rate", "iterations_per_s"},
                             *const rate_l[] = {"target iterations/s", "started iterations/s"};
    static const char *const lat_f[] = {"p50_us", "p95_us", "p99_us"}, *const lat_l[] = {"p50", "p95", "p99"};
    bool open = false;
    size_t i;
    const json_t *row;
    json_array_foreach(hist, i, row)
        open |= open_row(row);
    fprintf(f, "<h2>Over time</h2>\n<div class=\"charts\">\n");
    static const enum rows usr_w[] = {ROWS_ALL, ROWS_CLOSED}, rate_w[] = {ROWS_OPEN, ROWS_OPEN};
    line_chart(f, hist, "chart-rps", "Requests per second", "per second", rps_f, rps_l, 2, 1, NULL);
    line_chart(f, hist, "chart-users", open ? "Users (target: closed stages)" : "Users", "users",
               usr_f, usr_l, 2, 1, usr_w);
    if (open)
        line_chart(f, hist, "chart-rate", "Arrival rate (open stages)", "iterations/s", rate_f,
                   rate_l, 2, 1, rate_w);
    line_chart(f, hist, "chart-latency", "Latency percentiles per second", "ms", lat_f, lat_l, 3,
               0.001, NULL);
    fprintf(f, "</div>\n<h2>Distribution</h2>\n<div class=\"charts\">\n");
    histogram_chart(f, total);
    failures_chart(f, total);
    fprintf(f, "</div>\n");
}

int report_write_html(const char *path, const json_t *report, char *err, size_t errlen)
{
    const json_t *total = json_object_get(report, "total");
    if (!json_is_object(total) || !json_is_array(json_object_get(report, "entries"))) {
        snprintf(err, errlen, "--html: the report has no \"total\" or \"entries\"");
        return -1;
    }
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        snprintf(err, errlen, "--html: cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
               "<title>aiotest report ");
    put_esc(f, str(report, "started"));
    fprintf(f, "</title>\n<style>%s</style></head>\n<body><main>\n", css);
    header(f, report, total);
    thresholds_section(f, report);
    baseline_section(f, report);
    notes_section(f, report);
    diff_section(f, report);
    schedule_section(f, report);
    summary_table(f, report, total);
    statuses_section(f, report, total);
    reasons_section(f, report);
    charts(f, report, total);
    fprintf(f, "<footer>aiotest-replay %s &middot; every chart's data is in its data-points "
               "attribute</footer>\n</main></body></html>\n", AIOTEST_VERSION);
    if (ferror(f) | (fclose(f) != 0)) {
        snprintf(err, errlen, "--html: cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* aiotest-replay: load the scenario, compile it, run the engine, write the
 * results. Exit 0 ok, 1 thresholds or baseline failed, 2 usage or input error. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "clock.h"
#include "engine.h"
#include "log.h"
#include "merge.h"
#include "metrics.h"
#include "origins.h"
#include "plan.h"
#include "diff.h"
#include "rewrite.h"
#ifdef AIOTEST_HAVE_RWRITE
#include "rwrite.h"
#endif
#include "report.h"
#include "scenario.h"
#include "script.h"
#include "secrets.h"
#include "shape.h"
#include "smetric.h"
#include "stats.h"
#include "verdict.h"
#include "view.h"
#ifdef AIOTEST_HAVE_CONVERT
#include "convert.h"
#endif

/* Where leaks are checked (ASan), everything is freed before exit. */
#if defined(__SANITIZE_ADDRESS__)
#define FREE_AT_EXIT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FREE_AT_EXIT 1
#endif
#endif
#ifndef FREE_AT_EXIT
#define FREE_AT_EXIT 0
#endif

#define EXIT_FAILED 1
#define EXIT_USAGE 2

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The scenario at path, or the recording there converted with defaults (*recorded
 * set). resp not NULL (--diff, with the converter): a recording's classes' recorded
 * responses go there, and a scenario file, which keeps none, is refused. NULL
 * with the error said. */
static scn_scenario_t *load_scenario(const char *path, rewrite_t *rw, bool *recorded,
                                     struct conv_timeline *resp)
{
    scn_scenario_t *s = NULL;
    mp_error_t err = {0};
    int rc;
    if (ends_with(path, ".json")) {
        rc = view_scenario_load_json(path, &s, &err);
    } else {
        rc = ends_with(path, ".har") ? MP_KIND_RECORDING : mp_file_kind(path, &err);
        if (rc == MP_KIND_RECORDING) {
#ifdef AIOTEST_HAVE_CONVERT
            conv_opts_t o;
            conv_opts_init(&o);
            if (rewrite_has_filters(rw)) {
                o.keep = rewrite_keep_exchange;
                o.keep_arg = rw;
            }
            *recorded = true;
            const char *paths[] = {path};
            conv_stats_t st;
            rc = resp ? conv_to_scenario_recorded(paths, 1, &o, &s, resp, &st, &err)
                      : conv_to_scenario(paths, 1, &o, &s, &st, &err);
            if (rc == 0) {
                char line[300];
                log_info("%s: converted with default settings: %s", path,
                         conv_stats_line(&st, line, sizeof line));
            }
#else
            log_error("%s: is a recording; running recordings is not supported in this build yet "
                      "(convert it with aiotest-convert first)", path);
            return NULL;
#endif
        } else if (rc >= 0) {
            rc = scn_load(path, &s, &err);
        }
    }
    if (rc >= 0 && resp && !*recorded) {
        log_error("%s: --diff compares with the recorded responses, and a scenario keeps no "
                  "recorded responses: give the recording (or HAR) it came from", path);
        scn_free(s);
        return NULL;
    }
    if (rc < 0 || !s) {
        log_error("%s", err.msg[0] ? err.msg : "cannot load the scenario");
        return NULL;
    }
    return s;
}

#ifdef AIOTEST_HAVE_CONVERT
/* --timed: the recording (or HAR) with one class per session and when each step
 * started; NULL with the error said. */
static scn_scenario_t *load_timed(const cli_t *c, conv_timeline_t *tl, rewrite_t *rw)
{
    scn_scenario_t *s = NULL;
    mp_error_t err = {0};
    int rc = ends_with(c->scenario, ".har") ? MP_KIND_RECORDING : mp_file_kind(c->scenario, &err);
    if (rc >= 0 && rc != MP_KIND_RECORDING) {
        log_error("%s: --timed needs a recording or a HAR file (a scenario keeps no recorded "
                  "times; give the recording it came from)", c->scenario);
        return NULL;
    }
    if (rc >= 0) {
        conv_opts_t o;
        conv_opts_init(&o);
        o.timed_by_connection = c->timed_by_connection;
        if (rewrite_has_filters(rw)) {
            o.keep = rewrite_keep_exchange;
            o.keep_arg = rw;
        }
        const char *paths[] = {c->scenario};
        conv_stats_t st;
        rc = conv_to_timed(paths, 1, &o, &s, tl, &st, &err);
        if (rc == 0 && !c->quiet) {
            char line[300];
            log_info("%s: timed replay: %s", c->scenario, conv_stats_line(&st, line, sizeof line));
        }
    }
    if (rc < 0 || !s) {
        log_error("%s", err.msg[0] ? err.msg : "cannot load the recording");
        return NULL;
    }
    return s;
}
#endif

/* Whether the run's request rate is set by the scenario rather than by how
 * fast the machine turns requests around: an open model (rate stages), or a
 * closed model whose every class waits in each iteration (think times). NULL
 * when not paced; else how. --baseline compares rps only between paced runs. */
static const char *pacing(const cli_t *c, const plan_t *plan, const shape_t *shape)
{
    if (c->timed)
        return "timed replay";
    bool open = shape->n > 0, closed_paced = c->think_scale > 0;
    for (size_t i = 0; i < shape->n; i++)
        if (shape->stages[i].kind != SHAPE_RATE)
            open = false;
    if (open)
        return "open model";
    for (size_t i = 0; i < plan->n_classes && closed_paced; i++) {
        const plan_class_t *pc = &plan->classes[i];
        uint64_t think = pc->wait.kind == SCN_WAIT_CONSTANT || pc->wait.kind == SCN_WAIT_BETWEEN
                             ? pc->wait.min_us * pc->tasks.n : 0;
        for (size_t s = 0; s < pc->tasks.n; s++)
            think += pc->tasks.v[s].think_us;
        if (think == 0 && pc->tasks.n > 0)
            closed_paced = false;
    }
    return closed_paced ? "think times" : NULL;
}

/* The run's setting in the report, so a report says what produced it. */
static json_t *run_meta(const cli_t *c, engine_t *e, const shape_t *shape, const plan_t *plan)
{
    json_t *meta = engine_meta(e);
    json_t *cmd = json_array();
    for (int i = 0; i < c->argc; i++)
        json_array_append_new(cmd, json_string(c->argv[i]));
    json_object_set_new(meta, "command", cmd);
    json_object_set_new(meta, "scenario", json_string(c->scenario));
    json_t *stages = json_array();
    for (size_t i = 0; i < shape->n; i++) {
        const shape_stage_t *st = &shape->stages[i];
        json_array_append_new(
            stages, st->kind == SHAPE_RATE
                        ? json_pack("{s:s, s:f, s:f, s:f}", "kind", "rate", "duration_s",
                                    (double)st->duration_us / 1e6, "rate", st->rate, "rate_to",
                                    st->rate_to)
                        : json_pack("{s:s, s:f, s:i, s:f}", "kind", "users", "duration_s",
                                    (double)st->duration_us / 1e6, "users", (json_int_t)st->users,
                                    "spawn_rate", st->spawn_rate));
    }
    json_object_set_new(meta, "shape", stages);
    json_object_set_new(meta, "iterations_per_user", json_integer((json_int_t)c->iterations));
    const char *how = pacing(c, plan, shape);
    json_object_set_new(meta, "paced", json_boolean(how != NULL));
    json_object_set_new(meta, "pacing",
                        json_string(how ? how : "none: closed model without think times"));
    return meta;
}

/* The part of the exit status that failed requests decide (docs/aiotest-replay.md
 * "Exit status"): a run in which nothing succeeded failed, whatever the options;
 * otherwise, without --fail-on, any failed request gives --exit-code-on-error. */
static int failures_status(const cli_t *c, stats_t *total, bool thresholds, bool idle)
{
    const stats_entry_t *t = stats_total(total);
    if (t->count == 0 && idle)
        return 0;
    if (t->count == t->failures) {
        if (t->count == 0)
            log_error("no request succeeded: none was made (exit status 1)");
        else
            log_error("no request succeeded: all %llu failed (exit status 1)",
                      (unsigned long long)t->count);
        return EXIT_FAILED;
    }
    if (thresholds || t->failures == 0 || c->exit_code_on_error == 0)
        return 0;
    log_warn("%llu of %llu requests failed (exit status %d; --exit-code-on-error or --fail-on "
             "change that)", (unsigned long long)t->failures, (unsigned long long)t->count,
             c->exit_code_on_error);
    return c->exit_code_on_error;
}

/* What the verdicts need, prepared before any load is sent. */
typedef struct checks {
    const verdict_t *fail_on;     /* NULL: no --fail-on */
    bool nothing_planned;         /* a --segment without users or rate: no request is ok */
    const verdict_cmp_t *cmp;
    json_t *baseline;             /* read and validated before the run; NULL: none */
} checks_t;

/* Verdicts (added to the report as "thresholds" and "baseline"), then the report
 * files: exit status 0, 1 or --exit-code-on-error (2 when a file cannot be written). */
static int finish(const cli_t *c, json_t *report, stats_t *total, const stats_names_t *names,
                  const stats_history_t *hist, double duration_s, const checks_t *k)
{
    char err[512];
    int rc = 0;
    if (k->fail_on) {
        json_t *lines = json_array();
        if (!verdict_check(k->fail_on, report, stdout, lines))
            rc = EXIT_FAILED;
        json_object_set_new(report, "thresholds", lines);
    }
    if (k->baseline) {
        bool passed = false;
        json_t *b = verdict_baseline(k->cmp, report, k->baseline, c->baseline, stdout, &passed);
        if (!passed)
            rc = EXIT_FAILED;
        if (b)
            json_object_set_new(report, "baseline", b);
    }
    if (c->report && stats_report_write(report, c->report, err, sizeof err) != 0) {
        log_error("%s", err);
        rc = EXIT_USAGE;
    }
    if (c->csv && report_write_csv(c->csv, total, names, hist, duration_s, err, sizeof err) != 0) {
        log_error("%s", err);
        rc = EXIT_USAGE;
    }
    if (c->html && report_write_html(c->html, report, err, sizeof err) != 0) {
        log_error("%s", err);
        rc = EXIT_USAGE;
    }
    int frc = failures_status(c, total, k->fail_on != NULL, k->nothing_planned);
    if (rc == 0 || (rc == EXIT_FAILED && frc == EXIT_FAILED))
        rc = frc;
    return rc;
}

static bool same_names(const stats_names_t *a, const stats_names_t *b)
{
    if (stats_names_count(a) != stats_names_count(b))
        return false;
    for (uint32_t i = 0; i < stats_names_count(a); i++)
        if (strcmp(stats_names_method(a, i), stats_names_method(b, i)) != 0 ||
            strcmp(stats_names_name(a, i), stats_names_name(b, i)) != 0)
            return false;
    return true;
}

/* The run-describing parts of the merged report: classes and user samples of
 * all inputs (the statistics are merged by the caller). NULL on out of memory. */
static json_t *merge_meta(json_t *const *reports, const double *offset_s, size_t n,
                          json_t *from, bool paced)
{
    json_t *samples = merge_user_samples((const json_t *const *)reports, offset_s, n);
    json_t *classes = samples ? merge_classes((const json_t *const *)reports, n, samples) : NULL;
    if (!classes) {
        json_decref(samples);
        return NULL;
    }
    return json_pack("{s:O, s:b, s:s, s:o, s:o, s:I}", "merged_from", from, "paced", paced,
                     "pacing", paced ? "every merged report was paced"
                                     : "not every merged report says it was paced",
                     "classes", classes, "user_samples", samples, "segments",
                     (json_int_t)n);
}

/* --merge: reports of the same scenario (e.g. --segment runs) added exactly;
 * their per-second histories and user samples aligned on wall-clock time. */
static int merge_reports(const cli_t *c, const checks_t *k)
{
    char err[512];
    stats_names_t *names = NULL;
    stats_t *total = NULL;
    stats_history_t *hist = NULL;
    double duration = 0;
    int64_t started = 0;
    int rc = EXIT_USAGE;
    json_t *from = json_array();
    size_t n = c->n_inputs;
    json_t **reps = calloc(n, sizeof *reps);
    stats_history_t **hists = calloc(n, sizeof *hists);
    int64_t *starts = calloc(n, sizeof *starts);
    double *offsets = calloc(n, sizeof *offsets);
    bool paced = true; /* the merge is paced when every part was */
    if (!from || !reps || !hists || !starts || !offsets) {
        log_error("--merge: out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *j = stats_report_read(c->inputs[i], err, sizeof err);
        stats_names_t *nm = NULL;
        stats_t *s = NULL;
        double d = 0;
        if (!j) {
            log_error("--merge %s", err);
            goto out;
        }
        reps[i] = j;
        if (stats_report_load(j, &nm, &s, &hists[i], &d, err, sizeof err) != 0) {
            log_error("--merge %s: %s", c->inputs[i], err);
            goto out;
        }
        json_t *su = json_object_get(j, "started_unix_us");
        starts[i] = json_is_integer(su) ? (int64_t)json_integer_value(su) : 0;
        paced = paced && json_is_true(json_object_get(j, "paced"));
        json_array_append_new(from, json_string(c->inputs[i]));
        if (!total) {
            names = nm, total = s;
        } else {
            bool same = same_names(names, nm);
            if (same)
                stats_merge(total, s);
            stats_free(s);
            stats_names_free(nm);
            if (!same) {
                log_error("--merge %s: its entries differ from %s (reports of the same scenario "
                          "merge; others do not)", c->inputs[i], c->inputs[0]);
                goto out;
            }
        }
        if (starts[i] && (starts[i] < started || !started))
            started = starts[i];
    }
    /* One run's duration: from the earliest start to the latest end. */
    for (size_t i = 0; i < n; i++) {
        offsets[i] = starts[i] && started ? (double)(starts[i] - started) / 1e6 : 0;
        double d = json_number_value(json_object_get(reps[i], "duration_s"));
        if (offsets[i] + d > duration)
            duration = offsets[i] + d;
        if (offsets[i] > 2)
            log_warn("--merge %s: started %.1f s after %s (--start-at starts segments together); "
                     "its history is placed at that offset", c->inputs[i], offsets[i],
                     c->inputs[0]);
    }
    hist = stats_history_merge((const stats_history_t *const *)hists, offsets, n);
    json_t *meta = hist ? merge_meta(reps, offsets, n, from, paced) : NULL;
    if (!meta) {
        log_error("--merge: the inputs' histories span more than 31 days, or out of memory");
        goto out;
    }
    json_t *sm = merge_script_metrics((const json_t *const *)reps, n, err, sizeof err);
    if (!sm) {
        log_error("--merge: %s", err);
        json_decref(meta);
        goto out;
    }
    if (json_array_size(sm))
        json_object_set_new(meta, "script_metrics", sm);
    else
        json_decref(sm);
    json_t *report = stats_report_json(total, names, hist, duration, started, meta);
    json_decref(meta);
    if (!c->quiet)
        stats_print_summary(stdout, total, names, duration);
    rc = finish(c, report, total, names, hist, duration, k);
    json_decref(report);
out:
    for (size_t i = 0; reps && hists && i < n; i++) {
        json_decref(reps[i]);
        stats_history_free(hists[i]);
    }
    free(reps);
    free(hists);
    free(starts);
    free(offsets);
    json_decref(from);
    stats_free(total);
    stats_history_free(hist);
    stats_names_free(names);
    return rc;
}

static int make_shape(const cli_t *c, shape_t *shape)
{
    if (c->shape_file) {
        char err[512];
        if (shape_load(c->shape_file, shape, err, sizeof err) != 0) {
            log_error("%s", err);
            return -1;
        }
        return 0;
    }
    shape_single(shape, c->users, c->rate_set ? c->spawn_rate : 0, c->duration_us);
    return shape->n ? 0 : -1;
}

static char **metrics_class_names(const plan_t *p)
{
    char **v = calloc(p->n_classes, sizeof *v);
    for (size_t i = 0; v && i < p->n_classes; i++)
        v[i] = (char *)p->classes[i].name;
    return v;
}

/* --start-at: N copies of a run start together (after everything is loaded). */
static int wait_start(const cli_t *c)
{
    int64_t left = c->start_at_us - clk_wall_us();
    if (c->start_at_us == 0 || left <= 0)
        return 0;
    if (left > 24 * 3600 * 1000000LL) {
        log_error("--start-at is more than a day away");
        return -1;
    }
    if (!c->quiet)
        log_info("starting in %.1f s (--start-at)", (double)left / 1e6);
    /* A signal while waiting ends the run before it began (nothing to report). */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    struct timespec ts = {(time_t)(left / 1000000), (long)(left % 1000000) * 1000};
    int sig = sigtimedwait(&set, NULL, &ts);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (sig > 0) {
        log_error("interrupted while waiting for --start-at; nothing ran");
        return -1;
    }
    return 0;
}

/* --map-host, --allow-host, --only-host, --resolve. NULL (message said) on a bad one. */
static origins_t *make_origins(const cli_t *c)
{
    char err[512];
    origins_t *o = origins_new();
    if (!o) {
        log_error("out of memory");
        return NULL;
    }
    for (size_t i = 0; i < c->n_map_hosts; i++)
        if (origins_add_map(o, c->map_hosts[i], err, sizeof err) != 0)
            goto bad;
    for (size_t i = 0; i < c->n_allow_hosts; i++)
        if (origins_add_allow(o, c->allow_hosts[i], err, sizeof err) != 0)
            goto bad;
    for (size_t i = 0; i < c->n_only_hosts; i++)
        if (origins_add_only(o, c->only_hosts[i], err, sizeof err) != 0)
            goto bad;
    for (size_t i = 0; i < c->n_resolves; i++)
        if (origins_add_pin(o, c->resolves[i], err, sizeof err) != 0)
            goto bad;
    return o;
bad:
    log_error("%s", err);
    origins_free(o);
    return NULL;
}

/* --set-header, --drop-header, --rewrite-path, --include, --exclude. NULL (said) on a bad one. */
static rewrite_t *make_rewrite(const cli_t *c)
{
    char err[512];
    rewrite_t *rw = rewrite_new();
    if (!rw) {
        log_error("out of memory");
        return NULL;
    }
    for (size_t i = 0; i < c->n_set_headers; i++)
        if (rewrite_set_header(rw, c->set_headers[i], err, sizeof err) != 0)
            goto bad;
    for (size_t i = 0; i < c->n_drop_headers; i++)
        if (rewrite_drop_header(rw, c->drop_headers[i], err, sizeof err) != 0)
            goto bad;
    for (size_t i = 0; i < c->n_rewrite_paths; i++)
        if (rewrite_path(rw, c->rewrite_paths[i], err, sizeof err) != 0)
            goto bad;
    for (size_t i = 0; i < c->n_filters; i++)
        if (rewrite_filter(rw, c->filter_include[i], c->filters[i], err, sizeof err) != 0)
            goto bad;
    return rw;
bad:
    log_error("%s", err);
    rewrite_free(rw);
    return NULL;
}

/* The rules on the loaded scenario (filters only when the converter did not
 * already apply them to the recording). 0, or -1 with the error said. */
static int apply_rewrite(const cli_t *c, rewrite_t *rw, scn_scenario_t *scn, bool recorded)
{
    if (!rewrite_any(rw))
        return 0;
    if (!recorded && rewrite_needs_status(rw)) {
        log_error("%s: --include/--exclude status: needs the recorded responses: give the recording "
                  "(a scenario keeps no status of its own)", c->scenario);
        return -1;
    }
    rewrite_stats_t st;
    char err[512];
    if (rewrite_scenario(rw, scn, !recorded, &st, err, sizeof err) != 0) {
        log_error("%s: %s", c->scenario, err);
        return -1;
    }
    if (!c->quiet)
        log_info("rewrite: %zu header(s) set, %zu dropped, %zu path(s) rewritten%s%zu request(s) left out "
                 "by --include/--exclude%s", st.headers_set, st.headers_dropped, st.paths_rewritten,
                 recorded ? "; " : ", ", st.excluded, recorded ? " are counted above" : "");
    return 0;
}

#ifdef AIOTEST_HAVE_CONVERT
/* --diff: the recorded response of every request of the scenario: class c's
 * requests in order (on_start, tasks, on_stop; a timed scenario has tasks only)
 * are tl->recorded[c]. NULL (said) on out of memory. */
static diff_t *make_diff(const cli_t *c, const scn_scenario_t *scn, const conv_timeline_t *tl)
{
    diff_opts_t o = {.values = c->diff_values, .length_tolerance = c->diff_length_tolerance};
    diff_t *d = diff_new(&o);
    for (size_t k = 0; d && k < scn->n_classes && k < tl->n_classes; k++) {
        const scn_steps_t *secs[] = {&scn->classes[k].on_start, &scn->classes[k].tasks,
                                     &scn->classes[k].on_stop};
        size_t i = 0;
        for (size_t j = 0; d && j < 3; j++)
            for (size_t s = 0; d && s < secs[j]->n; s++)
                for (size_t r = 0; r < secs[j]->v[s].n_requests && i < tl->n_recorded[k]; r++, i++) {
                    const conv_recorded_t *rec = &tl->recorded[k][i];
                    if (diff_add(d, &secs[j]->v[s].requests[r], rec->status, rec->content_type,
                                 rec->body, rec->body_len, rec->truncated) != 0) {
                        diff_free(d);
                        d = NULL;
                        break;
                    }
                }
    }
    if (!d || diff_seal(d) != 0) {
        log_error("out of memory reading the recorded responses for --diff");
        diff_free(d);
        return NULL;
    }
    return d;
}
#endif

/* Every response's body is kept (up to --max-body) when --diff compares it. */
static void plan_keep_bodies(plan_t *p)
{
    for (size_t c = 0; c < p->n_classes; c++) {
        plan_steps_t *secs[] = {&p->classes[c].on_start, &p->classes[c].tasks, &p->classes[c].on_stop};
        for (size_t j = 0; j < 3; j++)
            for (size_t s = 0; s < secs[j]->n; s++)
                for (size_t r = 0; r < secs[j]->v[s].n; r++)
                    secs[j]->v[s].reqs[r].needs_body = true;
    }
}

/* The report's list of the scenario's origins and what the run did with them. */
static json_t *origins_json(const plan_t *p)
{
    json_t *a = json_array();
    for (size_t i = 0; i < p->n_listing; i++) {
        const plan_listing_t *l = &p->listing[i];
        json_t *o = json_pack("{s:s, s:s, s:I}", "origin", l->origin, "route",
                              plan_route_name(l->route), "requests", (json_int_t)l->requests);
        if (o && l->index >= 0)
            json_object_set_new(o, "to", json_string(p->origins[l->index].origin));
        json_array_append_new(a, o);
    }
    json_t *refused = json_array();
    char names[64][300];
    size_t n = plan_refused_at_run_time(p, names, 64);
    for (size_t i = 0; i < n && i < 64; i++)
        json_array_append_new(refused, json_string(names[i]));
    return json_pack("{s:o, s:I, s:I, s:o}", "origins", a, "requests_left_out",
                     (json_int_t)p->n_dropped, "requests_routed_at_run_time",
                     (json_int_t)p->n_runtime, "origins_refused_at_run_time", refused);
}
#ifdef AIOTEST_HAVE_RWRITE
/* --remote-write: the sender, its series labelled job, instance (the host name:
 * a pod's name on Kubernetes), segment (with --segment) and run (--run-id).
 * NULL with the error logged. */
static rwrite_t *remote_start(const cli_t *c, metrics_t *m)
{
    char host[256] = "localhost", seg[16], err[512];
    gethostname(host, sizeof host - 1);
    snprintf(seg, sizeof seg, "%u", c->segment);
    const char *labels[8] = {"job", "aiotest", "instance", host};
    size_t n = 2;
    if (c->segments > 1)
        labels[2 * n] = "segment", labels[2 * n + 1] = seg, n++;
    if (c->run_id)
        labels[2 * n] = "run", labels[2 * n + 1] = c->run_id, n++;
    rwrite_t *w = rwrite_start(c->remote_write, labels, n, err, sizeof err);
    if (!w)
        log_error("--remote-write %s: %s", c->remote_write, err);
    else
        metrics_set_remote(m, w);
    return w;
}

/* Flushes what is queued (the run's final page included), at most 10 s. */
static void remote_stop(const cli_t *c, rwrite_t *w)
{
    if (!w)
        return;
    rwrite_stats_t st;
    rwrite_stop(w, 10000000, &st);
    if (st.rejected || st.dropped)
        log_warn("--remote-write %s: %llu batches sent, %llu refused, %llu lost (last error: %s)",
                 c->remote_write, (unsigned long long)st.sent, (unsigned long long)st.rejected,
                 (unsigned long long)st.dropped, st.last_error[0] ? st.last_error : "none");
    else if (!c->quiet)
        log_info("--remote-write: %llu batches (%llu samples) sent", (unsigned long long)st.sent,
                 (unsigned long long)st.samples);
}
#else
static rwrite_t *remote_start(const cli_t *c, metrics_t *m)
{
    (void)m;
    log_error("--remote-write %s: this build has no remote write (snappy and protobuf-c were "
              "missing when it was built)", c->remote_write);
    return NULL;
}
static void remote_stop(const cli_t *c, rwrite_t *w) { (void)c, (void)w; }
#endif

static int run(const cli_t *c, const checks_t *k)
{
    const verdict_t *v = k->fail_on;
    char err[512];
    int rc = EXIT_USAGE;
    shape_t shape = {0};
    plan_t *plan = NULL;
    engine_t *eng = NULL;
    metrics_t *metrics = NULL;
    rwrite_t *rw = NULL;
    json_t *report = NULL;
    secrets_t *secrets = NULL;
    scr_t *script = NULL;
    char *script_path = NULL;
    smet_t *smet = NULL;
    if (c->secrets && !(secrets = secrets_load(c->secrets, err, sizeof err))) {
        log_error("%s", err);
        return EXIT_USAGE;
    }
    origins_t *rules = make_origins(c);
    if (!rules) {
        secrets_free(secrets);
        return EXIT_USAGE;
    }
    rewrite_t *rewrites = make_rewrite(c);
    if (!rewrites) {
        secrets_free(secrets);
        origins_free(rules);
        return EXIT_USAGE;
    }
    timed_t timed = {0};
    diff_t *diff = NULL;
    bool recorded = c->timed;
#ifdef AIOTEST_HAVE_CONVERT
    conv_timeline_t tl = {0};
    scn_scenario_t *scn = c->timed ? load_timed(c, &tl, rewrites)
                                   : load_scenario(c->scenario, rewrites, &recorded, c->diff ? &tl : NULL);
    timed = (timed_t){.step_us = (const uint64_t *const *)tl.step_us, .n_steps = tl.n_steps,
                      .n_sessions = tl.n_classes, .length_us = tl.length_us, .speed = c->speed,
                      .loop = c->loop, .copies = c->copies, .spread_us = c->copies_spread_us,
                      .limit_rate = c->limit_rate, .ahead_us = c->connect_ahead_us};
#else
    if (c->timed || c->diff) {
        log_error("%s: this build has no converter library to read recordings",
                  c->timed ? "--timed" : "--diff");
        secrets_free(secrets);
        origins_free(rules);
        rewrite_free(rewrites);
        return EXIT_USAGE;
    }
    scn_scenario_t *scn = load_scenario(c->scenario, rewrites, &recorded, NULL);
#endif
    if (!scn) {
        secrets_free(secrets);
        origins_free(rules);
        rewrite_free(rewrites);
        return EXIT_USAGE;
    }
    if (apply_rewrite(c, rewrites, scn, recorded) != 0)
        goto out;
#ifdef AIOTEST_HAVE_CONVERT
    if (c->diff && !(diff = make_diff(c, scn, &tl)))
        goto out;
#endif
    char *dir = strdup(c->scenario);
    if (!dir)
        goto out;
    /* Before anything is sent: the origins, and whether the command line names each. */
    plan_opts_t po = {.host = c->host, .rules = rules, .no_resolve = c->check,
                      .listing = c->quiet ? NULL : stderr};
    char perr[4096];
    plan = plan_compile_opts(scn, &po, dirname(dir), perr, sizeof perr);
    free(dir);
    if (!plan) {
        log_error("%s: %s", c->scenario, perr);
        goto out;
    }
    if (secrets_seed(secrets, plan, err, sizeof err) != 0) {
        log_error("%s: %s", c->scenario, err);
        goto out;
    }
    if (plan->n_dropped)
        log_info("%u request(s) of the scenario left out by --only-host (listed above per origin)",
                 plan->n_dropped);
    plan_force_proto(plan, (scn_proto_t)c->force_proto);
    plan->max_conns_per_host = c->max_conns_per_host;
    plan->pipeline = c->pipeline;
    if (c->pipeline > 1 && (c->force_proto == SCN_PROTO_H2 || c->force_proto == SCN_PROTO_H2C))
        log_info("--pipeline %u: HTTP/2 multiplexes a parallel step already; nothing else changes",
                 c->pipeline);
    else if (c->pipeline > 1 && plan->any_tls)
        log_info("--pipeline %u: HTTP/1.1 connections only; origins that negotiate h2 ignore it",
                 c->pipeline);
    plan->max_body = (size_t)c->max_body;
    if (diff)
        plan_keep_bodies(plan);
    if (!c->timed && make_shape(c, &shape) != 0)
        goto out;
    /* Checked (syntax: FILE:LINE) before anything is sent; kept for done(). */
    bool oom;
    script_path = scr_path(c->script, c->scenario, scn->script, &oom);
    /* The script's metrics: one slot array per worker, the last for the main
     * thread's state (setup, done). */
    if (script_path && !(smet = smet_new(c->threads + 1)))
        oom = true;
    if (oom || (script_path && !(script = scr_open(script_path, -1, c->threads, smet, err, sizeof err)))) {
        log_error("%s", oom ? "out of memory" : err);
        goto out;
    }
    if (c->timed && !c->quiet) {
        size_t steps = 0;
        for (size_t i = 0; i < timed.n_sessions; i++)
            steps += timed.n_steps[i];
        log_info("timed replay: %zu session(s) x %u cop%s, %zu step(s) each pass; recording %.3f s, "
                 "at speed %g: %.3f s a pass%s", timed.n_sessions, timed.copies,
                 timed.copies == 1 ? "y" : "ies", steps * timed.copies, (double)timed.length_us / 1e6,
                 timed.speed, (double)timed.length_us / 1e6 / timed.speed, timed.loop ? ", looped" : "");
    }
    if (c->check) {
        printf("%s: ok (%zu class(es), %zu origin(s) to send to, %u request(s) routed at run time, "
               "%u left out; names not resolved, nothing sent)\n", c->scenario, plan->n_classes,
               plan->n_origins, plan->n_runtime, plan->n_dropped);
        rc = 0;
        goto out;
    }
    if (c->metrics || c->remote_write) {
        char **cn = metrics_class_names(plan);
        metrics = cn ? metrics_start(c->metrics, plan->names, (const char *const *)cn,
                                     plan->n_classes, err, sizeof err)
                     : NULL;
        free(cn);
        if (!metrics) {
            log_error("--metrics %s: %s", c->metrics ? c->metrics : "", err);
            goto out;
        }
    }
    if (c->remote_write && !(rw = remote_start(c, metrics)))
        goto out;
    engine_opts_t eo = {
        .plan = plan, .shape = &shape, .threads = c->threads, .iterations = c->iterations,
        .timeout_us = c->timeout_us, .connect_timeout_us = c->connect_timeout_us,
        .stop_timeout_us = c->stop_timeout_us,
        /* A timed replay has no think time; a WebSocket step's gaps between
         * messages are the recording's, sped up as its steps are. */
        .think_scale = c->timed ? c->think_scale / c->speed : c->think_scale,
        .max_users = c->max_users, .insecure = c->insecure, .ca_file = c->ca_file,
        .seed = c->seed ? c->seed : (uint64_t)clk_wall_us() ^ (uint64_t)getpid(),
        .live = !c->quiet && isatty(STDERR_FILENO), .metrics = metrics,
        .fail_fast = c->fail_fast ? v : NULL, .segment = c->segment, .segments = c->segments,
        .script = script_path, .smet = smet,
        .timed = c->timed ? &timed : NULL, .timed_duration_us = c->duration_us,
        .diff = diff,
    };
    if (c->timed)
        eo.iterations = 1; /* each user runs its session once */
    eng = engine_new(&eo, err, sizeof err);
    if (!eng) {
        log_error("%s", err);
        goto out;
    }
    if (wait_start(c) != 0)
        goto out;
    engine_run(eng);
    checks_t kk = *k;
    if (engine_nothing_planned(eng)) {
        /* N pods of an Indexed Job for fewer users: not a failed pod. */
        log_info("nothing planned for segment %u/%u: the shape gives it no user and no arrival "
                 "rate (exit status 0)", c->segment, c->segments);
        kk.nothing_planned = true;
    }
    k = &kk;
    stats_t *total = engine_total(eng);
    double dur = engine_duration_s(eng);
    if (!c->quiet)
        stats_print_summary(stdout, total, plan->names, dur);
    report = stats_report_json(total, plan->names, engine_history(eng), dur,
                               engine_started_wall_us(eng), NULL);
    json_t *meta = run_meta(c, eng, &shape, plan);
    if (report && meta)
        json_object_update_missing(report, meta);
    json_decref(meta);
    if (report && smet_metrics(smet)) {
        json_t *sm = smet_json(smet);
        if (!sm || json_object_set_new(report, "script_metrics", sm) != 0) {
            log_error("out of memory building the report");
            goto out;
        }
        if (smet_refused(smet) > 0)
            log_warn("script metrics: %.0f update(s) refused: a label set came past the bound of %d "
                     "per metric (by metric: the report's script_metrics[].refused and "
                     "aiotest_script_updates_refused_total)", smet_refused(smet), SMET_SERIES_MAX);
    }
    json_t *oj = origins_json(plan);
    if (report && oj)
        json_object_update_missing(report, oj);
    json_decref(oj);
    if (!report) {
        log_error("out of memory building the report");
        goto out;
    }
    rc = finish(c, report, total, plan->names, engine_history(eng), dur, k);
    if (rc == 0 && engine_failed_fast(eng))
        rc = EXIT_FAILED;
    rc = scr_done(script, total, plan->names, dur, rc);
    remote_stop(c, rw);
    rw = NULL;
    /* Until the run's last page has been scraped: a Job's pod must not take its
     * last samples with it, nor wait out the whole linger when scraped. */
    if (c->metrics && c->metrics_linger_us && !metrics_linger(metrics, c->metrics_linger_us))
        log_warn("--metrics-linger: no scrape of the final /metrics page within %.1f s; "
                 "Prometheus may miss the run's last seconds",
                 (double)c->metrics_linger_us / 1e6);
out:
    remote_stop(c, rw);
    json_decref(report);
    if (metrics)
        metrics_stop(metrics);
    engine_free(eng);
    scr_free(script);
    smet_free(smet);
    free(script_path);
    shape_fini(&shape);
    secrets_free(secrets);
    /* The process ends next, and takes its memory back at once: freeing a
     * big recording's plan and scenario piece by piece (200 000 requests: a
     * walk over cold memory, 6 % of a timed replay's CPU) is skipped, except
     * where leaks are checked, so that a real one still shows there. */
    if (FREE_AT_EXIT) {
        plan_free(plan);
        scn_free(scn);
#ifdef AIOTEST_HAVE_CONVERT
        conv_timeline_fini(&tl);
#endif
    }
    origins_free(rules);
    rewrite_free(rewrites);
    diff_free(diff);
    return rc;
}

/* opt PATH can be written: opened for writing without truncating it (an
 * earlier report stays until the run replaces it), and removed again when
 * the check created it. Returns 0, or -1 with the reason logged. */
static int check_writable(const char *opt, const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        log_error("%s %s: is a directory (expected a file to write)", opt, path);
        return -1;
    }
    bool existed = access(path, F_OK) == 0;
    int fd = open(path, O_WRONLY | O_CLOEXEC | (existed ? 0 : O_CREAT | O_EXCL), 0644);
    if (fd < 0) {
        log_error("%s %s: cannot write: %s", opt, path, strerror(errno));
        return -1;
    }
    close(fd);
    if (!existed)
        unlink(path);
    return 0;
}

/* Every output path, before anything runs: a typo must not cost a long run. */
static int check_outputs(const cli_t *c)
{
    if (c->report && check_writable("--report", c->report) != 0)
        return -1;
    if (c->html && check_writable("--html", c->html) != 0)
        return -1;
    if (c->csv) {
        static const char *const kinds[] = {"stats", "failures", "stats_history"};
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s_%s.csv", c->csv, kinds[i]);
            if (check_writable("--csv", path) != 0)
                return -1;
        }
    }
    return 0;
}

/* --baseline FILE: read and checked before anything runs, so a typo costs
 * nothing. NULL with the error logged. */
static json_t *load_baseline(const char *path)
{
    char err[512];
    json_t *base = stats_report_read(path, err, sizeof err);
    if (!base) {
        log_error("--baseline %s", err);
        return NULL;
    }
    stats_names_t *n = NULL;
    stats_t *s = NULL;
    stats_history_t *h = NULL;
    double d;
    if (stats_report_load(base, &n, &s, &h, &d, err, sizeof err) != 0) {
        log_error("--baseline %s: %s", path, err);
        json_decref(base);
        base = NULL;
    }
    stats_free(s);
    stats_history_free(h);
    stats_names_free(n);
    return base;
}

int main(int argc, char **argv)
{
    log_init("aiotest-replay", LOG_INFO);
    signal(SIGPIPE, SIG_IGN); /* a peer closing mid-write is a counted failure, not an exit */
    cli_t c;
    int pr = cli_parse(&c, argc, argv);
    if (pr != CLI_RUN) {
        cli_fini(&c);
        return pr == CLI_EXIT_OK ? 0 : EXIT_USAGE;
    }
    char err[512];
    verdict_t *v = NULL;
    checks_t k = {0};
    int rc = EXIT_USAGE;
    if (c.fail_on) {
        v = verdict_parse(c.fail_on, err, sizeof err);
        if (!v) {
            log_error("--fail-on: %s", err);
            goto out;
        }
    }
    k.fail_on = v;
    verdict_cmp_t *cmp = verdict_cmp_new(c.tolerances, c.n_tolerances, c.compare, err, sizeof err);
    if (!cmp) {
        log_error("%s", err);
        goto out;
    }
    k.cmp = cmp;
    if (c.baseline && !(k.baseline = load_baseline(c.baseline)))
        goto out;
    if (check_outputs(&c) != 0)
        goto out;
    rc = c.merge ? merge_reports(&c, &k) : run(&c, &k);
out:
    json_decref(k.baseline);
    verdict_cmp_free((verdict_cmp_t *)k.cmp);
    verdict_free(v);
    cli_fini(&c);
    return rc;
}

/* aiotest-replay: load the scenario, compile it, run the engine, write the
 * results. Exit 0 ok, 1 thresholds or baseline failed, 2 usage or input error. */
#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "clock.h"
#include "engine.h"
#include "log.h"
#include "metrics.h"
#include "plan.h"
#include "report.h"
#include "scenario.h"
#include "shape.h"
#include "stats.h"
#include "verdict.h"
#include "view.h"
#ifdef AIOTEST_HAVE_CONVERT
#include "convert.h"
#endif

#define EXIT_FAILED 1
#define EXIT_USAGE 2

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* A scenario (.mp), its JSON view, or a recording converted with defaults. */
static scn_scenario_t *load_scenario(const char *path)
{
    scn_scenario_t *s = NULL;
    mp_error_t err = {0};
    int rc;
    if (ends_with(path, ".json")) {
        rc = view_scenario_load_json(path, &s, &err);
    } else {
        rc = mp_file_kind(path, &err);
        if (rc == MP_KIND_RECORDING) {
#ifdef AIOTEST_HAVE_CONVERT
            conv_opts_t o;
            conv_opts_init(&o);
            const char *paths[] = {path};
            conv_stats_t st;
            rc = conv_to_scenario(paths, 1, &o, &s, &st, &err);
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
    if (rc < 0 || !s) {
        log_error("%s", err.msg[0] ? err.msg : "cannot load the scenario");
        return NULL;
    }
    return s;
}

/* The run's setting in the report, so a report says what produced it. */
static json_t *run_meta(const cli_t *c, engine_t *e, const shape_t *shape)
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
    return meta;
}

/* Report files and verdicts: exit status 0 or 1 (2 when a file cannot be written). */
static int finish(const cli_t *c, json_t *report, stats_t *total, const stats_names_t *names,
                  const stats_history_t *hist, double duration_s, const verdict_t *v)
{
    char err[512];
    int rc = 0;
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
    if (v && !verdict_check(v, report, stdout) && rc == 0)
        rc = EXIT_FAILED;
    if (c->baseline) {
        json_t *base = stats_report_read(c->baseline, err, sizeof err);
        if (!base) {
            log_error("--baseline %s", err);
            return EXIT_USAGE;
        }
        if (!verdict_baseline(report, base, c->tolerance, stdout) && rc == 0)
            rc = EXIT_FAILED;
        json_decref(base);
    }
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

/* --merge: reports of the same scenario (e.g. --segment runs) added exactly. */
static int merge_reports(const cli_t *c, const verdict_t *v)
{
    char err[512];
    stats_names_t *names = NULL;
    stats_t *total = NULL;
    stats_history_t *hist = NULL;
    double duration = 0;
    int64_t started = 0;
    int rc = EXIT_USAGE;
    json_t *from = json_array();
    for (size_t i = 0; i < c->n_inputs; i++) {
        json_t *j = stats_report_read(c->inputs[i], err, sizeof err);
        stats_names_t *n = NULL;
        stats_t *s = NULL;
        stats_history_t *h = NULL;
        double d = 0;
        if (!j) {
            log_error("--merge %s", err);
            goto out;
        }
        if (stats_report_load(j, &n, &s, &h, &d, err, sizeof err) != 0) {
            log_error("--merge %s: %s", c->inputs[i], err);
            json_decref(j);
            goto out;
        }
        json_t *su = json_object_get(j, "started_unix_us");
        int64_t st = json_is_integer(su) ? (int64_t)json_integer_value(su) : 0;
        json_decref(j);
        json_array_append_new(from, json_string(c->inputs[i]));
        if (!total) {
            names = n, total = s, hist = h, duration = d, started = st;
            continue;
        }
        bool same = same_names(names, n);
        if (same)
            stats_merge(total, s);
        stats_free(s);
        stats_history_free(h);
        stats_names_free(n);
        if (!same) {
            log_error("--merge %s: its entries differ from %s (reports of the same scenario "
                      "merge; others do not)", c->inputs[i], c->inputs[0]);
            goto out;
        }
        if (d > duration)
            duration = d;
        if (st && (st < started || !started))
            started = st;
    }
    json_t *meta = json_pack("{s:O}", "merged_from", from);
    json_t *report = stats_report_json(total, names, hist, duration, started, meta);
    json_decref(meta);
    if (!c->quiet)
        stats_print_summary(stdout, total, names, duration);
    rc = finish(c, report, total, names, hist, duration, v);
    json_decref(report);
out:
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

static int run(const cli_t *c, const verdict_t *v)
{
    char err[512];
    int rc = EXIT_USAGE;
    shape_t shape = {0};
    plan_t *plan = NULL;
    engine_t *eng = NULL;
    metrics_t *metrics = NULL;
    json_t *report = NULL;
    scn_scenario_t *scn = load_scenario(c->scenario);
    if (!scn)
        return EXIT_USAGE;
    char *dir = strdup(c->scenario);
    if (!dir)
        goto out;
    plan = plan_compile(scn, c->host, dirname(dir), err, sizeof err);
    free(dir);
    if (!plan) {
        log_error("%s: %s", c->scenario, err);
        goto out;
    }
    plan_force_proto(plan, (scn_proto_t)c->force_proto);
    plan->max_conns_per_host = c->max_conns_per_host;
    if (make_shape(c, &shape) != 0)
        goto out;
    if (c->metrics) {
        char **cn = metrics_class_names(plan);
        metrics = cn ? metrics_start(c->metrics, plan->names, (const char *const *)cn,
                                     plan->n_classes, err, sizeof err)
                     : NULL;
        free(cn);
        if (!metrics) {
            log_error("--metrics %s: %s", c->metrics, err);
            goto out;
        }
    }
    engine_opts_t eo = {
        .plan = plan, .shape = &shape, .threads = c->threads, .iterations = c->iterations,
        .timeout_us = c->timeout_us, .connect_timeout_us = c->connect_timeout_us,
        .stop_timeout_us = c->stop_timeout_us, .think_scale = c->think_scale,
        .max_users = c->max_users, .insecure = c->insecure, .ca_file = c->ca_file,
        .seed = c->seed ? c->seed : (uint64_t)clk_wall_us() ^ (uint64_t)getpid(),
        .live = !c->quiet && isatty(STDERR_FILENO), .metrics = metrics,
        .fail_fast = c->fail_fast ? v : NULL, .segment = c->segment, .segments = c->segments,
    };
    eng = engine_new(&eo, err, sizeof err);
    if (!eng) {
        log_error("%s", err);
        goto out;
    }
    if (wait_start(c) != 0)
        goto out;
    engine_run(eng);
    stats_t *total = engine_total(eng);
    double dur = engine_duration_s(eng);
    if (!c->quiet)
        stats_print_summary(stdout, total, plan->names, dur);
    report = stats_report_json(total, plan->names, engine_history(eng), dur,
                               engine_started_wall_us(eng), NULL);
    json_t *meta = run_meta(c, eng, &shape);
    if (report && meta)
        json_object_update_missing(report, meta);
    json_decref(meta);
    if (!report) {
        log_error("out of memory building the report");
        goto out;
    }
    rc = finish(c, report, total, plan->names, engine_history(eng), dur, v);
    if (rc == 0 && engine_failed_fast(eng))
        rc = EXIT_FAILED;
    if (metrics && c->metrics_linger_us) {
        struct timespec ts = {(time_t)(c->metrics_linger_us / 1000000),
                              (long)(c->metrics_linger_us % 1000000) * 1000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
out:
    json_decref(report);
    if (metrics)
        metrics_stop(metrics);
    engine_free(eng);
    shape_fini(&shape);
    plan_free(plan);
    scn_free(scn);
    return rc;
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
    verdict_t *v = NULL;
    if (c.fail_on) {
        char err[512];
        v = verdict_parse(c.fail_on, err, sizeof err);
        if (!v) {
            log_error("--fail-on: %s", err);
            cli_fini(&c);
            return EXIT_USAGE;
        }
    }
    int rc = c.merge ? merge_reports(&c, v) : run(&c, v);
    verdict_free(v);
    cli_fini(&c);
    return rc;
}

/* convert: the library entry, conv_to_scenario, running the stages in order:
 * input -> pick -> session -> classes -> steps -> draft -> params/correlate. */
#include "convert.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bodies.h"
#include "classes.h"
#include "clock.h"
#include "correlate.h"
#include "draft.h"
#include "pick.h"
#include "input.h"
#include "params.h"
#include "session.h"
#include "steps.h"
#include "wsstep.h"
#include "xset.h"

char *conv_stats_line(const conv_stats_t *s, char *buf, size_t len)
{
    size_t dropped = s->dropped_error + s->dropped_host + s->dropped_path + s->dropped_static +
                     s->dropped_upgrade + s->dropped_rule;
    char skipped[200] = "", upgrade[64] = "";
    if (s->dropped_upgrade)
        snprintf(upgrade, sizeof upgrade, ", upgrade %zu", s->dropped_upgrade);
    if (s->skipped)
        snprintf(skipped, sizeof skipped, " (%s)", s->skipped_at);
    snprintf(buf, len, "%zu read; %zu skipped%s; dropped %zu (error %zu, host %zu, path %zu, static %zu%s); %zu kept; "
             "%zu session(s) -> %zu class(es), %zu request(s); %zu correlated, %zu generated, %zu data",
             s->read, s->skipped, skipped, dropped, s->dropped_error, s->dropped_host, s->dropped_path, s->dropped_static,
             upgrade, s->kept, s->sessions, s->classes, s->requests, s->correlated, s->generated, s->data_values);
    size_t o = strlen(buf);
    if (s->ws_steps)
        o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "; %zu WebSocket session(s) -> ws steps, "
                              "%zu message(s)", s->ws_steps, s->ws_messages);
    if (s->ws_background)
        o += (size_t)snprintf(buf + o, o < len ? len - o : 0, ", %zu in the background", s->ws_background);
    if (s->ws_cut)
        o += (size_t)snprintf(buf + o, o < len ? len - o : 0, ", %zu cut at --max-body (prefix sent)", s->ws_cut);
    if (s->ws_braces)
        o += (size_t)snprintf(buf + o, o < len ? len - o : 0, ", %zu left out (text holding '{{')", s->ws_braces);
    if (s->dropped_rule)
        o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "; %zu left out by --include/--exclude",
                              s->dropped_rule);
    if (s->bodies_decoded || s->bodies_undecoded)
        o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "; %zu decoded", s->bodies_decoded);
    if (s->bodies_undecoded)
        o += (size_t)snprintf(buf + o, o < len ? len - o : 0, ", %zu undecoded (%s)", s->bodies_undecoded,
                              s->undecoded_names);
    if (s->bodies_limited)
        snprintf(buf + o, o < len ? len - o : 0, ", %zu cut at the decode limit of %u MiB", s->bodies_limited,
                 BODIES_MAX_DECODED >> 20);
    return buf;
}

static int oom(mp_error_t *err)
{
    snprintf(err->msg, sizeof err->msg, "out of memory");
    return MP_ERR_IO;
}

/* Scenario hosts: every recorded origin, the most used first. */
static int make_hosts(const xset_t *xs, const bool *keep, scn_scenario_t *s)
{
    size_t *count = calloc(xs->n ? xs->n : 1, sizeof *count);
    if (!count)
        return -1;
    for (size_t i = 0; i < xs->n; i++) {
        if (!keep[i])
            continue;
        char o[512];
        draft_origin(&xs->v[i].x, o, sizeof o);
        size_t h;
        for (h = 0; h < s->n_hosts && strcmp(s->hosts[h].base_url, o) != 0; h++)
            ;
        if (h == s->n_hosts) {
            scn_host_t *v = realloc(s->hosts, (s->n_hosts + 1) * sizeof *v);
            if (!v || !(v[h].base_url = strdup(o))) {
                if (v)
                    s->hosts = v;
                free(count);
                return -1;
            }
            v[h].proto = SCN_PROTO_AUTO;
            s->hosts = v;
            s->n_hosts++;
        }
        /* Cleartext HTTP/2 was prior knowledge (an upgraded request is
         * recorded as HTTP/1.1): "auto" would speak HTTP/1.1 to it (gRPC over h2c). */
        const rec_exchange_t *x = &xs->v[i].x;
        if (x->http_version && strcmp(x->http_version, "HTTP/2") == 0 && x->scheme &&
            strcmp(x->scheme, "http") == 0)
            s->hosts[h].proto = SCN_PROTO_H2C;
        count[h]++;
    }
    size_t best = 0;
    for (size_t h = 1; h < s->n_hosts; h++)
        if (count[h] > count[best])
            best = h;
    if (best) {
        scn_host_t t = s->hosts[0];
        s->hosts[0] = s->hosts[best];
        s->hosts[best] = t;
    }
    free(count);
    return 0;
}

/* One step of a session in time order: an HTTP step of the plan, or a
 * WebSocket session (ws != NULL). */
typedef struct item {
    int64_t t0, t1;           /* start; end of its last response (or the close) */
    size_t k;                 /* plan step (HTTP) */
    const rec_exchange_t *ws;
    int sec;                  /* 0 on_start, 1 tasks, 2 on_stop */
} item_t;

static int item_cmp(const void *a, const void *b)
{
    const item_t *x = a, *y = b;
    if (x->t0 != y->t0)
        return x->t0 < y->t0 ? -1 : 1;
    if ((x->ws != NULL) != (y->ws != NULL))
        return x->ws ? -1 : 1;
    return x->k < y->k ? -1 : x->k > y->k;
}

/* Moves the items of section sec into out: an HTTP step takes its requests
 * out of reqs, a ws step is made from its exchange. A step's think time is the
 * plan's when the next step is the plan's next, else the gap to the next one. */
static int make_steps(scn_request_t *reqs, const step_plan_t *p, const item_t *it, size_t n_it, int sec,
                      const conv_opts_t *o, wsstep_stats_t *wst, scn_steps_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < n_it; i++)
        n += it[i].sec == sec;
    if (n == 0)
        return 0;
    if (!(out->v = calloc(n, sizeof *out->v)))
        return -1;
    for (size_t i = 0; i < n_it; i++) {
        if (it[i].sec != sec)
            continue;
        scn_step_t *st = &out->v[out->n++];
        const item_t *next = i + 1 < n_it ? &it[i + 1] : NULL;
        int64_t from = it[i].t1;
        if (it[i].ws) {
            if (!(st->ws = wsstep_from_exchange(it[i].ws, o, wst)))
                return -1;
            /* The next step started while the session was open: the session
             * runs beside the steps, and the pause counts from its connect. */
            if (next && next->sec == sec && next->t0 < it[i].t1) {
                st->ws->background = true;
                wst->background++;
                from = it[i].t0;
            }
        } else {
            const step_plan_t *pk = &p[it[i].k];
            if (!(st->requests = calloc(pk->n, sizeof *st->requests)))
                return -1;
            memcpy(st->requests, &reqs[pk->first], pk->n * sizeof *st->requests);
            memset(&reqs[pk->first], 0, pk->n * sizeof *st->requests);
            st->n_requests = pk->n;
            st->parallel = pk->n > 1;
            if (!next || (!next->ws && next->k == it[i].k + 1)) {
                st->think_us = pk->think_us;
                continue;
            }
        }
        int64_t gap = next ? next->t0 - from : 0;
        st->think_us = gap > 0 ? steps_think((uint64_t)gap, o) : 0;
    }
    return 0;
}

typedef struct build {
    const conv_opts_t *o;
    const xset_t *xs;
    const char *origin;       /* hosts[0] */
    const params_row_t *row;  /* NULL without --data */
    conv_stats_t *st;
} build_t;

static int make_requests(const build_t *b, const rec_exchange_t *const *xs, scn_request_t *reqs,
                         const size_t *step_of, size_t n, const char *who)
{
    for (size_t i = 0; i < n; i++)
        if (draft_from_exchange(xs[i], b->origin, &reqs[i]) < 0)
            return -1;
    if (b->row) {
        long r = params_apply_row(b->row, reqs, n);
        if (r < 0)
            return -1;
        b->st->data_values += (size_t)r;
    }
    if (!b->o->correlate)
        return 0;
    if (corr_run(xs, reqs, step_of, n, who, b->o->report, &b->st->correlated, NULL) < 0)
        return -1;
    return params_generators(xs, reqs, n, who, b->o->report, &b->st->generated);
}

/* timed: all steps are tasks, and *step_us (caller frees) gets when each started
 * after t0 (the recording's first request). NULL timed: the usual sections. */
typedef struct timed_out {
    bool sections;                /* the usual sections and no schedule: only recorded */
    int64_t t0;
    uint64_t *step_us;
    size_t n_steps;
    conv_recorded_t *recorded;
    size_t n_recorded;
} timed_out_t;

static int record_response(const rec_exchange_t *x, conv_recorded_t *r)
{
    r->status = x->status;
    r->truncated = x->resp_truncated;
    for (size_t i = 0; i < x->resp_headers.n && !r->content_type; i++)
        if (strcasecmp(x->resp_headers.v[i].name, "content-type") == 0 &&
            !(r->content_type = strdup(x->resp_headers.v[i].value)))
            return -1;
    if (x->resp_body_len) {
        if (!(r->body = malloc(x->resp_body_len)))
            return -1;
        memcpy(r->body, x->resp_body, x->resp_body_len);
        r->body_len = x->resp_body_len;
    }
    return 0;
}

/* The session's steps in time order with their sections: HTTP steps as
 * steps_sections says; a WebSocket session in the section of the HTTP step it
 * comes before (after the last one: the last step's section), tasks when
 * the session has no HTTP step. */
static item_t *order_items(const rec_exchange_t *const *xs, const step_plan_t *plan, size_t n_steps,
                           step_sections_t sec, const rec_exchange_t *const *ws, size_t n_ws)
{
    item_t *it = calloc(n_steps + n_ws ? n_steps + n_ws : 1, sizeof *it);
    if (!it)
        return NULL;
    for (size_t k = 0; k < n_steps; k++) {
        item_t *t = &it[k];
        t->k = k;
        t->t0 = xs[plan[k].first]->t_start_us;
        t->t1 = t->t0;
        for (size_t i = plan[k].first; i < plan[k].first + plan[k].n; i++)
            if (xs[i]->t_end_us > t->t1)
                t->t1 = xs[i]->t_end_us;
        t->sec = k < sec.start_end ? 0 : k < sec.stop_begin ? 1 : 2;
    }
    for (size_t j = 0; j < n_ws; j++) {
        item_t *t = &it[n_steps + j];
        t->ws = ws[j];
        t->t0 = ws[j]->t_start_us;
        t->t1 = ws[j]->t_end_us > t->t0 ? ws[j]->t_end_us : t->t0;
        size_t p = 0;
        while (p < n_steps && it[p].t0 < t->t0)
            p++;
        t->k = p;
        t->sec = n_steps == 0 ? 1 : p < n_steps ? it[p].sec : it[n_steps - 1].sec;
        if (p > 0 && p < n_steps && it[p - 1].sec == 1)
            t->sec = 1; /* between a task and an on_stop step: still a task */
    }
    qsort(it, n_steps + n_ws, sizeof *it, item_cmp);
    return it;
}

static int make_class(const build_t *b, const cls_t *c, const sess_t *se, scn_class_t *out,
                      timed_out_t *timed)
{
    size_t n = 0, n_ws = 0, n_steps = 0;
    const rec_exchange_t **xs = calloc(se->n ? se->n : 1, sizeof *xs);
    const rec_exchange_t **ws = calloc(se->n ? se->n : 1, sizeof *ws);
    scn_request_t *reqs = calloc(se->n ? se->n : 1, sizeof *reqs);
    size_t *step_of = calloc(se->n ? se->n : 1, sizeof *step_of);
    step_plan_t *plan = NULL;
    item_t *items = NULL;
    char *who = NULL;
    int rc = -1;
    if (!xs || !ws || !reqs || !step_of || asprintf(&who, "class '%s'", c->name) < 0)
        goto out;
    /* WebSocket sessions become ws steps beside the HTTP steps. */
    for (size_t i = 0; i < se->n; i++) {
        const rec_exchange_t *x = &b->xs->v[se->idx[i]].x;
        if (pick_is_websocket(x))
            ws[n_ws++] = x;
        else
            xs[n++] = x;
    }
    if (n && steps_plan(xs, n, b->o, &plan, &n_steps) < 0)
        goto out;
    for (size_t k = 0; k < n_steps; k++)
        for (size_t i = plan[k].first; i < plan[k].first + plan[k].n; i++)
            step_of[i] = k;
    if (make_requests(b, xs, reqs, step_of, n, who) < 0)
        goto out;
    step_sections_t sec = n_steps ? steps_sections(xs, plan, n_steps) : (step_sections_t){0, 0};
    if (timed && !timed->sections) {
        /* The schedule is the recording's: every step runs once, in order, at its time. */
        sec.start_end = 0;
        sec.stop_begin = n_steps;
    }
    if (timed) {
        /* Steps, and the sections after them, are consecutive ranges of the
         * session: request i is xs[i]. */
        if (!(timed->recorded = calloc(n ? n : 1, sizeof *timed->recorded)))
            goto out;
        timed->n_recorded = n;
        for (size_t i = 0; i < n; i++)
            if (record_response(xs[i], &timed->recorded[i]) < 0)
                goto out;
    }
    if (!(items = order_items(xs, plan, n_steps, sec, ws, n_ws)))
        goto out;
    if (timed && !timed->sections) {
        /* Every item is a task, so the tasks are the items in this order: a
         * WebSocket session is due when its handshake started. */
        size_t n_items = n_steps + n_ws;
        if (!(timed->step_us = calloc(n_items ? n_items : 1, sizeof *timed->step_us)))
            goto out;
        timed->n_steps = n_items;
        for (size_t k = 0; k < n_items; k++) {
            int64_t t = items[k].t0 - timed->t0;
            timed->step_us[k] = t > 0 ? (uint64_t)t : 0;
        }
    }
    if (!(out->name = strdup(c->name)))
        goto out;
    out->weight = c->weight;
    out->wait.kind = b->o->think == CONV_THINK_NONE ? SCN_WAIT_NONE : SCN_WAIT_RECORDED;
    wsstep_stats_t wst = {0};
    if (make_steps(reqs, plan, items, n_steps + n_ws, 0, b->o, &wst, &out->on_start) < 0 ||
        make_steps(reqs, plan, items, n_steps + n_ws, 1, b->o, &wst, &out->tasks) < 0 ||
        make_steps(reqs, plan, items, n_steps + n_ws, 2, b->o, &wst, &out->on_stop) < 0)
        goto out;
    b->st->requests += n;
    b->st->ws_steps += n_ws;
    b->st->ws_messages += wst.messages;
    b->st->ws_cut += wst.cut;
    b->st->ws_braces += wst.braces;
    b->st->correlated += wst.correlated;
    b->st->ws_background += wst.background;
    rc = 0;
out:
    for (size_t i = 0; reqs && i < n; i++)
        scn_request_fini(&reqs[i]);
    free(reqs);
    free(xs);
    free(ws);
    free(step_of);
    free(plan);
    free(items);
    free(who);
    return rc;
}

/* Prints the inputs' notes; counts the skipped entries, names them on the report, and lists where in
 * st->skipped_at ("a.har entry 3, 17; b.har entry 0"). */
static void note_skips(const xset_t *xs, const conv_opts_t *o, conv_stats_t *st)
{
    char *at = st->skipped_at;
    size_t cap = sizeof st->skipped_at, len = 0;
    for (size_t i = 0; o->report && i < xs->n_notes; i++)
        fprintf(o->report, "aiotest-convert: warning: %s\n", xs->notes[i]);
    for (size_t i = 0; i < xs->n_skips; i++) {
        const xs_skip_t *k = &xs->skips[i];
        if (o->report)
            fprintf(o->report, "aiotest-convert: warning: %s; entry skipped\n", k->why);
        bool same = i > 0 && xs->skips[i - 1].file == k->file;
        char piece[64];
        const char *base = strrchr(k->file, '/') ? strrchr(k->file, '/') + 1 : k->file;
        if (same)
            snprintf(piece, sizeof piece, ", %ld", k->index);
        else
            snprintf(piece, sizeof piece, "%s%.40s entry %ld", i ? "; " : "", base, k->index);
        if (len + strlen(piece) + 4 < cap) {
            len += (size_t)snprintf(at + len, cap - len, "%s", piece);
        } else if (len + 4 < cap && !strstr(at, "...")) {
            len += (size_t)snprintf(at + len, cap - len, "...");
        }
    }
    st->skipped = xs->n_skips;
}

/* Reads every input and decides which exchanges become requests. */
static int read_inputs(const char *const *paths, size_t n, const conv_opts_t *o, xset_t *xs,
                       bool **keep, conv_stats_t *st, mp_error_t *err)
{
    pick_t *f = pick_new(o, err);  /* first: a bad option is named before any input is read */
    if (!f)
        return MP_ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        size_t had = xs->n;
        bool damaged;
        int rc = input_load(paths[i], i, xs, &damaged, err);
        if (rc) {
            pick_free(f);
            return rc < 0 ? rc : MP_ERR_FORMAT;
        }
        if (damaged) {
            st->damaged++;
            if (o->report)
                fprintf(o->report, "aiotest-convert: warning: %s; the %zu complete record(s) before it are used\n",
                        err->msg, xs->n - had);
            memset(err, 0, sizeof *err);
        }
    }
    note_skips(xs, o, st);
    if (!(*keep = calloc(xs->n ? xs->n : 1, sizeof **keep))) {
        pick_free(f);
        return oom(err);
    }
    for (size_t i = 0; i < xs->n; i++) {
        pick_verdict_t v = pick_check(f, &xs->v[i].x);
        switch (v) {
        case PICK_KEEP_WS:
        case PICK_KEEP:
            if (o->keep && !o->keep(o->keep_arg, &xs->v[i].x)) {
                st->dropped_rule++;
                break;
            }
            (*keep)[i] = true;
            st->kept++;
            break;
        case PICK_DROP_ERROR: st->dropped_error++; break;
        case PICK_DROP_HOST: st->dropped_host++; break;
        case PICK_DROP_PATH: st->dropped_path++; break;
        case PICK_DROP_STATIC: st->dropped_static++; break;
        case PICK_DROP_UPGRADE: st->dropped_upgrade++; break;
        }
    }
    st->read = xs->n;
    pick_free(f);
    if (st->kept == 0 && xs->n_skips && st->read == 0) {
        /* Nothing read at all: the first reason is the error (the others are warnings). */
        snprintf(err->msg, sizeof err->msg, "%s (no entry could be read: %zu skipped)", xs->skips[0].why,
                 xs->n_skips);
        return MP_ERR_INVALID;
    }
    bodies_stats_t bs = {0};
    if (bodies_decode(xs, *keep, &bs) < 0)
        return oom(err);
    st->bodies_decoded = bs.decoded;
    st->bodies_undecoded = bs.undecoded;
    st->bodies_limited = bs.limited;
    snprintf(st->undecoded_names, sizeof st->undecoded_names, "%s", bs.names);
    if (st->kept == 0) {
        char ws[200] = "";
        if (st->dropped_upgrade)
            snprintf(ws, sizeof ws, "; %zu upgraded connection(s) (h2c, tcp), which the replay cannot run",
                     st->dropped_upgrade);
        snprintf(err->msg, sizeof err->msg, "%s%s: no request left to replay (%zu read, %zu skipped, all dropped by "
                 "the filters or unanswered%s)", paths[0], n > 1 ? " ..." : "", st->read, st->skipped, ws);
        return MP_ERR_INVALID;
    }
    return 0;
}

static int add_data(const conv_opts_t *o, scn_scenario_t *s, mp_error_t *err)
{
    char abs[PATH_MAX];
    if (!realpath(o->data_csv, abs)) {
        snprintf(err->msg, sizeof err->msg, "--data %s: cannot resolve the path", o->data_csv);
        return MP_ERR_IO;
    }
    if (!(s->data = calloc(1, sizeof *s->data)) || !(s->data[0].path = strdup(abs)))
        return oom(err);
    s->n_data = 1;  /* n_vars 0: the header row names the variables */
    return 0;
}

/* timed_by_connection: the session key becomes the client and the connection. */
static int key_by_connection(xset_t *xs)
{
    for (size_t i = 0; i < xs->n; i++) {
        char *k = NULL;
        if (asprintf(&k, "%s|conn %llu", xs->v[i].key, (unsigned long long)xs->v[i].x.conn_id) < 0)
            return -1;
        free(xs->v[i].key);
        xs->v[i].key = k;
    }
    return 0;
}

/* Timed replay: one class per session, named after its number and client. */
static int make_timed(const build_t *b, const sess_list_t *ss, const bool *keep, scn_scenario_t *s,
                      conv_timeline_t *tl)
{
    const xset_t *xs = b->xs;
    int64_t t0 = INT64_MAX, t1 = INT64_MIN;
    for (size_t i = 0; i < xs->n; i++) {
        if (!keep[i])
            continue;
        const rec_exchange_t *x = &xs->v[i].x;
        if (x->t_start_us < t0)
            t0 = x->t_start_us;
        int64_t end = x->t_end_us > x->t_start_us ? x->t_end_us : x->t_start_us;
        if (end > t1)
            t1 = end;
    }
    memset(tl, 0, sizeof *tl);
    if (!(tl->step_us = calloc(ss->n ? ss->n : 1, sizeof *tl->step_us)) ||
        !(tl->n_steps = calloc(ss->n ? ss->n : 1, sizeof *tl->n_steps)) ||
        !(tl->recorded = calloc(ss->n ? ss->n : 1, sizeof *tl->recorded)) ||
        !(tl->n_recorded = calloc(ss->n ? ss->n : 1, sizeof *tl->n_recorded)))
        return -1;
    tl->length_us = t1 > t0 ? (uint64_t)(t1 - t0) : 0;
    for (size_t k = 0; k < ss->n; k++) {
        const rec_exchange_t *first = &xs->v[ss->v[k].idx[0]].x;
        cls_t c = {.weight = 1};
        if (asprintf(&c.name, "session %zu %s", k + 1, first->client ? first->client : "-") < 0)
            return -1;
        timed_out_t to = {.t0 = t0};
        s->n_classes++;
        tl->n_classes++;
        int rc = make_class(b, &c, &ss->v[k], &s->classes[k], &to);
        free(c.name);
        tl->step_us[k] = to.step_us;
        tl->n_steps[k] = to.n_steps;
        tl->recorded[k] = to.recorded;
        tl->n_recorded[k] = to.n_recorded;
        if (rc < 0)
            return -1;
    }
    return 0;
}

void conv_timeline_fini(conv_timeline_t *tl)
{
    for (size_t i = 0; tl->step_us && i < tl->n_classes; i++)
        free(tl->step_us[i]);
    for (size_t i = 0; tl->recorded && i < tl->n_classes; i++) {
        for (size_t k = 0; tl->recorded[i] && k < tl->n_recorded[i]; k++) {
            free(tl->recorded[i][k].content_type);
            free(tl->recorded[i][k].body);
        }
        free(tl->recorded[i]);
    }
    free(tl->recorded);
    free(tl->n_recorded);
    free(tl->step_us);
    free(tl->n_steps);
    memset(tl, 0, sizeof *tl);
}

/* tl NULL: a scenario. Else timed: one class per session, tl the schedule and
 * responses; not timed: a scenario, tl the classes' recorded responses only. */
static int convert(const char *const *paths, size_t n, const conv_opts_t *o, scn_scenario_t **out,
                   conv_timeline_t *tl_out, bool timed, conv_stats_t *stats, mp_error_t *err)
{
    conv_timeline_t *tl = timed ? tl_out : NULL;
    conv_stats_t st = {0};
    conv_timeline_t tline = {0};
    xset_t xs;
    bool *keep = NULL;
    sess_list_t ss = {0};
    cls_list_t cl = {0};
    params_row_t row = {0};
    scn_scenario_t *s = NULL;
    int rc;
    memset(err, 0, sizeof *err);
    err->record = err->offset = -1;
    xs_init(&xs);
    *out = NULL;
    if (n == 0) {
        snprintf(err->msg, sizeof err->msg, "no input file (expected recordings or HAR files)");
        return MP_ERR_INVALID;
    }
    if ((rc = read_inputs(paths, n, o, &xs, &keep, &st, err)))
        goto out;
    if (o->data_csv && (rc = params_load_csv(o->data_csv, &row, err)))
        goto out;
    rc = oom(err);
    if (tl && o->timed_by_connection && key_by_connection(&xs) < 0)
        goto out;
    if (sess_split(&xs, keep, o->session_gap_us, &ss) < 0 ||
        (!tl && cls_build(&xs, &ss, o->max_classes, &cl) < 0))
        goto out;
    size_t n_classes = tl ? ss.n : cl.n;
    st.sessions = ss.n;
    st.classes = n_classes;
    if (!(s = scn_new()) || !(s->tool = strdup("aiotest-convert " AIOTEST_VERSION)) ||
        make_hosts(&xs, keep, s) < 0 || !(s->classes = calloc(n_classes ? n_classes : 1, sizeof *s->classes)))
        goto out;
    s->created_us = clk_wall_us();
    if (o->data_csv && (rc = add_data(o, s, err)))
        goto out;
    build_t b = {.o = o, .xs = &xs, .origin = s->hosts[0].base_url, .row = o->data_csv ? &row : NULL, .st = &st};
    if (tl) {
        if (make_timed(&b, &ss, keep, s, &tline) < 0) {
            rc = oom(err);
            goto out;
        }
    }
    if (!tl && tl_out && (!(tline.recorded = calloc(cl.n ? cl.n : 1, sizeof *tline.recorded)) ||
                          !(tline.n_recorded = calloc(cl.n ? cl.n : 1, sizeof *tline.n_recorded)))) {
        rc = oom(err);
        goto out;
    }
    for (size_t c = 0; !tl && c < cl.n; c++) {
        timed_out_t to = {.sections = true};
        s->n_classes++;
        int mc = make_class(&b, &cl.v[c], &ss.v[cl.v[c].rep], &s->classes[c], tl_out ? &to : NULL);
        if (tl_out) {
            tline.n_classes++;
            tline.recorded[c] = to.recorded;
            tline.n_recorded[c] = to.n_recorded;
        }
        if (mc < 0) {
            rc = oom(err);
            goto out;
        }
    }
    if ((rc = scn_validate(s, err)))
        goto out;
    if (o->report) {
        char line[768];
        fprintf(o->report, "aiotest-convert: %s\n", conv_stats_line(&st, line, sizeof line));
    }
    *out = s;
    s = NULL;
    if (tl_out) {
        *tl_out = tline;
        memset(&tline, 0, sizeof tline);
    }
    rc = 0;
out:
    conv_timeline_fini(&tline);
    scn_free(s);
    params_row_fini(&row);
    cls_list_fini(&cl);
    sess_list_fini(&ss);
    free(keep);
    xs_fini(&xs);
    if (stats)
        *stats = st;
    return rc;
}

int conv_to_scenario(const char *const *paths, size_t n, const conv_opts_t *o,
                     scn_scenario_t **out, conv_stats_t *stats, mp_error_t *err)
{
    return convert(paths, n, o, out, NULL, false, stats, err);
}

int conv_to_scenario_recorded(const char *const *paths, size_t n, const conv_opts_t *o,
                              scn_scenario_t **out, conv_timeline_t *rec, conv_stats_t *stats,
                              mp_error_t *err)
{
    return convert(paths, n, o, out, rec, false, stats, err);
}

int conv_to_timed(const char *const *paths, size_t n, const conv_opts_t *o,
                  scn_scenario_t **out, conv_timeline_t *tl, conv_stats_t *stats, mp_error_t *err)
{
    return convert(paths, n, o, out, tl, true, stats, err);
}

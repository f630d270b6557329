/* scn_save: writes a scenario file (scenario.h): record 0 the header
 * (hosts, vars, data, number of classes), then one record per user class,
 * each written and flushed whole. */
#include <errno.h>
#include <string.h>

#include "mpread.h"
#include "mpwrite.h"
#include "scenario.h"

static void pack_kvs(mpw_t *w, const scn_kv_t *v, size_t n)
{
    mpw_array(w, n);
    for (size_t i = 0; i < n; i++)
        mpw_pair(w, v[i].name, v[i].value);
}

static void pack_strs(mpw_t *w, char *const *v, size_t n)
{
    mpw_array(w, n);
    for (size_t i = 0; i < n; i++)
        mpw_str(w, v[i]);
}

static void pack_header(mpw_t *w, const scn_scenario_t *s)
{
    mpw_map(w, 7 + (s->tool != NULL) + (s->script != NULL));
    mpw_str(w, "format");
    mpw_str(w, SCN_FORMAT);
    mpw_str(w, "version");
    mpw_array(w, 2);
    mpw_uint(w, SCN_VERSION_MAJOR);
    mpw_uint(w, SCN_VERSION_MINOR);
    mpw_str(w, "created_us");
    mpw_int(w, s->created_us);
    if (s->tool) {
        mpw_str(w, "tool");
        mpw_str(w, s->tool);
    }
    if (s->script) {
        mpw_str(w, "script");
        mpw_str(w, s->script);
    }
    mpw_str(w, "hosts");
    mpw_array(w, s->n_hosts);
    for (size_t i = 0; i < s->n_hosts; i++) {
        mpw_map(w, 2);
        mpw_str(w, "base_url");
        mpw_str(w, s->hosts[i].base_url);
        mpw_str(w, "proto");
        mpw_str(w, scn_proto_name(s->hosts[i].proto));
    }
    mpw_str(w, "vars");
    mpw_map(w, s->n_vars);
    for (size_t i = 0; i < s->n_vars; i++) {
        mpw_str(w, s->vars[i].name);
        mpw_str(w, s->vars[i].value);
    }
    mpw_str(w, "data");
    mpw_array(w, s->n_data);
    for (size_t i = 0; i < s->n_data; i++) {
        mpw_map(w, 2);
        mpw_str(w, "path");
        mpw_str(w, s->data[i].path);
        mpw_str(w, "vars");
        pack_strs(w, s->data[i].vars, s->data[i].n_vars);
    }
    mpw_str(w, "classes");
    mpw_uint(w, s->n_classes);
}

static void pack_extractors(mpw_t *w, const scn_extractor_t *v, size_t n);

static void pack_request(mpw_t *w, const scn_request_t *r)
{
    mpw_map(w, r->body_len ? 8 : 7);
    mpw_str(w, "name");
    mpw_str(w, r->name);
    mpw_str(w, "method");
    mpw_str(w, r->method);
    mpw_str(w, "url");
    mpw_str(w, r->url);
    mpw_str(w, "headers");
    pack_kvs(w, r->headers, r->n_headers);
    if (r->body_len) {
        mpw_str(w, "body");
        mpw_bin(w, r->body, r->body_len);
    }
    mpw_str(w, "extract");
    pack_extractors(w, r->extractors, r->n_extractors);
    mpw_str(w, "check");
    mpw_map(w, 2);
    mpw_str(w, "status");
    mpw_array(w, r->check.n_statuses);
    for (size_t i = 0; i < r->check.n_statuses; i++)
        mpw_uint(w, (uint64_t)r->check.statuses[i]);
    mpw_str(w, "body_contains");
    pack_strs(w, r->check.body_contains, r->check.n_body_contains);
    mpw_str(w, "follow_redirects");
    mpw_bool(w, r->follow_redirects);
}

static void pack_extractors(mpw_t *w, const scn_extractor_t *v, size_t n)
{
    mpw_array(w, n);
    for (size_t i = 0; i < n; i++) {
        const scn_extractor_t *e = &v[i];
        mpw_map(w, e->default_value ? 5 : 4);
        mpw_str(w, "var");
        mpw_str(w, e->var);
        mpw_str(w, "kind");
        mpw_str(w, scn_ext_kind_name(e->kind));
        mpw_str(w, "expr");
        mpw_str(w, e->expr);
        mpw_str(w, "group");
        mpw_uint(w, (uint64_t)e->group);
        if (e->default_value) {
            mpw_str(w, "default");
            mpw_str(w, e->default_value);
        }
    }
}

static void pack_ws(mpw_t *w, const scn_ws_t *ws)
{
    mpw_map(w, 6 + (ws->subprotocol != NULL));
    mpw_str(w, "name");
    mpw_str(w, ws->name);
    mpw_str(w, "url");
    mpw_str(w, ws->url);
    mpw_str(w, "headers");
    pack_kvs(w, ws->headers, ws->n_headers);
    if (ws->subprotocol) {
        mpw_str(w, "subprotocol");
        mpw_str(w, ws->subprotocol);
    }
    mpw_str(w, "close_gap_us");
    mpw_uint(w, ws->close_gap_us);
    mpw_str(w, "background");
    mpw_bool(w, ws->background);
    mpw_str(w, "messages");
    mpw_array(w, ws->n_msgs);
    for (size_t i = 0; i < ws->n_msgs; i++) {
        const scn_ws_msg_t *m = &ws->msgs[i];
        mpw_map(w, 6);
        mpw_str(w, "name");
        mpw_str(w, m->name);
        mpw_str(w, "binary");
        mpw_bool(w, m->binary);
        mpw_str(w, "data");
        mpw_bin(w, m->data, m->len);
        mpw_str(w, "gap_us");
        mpw_uint(w, m->gap_us);
        mpw_str(w, "await");
        mpw_map(w, 1 + (m->await_json != NULL) + (m->await_equals != NULL) + (m->await_contains != NULL));
        mpw_str(w, "count");
        mpw_uint(w, m->await_count);
        if (m->await_json) {
            mpw_str(w, "json");
            mpw_str(w, m->await_json);
        }
        if (m->await_equals) {
            mpw_str(w, "equals");
            mpw_str(w, m->await_equals);
        }
        if (m->await_contains) {
            mpw_str(w, "contains");
            mpw_str(w, m->await_contains);
        }
        mpw_str(w, "extract");
        pack_extractors(w, m->extractors, m->n_extractors);
    }
}

static void pack_steps(mpw_t *w, const scn_steps_t *st)
{
    mpw_array(w, st->n);
    for (size_t i = 0; i < st->n; i++) {
        const scn_step_t *s = &st->v[i];
        mpw_map(w, 3 + (s->lua != NULL) + (s->ws != NULL));
        if (s->lua) {
            mpw_str(w, "lua");
            mpw_str(w, s->lua);
        }
        if (s->ws) {
            /* "requests" stays (empty): a 1.0 reader then refuses the step
             * by name ("a step needs at least one request") instead of
             * running something else. */
            mpw_str(w, "ws");
            pack_ws(w, s->ws);
        }
        mpw_str(w, "requests");
        mpw_array(w, s->n_requests);
        for (size_t j = 0; j < s->n_requests; j++)
            pack_request(w, &s->requests[j]);
        mpw_str(w, "parallel");
        mpw_bool(w, s->parallel);
        mpw_str(w, "think_us");
        mpw_uint(w, s->think_us);
    }
}

static void pack_class(mpw_t *w, const scn_class_t *c)
{
    mpw_map(w, 6);
    mpw_str(w, "name");
    mpw_str(w, c->name);
    mpw_str(w, "weight");
    mpw_uint(w, c->weight);
    mpw_str(w, "wait");
    mpw_map(w, 3);
    mpw_str(w, "kind");
    mpw_str(w, scn_wait_kind_name(c->wait.kind));
    mpw_str(w, "min_us");
    mpw_uint(w, c->wait.min_us);
    mpw_str(w, "max_us");
    mpw_uint(w, c->wait.max_us);
    mpw_str(w, "on_start");
    pack_steps(w, &c->on_start);
    mpw_str(w, "tasks");
    pack_steps(w, &c->tasks);
    mpw_str(w, "on_stop");
    pack_steps(w, &c->on_stop);
}

int scn_save(const char *path, const scn_scenario_t *s, mp_error_t *err)
{
    mp_error_t verr;
    if (scn_validate(s, &verr) != 0)
        return mp_error_set(err, MP_ERR_INVALID, verr.record, -1, "%s: %s", path, verr.msg);
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return mp_error_set(err, MP_ERR_IO, -1, -1, "%s: cannot open for writing: %s", path, strerror(errno));
    mpw_t w;
    mpw_init(&w);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i <= s->n_classes; i++) {
        mpw_reset(&w);
        if (i == 0)
            pack_header(&w, s);
        else
            pack_class(&w, &s->classes[i - 1]);
        if (mpw_emit(&w, fp) != 0)
            rc = mp_error_set(err, MP_ERR_IO, (long)i, -1, "%s: record %zu: write failed: %s",
                              path, i, strerror(errno));
    }
    mpw_fini(&w);
    if (fclose(fp) != 0 && rc == 0)
        rc = mp_error_set(err, MP_ERR_IO, -1, -1, "%s: close failed: %s", path, strerror(errno));
    return rc;
}


/* view_scn: a scenario -> JSON (view.h). Same keys as the msgpack records,
 * with the classes as an array under "classes"; defaults are left out, so
 * the view is short and reads back to the same scenario (view_scn_read.c). */
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "view.h"
#include "vjson.h"

static json_t *strs_to_json(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, vj_str(v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *extractors_to_json(const scn_extractor_t *v, size_t n)
{
    json_t *a = json_array();
    int rc = a ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const scn_extractor_t *e = &v[i];
        json_t *x = json_object();
        if (!x) {
            rc = -1;
            break;
        }
        rc |= vj_set(x, "var", vj_str(e->var));
        rc |= vj_set(x, "kind", json_string(scn_ext_kind_name(e->kind)));
        rc |= vj_set(x, "expr", vj_str(e->expr));
        if (e->group != 1)
            rc |= vj_set(x, "group", json_integer(e->group));
        if (e->default_value)
            rc |= vj_set(x, "default", vj_str(e->default_value));
        rc |= json_array_append_new(a, x);
    }
    if (rc == 0)
        return a;
    json_decref(a);
    return NULL;
}

static json_t *headers_to_json(const scn_kv_t *v, size_t n)
{
    json_t *h = json_array();
    for (size_t i = 0; h && i < n; i++)
        if (json_array_append_new(h, vj_pair(v[i].name, v[i].value)) != 0) {
            json_decref(h);
            return NULL;
        }
    return h;
}

static json_t *ws_to_json(const scn_ws_t *w)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int rc = vj_set(o, "name", vj_str(w->name));
    rc |= vj_set(o, "url", vj_str(w->url));
    if (w->n_headers)
        rc |= vj_set(o, "headers", headers_to_json(w->headers, w->n_headers));
    if (w->subprotocol)
        rc |= vj_set(o, "subprotocol", vj_str(w->subprotocol));
    if (w->close_gap_us)
        rc |= vj_set(o, "close_gap_us", vj_uint(w->close_gap_us));
    if (w->background)
        rc |= vj_set(o, "background", json_true());
    json_t *a = json_array();
    for (size_t i = 0; a && i < w->n_msgs; i++) {
        const scn_ws_msg_t *m = &w->msgs[i];
        json_t *x = json_object();
        if (!x) {
            rc = -1;
            break;
        }
        rc |= vj_set(x, "name", vj_str(m->name));
        if (m->binary)
            rc |= vj_set(x, "binary", json_true());
        rc |= vj_set(x, "data", vj_bytes(m->data, m->len));
        if (m->gap_us)
            rc |= vj_set(x, "gap_us", vj_uint(m->gap_us));
        if (m->await_count || m->await_json || m->await_contains) {
            json_t *aw = json_object();
            if (aw && m->await_count)
                rc |= vj_set(aw, "count", vj_uint(m->await_count));
            if (aw && m->await_json)
                rc |= vj_set(aw, "json", vj_str(m->await_json));
            if (aw && m->await_equals)
                rc |= vj_set(aw, "equals", vj_str(m->await_equals));
            if (aw && m->await_contains)
                rc |= vj_set(aw, "contains", vj_str(m->await_contains));
            rc |= vj_set(x, "await", aw);
        }
        if (m->n_extractors)
            rc |= vj_set(x, "extract", extractors_to_json(m->extractors, m->n_extractors));
        rc |= json_array_append_new(a, x);
    }
    rc |= vj_set(o, "messages", a);
    if (rc == 0)
        return o;
    json_decref(o);
    return NULL;
}

static json_t *request_to_json(const scn_request_t *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int rc = 0;
    char *dflt = scn_default_name(r->method ? r->method : "", r->url ? r->url : "");
    if (!dflt || !r->name || strcmp(dflt, r->name) != 0)
        rc |= vj_set(o, "name", vj_str(r->name));
    free(dflt);
    rc |= vj_set(o, "method", vj_str(r->method));
    rc |= vj_set(o, "url", vj_str(r->url));
    if (r->n_headers)
        rc |= vj_set(o, "headers", headers_to_json(r->headers, r->n_headers));
    if (r->body_len)
        rc |= vj_set(o, "body", vj_bytes(r->body, r->body_len));
    if (r->n_extractors)
        rc |= vj_set(o, "extract", extractors_to_json(r->extractors, r->n_extractors));
    if (r->check.n_statuses || r->check.n_body_contains) {
        json_t *ck = json_object(), *st = json_array();
        for (size_t i = 0; st && i < r->check.n_statuses; i++)
            rc |= json_array_append_new(st, json_integer(r->check.statuses[i]));
        if (ck && r->check.n_statuses)
            rc |= vj_set(ck, "status", st);
        else
            json_decref(st);
        if (ck && r->check.n_body_contains)
            rc |= vj_set(ck, "body_contains", strs_to_json(r->check.body_contains, r->check.n_body_contains));
        rc |= vj_set(o, "check", ck);
    }
    if (r->follow_redirects)
        rc |= vj_set(o, "follow_redirects", json_true());
    if (rc == 0)
        return o;
    json_decref(o);
    return NULL;
}

static json_t *steps_to_json(const scn_steps_t *st)
{
    json_t *a = json_array();
    int rc = a ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < st->n; i++) {
        const scn_step_t *s = &st->v[i];
        json_t *o = json_object(), *rq = json_array();
        for (size_t j = 0; rq && j < s->n_requests; j++)
            rc |= json_array_append_new(rq, request_to_json(&s->requests[j]));
        if (o && s->ws) {
            rc |= vj_set(o, "ws", ws_to_json(s->ws));
            json_decref(rq);
        } else if (o && s->lua) {
            rc |= vj_set(o, "lua", vj_str(s->lua));
            json_decref(rq);
        } else {
            rc |= o ? vj_set(o, "requests", rq) : -1;
        }
        if (o && s->parallel)
            rc |= vj_set(o, "parallel", json_true());
        if (o && s->think_us)
            rc |= vj_set(o, "think_us", vj_uint(s->think_us));
        rc |= json_array_append_new(a, o);
    }
    if (rc == 0)
        return a;
    json_decref(a);
    return NULL;
}

static json_t *class_to_json(const scn_class_t *c)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int rc = vj_set(o, "name", vj_str(c->name));
    rc |= vj_set(o, "weight", json_integer(c->weight));
    if (c->wait.kind != SCN_WAIT_RECORDED || c->wait.min_us || c->wait.max_us) {
        json_t *w = json_object();
        rc |= w ? vj_set(w, "kind", json_string(scn_wait_kind_name(c->wait.kind))) : -1;
        if (w && c->wait.min_us)
            rc |= vj_set(w, "min_us", vj_uint(c->wait.min_us));
        if (w && c->wait.max_us)
            rc |= vj_set(w, "max_us", vj_uint(c->wait.max_us));
        rc |= vj_set(o, "wait", w);
    }
    if (c->on_start.n)
        rc |= vj_set(o, "on_start", steps_to_json(&c->on_start));
    rc |= vj_set(o, "tasks", steps_to_json(&c->tasks));
    if (c->on_stop.n)
        rc |= vj_set(o, "on_stop", steps_to_json(&c->on_stop));
    if (rc == 0)
        return o;
    json_decref(o);
    return NULL;
}

json_t *view_scenario_to_json(const scn_scenario_t *s)
{
    json_t *o = json_object(), *v = json_array();
    int rc = o && v ? 0 : -1;
    if (rc == 0) {
        rc |= json_array_append_new(v, json_integer(SCN_VERSION_MAJOR));
        rc |= json_array_append_new(v, json_integer(SCN_VERSION_MINOR));
        rc |= vj_set(o, "format", json_string(SCN_FORMAT));
        rc |= vj_set(o, "version", v);
        v = NULL;
        if (s->created_us)
            rc |= vj_set(o, "created_us", json_integer(s->created_us));
        if (s->tool)
            rc |= vj_set(o, "tool", vj_str(s->tool));
        if (s->script)
            rc |= vj_set(o, "script", vj_str(s->script));
        json_t *hosts = json_array();
        for (size_t i = 0; hosts && i < s->n_hosts; i++) {
            json_t *h = json_object();
            rc |= h ? vj_set(h, "base_url", vj_str(s->hosts[i].base_url)) : -1;
            if (h && s->hosts[i].proto != SCN_PROTO_AUTO)
                rc |= vj_set(h, "proto", json_string(scn_proto_name(s->hosts[i].proto)));
            rc |= json_array_append_new(hosts, h);
        }
        rc |= vj_set(o, "hosts", hosts);
        if (s->n_vars) {
            json_t *vars = json_object();
            for (size_t i = 0; vars && i < s->n_vars; i++)
                rc |= vj_set(vars, s->vars[i].name, vj_str(s->vars[i].value));
            rc |= vj_set(o, "vars", vars);
        }
        if (s->n_data) {
            json_t *data = json_array();
            for (size_t i = 0; data && i < s->n_data; i++) {
                json_t *d = json_object();
                rc |= d ? vj_set(d, "path", vj_str(s->data[i].path)) : -1;
                if (d && s->data[i].n_vars)
                    rc |= vj_set(d, "vars", strs_to_json(s->data[i].vars, s->data[i].n_vars));
                rc |= json_array_append_new(data, d);
            }
            rc |= vj_set(o, "data", data);
        }
        json_t *classes = json_array();
        for (size_t i = 0; classes && i < s->n_classes; i++)
            rc |= json_array_append_new(classes, class_to_json(&s->classes[i]));
        rc |= vj_set(o, "classes", classes);
    }
    json_decref(v);
    if (rc == 0)
        return o;
    json_decref(o);
    return NULL;
}


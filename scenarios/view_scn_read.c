/* view_scn_read: JSON -> a scenario (view.h). Defaults fill what is left out,
 * so a hand-written request can be just {"method": "GET", "url": "/"}, and a
 * bare request stands for a step of one request. Errors name the JSON path. */
#include <stdlib.h>
#include <string.h>

#include "mpread.h"
#include "scenario.h"
#include "view.h"
#include "vjson.h"

#define ALLOC_OR_FAIL(c, p, n, key)                                             \
    do {                                                                        \
        (p) = (n) ? calloc((n), sizeof *(p)) : NULL;                            \
        if ((n) && !(p))                                                        \
            return vj_fail((c), MP_ERR_IO, (key), "out of memory");             \
    } while (0)

static int strs_from_json(const vj_ctx_t *c, const json_t *o, const char *key, char ***out, size_t *n)
{
    const json_t *a = NULL;
    int rc = vj_get_array(c, o, key, false, &a);
    size_t na = a ? json_array_size(a) : 0;
    if (rc != 0)
        return rc;
    ALLOC_OR_FAIL(c, *out, na, key);
    *n = na;
    for (size_t i = 0; rc == 0 && i < na; i++) {
        vj_ctx_t ec = vj_at(c, key, i);
        rc = vj_value_str(&ec, json_array_get(a, i), NULL, &(*out)[i]);
    }
    return rc;
}

static int enum_from_json(const vj_ctx_t *c, const json_t *o, const char *key, int (*parse)(const char *),
                          const char *expected, int *out)
{
    const json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    int e = json_is_string(v) ? parse(json_string_value(v)) : -1;
    if (e < 0)
        return vj_fail(c, MP_ERR_INVALID, key, "expected %s", expected);
    *out = e;
    return 0;
}

static int extractor_from_json(const vj_ctx_t *c, const json_t *o, scn_extractor_t *e)
{
    int kind = -1;
    uint64_t group = 1;
    int rc = vj_want_object(c, o, "an extractor");
    if (rc == 0) rc = vj_get_str(c, o, "var", true, &e->var);
    if (rc == 0 && !json_object_get(o, "kind"))
        rc = vj_fail(c, MP_ERR_INVALID, "kind", "missing (expected header, cookie, json or regex)");
    if (rc == 0) rc = enum_from_json(c, o, "kind", scn_ext_kind_parse, "header, cookie, json or regex", &kind);
    if (rc == 0) rc = vj_get_str(c, o, "expr", true, &e->expr);
    if (rc == 0) rc = vj_get_uint(c, o, "group", false, 99, &group);
    if (rc == 0) rc = vj_get_str(c, o, "default", false, &e->default_value);
    e->kind = (scn_ext_kind_t)kind;
    e->group = (int)group;
    return rc;
}

static int check_from_json(const vj_ctx_t *c0, const json_t *req, scn_check_t *ck)
{
    const json_t *o = json_object_get(req, "check");
    if (!o)
        return 0;
    vj_ctx_t c = vj_sub(c0, "check");
    int rc = vj_want_object(&c, o, "a check");
    const json_t *a = NULL;
    if (rc == 0) rc = vj_get_array(&c, o, "status", false, &a);
    size_t n = a ? json_array_size(a) : 0;
    if (rc != 0)
        return rc;
    ALLOC_OR_FAIL(&c, ck->statuses, n, "status");
    ck->n_statuses = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(a, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 999)
            return vj_fail(&c, MP_ERR_FORMAT, "status", "entry %zu: expected an integer status", i);
        ck->statuses[i] = (int)json_integer_value(v);
    }
    return strs_from_json(&c, o, "body_contains", &ck->body_contains, &ck->n_body_contains);
}

static int request_from_json(const vj_ctx_t *c, const json_t *o, scn_request_t *r)
{
    int rc = vj_want_object(c, o, "a request");
    if (rc == 0) rc = vj_get_str(c, o, "method", true, &r->method);
    if (rc == 0) rc = vj_get_str(c, o, "url", true, &r->url);
    if (rc == 0) rc = vj_get_str(c, o, "name", false, &r->name);
    if (rc == 0 && !r->name && !(r->name = scn_default_name(r->method, r->url)))
        rc = vj_fail(c, MP_ERR_IO, "name", "out of memory");
    const json_t *a = NULL;
    if (rc == 0) rc = vj_get_array(c, o, "headers", false, &a);
    size_t n = a ? json_array_size(a) : 0;
    if (rc != 0)
        return rc;
    ALLOC_OR_FAIL(c, r->headers, n, "headers");
    r->n_headers = n;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        vj_ctx_t hc = vj_at(c, "headers", i);
        rc = vj_value_pair(&hc, json_array_get(a, i), &r->headers[i].name, &r->headers[i].value);
    }
    if (rc == 0) rc = vj_get_bytes(c, o, "body", &r->body, &r->body_len);
    if (rc == 0) rc = check_from_json(c, o, &r->check);
    if (rc == 0) rc = vj_get_bool(c, o, "follow_redirects", &r->follow_redirects);
    if (rc == 0) rc = vj_get_array(c, o, "extract", false, &a);
    n = a ? json_array_size(a) : 0;
    if (rc != 0)
        return rc;
    ALLOC_OR_FAIL(c, r->extractors, n, "extract");
    r->n_extractors = n;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        vj_ctx_t ec = vj_at(c, "extract", i);
        rc = extractor_from_json(&ec, json_array_get(a, i), &r->extractors[i]);
    }
    return rc;
}

static int kvs_from_json(const vj_ctx_t *c, const json_t *o, const char *key, scn_kv_t **out, size_t *n)
{
    const json_t *a = NULL;
    int rc = vj_get_array(c, o, key, false, &a);
    size_t na = a ? json_array_size(a) : 0;
    if (rc != 0)
        return rc;
    ALLOC_OR_FAIL(c, *out, na, key);
    *n = na;
    for (size_t i = 0; rc == 0 && i < na; i++) {
        vj_ctx_t hc = vj_at(c, key, i);
        rc = vj_value_pair(&hc, json_array_get(a, i), &(*out)[i].name, &(*out)[i].value);
    }
    return rc;
}

static int extractors_from_json(const vj_ctx_t *c, const json_t *o, scn_extractor_t **out, size_t *n)
{
    const json_t *a = NULL;
    int rc = vj_get_array(c, o, "extract", false, &a);
    size_t na = a ? json_array_size(a) : 0;
    if (rc != 0)
        return rc;
    ALLOC_OR_FAIL(c, *out, na, "extract");
    *n = na;
    for (size_t i = 0; rc == 0 && i < na; i++) {
        vj_ctx_t ec = vj_at(c, "extract", i);
        rc = extractor_from_json(&ec, json_array_get(a, i), &(*out)[i]);
    }
    return rc;
}

static int ws_msg_from_json(const vj_ctx_t *c, const json_t *o, scn_ws_msg_t *m)
{
    uint64_t count = 0;
    int rc = vj_want_object(c, o, "a message");
    if (rc == 0) rc = vj_get_str(c, o, "name", true, &m->name);
    if (rc == 0) rc = vj_get_bool(c, o, "binary", &m->binary);
    if (rc == 0) rc = vj_get_bytes(c, o, "data", &m->data, &m->len);
    if (rc == 0) rc = vj_get_uint(c, o, "gap_us", false, UINT64_MAX, &m->gap_us);
    const json_t *aw = json_object_get(o, "await");
    if (rc == 0 && aw) {
        vj_ctx_t ac = vj_sub(c, "await");
        rc = vj_want_object(&ac, aw, "an await");
        if (rc == 0) rc = vj_get_uint(&ac, aw, "count", false, UINT32_MAX, &count);
        if (rc == 0) rc = vj_get_str(&ac, aw, "json", false, &m->await_json);
        if (rc == 0) rc = vj_get_str(&ac, aw, "equals", false, &m->await_equals);
        if (rc == 0) rc = vj_get_str(&ac, aw, "contains", false, &m->await_contains);
    }
    m->await_count = (uint32_t)count;
    if (rc == 0) rc = extractors_from_json(c, o, &m->extractors, &m->n_extractors);
    return rc;
}

static int ws_from_json(const vj_ctx_t *c0, const json_t *o, scn_ws_t **out)
{
    vj_ctx_t c = vj_sub(c0, "ws");
    int rc = vj_want_object(&c, o, "a WebSocket session");
    if (rc != 0)
        return rc;
    scn_ws_t *w = *out = calloc(1, sizeof *w);
    if (!w)
        return vj_fail(&c, MP_ERR_IO, NULL, "out of memory");
    rc = vj_get_str(&c, o, "name", true, &w->name);
    if (rc == 0) rc = vj_get_str(&c, o, "url", true, &w->url);
    if (rc == 0) rc = kvs_from_json(&c, o, "headers", &w->headers, &w->n_headers);
    if (rc == 0) rc = vj_get_str(&c, o, "subprotocol", false, &w->subprotocol);
    if (rc == 0) rc = vj_get_uint(&c, o, "close_gap_us", false, UINT64_MAX, &w->close_gap_us);
    if (rc == 0) rc = vj_get_bool(&c, o, "background", &w->background);
    const json_t *a = NULL;
    if (rc == 0) rc = vj_get_array(&c, o, "messages", false, &a);
    size_t n = a ? json_array_size(a) : 0;
    if (rc != 0)
        return rc;
    ALLOC_OR_FAIL(&c, w->msgs, n, "messages");
    w->n_msgs = n;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        vj_ctx_t mc = vj_at(&c, "messages", i);
        rc = ws_msg_from_json(&mc, json_array_get(a, i), &w->msgs[i]);
    }
    return rc;
}

/* A step; a bare request object is a step of one serial request. */
static int step_from_json(const vj_ctx_t *c, const json_t *o, scn_step_t *s)
{
    int rc = vj_want_object(c, o, "a step");
    if (rc != 0)
        return rc;
    if (!json_object_get(o, "requests") && json_object_get(o, "method")) {
        ALLOC_OR_FAIL(c, s->requests, 1, NULL);
        s->n_requests = 1;
        return request_from_json(c, o, &s->requests[0]);
    }
    const json_t *a = NULL;
    rc = vj_get_bool(c, o, "parallel", &s->parallel);
    if (rc == 0) rc = vj_get_uint(c, o, "think_us", false, UINT64_MAX, &s->think_us);
    if (rc == 0) rc = vj_get_str(c, o, "lua", false, &s->lua);
    const json_t *ws = json_object_get(o, "ws");
    if (rc == 0 && ws)
        rc = ws_from_json(c, ws, &s->ws);
    /* A custom step (lua) and a WebSocket step have no requests. */
    if (rc == 0) rc = vj_get_array(c, o, "requests", s->lua == NULL && s->ws == NULL, &a);
    size_t n = a ? json_array_size(a) : 0;
    if (rc != 0)
        return rc;
    ALLOC_OR_FAIL(c, s->requests, n, "requests");
    s->n_requests = n;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        vj_ctx_t rcx = vj_at(c, "requests", i);
        rc = request_from_json(&rcx, json_array_get(a, i), &s->requests[i]);
    }
    return rc;
}

static int steps_from_json(const vj_ctx_t *c, const json_t *o, const char *key, scn_steps_t *st)
{
    const json_t *a = NULL;
    int rc = vj_get_array(c, o, key, false, &a);
    size_t n = a ? json_array_size(a) : 0;
    if (rc != 0)
        return rc;
    ALLOC_OR_FAIL(c, st->v, n, key);
    st->n = n;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        vj_ctx_t sc = vj_at(c, key, i);
        rc = step_from_json(&sc, json_array_get(a, i), &st->v[i]);
    }
    return rc;
}

static int class_from_json(const vj_ctx_t *c, const json_t *o, scn_class_t *cl)
{
    uint64_t weight = 1;
    int rc = vj_want_object(c, o, "a class");
    if (rc == 0) rc = vj_get_str(c, o, "name", true, &cl->name);
    if (rc == 0) rc = vj_get_uint(c, o, "weight", false, UINT32_MAX, &weight);
    cl->weight = (uint32_t)weight;
    const json_t *w = json_object_get(o, "wait");
    if (rc == 0 && w) {
        vj_ctx_t wc = vj_sub(c, "wait");
        int kind = SCN_WAIT_RECORDED;
        rc = vj_want_object(&wc, w, "a wait");
        if (rc == 0) rc = enum_from_json(&wc, w, "kind", scn_wait_kind_parse, "recorded, none, constant or between", &kind);
        if (rc == 0) rc = vj_get_uint(&wc, w, "min_us", false, UINT64_MAX, &cl->wait.min_us);
        if (rc == 0) rc = vj_get_uint(&wc, w, "max_us", false, UINT64_MAX, &cl->wait.max_us);
        cl->wait.kind = (scn_wait_kind_t)kind;
    }
    if (rc == 0) rc = steps_from_json(c, o, "on_start", &cl->on_start);
    if (rc == 0) rc = steps_from_json(c, o, "tasks", &cl->tasks);
    if (rc == 0) rc = steps_from_json(c, o, "on_stop", &cl->on_stop);
    return rc;
}

static int header_from_json(const vj_ctx_t *c, const json_t *j, scn_scenario_t *s)
{
    int rc = vj_header_version(c, j, SCN_FORMAT, SCN_VERSION_MAJOR, &s->version_major, &s->version_minor);
    /* A hand-written file without a version is read as this version (it may
     * use what this version knows). */
    if (rc == 0 && !json_object_get(j, "version"))
        s->version_minor = SCN_VERSION_MINOR;
    if (rc == 0) rc = vj_get_int(c, j, "created_us", false, &s->created_us);
    if (rc == 0) rc = vj_get_str(c, j, "tool", false, &s->tool);
    if (rc == 0) rc = vj_get_str(c, j, "script", false, &s->script);
    const json_t *a = NULL;
    if (rc == 0) rc = vj_get_array(c, j, "hosts", false, &a);
    size_t n = a ? json_array_size(a) : 0;
    if (rc != 0)
        return rc;
    ALLOC_OR_FAIL(c, s->hosts, n, "hosts");
    s->n_hosts = n;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        vj_ctx_t hc = vj_at(c, "hosts", i);
        const json_t *h = json_array_get(a, i);
        int proto = SCN_PROTO_AUTO;
        rc = vj_want_object(&hc, h, "a host");
        if (rc == 0) rc = vj_get_str(&hc, h, "base_url", true, &s->hosts[i].base_url);
        if (rc == 0) rc = enum_from_json(&hc, h, "proto", scn_proto_parse, "auto, h1, h2 or h2c", &proto);
        s->hosts[i].proto = (scn_proto_t)proto;
    }
    const json_t *vars = json_object_get(j, "vars");
    if (rc == 0 && vars) {
        if (!json_is_object(vars))
            return vj_fail(c, MP_ERR_FORMAT, "vars", "expected an object of name: value");
        n = json_object_size(vars);
        ALLOC_OR_FAIL(c, s->vars, n, "vars");
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)vars, k, v) {
            vj_ctx_t vc = vj_sub(c, "vars");
            scn_kv_t *kv = &s->vars[s->n_vars++];
            if (!(kv->name = strdup(k)))
                return vj_fail(&vc, MP_ERR_IO, k, "out of memory");
            if ((rc = vj_value_str(&vc, v, k, &kv->value)) != 0)
                return rc;
        }
    }
    if (rc == 0) rc = vj_get_array(c, j, "data", false, &a);
    n = a ? json_array_size(a) : 0;
    if (rc != 0)
        return rc;
    ALLOC_OR_FAIL(c, s->data, n, "data");
    s->n_data = n;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        vj_ctx_t dc = vj_at(c, "data", i);
        const json_t *d = json_array_get(a, i);
        rc = vj_want_object(&dc, d, "a data source");
        if (rc == 0) rc = vj_get_str(&dc, d, "path", true, &s->data[i].path);
        if (rc == 0) rc = strs_from_json(&dc, d, "vars", &s->data[i].vars, &s->data[i].n_vars);
    }
    return rc;
}

static int scenario_decode(const json_t *j, scn_scenario_t **out, mp_error_t *err)
{
    *out = NULL;
    vj_ctx_t c = { .err = err };
    scn_scenario_t *s = scn_new();
    if (!s)
        return vj_fail(&c, MP_ERR_IO, NULL, "out of memory");
    int rc = header_from_json(&c, j, s);
    const json_t *a = NULL;
    if (rc == 0) rc = vj_get_array(&c, j, "classes", true, &a);
    size_t n = a ? json_array_size(a) : 0;
    if (rc == 0 && n && !(s->classes = calloc(n, sizeof *s->classes)))
        rc = vj_fail(&c, MP_ERR_IO, "classes", "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        vj_ctx_t cc = vj_at(&c, "classes", i);
        s->n_classes++;
        rc = class_from_json(&cc, json_array_get(a, i), &s->classes[i]);
    }
    if (rc != 0) {
        scn_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* scn_validate names a class by name ("class 'c' tasks[0].url"); the view
 * names it by its place in the JSON ("classes[3].tasks[0].url"). */
static void validate_msg_to_path(const scn_scenario_t *s, mp_error_t *err)
{
    if (!err || err->record < 1 || (size_t)err->record > s->n_classes)
        return;
    char prefix[200];
    snprintf(prefix, sizeof prefix, "class '%.80s'", s->classes[err->record - 1].name);
    size_t pl = strlen(prefix);
    if (strncmp(err->msg, prefix, pl) != 0)
        return;
    const char *rest = err->msg + pl;
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%s", rest[0] == ' ' ? rest + 1 : rest);
    mp_error_set(err, MP_ERR_INVALID, err->record, err->offset, "classes[%ld]%s%s", err->record - 1,
                 rest[0] == ' ' ? "." : "", msg);
}

int view_scenario_from_json(const json_t *j, scn_scenario_t **out, mp_error_t *err)
{
    int rc = scenario_decode(j, out, err);
    if (rc == 0 && (rc = scn_validate(*out, err)) != 0) {
        validate_msg_to_path(*out, err);
        scn_free(*out);
        *out = NULL;
    }
    return rc;
}

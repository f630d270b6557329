/* scn_load: reads a scenario file (scenario.h) record by record, then
 * validates it. Unknown keys are ignored so newer minor versions stay
 * readable; a validation error is placed at the record holding the fault. */
#include <stdlib.h>
#include <string.h>

#include "mpread.h"
#include "scenario.h"

/* Grows *v (n elements of size sz) to hold n zeroed elements. */
static void *alloc_array(size_t n, size_t sz)
{
    return n ? calloc(n, sz) : NULL;
}

#define ALLOC_OR_FAIL(c, p, n, field)                                                   \
    do {                                                                                \
        (p) = alloc_array((n), sizeof *(p));                                            \
        if ((n) && !(p))                                                                \
            return mpr_fail((c), MP_ERR_IO, (field), "out of memory");                  \
    } while (0)

static int unpack_strs(const mpr_ctx_t *c, const msgpack_object *map, const char *key, char ***out, size_t *n)
{
    const msgpack_object *a;
    size_t na;
    int rc = mpr_array(c, map, key, false, &a, &na);
    if (rc != 0)
        return rc;
    ALLOC_OR_FAIL(c, *out, na, key);
    *n = na;
    for (size_t i = 0; rc == 0 && i < na; i++) {
        char f[64];
        snprintf(f, sizeof f, "%s[%zu]", key, i);
        rc = mpr_obj_str(c, &a[i], f, &(*out)[i]);
    }
    return rc;
}

static int unpack_kvs(const mpr_ctx_t *c, const msgpack_object *map, const char *key, scn_kv_t **out, size_t *n)
{
    const msgpack_object *a;
    size_t na;
    int rc = mpr_array(c, map, key, false, &a, &na);
    if (rc != 0)
        return rc;
    ALLOC_OR_FAIL(c, *out, na, key);
    *n = na;
    for (size_t i = 0; rc == 0 && i < na; i++) {
        char f[64];
        snprintf(f, sizeof f, "%s[%zu]", key, i);
        rc = mpr_pair(c, &a[i], f, &(*out)[i].name, &(*out)[i].value);
    }
    return rc;
}

/* An enum spelled as a string; absent keeps *out. */
static int unpack_enum(const mpr_ctx_t *c, const msgpack_object *map, const char *key,
                       int (*parse)(const char *), const char *expected, int *out)
{
    char *s = NULL;
    int rc = mpr_str(c, map, key, false, &s);
    if (rc == 0 && s) {
        int v = parse(s);
        if (v < 0)
            rc = mpr_fail(c, MP_ERR_INVALID, key, "unknown value \"%.40s\" (expected %s)", s, expected);
        else
            *out = v;
    }
    free(s);
    return rc;
}

static int unpack_u32(const mpr_ctx_t *c, const msgpack_object *map, const char *key, bool required,
                      uint64_t max, uint64_t *out)
{
    int rc = mpr_uint(c, map, key, required, out);
    if (rc == 0 && *out > max)
        return mpr_fail(c, MP_ERR_INVALID, key, "%llu is out of range (max %llu)",
                        (unsigned long long)*out, (unsigned long long)max);
    return rc;
}

static int unpack_extractor(const mpr_ctx_t *c, const msgpack_object *o, scn_extractor_t *e)
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return mpr_fail(c, MP_ERR_FORMAT, NULL, "expected an extractor map");
    int kind = -1;
    uint64_t group = 1;
    int rc = mpr_str(c, o, "var", true, &e->var);
    if (rc == 0 && !mpr_get(o, "kind"))
        rc = mpr_fail(c, MP_ERR_INVALID, "kind", "missing (expected header, cookie, json or regex)");
    if (rc == 0)
        rc = unpack_enum(c, o, "kind", scn_ext_kind_parse, "header, cookie, json or regex", &kind);
    if (rc == 0)
        rc = mpr_str(c, o, "expr", true, &e->expr);
    if (rc == 0)
        rc = unpack_u32(c, o, "group", false, 99, &group);
    if (rc == 0)
        rc = mpr_str(c, o, "default", false, &e->default_value);
    e->kind = (scn_ext_kind_t)kind;
    e->group = (int)group;
    return rc;
}

static int unpack_check(const mpr_ctx_t *c, const msgpack_object *req, scn_check_t *ck)
{
    const msgpack_object *o = mpr_get(req, "check");
    if (!o)
        return 0;
    if (o->type != MSGPACK_OBJECT_MAP)
        return mpr_fail(c, MP_ERR_FORMAT, "check", "expected a map");
    char path[256];
    mpr_ctx_t cc = mpr_at(c, path, sizeof path, "%s%scheck", c->path, c->path[0] ? "." : "");
    const msgpack_object *a;
    size_t n;
    int rc = mpr_array(&cc, o, "status", false, &a, &n);
    if (rc != 0)
        return rc;
    ALLOC_OR_FAIL(&cc, ck->statuses, n, "status");
    ck->n_statuses = n;
    for (size_t i = 0; i < n; i++) {
        if (a[i].type != MSGPACK_OBJECT_POSITIVE_INTEGER || a[i].via.u64 > 999)
            return mpr_fail(&cc, MP_ERR_FORMAT, "status", "entry %zu: expected an integer status", i);
        ck->statuses[i] = (int)a[i].via.u64;
    }
    return unpack_strs(&cc, o, "body_contains", &ck->body_contains, &ck->n_body_contains);
}

static int unpack_request(const mpr_ctx_t *c, const msgpack_object *o, scn_request_t *r)
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return mpr_fail(c, MP_ERR_FORMAT, NULL, "expected a request map");
    int rc = mpr_str(c, o, "method", true, &r->method);
    if (rc == 0) rc = mpr_str(c, o, "url", true, &r->url);
    if (rc == 0) rc = mpr_str(c, o, "name", false, &r->name);
    if (rc == 0 && !r->name && !(r->name = scn_default_name(r->method, r->url)))
        rc = mpr_fail(c, MP_ERR_IO, "name", "out of memory");
    if (rc == 0) rc = unpack_kvs(c, o, "headers", &r->headers, &r->n_headers);
    if (rc == 0) rc = mpr_bin(c, o, "body", &r->body, &r->body_len);
    if (rc == 0) rc = unpack_check(c, o, &r->check);
    if (rc == 0) rc = mpr_bool(c, o, "follow_redirects", &r->follow_redirects);
    const msgpack_object *a;
    size_t n = 0;
    if (rc == 0) rc = mpr_array(c, o, "extract", false, &a, &n);
    if (rc != 0)
        return rc;
    ALLOC_OR_FAIL(c, r->extractors, n, "extract");
    r->n_extractors = n;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char path[256];
        mpr_ctx_t ec = mpr_at(c, path, sizeof path, "%s.extract[%zu]", c->path, i);
        rc = unpack_extractor(&ec, &a[i], &r->extractors[i]);
    }
    return rc;
}

static int unpack_ws_msg(const mpr_ctx_t *c, const msgpack_object *o, scn_ws_msg_t *m)
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return mpr_fail(c, MP_ERR_FORMAT, NULL, "expected a message map");
    uint64_t count = 0;
    int rc = mpr_str(c, o, "name", true, &m->name);
    if (rc == 0) rc = mpr_bool(c, o, "binary", &m->binary);
    if (rc == 0) rc = mpr_bin(c, o, "data", &m->data, &m->len);
    if (rc == 0) rc = mpr_uint(c, o, "gap_us", false, &m->gap_us);
    const msgpack_object *aw = mpr_get(o, "await");
    if (rc == 0 && aw) {
        char path[256];
        mpr_ctx_t ac = mpr_at(c, path, sizeof path, "%s.await", c->path);
        if (aw->type != MSGPACK_OBJECT_MAP)
            return mpr_fail(c, MP_ERR_FORMAT, "await", "expected a map");
        rc = unpack_u32(&ac, aw, "count", false, UINT32_MAX, &count);
        if (rc == 0) rc = mpr_str(&ac, aw, "json", false, &m->await_json);
        if (rc == 0) rc = mpr_str(&ac, aw, "equals", false, &m->await_equals);
        if (rc == 0) rc = mpr_str(&ac, aw, "contains", false, &m->await_contains);
    }
    m->await_count = (uint32_t)count;
    const msgpack_object *a;
    size_t n = 0;
    if (rc == 0) rc = mpr_array(c, o, "extract", false, &a, &n);
    if (rc != 0)
        return rc;
    ALLOC_OR_FAIL(c, m->extractors, n, "extract");
    m->n_extractors = n;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char path[256];
        mpr_ctx_t ec = mpr_at(c, path, sizeof path, "%s.extract[%zu]", c->path, i);
        rc = unpack_extractor(&ec, &a[i], &m->extractors[i]);
    }
    return rc;
}

static int unpack_ws(const mpr_ctx_t *c0, const msgpack_object *o, scn_ws_t **out)
{
    char path[256];
    mpr_ctx_t c = mpr_at(c0, path, sizeof path, "%s.ws", c0->path);
    if (o->type != MSGPACK_OBJECT_MAP)
        return mpr_fail(&c, MP_ERR_FORMAT, NULL, "expected a map");
    scn_ws_t *w = *out = calloc(1, sizeof *w);
    if (!w)
        return mpr_fail(&c, MP_ERR_IO, NULL, "out of memory");
    int rc = mpr_str(&c, o, "name", true, &w->name);
    if (rc == 0) rc = mpr_str(&c, o, "url", true, &w->url);
    if (rc == 0) rc = unpack_kvs(&c, o, "headers", &w->headers, &w->n_headers);
    if (rc == 0) rc = mpr_str(&c, o, "subprotocol", false, &w->subprotocol);
    if (rc == 0) rc = mpr_uint(&c, o, "close_gap_us", false, &w->close_gap_us);
    if (rc == 0) rc = mpr_bool(&c, o, "background", &w->background);
    const msgpack_object *a;
    size_t n = 0;
    if (rc == 0) rc = mpr_array(&c, o, "messages", false, &a, &n);
    if (rc != 0)
        return rc;
    ALLOC_OR_FAIL(&c, w->msgs, n, "messages");
    w->n_msgs = n;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char mpath[300];
        mpr_ctx_t mc = mpr_at(&c, mpath, sizeof mpath, "%s.messages[%zu]", c.path, i);
        rc = unpack_ws_msg(&mc, &a[i], &w->msgs[i]);
    }
    return rc;
}

static int unpack_step(const mpr_ctx_t *c, const msgpack_object *o, scn_step_t *s)
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return mpr_fail(c, MP_ERR_FORMAT, NULL, "expected a step map");
    const msgpack_object *a;
    size_t n;
    int rc = mpr_bool(c, o, "parallel", &s->parallel);
    if (rc == 0) rc = mpr_uint(c, o, "think_us", false, &s->think_us);
    if (rc == 0) rc = mpr_str(c, o, "lua", false, &s->lua);
    const msgpack_object *ws = mpr_get(o, "ws");
    if (rc == 0 && ws)
        rc = unpack_ws(c, ws, &s->ws);
    a = NULL;
    n = 0;
    /* A custom step (lua) and a WebSocket step have no requests. */
    if (rc == 0) rc = mpr_array(c, o, "requests", s->lua == NULL && s->ws == NULL, &a, &n);
    if (rc != 0)
        return rc;
    ALLOC_OR_FAIL(c, s->requests, n, "requests");
    s->n_requests = n;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char path[256];
        mpr_ctx_t rc_ = mpr_at(c, path, sizeof path, "%s.requests[%zu]", c->path, i);
        rc = unpack_request(&rc_, &a[i], &s->requests[i]);
    }
    return rc;
}

static int unpack_steps(const mpr_ctx_t *c, const msgpack_object *o, const char *key, scn_steps_t *st)
{
    const msgpack_object *a;
    size_t n;
    int rc = mpr_array(c, o, key, false, &a, &n);
    if (rc != 0)
        return rc;
    ALLOC_OR_FAIL(c, st->v, n, key);
    st->n = n;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char path[256];
        mpr_ctx_t sc = mpr_at(c, path, sizeof path, "%s %s[%zu]", c->path, key, i);
        rc = unpack_step(&sc, &a[i], &st->v[i]);
    }
    return rc;
}

static int unpack_class(const mpr_ctx_t *c0, const msgpack_object *o, scn_class_t *cl)
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return mpr_fail(c0, MP_ERR_FORMAT, NULL, "expected a class map");
    int rc = mpr_str(c0, o, "name", true, &cl->name);
    if (rc != 0)
        return rc;
    char path[128];
    mpr_ctx_t c = mpr_at(c0, path, sizeof path, "class '%.80s'", cl->name);
    uint64_t weight = 1;
    rc = unpack_u32(&c, o, "weight", false, UINT32_MAX, &weight);
    cl->weight = (uint32_t)weight;
    const msgpack_object *wait = mpr_get(o, "wait");
    if (rc == 0 && wait) {
        char wpath[160];
        mpr_ctx_t wc = mpr_at(&c, wpath, sizeof wpath, "%s wait", path);
        int kind = SCN_WAIT_RECORDED;
        if (wait->type != MSGPACK_OBJECT_MAP)
            return mpr_fail(&c, MP_ERR_FORMAT, "wait", "expected a map");
        rc = unpack_enum(&wc, wait, "kind", scn_wait_kind_parse, "recorded, none, constant or between", &kind);
        cl->wait.kind = (scn_wait_kind_t)kind;
        if (rc == 0) rc = mpr_uint(&wc, wait, "min_us", false, &cl->wait.min_us);
        if (rc == 0) rc = mpr_uint(&wc, wait, "max_us", false, &cl->wait.max_us);
    }
    if (rc == 0) rc = unpack_steps(&c, o, "on_start", &cl->on_start);
    if (rc == 0) rc = unpack_steps(&c, o, "tasks", &cl->tasks);
    if (rc == 0) rc = unpack_steps(&c, o, "on_stop", &cl->on_stop);
    return rc;
}

static int unpack_header(const mpr_ctx_t *c, const msgpack_object *o, scn_scenario_t *s, uint64_t *classes)
{
    int rc = mpr_header_version(c, o, SCN_FORMAT, SCN_VERSION_MAJOR, &s->version_major, &s->version_minor);
    if (rc == 0) rc = mpr_int(c, o, "created_us", false, &s->created_us);
    if (rc == 0) rc = mpr_str(c, o, "tool", false, &s->tool);
    if (rc == 0) rc = mpr_str(c, o, "script", false, &s->script);
    if (rc == 0) rc = mpr_uint(c, o, "classes", false, classes);
    const msgpack_object *a;
    size_t n = 0;
    if (rc == 0) rc = mpr_array(c, o, "hosts", false, &a, &n);
    if (rc != 0)
        return rc;
    ALLOC_OR_FAIL(c, s->hosts, n, "hosts");
    s->n_hosts = n;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char path[48];
        mpr_ctx_t hc = mpr_at(c, path, sizeof path, "hosts[%zu]", i);
        int proto = SCN_PROTO_AUTO;
        if (a[i].type != MSGPACK_OBJECT_MAP)
            return mpr_fail(&hc, MP_ERR_FORMAT, NULL, "expected a host map");
        rc = mpr_str(&hc, &a[i], "base_url", true, &s->hosts[i].base_url);
        if (rc == 0) rc = unpack_enum(&hc, &a[i], "proto", scn_proto_parse, "auto, h1, h2 or h2c", &proto);
        s->hosts[i].proto = (scn_proto_t)proto;
    }
    const msgpack_object *vars = mpr_get(o, "vars");
    if (rc == 0 && vars) {
        if (vars->type != MSGPACK_OBJECT_MAP)
            return mpr_fail(c, MP_ERR_FORMAT, "vars", "expected a map of name to value");
        n = vars->via.map.size;
        ALLOC_OR_FAIL(c, s->vars, n, "vars");
        s->n_vars = n;
        for (size_t i = 0; rc == 0 && i < n; i++) {
            char f[48];
            snprintf(f, sizeof f, "vars[%zu]", i);
            rc = mpr_obj_str(c, &vars->via.map.ptr[i].key, f, &s->vars[i].name);
            if (rc == 0)
                rc = mpr_obj_str(c, &vars->via.map.ptr[i].val, f, &s->vars[i].value);
        }
    }
    if (rc == 0) rc = mpr_array(c, o, "data", false, &a, &n);
    if (rc != 0)
        return rc;
    ALLOC_OR_FAIL(c, s->data, n, "data");
    s->n_data = n;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char path[48];
        mpr_ctx_t dc = mpr_at(c, path, sizeof path, "data[%zu]", i);
        if (a[i].type != MSGPACK_OBJECT_MAP)
            return mpr_fail(&dc, MP_ERR_FORMAT, NULL, "expected a data map");
        rc = mpr_str(&dc, &a[i], "path", true, &s->data[i].path);
        if (rc == 0) rc = unpack_strs(&dc, &a[i], "vars", &s->data[i].vars, &s->data[i].n_vars);
    }
    return rc;
}

static int add_class(scn_scenario_t *s, const mpr_ctx_t *c, const msgpack_object *o)
{
    scn_class_t *v = realloc(s->classes, (s->n_classes + 1) * sizeof *v);
    if (!v)
        return mpr_fail(c, MP_ERR_IO, NULL, "out of memory");
    s->classes = v;
    memset(&v[s->n_classes], 0, sizeof *v);
    s->n_classes++;
    return unpack_class(c, o, &v[s->n_classes - 1]);
}

int scn_load(const char *path, scn_scenario_t **out, mp_error_t *err)
{
    *out = NULL;
    mpr_stream_t *st = mpr_open(path, err);
    if (!st)
        return MP_ERR_IO;
    int64_t *offsets = NULL; /* of each record, to place validation errors */
    scn_scenario_t *s = scn_new();
    const msgpack_object *o;
    uint64_t classes = UINT64_MAX;
    int rc = s ? mpr_next(st, &o, err) : mp_error_set(err, MP_ERR_IO, -1, -1, "%s: out of memory", path);
    if (rc == MP_EOF)
        rc = mp_error_set(err, MP_ERR_FORMAT, 0, 0, "%s: empty file (expected an %s header)", path, SCN_FORMAT);
    if (rc == MP_OK) {
        mpr_ctx_t c = mpr_ctx(st, err);
        rc = unpack_header(&c, o, s, &classes);
    }
    while (rc == MP_OK) {
        int64_t *no = realloc(offsets, (s->n_classes + 1) * sizeof *no);
        if (!no) {
            rc = mp_error_set(err, MP_ERR_IO, -1, -1, "%s: out of memory", path);
            break;
        }
        offsets = no;
        offsets[s->n_classes] = mpr_offset(st);
        rc = mpr_next(st, &o, err);
        if (rc == MP_OK) {
            mpr_ctx_t c = mpr_ctx(st, err);
            rc = add_class(s, &c, o);
        }
    }
    if (rc == MP_EOF) {
        rc = 0;
        if (classes != UINT64_MAX && classes != s->n_classes)
            rc = mp_error_set(err, MP_ERR_FORMAT, (long)s->n_classes + 1, mpr_end(st),
                              "%s: header announces %llu classes but the file holds %zu (truncated?)",
                              path, (unsigned long long)classes, s->n_classes);
    }
    if (rc == 0) {
        mp_error_t verr;
        rc = scn_validate(s, &verr);
        if (rc != 0) {
            int64_t off = verr.record >= 0 && (size_t)verr.record <= s->n_classes ? offsets[verr.record] : -1;
            mp_error_set(err, rc, verr.record, off, "%s: record %ld at byte %lld: %s",
                         path, verr.record, (long long)off, verr.msg);
        }
    }
    free(offsets);
    mpr_close(st);
    if (rc != 0) {
        scn_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

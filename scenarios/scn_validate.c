/* scn_validate: the spec's rules on a scenario in memory (scenario.h). The
 * message names the place as a path: "class 'browse' tasks[2].requests[0].url". */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mpread.h"
#include "scenario.h"
#include "scn_syntax.h"

typedef struct vctx {
    mp_error_t *err;
    long record;       /* 0 header, i + 1 class i */
    char path[200];    /* place of the current request, step or class */
} vctx_t;

__attribute__((format(printf, 3, 4)))
static int fail(const vctx_t *v, const char *field, const char *fmt, ...)
{
    char what[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *sep = v->path[0] && field[0] && !strchr(" [", field[0]) ? "." : "";
    return mp_error_set(v->err, MP_ERR_INVALID, v->record, -1, "%s%s%s: %s", v->path, sep, field, what);
}

/* v->path from byte at: a, b, "[i]" (as snprintf "%s%s[%zu]" would, cut to
 * the buffer). Called per step and per request: no printf. */
static void path_index(vctx_t *v, size_t at, const char *a, const char *b, size_t i)
{
    char num[24];
    size_t nl = 0;
    do
        num[sizeof num - 1 - nl++] = (char)('0' + i % 10);
    while ((i /= 10) != 0);
    const char *parts[5] = { a, b, "[", num + sizeof num - nl, "]" };
    size_t lens[5] = { strlen(a), strlen(b), 1, nl, 1 };
    for (int k = 0; k < 5 && at < sizeof v->path - 1; k++) {
        size_t n = lens[k] < sizeof v->path - 1 - at ? lens[k] : sizeof v->path - 1 - at;
        memcpy(v->path + at, parts[k], n);
        at += n;
    }
    v->path[at < sizeof v->path ? at : sizeof v->path - 1] = '\0';
}

static int check_template(const vctx_t *v, const char *field, const char *text, size_t len)
{
    char why[200];
    if (syn_template(text, len, why, sizeof why) != 0)
        return fail(v, field, "%s", why);
    return 0;
}

/* Headers the connection layer owns: the replay writes framing and
 * connection headers itself, so a recorded copy would be wrong or doubled. */
static bool is_conn_header(const char *name)
{
    static const char *const owned[] = { "connection", "keep-alive", "proxy-connection",
                                         "transfer-encoding", "upgrade", "te", "trailer",
                                         "content-length" };
    for (size_t i = 0; i < sizeof owned / sizeof *owned; i++)
        if (strcasecmp(name, owned[i]) == 0)
            return true;
    return false;
}

static bool url_ok(const char *u)
{
    return u[0] == '/' || strncmp(u, "{{", 2) == 0 || strncmp(u, "http://", 7) == 0 ||
           strncmp(u, "https://", 8) == 0;
}

static int check_extractor(const vctx_t *v, size_t i, const scn_extractor_t *e)
{
    char f[48], why[200];
    snprintf(f, sizeof f, "extract[%zu].var", i);
    if (!e->var || !syn_var_name(e->var, strlen(e->var)))
        return fail(v, f, "expected a variable name [A-Za-z_][A-Za-z0-9_.-]*");
    snprintf(f, sizeof f, "extract[%zu].kind", i);
    if (!scn_ext_kind_name(e->kind))
        return fail(v, f, "unknown kind %d (expected header, cookie, json or regex)", (int)e->kind);
    snprintf(f, sizeof f, "extract[%zu].expr", i);
    if (!e->expr || !e->expr[0])
        return fail(v, f, "missing or empty");
    if ((e->kind == SCN_EXT_HEADER || e->kind == SCN_EXT_COOKIE) && strpbrk(e->expr, " \t\r\n;=:,"))
        return fail(v, f, "expected a %s name", e->kind == SCN_EXT_HEADER ? "header" : "cookie");
    if (e->kind == SCN_EXT_JSON && syn_json_path(e->expr, why, sizeof why) != 0)
        return fail(v, f, "JSON path \"%s\": %s", e->expr, why);
    if (e->kind == SCN_EXT_REGEX && syn_regex(e->expr, e->group, why, sizeof why) != 0)
        return fail(v, f, "%s", why);
    return 0;
}

static int check_headers(const vctx_t *v, const scn_kv_t *hs, size_t n, bool ws)
{
    int rc = 0;
    char why[200];
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char f[48];
        snprintf(f, sizeof f, "headers[%zu]", i);
        const scn_kv_t *h = &hs[i];
        if (!h->name || !h->name[0] || !h->value)
            rc = fail(v, f, "expected a non-empty name and a value");
        else if (!ws && strcasecmp(h->name, "te") == 0 && strcasecmp(h->value, "trailers") == 0)
            ; /* gRPC servers require it; it only says the client takes trailers */
        else if (!ws && strcasecmp(h->name, "te") == 0)
            rc = fail(v, f, "te: '%s': expected 'trailers' (the only te a scenario may send)", h->value);
        else if (is_conn_header(h->name) || (ws && strncasecmp(h->name, "sec-websocket-", 14) == 0))
            rc = fail(v, f, "'%s' is set by the connection, not the scenario", h->name);
        else if ((rc = check_template(v, f, h->name, strlen(h->name))) == 0 &&
                 (rc = check_template(v, f, h->value, strlen(h->value))) == 0) {
            if (syn_header_name_tpl(h->name, strlen(h->name), why, sizeof why) != 0 ||
                syn_header_value_tpl(h->value, strlen(h->value), why, sizeof why) != 0)
                rc = fail(v, f, "%s", why);
        }
    }
    return rc;
}

static int check_request(vctx_t *v, const scn_request_t *r)
{
    if (!r->name || !r->name[0])
        return fail(v, "name", "missing or empty");
    if (!syn_is_token(r->method))
        return fail(v, "method", "expected a token such as GET or POST");
    if (!r->url || !r->url[0])
        return fail(v, "url", "missing or empty");
    size_t olen;
    if (scn_url_is_asterisk(r->url, &olen)) {
        if (strcmp(r->method, "OPTIONS") != 0)
            return fail(v, "url", "'%s' is the asterisk-form, for OPTIONS only (method is %s)", r->url, r->method);
    } else if (!url_ok(r->url)) {
        return fail(v, "url", "expected a path starting with / or an http(s):// URL");
    }
    int rc = check_template(v, "url", r->url, strlen(r->url));
    char why[200];
    if (rc == 0 && syn_target_tpl(r->url, strlen(r->url), why, sizeof why) != 0)
        rc = fail(v, "url", "%s", why);
    if (rc == 0)
        rc = check_headers(v, r->headers, r->n_headers, false);
    if (rc == 0 && r->body_len && !r->body)
        rc = fail(v, "body", "length without bytes");
    if (rc == 0)
        rc = check_template(v, "body", (const char *)r->body, r->body_len);
    for (size_t i = 0; rc == 0 && i < r->n_extractors; i++)
        rc = check_extractor(v, i, &r->extractors[i]);
    for (size_t i = 0; rc == 0 && i < r->check.n_statuses; i++)
        if (r->check.statuses[i] < 100 || r->check.statuses[i] > 599)
            rc = fail(v, "check.status", "%d is not an HTTP status (100..599)", r->check.statuses[i]);
    for (size_t i = 0; rc == 0 && i < r->check.n_body_contains; i++)
        if (!r->check.body_contains[i] || !r->check.body_contains[i][0])
            rc = fail(v, "check.body_contains", "entry %zu is empty", i);
    return rc;
}

static int check_ws_msg(vctx_t *v, const scn_ws_msg_t *m)
{
    char why[200];
    if (!m->name || !m->name[0])
        return fail(v, "name", "missing or empty");
    if (m->len && !m->data)
        return fail(v, "data", "length without bytes");
    /* Binary messages go as recorded; only text ones are templates. */
    int rc = m->binary ? 0 : check_template(v, "data", (const char *)m->data, m->len);
    if (rc)
        return rc;
    if ((m->await_json != NULL) != (m->await_equals != NULL))
        return fail(v, "await", "json and equals go together (a JSON path and the value it must have)");
    if (m->await_json && m->await_contains)
        return fail(v, "await", "one match rule: json+equals or contains, not both");
    if (m->await_json && syn_json_path(m->await_json, why, sizeof why) != 0)
        return fail(v, "await.json", "JSON path \"%s\": %s", m->await_json, why);
    if (m->await_contains && !m->await_contains[0])
        return fail(v, "await.contains", "empty");
    bool awaits = m->await_count || m->await_json || m->await_contains;
    if (m->n_extractors && !awaits)
        return fail(v, "extract", "extractors read the awaited message: set await (count or a match rule)");
    for (size_t i = 0; rc == 0 && i < m->n_extractors; i++) {
        const scn_extractor_t *e = &m->extractors[i];
        if (e->kind != SCN_EXT_JSON && e->kind != SCN_EXT_REGEX) {
            char f[48];
            snprintf(f, sizeof f, "extract[%zu].kind", i);
            return fail(v, f, "a WebSocket message has no headers or cookies: expected json or regex");
        }
        rc = check_extractor(v, i, e);
    }
    return rc;
}

static int check_ws(vctx_t *v, const scn_ws_t *w)
{
    size_t base = strlen(v->path);
    snprintf(v->path + base, sizeof v->path - base, ".ws");
    int rc = 0;
    if (!w->name || !w->name[0])
        rc = fail(v, "name", "missing or empty");
    else if (!w->url || (strncmp(w->url, "ws://", 5) != 0 && strncmp(w->url, "wss://", 6) != 0 &&
                         strncmp(w->url, "{{", 2) != 0))
        rc = fail(v, "url", "expected a ws:// or wss:// URL");
    else
        rc = check_template(v, "url", w->url, strlen(w->url));
    if (rc == 0 && w->subprotocol && !syn_is_token(w->subprotocol))
        rc = fail(v, "subprotocol", "expected a token such as chat or graphql-ws");
    if (rc == 0)
        rc = check_headers(v, w->headers, w->n_headers, true);
    size_t ws_len = strlen(v->path);
    for (size_t i = 0; rc == 0 && i < w->n_msgs; i++) {
        snprintf(v->path + ws_len, sizeof v->path - ws_len, ".messages[%zu]", i);
        rc = check_ws_msg(v, &w->msgs[i]);
        for (size_t j = 0; rc == 0 && j < i; j++)
            if (strcmp(w->msgs[j].name, w->msgs[i].name) == 0)
                rc = fail(v, "name", "'%s' used twice (messages[%zu] and messages[%zu]): it names a stats entry",
                          w->msgs[i].name, j, i);
    }
    v->path[base] = 0;
    return rc;
}

static int check_steps(vctx_t *v, const char *section, const scn_steps_t *st)
{
    size_t base = strlen(v->path);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < st->n; i++) {
        const scn_step_t *s = &st->v[i];
        path_index(v, base, " ", section, i);
        if (s->ws) {
            if (s->lua)
                rc = fail(v, "ws", "a step is WebSocket or custom (lua), not both");
            else if (s->n_requests)
                rc = fail(v, "ws", "a WebSocket step has no requests");
            else
                rc = check_ws(v, s->ws);
            if (rc)
                break;
            continue;
        }
        if (s->lua) {
            bool ok = (s->lua[0] >= 'A' && s->lua[0] <= 'Z') || (s->lua[0] >= 'a' && s->lua[0] <= 'z') ||
                      s->lua[0] == '_';
            for (const char *p = s->lua; ok && *p; p++)
                ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                     *p == '_';
            if (!ok)
                rc = fail(v, "lua", "expected the name of a Lua function [A-Za-z_][A-Za-z0-9_]*");
            else if (s->n_requests)
                rc = fail(v, "lua", "a custom step has no requests (it makes them: user:request{...})");
            if (rc)
                break;
            continue;
        }
        if (s->n_requests == 0) {
            rc = fail(v, "requests", "a step needs at least one request");
            break;
        }
        size_t step_len = strlen(v->path);
        for (size_t j = 0; rc == 0 && j < s->n_requests; j++) {
            path_index(v, step_len, ".requests", "", j);
            rc = check_request(v, &s->requests[j]);
        }
    }
    v->path[base] = 0;
    return rc;
}

static int check_class(vctx_t *v, const scn_scenario_t *s, size_t ci)
{
    const scn_class_t *c = &s->classes[ci];
    v->record = (long)ci + 1;
    if (!c->name || !c->name[0]) {
        snprintf(v->path, sizeof v->path, "classes[%zu]", ci);
        return fail(v, "name", "missing or empty");
    }
    snprintf(v->path, sizeof v->path, "class '%.80s'", c->name);
    for (size_t j = 0; j < ci; j++)
        if (strcmp(s->classes[j].name, c->name) == 0)
            return fail(v, "", "name used twice (classes[%zu] and classes[%zu])", j, ci);
    if (c->weight < 1)
        return fail(v, " weight", "must be >= 1");
    if (!scn_wait_kind_name(c->wait.kind))
        return fail(v, " wait.kind", "unknown kind %d", (int)c->wait.kind);
    if (c->wait.kind == SCN_WAIT_BETWEEN && c->wait.min_us > c->wait.max_us)
        return fail(v, " wait", "min_us %llu > max_us %llu", (unsigned long long)c->wait.min_us,
                    (unsigned long long)c->wait.max_us);
    if (c->tasks.n == 0)
        return fail(v, " tasks", "at least one task step is needed");
    int rc = check_steps(v, "on_start", &c->on_start);
    if (rc == 0)
        rc = check_steps(v, "tasks", &c->tasks);
    if (rc == 0)
        rc = check_steps(v, "on_stop", &c->on_stop);
    return rc;
}

static int check_header(vctx_t *v, const scn_scenario_t *s)
{
    v->record = 0;
    for (size_t i = 0; i < s->n_hosts; i++) {
        const scn_host_t *h = &s->hosts[i];
        snprintf(v->path, sizeof v->path, "hosts[%zu]", i);
        const char *u = h->base_url ? h->base_url : "";
        bool tls = strncmp(u, "https://", 8) == 0;
        const char *host = tls ? u + 8 : strncmp(u, "http://", 7) == 0 ? u + 7 : NULL;
        if (!host || !host[0] || host[0] == '/' || (strchr(host, '/') && strcmp(strchr(host, '/'), "/") != 0))
            return fail(v, "base_url", "expected an origin http(s)://host[:port], got \"%.80s\"", u);
        if (!scn_proto_name(h->proto))
            return fail(v, "proto", "unknown protocol %d", (int)h->proto);
        if (h->proto == SCN_PROTO_H2 && !tls)
            return fail(v, "proto", "h2 needs an https:// origin (use h2c for cleartext)");
        if (h->proto == SCN_PROTO_H2C && tls)
            return fail(v, "proto", "h2c is cleartext; use h2 with https://");
    }
    v->path[0] = 0;
    for (size_t i = 0; i < s->n_vars; i++) {
        char f[48];
        snprintf(f, sizeof f, "vars[%zu]", i);
        const char *n = s->vars[i].name;
        if (!n || !syn_var_name(n, strlen(n)))
            return fail(v, f, "expected a variable name [A-Za-z_][A-Za-z0-9_.-]*");
        if (!s->vars[i].value)
            return fail(v, f, "value missing");
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->vars[j].name, n) == 0)
                return fail(v, f, "variable '%s' set twice", n);
    }
    for (size_t i = 0; i < s->n_data; i++) {
        snprintf(v->path, sizeof v->path, "data[%zu]", i);
        if (!s->data[i].path || !s->data[i].path[0])
            return fail(v, "path", "missing or empty");
        for (size_t j = 0; j < s->data[i].n_vars; j++) {
            const char *n = s->data[i].vars[j];
            if (!n || !syn_var_name(n, strlen(n)))
                return fail(v, "vars", "entry %zu: expected a variable name", j);
        }
    }
    v->path[0] = 0;
    if (s->script && !s->script[0])
        return fail(v, "script", "empty (a Lua file, relative to the scenario, or leave it out)");
    if (s->n_classes == 0)
        return fail(v, "classes", "at least one user class is needed");
    return 0;
}

int scn_validate(const scn_scenario_t *s, mp_error_t *err)
{
    vctx_t v = { .err = err };
    int rc = check_header(&v, s);
    for (size_t i = 0; rc == 0 && i < s->n_classes; i++)
        rc = check_class(&v, s, i);
    return rc;
}

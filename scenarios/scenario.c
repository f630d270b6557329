/* scenario: allocation and release of the scenario model (scenario.h).
 * Encoding lives in scn_codec.c, checks in scn_validate.c. */
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

scn_scenario_t *scn_new(void)
{
    scn_scenario_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->version_major = SCN_VERSION_MAJOR;
    s->version_minor = SCN_VERSION_MINOR;
    return s;
}

static void kvs_free(scn_kv_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
}

static void strs_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void extractors_free(scn_extractor_t *e, size_t n);

void scn_request_fini(scn_request_t *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->method);
    free(r->url);
    kvs_free(r->headers, r->n_headers);
    free(r->body);
    extractors_free(r->extractors, r->n_extractors);
    free(r->check.statuses);
    strs_free(r->check.body_contains, r->check.n_body_contains);
    memset(r, 0, sizeof *r);
}

static void extractors_free(scn_extractor_t *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].var);
        free(e[i].expr);
        free(e[i].default_value);
    }
    free(e);
}

void scn_ws_free(scn_ws_t *w)
{
    if (!w)
        return;
    free(w->name);
    free(w->url);
    kvs_free(w->headers, w->n_headers);
    free(w->subprotocol);
    for (size_t i = 0; i < w->n_msgs; i++) {
        scn_ws_msg_t *m = &w->msgs[i];
        free(m->name);
        free(m->data);
        free(m->await_json);
        free(m->await_equals);
        free(m->await_contains);
        extractors_free(m->extractors, m->n_extractors);
    }
    free(w->msgs);
    free(w);
}

void scn_step_fini(scn_step_t *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n_requests; i++)
        scn_request_fini(&st->requests[i]);
    free(st->requests);
    free(st->lua);
    scn_ws_free(st->ws);
    memset(st, 0, sizeof *st);
}

void scn_steps_fini(scn_steps_t *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++)
        scn_step_fini(&st->v[i]);
    free(st->v);
    memset(st, 0, sizeof *st);
}

void scn_class_fini(scn_class_t *c)
{
    if (!c)
        return;
    free(c->name);
    scn_steps_fini(&c->on_start);
    scn_steps_fini(&c->tasks);
    scn_steps_fini(&c->on_stop);
    memset(c, 0, sizeof *c);
}

void scn_free(scn_scenario_t *s)
{
    if (!s)
        return;
    free(s->tool);
    free(s->script);
    for (size_t i = 0; i < s->n_hosts; i++)
        free(s->hosts[i].base_url);
    free(s->hosts);
    kvs_free(s->vars, s->n_vars);
    for (size_t i = 0; i < s->n_data; i++) {
        free(s->data[i].path);
        strs_free(s->data[i].vars, s->data[i].n_vars);
    }
    free(s->data);
    for (size_t i = 0; i < s->n_classes; i++)
        scn_class_fini(&s->classes[i]);
    free(s->classes);
    free(s);
}

static const char *const proto_names[] = { "auto", "h1", "h2", "h2c" };
static const char *const ext_names[] = { "header", "cookie", "json", "regex" };
static const char *const wait_names[] = { "recorded", "none", "constant", "between" };

static const char *name_of(const char *const *names, size_t n, int v)
{
    return v >= 0 && (size_t)v < n ? names[v] : NULL;
}

static int value_of(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0)
            return (int)i;
    return -1;
}

#define N(a) (sizeof a / sizeof *a)
const char *scn_proto_name(scn_proto_t p) { return name_of(proto_names, N(proto_names), (int)p); }
const char *scn_ext_kind_name(scn_ext_kind_t k) { return name_of(ext_names, N(ext_names), (int)k); }

bool scn_grpc_content_type(const char *v, size_t n)
{
    static const char ct[] = "application/grpc";
    const size_t l = sizeof ct - 1;
    if (n < l || strncasecmp(v, ct, l) != 0)
        return false;
    return n == l || v[l] == '+' || v[l] == ';' || v[l] == ' ';
}

bool scn_request_is_grpc(const scn_request_t *r)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (r->headers[i].name && r->headers[i].value &&
            strcasecmp(r->headers[i].name, "content-type") == 0 &&
            scn_grpc_content_type(r->headers[i].value, strlen(r->headers[i].value)))
            return true;
    return false;
}
const char *scn_wait_kind_name(scn_wait_kind_t k) { return name_of(wait_names, N(wait_names), (int)k); }
int scn_proto_parse(const char *s) { return value_of(proto_names, N(proto_names), s); }
int scn_ext_kind_parse(const char *s) { return value_of(ext_names, N(ext_names), s); }
int scn_wait_kind_parse(const char *s) { return value_of(wait_names, N(wait_names), s); }

bool scn_url_is_asterisk(const char *url, size_t *origin_len)
{
    size_t n = strlen(url);
    if (n == 0 || url[n - 1] != '*')
        return false;
    size_t o = n - 1;
    if (o == 0) {
        *origin_len = 0;
        return true;
    }
    size_t scheme = strncmp(url, "http://", 7) == 0 ? 7 : strncmp(url, "https://", 8) == 0 ? 8 : 0;
    if (!scheme || o == scheme || strcspn(url + scheme, "/?#{}*") != o - scheme)
        return false;
    *origin_len = o;
    return true;
}

char *scn_default_name(const char *method, const char *url)
{
    size_t n = strlen(method) + 1 + strlen(url) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s %s", method, url);
    return s;
}

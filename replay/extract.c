/* extract: extractors compiled once, applied to each response; checks. */
#include "extract.h"

#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cookies.h"
#include "jsonpath.h"

/* Capture groups are read into a stack array: no allocation per response. */
#define EXT_MAX_GROUP 31

struct ext {
    scn_ext_kind_t kind;
    size_t var;
    char *name;          /* header or cookie name */
    size_t name_len;
    char *def;           /* default value, NULL when none */
    size_t def_len;
    jpath_t *path;
    regex_t re;
    bool has_re;
    int group;
};

static int compile_regex(ext_t *x, const scn_extractor_t *e, char *err, size_t errlen)
{
    int rc = regcomp(&x->re, e->expr, REG_EXTENDED);
    if (rc != 0) {
        char msg[128];
        regerror(rc, &x->re, msg, sizeof(msg));
        snprintf(err, errlen, "regex extractor for \"%s\": bad regex \"%s\": %s", e->var, e->expr, msg);
        return -1;
    }
    x->has_re = true;
    if (e->group < 0 || e->group > EXT_MAX_GROUP || (size_t)e->group > x->re.re_nsub) {
        snprintf(err, errlen,
                 "regex extractor for \"%s\": group %d asked but \"%s\" has %zu capture group(s)",
                 e->var, e->group, e->expr, x->re.re_nsub);
        return -1;
    }
    x->group = e->group;
    return 0;
}

ext_t *ext_compile(const scn_extractor_t *e, tpl_symtab_t *st, char *err, size_t errlen)
{
    ext_t *x = calloc(1, sizeof(*x));
    if (!x)
        goto oom;
    x->kind = e->kind;
    const char *kind = scn_ext_kind_name(e->kind) ? scn_ext_kind_name(e->kind) : "?"; /* not validated yet */
    if (!e->var || !*e->var) {
        snprintf(err, errlen, "%s extractor: expected a variable name", kind);
        goto fail;
    }
    if (!e->expr || !*e->expr) {
        snprintf(err, errlen, "%s extractor for \"%s\": expected a non-empty expression",
                 kind, e->var);
        goto fail;
    }
    int var = tpl_symtab_intern(st, e->var, strlen(e->var));
    if (var < 0)
        goto oom;
    x->var = (size_t)var;
    if (e->default_value) {
        x->def_len = strlen(e->default_value);
        x->def = strdup(e->default_value);
        if (!x->def)
            goto oom;
    }
    switch (e->kind) {
    case SCN_EXT_HEADER:
    case SCN_EXT_COOKIE:
        x->name_len = strlen(e->expr);
        x->name = strdup(e->expr);
        if (!x->name)
            goto oom;
        break;
    case SCN_EXT_JSON: {
        char msg[200];
        x->path = jpath_compile(e->expr, msg, sizeof(msg));
        if (!x->path) {
            snprintf(err, errlen, "json extractor for \"%s\": %s", e->var, msg);
            goto fail;
        }
        break;
    }
    case SCN_EXT_REGEX:
        if (compile_regex(x, e, err, errlen) < 0)
            goto fail;
        break;
    default:
        snprintf(err, errlen, "extractor for \"%s\": unknown kind %d, expected header, cookie, json or regex",
                 e->var, (int)e->kind);
        goto fail;
    }
    return x;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    ext_free(x);
    return NULL;
}

void ext_free(ext_t *e)
{
    if (!e)
        return;
    if (e->has_re)
        regfree(&e->re);
    jpath_free(e->path);
    free(e->name);
    free(e->def);
    free(e);
}

static bool header_is(const resp_header_t *h, const char *name, size_t len)
{
    return h->name_len == len && strncasecmp(h->name, name, len) == 0;
}

static void trim(const char **s, size_t *len)
{
    while (*len && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

static int find_header(const ext_t *e, const resp_view_t *r, const char **out, size_t *len)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        if (header_is(&r->headers[i], e->name, e->name_len)) {
            *out = r->headers[i].value;
            *len = r->headers[i].value_len;
            trim(out, len);
            return 0;
        }
    }
    return -1;
}

/* The first Set-Cookie of the response that sets the named cookie. */
static int find_cookie(const ext_t *e, const resp_view_t *r, const char **out, size_t *len)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        const resp_header_t *h = &r->headers[i];
        const char *name;
        size_t name_len;
        if (header_is(h, "set-cookie", 10) &&
            cookie_parse_pair(h->value, h->value_len, &name, &name_len, out, len) == 0 &&
            name_len == e->name_len && memcmp(name, e->name, name_len) == 0)
            return 0;
    }
    return -1;
}

static int find_regex(const ext_t *e, const resp_view_t *r, const char **out, size_t *len)
{
    regmatch_t m[EXT_MAX_GROUP + 1];
    const char *body = r->body ? r->body : "";
    /* REG_STARTEND bounds the match by m[0] instead of a NUL: the body is a
     * slice of the connection's buffer. */
    m[0].rm_so = 0;
    m[0].rm_eo = (regoff_t)r->body_len;
    if (regexec(&e->re, body, (size_t)e->group + 1, m, REG_STARTEND) != 0)
        return -1;
    if (m[e->group].rm_so < 0)
        return -1; /* the group sits in an alternative that did not match */
    *out = body + m[e->group].rm_so;
    *len = (size_t)(m[e->group].rm_eo - m[e->group].rm_so);
    return 0;
}

/* The parsed body, parsed on first use; *doc stays NULL when it is not JSON. */
static json_t *body_json(const resp_view_t *r, json_t **doc, bool *tried)
{
    if (!*tried) {
        *tried = true;
        if (r->body_len)
            *doc = json_loadb(r->body, r->body_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    }
    return *doc;
}

static int apply_one(const ext_t *e, const resp_view_t *r, tpl_vars_t *vars, json_t **doc, bool *tried)
{
    const char *val = NULL;
    size_t len = 0;
    int found = -1;
    char scratch[JPATH_SCRATCH];
    char *owned = NULL;

    switch (e->kind) {
    case SCN_EXT_HEADER:
        found = find_header(e, r, &val, &len);
        break;
    case SCN_EXT_COOKIE:
        found = find_cookie(e, r, &val, &len);
        break;
    case SCN_EXT_REGEX:
        found = find_regex(e, r, &val, &len);
        break;
    case SCN_EXT_JSON: {
        json_t *root = body_json(r, doc, tried);
        json_t *v = root ? jpath_lookup(e->path, root) : NULL;
        if (v && (val = jpath_text(v, scratch, &len, &owned)) != NULL)
            found = 0;
        break;
    }
    }
    int rc;
    if (found == 0)
        rc = tpl_vars_set(vars, e->var, val, len);
    else if (e->def)
        rc = tpl_vars_set(vars, e->var, e->def, e->def_len);
    else
        rc = -1;
    free(owned);
    return rc;
}

int ext_apply(const ext_t *e, const resp_view_t *resp, tpl_vars_t *vars)
{
    json_t *doc = NULL;
    bool tried = false;
    int rc = apply_one(e, resp, vars, &doc, &tried);
    json_decref(doc);
    return rc;
}

size_t ext_apply_all(ext_t *const *e, size_t n, const resp_view_t *resp, tpl_vars_t *vars)
{
    json_t *doc = NULL;
    bool tried = false;
    size_t missing = 0;
    for (size_t i = 0; i < n; i++)
        if (apply_one(e[i], resp, vars, &doc, &tried) < 0)
            missing++;
    json_decref(doc);
    return missing;
}

stats_fail_t check_eval(const scn_check_t *c, const resp_view_t *resp)
{
    if (c->n_statuses == 0) {
        if (resp->status >= 400)
            return STATS_FAIL_HTTP;
    } else {
        size_t i = 0;
        while (i < c->n_statuses && c->statuses[i] != resp->status)
            i++;
        if (i == c->n_statuses)
            return STATS_FAIL_HTTP;
    }
    for (size_t i = 0; i < c->n_body_contains; i++) {
        const char *needle = c->body_contains[i];
        size_t nlen = strlen(needle);
        if (nlen && (!resp->body || !memmem(resp->body, resp->body_len, needle, nlen)))
            return STATS_FAIL_CHECK;
    }
    return STATS_OK;
}

int ext_needs_body(const scn_request_t *r)
{
    if (r->check.n_body_contains > 0)
        return 1;
    for (size_t i = 0; i < r->n_extractors; i++)
        if (r->extractors[i].kind == SCN_EXT_JSON || r->extractors[i].kind == SCN_EXT_REGEX)
            return 1;
    return 0;
}

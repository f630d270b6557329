#include "correlate.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "draft.h"

#define CORR_MAX_VALUE 4096
#define CORR_MAX_CANDS 20000

bool corr_worth(const char *v)
{
    size_t len = strlen(v), digits = 0;
    if (len > CORR_MAX_VALUE)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (isspace((unsigned char)v[i]) || iscntrl((unsigned char)v[i]))
            return false;
        digits += isdigit((unsigned char)v[i]) != 0;
    }
    if (strcasecmp(v, "true") == 0 || strcasecmp(v, "false") == 0 || strcasecmp(v, "null") == 0)
        return false;
    return len >= 6 || (len >= 4 && digits > 0);
}

void corr_cands_fini(corr_cands_t *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].value);
        free(c->v[i].expr);
        free(c->v[i].base);
    }
    free(c->v);
    memset(c, 0, sizeof *c);
}

static int add(corr_cands_t *c, const char *value, size_t vlen, scn_ext_kind_t kind, const char *expr,
               int group, const char *base)
{
    char *v = strndup(value, vlen);
    if (!v)
        return -1;
    if (!corr_worth(v) || c->n >= CORR_MAX_CANDS) {
        free(v);
        return 0;
    }
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].value, v) == 0) {  /* the first place that returns it is enough */
            free(v);
            return 0;
        }
    corr_cand_t *nv = realloc(c->v, (c->n + 1) * sizeof *nv);
    if (!nv) {
        free(v);
        return -1;
    }
    c->v = nv;
    corr_cand_t *k = &nv[c->n++];
    k->value = v;
    k->kind = kind;
    k->group = group;
    k->expr = strdup(expr);
    k->base = strdup(base);
    k->whole_url = kind == SCN_EXT_HEADER && strcasecmp(expr, "location") == 0;
    return k->expr && k->base ? 0 : -1;
}

static int from_set_cookie(const char *sc, corr_cands_t *c)
{
    size_t nlen = strcspn(sc, "=;");
    if (sc[nlen] != '=' || nlen == 0)
        return 0;
    char *name = strndup(sc, nlen);
    if (!name)
        return -1;
    const char *val = sc + nlen + 1;
    int rc = add(c, val, strcspn(val, ";"), SCN_EXT_COOKIE, name, 0, name);
    free(name);
    return rc;
}

/* Headers that describe the message rather than carry a value for later. */
static bool boring_header(const char *name)
{
    static const char *const names[] = {
        "date", "server", "content-type", "content-length", "content-encoding", "content-language",
        "cache-control", "expires", "last-modified", "vary", "connection", "keep-alive",
        "transfer-encoding", "age", "via", "accept-ranges", "pragma", "alt-svc", "strict-transport-security",
        "content-security-policy", "x-content-type-options", "x-frame-options", "x-xss-protection",
        "referrer-policy", "access-control-allow-origin", "access-control-allow-headers",
        "access-control-allow-methods", "access-control-expose-headers", "access-control-max-age",
        "access-control-allow-credentials", "report-to", "nel", "timing-allow-origin", "p3p",
        "permissions-policy", "set-cookie", "link", "content-disposition", "x-powered-by"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcasecmp(name, names[i]) == 0)
            return true;
    return false;
}

static void jpath_push(char *path, size_t cap, const char *key)
{
    size_t len = strlen(path);
    bool plain = isalpha((unsigned char)key[0]) || key[0] == '_';
    for (const char *k = key; *k && plain; k++)
        plain = isalnum((unsigned char)*k) || *k == '_';
    if (plain)
        snprintf(path + len, cap - len, ".%s", key);
    else if (!strchr(key, '\''))
        snprintf(path + len, cap - len, "['%s']", key);
    else
        snprintf(path + len, cap - len, "[\"%s\"]", key);
}

static int walk_json(const json_t *j, char *path, size_t cap, const char *base, int depth, corr_cands_t *c)
{
    size_t len = strlen(path);
    if (depth > 16 || len > cap - 64)
        return 0;
    if (json_is_object(j)) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)j, key, v) {
            jpath_push(path, cap, key);
            int rc = walk_json(v, path, cap, key, depth + 1, c);
            path[len] = '\0';
            if (rc)
                return rc;
        }
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) {
            snprintf(path + len, cap - len, "[%zu]", i);
            int rc = walk_json(v, path, cap, base, depth + 1, c);
            path[len] = '\0';
            if (rc)
                return rc;
        }
    } else if (json_is_string(j)) {
        return add(c, json_string_value(j), json_string_length(j), SCN_EXT_JSON, path, 0, base);
    } else if (json_is_integer(j)) {
        char num[32];
        int n = snprintf(num, sizeof num, "%lld", (long long)json_integer_value(j));
        return add(c, num, (size_t)n, SCN_EXT_JSON, path, 0, base);
    }
    return 0;
}

/* Escapes s for a POSIX extended regex. */
static void ere_escape(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 3 < cap; i++) {
        if (strchr(".[]{}()\\*+?^$|", s[i]))
            out[o++] = '\\';
        out[o++] = s[i];
    }
    out[o] = '\0';
}

/* Attribute attr of the tag [tag, end): value start and length. */
static const char *attr_of(const char *tag, const char *end, const char *attr, size_t *len, const char **at)
{
    size_t alen = strlen(attr);
    for (const char *p = tag; p + alen < end; p++) {
        if (strncasecmp(p, attr, alen) != 0 || !isspace((unsigned char)p[-1]))
            continue;
        const char *q = p + alen;
        while (q < end && isspace((unsigned char)*q))
            q++;
        if (q >= end || *q != '=')
            continue;
        q++;
        while (q < end && isspace((unsigned char)*q))
            q++;
        char quote = (*q == '"' || *q == '\'') ? *q++ : 0;
        const char *v = q;
        while (q < end && (quote ? *q != quote : !isspace((unsigned char)*q) && *q != '>'))
            q++;
        *len = (size_t)(q - v);
        *at = p;
        return v;
    }
    return NULL;
}

/* <input type="hidden" name="N" value="V"> -> a regex that finds V by N,
 * whichever order the attributes come in. */
static int from_hidden_inputs(const char *body, size_t blen, corr_cands_t *c)
{
    const char *p = body, *end = body + blen;
    while (p < end && (p = memchr(p, '<', (size_t)(end - p))) != NULL) {
        if (end - p < 7 || strncasecmp(p + 1, "input", 5) != 0 || !isspace((unsigned char)p[6])) {
            p++;
            continue;
        }
        const char *tag = p + 6, *close = memchr(tag, '>', (size_t)(end - tag));
        if (!close)
            break;
        p = close;
        size_t tl, nl, vl;
        const char *at_n, *at_v, *at_t;
        const char *type = attr_of(tag, close, "type", &tl, &at_t);
        const char *name = attr_of(tag, close, "name", &nl, &at_n);
        const char *value = attr_of(tag, close, "value", &vl, &at_v);
        if (!type || tl != 6 || strncasecmp(type, "hidden", 6) != 0 || !name || !value || nl > 200)
            continue;
        char ename[512], re[700], base[256];
        ere_escape(name, nl, ename, sizeof ename);
        if (at_n < at_v)
            snprintf(re, sizeof re, "name=[\"']?%s[\"' ][^>]*value=[\"']?([^\"' >]*)", ename);
        else
            snprintf(re, sizeof re, "value=[\"']?([^\"' >]*)[\"']?[^>]*name=[\"']?%s[\"' >]", ename);
        snprintf(base, sizeof base, "%.*s", (int)nl, name);
        if (add(c, value, vl, SCN_EXT_REGEX, re, 1, base) < 0)
            return -1;
    }
    return 0;
}

static int by_length_desc(const void *a, const void *b)
{
    size_t x = strlen(((const corr_cand_t *)a)->value), y = strlen(((const corr_cand_t *)b)->value);
    return x < y ? 1 : x > y ? -1 : 0;
}

int corr_candidates(const rec_exchange_t *x, corr_cands_t *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < x->resp_headers.n; i++) {
        const rec_hfield_t *h = &x->resp_headers.v[i];
        int rc = 0;
        if (strcasecmp(h->name, "set-cookie") == 0)
            rc = from_set_cookie(h->value, out);
        else if (!boring_header(h->name))
            rc = add(out, h->value, strlen(h->value), SCN_EXT_HEADER, h->name, 0, h->name);
        if (rc < 0)
            goto fail;
    }
    if (x->resp_body_len && !x->resp_truncated) {
        json_t *j = json_loadb((const char *)x->resp_body, x->resp_body_len, JSON_DECODE_ANY, NULL);
        if (j) {
            char path[1024] = "$";
            int rc = walk_json(j, path, sizeof path, "value", 0, out);
            json_decref(j);
            if (rc < 0)
                goto fail;
        } else if (from_hidden_inputs((const char *)x->resp_body, x->resp_body_len, out) < 0) {
            goto fail;
        }
    }
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, by_length_desc);
    return 0;
fail:
    corr_cands_fini(out);
    return -1;
}

/* Variable names: letters, digits and '_', starting with a letter, unique in
 * the session and never a generator's name. */
typedef struct names {
    char **v;
    size_t n;
} names_t;

static bool name_used(const names_t *ns, const char *s)
{
    static const char *const reserved[] = {"uuid", "now_ms", "random_int", "user_id"};
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (strcmp(s, reserved[i]) == 0)
            return true;
    for (size_t i = 0; i < ns->n; i++)
        if (strcmp(ns->v[i], s) == 0)
            return true;
    return false;
}

static char *name_make(names_t *ns, const char *base)
{
    char clean[64], name[80];
    size_t o = 0;
    if (!isalpha((unsigned char)base[0]))
        clean[o++] = 'v';
    for (const char *p = base; *p && o + 1 < sizeof clean; p++)
        clean[o++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_';
    clean[o] = '\0';
    snprintf(name, sizeof name, "%s", clean);
    for (int k = 2; name_used(ns, name) && k < 100000; k++)
        snprintf(name, sizeof name, "%s_%d", clean, k);
    char **v = realloc(ns->v, (ns->n + 1) * sizeof *v);
    if (!v)
        return NULL;
    ns->v = v;
    return (ns->v[ns->n] = strdup(name)) ? ns->v[ns->n++] : NULL;
}

static const char *kind_name(scn_ext_kind_t k)
{
    switch (k) {
    case SCN_EXT_HEADER: return "header";
    case SCN_EXT_COOKIE: return "cookie";
    case SCN_EXT_JSON: return "json";
    case SCN_EXT_REGEX: return "regex";
    }
    return "?";
}

/* True when request j goes to exactly the URL v (a redirect followed). */
static bool goes_to(const rec_exchange_t *x, const scn_request_t *r, const char *v)
{
    char origin[512];
    size_t ol = strlen(draft_origin(x, origin, sizeof origin));
    if (strcmp(r->url, v) == 0)
        return true;
    return r->url[0] == '/' && strncmp(v, origin, ol) == 0 && strcmp(v + ol, r->url) == 0;
}

/* How often request j sends k's value back. */
static size_t uses_of(const corr_cand_t *k, const rec_exchange_t *x, const scn_request_t *r)
{
    if (k->whole_url)
        return goes_to(x, r, k->value);
    return draft_count(r, k->value);
}

static long use(const corr_cand_t *k, const rec_exchange_t *x, scn_request_t *r, const char *tpl)
{
    if (!k->whole_url)
        return draft_replace(r, k->value, tpl);
    if (!goes_to(x, r, k->value))
        return 0;
    char *u = strdup(tpl);
    if (!u)
        return -1;
    free(r->url);
    r->url = u;
    return 1;
}

/* One candidate of response i: used later, unknown before? Then extract it. */
static int correlate_one(const corr_cand_t *k, size_t i, const rec_exchange_t *const *xs, scn_request_t *reqs,
                         const size_t *step_of, size_t n, names_t *ns, const char *who, FILE *report,
                         size_t *made)
{
    size_t uses = 0;
    for (size_t j = 0; j < n; j++) {
        size_t c = uses_of(k, xs[j], &reqs[j]);
        if (c && step_of[j] <= step_of[i])
            return 0;  /* sent before the answer came: the client knew it */
        if (step_of[j] > step_of[i])
            uses += c;
    }
    if (!uses)
        return 0;
    char *var = name_make(ns, k->base), tpl[96];
    if (!var || draft_add_extractor(&reqs[i], var, k->kind, k->expr, k->group) < 0)
        return -1;
    snprintf(tpl, sizeof tpl, "{{%s}}", var);
    char firsts[256] = "";
    size_t fl = 0;
    for (size_t j = 0; j < n; j++) {
        if (step_of[j] <= step_of[i])
            continue;
        long r = use(k, xs[j], &reqs[j], tpl);
        if (r < 0)
            return -1;
        if (r > 0 && fl < sizeof firsts - 1)
            fl += (size_t)snprintf(firsts + fl, sizeof firsts - fl, "%s%s", fl ? ", " : "", reqs[j].name);
    }
    (*made)++;
    if (report)
        fprintf(report, "aiotest-convert: %s: {{%s}} <- %s %s of '%s'; sent back %zu time(s): %s\n",
                who, var, kind_name(k->kind), k->expr, reqs[i].name, uses, firsts);
    return 0;
}

int corr_run(const rec_exchange_t *const *xs, scn_request_t *reqs, const size_t *step_of, size_t n,
             const char *who, FILE *report, size_t *made)
{
    names_t ns = {0};
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        corr_cands_t c;
        if (corr_candidates(xs[i], &c) < 0) {
            rc = -1;
            break;
        }
        for (size_t k = 0; k < c.n && rc == 0; k++)
            rc = correlate_one(&c.v[k], i, xs, reqs, step_of, n, &ns, who, report, made);
        corr_cands_fini(&c);
    }
    for (size_t i = 0; i < ns.n; i++)
        free(ns.v[i]);
    free(ns.v);
    return rc;
}

#include "offer.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "strtab.h"

#define OFFER_MAX_VALUE 4096
#define OFFER_MAX 20000

bool offer_worth(const char *v)
{
    size_t len = strlen(v), digits = 0, alnum = 0;
    if (len > OFFER_MAX_VALUE || strstr(v, "{{") || strstr(v, "}}"))
        return false;
    for (size_t i = 0; i < len; i++) {
        if (isspace((unsigned char)v[i]) || iscntrl((unsigned char)v[i]))
            return false;
        digits += isdigit((unsigned char)v[i]) != 0;
        alnum += isalnum((unsigned char)v[i]) != 0;
    }
    if (!alnum)
        return false;
    if (strcasecmp(v, "true") == 0 || strcasecmp(v, "false") == 0 || strcasecmp(v, "null") == 0)
        return false;
    return len >= 6 || (len >= 4 && digits > 0);
}

void offer_list_fini(offer_list_t *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].value);
        free(c->v[i].expr);
        free(c->v[i].base);
    }
    free(c->v);
    memset(c, 0, sizeof *c);
}

/* The values of one response, each once (a table, not a scan: a JSON body
 * offers up to OFFER_MAX values). */
typedef struct collect {
    offer_list_t *c;
    stab_t seen;
} collect_t;

static int add(collect_t *cc, const char *value, size_t vlen, scn_ext_kind_t kind, const char *expr,
               int group, const char *base)
{
    offer_list_t *c = cc->c;
    if (vlen < 4)
        return 0; /* never worth it (offer_worth): no copy, no scan */
    char *v = strndup(value, vlen);
    if (!v)
        return -1;
    if (!offer_worth(v) || c->n >= OFFER_MAX) {
        free(v);
        return 0;
    }
    long at = stab_put(&cc->seen, v, strlen(v), c->n);
    if (at != (long)c->n) {  /* the first place that returns it is enough */
        free(v);
        return at < 0 ? -1 : 0;
    }
    offer_t *nv = realloc(c->v, (c->n + 1) * sizeof *nv);
    if (!nv) {
        free(v);
        return -1;
    }
    c->v = nv;
    offer_t *k = &nv[c->n++];
    k->value = v;
    k->kind = kind;
    k->group = group;
    k->expr = strdup(expr);
    k->base = strdup(base);
    k->whole_url = kind == SCN_EXT_HEADER && strcasecmp(expr, "location") == 0;
    return k->expr && k->base ? 0 : -1;
}

static int from_set_cookie(const char *sc, collect_t *c)
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
    size_t kl = strlen(key);
    if (plain && len + 1 + kl < cap) { /* the usual case, per key of every JSON body: no printf */
        path[len] = '.';
        memcpy(path + len + 1, key, kl + 1);
    } else if (plain)
        snprintf(path + len, cap - len, ".%s", key);
    else if (!strchr(key, '\''))
        snprintf(path + len, cap - len, "['%s']", key);
    else
        snprintf(path + len, cap - len, "[\"%s\"]", key);
}

static int walk_json(const json_t *j, char *path, size_t cap, const char *base, int depth, collect_t *c)
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
static int from_hidden_inputs(const char *body, size_t blen, collect_t *c)
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

/* Whether a body can offer anything: a '<' (a hidden input, when it is no
 * JSON), a string literal of 4 raw bytes or more, or a run of 4 number
 * characters (a JSON value shorter than 4 bytes is never worth it, and
 * decoding only shortens a string). Most small API answers ({"ok": true},
 * {"id": 7}) can not, and parsing them was a third of correlating. */
static bool body_may_offer(const char *b, size_t n)
{
    if (memchr(b, '<', n))
        return true;
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = b[i];
        if (ch == '"') {
            size_t start = ++i;
            while (i < n && b[i] != '"')
                i += b[i] == '\\' ? 2 : 1;
            if (i - start >= 4)
                return true;
            run = 0;
        } else if ((ch >= '0' && ch <= '9') || ch == '-' || ch == '+' || ch == '.' || ch == 'e' || ch == 'E') {
            if (++run >= 4)
                return true;
        } else {
            run = 0;
        }
    }
    return false;
}

static int by_length_desc(const void *a, const void *b)
{
    size_t x = strlen(((const offer_t *)a)->value), y = strlen(((const offer_t *)b)->value);
    return x < y ? 1 : x > y ? -1 : 0;
}

int offer_collect(const rec_exchange_t *x, offer_list_t *out)
{
    collect_t cc = {.c = out};
    memset(out, 0, sizeof *out);
    stab_init(&cc.seen);
    for (size_t i = 0; i < x->resp_headers.n; i++) {
        const rec_hfield_t *h = &x->resp_headers.v[i];
        int rc = 0;
        if (strcasecmp(h->name, "set-cookie") == 0)
            rc = from_set_cookie(h->value, &cc);
        else if (!boring_header(h->name))
            rc = add(&cc, h->value, strlen(h->value), SCN_EXT_HEADER, h->name, 0, h->name);
        if (rc < 0)
            goto fail;
    }
    if (x->resp_body_len && !x->resp_truncated && body_may_offer((const char *)x->resp_body, x->resp_body_len)) {
        json_t *j = json_loadb((const char *)x->resp_body, x->resp_body_len, JSON_DECODE_ANY, NULL);
        if (j) {
            char path[1024] = "$";
            int rc = walk_json(j, path, sizeof path, "value", 0, &cc);
            json_decref(j);
            if (rc < 0)
                goto fail;
        } else if (from_hidden_inputs((const char *)x->resp_body, x->resp_body_len, &cc) < 0) {
            goto fail;
        }
    }
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, by_length_desc);
    stab_fini(&cc.seen);
    return 0;
fail:
    stab_fini(&cc.seen);
    offer_list_fini(out);
    return -1;
}

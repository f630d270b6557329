#include "draft.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pick.h"
#include "normalise.h"

/* Called for every exchange several times: copies instead of a printf. */
char *draft_origin(const rec_exchange_t *x, char *buf, size_t len)
{
    const char *parts[3] = { x->scheme ? x->scheme : "http", "://", x->authority ? x->authority : "" };
    size_t at = 0;
    for (int i = 0; i < 3 && len; i++) {
        size_t n = strlen(parts[i]);
        if (n > len - 1 - at)
            n = len - 1 - at;  /* cut as snprintf would */
        memcpy(buf + at, parts[i], n);
        at += n;
    }
    if (len)
        buf[at] = '\0';
    return buf;
}

int draft_from_exchange(const rec_exchange_t *x, const char *default_origin, scn_request_t *r)
{
    char origin[512], host[256];
    bool local = strcmp(draft_origin(x, origin, sizeof origin), default_origin) == 0;
    r->name = norm_name(x->method, local ? NULL : pick_host(x->authority, host, sizeof host), x->target);
    r->method = strdup(x->method);
    if (local)
        r->url = strdup(x->target);
    else if (asprintf(&r->url, "%s%s", origin, x->target) < 0)
        r->url = NULL;
    if (!r->name || !r->method || !r->url)
        return -1;
    if (x->req_headers.n && !(r->headers = calloc(x->req_headers.n, sizeof *r->headers)))
        return -1;
    const char *ct = rec_headers_get(&x->req_headers, "content-type");
    bool grpc = ct && scn_grpc_content_type(ct, strlen(ct));
    for (size_t i = 0; i < x->req_headers.n; i++) {
        const rec_hfield_t *h = &x->req_headers.v[i];
        /* te: trailers is a gRPC call's own (servers refuse a call without it);
         * elsewhere (Firefox sends it on every request) it is the connection's. */
        if (pick_header_dropped(h->name) &&
            !(grpc && strcasecmp(h->name, "te") == 0 && strcasecmp(h->value, "trailers") == 0))
            continue;
        scn_kv_t *kv = &r->headers[r->n_headers];
        kv->name = strdup(h->name);
        kv->value = strdup(h->value);
        r->n_headers++;
        if (!kv->name || !kv->value)
            return -1;
    }
    if (scn_request_is_grpc(r)) {
        /* A gRPC call is named by its service and method, as gRPC tools do. */
        size_t tl = strcspn(x->target, "?");
        char *name = strndup(x->target, tl);
        if (!name)
            return -1;
        free(r->name);
        r->name = name;
    }
    if (x->req_body_len) {
        if (!(r->body = malloc(x->req_body_len)))
            return -1;
        memcpy(r->body, x->req_body, x->req_body_len);
        r->body_len = x->req_body_len;
    }
    if (x->status >= 400) {
        if (!(r->check.statuses = malloc(sizeof *r->check.statuses)))
            return -1;
        r->check.statuses[0] = x->status;
        r->check.n_statuses = 1;
    }
    return 0;
}

static bool alnum_at(const char *s, size_t i)
{
    return isalnum((unsigned char)s[i]);
}

/* True when pos lies inside a "{{ ... }}" of hay. */
static bool in_template(const char *hay, size_t pos)
{
    for (size_t i = pos; i >= 2; i--) {
        if (hay[i - 1] == '}' && hay[i - 2] == '}')
            return false;
        if (hay[i - 1] == '{' && hay[i - 2] == '{')
            return true;
    }
    return false;
}

long draft_find(const char *hay, size_t len, size_t from, const char *value, size_t vlen)
{
    if (vlen == 0)
        return -1;
    while (from + vlen <= len) {
        const char *hit = memmem(hay + from, len - from, value, vlen);
        if (!hit)
            return -1;
        size_t pos = (size_t)(hit - hay);
        bool left_ok = pos == 0 || !alnum_at(value, 0) || !alnum_at(hay, pos - 1);
        bool right_ok = pos + vlen == len || !alnum_at(value, vlen - 1) || !alnum_at(hay, pos + vlen);
        if (left_ok && right_ok && !in_template(hay, pos))
            return (long)pos;
        from = pos + 1;
    }
    return -1;
}

static size_t count_in(const char *hay, size_t len, const char *value)
{
    size_t n = 0, vlen = strlen(value);
    long pos = 0;
    while (hay && (pos = draft_find(hay, len, (size_t)pos, value, vlen)) >= 0) {
        n++;
        pos += (long)vlen;
    }
    return n;
}

/* Referer and Origin repeat where the browser was, not data it sends: a
 * recorded page URL in them is left as recorded. */
static bool context_header(const char *name)
{
    return strcasecmp(name, "referer") == 0 || strcasecmp(name, "origin") == 0;
}

void draft_each_text(const scn_request_t *r, void (*fn)(const char *text, size_t len, void *ctx), void *ctx)
{
    fn(r->url, strlen(r->url), ctx);
    for (size_t i = 0; i < r->n_headers; i++)
        if (!context_header(r->headers[i].name))
            fn(r->headers[i].value, strlen(r->headers[i].value), ctx);
    /* A gRPC body is length-prefixed messages: a value replaced inside would
     * break the framing, so it is never searched. */
    if (r->body && !scn_request_is_grpc(r))
        fn((const char *)r->body, r->body_len, ctx);
}

typedef struct counting {
    const char *value;
    size_t n;
} counting_t;

static void count_text(const char *text, size_t len, void *ctx)
{
    counting_t *c = ctx;
    c->n += count_in(text, len, c->value);
}

size_t draft_count(const scn_request_t *r, const char *value)
{
    counting_t c = {.value = value};
    draft_each_text(r, count_text, &c);
    return c.n;
}

/* Replaces in a heap buffer (*buf, *len bytes; NUL-terminated when text). */
static long replace_in(char **buf, size_t *len, const char *value, const char *repl)
{
    size_t vlen = strlen(value), rlen = strlen(repl), n = count_in(*buf, *len, value);
    if (n == 0)
        return 0;
    size_t nlen = *len + n * rlen - n * vlen;
    char *out = malloc(nlen + 1), *o = out;
    if (!out)
        return -1;
    size_t from = 0;
    long pos;
    while ((pos = draft_find(*buf, *len, from, value, vlen)) >= 0) {
        memcpy(o, *buf + from, (size_t)pos - from);
        o += (size_t)pos - from;
        memcpy(o, repl, rlen);
        o += rlen;
        from = (size_t)pos + vlen;
    }
    memcpy(o, *buf + from, *len - from);
    out[nlen] = '\0';
    free(*buf);
    *buf = out;
    *len = nlen;
    return (long)n;
}

static long replace_str(char **s, const char *value, const char *repl)
{
    size_t len = strlen(*s);
    return replace_in(s, &len, value, repl);
}

long draft_replace(scn_request_t *r, const char *value, const char *repl)
{
    long total = 0, n;
    if ((n = replace_str(&r->url, value, repl)) < 0)
        return -1;
    total += n;
    for (size_t i = 0; i < r->n_headers; i++) {
        if (context_header(r->headers[i].name))
            continue;
        if ((n = replace_str(&r->headers[i].value, value, repl)) < 0)
            return -1;
        total += n;
    }
    if (r->body && !scn_request_is_grpc(r)) {
        char *b = (char *)r->body;
        if ((n = replace_in(&b, &r->body_len, value, repl)) < 0)
            return -1;
        r->body = (uint8_t *)b;
        total += n;
    }
    return total;
}

int draft_add_extractor(scn_request_t *r, const char *var, scn_ext_kind_t kind, const char *expr, int group)
{
    scn_extractor_t *v = realloc(r->extractors, (r->n_extractors + 1) * sizeof *v);
    if (!v)
        return -1;
    r->extractors = v;
    scn_extractor_t *e = &v[r->n_extractors];
    memset(e, 0, sizeof *e);
    e->var = strdup(var);
    e->expr = strdup(expr);
    e->kind = kind;
    e->group = group;
    r->n_extractors++;
    return e->var && e->expr ? 0 : -1;
}

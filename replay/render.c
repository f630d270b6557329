/* render: one request's bytes from its plan and a user's variables (render.h). */
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scn_syntax.h"

void render_fini(render_t *rd)
{
    free(rd->buf.p);
    free(rd->cookie.p);
    free(rd->hdrs);
    free(rd->slots);
    memset(rd, 0, sizeof *rd);
}

const char *render_why(const render_t *rd)
{
    return rd->why;
}

/* Name of the first byte of s that a header value (value: CR, LF, NUL) or a
 * request target (also other controls, space, DEL) may not hold. */
static const char *bad_byte_name(const char *s, size_t len, bool value)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r')
            return "CR";
        if (c == '\n')
            return "LF";
        if (c == '\0')
            return "NUL";
        if (!value && (c < ' ' || c == 0x7f))
            return "a control byte";
        if (!value && c == ' ')
            return "a space";
    }
    return "a bad byte";
}

bool render_draws(const plan_req_t *r)
{
    return r->draws;
}

int render_url(render_t *rd, const plan_req_t *req, const tpl_ctx_t *ctx, tpl_buf_t *out,
               const char **url, size_t *len)
{
    /* A literal URL was checked at load (scn_validate): no copy, no scan. */
    if (req->lit_url) {
        *url = req->lit_url;
        *len = req->lit_url_len;
        return 0;
    }
    out->len = 0;
    if (tpl_expand_into(req->url, ctx, out) != 0)
        return -STATS_FAIL_PROTOCOL;
    if (!syn_target(out->p, out->len)) {
        snprintf(rd->why, sizeof rd->why, "the URL holds %s after expansion",
                 bad_byte_name(out->p, out->len, false));
        return -STATS_FAIL_EXTRACT;
    }
    *url = out->p;
    *len = out->len;
    return 0;
}

/* Where a header's name or value, or the body, is: a literal slice of the
 * plan, or an offset into rd->buf (which may move while it grows). */
typedef struct render_slot {
    const char *lit;    /* NULL: at off in rd->buf */
    size_t off, len;
} render_slot_t;

static int expand_slot(render_t *rd, const tpl_t *t, const tpl_ctx_t *ctx, render_slot_t *s)
{
    s->lit = tpl_literal(t, &s->len);
    if (s->lit)
        return 0;
    s->off = rd->buf.len;
    if (tpl_expand_into(t, ctx, &rd->buf) != 0)
        return -1;
    s->len = rd->buf.len - s->off;
    return 0;
}

static const char *slot_ptr(const render_t *rd, const render_slot_t *s)
{
    return s->lit ? s->lit : rd->buf.p + s->off;
}

static int reserve(render_t *rd, size_t n_hdrs)
{
    if (rd->slots && n_hdrs <= rd->hdrs_cap)
        return 0;
    if (n_hdrs == 0)
        n_hdrs = 1;
    hc_header_t *v = realloc(rd->hdrs, n_hdrs * sizeof *v);
    if (!v)
        return -1;
    rd->hdrs = v;
    render_slot_t *s = realloc(rd->slots, (2 * n_hdrs + 1) * sizeof *s);
    if (!s)
        return -1;
    rd->slots = s;
    rd->hdrs_cap = n_hdrs;
    return 0;
}

/* Points rd->hdrs at the expanded headers and checks what templates made
 * (literal text was checked when the scenario was loaded: scn_validate). */
static int resolve_headers(render_t *rd, const plan_req_t *r)
{
    for (size_t i = 0; i < r->n_hdrs; i++) {
        hc_header_t *h = &rd->hdrs[i];
        h->name = slot_ptr(rd, &rd->slots[2 * i]);
        h->name_len = rd->slots[2 * i].len;
        h->value = slot_ptr(rd, &rd->slots[2 * i + 1]);
        h->value_len = rd->slots[2 * i + 1].len;
        if (!rd->slots[2 * i].lit && !syn_token(h->name, h->name_len)) {
            snprintf(rd->why, sizeof rd->why, "header name '%.*s' is not a token after expansion",
                     (int)(h->name_len > 40 ? 40 : h->name_len), h->name);
            return -STATS_FAIL_EXTRACT;
        }
        if (!rd->slots[2 * i + 1].lit && !syn_field_value(h->value, h->value_len)) {
            snprintf(rd->why, sizeof rd->why,
                     "header '%.*s': the value holds %s after expansion (CR, LF and NUL would "
                     "start another header)",
                     (int)(h->name_len > 40 ? 40 : h->name_len), h->name,
                     bad_byte_name(h->value, h->value_len, true));
            return -STATS_FAIL_EXTRACT;
        }
    }
    return 0;
}

/* The Cookie header for the request's origin and path (the jar ignores the
 * query) into rd->cookie. */
static int render_cookie(render_t *rd, const render_in_t *in, hc_req_t *rv)
{
    const plan_origin_t *o = in->origin;
    size_t n = cookie_jar_header(in->jar, o->url.host, in->path, o->url.tls, in->now_s,
                                 rd->cookie.p, rd->cookie.cap);
    if (n + 1 > rd->cookie.cap) {
        /* Grown and asked again: the jar's answer is the same (no draw in it). */
        char *p = realloc(rd->cookie.p, n + 256);
        if (!p)
            return -STATS_FAIL_PROTOCOL;
        rd->cookie.p = p;
        rd->cookie.cap = n + 256;
        n = cookie_jar_header(in->jar, o->url.host, in->path, o->url.tls, in->now_s, rd->cookie.p,
                              rd->cookie.cap);
    }
    if (n) {
        rv->cookie = rd->cookie.p;
        rv->cookie_len = n;
    }
    return 0;
}

int render_request(render_t *rd, const render_in_t *in, const tpl_ctx_t *ctx, hc_req_t *rv)
{
    const plan_req_t *r = in->req;
    bool same_method = in->method == r->method;
    memset(rv, 0, sizeof *rv);
    rd->why[0] = '\0';
    rd->buf.len = 0;
    rv->method = in->method;
    rv->method_len = same_method ? r->method_len : strlen(in->method);
    rv->head = same_method ? r->head : strcasecmp(in->method, "HEAD") == 0;
    rv->authority = in->origin->host_hdr;
    rv->authority_len = in->origin->host_hdr_len;
    rv->path = in->path;
    rv->path_len = in->path_len;
    if (in->redirected && !syn_target(in->path, in->path_len)) {
        /* A server's Location is not ours to send as is either. */
        snprintf(rd->why, sizeof rd->why, "redirect target holds %s",
                 bad_byte_name(in->path, in->path_len, false));
        return -STATS_FAIL_PROTOCOL;
    }
    if (same_method && !in->redirected && r->h1_bytes) {
        rv->h1_bytes = r->h1_bytes;
        rv->h1_len = r->h1_len;
        rv->h1_head_len = r->h1_head_len;
    }

    /* Everything is expanded first (offsets), then pointers are taken. */
    if (reserve(rd, r->n_hdrs) != 0)
        return -STATS_FAIL_PROTOCOL;
    for (size_t i = 0; i < r->n_hdrs; i++)
        if (expand_slot(rd, r->hdrs[i].name, ctx, &rd->slots[2 * i]) != 0 ||
            expand_slot(rd, r->hdrs[i].value, ctx, &rd->slots[2 * i + 1]) != 0)
            return -STATS_FAIL_PROTOCOL;
    render_slot_t *body = rd->slots ? &rd->slots[2 * r->n_hdrs] : NULL;
    bool with_body = same_method && r->body;
    if (with_body && (!body || expand_slot(rd, r->body, ctx, body) != 0))
        return -STATS_FAIL_PROTOCOL;

    int rc = resolve_headers(rd, r);
    if (rc != 0)
        return rc;
    rv->hdrs = rd->hdrs;
    rv->n_hdrs = r->n_hdrs;
    if (same_method) {
        rv->has_body = r->has_body;
        if (with_body) {
            rv->body = slot_ptr(rd, body);
            rv->body_len = body->len;
        }
    }
    if (in->jar && cookie_jar_count(in->jar))
        return render_cookie(rd, in, rv);
    return 0;
}

/* hc_racc: response headers, trailers and body as slices (see hc_racc.h). */
#include "hc_racc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bodydec.h"
#include "hc_pool.h"

/* Makes room for n more bytes in *p (len used, cap allocated). The buffers
 * come from hc_pool: an h2 stream's are made and freed with every request. */
static int grow(char **p, size_t len, size_t *cap, size_t n)
{
    if (len + n <= *cap)
        return 0;
    size_t c = *cap ? *cap : 512;
    while (c < len + n)
        c *= 2;
    char *np = hc_pool_realloc(*p, c);
    if (!np)
        return -1;
    *p = np;
    *cap = c;
    return 0;
}

static int hb_add(hc_racc_t *a, const char *d, size_t n)
{
    if (grow(&a->hb, a->hb_len, &a->hb_cap, n) != 0)
        return -1;
    if (n)
        memcpy(a->hb + a->hb_len, d, n);
    a->hb_len += n;
    return 0;
}

static hc_racc_hdr_t *new_header(hc_racc_t *a)
{
    if (a->n_hdrs == a->hdrs_cap) {
        size_t cap = a->hdrs_cap ? a->hdrs_cap * 2 : 16;
        hc_racc_hdr_t *v = hc_pool_realloc(a->hdrs, cap * sizeof *v);
        if (!v)
            return NULL;
        a->hdrs = v;
        a->hdrs_cap = cap;
    }
    hc_racc_hdr_t *e = &a->hdrs[a->n_hdrs++];
    *e = (hc_racc_hdr_t){(uint32_t)a->hb_len, 0, (uint32_t)a->hb_len, 0};
    return e;
}

void hc_racc_reset(hc_racc_t *a)
{
    a->hb_len = a->body_len = a->n_hdrs = 0;
    a->body_dropped = 0;
    a->n_head = 0;
    a->head_done = a->in_value = false;
}

void hc_racc_fini(hc_racc_t *a)
{
    hc_pool_free(a->hb);
    hc_pool_free(a->hdrs);
    hc_pool_free(a->body);
    *a = (hc_racc_t){0};
}

int hc_racc_field(hc_racc_t *a, const char *d, size_t n)
{
    if (a->n_hdrs == 0 || a->in_value) {
        if (!new_header(a))
            return -1;
        a->in_value = false;
    }
    a->hdrs[a->n_hdrs - 1].name_len += (uint32_t)n;
    return hb_add(a, d, n);
}

int hc_racc_value(hc_racc_t *a, const char *d, size_t n)
{
    if (a->n_hdrs == 0)
        return -1;
    hc_racc_hdr_t *e = &a->hdrs[a->n_hdrs - 1];
    if (!a->in_value) {
        e->value_off = (uint32_t)a->hb_len;
        a->in_value = true;
    }
    e->value_len += (uint32_t)n;
    return hb_add(a, d, n);
}

int hc_racc_header(hc_racc_t *a, const char *name, size_t nl, const char *value, size_t vl)
{
    hc_racc_hdr_t *e = new_header(a);
    if (!e || hb_add(a, name, nl) != 0 || hb_add(a, value, vl) != 0) {
        if (e)
            a->n_hdrs--;
        return -1;
    }
    e->name_len = (uint32_t)nl;
    e->value_off = e->name_off + (uint32_t)nl;
    e->value_len = (uint32_t)vl;
    a->in_value = true;
    return 0;
}

int hc_racc_body(hc_racc_t *a, const void *d, size_t n, size_t max)
{
    size_t room = a->body_len < max ? max - a->body_len : 0;
    if (n > room) {
        a->body_dropped += n - room;
        n = room;
    }
    if (grow(&a->body, a->body_len, &a->body_cap, n) != 0)
        return -1;
    if (n)
        memcpy(a->body + a->body_len, d, n);
    a->body_len += n;
    return 0;
}

/* Undoes the body's Content-Encoding (all such headers, in order). */
static void decode(const hc_racc_t *a, hc_env_t *env, hc_resp_t *out)
{
    const char *enc = NULL;
    size_t enc_len = 0, n_enc = 0;
    size_t n_head = a->head_done ? a->n_head : a->n_hdrs; /* trailers do not count */
    for (size_t i = 0; i < n_head; i++) {
        const hc_racc_hdr_t *e = &a->hdrs[i];
        if (e->name_len == 16 && strncasecmp(a->hb + e->name_off, "content-encoding", 16) == 0) {
            enc = a->hb + e->value_off;
            enc_len = e->value_len;
            n_enc++;
        }
    }
    if (!enc)
        return;
    if (n_enc > 1) {
        out->body_undecoded = true;  /* split over headers: rare enough to count, not to join */
        return;
    }
    const uint8_t *body;
    size_t len;
    bodydec_result_t r = bodydec_run(&env->dec, enc, enc_len, (const uint8_t *)a->body, a->body_len, env->max_body,
                                     &body, &len);
    switch (r) {
    case BODYDEC_IDENTITY:
        return;
    case BODYDEC_UNSUPPORTED:
    case BODYDEC_CORRUPT:
    case BODYDEC_NOMEM:
        out->body_undecoded = true;
        return;
    case BODYDEC_LIMIT:
        out->body_cut = true;
        break;
    case BODYDEC_TRUNCATED:
        /* Cut at max_body as received: already body_cut. Else the server
         * sent a broken stream: what it decoded to is all there is. */
        if (!out->body_cut)
            out->body_undecoded = true;
        break;
    case BODYDEC_OK:
        break;
    }
    out->body = (const char *)body;
    out->body_len = len;
}

void hc_racc_end_head(hc_racc_t *a)
{
    if (!a->head_done) {
        a->n_head = a->n_hdrs;
        a->head_done = true;
    }
    /* A trailer field starts a new header even right after a value. */
    a->in_value = true;
}

int hc_racc_head_view(hc_racc_t *a, hc_env_t *env, int status, hc_resp_t *out)
{
    size_t n_head = a->head_done ? a->n_head : a->n_hdrs;
    if (n_head > env->hdrs_cap) {
        hc_header_t *v = realloc(env->hdrs, n_head * sizeof *v);
        if (!v)
            return -1;
        env->hdrs = v;
        env->hdrs_cap = n_head;
    }
    for (size_t i = 0; i < n_head; i++) {
        const hc_racc_hdr_t *e = &a->hdrs[i];
        env->hdrs[i] = (hc_header_t){a->hb + e->name_off, e->name_len, a->hb + e->value_off,
                                     e->value_len};
    }
    *out = (hc_resp_t){.status = status, .headers = env->hdrs, .n_headers = n_head};
    return 0;
}

int hc_racc_view(hc_racc_t *a, hc_env_t *env, int status, hc_resp_t *out)
{
    size_t n_head = a->head_done ? a->n_head : a->n_hdrs;
    if (a->n_hdrs > env->hdrs_cap) {
        hc_header_t *v = realloc(env->hdrs, a->n_hdrs * sizeof *v);
        if (!v)
            return -1;
        env->hdrs = v;
        env->hdrs_cap = a->n_hdrs;
    }
    for (size_t i = 0; i < a->n_hdrs; i++) {
        const hc_racc_hdr_t *e = &a->hdrs[i];
        env->hdrs[i] = (hc_header_t){a->hb + e->name_off, e->name_len, a->hb + e->value_off,
                                       e->value_len};
    }
    if (a->body_len && grow(&a->body, a->body_len, &a->body_cap, 1) == 0)
        a->body[a->body_len] = '\0';
    *out = (hc_resp_t){
        .status = status,
        .headers = env->hdrs,
        .n_headers = n_head,
        .trailers = env->hdrs ? env->hdrs + n_head : NULL, /* no header at all: NULL + 0 is UB */
        .n_trailers = a->n_hdrs - n_head,
        .body = a->body,
        .body_len = a->body_len,
        .body_cut = a->body_dropped > 0,
        .body_dropped = a->body_dropped,
    };
    if (a->body_len)
        decode(a, env, out);
    return 0;
}

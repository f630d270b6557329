/* http1: HTTP/1.1 over a conn_t (see http1.h). */
#include "http1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

typedef struct h1_hdr {
    uint32_t name_off, name_len, value_off, value_len;
} h1_hdr_t;

/* A growable byte buffer that is emptied per response and freed when idle. */
typedef struct h1_buf {
    char *p;
    size_t len, cap;
} h1_buf_t;

typedef struct h1 {
    http_parser parser;
    conn_t *conn;
    xch_t *x;              /* the exchange in flight, NULL when idle */
    bool done;             /* on_message_complete seen */
    bool in_value;         /* the last header callback was a value */
    h1_buf_t hbytes;       /* header names and values */
    h1_hdr_t *hdrs;
    size_t n_hdrs, hdrs_cap;
    h1_buf_t body;
} h1_t;

static int buf_add(h1_buf_t *b, const char *d, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    h1_t *h = p->data;
    if (h->n_hdrs == 0 || h->in_value) {
        if (h->n_hdrs == h->hdrs_cap) {
            size_t cap = h->hdrs_cap ? h->hdrs_cap * 2 : 16;
            h1_hdr_t *v = realloc(h->hdrs, cap * sizeof *v);
            if (!v)
                return -1;
            h->hdrs = v;
            h->hdrs_cap = cap;
        }
        h->hdrs[h->n_hdrs++] = (h1_hdr_t){(uint32_t)h->hbytes.len, 0, 0, 0};
        h->in_value = false;
    }
    h->hdrs[h->n_hdrs - 1].name_len += (uint32_t)len;
    return buf_add(&h->hbytes, at, len);
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    h1_t *h = p->data;
    if (h->n_hdrs == 0)
        return -1;
    h1_hdr_t *e = &h->hdrs[h->n_hdrs - 1];
    if (!h->in_value) {
        e->value_off = (uint32_t)h->hbytes.len;
        h->in_value = true;
    }
    e->value_len += (uint32_t)len;
    return buf_add(&h->hbytes, at, len);
}

static int on_headers_complete(http_parser *p)
{
    h1_t *h = p->data;
    /* 1 tells http_parser that this response has no body (HEAD). */
    return h->x && h->x->head ? 1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    h1_t *h = p->data;
    if (h->x && h->x->want_body)
        return buf_add(&h->body, at, len);
    return 0;
}

static int on_message_complete(http_parser *p)
{
    h1_t *h = p->data;
    h->done = true;
    /* Stop here: whatever follows is not ours (no pipelining). */
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings h1_settings = {
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void h1_complete(conn_t *c, h1_t *h)
{
    xch_t *x = h->x;
    conn_env_t *env = conn_env(c);
    h->x = NULL;
    bool keep = http_should_keep_alive(&h->parser);
    if (h->n_hdrs > env->hdrs_cap) {
        resp_header_t *v = realloc(env->hdrs, h->n_hdrs * sizeof *v);
        if (!v) {
            conn_close(c, STATS_OK);
            conn_done(c, x, NULL, STATS_FAIL_PROTOCOL);
            return;
        }
        env->hdrs = v;
        env->hdrs_cap = h->n_hdrs;
    }
    for (size_t i = 0; i < h->n_hdrs; i++) {
        const h1_hdr_t *e = &h->hdrs[i];
        env->hdrs[i] = (resp_header_t){h->hbytes.p + e->name_off, e->name_len,
                                       h->hbytes.p + e->value_off, e->value_len};
    }
    /* A NUL after the body: regexec and friends may read up to one (ASan's
     * regexec interceptor does even with REG_STARTEND). Not counted in body_len. */
    if (h->body.len && (buf_add(&h->body, "", 1) == 0))
        h->body.len--;
    resp_view_t resp = {
        .status = (int)h->parser.status_code,
        .headers = env->hdrs,
        .n_headers = h->n_hdrs,
        .body = h->body.p,
        .body_len = h->body.len,
    };
    conn_mark_reused(c);
    /* Buffers stay valid through on_done: the next submit only rewinds them. */
    if (!keep)
        conn_close(c, STATS_OK);
    conn_done(c, x, &resp, STATS_OK);
}

static bool h1_can_submit(conn_t *c, void *st)
{
    (void)c;
    return ((h1_t *)st)->x == NULL;
}

static int h1_submit(conn_t *c, void *st, xch_t *x, const req_view_t *rv)
{
    h1_t *h = st;
    h->conn = c;
    h->x = x;
    http_parser_init(&h->parser, HTTP_RESPONSE);
    h->parser.data = h;
    h->done = h->in_value = false;
    h->hbytes.len = h->body.len = 0;
    h->n_hdrs = 0;
    x->head = rv->head;
    x->proto = STATS_PROTO_H1;
    if (rv->h1_bytes) {
        x->bytes_sent = rv->h1_len;
        return conn_write(c, rv->h1_bytes, rv->h1_len);
    }
    char clen[48] = "";
    size_t clen_len = rv->has_body || rv->body_len
                          ? (size_t)snprintf(clen, sizeof clen, "Content-Length: %zu\r\n", rv->body_len)
                          : 0;
    size_t n = rv->method_len + 1 + rv->path_len + 17 + rv->authority_len + 2 + rv->headers_len +
               (rv->cookie ? 8 + rv->cookie_len + 2 : 0) + clen_len + 2 + rv->body_len;
    char *w = conn_env_wbuf(conn_env(c), n), *p = w;
    if (!w)
        return -1;
#define PUT(s, l) (memcpy(p, (s), (l)), p += (l))
    PUT(rv->method, rv->method_len);
    PUT(" ", 1);
    PUT(rv->path, rv->path_len);
    PUT(" HTTP/1.1\r\nHost: ", 17);
    PUT(rv->authority, rv->authority_len);
    PUT("\r\n", 2);
    if (rv->headers_len)
        PUT(rv->headers, rv->headers_len);
    if (rv->cookie) {
        PUT("Cookie: ", 8);
        PUT(rv->cookie, rv->cookie_len);
        PUT("\r\n", 2);
    }
    PUT(clen, clen_len);
    PUT("\r\n", 2);
    if (rv->body_len)
        PUT(rv->body, rv->body_len);
#undef PUT
    x->bytes_sent = (uint64_t)(p - w);
    return conn_write(c, w, (size_t)(p - w));
}

static int h1_on_read(conn_t *c, void *st, const char *data, size_t len)
{
    h1_t *h = st;
    if (!h->x)
        return -STATS_FAIL_PROTOCOL; /* bytes nobody asked for */
    h->x->bytes_received += len;
    http_parser_execute(&h->parser, &h1_settings, data, len);
    if (h->done) {
        h1_complete(c, h);
        return 0;
    }
    return HTTP_PARSER_ERRNO(&h->parser) == HPE_OK ? 0 : -STATS_FAIL_PROTOCOL;
}

static void h1_on_eof(conn_t *c, void *st)
{
    h1_t *h = st;
    if (!h->x || h->x->bytes_received == 0)
        return;
    /* A body delimited by the close ends here. */
    http_parser_execute(&h->parser, &h1_settings, NULL, 0);
    if (h->done)
        h1_complete(c, h);
}

static bool h1_cancel(conn_t *c, void *st, xch_t *x)
{
    (void)c;
    h1_t *h = st;
    if (h->x != x)
        return false;
    h->x = NULL;
    return true; /* the response may be half read: only a new socket is clean */
}

static void h1_on_close(conn_t *c, void *st, xch_t **out)
{
    h1_t *h = st;
    if (!h->x)
        return;
    /* A kept-alive socket the server closed before answering: safe to resend. */
    h->x->retryable = conn_reused(c) && h->x->bytes_received == 0;
    h->x->qnext = *out;
    *out = h->x;
    h->x = NULL;
}

static void h1_trim(conn_t *c, void *st)
{
    (void)c;
    h1_t *h = st;
    if (h->x)
        return;
    free(h->hbytes.p);
    free(h->body.p);
    free(h->hdrs);
    h->hbytes = h->body = (h1_buf_t){0};
    h->hdrs = NULL;
    h->n_hdrs = h->hdrs_cap = 0;
}

static void h1_fini(conn_t *c, void *st)
{
    ((h1_t *)st)->x = NULL;
    h1_trim(c, st);
}

const conn_proto_t h1_proto = {
    .name = "http/1.1",
    .stats_proto = STATS_PROTO_H1,
    .state_size = sizeof(h1_t),
    .on_ready = NULL,
    .can_submit = h1_can_submit,
    .submit = h1_submit,
    .on_read = h1_on_read,
    .on_eof = h1_on_eof,
    .on_writable = NULL,
    .cancel = h1_cancel,
    .on_close = h1_on_close,
    .trim = h1_trim,
    .fini = h1_fini,
};

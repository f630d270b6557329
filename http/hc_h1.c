/* hc_h1: HTTP/1.1 over an hc_conn_t (see hc_h1.h). */
#include "hc_h1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "hc_racc.h"

typedef struct h1 {
    http_parser parser;
    hc_conn_t *conn;
    hc_xch_t *x;              /* the exchange in flight, NULL when idle */
    bool done;             /* on_message_complete seen */
    bool abandoned;        /* the streaming caller refused the response */
    hc_racc_t resp;           /* headers and (when wanted) body of the response */
} h1_t;

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    return hc_racc_field(&((h1_t *)p->data)->resp, at, len);
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    return hc_racc_value(&((h1_t *)p->data)->resp, at, len);
}

static int on_headers_complete(http_parser *p)
{
    h1_t *h = p->data;
    hc_racc_end_head(&h->resp);
    if (h->x && h->x->stream && p->status_code >= 200) {
        hc_env_t *env = hc_conn_env(h->conn);
        hc_resp_t head;
        if (hc_racc_head_view(&h->resp, env, (int)p->status_code, &head) != 0 ||
            env->on_head(h->x, &head) != 0) {
            h->abandoned = true;
            return -1; /* http_parser: error, stop here (1 and 2 mean "no body") */
        }
    }
    /* 1 tells http_parser that this response has no body (HEAD). */
    return h->x && h->x->head ? 1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    h1_t *h = p->data;
    if (h->x && h->x->stream) {
        if (hc_conn_env(h->conn)->on_body(h->x, at, len) != 0) {
            h->abandoned = true;
            return -1;
        }
        return 0;
    }
    if (h->x && h->x->want_body)
        return hc_racc_body(&h->resp, at, len, hc_conn_env(h->conn)->max_body);
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

static void h1_complete(hc_conn_t *c, h1_t *h)
{
    hc_xch_t *x = h->x;
    h->x = NULL;
    bool keep = http_should_keep_alive(&h->parser);
    hc_resp_t resp;
    if (hc_racc_view(&h->resp, hc_conn_env(c), (int)h->parser.status_code, &resp) != 0) {
        hc_conn_close(c, HC_OK);
        hc_conn_done(c, x, NULL, HC_FAIL_PROTOCOL);
        return;
    }
    hc_conn_mark_reused(c);
    /* Buffers stay valid through on_done: the next submit only rewinds them. */
    if (!keep)
        hc_conn_close(c, HC_OK);
    hc_conn_done(c, x, &resp, HC_OK);
}

static bool h1_can_submit(hc_conn_t *c, void *st)
{
    (void)c;
    return ((h1_t *)st)->x == NULL;
}

static int h1_submit(hc_conn_t *c, void *st, hc_xch_t *x, const hc_req_t *rv)
{
    h1_t *h = st;
    h->conn = c;
    h->x = x;
    http_parser_init(&h->parser, HTTP_RESPONSE);
    h->parser.data = h;
    h->done = h->abandoned = false;
    hc_racc_reset(&h->resp);
    x->head = rv->head;
    x->proto = HC_PROTO_H1;
    if (rv->h1_bytes && !rv->cookie) {
        x->bytes_sent = rv->h1_len;
        return hc_conn_write(c, rv->h1_bytes, rv->h1_len);
    }
    if (rv->h1_bytes) {
        /* The prebuilt request with the Cookie header put in before the blank line. */
        size_t n = rv->h1_len + 8 + rv->cookie_len + 2;
        char *w = hc_env_wbuf(hc_conn_env(c), n), *p = w;
        if (!w)
            return -1;
        memcpy(p, rv->h1_bytes, rv->h1_head_len);
        p += rv->h1_head_len;
        memcpy(p, "Cookie: ", 8);
        memcpy(p + 8, rv->cookie, rv->cookie_len);
        memcpy(p + 8 + rv->cookie_len, "\r\n", 2);
        p += 8 + rv->cookie_len + 2;
        memcpy(p, rv->h1_bytes + rv->h1_head_len, rv->h1_len - rv->h1_head_len);
        x->bytes_sent = n;
        return hc_conn_write(c, w, n);
    }
    char clen[48] = "";
    size_t clen_len = rv->has_body || rv->body_len
                          ? (size_t)snprintf(clen, sizeof clen, "Content-Length: %zu\r\n", rv->body_len)
                          : 0;
    size_t hlen = 0;
    for (size_t i = 0; i < rv->n_hdrs; i++)
        hlen += rv->hdrs[i].name_len + 2 + rv->hdrs[i].value_len + 2;
    size_t n = rv->method_len + 1 + rv->path_len + 17 + rv->authority_len + 2 + hlen +
               (rv->cookie ? 8 + rv->cookie_len + 2 : 0) + clen_len + 2 + rv->body_len;
    char *w = hc_env_wbuf(hc_conn_env(c), n), *p = w;
    if (!w)
        return -1;
#define PUT(s, l) (memcpy(p, (s), (l)), p += (l))
    PUT(rv->method, rv->method_len);
    PUT(" ", 1);
    PUT(rv->path, rv->path_len);
    PUT(" HTTP/1.1\r\nHost: ", 17);
    PUT(rv->authority, rv->authority_len);
    PUT("\r\n", 2);
    for (size_t i = 0; i < rv->n_hdrs; i++) {
        PUT(rv->hdrs[i].name, rv->hdrs[i].name_len);
        PUT(": ", 2);
        PUT(rv->hdrs[i].value, rv->hdrs[i].value_len);
        PUT("\r\n", 2);
    }
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
    return hc_conn_write(c, w, (size_t)(p - w));
}

static int h1_on_read(hc_conn_t *c, void *st, const char *data, size_t len)
{
    h1_t *h = st;
    if (!h->x)
        return -HC_FAIL_PROTOCOL; /* bytes nobody asked for */
    h->x->bytes_received += len;
    http_parser_execute(&h->parser, &h1_settings, data, len);
    if (h->done) {
        h1_complete(c, h);
        return 0;
    }
    if (h->abandoned) {
        /* The caller refused the rest: the socket holds a half-read response. */
        hc_xch_t *x = h->x;
        h->x = NULL;
        hc_conn_close(c, HC_OK);
        hc_conn_done(c, x, NULL, HC_FAIL_REQUEST);
        return 0;
    }
    return HTTP_PARSER_ERRNO(&h->parser) == HPE_OK ? 0 : -HC_FAIL_PROTOCOL;
}

static void h1_on_eof(hc_conn_t *c, void *st)
{
    h1_t *h = st;
    if (!h->x || h->x->bytes_received == 0)
        return;
    /* A body delimited by the close ends here. */
    http_parser_execute(&h->parser, &h1_settings, NULL, 0);
    if (h->done)
        h1_complete(c, h);
}

static bool h1_cancel(hc_conn_t *c, void *st, hc_xch_t *x)
{
    (void)c;
    h1_t *h = st;
    if (h->x != x)
        return false;
    h->x = NULL;
    return true; /* the response may be half read: only a new socket is clean */
}

static void h1_on_close(hc_conn_t *c, void *st, hc_xch_t **out)
{
    h1_t *h = st;
    if (!h->x)
        return;
    /* A kept-alive socket the server closed before answering: safe to resend. */
    h->x->retryable = hc_conn_reused(c) && h->x->bytes_received == 0;
    h->x->qnext = *out;
    *out = h->x;
    h->x = NULL;
}

static bool h1_busy(hc_conn_t *c, void *st)
{
    (void)c;
    return ((h1_t *)st)->x != NULL;
}

static void h1_trim(hc_conn_t *c, void *st)
{
    (void)c;
    h1_t *h = st;
    if (h->x)
        return;
    hc_racc_fini(&h->resp);
}

static void h1_fini(hc_conn_t *c, void *st)
{
    ((h1_t *)st)->x = NULL;
    h1_trim(c, st);
}

const hc_proto_t hc_h1_proto = {
    .name = "http/1.1",
    .proto_id = HC_PROTO_H1,
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
    .busy = h1_busy,
    .fini = h1_fini,
};

/* hc_h1: HTTP/1.1 over an hc_conn_t (see hc_h1.h). */
#include "hc_h1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "h1chars.h"
#include "hc_racc.h"

typedef struct h1 {
    http_parser parser;
    hc_conn_t *conn;
    hc_xch_t *x;              /* the exchange in flight, NULL when idle */
    bool done;             /* on_message_complete seen */
    bool abandoned;        /* the streaming caller refused the response */
    bool up_chunked;       /* the streamed request body goes chunked */
    bool up_done;          /* ... and is all written (or there is none) */
    bool fresh;            /* no byte of the response parsed yet (fast_response may run) */
    int fast_keep;         /* -1, or keep-alive as fast_response read it (no http_parser state) */
    char *stash;           /* response bytes read but not parsed (paused) */
    size_t stash_len, stash_cap;
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
    /* http_parser takes 1 to 3 digits; a status-code is three (RFC 9110 15),
     * so "20" or "000" is no response to hand over as a success. */
    if (p->status_code < 100)
        return -1; /* http_parser: error (HPE_CB_headers_complete) */
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
    /* 1 tells http_parser that this response has no body: HEAD, and 204 /
     * 304, which have none whatever their Content-Length says (RFC 9110
     * 6.4.1; a 304 may carry the representation's length), where
     * http_parser 2.9 would wait for that many bytes. */
    unsigned st = p->status_code;
    return (h->x && h->x->head) || st == 204 || st == 304 ? 1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    h1_t *h = p->data;
    if (h->x && h->x->stream) {
        if (hc_conn_env(h->conn)->on_body(h->x, at, len) != 0) {
            h->abandoned = true;
            return -1;
        }
        if (h->x && h->x->paused)
            http_parser_pause(p, 1); /* stop after this piece (h1_feed keeps the rest) */
        return 0;
    }
    if (h->x && h->x->want_body)
        return hc_racc_body(&h->resp, at, len, hc_conn_env(h->conn)->max_body);
    return 0;
}

static int on_message_complete(http_parser *p)
{
    h1_t *h = p->data;
    unsigned st = p->status_code;
    if (st >= 100 && st < 200 && st != 101) {
        /* An interim head (100 Continue, 103): the final one follows. */
        hc_env_t *env = hc_conn_env(h->conn);
        hc_resp_t head;
        if (h->x && env->on_interim && hc_racc_head_view(&h->resp, env, (int)st, &head) == 0)
            env->on_interim(h->x, &head);
        hc_racc_reset(&h->resp);
        return 0;
    }
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
    /* An answer before the whole request body went out (413...): the rest
     * of the body would be read as the next request. */
    bool keep = (h->fast_keep >= 0 ? h->fast_keep == 1 : http_should_keep_alive(&h->parser)) && h->up_done;
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

static int h1_body(hc_conn_t *c, void *st, hc_xch_t *x);

static int h1_submit(hc_conn_t *c, void *st, hc_xch_t *x, const hc_req_t *rv)
{
    h1_t *h = st;
    h->conn = c;
    h->x = x;
    http_parser_init(&h->parser, HTTP_RESPONSE);
    h->parser.data = h;
    h->done = h->abandoned = h->up_chunked = false;
    h->stash_len = 0;
    h->fresh = true;
    h->fast_keep = -1;
    h->up_done = !rv->body_streamed;
    hc_racc_reset(&h->resp);
    x->head = rv->head;
    x->proto = HC_PROTO_H1;
    if (rv->h1_bytes && !rv->cookie && !rv->body_streamed) {
        x->bytes_sent = rv->h1_len;
        return hc_conn_write(c, rv->h1_bytes, rv->h1_len);
    }
    if (rv->h1_bytes && !rv->body_streamed) {
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
    size_t clen_len = 0;
    if (rv->body_streamed) {
        if (!x->up && !(x->up = calloc(1, sizeof *x->up)))
            return -1;
        h->up_chunked = rv->body_length < 0;
        clen_len = h->up_chunked
                       ? (size_t)snprintf(clen, sizeof clen, "Transfer-Encoding: chunked\r\n")
                       : (size_t)snprintf(clen, sizeof clen, "Content-Length: %lld\r\n",
                                          (long long)rv->body_length);
    } else if (rv->has_body || rv->body_len) {
        clen_len = (size_t)snprintf(clen, sizeof clen, "Content-Length: %zu\r\n", rv->body_len);
    }
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
    if (hc_conn_write(c, w, (size_t)(p - w)) != 0)
        return -1;
    if (!rv->body_streamed)
        return 0;
    x->up->with_proto = true;
    return h1_body(c, h, x);
}

/* Writes what x's streamed body holds (chunk-framed when its length is not
 * known), and the end when it came. 0 or -1. */
static int h1_body(hc_conn_t *c, void *st, hc_xch_t *x)
{
    h1_t *h = st;
    hc_upload_t *u = x->up;
    if (h->x != x || !u || h->up_done)
        return 0;
    size_t n = u->len - u->off;
    if (n) {
        char hd[24];
        int hl = h->up_chunked ? snprintf(hd, sizeof hd, "%zx\r\n", n) : 0;
        if ((hl && hc_conn_write(c, hd, (size_t)hl) != 0) ||
            hc_conn_write(c, u->buf + u->off, n) != 0 ||
            (hl && hc_conn_write(c, "\r\n", 2) != 0))
            return -1;
        x->bytes_sent += n + (size_t)hl + (hl ? 2 : 0);
        u->off = u->len = 0;
    }
    if (u->end) {
        h->up_done = true;
        if (h->up_chunked && hc_conn_write(c, "0\r\n\r\n", 5) != 0)
            return -1;
        x->bytes_sent += h->up_chunked ? 5 : 0;
    }
    /* The caller waits (it fed a body while the request was queued): tell it
     * from the loop once the socket took everything (h1_on_writable). */
    if (u->want_drain)
        hc_conn_flush_soon(c);
    return 0;
}

/* Output drained: a caller that was told to wait may feed the body again. */
static void h1_on_writable(hc_conn_t *c, void *st)
{
    h1_t *h = st;
    hc_xch_t *x = h->x;
    if (x && x->up && x->up->want_drain && !hc_conn_out_pending(c)) {
        x->up->want_drain = false;
        if (hc_conn_env(c)->on_drain)
            hc_conn_env(c)->on_drain(x);
    }
}

/* ---- the common answer without http_parser (issue 20)
 *
 * http_parser reads a response byte by byte through a state machine: ~4 500
 * instructions for a 270-byte nginx answer, half of the generator's own work
 * per request. Most answers arrive whole in one read and are simple: a status
 * line, plain header lines, a Content-Length and that many bytes. fast_response
 * reads exactly that shape with memchr and hands the same pieces to the same
 * accumulator; anything else (1xx, 204, 304, HEAD, chunked, no length, a
 * streaming caller, an empty or folded or odd header, Connection other than
 * keep-alive or close, bytes beyond the body, a response split over reads)
 * goes to http_parser as before, from its first byte. */

static bool ieq(const char *a, size_t n, const char *lit, size_t litlen)
{
    return n == litlen && strncasecmp(a, lit, n) == 0;
}

/* Returns 1 when it read the whole response (h->done), 0 to leave it to
 * http_parser (nothing changed but the accumulator, which the caller resets),
 * -1 when out of memory. */
static int fast_response(hc_conn_t *c, h1_t *h, const char *d, size_t len)
{
    hc_xch_t *x = h->x;
    if (!x || x->stream || x->head || len < 19 || memcmp(d, "HTTP/1.", 7) != 0 ||
        (d[7] != '0' && d[7] != '1') || d[8] != ' ' || d[12] != ' ')
        return 0;
    unsigned st = 0;
    for (int i = 9; i < 12; i++) {
        if (d[i] < '0' || d[i] > '9')
            return 0;
        st = st * 10 + (unsigned)(d[i] - '0');
    }
    if (st < 200 || st == 204 || st == 304)
        return 0;
    const char *end = d + len;
    const char *p = memchr(d + 13, '\n', len - 13);
    if (!p || p[-1] != '\r')
        return 0;
    for (const char *q = d + 13; q < p - 1; q++)
        if ((unsigned char)*q < 0x20 && *q != '\t')
            return 0; /* a control character in the reason phrase */
    p++;
    bool http11 = d[7] == '1';
    int conn = 0; /* 1 keep-alive, 2 close */
    long long clen = -1;
    for (;;) {
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
            p += 2;
            break;
        }
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol || eol[-1] != '\r')
            return 0; /* the head is not whole in this read */
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (!colon || colon == p)
            return 0;
        if (!h1c_token(p, (size_t)(colon - p)))
            return 0;
        const char *v = colon + 1, *ve = eol - 1;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        if (v == ve || ve[-1] == ' ' || ve[-1] == '\t')
            return 0; /* empty value or trailing blanks: http_parser's own rules */
        if (!h1c_plain_value(v, (size_t)(ve - v)))
            return 0;
        size_t nl = (size_t)(colon - p), vl = (size_t)(ve - v);
        /* the names that change the framing, by length first */
        if (ieq(p, nl, "Content-Length", 14)) {
            if (clen >= 0 || vl > 15)
                return 0;
            clen = 0;
            for (size_t i = 0; i < vl; i++) {
                if (v[i] < '0' || v[i] > '9')
                    return 0;
                clen = clen * 10 + (v[i] - '0');
            }
        } else if (ieq(p, nl, "Transfer-Encoding", 17) || ieq(p, nl, "Upgrade", 7) ||
                   ieq(p, nl, "Proxy-Connection", 16)) {
            return 0; /* http_parser reads Proxy-Connection as Connection */
        } else if (ieq(p, nl, "Connection", 10)) {
            if (conn)
                return 0;
            conn = ieq(v, vl, "keep-alive", 10) ? 1 : ieq(v, vl, "close", 5) ? 2 : 0;
            if (!conn)
                return 0;
        }
        if (hc_racc_header(&h->resp, p, nl, v, vl) != 0)
            return -1;
        p = eol + 1;
    }
    if (clen < 0 || (long long)(end - p) != clen || p - d > HTTP_MAX_HEADER_SIZE)
        return 0; /* no length, the body still coming, bytes after it, or a head
                   * http_parser refuses as too big */
    hc_racc_end_head(&h->resp);
    if (clen > 0 && x->want_body &&
        hc_racc_body(&h->resp, p, (size_t)clen, hc_conn_env(c)->max_body) != 0)
        return -1;
    h->parser.status_code = st;
    h->parser.http_major = 1;
    h->parser.http_minor = http11 ? 1 : 0;
    h->fast_keep = conn == 2 ? 0 : conn == 1 ? 1 : http11 ? 1 : 0;
    h->done = true;
    return 1;
}

/* Parses bytes of the response in flight (not counted again). 0 or a
 * negative hc_fail_t. */
static int h1_feed(hc_conn_t *c, h1_t *h, const char *data, size_t len)
{
    if (h->fresh) {
        h->fresh = false;
        int f = fast_response(c, h, data, len);
        if (f == 1) {
            h1_complete(c, h);
            return 0;
        }
        hc_racc_reset(&h->resp); /* what it gathered goes again through http_parser */
        if (f < 0)
            return -HC_FAIL_PROTOCOL;
    }
    size_t used = http_parser_execute(&h->parser, &h1_settings, data, len);
    if (h->done && h->parser.status_code == 101 && h->x && h->x->upgrade) {
        /* Switched: what follows the head is the new protocol's, and the
         * connection is the caller's from here (h is freed inside). */
        hc_xch_t *x = h->x;
        h->x = NULL;
        hc_resp_t resp;
        if (hc_racc_view(&h->resp, hc_conn_env(c), 101, &resp) != 0) {
            hc_conn_close(c, HC_OK);
            hc_conn_done(c, x, NULL, HC_FAIL_PROTOCOL);
            return 0;
        }
        hc_conn_upgraded(c, x, &resp, data + used, len - used);
        return 0;
    }
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
    if (HTTP_PARSER_ERRNO(&h->parser) == HPE_PAUSED) {
        /* The caller paused inside on_body: the rest waits for h1_resume. */
        size_t n = len - used;
        if (n > h->stash_cap) {
            char *p = realloc(h->stash, n);
            if (!p)
                return -HC_FAIL_PROTOCOL;
            h->stash = p;
            h->stash_cap = n;
        }
        if (n)
            memcpy(h->stash, data + used, n);
        h->stash_len = n;
        hc_conn_reading(c, false);
        return 0;
    }
    return HTTP_PARSER_ERRNO(&h->parser) == HPE_OK ? 0 : -HC_FAIL_PROTOCOL;
}

static int h1_on_read(hc_conn_t *c, void *st, const char *data, size_t len)
{
    h1_t *h = st;
    if (!h->x)
        return -HC_FAIL_PROTOCOL; /* bytes nobody asked for */
    h->x->bytes_received += len;
    return h1_feed(c, h, data, len);
}

/* Reading resumed: the bytes kept when the caller paused go first. */
static int h1_resume(hc_conn_t *c, void *st)
{
    h1_t *h = st;
    if (!h->stash_len || !h->x || h->x->paused)
        return 0;
    char *d = h->stash;
    size_t n = h->stash_len;
    h->stash = NULL; /* feeding may keep bytes again */
    h->stash_len = h->stash_cap = 0;
    int rc = h1_feed(c, h, d, n);
    free(d);
    return rc;
}

static void h1_pause(hc_conn_t *c, void *st, hc_xch_t *x, bool paused)
{
    h1_t *h = st;
    if (h->x != x)
        return;
    if (paused) {
        hc_conn_reading(c, false);
        return;
    }
    http_parser_pause(&h->parser, 0);
    hc_conn_reading(c, true);
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
    h->stash_len = 0;
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
    free(h->stash);
    h->stash = NULL;
    h->stash_len = h->stash_cap = 0;
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
    .on_writable = h1_on_writable,
    .cancel = h1_cancel,
    .on_close = h1_on_close,
    .trim = h1_trim,
    .body = h1_body,
    .pause = h1_pause,
    .resume = h1_resume,
    .busy = h1_busy,
    .fini = h1_fini,
};

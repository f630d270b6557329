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
    /* Exchanges sent and not answered, oldest first, linked by qnext: x is
     * the one whose response is read now (NULL when idle), tail the last. */
    hc_xch_t *x;
    hc_xch_t *tail;
    unsigned n;
    bool solo;             /* x may not be pipelined: nothing goes behind it */
    bool cut;              /* cancel closes with others in flight: they are retryable */
    uint32_t epoch;        /* bumped by on_close: a callback closed the socket */
    /* A request that may not be pipelined, rendered while others were in
     * flight: its bytes wait here until the connection is empty. */
    hc_xch_t *held;
    char *hbuf;
    size_t hlen, hcap;
    bool held_streamed, held_chunked;
    bool done;             /* on_message_complete seen */
    bool abandoned;        /* the streaming caller refused the response */
    bool up_chunked;       /* the streamed request body goes chunked */
    bool up_done;          /* ... and is all written (or there is none) */
    bool fresh;            /* no byte of the response parsed yet (fast_response may run) */
    bool stray;            /* bytes followed the last response in flight: close after it */
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

/* Readies the parser for h->x's response (the head of the FIFO). */
static void h1_begin(h1_t *h)
{
    http_parser_init(&h->parser, HTTP_RESPONSE);
    h->parser.data = h;
    h->done = h->abandoned = h->up_chunked = false;
    h->up_done = true;
    h->fresh = true;
    h->fast_keep = -1;
    hc_racc_reset(&h->resp);
}

static int h1_body(hc_conn_t *c, void *st, hc_xch_t *x);

/* Sends the held request: the connection has just become empty. 0 or -1. */
static int h1_release(hc_conn_t *c, h1_t *h)
{
    hc_xch_t *x = h->held;
    h->held = NULL;
    h->x = h->tail = x;
    h->n = 1;
    h->solo = true;
    h1_begin(h);
    h->stash_len = 0;
    h->up_done = !h->held_streamed;
    h->up_chunked = h->held_chunked;
    if (hc_conn_write(c, h->hbuf, h->hlen) != 0)
        return -1;
    if (!h->held_streamed)
        return 0;
    x->up->with_proto = true;
    return h1_body(c, h, x);
}

static void h1_complete(hc_conn_t *c, h1_t *h)
{
    hc_xch_t *x = h->x;
    /* An answer before the whole request body went out (413...): the rest
     * of the body would be read as the next request. */
    bool keep = (h->fast_keep >= 0 ? h->fast_keep == 1 : http_should_keep_alive(&h->parser)) &&
                h->up_done && !h->stray;
    h->stray = false;
    hc_resp_t resp;
    int vrc = hc_racc_view(&h->resp, hc_conn_env(c), (int)h->parser.status_code, &resp);
    h->x = x->qnext;
    x->qnext = NULL;
    h->n--;
    h->solo = false; /* a solo exchange has nothing behind it */
    if (!h->x)
        h->tail = NULL;
    if (vrc != 0) {
        hc_conn_close(c, HC_OK);
        hc_conn_done(c, x, NULL, HC_FAIL_PROTOCOL);
        return;
    }
    hc_conn_mark_reused(c);
    /* Buffers stay valid through on_done: the next response (or submit) only
     * rewinds them, and its bytes are parsed after on_done returned. */
    if (h->x)
        h1_begin(h);
    if (!keep)
        hc_conn_close(c, HC_OK); /* those behind fail as reset, retryable (h1_on_close) */
    else if (!h->x && h->held && h1_release(c, h) != 0)
        hc_conn_close(c, HC_FAIL_RESET);
    hc_conn_done(c, x, &resp, HC_OK);
}

static unsigned h1_depth(hc_conn_t *c)
{
    unsigned d = hc_conn_target(c)->pipeline;
    return d > 1 ? d : 1;
}

static bool h1_can_submit(hc_conn_t *c, void *st)
{
    h1_t *h = st;
    return !h->held && !h->solo && h->n < h1_depth(c);
}

/* Whether a request may go behind others on one connection and be resent
 * when the pipeline breaks (RFC 9112 9.3.2): an idempotent method (RFC 9110
 * 9.2.2), its body given whole, no protocol switch. POST, PATCH and unknown
 * methods wait for an empty connection and let nothing in behind them. */
static bool h1_pipelinable(const hc_xch_t *x, const hc_req_t *rv)
{
    static const char *const idem[] = {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"};
    if (x->upgrade || rv->body_streamed)
        return false;
    for (size_t i = 0; i < sizeof idem / sizeof idem[0]; i++)
        if (rv->method_len == strlen(idem[i]) && memcmp(rv->method, idem[i], rv->method_len) == 0)
            return true;
    if (rv->h1_bytes && !rv->method) {
        /* A prebuilt request names its method only in its bytes. */
        for (size_t i = 0; i < sizeof idem / sizeof idem[0]; i++) {
            size_t l = strlen(idem[i]);
            if (rv->h1_len > l && memcmp(rv->h1_bytes, idem[i], l) == 0 && rv->h1_bytes[l] == ' ')
                return true;
        }
    }
    return false;
}

/* Sends (or holds, hold set) the serialised request. 0 or -1. */
static int h1_out(hc_conn_t *c, h1_t *h, bool hold, bool soon, const char *d, size_t n)
{
    if (hold) {
        if (n > h->hcap) {
            char *p = realloc(h->hbuf, n);
            if (!p)
                return -1;
            h->hbuf = p;
            h->hcap = n;
        }
        memcpy(h->hbuf, d, n);
        h->hlen = n;
        return 0;
    }
    return soon ? hc_conn_write_soon(c, d, n) : hc_conn_write(c, d, n);
}

static int h1_submit(hc_conn_t *c, void *st, hc_xch_t *x, const hc_req_t *rv)
{
    h1_t *h = st;
    h->conn = c;
    x->head = rv->head;
    x->proto = HC_PROTO_H1;
    x->qnext = NULL;
    bool pipe_ok = h1_depth(c) > 1 && h1_pipelinable(x, rv);
    /* Not pipelinable while others are in flight: rendered now, sent once
     * the connection is empty (h1_complete), nothing submitted meanwhile. */
    bool hold = h->n > 0 && !pipe_ok;
    if (hold) {
        h->held = x;
        h->held_streamed = rv->body_streamed;
        h->held_chunked = rv->body_streamed && rv->body_length < 0;
    } else if (h->n == 0) {
        h->x = h->tail = x;
        h->n = 1;
        h->solo = !pipe_ok;
        h1_begin(h);
        h->stash_len = 0;
        h->up_done = !rv->body_streamed;
    } else {
        h->tail->qnext = x;
        h->tail = x;
        h->n++;
        x->pipelined = true;
    }
    /* With pipelining on, a pipelinable request goes out from the loop, so
     * that a burst of submits (a parallel step) leaves in one write. */
    bool soon = pipe_ok;
    if (rv->h1_bytes && !rv->cookie && !rv->body_streamed) {
        x->bytes_sent = rv->h1_len;
        return h1_out(c, h, hold, soon, rv->h1_bytes, rv->h1_len);
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
        return h1_out(c, h, hold, soon, w, n);
    }
    char clen[48] = "";
    size_t clen_len = 0;
    if (rv->body_streamed) {
        if (!x->up && !(x->up = calloc(1, sizeof *x->up)))
            return -1;
        if (!hold)
            h->up_chunked = rv->body_length < 0;
        clen_len = rv->body_length < 0
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
    if (h1_out(c, h, hold, soon, w, (size_t)(p - w)) != 0)
        return -1;
    if (!rv->body_streamed || hold)
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
 * keep-alive or close, bytes beyond the body unless a pipelined response
 * follows, a response split over reads) goes to http_parser as before, from
 * its first byte. */

static bool ieq(const char *a, size_t n, const char *lit, size_t litlen)
{
    return n == litlen && strncasecmp(a, lit, n) == 0;
}

/* Returns 1 when it read the whole response (h->done; *used: its bytes), 0
 * to leave it to http_parser (nothing changed but the accumulator, which the
 * caller resets), -1 when out of memory. */
static int fast_response(hc_conn_t *c, h1_t *h, const char *d, size_t len, size_t *used)
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
        h1c_field_t fl;
        const char *next = h1c_field_line(p, end, &fl);
        if (!next)
            return 0; /* the head is not whole in this read, or a line of another shape */
        const char *v = fl.value;
        size_t nl = fl.name_len, vl = fl.value_len;
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
        p = next;
    }
    if (clen < 0 || (long long)(end - p) < clen || p - d > HTTP_MAX_HEADER_SIZE ||
        ((long long)(end - p) > clen && !x->qnext))
        return 0; /* no length, the body still coming, bytes after it that no
                   * pipelined exchange waits for, or a head http_parser
                   * refuses as too big */
    hc_racc_end_head(&h->resp);
    if (clen > 0 && x->want_body &&
        hc_racc_body(&h->resp, p, (size_t)clen, hc_conn_env(c)->max_body) != 0)
        return -1;
    h->parser.status_code = st;
    h->parser.http_major = 1;
    h->parser.http_minor = http11 ? 1 : 0;
    h->fast_keep = conn == 2 ? 0 : conn == 1 ? 1 : http11 ? 1 : 0;
    h->done = true;
    *used = (size_t)(p - d) + (size_t)clen;
    return 1;
}

/* Parses bytes of the responses in flight, in order: what follows the end of
 * one response belongs to the next exchange of the pipeline. Counts the bytes
 * of each exchange as they are taken. 0 or a negative hc_fail_t. */
static int h1_feed(hc_conn_t *c, h1_t *h, const char *data, size_t len)
{
    while (len && h->x) {
        hc_xch_t *x = h->x;
        uint32_t epoch = h->epoch;
        /* Only an exchange that was in flight behind this one takes what
         * follows; without one the bytes are nobody's (stray, below). */
        bool more = x->qnext != NULL;
        size_t used = 0;
        if (h->fresh) {
            h->fresh = false;
            int f = fast_response(c, h, data, len, &used);
            if (f == 1) {
                x->bytes_received += used;
                h1_complete(c, h);
                if (h->epoch != epoch || !more)
                    return 0;
                data += used;
                len -= used;
                continue;
            }
            hc_racc_reset(&h->resp); /* what it gathered goes again through http_parser */
            if (f < 0)
                return -HC_FAIL_PROTOCOL;
        }
        used = http_parser_execute(&h->parser, &h1_settings, data, len);
        x->bytes_received += used;
        if (h->done && h->parser.status_code == 101 && x->upgrade) {
            x->bytes_received += len - used; /* the new protocol's first bytes came with it */
            /* Switched: what follows the head is the new protocol's, and the
             * connection is the caller's from here (h is freed inside). An
             * upgrade is never pipelined: x is alone. */
            h->x = h->tail = NULL;
            h->n = 0;
            h->solo = false;
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
            if (!more && used < len) {
                /* Bytes after the last response in flight: no request waits
                 * for them (an unsolicited response, a body longer than its
                 * Content-Length, a body after HEAD / 204 / 304). Counted and
                 * dropped, and the connection closes after this response:
                 * what follows on it could not be told from the answer to
                 * the next request sent there. */
                h->stray = true;
                hc_conn_unsolicited(c, len - used);
            }
            h1_complete(c, h);
            if (h->epoch != epoch || !more)
                return 0;
            data += used;
            len -= used;
            continue;
        }
        if (h->abandoned) {
            /* The caller refused the rest: the socket holds a half-read
             * response; those behind it fail as reset, retryable. */
            h->x = x->qnext;
            x->qnext = NULL;
            h->n--;
            if (!h->x)
                h->tail = NULL;
            h->cut = h->x != NULL;
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
        x->bytes_received += len - used;
        return HTTP_PARSER_ERRNO(&h->parser) == HPE_OK ? 0 : -HC_FAIL_PROTOCOL;
    }
    return 0;
}

static int h1_on_read(hc_conn_t *c, void *st, const char *data, size_t len)
{
    h1_t *h = st;
    if (!h->x) {
        /* Bytes while no request is in flight: counted, dropped, and the
         * connection closed (nothing is on it), as after a response above. */
        hc_conn_unsolicited(c, len);
        return -HC_FAIL_PROTOCOL;
    }
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
    /* A body delimited by the close ends here (those behind it fail as
     * reset, retryable, when the connection closes after it). */
    http_parser_execute(&h->parser, &h1_settings, NULL, 0);
    if (h->done)
        h1_complete(c, h);
}

static bool h1_cancel(hc_conn_t *c, void *st, hc_xch_t *x)
{
    (void)c;
    h1_t *h = st;
    if (h->held == x) {
        h->held = NULL; /* never sent */
        return false;
    }
    hc_xch_t *prev = NULL, *y = h->x;
    while (y && y != x)
        prev = y, y = y->qnext;
    if (!y)
        return false;
    if (prev)
        prev->qnext = x->qnext;
    else
        h->x = x->qnext;
    if (h->tail == x)
        h->tail = prev;
    x->qnext = NULL;
    h->n--;
    /* Others stay in flight: the connection closes under them (hc_conn_cancel
     * retires it), and they are resent. */
    h->cut = h->x != NULL || h->held != NULL;
    return true; /* the response may be half read: only a new socket is clean */
}

static void h1_on_close(hc_conn_t *c, void *st, hc_xch_t **out)
{
    h1_t *h = st;
    h->stash_len = 0;
    h->epoch++;
    /* In order, then the held one, in front of what *out holds already. */
    hc_xch_t *first = h->x, *last = h->tail;
    unsigned i = 0;
    for (hc_xch_t *y = h->x; y; y = y->qnext, i++)
        /* A kept-alive socket the server closed before answering, or a
         * pipeline broken before this response began: safe to resend (only
         * idempotent requests are pipelined). */
        y->retryable = y->bytes_received == 0 && (i > 0 || h->cut || hc_conn_reused(c));
    if (h->held) {
        h->held->retryable = true; /* never sent */
        h->held->bytes_sent = 0;
        h->held->qnext = NULL;
        if (last)
            last->qnext = h->held;
        else
            first = h->held;
        last = h->held;
    }
    if (first) {
        last->qnext = *out;
        *out = first;
    }
    h->x = h->tail = h->held = NULL;
    h->n = 0;
    h->solo = h->cut = false;
}

static bool h1_busy(hc_conn_t *c, void *st)
{
    (void)c;
    h1_t *h = st;
    return h->x != NULL || h->held != NULL;
}

/* The response at the head of the pipeline has not begun: one behind an
 * answered one, or a request submitted from the previous one's on_done. */
static bool h1_waiting(hc_conn_t *c, void *st)
{
    (void)c;
    h1_t *h = st;
    return h->x && h->x->bytes_received == 0;
}

static void h1_trim(hc_conn_t *c, void *st)
{
    (void)c;
    h1_t *h = st;
    if (h->x || h->held)
        return;
    hc_racc_fini(&h->resp);
    free(h->stash);
    h->stash = NULL;
    h->stash_len = h->stash_cap = 0;
    free(h->hbuf);
    h->hbuf = NULL;
    h->hlen = h->hcap = 0;
}

static void h1_fini(hc_conn_t *c, void *st)
{
    h1_t *h = st;
    h->x = h->tail = h->held = NULL;
    h->n = 0;
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
    .waiting = h1_waiting,
    .fini = h1_fini,
};

#include "h1msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <limits.h>

#include "h1chars.h"

/* What the string at the end of the buffer is. */
enum { ST_NONE, ST_URL, ST_FIELD, ST_VALUE };
#define NO_URL ((size_t)-1)

static h1msg_t *msg_of(http_parser *p) { return p->data; }

/* Appends p[0..n) to the string being read (state st), or starts a new one
 * when the last string was of another kind: a name, value or url split
 * across reads arrives in several callbacks. */
static int append(h1msg_t *m, int st, const char *p, size_t n)
{
    bool cont = m->state == st;
    size_t need = m->buf_len + n + 1;
    if (need > m->buf_cap) {
        size_t cap = m->buf_cap ? m->buf_cap * 2 : 1024;
        while (cap < need)
            cap *= 2;
        char *b = realloc(m->buf, cap);
        if (b == NULL)
            return -1;
        m->buf = b;
        m->buf_cap = cap;
    }
    if (cont) {
        m->buf_len--; /* over the NUL */
    } else {
        m->cur_off = m->buf_len;
        m->state = st;
    }
    memcpy(m->buf + m->buf_len, p, n);
    m->buf_len += n;
    m->buf[m->buf_len++] = '\0';
    return 0;
}

/* Ends the header being read: its name and value join the list (a name
 * without a value gets an empty one). */
static int commit_header(h1msg_t *m)
{
    if (m->state == ST_FIELD && append(m, ST_VALUE, "", 0) != 0)
        return -1;
    if (m->state != ST_VALUE)
        return 0;
    if (m->n_spans == m->spans_cap) {
        size_t cap = m->spans_cap ? m->spans_cap * 2 : 16;
        struct h1msg_span *v = realloc(m->spans, cap * sizeof *v);
        if (v == NULL)
            return -1;
        m->spans = v;
        m->spans_cap = cap;
    }
    m->spans[m->n_spans++] = (struct h1msg_span){ m->name_off, m->cur_off };
    m->state = ST_NONE;
    return 0;
}

/* Points url and headers into the buffer, now that it no longer moves. */
static int publish(h1msg_t *m)
{
    if (m->n_spans > m->headers_cap) {
        rec_hfield_t *v = realloc(m->headers.v, m->n_spans * sizeof *v);
        if (v == NULL)
            return -1;
        m->headers.v = v;
        m->headers_cap = m->n_spans;
    }
    for (size_t i = 0; i < m->n_spans; i++) {
        m->headers.v[i].name = m->buf + m->spans[i].name;
        m->headers.v[i].value = m->buf + m->spans[i].value;
    }
    m->headers.n = m->n_spans;
    m->url = m->buf + m->url_off;
    m->url_len = strlen(m->url);
    return 0;
}

static void reset_message(h1msg_t *m)
{
    m->url = NULL;
    m->url_len = 0;
    m->headers.n = 0;
    m->buf_len = 0;
    m->n_spans = 0;
    m->url_off = NO_URL;
    m->name_off = m->cur_off = 0;
    m->state = ST_NONE;
}

static int on_begin(http_parser *p)
{
    reset_message(msg_of(p));
    msg_of(p)->between = false;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    h1msg_t *m = msg_of(p);
    if (append(m, ST_URL, at, n) != 0)
        return -1;
    m->url_off = m->cur_off;
    return 0;
}

static int on_field(http_parser *p, const char *at, size_t n)
{
    h1msg_t *m = msg_of(p);
    if (m->state == ST_VALUE && commit_header(m) != 0)
        return -1;
    if (append(m, ST_FIELD, at, n) != 0)
        return -1;
    m->name_off = m->cur_off;
    return 0;
}

static int on_value(http_parser *p, const char *at, size_t n)
{
    h1msg_t *m = msg_of(p);
    return append(m, ST_VALUE, at, n);
}

static int on_headers_complete(http_parser *p)
{
    h1msg_t *m = msg_of(p);
    if (commit_header(m) != 0)
        return -1;
    if (m->url_off == NO_URL) { /* a response: url is "" */
        if (append(m, ST_URL, "", 0) != 0)
            return -1;
        m->url_off = m->cur_off;
    }
    if (publish(m) != 0)
        return -1;
    int rc = m->ops->on_head(m->ctx, m);
    if (rc < 0 && m->error[0] == '\0')
        snprintf(m->error, sizeof m->error, "message refused after its headers");
    return rc < 0 ? -1 : rc;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    h1msg_t *m = msg_of(p);
    return m->ops->on_body(m->ctx, at, n) < 0 ? -1 : 0;
}

static int on_complete(http_parser *p)
{
    h1msg_t *m = msg_of(p);
    /* http_parser starts the next message only on a kept connection */
    m->between = http_should_keep_alive(p) != 0;
    return m->ops->on_done(m->ctx, m) < 0 ? -1 : 0;
}

void h1msg_init(h1msg_t *m, enum http_parser_type type, const h1msg_ops_t *ops, void *ctx)
{
    memset(m, 0, sizeof *m);
    http_parser_init(&m->parser, type);
    m->parser.data = m;
    http_parser_settings_init(&m->settings);
    m->settings.on_message_begin = on_begin;
    m->settings.on_url = on_url;
    m->settings.on_header_field = on_field;
    m->settings.on_header_value = on_value;
    m->settings.on_headers_complete = on_headers_complete;
    m->settings.on_body = on_body;
    m->settings.on_message_complete = on_complete;
    m->ops = ops;
    m->ctx = ctx;
    m->between = true;
    reset_message(m);
}

void h1msg_fast(h1msg_t *m, bool on) { m->fast = on; }

static ssize_t h1msg_feed_parser(h1msg_t *m, const char *p, size_t n);

/* ---- simple whole messages without http_parser (h1msg_fast) */

static bool ieq(const char *a, size_t n, const char *lit, size_t litlen)
{
    return n == litlen && strncasecmp(a, lit, n) == 0;
}

static int method_of(const char *s, size_t n)
{
#define XX(num, name, string)                                                                     \
    if (n == sizeof #string - 1 && memcmp(s, #string, n) == 0)                                    \
        return num;
    HTTP_METHOD_MAP(XX)
#undef XX
    return -1;
}

/* What fast_check learnt of a message it accepts. */
typedef struct fast_msg {
    size_t line_end;     /* after the start line's CRLF */
    size_t head_len;     /* through the blank line */
    long long clen;      /* -1: none */
    int method;          /* requests */
    unsigned status;     /* responses */
    bool http11;
    int conn;            /* 0 none, 1 keep-alive, 2 close */
} fast_msg_t;

/* Whether d[0..n) starts with a whole message of the simple shape: a start
 * line, header lines with token names and values without control characters
 * (none empty, none ending in blanks), at most one Content-Length, no
 * Transfer-Encoding, Upgrade or Proxy-Connection, Connection absent or exactly
 * keep-alive or close, a kept connection, and the whole body. Responses: a
 * status >= 200 but 204 and 304, and a Content-Length. */
static bool fast_check(const h1msg_t *m, const char *d, size_t n, fast_msg_t *f)
{
    memset(f, 0, sizeof *f);
    f->clen = -1;
    const char *end = d + n, *eol = memchr(d, '\n', n);
    if (!eol || eol == d || eol[-1] != '\r')
        return false;
    const char *le = eol - 1; /* the CR */
    if (m->parser.type == HTTP_REQUEST) {
        const char *sp = memchr(d, ' ', (size_t)(le - d));
        if (!sp || (f->method = method_of(d, (size_t)(sp - d))) < 0 || f->method == HTTP_CONNECT)
            return false;
        const char *t = sp + 1, *te = t;
        while (te < le && *te != ' ')
            te++;
        if (te == t || *t != '/' || le - te != 9 || memcmp(te, " HTTP/1.", 8) != 0 ||
            (te[8] != '0' && te[8] != '1'))
            return false;
        if (!h1c_target(t, (size_t)(te - t)))
            return false;
        f->http11 = te[8] == '1';
    } else {
        if (le - d < 13 || memcmp(d, "HTTP/1.", 7) != 0 || (d[7] != '0' && d[7] != '1') || d[8] != ' ' ||
            d[12] != ' ')
            return false;
        for (int i = 9; i < 12; i++) {
            if (d[i] < '0' || d[i] > '9')
                return false;
            f->status = f->status * 10 + (unsigned)(d[i] - '0');
        }
        if (f->status < 200 || f->status == 204 || f->status == 304)
            return false;
        for (const char *q = d + 13; q < le; q++)
            if ((unsigned char)*q < 0x20 && *q != '\t')
                return false;
        f->http11 = d[7] == '1';
    }
    f->line_end = (size_t)(eol + 1 - d);
    const char *p = eol + 1;
    for (;;) {
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
            p += 2;
            break;
        }
        h1c_field_t fl;
        const char *next = h1c_field_line(p, end, &fl);
        if (!next)
            return false; /* a line of another shape, or not whole */
        const char *v = fl.value;
        size_t nl = fl.name_len, vl = fl.value_len;
        if (ieq(p, nl, "Content-Length", 14)) {
            if (f->clen >= 0 || vl > 15)
                return false;
            f->clen = 0;
            for (size_t i = 0; i < vl; i++) {
                if (v[i] < '0' || v[i] > '9')
                    return false;
                f->clen = f->clen * 10 + (v[i] - '0');
            }
        } else if (ieq(p, nl, "Transfer-Encoding", 17) || ieq(p, nl, "Upgrade", 7) ||
                   ieq(p, nl, "Proxy-Connection", 16)) {
            return false;
        } else if (ieq(p, nl, "Connection", 10)) {
            if (f->conn)
                return false;
            f->conn = ieq(v, vl, "keep-alive", 10) ? 1 : ieq(v, vl, "close", 5) ? 2 : 0;
            if (!f->conn)
                return false;
        }
        p = next;
    }
    f->head_len = (size_t)(p - d);
    bool keep = f->conn == 1 || (f->conn == 0 && f->http11);
    if (!keep || f->head_len > HTTP_MAX_HEADER_SIZE)
        return false;
    if (m->parser.type == HTTP_RESPONSE && f->clen < 0)
        return false; /* delimited by the close */
    return (long long)(n - f->head_len) >= (f->clen > 0 ? f->clen : 0);
}

/* Reads one message that fast_check accepted through the callbacks, as
 * http_parser would. Returns the bytes consumed, or -1 with the parser's
 * error set the way http_parser sets it for a failing callback. */
static ssize_t fast_feed(h1msg_t *m, const char *d, const fast_msg_t *f)
{
    http_parser *p = &m->parser;
    const http_parser_settings *s = &m->settings;
    p->flags = (unsigned char)(f->conn == 1 ? F_CONNECTION_KEEP_ALIVE : 0);
    p->http_major = 1;
    p->http_minor = f->http11 ? 1 : 0;
    p->content_length = f->clen >= 0 ? (uint64_t)f->clen : ULLONG_MAX;
    p->upgrade = 0;
    p->uses_transfer_encoding = 0; /* http_parser resets these at a message's start */
    if (p->type == HTTP_REQUEST)
        p->method = (unsigned char)f->method;
    else
        p->status_code = (unsigned short)f->status;
#define FAIL(e)                                                                                   \
    do {                                                                                          \
        p->http_errno = (e);                                                                      \
        return -1;                                                                                \
    } while (0)
    if (s->on_message_begin && s->on_message_begin(p) != 0)
        FAIL(HPE_CB_message_begin);
    if (p->type == HTTP_REQUEST) {
        const char *t = memchr(d, ' ', f->line_end) + 1;
        const char *te = d + f->line_end - 11;
        if (s->on_url(p, t, (size_t)(te - t)) != 0)
            FAIL(HPE_CB_url);
    }
    for (const char *q = d + f->line_end; q < d + f->head_len - 2;) {
        const char *eol = memchr(q, '\n', (size_t)(d + f->head_len - q));
        const char *colon = memchr(q, ':', (size_t)(eol - q));
        const char *v = colon + 1, *ve = eol - 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (s->on_header_field(p, q, (size_t)(colon - q)) != 0)
            FAIL(HPE_CB_header_field);
        if (s->on_header_value(p, v, (size_t)(ve - v)) != 0)
            FAIL(HPE_CB_header_value);
        q = eol + 1;
    }
    int rc = s->on_headers_complete(p);
    if (rc < 0 || rc > 1)
        FAIL(HPE_CB_headers_complete);
    size_t used = f->head_len;
    if (rc == 0 && f->clen > 0) {
        if (s->on_body(p, d + used, (size_t)f->clen) != 0)
            FAIL(HPE_CB_body);
        used += (size_t)f->clen;
    }
    p->content_length = 0;
    if (s->on_message_complete(p) != 0)
        FAIL(HPE_CB_message_complete);
#undef FAIL
    return (ssize_t)used;
}

void h1msg_fini(h1msg_t *m)
{
    free(m->buf);
    free(m->spans);
    free(m->headers.v);
    m->buf = NULL;
    m->spans = NULL;
    m->headers.v = NULL;
    m->buf_cap = m->spans_cap = m->headers_cap = 0;
    reset_message(m);
}

ssize_t h1msg_feed(h1msg_t *m, const char *p, size_t n)
{
    size_t fdone = 0;
    fast_msg_t f;
    while (m->fast && m->between && HTTP_PARSER_ERRNO(&m->parser) == HPE_OK && fdone < n &&
           fast_check(m, p + fdone, n - fdone, &f)) {
        ssize_t r = fast_feed(m, p + fdone, &f);
        if (r < 0) {
            if (m->error[0] == '\0')
                snprintf(m->error, sizeof m->error, "malformed HTTP/1 message at byte %zu: %s",
                         fdone, http_errno_description(HTTP_PARSER_ERRNO(&m->parser)));
            return -1;
        }
        fdone += (size_t)r;
        if (HTTP_PARSER_ERRNO(&m->parser) == HPE_PAUSED)
            return (ssize_t)fdone; /* on_done paused: the rest waits */
    }
    if (fdone > 0) {
        if (fdone == n)
            return (ssize_t)n;
        ssize_t r = h1msg_feed_parser(m, p + fdone, n - fdone);
        return r < 0 ? -1 : (ssize_t)fdone + r;
    }
    return h1msg_feed_parser(m, p, n);
}

static ssize_t h1msg_feed_parser(h1msg_t *m, const char *p, size_t n)
{
    size_t done = http_parser_execute(&m->parser, &m->settings, p, n);
    enum http_errno e = HTTP_PARSER_ERRNO(&m->parser);
    if (e == HPE_OK || e == HPE_PAUSED)
        return (ssize_t)done;
    if (m->error[0] == '\0')
        snprintf(m->error, sizeof m->error, "malformed HTTP/1 message at byte %zu: %s",
                 done, http_errno_description(e));
    return -1;
}

void h1msg_pause(h1msg_t *m, bool paused)
{
    http_parser_pause(&m->parser, paused ? 1 : 0);
}

int h1msg_eof(h1msg_t *m)
{
    /* A zero-length execute is http_parser's end-of-stream signal. */
    http_parser_execute(&m->parser, &m->settings, NULL, 0);
    return HTTP_PARSER_ERRNO(&m->parser) == HPE_OK ? 0 : -1;
}

int64_t h1msg_content_length(const h1msg_t *m)
{
    const char *v = rec_headers_get(&m->headers, "Content-Length");
    if (v == NULL || h1msg_chunked(m))
        return -1;
    return strtoll(v, NULL, 10);
}

#include "h1msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    reset_message(m);
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

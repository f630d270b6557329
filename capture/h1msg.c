#include "h1msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends p[0..n) to a growing NUL-terminated string. */
static int grow(char **s, size_t *len, const char *p, size_t n)
{
    char *t = realloc(*s, *len + n + 1);
    if (t == NULL)
        return -1;
    memcpy(t + *len, p, n);
    *len += n;
    t[*len] = '\0';
    *s = t;
    return 0;
}

static h1msg_t *msg_of(http_parser *p) { return p->data; }

/* Moves the header gathered so far into the list. */
static int commit_header(h1msg_t *m)
{
    int rc = 0;
    /* the gathered strings move into the list: no copy per header (issue 20) */
    if (m->field != NULL && m->value == NULL && grow(&m->value, &m->value_len, "", 0) != 0)
        rc = -1;
    if (rc == 0 && m->field != NULL) {
        rc = rec_headers_take(&m->headers, m->field, m->value); /* frees both on failure */
    } else {
        free(m->field);
        free(m->value);
    }
    m->field = m->value = NULL;
    m->field_len = m->value_len = 0;
    m->in_value = false;
    return rc;
}

static void reset_message(h1msg_t *m)
{
    free(m->url);
    m->url = NULL;
    m->url_len = 0;
    free(m->field);
    free(m->value);
    m->field = m->value = NULL;
    m->field_len = m->value_len = 0;
    m->in_value = false;
    rec_headers_fini(&m->headers);
}

static int on_begin(http_parser *p)
{
    reset_message(msg_of(p));
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    h1msg_t *m = msg_of(p);
    return grow(&m->url, &m->url_len, at, n);
}

static int on_field(http_parser *p, const char *at, size_t n)
{
    h1msg_t *m = msg_of(p);
    if (m->in_value && commit_header(m) != 0)
        return -1;
    return grow(&m->field, &m->field_len, at, n);
}

static int on_value(http_parser *p, const char *at, size_t n)
{
    h1msg_t *m = msg_of(p);
    m->in_value = true;
    return grow(&m->value, &m->value_len, at, n);
}

static int on_headers_complete(http_parser *p)
{
    h1msg_t *m = msg_of(p);
    if (m->field != NULL && commit_header(m) != 0)
        return -1;
    if (m->url == NULL && grow(&m->url, &m->url_len, "", 0) != 0)
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
}

void h1msg_fini(h1msg_t *m)
{
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

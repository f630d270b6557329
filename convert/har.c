#include "har.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "jmend.h"
#include "scn_syntax.h"

/* Where we are, for messages: "<file>: entry <i>: <field>: ...". */
typedef struct har_ctx {
    const char *file;
    long entry;
    mp_error_t *err;
    /* Headers skipped because they would not go on the wire intact (a name
     * that is not a token, CR/LF in a value): counted, first one named. */
    size_t *n_bad_headers;
    char *first_bad_header;   /* 160 bytes */
} har_ctx_t;

static int fail(const har_ctx_t *c, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(const har_ctx_t *c, int code, const char *field, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (c->entry >= 0)
        snprintf(c->err->msg, sizeof c->err->msg, "%s: entry %ld: %s: %s", c->file, c->entry, field, what);
    else
        snprintf(c->err->msg, sizeof c->err->msg, "%s: %s: %s", c->file, field, what);
    c->err->record = c->entry;
    c->err->offset = -1;
    return code;
}

int har_parse_time(const char *s, int64_t *us)
{
    int Y, M, D, h, m, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &sec, &n) != 6 || n == 0)
        return -1;
    const char *p = s + n;
    int64_t frac = 0, scale = 1000000;
    if (*p == '.') {
        for (p++; isdigit((unsigned char)*p); p++) {
            if (scale > 1) {
                scale /= 10;
                frac += (*p - '0') * scale;
            }
        }
    }
    long off = 0;
    if (*p == '+' || *p == '-') {
        int oh = 0, om = 0;
        int sign = *p == '-' ? -1 : 1;
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2 && sscanf(p + 1, "%2d%2d", &oh, &om) != 2)
            return -1;
        off = sign * (oh * 3600L + om * 60L);
    } else if (*p != 'Z' && *p != '\0') {
        return -1;
    }
    struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D,
                    .tm_hour = h, .tm_min = m, .tm_sec = sec};
    time_t t = timegm(&tm);
    if (t == (time_t)-1 && Y != 1969)
        return -1;
    *us = ((int64_t)t - off) * 1000000 + frac;
    return 0;
}

static int b64val(int ch)
{
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+' || ch == '-') return 62;
    if (ch == '/' || ch == '_') return 63;
    return -1;
}

long har_base64_decode(const char *s, size_t len, uint8_t *out)
{
    uint32_t acc = 0;
    int bits = 0;
    long n = 0;
    for (size_t i = 0; i < len; i++) {
        int ch = (unsigned char)s[i];
        if (isspace(ch))
            continue;
        if (ch == '=')
            break;
        int v = b64val(ch);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return n;
}

/* An optional string member that may hold any byte (a body): NULL when
 * absent or null, error when another type. *len is the JSON string's length,
 * NULs included. */
static int opt_bytes(const har_ctx_t *c, const json_t *obj, const char *key, const char *field,
                     const char **out, size_t *len)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    *len = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return fail(c, MP_ERR_INVALID, field, "expected a string");
    *out = json_string_value(v);
    *len = json_string_length(v);
    return 0;
}

/* An optional text member (a name, a URL, a header): as opt_bytes, and a NUL
 * in it is an error, as the text would end there. */
static int opt_str(const har_ctx_t *c, const json_t *obj, const char *key, const char *field,
                   const char **out)
{
    size_t len;
    int rc = opt_bytes(c, obj, key, field, out, &len);
    if (rc == 0 && *out && strlen(*out) != len)
        return fail(c, MP_ERR_INVALID, field, "expected text without NUL bytes (\\u0000 at offset %zu)",
                    strlen(*out));
    return rc;
}

static int req_str(const har_ctx_t *c, const json_t *obj, const char *key, const char *field,
                   const char **out)
{
    int rc = opt_str(c, obj, key, field, out);
    if (rc == 0 && !*out)
        return fail(c, MP_ERR_INVALID, field, "missing (expected a string)");
    return rc;
}

/* name/value pairs of a HAR headers array into hs. */
static int read_headers(const har_ctx_t *c, const json_t *msg, const char *field, rec_headers_t *hs)
{
    json_t *arr = json_object_get(msg, "headers");
    char f[64], fn[80], fv[80];
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return fail(c, MP_ERR_INVALID, field, "expected an array of {name, value}");
    size_t i;
    json_t *h;
    json_array_foreach(arr, i, h) {
        const char *name, *value;
        snprintf(f, sizeof f, "%s[%zu]", field, i);
        snprintf(fn, sizeof fn, "%s.name", f);
        snprintf(fv, sizeof fv, "%s.value", f);
        if (!json_is_object(h))
            return fail(c, MP_ERR_INVALID, f, "expected an object {name, value}");
        if (req_str(c, h, "name", fn, &name) || opt_str(c, h, "value", fv, &value))
            return MP_ERR_INVALID;
        /* Request headers go on the wire again: one that would not stay one
         * header line is skipped (HTTP/2 exports' pseudo-headers such as
         * ":authority" stay for later stages). Response headers are only read
         * (exporters join several Set-Cookie values with LF). */
        const char *tok = name[0] == ':' ? name + 1 : name;
        if (strncmp(field, "request.", 8) == 0 &&
            (!syn_token(tok, strlen(tok)) || (value && !syn_field_value(value, strlen(value))))) {
            if ((*c->n_bad_headers)++ == 0)
                snprintf(c->first_bad_header, 160, "entry %ld %s '%.60s'", c->entry, f, name);
            continue;
        }
        if (rec_headers_add(hs, name, value ? value : "") < 0)
            return fail(c, MP_ERR_IO, f, "out of memory");
    }
    return 0;
}

/* Percent-encodes s[0..len) onto fp (form encoding of HAR postData.params). */
static void form_encode(const char *s, size_t len, FILE *fp)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (isalnum(ch) || (ch && strchr("-._~", ch)))
            fputc(ch, fp);
        else if (ch == ' ')
            fputc('+', fp);
        else
            fprintf(fp, "%%%02X", ch);
    }
}

/* Request body: postData.text, else params form-encoded. */
static int read_post(const har_ctx_t *c, const json_t *req, rec_exchange_t *x)
{
    json_t *pd = json_object_get(req, "postData");
    const char *text;
    size_t len = 0;
    if (!pd || json_is_null(pd))
        return 0;
    if (!json_is_object(pd))
        return fail(c, MP_ERR_INVALID, "request.postData", "expected an object");
    if (opt_bytes(c, pd, "text", "request.postData.text", &text, &len))
        return MP_ERR_INVALID;
    if (len) {
        if (!(x->req_body = malloc(len)))
            return fail(c, MP_ERR_IO, "request.postData", "out of memory");
        memcpy(x->req_body, text, len);
        x->req_body_len = len;
        return 0;
    }
    json_t *params = json_object_get(pd, "params");
    if (!json_is_array(params) || json_array_size(params) == 0)
        return 0;
    char *buf = NULL;
    FILE *fp = open_memstream(&buf, &len);
    if (!fp)
        return fail(c, MP_ERR_IO, "request.postData", "out of memory");
    size_t i;
    json_t *p;
    json_array_foreach(params, i, p) {
        json_t *n = json_object_get(p, "name"), *v = json_object_get(p, "value");
        if (!json_is_string(n)) {
            fclose(fp);
            free(buf);
            return fail(c, MP_ERR_INVALID, "request.postData.params", "item %zu: expected a name string", i);
        }
        if (i)
            fputc('&', fp);
        form_encode(json_string_value(n), json_string_length(n), fp);
        fputc('=', fp);
        if (json_is_string(v))
            form_encode(json_string_value(v), json_string_length(v), fp);
    }
    fclose(fp);
    x->req_body = (uint8_t *)buf;
    x->req_body_len = len;
    return 0;
}

static int read_content(const har_ctx_t *c, const json_t *resp, rec_exchange_t *x)
{
    json_t *content = json_object_get(resp, "content");
    const char *text, *enc;
    size_t len;
    if (!content || json_is_null(content))
        return 0;
    if (!json_is_object(content))
        return fail(c, MP_ERR_INVALID, "response.content", "expected an object");
    if (opt_bytes(c, content, "text", "response.content.text", &text, &len) ||
        opt_str(c, content, "encoding", "response.content.encoding", &enc))
        return MP_ERR_INVALID;
    if (!len)
        return 0;
    x->resp_body = malloc(len + 4);
    if (!x->resp_body)
        return fail(c, MP_ERR_IO, "response.content", "out of memory");
    if (enc && strcasecmp(enc, "base64") == 0) {
        long n = har_base64_decode(text, len, x->resp_body);
        if (n < 0)
            return fail(c, MP_ERR_INVALID, "response.content.text", "expected base64 (encoding is \"base64\")");
        x->resp_body_len = (size_t)n;
    } else {
        memcpy(x->resp_body, text, len);
        x->resp_body_len = len;
    }
    return 0;
}

/* Splits "scheme://authority/path?query#frag" into x. */
static int read_url(const har_ctx_t *c, const char *url, rec_exchange_t *x)
{
    const char *sep = strstr(url, "://");
    if (!sep || sep == url)
        return fail(c, MP_ERR_INVALID, "request.url", "expected an absolute URL, got \"%.80s\"", url);
    const char *auth = sep + 3;
    size_t alen = strcspn(auth, "/?#");
    if (alen == 0)
        return fail(c, MP_ERR_INVALID, "request.url", "expected a host in \"%.80s\"", url);
    const char *path = auth + alen;
    size_t plen = strcspn(path, "#");
    x->scheme = strndup(url, (size_t)(sep - url));
    x->authority = strndup(auth, alen);
    if (plen == 0 || path[0] != '/') {
        x->target = malloc(plen + 2);
        if (x->target) {
            x->target[0] = '/';
            memcpy(x->target + 1, path, plen);
            x->target[plen + 1] = '\0';
        }
    } else {
        x->target = strndup(path, plen);
    }
    if (!x->scheme || !x->authority || !x->target)
        return fail(c, MP_ERR_IO, "request.url", "out of memory");
    for (char *p = x->scheme; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    /* A WebSocket's handshake is an HTTP request to the same origin. */
    if (strcmp(x->scheme, "ws") == 0 || strcmp(x->scheme, "wss") == 0) {
        char *s = strdup(x->scheme[2] ? "https" : "http");
        if (!s)
            return fail(c, MP_ERR_IO, "request.url", "out of memory");
        free(x->scheme);
        x->scheme = s;
    }
    return 0;
}

/* Durations above this (ms) are not a browser's: about 11.6 days. Checked on
 * the double, before any conversion (a cast out of range is undefined). */
#define HAR_MAX_MS 1e9

/* A duration in ms of obj[key] (absent, null or negative: 0, as HAR writes
 * -1 for "not applicable"). */
static int read_ms(const har_ctx_t *c, const json_t *obj, const char *key, const char *field, int64_t *us)
{
    json_t *v = json_object_get(obj, key);
    *us = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v))
        return fail(c, MP_ERR_INVALID, field, "expected a number of milliseconds");
    double ms = json_number_value(v);
    if (!(ms >= -HAR_MAX_MS && ms <= HAR_MAX_MS))  /* NaN too */
        return fail(c, MP_ERR_INVALID, field, "expected milliseconds up to %.0f, got %g", HAR_MAX_MS, ms);
    *us = ms > 0 ? (int64_t)(ms * 1000.0) : 0;
    return 0;
}

/* Timestamps from startedDateTime, time and timings (ms, -1 = not applicable). */
static int read_times(const har_ctx_t *c, const json_t *e, rec_exchange_t *x)
{
    const char *started;
    if (req_str(c, e, "startedDateTime", "startedDateTime", &started))
        return MP_ERR_INVALID;
    if (har_parse_time(started, &x->t_start_us) < 0)
        return fail(c, MP_ERR_INVALID, "startedDateTime", "expected an ISO 8601 date-time, got \"%.40s\"", started);
    int64_t total;
    if (read_ms(c, e, "time", "time", &total))
        return MP_ERR_INVALID;
    x->t_end_us = x->t_start_us + total;
    json_t *tm = json_object_get(e, "timings");
    int64_t before = 0;
    static const char *const phases[] = {"blocked", "dns", "connect", "send", "wait"};
    for (size_t i = 0; json_is_object(tm) && i < sizeof phases / sizeof *phases; i++) {
        char field[32];
        int64_t v;
        snprintf(field, sizeof field, "timings.%s", phases[i]);
        if (read_ms(c, tm, phases[i], field, &v))
            return MP_ERR_INVALID;
        before += v;
    }
    x->t_first_byte_us = x->t_start_us + before;
    if (x->t_first_byte_us > x->t_end_us)
        x->t_first_byte_us = x->t_end_us;
    return 0;
}

/* Set-Cookie headers, or response.cookies when the exporter left them out. */
static int add_cookie_headers(const har_ctx_t *c, const json_t *resp, rec_exchange_t *x)
{
    if (rec_headers_get(&x->resp_headers, "set-cookie"))
        return 0;
    json_t *arr = json_object_get(resp, "cookies");
    size_t i;
    json_t *ck;
    json_array_foreach(arr, i, ck) {
        const char *n, *v;
        char f[64];
        snprintf(f, sizeof f, "response.cookies[%zu]", i);
        if (!json_is_object(ck) || opt_str(c, ck, "name", f, &n) || opt_str(c, ck, "value", f, &v))
            n = NULL;  /* a cookie list is a courtesy of the exporter: an odd one is left out */
        if (!n)
            continue;
        char *line = NULL;
        if (asprintf(&line, "%s=%s", n, v ? v : "") < 0)
            return fail(c, MP_ERR_IO, "response.cookies", "out of memory");
        int rc = rec_headers_add(&x->resp_headers, "Set-Cookie", line);
        free(line);
        if (rc < 0)
            return fail(c, MP_ERR_IO, "response.cookies", "out of memory");
    }
    return 0;
}

/* Chrome's _webSocketMessages, [{type: "send"|"receive", time: epoch seconds,
 * opcode, data}], become the recording's messages, timed from the request's
 * start; a binary message's data is base64 (Chrome's encoding). */
static int read_ws_messages(const har_ctx_t *c, const json_t *e, rec_exchange_t *x)
{
    json_t *a = json_object_get(e, "_webSocketMessages"), *m;
    size_t i;
    if (!a || json_is_null(a))
        return 0;
    if (!json_is_array(a))
        return fail(c, MP_ERR_INVALID, "_webSocketMessages", "expected an array");
    json_array_foreach(a, i, m) {
        char f[64];
        snprintf(f, sizeof f, "_webSocketMessages[%zu]", i);
        const char *type = json_string_value(json_object_get(m, "type"));
        if (!json_is_object(m) || !type || (strcmp(type, "send") != 0 && strcmp(type, "receive") != 0))
            return fail(c, MP_ERR_INVALID, f, "expected an object with type \"send\" or \"receive\"");
        json_t *op = json_object_get(m, "opcode"), *t = json_object_get(m, "time");
        double opv = op ? json_number_value(op) : 1;
        if ((op && !json_is_number(op)) || !(opv >= 0 && opv <= 15) || opv != (double)(int)opv)
            return fail(c, MP_ERR_INVALID, f, "opcode: expected a whole number 0..15");
        double tv = t ? json_number_value(t) : 0;
        if ((t && !json_is_number(t)) || !(tv >= 0 && tv < 1e11))
            return fail(c, MP_ERR_INVALID, f, "time: expected seconds since the epoch");
        const char *data;
        size_t len;
        if (opt_bytes(c, m, "data", f, &data, &len))
            return MP_ERR_INVALID;
        rec_ws_msg_t w = {.dir = type[0] == 's' ? REC_WS_UP : REC_WS_DOWN, .opcode = (uint8_t)opv};
        int64_t at = (int64_t)(tv * 1e6);
        w.t_us = t && at > x->t_start_us ? at - x->t_start_us : 0;
        uint8_t *bin = NULL;
        if (w.opcode == 2 && data) {
            if (!(bin = malloc(len + 1)))
                return fail(c, MP_ERR_IO, f, "out of memory");
            long n = har_base64_decode(data, len, bin);
            if (n < 0) {
                free(bin);
                return fail(c, MP_ERR_INVALID, f, "data: a binary message's data is base64");
            }
            w.data = bin;
            w.len = (size_t)n;
        } else {
            w.data = (uint8_t *)data;
            w.len = len;
        }
        int rc = rec_ws_add(x, &w);
        free(bin);
        if (rc != 0)
            return fail(c, MP_ERR_IO, f, "out of memory");
    }
    return 0;
}

static int read_entry(const har_ctx_t *c, const json_t *e, rec_exchange_t *x)
{
    const char *s;
    if (!json_is_object(e))
        return fail(c, MP_ERR_INVALID, "entry", "expected an object");
    json_t *req = json_object_get(e, "request"), *resp = json_object_get(e, "response");
    if (!json_is_object(req))
        return fail(c, MP_ERR_INVALID, "request", "expected an object");
    if (read_times(c, e, x) || req_str(c, req, "method", "request.method", &s))
        return MP_ERR_INVALID;
    if (!(x->method = strdup(s)))
        return fail(c, MP_ERR_IO, "request.method", "out of memory");
    if (req_str(c, req, "url", "request.url", &s) || read_url(c, s, x))
        return MP_ERR_INVALID;
    if (opt_str(c, req, "httpVersion", "request.httpVersion", &s))
        return MP_ERR_INVALID;
    x->http_version = strdup(s && *s ? s : "HTTP/1.1");
    if (!x->http_version)
        return fail(c, MP_ERR_IO, "request.httpVersion", "out of memory");
    if (read_headers(c, req, "request.headers", &x->req_headers) || read_post(c, req, x))
        return MP_ERR_INVALID;
    if (resp && !json_is_null(resp) && !json_is_object(resp))
        return fail(c, MP_ERR_INVALID, "response", "expected an object");
    json_t *st = json_object_get(resp, "status");
    if (st && !json_is_number(st))
        return fail(c, MP_ERR_INVALID, "response.status", "expected a number");
    double status = st ? json_number_value(st) : 0;
    if (!(status >= 0 && status <= 999) || status != (double)(int)status)  /* range first: no cast out of it */
        return fail(c, MP_ERR_INVALID, "response.status", "expected a whole number 0..999, got %g", status);
    x->status = (int)status;
    if (resp && (read_headers(c, resp, "response.headers", &x->resp_headers) ||
                 add_cookie_headers(c, resp, x) || read_content(c, resp, x)))
        return MP_ERR_INVALID;
    if (read_ws_messages(c, e, x))
        return MP_ERR_INVALID;
    if (x->status == 0) {
        /* Chrome writes status 0 for blocked or cancelled requests. */
        x->flags |= REC_F_ERROR;
        x->error = strdup("no response (status 0)");
    }
    return 0;
}

/* Line and column (from 1, in bytes) of offset off of text[0..len). */
static void line_col(const char *text, size_t len, size_t off, int *line, int *col)
{
    if (off > len)
        off = len;  /* an error at the end of the text */
    *line = 1;
    size_t start = 0;
    for (size_t i = 0; i < off; i++)
        if (text[i] == '\n') {
            (*line)++;
            start = i + 1;
        }
    *col = (int)(off - start) + 1;
}

/* The whole file, without a UTF-8 byte order mark (Fiddler writes one), its
 * strings mended (jmend.h: a note in xs says what was). */
static json_t *load_json(const har_ctx_t *c, xset_t *xs, int *rc)
{
    json_error_t je;
    FILE *fp = fopen(c->file, "rb");
    char *buf = NULL;
    size_t len = 0;
    json_t *root = NULL;
    jmend_t m = {0};
    *rc = MP_ERR_IO;
    if (!fp) {
        fail(c, MP_ERR_IO, "open", "%s", strerror(errno));
        return NULL;
    }
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) {
        fail(c, MP_ERR_IO, "read", "out of memory");
        goto out_fp;
    }
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        fwrite(chunk, 1, n, mem);
    fclose(mem);
    size_t skip = len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    const char *text = buf + skip;
    if (jmend_text(text, len - skip, &m) < 0) {
        fail(c, MP_ERR_IO, "read", "out of memory");
        goto out;
    }
    /* NULs are legal JSON (\u0000; mitmproxy writes them): bodies keep them,
     * text fields refuse them one entry at a time. */
    root = m.text ? json_loadb(m.text, m.len, JSON_ALLOW_NUL, &je) : json_loadb(text, len - skip, JSON_ALLOW_NUL, &je);
    if (!root) {
        *rc = MP_ERR_FORMAT;
        int line = je.line, col = je.column;
        if (m.text)  /* where the error is in the file as written */
            line_col(text, len - skip, jmend_input_offset(&m, je.position > 0 ? (size_t)je.position - 1 : 0), &line, &col);
        fail(c, MP_ERR_FORMAT, "JSON", "line %d column %d: %s", line, col, je.text);
    } else if (m.fixed) {
        int line, col;
        char note[400];
        line_col(text, len - skip, m.first_at, &line, &col);
        snprintf(note, sizeof note, "%s: %zu odd character(s) in strings (control characters read as themselves, "
                 "invalid UTF-8 and lone surrogates as U+FFFD; the first at line %d column %d: %s)", c->file, m.fixed,
                 line, col, m.first_what);
        if (xs_note(xs, note) < 0) {
            json_decref(root);
            root = NULL;
            fail(c, MP_ERR_IO, "read", "out of memory");
        }
    }
out:
    jmend_fini(&m);
    free(buf);
out_fp:
    fclose(fp);
    return root;
}

int har_load(const char *path, size_t file_no, xset_t *xs, mp_error_t *err)
{
    size_t n_bad = 0;
    char first_bad[160] = "";
    har_ctx_t c = {.file = path, .entry = -1, .err = err, .n_bad_headers = &n_bad,
                   .first_bad_header = first_bad};
    int rc;
    json_t *root = load_json(&c, xs, &rc);
    if (!root)
        return rc;
    json_t *entries = json_object_get(json_object_get(root, "log"), "entries");
    rc = 0;
    if (!json_is_object(json_object_get(root, "log")))
        rc = fail(&c, MP_ERR_INVALID, "log", "missing (expected the HAR object {\"log\": {...}})");
    else if (!json_is_array(entries))
        rc = fail(&c, MP_ERR_INVALID, "log.entries", "expected an array");
    size_t i;
    json_t *e;
    char key[32];
    snprintf(key, sizeof key, "%zu|har", file_no);
    json_array_foreach(entries, i, e) {
        if (rc)
            break;
        c.entry = (long)i;
        xs_item_t *it = xs_push(xs);
        if (!it) {
            rc = fail(&c, MP_ERR_IO, "entry", "out of memory");
            break;
        }
        it->file = path;
        it->index = (long)i;
        it->unit = "entry";
        it->key = strdup(key);
        it->x.client = strdup("har");
        const char *page = NULL;
        rc = read_entry(&c, e, &it->x);
        if (rc == 0 && (rc = opt_str(&c, e, "pageref", "pageref", &page)) == 0 && page && !(it->page = strdup(page)))
            rc = fail(&c, MP_ERR_IO, "pageref", "out of memory");
        if (rc == 0 && (!it->key || !it->x.client))
            rc = fail(&c, MP_ERR_IO, "entry", "out of memory");
        if (rc)
            xs_pop(xs);
        if (rc == MP_ERR_INVALID) {  /* one broken entry: skipped and named, the others read */
            rc = xs_skip(xs, path, (long)i, err->msg) < 0 ? fail(&c, MP_ERR_IO, "entry", "out of memory") : 0;
            memset(err, 0, sizeof *err);
        }
    }
    json_decref(root);
    if (rc == 0 && n_bad)
        fprintf(stderr, "aiotest-convert: warning: %s: %zu request header(s) skipped: name not a "
                "token or CR/LF in the value (first: %s)\n", path, n_bad, first_bad);
    return rc;
}

#include "jmend.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jmend_fini(jmend_t *m)
{
    free(m->text);
    free(m->map_out);
    free(m->map_in);
    memset(m, 0, sizeof *m);
}

/* Length of the valid UTF-8 sequence at s[0..len) (RFC 3629: no overlongs,
 * no surrogates, at most U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, size_t len)
{
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, min = 0x10000;
    else
        return 0;
    if (len < n)
        return 0;
    unsigned cp = c & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* The value of the \uXXXX escape at s (s[0] == '\\'), or -1. */
static long escape_u(const char *s, size_t len)
{
    if (len < 6 || s[1] != 'u')
        return -1;
    long v = 0;
    for (int i = 2; i < 6; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

typedef struct out {
    char *buf;
    size_t len, cap;
} out_t;

static int put(out_t *o, const char *p, size_t n)
{
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + n)
            cap *= 2;
        char *b = realloc(o->buf, cap);
        if (!b)
            return -1;
        o->buf = b;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
    return 0;
}

/* Writes repl for in[at .. at+n) and notes the change. */
static int change(jmend_t *m, out_t *o, size_t at, size_t n, const char *repl, const char *what)
{
    if (put(o, repl, strlen(repl)) < 0)
        return -1;
    if (m->fixed++ == 0) {
        m->first_at = at;
        snprintf(m->first_what, sizeof m->first_what, "%s", what);
    }
    if (m->n_map == m->cap_map) {
        size_t cap = m->cap_map ? m->cap_map * 2 : 16;
        size_t *a = realloc(m->map_out, cap * sizeof *a);
        if (a)
            m->map_out = a;
        size_t *b = realloc(m->map_in, cap * sizeof *b);
        if (b)
            m->map_in = b;
        if (!a || !b)
            return -1;
        m->cap_map = cap;
    }
    m->map_out[m->n_map] = o->len;
    m->map_in[m->n_map++] = at + n;
    return 0;
}

int jmend_text(const char *in, size_t len, jmend_t *m)
{
    out_t o = {0};
    bool str = false;
    char what[64];
    memset(m, 0, sizeof *m);
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)in[i];
        int rc = 0;
        size_t n = 1;
        if (!str) {
            str = c == '"';
            rc = put(&o, in + i, 1);
        } else if (c == '"') {
            str = false;
            rc = put(&o, in + i, 1);
        } else if (c == '\\') {
            long v = escape_u(in + i, len - i);
            n = i + 1 < len ? 2 : 1;
            if (v >= 0xD800 && v <= 0xDBFF) {
                long w = escape_u(in + i + 6, len - i - 6);  /* v parsed: len - i >= 6 */
                if (i + 6 < len && in[i + 6] == '\\' && w >= 0xDC00 && w <= 0xDFFF) {
                    n = 12;  /* a proper pair */
                    rc = put(&o, in + i, n);
                } else {
                    n = 6;
                    snprintf(what, sizeof what, "lone surrogate \\u%04lx", v);
                    rc = change(m, &o, i, n, "\\ufffd", what);
                }
            } else if (v >= 0xDC00 && v <= 0xDFFF) {
                n = 6;
                snprintf(what, sizeof what, "lone surrogate \\u%04lx", v);
                rc = change(m, &o, i, n, "\\ufffd", what);
            } else {
                if (v >= 0)
                    n = 6;
                rc = put(&o, in + i, n);
            }
        } else if (c < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", c);
            snprintf(what, sizeof what, "control character 0x%02x", c);
            rc = change(m, &o, i, 1, esc, what);
        } else if ((n = utf8_len((const unsigned char *)in + i, len - i)) > 0) {
            rc = put(&o, in + i, n);
        } else {
            n = 1;
            snprintf(what, sizeof what, "invalid UTF-8 byte 0x%02x", c);
            rc = change(m, &o, i, 1, "\\ufffd", what);
        }
        if (rc < 0) {
            free(o.buf);
            return -1;
        }
        i += n;
    }
    if (m->fixed) {
        m->text = o.buf;
        m->len = o.len;
    } else {
        free(o.buf);
    }
    return 0;
}

size_t jmend_input_offset(const jmend_t *m, size_t off)
{
    size_t lo = 0, hi = m->n_map;  /* the last change ending at or before off */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->map_out[mid] <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return off;
    return m->map_in[lo - 1] + (off - m->map_out[lo - 1]);
}

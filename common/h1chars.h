/* h1chars: the character rules of an HTTP/1 head, for the readers that take a
 * simple whole message without http_parser (http/hc_h1.c for responses,
 * capture/h1msg.c for both directions; issue 20). Inline: they run for every
 * byte of every head.
 *
 * One 256-entry table per character class, indexed by the byte, as nginx,
 * h2o's picohttpparser and http_parser classify: a byte costs one load, and a
 * run is scanned four bytes per test (the entries of a block ANDed, so one
 * branch per block), the block with the stopping byte byte by byte. */
#ifndef AIOTEST_H1CHARS_H
#define AIOTEST_H1CHARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define H1C_X16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
#define H1C_X128(v) H1C_X16(v), H1C_X16(v), H1C_X16(v), H1C_X16(v), \
                    H1C_X16(v), H1C_X16(v), H1C_X16(v), H1C_X16(v)

/* RFC 9110 5.6.2 tchar: 0-9 a-z A-Z !#$%&'*+-.^_`|~ */
static const uint8_t h1c_tchar_tab[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, /* 0x20 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, /* 0x30 */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, /* 0x50 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, /* 0x70 */
    H1C_X128(0),
};

/* What an origin-form target may hold here: RFC 3986 pchar (unreserved,
 * pct-encoded's '%', sub-delims, ':' '@'), '/' and '?'. */
static const uint8_t h1c_target_tab[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    0, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, /* 0x30 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, /* 0x50 */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, /* 0x70 */
    H1C_X128(0),
};

/* What a field value may hold: HT, SP, VCHAR and obs-text 0x80-0xff (RFC 9110
 * 5.5); no other control character, no DEL (what http_parser refuses). */
static const uint8_t h1c_vchar_tab[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x30 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x50 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, /* 0x70 */
    H1C_X128(1),
};

#undef H1C_X128
#undef H1C_X16

/* The first byte of [p, end) that tab does not hold, or end. */
static inline const char *h1c_span(const uint8_t *tab, const char *p, const char *end)
{
    while (end - p >= 4 && (tab[(unsigned char)p[0]] & tab[(unsigned char)p[1]] &
                            tab[(unsigned char)p[2]] & tab[(unsigned char)p[3]]))
        p += 4;
    while (p < end && tab[(unsigned char)*p])
        p++;
    return p;
}

/* true when p[0..n) is a non-empty token */
static inline bool h1c_token(const char *p, size_t n)
{
    return n && h1c_span(h1c_tchar_tab, p, p + n) == p + n;
}

/* true when p[0..n) holds only target characters */
static inline bool h1c_target(const char *p, size_t n)
{
    return h1c_span(h1c_target_tab, p, p + n) == p + n;
}

/* true when no byte of v is a control character other than HT (what
 * http_parser refuses in a field value; obs-text is allowed). */
static inline bool h1c_plain_value(const char *v, size_t n)
{
    return h1c_span(h1c_vchar_tab, v, v + n) == v + n;
}

/* One field line of the simple shape, as the fast readers take it: slices
 * of the reader's buffer. */
typedef struct h1c_field {
    const char *name, *value;
    size_t name_len, value_len;
} h1c_field_t;

/* Reads the field line at p (before end) when it has the simple shape: a
 * token, ':', optional SP / HT, a value of field characters that is not
 * empty and does not end in SP or HT (those two http_parser reads its own
 * way), CRLF. Returns the byte after its LF with *f set, or NULL when the
 * line has another shape or is not whole before end (the caller then leaves
 * the message to http_parser). The name's run stops at the colon and the
 * value's at the CR: each byte is looked at once, with no search for the
 * line's end first. */
static inline const char *h1c_field_line(const char *p, const char *end, h1c_field_t *f)
{
    const char *colon = h1c_span(h1c_tchar_tab, p, end);
    if (colon == p || colon == end || *colon != ':')
        return NULL;
    const char *v = colon + 1;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    /* The first byte that is no field character must be the CR of the CRLF:
     * any other control character (an LF alone too) is not this shape. */
    const char *cr = h1c_span(h1c_vchar_tab, v, end);
    if (cr == v || end - cr < 2 || cr[0] != '\r' || cr[1] != '\n' || cr[-1] == ' ' || cr[-1] == '\t')
        return NULL;
    f->name = p;
    f->name_len = (size_t)(colon - p);
    f->value = v;
    f->value_len = (size_t)(cr - v);
    return cr + 2;
}

#endif

/* vjpos: JSON path -> line and column in the text (vjpos.h). The text has
 * already been parsed by jansson, so only the structure is followed here:
 * strings, brackets and commas, no number or escape decoding beyond skipping. */
#include "vjpos.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct cur {
    const char *p, *end;
} cur_t;

static void ws(cur_t *c)
{
    while (c->p < c->end && strchr(" \t\r\n", *c->p) && *c->p)
        c->p++;
}

/* Passes a string starting at its opening quote. */
static void skip_string(cur_t *c)
{
    for (c->p++; c->p < c->end && *c->p != '"'; c->p++)
        if (*c->p == '\\' && c->p + 1 < c->end)
            c->p++;
    if (c->p < c->end)
        c->p++;
}

/* Passes one value of any kind. */
static void skip_value(cur_t *c)
{
    int depth = 0;
    do {
        ws(c);
        if (c->p >= c->end)
            return;
        char ch = *c->p;
        if (ch == '"') {
            skip_string(c);
        } else if (ch == '{' || ch == '[') {
            depth++;
            c->p++;
        } else if (ch == '}' || ch == ']') {
            depth--;
            c->p++;
        } else if (ch == ',' || ch == ':') {
            c->p++;
        } else {
            /* A scalar. Always moves at least one byte: jansson ends a number at
             * a NUL byte ("[1, 2\0]" parses), and a walk that stood still on
             * it spun forever. */
            do
                c->p++;
            while (c->p < c->end && *c->p && !strchr(",]} \t\r\n", *c->p));
        }
    } while (depth > 0);
}

/* The next path segment: a key (".key" or leading "key") or an index "[i]".
 * Returns false at the end of the path. */
static bool segment(const char **path, const char **key, size_t *klen, long *index)
{
    const char *s = *path;
    if (*s == '.')
        s++;
    if (!*s)
        return false;
    if (*s == '[') {
        *key = NULL;
        *index = strtol(s + 1, (char **)&s, 10);
        if (*s == ']')
            s++;
    } else {
        *key = s;
        *klen = strcspn(s, ".[");
        s += *klen;
    }
    *path = s;
    return true;
}

/* Moves c into the member key (object) or element index (array) of the value
 * at c. Returns false (c unchanged) when there is none. */
static bool enter(cur_t *c, const char *key, size_t klen, long index)
{
    cur_t save = *c;
    ws(c);
    if (c->p >= c->end || (*c->p != '{' && *c->p != '[') || (*c->p == '{') != (key != NULL))
        goto miss;
    bool obj = *c->p == '{';
    c->p++;
    for (long i = 0;; i++) {
        ws(c);
        if (c->p >= c->end || *c->p == '}' || *c->p == ']')
            goto miss;
        if (obj) {
            const char *k = c->p + 1;
            skip_string(c);
            size_t kl = (size_t)(c->p - 1 - k);
            ws(c);
            if (c->p < c->end && *c->p == ':')
                c->p++;
            if (kl == klen && memcmp(k, key, klen) == 0) {
                ws(c);
                return true;
            }
        } else if (i == index) {
            ws(c);
            return true;
        }
        skip_value(c);
        ws(c);
        if (c->p < c->end && *c->p == ',')
            c->p++;
    }
miss:
    *c = save;
    return false;
}

int vjpos_find(const char *text, size_t len, const char *path, int *line, int *col)
{
    cur_t c = { text, text + len };
    ws(&c);
    if (c.p >= c.end)
        return -1;
    const char *key;
    size_t klen = 0;
    long index = 0;
    while (segment(&path, &key, &klen, &index)) {
        if (enter(&c, key, klen, index))
            continue;
        /* A step written as a bare request has no "requests": its
         * requests[0] is the step itself. */
        const char *after = path;
        if (!key || klen != 8 || memcmp(key, "requests", 8) != 0 ||
            !segment(&after, &key, &klen, &index) || key || index != 0)
            break;
        path = after;
    }
    ws(&c);
    *line = 1;
    *col = 1;
    for (const char *q = text; q < c.p; q++) {
        if (*q == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
    return 0;
}

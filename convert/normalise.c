#include "normalise.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int norm_is_uuid(const char *s, size_t len)
{
    if (len != 36)
        return 0;
    for (size_t i = 0; i < len; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return 0;
    }
    return 1;
}

const char *norm_segment(const char *seg, size_t len)
{
    size_t digits = 0, hex = 0, alpha = 0, other = 0;
    if (len == 0)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)seg[i];
        if (isdigit(c))
            digits++;
        else if (isxdigit(c))
            hex++;
        if (isalpha(c))
            alpha++;
        else if (!isdigit(c) && c != '-' && c != '_' && c != '.' && c != '~' && c != '%')
            other++;
    }
    if (digits == len)
        return "{id}";
    if (norm_is_uuid(seg, len))
        return "{uuid}";
    /* A hash: long, hex only, with digits (so "deadbeefcafe" words are rare). */
    if (len >= 16 && digits + hex == len && digits > 0)
        return "{hash}";
    /* A token or a slug with an id: digits mixed with letters, long enough not
     * to be a version ("v2") or a word with a digit ("h2"). */
    if (other == 0 && digits > 0 && alpha > 0 && (len >= 20 || (len >= 8 && digits * 2 >= len)))
        return "{token}";
    return NULL;
}

size_t norm_path(const char *target, int with_query, char *out, size_t cap)
{
    size_t n = 0;
    const char *p = target ? target : "/";
    size_t plen = strcspn(p, "?#");
    char tmp[8192];
    FILE *fp = fmemopen(tmp, sizeof tmp, "w");
    if (!fp || cap == 0) {
        if (fp)
            fclose(fp);
        if (cap)
            out[0] = '\0';
        return 0;
    }
    for (size_t i = 0; i < plen;) {
        if (p[i] == '/') {
            fputc('/', fp);
            i++;
            continue;
        }
        size_t len = strcspn(p + i, "/?#");
        if (len > plen - i)
            len = plen - i;
        const char *ph = norm_segment(p + i, len);
        if (ph)
            fputs(ph, fp);
        else
            fwrite(p + i, 1, len, fp);
        i += len;
    }
    if (plen == 0)
        fputc('/', fp);
    if (with_query && p[plen] == '?') {
        const char *q = p + plen + 1;
        char sep = '?';
        while (*q && *q != '#') {
            size_t len = strcspn(q, "&#"), name = strcspn(q, "=&#");
            if (name > len)
                name = len;
            if (len) {
                fputc(sep, fp);
                fwrite(q, 1, name, fp);
                sep = '&';
            }
            q += len;
            if (*q == '&')
                q++;
        }
    }
    fflush(fp);
    n = (size_t)ftell(fp);
    fclose(fp);
    if (n >= sizeof tmp)
        n = sizeof tmp - 1;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, tmp, n);
    out[n] = '\0';
    return n;
}

char *norm_name(const char *method, const char *host, const char *target)
{
    char path[2048], *s = NULL;
    norm_path(target, 0, path, sizeof path);
    if (asprintf(&s, "%s %s%s", method, host ? host : "", path) < 0)
        return NULL;
    return s;
}

char *norm_key(const char *method, const char *authority, const char *target)
{
    char path[2048], *s = NULL;
    norm_path(target, 1, path, sizeof path);
    if (asprintf(&s, "%s %s%s", method, authority ? authority : "", path) < 0)
        return NULL;
    return s;
}

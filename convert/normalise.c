#include "normalise.h"

#include <ctype.h>
#include <stdbool.h>
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

/* Ids are recognised by shape, not by holding a digit: "bootstrap3-typeahead"
 * or "Wikibooks-logo-35px.png" are names a reader wants to see. */

static bool all_of(const char *s, size_t len, int (*is)(int))
{
    for (size_t i = 0; i < len; i++)
        if (!is((unsigned char)s[i]))
            return false;
    return len > 0;
}

static bool is_vowel(int c)
{
    return strchr("aeiouAEIOU", c) != NULL;
}

/* A random-looking run of the base64url alphabet (a session id, a short
 * video id, an upload name): at least 10 characters, digits in it, and
 * either letters and digits (or lower and upper case) alternating often, few
 * vowels for its length, or mostly digits with a letter ("s22099724422235"). */
static bool looks_random(const char *s, size_t len)
{
    size_t digits = 0, letters = 0, vowels = 0, flips = 0;
    if (len < 10)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '-' && c != '_' && !(c == '=' && i + 2 >= len))
            return false;
        digits += isdigit(c) != 0;
        letters += isalpha(c) != 0;
        vowels += is_vowel(c);
        if (i > 0) {
            unsigned char p = (unsigned char)s[i - 1];
            /* Upper to lower is how a word starts ("Bold"): not counted. */
            flips += (isdigit(p) && isalpha(c)) || (isalpha(p) && isdigit(c)) || (islower(p) && isupper(c));
        }
    }
    if (!digits || !letters)
        return false;
    return flips * 3 >= len || (len >= 16 && digits >= 2 && vowels * 5 < letters) ||
           (digits >= 8 && digits * 4 >= len * 3);
}

/* A hex digest: hex digits only, with a digit and a letter, at least min long. */
static bool is_hex_id(const char *s, size_t len, size_t min)
{
    size_t digits = 0;
    if (len < min || !all_of(s, len, isxdigit))
        return false;
    for (size_t i = 0; i < len; i++)
        digits += isdigit((unsigned char)s[i]) != 0;
    return digits > 0 && digits < len;
}

/* A JSON Web Token: three base64url parts joined by dots, the first "eyJ...". */
static bool is_jwt(const char *s, size_t len)
{
    size_t dots = 0;
    if (len < 30 || strncmp(s, "eyJ", 3) != 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.')
            dots++;
        else if (!isalnum(c) && c != '-' && c != '_' && c != '=')
            return false;
    }
    return dots == 2;
}

const char *norm_segment(const char *seg, size_t len)
{
    if (len == 0)
        return NULL;
    if (all_of(seg, len, isdigit))
        return "{id}";
    if (norm_is_uuid(seg, len))
        return "{uuid}";
    if (is_hex_id(seg, len, 16))
        return "{hash}";
    if (is_jwt(seg, len) || looks_random(seg, len))
        return "{token}";
    return NULL;
}

/* The placeholder for one part of a file-like segment ("e69dbbeec06f7920555b"
 * of "cp_ny.bundle.e69dbbeec06f7920555b.js"): a hex digest of 8 or more, a
 * random-looking token; never a plain number (versions: "1.11.1"). */
static const char *part_placeholder(const char *p, size_t len)
{
    if (is_hex_id(p, len, 8))
        return "{hash}";
    if (looks_random(p, len))
        return "{token}";
    return NULL;
}

/* A bounded output for norm_path: bytes past the capacity are counted, not
 * written (a stdio memory stream per path was a tenth of loading a timed
 * recording). */
typedef struct nbuf {
    char *p;
    size_t n, cap;      /* cap excludes the terminating NUL */
} nbuf_t;

static void nb_put(nbuf_t *b, const char *s, size_t len)
{
    if (b->n < b->cap)
        memcpy(b->p + b->n, s, len < b->cap - b->n ? len : b->cap - b->n);
    b->n += len;
}

static void nb_str(nbuf_t *b, const char *s)
{
    nb_put(b, s, strlen(s));
}

static void nb_chr(nbuf_t *b, char c)
{
    nb_put(b, &c, 1);
}

/* Writes a segment that is not an id as a whole: its parts between '.', '_'
 * and '~' that are UUIDs, and their parts between '-' that are other ids,
 * replaced. */
static void write_parts(const char *seg, size_t len, nbuf_t *b)
{
    for (size_t i = 0; i < len;) {
        size_t n = 0;
        while (i + n < len && !strchr("._~", seg[i + n]))
            n++;
        if (norm_is_uuid(seg + i, n)) {
            nb_str(b, "{uuid}");
        } else {
            for (size_t k = i; k < i + n;) {
                size_t m = 0;
                while (k + m < i + n && seg[k + m] != '-')
                    m++;
                const char *sub = part_placeholder(seg + k, m);
                if (sub)
                    nb_str(b, sub);
                else
                    nb_put(b, seg + k, m);
                k += m;
                if (k < i + n)
                    nb_chr(b, seg[k++]);
            }
        }
        i += n;
        if (i < len)
            nb_chr(b, seg[i++]);
    }
}

size_t norm_path(const char *target, int with_query, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    const char *p = target ? target : "/";
    size_t plen = strcspn(p, "?#");
    nbuf_t b = {out, 0, cap - 1};
    for (size_t i = 0; i < plen;) {
        if (p[i] == '/') {
            nb_chr(&b, '/');
            i++;
            continue;
        }
        size_t len = strcspn(p + i, "/?#");
        if (len > plen - i)
            len = plen - i;
        const char *ph = norm_segment(p + i, len);
        if (ph)
            nb_str(&b, ph);
        else
            write_parts(p + i, len, &b);
        i += len;
    }
    if (plen == 0)
        nb_chr(&b, '/');
    if (with_query && p[plen] == '?') {
        const char *q = p + plen + 1;
        char sep = '?';
        while (*q && *q != '#') {
            size_t len = strcspn(q, "&#"), name = strcspn(q, "=&#");
            if (name > len)
                name = len;
            if (len) {
                nb_chr(&b, sep);
                nb_put(&b, q, name);
                sep = '&';
            }
            q += len;
            if (*q == '&')
                q++;
        }
    }
    size_t n = b.n < b.cap ? b.n : b.cap;
    out[n] = '\0';
    return n;
}

/* "METHOD HOSTPATH", malloc'd (one per step of a recording: no printf). */
static char *join3(const char *method, const char *host, const char *path, size_t plen)
{
    size_t ml = strlen(method), hl = host ? strlen(host) : 0;
    char *s = malloc(ml + 1 + hl + plen + 1);
    if (!s)
        return NULL;
    memcpy(s, method, ml);
    s[ml] = ' ';
    if (hl)
        memcpy(s + ml + 1, host, hl);
    memcpy(s + ml + 1 + hl, path, plen + 1);
    return s;
}

char *norm_name(const char *method, const char *host, const char *target)
{
    char path[2048];
    size_t n = norm_path(target, 0, path, sizeof path);
    return join3(method, host, path, n);
}

char *norm_key(const char *method, const char *authority, const char *target)
{
    char path[2048];
    size_t n = norm_path(target, 1, path, sizeof path);
    return join3(method, authority, path, n);
}

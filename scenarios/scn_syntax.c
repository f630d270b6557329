/* scn_syntax: the grammars of templates, tokens, JSON paths and regexes
 * (scn_syntax.h). replay/template.c compiles templates through
 * syn_template_parts and scenarios/jsonpath.c owns JSON paths, so what loads
 * here compiles there by construction. */
#include "scn_syntax.h"

#include <errno.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_alpha_(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool syn_var_name(const char *s, size_t len)
{
    if (len == 0 || !is_alpha_(s[0]))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!is_alpha_(s[i]) && !(s[i] >= '0' && s[i] <= '9') && s[i] != '.' && s[i] != '-')
            return false;
    return true;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static bool word_is(const char *w, size_t wl, const char *lit)
{
    return wl == strlen(lit) && memcmp(w, lit, wl) == 0;
}

static bool parse_i64(const char *w, size_t wl, long long *out)
{
    char buf[32];
    if (wl == 0 || wl >= sizeof buf)
        return false;
    memcpy(buf, w, wl);
    buf[wl] = 0;
    char *end;
    errno = 0;
    *out = strtoll(buf, &end, 10);
    return errno == 0 && *end == 0;
}

/* "+N", "-N" or, with frac, "+N.F" (F up to 6 digits) in units of unit_us. */
static bool parse_offset(const char *w, size_t wl, bool frac, long long unit_us, long long *out)
{
    if (wl < 2 || (w[0] != '+' && w[0] != '-'))
        return false;
    size_t i = 1, ip = 0;
    long long v = 0;
    while (i < wl && w[i] >= '0' && w[i] <= '9') {
        if (++ip > 12)
            return false; /* beyond 31 000 years in seconds: refused, not wrapped */
        v = v * 10 + (w[i++] - '0');
    }
    if (ip == 0)
        return false;
    v *= unit_us;
    if (i < wl && w[i] == '.' && frac) {
        long long scale = unit_us / 10;
        size_t fd = 0;
        for (i++; i < wl && w[i] >= '0' && w[i] <= '9'; i++, fd++) {
            if (fd >= 6)
                return false;
            v += (w[i] - '0') * scale;
            scale /= 10;
        }
        if (fd == 0)
            return false;
    }
    if (i != wl)
        return false;
    *out = w[0] == '-' ? -v : v;
    return true;
}

int syn_now(const char *const *w, const size_t *wl, size_t n, syn_now_t *out, char *why,
            size_t whylen)
{
    syn_now_t t = {0};
    if (word_is(w[0], wl[0], "now_ms")) {
        t.ms = true;
    } else if (word_is(w[0], wl[0], "now_s")) {
    } else if (wl[0] == 7 && memcmp(w[0], "now_s.", 6) == 0 && w[0][6] >= '1' && w[0][6] <= '9') {
        t.frac = (unsigned)(w[0][6] - '0');
    } else {
        return 0;
    }
    if (n > 2 || (n == 2 && !parse_offset(w[1], wl[1], !t.ms, t.ms ? 1000 : 1000000, &t.off_us))) {
        snprintf(why, whylen, "%.*s takes one offset with a sign, such as %s", (int)wl[0], w[0],
                 t.ms ? "+5000 (ms)" : "-3600 or -1.5 (s)");
        return -1;
    }
    *out = t;
    return 1;
}

/* The inside of one {{ }} starting at byte at, into p. */
static int parse_expr(const char *s, size_t len, size_t at, syn_part_t *p, char *why, size_t whylen)
{
    const char *w[4];
    size_t wl[4], n = 0;
    for (size_t i = 0; i < len;) {
        while (i < len && is_space(s[i]))
            i++;
        if (i == len)
            break;
        size_t start = i;
        while (i < len && !is_space(s[i]))
            i++;
        if (n < 4) {
            w[n] = s + start;
            wl[n] = i - start;
        }
        n++;
    }
    if (n == 0)
        return snprintf(why, whylen, "empty {{}} at byte %zu", at), -1;
    if (word_is(w[0], wl[0], "random_int")) {
        if (n != 3 || !parse_i64(w[1], wl[1], &p->lo) || !parse_i64(w[2], wl[2], &p->hi) || p->lo > p->hi)
            return snprintf(why, whylen, "random_int needs two integers A <= B (at byte %zu)", at), -1;
        p->kind = SYN_PART_RANDOM_INT;
        return 0;
    }
    char nwhy[120];
    int tr = syn_now(w, wl, n < 4 ? n : 4, &p->now, nwhy, sizeof nwhy);
    if (tr < 0)
        return snprintf(why, whylen, "%s (at byte %zu)", nwhy, at), -1;
    if (tr > 0) {
        p->kind = SYN_PART_NOW;
        return 0;
    }
    if (n > 1)
        return snprintf(why, whylen, "unknown generator \"%.*s\" (at byte %zu)", (int)wl[0], w[0], at), -1;
    if (word_is(w[0], wl[0], "uuid")) {
        p->kind = SYN_PART_UUID;
        return 0;
    }
    if (word_is(w[0], wl[0], "user_id")) {
        p->kind = SYN_PART_USER_ID;
        return 0;
    }
    if (!syn_var_name(w[0], wl[0]))
        return snprintf(why, whylen, "bad variable name \"%.*s\" (at byte %zu): expected [A-Za-z_][A-Za-z0-9_.-]*",
                        (int)(wl[0] > 40 ? 40 : wl[0]), w[0], at), -1;
    p->kind = SYN_PART_VAR;
    p->off = (size_t)(w[0] - s) + at + 2;
    p->len = wl[0];
    return 0;
}

int syn_template_parts(const char *text, size_t len, syn_part_fn each, void *arg, char *why,
                       size_t whylen)
{
    size_t i = 0, lit = 0;
    int rc;
    while (i + 1 < len) {
        /* In "{{{x}}}" the template starts at the last '{' of the run. */
        if (text[i] != '{' || text[i + 1] != '{' || (i + 2 < len && text[i + 2] == '{')) {
            i++;
            continue;
        }
        const char *close = memmem(text + i + 2, len - i - 2, "}}", 2);
        if (!close)
            return snprintf(why, whylen, "unterminated {{ at byte %zu: expected }}", i), -1;
        size_t inner = (size_t)(close - (text + i + 2));
        if (memchr(text + i + 2, '{', inner))
            return snprintf(why, whylen, "unterminated {{ at byte %zu: expected }} before the next {", i), -1;
        syn_part_t p = { .kind = SYN_PART_LIT, .off = lit, .len = i - lit, .at = lit };
        if (i > lit && each != NULL && (rc = each(&p, arg)) != 0)
            return rc;
        p = (syn_part_t){ .at = i };
        if (parse_expr(text + i + 2, inner, i, &p, why, whylen) != 0)
            return -1;
        if (each != NULL && (rc = each(&p, arg)) != 0)
            return rc;
        i = (size_t)(close - text) + 2;
        lit = i;
    }
    syn_part_t p = { .kind = SYN_PART_LIT, .off = lit, .len = len - lit, .at = lit };
    if (len > lit && each != NULL && (rc = each(&p, arg)) != 0)
        return rc;
    return 0;
}

int syn_template(const char *text, size_t len, char *why, size_t whylen)
{
    return syn_template_parts(text, len, NULL, NULL, why, whylen);
}

/* RFC 9110 tchar as a bit set: 0-9 a-z A-Z and !#$%&'*+-.^_`|~. A table
 * because every recorded header name is checked (issue 20: the strchr per
 * character was a tenth of --pcap's time). */
static const uint32_t tchar_bits[8] = { 0x00000000u, 0x03ff6cfau, 0xc7fffffeu, 0x57ffffffu, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u };

static bool is_tchar(unsigned char c) { return (tchar_bits[c >> 5] >> (c & 31)) & 1u; }

bool syn_token(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_tchar((unsigned char)s[i]))
            return false;
    return true;
}

/* one pass, no strlen: NUL is not a tchar */
bool syn_is_token(const char *s)
{
    if (s == NULL || *s == '\0')
        return false;
    while (is_tchar((unsigned char)*s))
        s++;
    return *s == '\0';
}

static bool bad_in_value(unsigned char c)
{
    return c == '\r' || c == '\n' || c == '\0';
}

static bool bad_in_target(unsigned char c)
{
    return c <= ' ' || c == 0x7f;
}

bool syn_field_value(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (bad_in_value((unsigned char)s[i]))
            return false;
    return true;
}

bool syn_target(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (bad_in_target((unsigned char)s[i]))
            return false;
    return true;
}

/* Offset of the first literal byte (outside {{ }}) that ok() refuses, or len.
 * The template is well-formed (syn_template), so every {{ has its }}. */
static size_t first_bad_literal(const char *text, size_t len, bool (*ok)(unsigned char))
{
    size_t i = 0;
    while (i < len) {
        if (i + 1 < len && text[i] == '{' && text[i + 1] == '{' &&
            !(i + 2 < len && text[i + 2] == '{')) {
            const char *close = memmem(text + i + 2, len - i - 2, "}}", 2);
            if (close) {
                i = (size_t)(close - text) + 2;
                continue;
            }
        }
        if (!ok((unsigned char)text[i]))
            return i;
        i++;
    }
    return len;
}

static bool ok_name(unsigned char c) { return is_tchar(c) || c == '{' || c == '}'; }
static bool ok_target(unsigned char c) { return !bad_in_target(c); }

int syn_header_name_tpl(const char *text, size_t len, char *why, size_t whylen)
{
    size_t at = first_bad_literal(text, len, ok_name);
    if (len == 0)
        return snprintf(why, whylen, "empty header name: expected a token"), -1;
    if (at < len)
        return snprintf(why, whylen, "byte 0x%02x at %zu in the header name: expected a token "
                        "(letters, digits, !#$%%&'*+-.^_`|~)", (unsigned char)text[at], at), -1;
    return 0;
}

int syn_header_value_tpl(const char *text, size_t len, char *why, size_t whylen)
{
    for (size_t i = 0; i < len; i++)
        if (bad_in_value((unsigned char)text[i]))
            return snprintf(why, whylen, "%s at byte %zu of the header value: CR, LF and NUL are not "
                            "allowed (they would start another header)",
                            text[i] == '\r' ? "CR" : text[i] == '\n' ? "LF" : "NUL", i), -1;
    return 0;
}

int syn_target_tpl(const char *text, size_t len, char *why, size_t whylen)
{
    size_t at = first_bad_literal(text, len, ok_target);
    if (at < len)
        return snprintf(why, whylen, "byte 0x%02x at %zu: a URL holds no control bytes or spaces "
                        "(percent-encode them)", (unsigned char)text[at], at), -1;
    return 0;
}

int syn_json_path(const char *expr, char *why, size_t whylen)
{
    if (!expr[0])
        return snprintf(why, whylen, "empty JSON path: expected $ or a key"), -1;
    bool implicit_root = expr[0] != '$';
    size_t i = implicit_root ? 0 : 1;
    while (expr[i]) {
        if (expr[i] == '.' || (implicit_root && i == 0 && expr[i] != '[')) {
            if (expr[i] == '.')
                i++;
            size_t k = strcspn(expr + i, ".[]");
            if (k == 0)
                return snprintf(why, whylen, "expected a key at byte %zu", i), -1;
            if (k == 1 && expr[i] == '*')
                return snprintf(why, whylen, "wildcards are not supported (byte %zu)", i), -1;
            i += k;
        } else if (expr[i] == '[') {
            size_t open = i++;
            if (expr[i] == '"' || expr[i] == '\'') {
                char q = expr[i++];
                while (expr[i] && expr[i] != q)
                    i += expr[i] == '\\' && expr[i + 1] ? 2 : 1;
                if (!expr[i])
                    return snprintf(why, whylen, "unterminated quoted key at byte %zu", open + 1), -1;
                i++;
            } else {
                size_t d = i + (expr[i] == '-');
                size_t digits = strspn(expr + d, "0123456789");
                if (digits == 0 || digits > 18)
                    return snprintf(why, whylen, "expected an integer index or a quoted key at byte %zu", i), -1;
                i = d + digits;
            }
            if (expr[i] != ']')
                return snprintf(why, whylen, "expected ] at byte %zu for [ at byte %zu", i, open), -1;
            i++;
        } else {
            return snprintf(why, whylen, "expected . or [ at byte %zu", i), -1;
        }
    }
    return 0;
}

int syn_regex(const char *expr, int group, char *why, size_t whylen)
{
    regex_t re;
    int rc = regcomp(&re, expr, REG_EXTENDED);
    if (rc != 0) {
        char msg[160];
        regerror(rc, &re, msg, sizeof msg);
        snprintf(why, whylen, "regex does not compile: %s", msg);
        return -1;
    }
    size_t groups = re.re_nsub;
    regfree(&re);
    if (group < 0 || (size_t)group > groups) {
        snprintf(why, whylen, "group %d does not exist (the regex has %zu)", group, groups);
        return -1;
    }
    return 0;
}

/* scn_syntax: the small languages inside a scenario, checked at load so a bad
 * file fails before a run: {{ }} templates, variable names, tokens, JSON paths
 * and regexes. The one owner of the template grammar: replay/template.c
 * builds its compiled parts from syn_template_parts and keeps only
 * expansion; JSON paths are compiled by scenarios/jsonpath.c.
 * Each check returns 0, or -1 with why (one line, no place prefix). */
#ifndef AIOTEST_SCN_SYNTAX_H
#define AIOTEST_SCN_SYNTAX_H

#include <stdbool.h>
#include <stddef.h>

/* [A-Za-z_][A-Za-z0-9_.-]* */
bool syn_var_name(const char *s, size_t len);

/* text (len bytes, may hold NUL) as a template: every {{ closed by }} with no
 * { between, holding a variable name or a generator (uuid, now_ms, user_id,
 * random_int A B with integers A <= B), spaces and tabs allowed around. */
int syn_template(const char *text, size_t len, char *why, size_t whylen);

/* RFC 9110 token (tchar: letters, digits and !#$%&'*+-.^_`|~), non-empty. */
bool syn_token(const char *s, size_t len);
/* The same on a NUL-terminated string; false for NULL. The one token rule of
 * the tree: the recording codec, the scenario validator and the capture's
 * exchange builder all call it. */
bool syn_is_token(const char *s);
/* Whether a header value may go on the wire: no CR, LF or NUL (they would end
 * the header line and start another: header injection). */
bool syn_field_value(const char *s, size_t len);
/* Whether a request target may go on the wire: no control byte, space or DEL. */
bool syn_target(const char *s, size_t len);

/* The same rules on templates (well-formed per syn_template): the literal text
 * outside {{ }} must keep them (a header name made of tchar and templates; a
 * value without CR, LF, NUL; a URL without controls or spaces). What a
 * template produces is checked again when the replay expands it. */
int syn_header_name_tpl(const char *text, size_t len, char *why, size_t whylen);
int syn_header_value_tpl(const char *text, size_t len, char *why, size_t whylen);
int syn_target_tpl(const char *text, size_t len, char *why, size_t whylen);

/* A time generator: "now_ms", "now_s", or "now_s.N" (seconds with N = 1..9
 * fraction digits), then optionally one offset word with a sign, in the
 * generator's unit: "now_s -3600", "now_s.3 +1.5", "now_ms +5000" (now_ms takes
 * whole milliseconds). */
typedef struct syn_now {
    bool ms;            /* now_ms: milliseconds; else seconds */
    unsigned frac;      /* now_s.N: N fraction digits; 0 otherwise */
    long long off_us;   /* the offset in microseconds */
} syn_now_t;

/* Reads the n words w[]/wl[] of one {{ }}: 1 when they are a well-formed time
 * generator (*out set), 0 when w[0] does not name one, -1 with why when it
 * does but the rest is malformed. */
int syn_now(const char *const *w, const size_t *wl, size_t n, syn_now_t *out, char *why,
            size_t whylen);

/* One part of a template, in order: literal text, or one {{ }}. */
typedef enum syn_part_kind {
    SYN_PART_LIT,        /* text[off, off+len) as is */
    SYN_PART_VAR,        /* a variable: its name is text[off, off+len) */
    SYN_PART_UUID,
    SYN_PART_NOW,        /* now (below) */
    SYN_PART_RANDOM_INT, /* lo <= hi */
    SYN_PART_USER_ID,
} syn_part_kind_t;

typedef struct syn_part {
    syn_part_kind_t kind;
    size_t at;           /* byte offset of the part (of its "{{" for a {{ }}) */
    size_t off, len;     /* LIT and VAR */
    long long lo, hi;    /* RANDOM_INT */
    syn_now_t now;       /* NOW */
} syn_part_t;

/* Called per part; a nonzero return stops the parse and is returned. */
typedef int (*syn_part_fn)(const syn_part_t *p, void *arg);

/* Parses text as syn_template does, calling each (when not NULL) per part in
 * order. Returns 0, -1 with why on a malformed template, or each's nonzero
 * return (why then untouched). */
int syn_template_parts(const char *text, size_t len, syn_part_fn each, void *arg, char *why,
                       size_t whylen);

/* "$" then ".key", "[N]", "[\"key\"]" or "['key']" steps; "$" may be left out. */
int syn_json_path(const char *expr, char *why, size_t whylen);

/* A POSIX extended regex with at least group capture groups. */
int syn_regex(const char *expr, int group, char *why, size_t whylen);

#endif

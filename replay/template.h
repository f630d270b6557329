/* template: {{...}} templates of URLs, headers and bodies, compiled once at
 * load into parts (literal, variable, generator) and expanded per request with
 * no parsing on the hot path.
 *   {{name}}            a per-user variable (empty when unset)
 *   {{uuid}}            a random UUID v4
 *   {{now_ms}}          wall clock ms since the epoch; {{now_ms +5000}}: 5 s ahead
 *   {{now_s}}           wall clock s since the epoch; {{now_s -3600}}: an hour ago
 *   {{now_s.3}}         seconds with 3 fraction digits (1..9); offsets as now_s
 *   {{random_int A B}}  uniform integer in [A, B]
 *   {{user_id}}         the user's global number (0-based, stable across --segment)
 * Variable names are letters, digits, '_', '-', '.'; blanks inside {{ }} are
 * ignored; in "{{{x}}}" the outer braces are literal (JSON bodies).
 * Variables are interned in a symbol table so a user's variables are a plain
 * array indexed by symbol: create a user's tpl_vars after every template,
 * extractor and data source is compiled, or later symbols are out of range. */
#ifndef AIOTEST_TEMPLATE_H
#define AIOTEST_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;

/* ---- symbol table: variable name -> index. Built before threads start,
 * read-only afterwards. */
typedef struct tpl_symtab tpl_symtab_t;
tpl_symtab_t *tpl_symtab_new(void);
void tpl_symtab_free(tpl_symtab_t *st);
/* Index of name, added if new. -1 on out of memory. */
int tpl_symtab_intern(tpl_symtab_t *st, const char *name, size_t len);
/* Index of name or -1 when unknown. */
int tpl_symtab_find(const tpl_symtab_t *st, const char *name);
size_t tpl_symtab_count(const tpl_symtab_t *st);
const char *tpl_symtab_name(const tpl_symtab_t *st, size_t i);

/* ---- a user's variables: one slot per symbol; values owned by the set. */
typedef struct tpl_vars tpl_vars_t;
/* n = tpl_symtab_count at the time; NULL on out of memory. */
tpl_vars_t *tpl_vars_new(size_t n);
void tpl_vars_free(tpl_vars_t *v);
/* Copies value. Returns 0 or -1 (out of memory / index out of range). */
int tpl_vars_set(tpl_vars_t *v, size_t i, const char *value, size_t len);
/* Value and length of slot i (NULL, 0 when unset). */
const char *tpl_vars_get(const tpl_vars_t *v, size_t i, size_t *len);
/* Bytes held by the set (for the per-user memory budget). */
size_t tpl_vars_size(const tpl_vars_t *v);

/* ---- templates. */
typedef struct tpl tpl_t;

/* Compiles text (len bytes, may hold NUL bytes) interning variable names into
 * st. Returns NULL with err ("unterminated {{", "random_int needs two integers",
 * "unknown generator") on a malformed template. */
tpl_t *tpl_compile(tpl_symtab_t *st, const char *text, size_t len, char *err, size_t errlen);
void tpl_free(tpl_t *t);
/* True when the template has no {{ }} part (expansion is a plain copy). */
bool tpl_is_literal(const tpl_t *t);
/* True when expanding t draws from the rng or the clock (uuid, random_int,
 * the time generators): only such requests need a tpl_memo_t. */
bool tpl_draws(const tpl_t *t);
/* The literal text when tpl_is_literal, else NULL. */
const char *tpl_literal(const tpl_t *t, size_t *len);

/* Generators drawn for one request, so that the same generator written in
 * several places (URL, headers, body) gives the same value, and expanding a
 * template twice (a retry) sends the same bytes. Clear it per request. */
#define TPL_MEMO_MAX 8
typedef struct tpl_memo {
    struct {
        int64_t lo, hi;  /* random_int's range (0, 0 for the others) */
        uint64_t a, b;   /* the draw: a value, the clock, or the two halves of a UUID */
    } v[TPL_MEMO_MAX];
    uint8_t kind[TPL_MEMO_MAX];
    uint8_t n;           /* past TPL_MEMO_MAX distinct generators, each use draws anew */
} tpl_memo_t;

static inline void tpl_memo_clear(tpl_memo_t *m)
{
    m->n = 0;
}

typedef struct tpl_ctx {
    const tpl_vars_t *vars;
    uint64_t user_id;
    uint64_t *rng;      /* per-thread xorshift state, advanced by generators */
    tpl_memo_t *memo;   /* NULL: every generator draws anew */
} tpl_ctx_t;

/* A growable byte buffer (NUL kept after len). Zero-initialise; free p. */
typedef struct tpl_buf {
    char *p;
    size_t len, cap;
} tpl_buf_t;

/* Appends n bytes to b (growing it). 0 or -1 (out of memory). */
int tpl_buf_add(tpl_buf_t *b, const void *data, size_t n);

/* Appends the expansion to b, each part rendered once (a generator's value is
 * drawn once and copied, however the buffer grows). Returns 0 or -1 (out of
 * memory; b then holds a partial expansion). */
int tpl_expand_into(const tpl_t *t, const tpl_ctx_t *ctx, tpl_buf_t *b);

/* Appends the expansion to out. Returns bytes appended or -1 (out of memory). */
long tpl_expand(const tpl_t *t, const tpl_ctx_t *ctx, struct evbuffer *out);
/* Expands into buf (NUL-terminated when cap > 0). Returns the full length,
 * which may exceed cap - 1 (then the output is cut). Without ctx->memo a
 * second call draws new generator values, whose length may differ: never
 * measure with one call and fill with another (use tpl_expand_into). */
size_t tpl_expand_buf(const tpl_t *t, const tpl_ctx_t *ctx, char *buf, size_t cap);

/* xorshift64* step used by generators and wait times. */
uint64_t tpl_rand(uint64_t *state);

#endif

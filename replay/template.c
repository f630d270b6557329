/* template: templates compiled once into parts (the grammar is scenarios/scn_syntax.c's), expanded per request. */
#include "template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "clock.h"
#include "scn_syntax.h"

/* ---- symbol table ---- */

struct tpl_symtab {
    char **names;
    size_t n, cap;
};

tpl_symtab_t *tpl_symtab_new(void)
{
    return calloc(1, sizeof(tpl_symtab_t));
}

void tpl_symtab_free(tpl_symtab_t *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++)
        free(st->names[i]);
    free(st->names);
    free(st);
}

static int symtab_find_len(const tpl_symtab_t *st, const char *name, size_t len)
{
    /* Linear: a scenario has a few dozen variables and lookups happen at load only. */
    for (size_t i = 0; i < st->n; i++)
        if (strncmp(st->names[i], name, len) == 0 && st->names[i][len] == '\0')
            return (int)i;
    return -1;
}

int tpl_symtab_intern(tpl_symtab_t *st, const char *name, size_t len)
{
    int i = symtab_find_len(st, name, len);
    if (i >= 0)
        return i;
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 8;
        char **names = realloc(st->names, cap * sizeof(*names));
        if (!names)
            return -1;
        st->names = names;
        st->cap = cap;
    }
    char *copy = strndup(name, len);
    if (!copy)
        return -1;
    st->names[st->n] = copy;
    return (int)st->n++;
}

int tpl_symtab_find(const tpl_symtab_t *st, const char *name)
{
    return symtab_find_len(st, name, strlen(name));
}

size_t tpl_symtab_count(const tpl_symtab_t *st)
{
    return st->n;
}

const char *tpl_symtab_name(const tpl_symtab_t *st, size_t i)
{
    return i < st->n ? st->names[i] : NULL;
}

/* ---- variables ---- */

typedef struct var_slot {
    char *p;     /* NUL-terminated, NULL when unset */
    size_t len;
    size_t cap;  /* kept across sets: re-extracting a token each iteration reuses it */
} var_slot_t;

struct tpl_vars {
    size_t n;
    var_slot_t slot[];
};

tpl_vars_t *tpl_vars_new(size_t n)
{
    tpl_vars_t *v = calloc(1, sizeof(*v) + n * sizeof(var_slot_t));
    if (v)
        v->n = n;
    return v;
}

void tpl_vars_free(tpl_vars_t *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++)
        free(v->slot[i].p);
    free(v);
}

int tpl_vars_set(tpl_vars_t *v, size_t i, const char *value, size_t len)
{
    if (i >= v->n)
        return -1;
    var_slot_t *s = &v->slot[i];
    if (!s->p || s->cap < len + 1) {
        char *p = realloc(s->p, len + 1);
        if (!p)
            return -1;
        s->p = p;
        s->cap = len + 1;
    }
    if (len)
        memcpy(s->p, value, len);
    s->p[len] = '\0';
    s->len = len;
    return 0;
}

const char *tpl_vars_get(const tpl_vars_t *v, size_t i, size_t *len)
{
    if (!v || i >= v->n || !v->slot[i].p) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = v->slot[i].len;
    return v->slot[i].p;
}

size_t tpl_vars_size(const tpl_vars_t *v)
{
    size_t sz = sizeof(*v) + v->n * sizeof(var_slot_t);
    for (size_t i = 0; i < v->n; i++)
        sz += v->slot[i].cap;
    return sz;
}

/* ---- templates ---- */

typedef enum part_kind {
    PART_LIT,
    PART_VAR,
    PART_UUID,
    PART_NOW,        /* now_ms, now_s, now_s.N, with an offset */
    PART_RANDOM_INT,
    PART_USER_ID,
} part_kind_t;

typedef struct part {
    part_kind_t kind;
    union {
        struct { size_t off, len; } lit;   /* slice of tpl.text */
        size_t var;
        struct { int64_t lo, hi; } range;
        syn_now_t now;
    } u;
} part_t;

struct tpl {
    char *text;      /* copy of the source; literal parts point into it */
    size_t len;
    bool draws;      /* a part draws from the rng or the clock */
    part_t *parts;
    size_t n_parts;
};

/* Longest rendering of a generator: a UUID (36) or an int64 (20). */
#define GEN_MAX 40

static int push_part(tpl_t *t, size_t *cap, const part_t *p)
{
    if (t->n_parts == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        part_t *np = realloc(t->parts, nc * sizeof(*np));
        if (!np)
            return -1;
        t->parts = np;
        *cap = nc;
    }
    t->parts[t->n_parts++] = *p;
    return 0;
}

typedef struct compile_ctx {
    tpl_t *t;
    tpl_symtab_t *st;
    size_t cap;
} compile_ctx_t;

/* One part parsed by scenarios/ (the grammar's owner) into its compiled form.
 * 1 on out of memory. */
static int add_part(const syn_part_t *sp, void *arg)
{
    compile_ctx_t *c = arg;
    part_t p = {0};
    switch (sp->kind) {
    case SYN_PART_LIT:
        p.kind = PART_LIT;
        p.u.lit.off = sp->off;
        p.u.lit.len = sp->len;
        break;
    case SYN_PART_VAR: {
        int idx = tpl_symtab_intern(c->st, c->t->text + sp->off, sp->len);
        if (idx < 0)
            return 1;
        p.kind = PART_VAR;
        p.u.var = (size_t)idx;
        break;
    }
    case SYN_PART_UUID: p.kind = PART_UUID; break;
    case SYN_PART_USER_ID: p.kind = PART_USER_ID; break;
    case SYN_PART_NOW:
        p.kind = PART_NOW;
        p.u.now = sp->now;
        break;
    case SYN_PART_RANDOM_INT:
        p.kind = PART_RANDOM_INT;
        p.u.range.lo = sp->lo;
        p.u.range.hi = sp->hi;
        break;
    }
    if (push_part(c->t, &c->cap, &p) < 0)
        return 1;
    c->t->draws |= p.kind == PART_UUID || p.kind == PART_RANDOM_INT || p.kind == PART_NOW;
    return 0;
}

tpl_t *tpl_compile(tpl_symtab_t *st, const char *text, size_t len, char *err, size_t errlen)
{
    tpl_t *t = calloc(1, sizeof(*t));
    if (!t)
        goto oom;
    t->text = malloc(len + 1);
    if (!t->text)
        goto oom;
    if (len)
        memcpy(t->text, text, len);
    t->text[len] = '\0';
    t->len = len;
    compile_ctx_t c = { .t = t, .st = st };
    int rc = syn_template_parts(t->text, len, add_part, &c, err, errlen);
    if (rc > 0)
        goto oom;
    if (rc < 0)
        goto fail;
    return t;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    tpl_free(t);
    return NULL;
}

void tpl_free(tpl_t *t)
{
    if (!t)
        return;
    free(t->parts);
    free(t->text);
    free(t);
}

bool tpl_is_literal(const tpl_t *t)
{
    return t->n_parts == 0 || (t->n_parts == 1 && t->parts[0].kind == PART_LIT);
}

bool tpl_draws(const tpl_t *t)
{
    return t->draws;
}

const char *tpl_literal(const tpl_t *t, size_t *len)
{
    if (!tpl_is_literal(t))
        return NULL;
    if (len)
        *len = t->len;
    return t->text;
}

uint64_t tpl_rand(uint64_t *state)
{
    uint64_t x = *state;
    if (x == 0) /* xorshift is stuck at zero; any fixed seed will do */
        x = 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [lo, hi] without modulo bias (rejects the short last bucket). */
static int64_t rand_range(uint64_t *rng, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;
    if (span == 0) /* the whole int64 range */
        return (int64_t)tpl_rand(rng);
    uint64_t limit = UINT64_MAX - UINT64_MAX % span;
    uint64_t r;
    do
        r = tpl_rand(rng);
    while (r >= limit);
    return (int64_t)((uint64_t)lo + r % span);
}

static size_t render_uuid(uint64_t a, uint64_t c, char *out)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[16];
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(a >> (i * 8));
        b[8 + i] = (uint8_t)(c >> (i * 8));
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    return o;
}

/* Decimal text of v into out (at least 21 bytes); snprintf costs more than
 * the rest of an expansion. */
static size_t render_u64(uint64_t v, char *out)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

static size_t render_i64(int64_t v, char *out)
{
    if (v >= 0)
        return render_u64((uint64_t)v, out);
    out[0] = '-';
    return 1 + render_u64(0 - (uint64_t)v, out + 1);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* A time generator's text for the wall clock now_us (µs since the epoch). */
static size_t render_now(const syn_now_t *t, int64_t now_us, char *out)
{
    int64_t us = now_us + t->off_us;
    if (t->ms)
        return render_i64(floor_div(us, 1000), out);
    int64_t s = floor_div(us, 1000000);
    size_t n = render_i64(s, out);
    if (t->frac) {
        char digits[10];
        int64_t f = us - s * 1000000; /* 0..999999 */
        for (int i = 5; i >= 0; i--, f /= 10)
            digits[i] = (char)('0' + f % 10);
        for (int i = 6; i < 9; i++)
            digits[i] = '0'; /* the clock has µs: further digits are 0 */
        out[n++] = '.';
        memcpy(out + n, digits, t->frac);
        n += t->frac;
    }
    return n;
}

/* The draw of generator p for this request: from the memo when it was drawn
 * already, else drawn (count values from the rng) and remembered. */
static void draw(const part_t *p, const tpl_ctx_t *ctx, int count, uint64_t out[2])
{
    tpl_memo_t *m = ctx->memo;
    int64_t lo = p->kind == PART_RANDOM_INT ? p->u.range.lo : 0;
    int64_t hi = p->kind == PART_RANDOM_INT ? p->u.range.hi : 0;
    if (m)
        for (uint8_t i = 0; i < m->n && i < TPL_MEMO_MAX; i++)
            if (m->kind[i] == (uint8_t)p->kind && m->v[i].lo == lo && m->v[i].hi == hi) {
                out[0] = m->v[i].a;
                out[1] = m->v[i].b;
                return;
            }
    if (p->kind == PART_RANDOM_INT)
        out[0] = (uint64_t)rand_range(ctx->rng, lo, hi), out[1] = 0;
    else if (p->kind == PART_NOW) /* one clock reading for every time of the request */
        out[0] = (uint64_t)clk_wall_us(), out[1] = 0;
    else
        for (int i = 0; i < 2; i++)
            out[i] = i < count ? tpl_rand(ctx->rng) : 0;
    if (m && m->n < TPL_MEMO_MAX) {
        m->kind[m->n] = (uint8_t)p->kind;
        m->v[m->n].lo = lo;
        m->v[m->n].hi = hi;
        m->v[m->n].a = out[0];
        m->v[m->n].b = out[1];
        m->n++;
    }
}

/* The bytes of one part: a slice of the template, of a variable, or of scratch. */
static const char *render_part(const tpl_t *t, const part_t *p, const tpl_ctx_t *ctx,
                               char scratch[GEN_MAX], size_t *len)
{
    switch (p->kind) {
    case PART_LIT:
        *len = p->u.lit.len;
        return t->text + p->u.lit.off;
    case PART_VAR:
        return tpl_vars_get(ctx->vars, p->u.var, len);
    case PART_UUID: {
        uint64_t d[2];
        draw(p, ctx, 2, d);
        *len = render_uuid(d[0], d[1], scratch);
        return scratch;
    }
    case PART_NOW: {
        uint64_t d[2];
        draw(p, ctx, 1, d);
        *len = render_now(&p->u.now, (int64_t)d[0], scratch);
        return scratch;
    }
    case PART_RANDOM_INT: {
        uint64_t d[2];
        draw(p, ctx, 1, d);
        *len = render_i64((int64_t)d[0], scratch);
        return scratch;
    }
    case PART_USER_ID:
        *len = render_u64(ctx->user_id, scratch);
        return scratch;
    }
    *len = 0;
    return scratch;
}

long tpl_expand(const tpl_t *t, const tpl_ctx_t *ctx, struct evbuffer *out)
{
    char scratch[GEN_MAX];
    size_t total = 0;
    for (size_t i = 0; i < t->n_parts; i++) {
        size_t len = 0;
        const char *s = render_part(t, &t->parts[i], ctx, scratch, &len);
        if (len && evbuffer_add(out, s, len) < 0)
            return -1;
        total += len;
    }
    return (long)total;
}

int tpl_buf_add(tpl_buf_t *b, const void *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int tpl_expand_into(const tpl_t *t, const tpl_ctx_t *ctx, tpl_buf_t *b)
{
    char scratch[GEN_MAX];
    if (tpl_buf_add(b, "", 0) != 0) /* a NUL even when the expansion is empty */
        return -1;
    for (size_t i = 0; i < t->n_parts; i++) {
        size_t len = 0;
        const char *s = render_part(t, &t->parts[i], ctx, scratch, &len);
        if (len && tpl_buf_add(b, s, len) != 0)
            return -1;
    }
    return 0;
}

size_t tpl_expand_buf(const tpl_t *t, const tpl_ctx_t *ctx, char *buf, size_t cap)
{
    char scratch[GEN_MAX];
    size_t total = 0;
    for (size_t i = 0; i < t->n_parts; i++) {
        size_t len = 0;
        const char *s = render_part(t, &t->parts[i], ctx, scratch, &len);
        if (len && total + 1 < cap) {
            size_t room = cap - 1 - total;
            memcpy(buf + total, s, len < room ? len : room);
        }
        total += len;
    }
    if (cap > 0)
        buf[total < cap ? total : cap - 1] = '\0';
    return total;
}

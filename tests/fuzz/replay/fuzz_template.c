/* Fuzz target: tpl_compile on any bytes; a compiled template must expand to
 * the same bytes through every expander, generators included: with a memo
 * (one request) a second expansion repeats the first exactly, whatever the
 * rng did in between, and a growable-buffer expansion never reads past what
 * it wrote. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tpl_symtab_t *st = tpl_symtab_new();
    char err[160] = "";
    tpl_t *t = tpl_compile(st, (const char *)data, size, err, sizeof(err));
    if (!t) {
        if (!err[0])
            abort(); /* a refused template must say why */
        tpl_symtab_free(st);
        return 0;
    }
    tpl_vars_t *vars = tpl_vars_new(tpl_symtab_count(st));
    for (size_t i = 0; i < tpl_symtab_count(st); i++)
        tpl_vars_set(vars, i, tpl_symtab_name(st, i), strlen(tpl_symtab_name(st, i)));
    uint64_t rng = size * 0x9E3779B97F4A7C15ull + 7; /* draws differ per input */
    tpl_memo_t memo;
    tpl_memo_clear(&memo);
    tpl_ctx_t ctx = { .vars = vars, .user_id = 3, .rng = &rng, .memo = &memo };

    /* One request: the growable buffer, then the evbuffer and the fixed
     * buffer with the same memo give the same bytes. */
    tpl_buf_t g = {0};
    if (tpl_expand_into(t, &ctx, &g) != 0 || g.p[g.len] != '\0')
        abort();
    /* Past TPL_MEMO_MAX distinct generators later uses draw anew (documented). */
    bool same = memo.n < TPL_MEMO_MAX;
    struct evbuffer *b = evbuffer_new();
    long n = tpl_expand(t, &ctx, b);
    if (n < 0 || (size_t)n != evbuffer_get_length(b))
        abort();
    /* an empty evbuffer pulls up to NULL, which memcmp may not see even for 0 bytes */
    if (same && ((size_t)n != g.len || (g.len && memcmp(evbuffer_pullup(b, -1), g.p, g.len) != 0)))
        abort();
    char small[16];
    size_t m = tpl_expand_buf(t, &ctx, small, sizeof(small));
    if (same && (m != g.len || memcmp(small, g.p, m < sizeof(small) ? m : sizeof(small) - 1) != 0))
        abort();
    if (small[m < sizeof(small) ? m : sizeof(small) - 1] != '\0')
        abort();

    /* A new request draws anew but appends after what is there. */
    tpl_memo_clear(&memo);
    size_t before = g.len;
    if (tpl_expand_into(t, &ctx, &g) != 0 || g.len < before || g.p[g.len] != '\0')
        abort();
    if (tpl_is_literal(t)) {
        size_t len;
        if (!tpl_literal(t, &len) || len != size || g.len != 2 * size)
            abort();
    }
    free(g.p);
    evbuffer_free(b);
    tpl_vars_free(vars);
    tpl_free(t);
    tpl_symtab_free(st);
    return 0;
}

/* Fuzz target: tpl_compile on any bytes; a compiled template must expand to
 * the same length through both expanders. */
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
    uint64_t rng = 7;
    tpl_ctx_t ctx = { .vars = vars, .user_id = 3, .rng = &rng };
    struct evbuffer *b = evbuffer_new();
    long n = tpl_expand(t, &ctx, b);
    char small[16];
    rng = 7; /* the same draws for the second expansion */
    size_t m = tpl_expand_buf(t, &ctx, small, sizeof(small));
    /* now_ms keeps 13 digits for centuries: both lengths agree */
    if (n < 0 || (size_t)n != evbuffer_get_length(b) || (size_t)n != m)
        abort();
    if (small[m < sizeof(small) ? m : sizeof(small) - 1] != '\0')
        abort();
    if (tpl_is_literal(t)) {
        size_t len;
        if (!tpl_literal(t, &len) || len != size)
            abort();
    }
    evbuffer_free(b);
    tpl_vars_free(vars);
    tpl_free(t);
    tpl_symtab_free(st);
    return 0;
}

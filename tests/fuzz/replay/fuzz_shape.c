/* Fuzz target of the shape file parser (replay/shape.c): any text parses or is
 * refused with a message naming the line, never a crash; what parses gives a
 * finite total and user counts and rates within what the stages asked for at
 * every point the engine would query. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    shape_t s;
    char err[256] = "";
    if (shape_parse(text, "fuzz.conf", &s, err, sizeof err) != 0) {
        if (strncmp(err, "fuzz.conf:", 10) != 0)
            abort(); /* a refusal names the file and line */
        free(text);
        return 0;
    }
    uint32_t most = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.stages[i].users > most)
            most = s.stages[i].users;
        if (s.stages[i].kind == SHAPE_RATE && !(isfinite(s.stages[i].rate) && s.stages[i].rate >= 0))
            abort();
    }
    uint64_t total = shape_total_us(&s);
    for (int k = 0; k <= 16; k++) {
        uint64_t t = total / 16 * (uint64_t)k + (uint64_t)k;
        shape_point_t p = shape_at(&s, t);
        if (p.stage > s.n || p.users > most || (p.kind == SHAPE_RATE && !isfinite(p.rate)))
            abort();
    }
    shape_fini(&s);
    free(text);
    return 0;
}

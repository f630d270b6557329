/* Fuzz target: the CSV reader, header row naming the variables. Every row of a
 * parsed file must bind; a refused file must name the place. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csvdata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tpl_symtab_t *st = tpl_symtab_new();
    scn_data_t d = { .path = "fuzz.csv" };
    char err[256] = "";
    csvdata_t *c = csvdata_parse("fuzz.csv", (const char *)data, size, &d, st, err, sizeof(err));
    if (!c) {
        if (strncmp(err, "fuzz.csv:", 9) != 0)
            abort();
        tpl_symtab_free(st);
        return 0;
    }
    if (csvdata_rows(c) == 0 || csvdata_cols(c) == 0 || tpl_symtab_count(st) != csvdata_cols(c))
        abort();
    tpl_vars_t *vars = tpl_vars_new(tpl_symtab_count(st));
    for (size_t r = 0; r <= csvdata_rows(c) && r < 64; r++)
        if (csvdata_bind(c, r, vars) < 0)
            abort();
    tpl_vars_free(vars);
    csvdata_free(c);
    tpl_symtab_free(st);
    return 0;
}

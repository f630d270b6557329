/* Fuzz target of the scenario loader (scenarios/scn_codec.c, scn_validate.c,
 * scn_syntax.c): any bytes load or are refused, never a crash; a scenario that
 * loads saves, loads again, and goes through the JSON view. */
#include <stdint.h>
#include <stdlib.h>

#include "memfile.h"
#include "scenario.h"
#include "view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = memfile(0, data, size), *out = memfile(1, NULL, 0);
    if (!in || !out)
        return 0;
    mp_error_t err;
    scn_scenario_t *s;
    if (scn_load(in, &s, &err) != 0)
        return 0;
    if (scn_save(out, s, &err) != 0)
        abort(); /* loaded means valid, and valid must save */
    scn_scenario_t *again;
    if (scn_load(out, &again, &err) != 0)
        abort();
    json_t *j = view_scenario_to_json(again);
    scn_scenario_t *viewed;
    if (!j || view_scenario_from_json(j, &viewed, &err) != 0)
        abort();
    json_decref(j);
    scn_free(viewed);
    scn_free(again);
    scn_free(s);
    return 0;
}

/* Fuzz target of the JSON view loader (scenarios/view_file.c, view_rec.c,
 * view_scn.c, vjson.c): any bytes as a JSON view convert or are refused,
 * never a crash; what converts dumps back. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "memfile.h"
#include "view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = memfile(0, data, size), *out = memfile(1, NULL, 0);
    if (!in || !out)
        return 0;
    mp_error_t err;
    scn_scenario_t *s;
    if (view_scenario_load_json(in, &s, &err) == 0)
        scn_free(s);
    if (view_json_file_to_mp(in, out, &err) != 0)
        return 0;
    FILE *sink = fopen("/dev/null", "w");
    if (!sink)
        return 0;
    if (view_dump_file(out, sink, &err) != 0)
        abort(); /* what converted must dump */
    fclose(sink);
    return 0;
}

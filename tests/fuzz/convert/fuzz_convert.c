/* Fuzz target of the converter as a whole (convert/: HAR reader or recording
 * reader by content, filters, sessions, classes, steps, correlation,
 * generators): any bytes give a validated scenario or an error that names
 * the file, never a crash or a hang; the counts of the summary line balance. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = memfile(0, data, size);
    if (!in)
        return 0;
    conv_opts_t o;
    conv_opts_init(&o);
    scn_scenario_t *s = NULL;
    conv_stats_t st;
    mp_error_t err;
    int rc = conv_to_scenario(&in, 1, &o, &s, &st, &err);
    if (rc == 0) {
        if (!s)
            abort();  /* success hands over a scenario */
        size_t dropped = st.dropped_error + st.dropped_host + st.dropped_path + st.dropped_static;
        if (st.kept + dropped != st.read || st.kept == 0 || st.requests == 0 || st.classes > st.sessions)
            abort();  /* every exchange read is kept or a counted drop; something to replay */
        scn_free(s);
    } else if (s || !err.msg[0]) {
        abort();  /* an error leaves no scenario and says what went wrong */
    }
    return 0;
}

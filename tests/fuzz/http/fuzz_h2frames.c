/* Fuzz target of the http/ client's HTTP/2 response path (hc.c + hc_h2.c on
 * nghttp2 + hc_racc.c): two GETs on an h2c (prior knowledge) connection
 * whose peer sends a valid server preface (an empty SETTINGS frame), waits
 * until the client has opened both streams (1 and 3), then sends the input
 * as raw frames and closes. The preface is not part of the
 * input so that mutations reach the frames behind it. fuzzpeer checks that
 * every stream's exchange ends exactly once, with a sane status and a
 * bounded body. */
#include <stddef.h>
#include <stdint.h>

#include "fuzzpeer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* SETTINGS, no parameters, stream 0 */
static const uint8_t preface[] = {0, 0, 0, 4, 0, 0, 0, 0, 0};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzzpeer_run(HC_WANT_H2C, 2, 2, preface, sizeof preface, data, size);
    return 0;
}

/* Fuzz target of the http/ client's HTTP/1.1 response path (hc.c + hc_h1.c +
 * hc_racc.c): one GET on a connection whose peer answers the input as the
 * response bytes, then closes; then the same bytes as the answers of three
 * GETs pipelined on one connection (what follows one response is parsed as
 * the next one's). fuzzpeer checks that every exchange ends exactly once,
 * with a sane status and a bounded body. */
#include <stddef.h>
#include <stdint.h>

#include "fuzzpeer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzzpeer_pipeline(0);
    fuzzpeer_run(HC_WANT_H1, 1, 0, NULL, 0, data, size);
    fuzzpeer_pipeline(3);
    fuzzpeer_run(HC_WANT_H1, 3, 0, NULL, 0, data, size);
    return 0;
}

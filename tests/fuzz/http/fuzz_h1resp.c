/* Fuzz target of the http/ client's HTTP/1.1 response path (hc.c + hc_h1.c +
 * hc_racc.c): one GET on a connection whose peer answers the input as the
 * response bytes, then closes. fuzzpeer checks that the exchange ends exactly
 * once, with a sane status and a bounded body. */
#include <stddef.h>
#include <stdint.h>

#include "fuzzpeer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzzpeer_run(HC_WANT_H1, 1, 0, NULL, 0, data, size);
    return 0;
}

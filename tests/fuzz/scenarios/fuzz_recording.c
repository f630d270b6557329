/* Fuzz target of the recording reader (scenarios/rec_io.c, rec_codec.c,
 * mpread.c): any bytes give records then a clean end or an error, never a
 * crash; and whatever was read writes back and reads again the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memfile.h"
#include "recording.h"
#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = memfile(0, data, size), *out = memfile(1, NULL, 0);
    if (!in || !out)
        return 0;
    mp_error_t err;
    mp_file_kind(in, &err);
    rec_header_t h;
    rec_reader_t *r = rec_reader_open(in, &h, &err);
    if (!r)
        return 0;
    rec_writer_t *w = rec_writer_open(out, &h, false, &err);
    if (!w)
        abort(); /* a header that was read must write back */
    long n = 0;
    rec_exchange_t x;
    while (rec_reader_next(r, &x, &err) == MP_OK) {
        if (rec_writer_write(w, &x, &err) != 0)
            abort(); /* a valid exchange that was read must write back */
        rec_exchange_fini(&x);
        n++;
    }
    rec_reader_close(r);
    rec_writer_close(w);
    rec_header_fini(&h);

    r = rec_reader_open(out, &h, &err);
    if (!r)
        abort();
    long again = 0;
    while (rec_reader_next(r, &x, &err) == MP_OK) {
        rec_exchange_fini(&x);
        again++;
    }
    if (again != n)
        abort();
    rec_reader_close(r);
    rec_header_fini(&h);
    return 0;
}

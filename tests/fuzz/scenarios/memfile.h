/* memfile: hands fuzz input to the path-based scenarios/ API without touching
 * the disk: the bytes go into a memfd whose /proc/self/fd path is returned. */
#ifndef AIOTEST_FUZZ_MEMFILE_H
#define AIOTEST_FUZZ_MEMFILE_H

#include <stddef.h>
#include <stdint.h>

/* Slot 0 or 1 (two files for a write-then-read check). Returns the path of a
 * file holding exactly data[0..n), or NULL when the memfd cannot be made. */
const char *memfile(int slot, const uint8_t *data, size_t n);

#endif

/* input: reads one input file of either kind into the exchange set: a HAR
 * (JSON, recognised by its first byte) or an aiotest recording (msgpack). */
#ifndef AIOTEST_CONV_INPUT_H
#define AIOTEST_CONV_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "mp_error.h"
#include "xset.h"

/* Appends every exchange of path to xs; file_no keeps session keys of
 * different files apart. Returns 0 or negative with err naming file,
 * record/entry and field. A recording whose stream breaks after at least one
 * complete exchange (a capture killed mid-write) returns 0 with *damaged set
 * and err naming the broken record: the exchanges before it are kept.
 * path must outlive xs (items borrow it). */
int input_load(const char *path, size_t file_no, xset_t *xs, bool *damaged, mp_error_t *err);

#endif

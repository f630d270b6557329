/* har: HAR 1.2 import (Chrome, Firefox, Charles, Fiddler, Insomnia, mitmproxy
 * exports) into recording exchanges, with jansson. */
#ifndef AIOTEST_CONV_HAR_H
#define AIOTEST_CONV_HAR_H

#include <stddef.h>
#include <stdint.h>

#include "mp_error.h"
#include "xset.h"

/* Appends one item per log.entries[i] of the HAR file path to xs. Every
 * entry of one file gets the session key "<file_no>|har" (one HAR = one
 * browser's visit). Entries without an answer (status 0) are kept with
 * REC_F_ERROR so the filter counts them. Strings may hold NULs (bodies keep
 * them; text fields refuse them); odd characters in strings are mended
 * (jmend.h) with a note in xs. An entry that cannot be read is left out and
 * recorded in xs->skips with "<file>: entry <i>: <field>: expected ...".
 * Returns 0, or MP_ERR_IO / MP_ERR_FORMAT (JSON syntax: line and column) /
 * MP_ERR_INVALID (no log.entries array) with err naming the file. */
int har_load(const char *path, size_t file_no, xset_t *xs, mp_error_t *err);

/* Parses an ISO 8601 date-time ("2017-10-04T13:44:19.253Z", "+02:00" offsets,
 * any number of fraction digits) to µs since the epoch. Returns 0 or -1. */
int har_parse_time(const char *s, int64_t *us);

/* Decodes standard base64 (whitespace ignored). Returns the decoded length,
 * or -1 when s is not base64. out needs 3 * len / 4 + 3 bytes. */
long har_base64_decode(const char *s, size_t len, uint8_t *out);

#endif

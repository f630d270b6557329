/* mp_error: the error report of the scenarios library. Every reader and
 * validator fills one with a message that names the place: file, record index,
 * byte offset (or JSON line) and field. */
#ifndef AIOTEST_MP_ERROR_H
#define AIOTEST_MP_ERROR_H

#include <stdint.h>

typedef struct mp_error {
    char msg[512];   /* complete one-line message, e.g.
                        "rec.mp: record 12 at byte 40961: field 'status': expected an integer" */
    long record;     /* index of the record (0 = header), -1 when not known */
    int64_t offset;  /* byte offset of the record in the file, -1 when not known */
} mp_error_t;

/* Library return codes: 0 ok, negative on error (msg filled). */
enum {
    MP_OK = 0,
    MP_EOF = 1,          /* reader: no more records (not an error) */
    MP_ERR_IO = -1,      /* open/read/write failed */
    MP_ERR_FORMAT = -2,  /* not msgpack, truncated, or a value of the wrong type */
    MP_ERR_VERSION = -3, /* a newer major version than this build reads */
    MP_ERR_INVALID = -4, /* well-formed but violates the spec (missing field, bad value) */
    MP_ERR_KIND = -5,    /* a scenario where a recording was expected, or the reverse */
};

#endif

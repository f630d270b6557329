/* mpread: reading side shared by both file kinds. A stream of top-level
 * msgpack objects read from a FILE with msgpack_unpacker (constant memory per
 * record), and typed field accessors on maps whose errors name the place:
 * "<file>: record <i> at byte <off>: <field>: <what was expected>".
 * Internal to scenarios/. */
#ifndef AIOTEST_MPREAD_H
#define AIOTEST_MPREAD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <msgpack.h>

#include "mp_error.h"

/* Fills err with a formatted message and returns code. Never fails. */
int mp_error_set(mp_error_t *err, int code, long record, int64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

typedef struct mpr_stream mpr_stream_t;

/* Opens path for reading. NULL with err (MP_ERR_IO) on failure. */
mpr_stream_t *mpr_open(const char *path, mp_error_t *err);
/* Reads from fp (not closed by mpr_close); name is used in messages. */
mpr_stream_t *mpr_open_fp(FILE *fp, const char *name, mp_error_t *err);
void mpr_close(mpr_stream_t *s);

/* Next top-level object into *obj (valid until the next call or close).
 * Returns MP_OK, MP_EOF at a clean end (the file ends between records), or
 * MP_ERR_FORMAT/MP_ERR_IO naming the record index and byte offset. */
int mpr_next(mpr_stream_t *s, const msgpack_object **obj, mp_error_t *err);
/* Index (0 = first object) and byte offset of the object last returned. */
long mpr_index(const mpr_stream_t *s);
int64_t mpr_offset(const mpr_stream_t *s);
/* Byte offset just after the last complete object. */
int64_t mpr_end(const mpr_stream_t *s);
const char *mpr_name(const mpr_stream_t *s);
/* Whether the last error was the file ending inside a record (a cut, which
 * an appending writer may drop) rather than bytes that are not msgpack. */
bool mpr_was_cut(const mpr_stream_t *s);

/* Where a field is read, for messages: file, record, offset and a path
 * prefix such as "class 'browse' tasks[2].requests[0]" (may be ""). */
typedef struct mpr_ctx {
    const char *file;
    long record;
    int64_t offset;
    const char *path;
    mp_error_t *err;
} mpr_ctx_t;

/* A context for the object mpr_next last returned. */
mpr_ctx_t mpr_ctx(const mpr_stream_t *s, mp_error_t *err);

/* c with its path formatted into buf (the caller's, which must outlive the
 * result): the context of an array element or a nested map. */
mpr_ctx_t mpr_at(const mpr_ctx_t *c, char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Formats "<file>: record R at byte O: <path.field>: <msg>" into ctx->err
 * and returns code. field may be NULL (the path alone is the place). */
int mpr_fail(const mpr_ctx_t *c, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Value of key in map, or NULL when absent. Returns NULL when map is no map. */
const msgpack_object *mpr_get(const msgpack_object *map, const char *key);

/* A key of a map read field by field: its name and length (MPR_KEY("x")). */
typedef struct mpr_key {
    const char *name;
    size_t len;
} mpr_key_t;
#define MPR_KEY(s) { s, sizeof s - 1 }

/* The values of keys[0..n) in map, found in one pass over the map, into
 * vals[0..n) (NULL: absent; the first of a repeated key, as mpr_get). A map
 * written in the order of keys costs one comparison per entry; mpr_get per
 * key costs a scan each. vals all NULL when map is no map. */
void mpr_fields(const msgpack_object *map, const mpr_key_t *keys, size_t n, const msgpack_object **vals);

/* The typed accessors below on a value already found (v NULL: absent); key
 * names it in messages. Same returns as the map forms. */
int mpr_v_str(const mpr_ctx_t *c, const msgpack_object *v, const char *key, bool required, char **out);
int mpr_v_uint(const mpr_ctx_t *c, const msgpack_object *v, const char *key, bool required, uint64_t *out);
int mpr_v_int(const mpr_ctx_t *c, const msgpack_object *v, const char *key, bool required, int64_t *out);
int mpr_v_bool(const mpr_ctx_t *c, const msgpack_object *v, const char *key, bool *out);
int mpr_v_bin(const mpr_ctx_t *c, const msgpack_object *v, const char *key, uint8_t **out, size_t *len);
int mpr_v_array(const mpr_ctx_t *c, const msgpack_object *v, const char *key, bool required,
                const msgpack_object **out, size_t *n);

/* Typed accessors. Each returns 0, or MP_ERR_FORMAT when the value has the
 * wrong type, or MP_ERR_INVALID when it is absent and required. When absent
 * and optional, *out is left unchanged (the caller's default). Strings are
 * copied (caller frees) and refused when they hold a NUL byte. */
int mpr_str(const mpr_ctx_t *c, const msgpack_object *map, const char *key, bool required, char **out);
int mpr_uint(const mpr_ctx_t *c, const msgpack_object *map, const char *key, bool required, uint64_t *out);
int mpr_int(const mpr_ctx_t *c, const msgpack_object *map, const char *key, bool required, int64_t *out);
int mpr_bool(const mpr_ctx_t *c, const msgpack_object *map, const char *key, bool *out);
/* bin (or str, for hand-made files); *out NULL when empty. */
int mpr_bin(const mpr_ctx_t *c, const msgpack_object *map, const char *key, uint8_t **out, size_t *len);
/* An array (or absent: *out NULL, *n 0). */
int mpr_array(const mpr_ctx_t *c, const msgpack_object *map, const char *key, bool required,
              const msgpack_object **out, size_t *n);

/* Converts one object (not a map entry) to an owned string; field names it. */
int mpr_obj_str(const mpr_ctx_t *c, const msgpack_object *o, const char *field, char **out);
/* One [name, value] pair of strings. */
int mpr_pair(const mpr_ctx_t *c, const msgpack_object *o, const char *field, char **name, char **value);

/* Whether the first object of a file is what the first byte of JSON text
 * decodes to, for a hint in the message. */
bool mpr_looks_like_json(const msgpack_object *first);

/* Reads the "format" and "version" keys of a header map and checks them:
 * format must equal want (else MP_ERR_KIND), major must be <= max_major
 * (else MP_ERR_VERSION). Fills *major, *minor. */
int mpr_header_version(const mpr_ctx_t *c, const msgpack_object *map, const char *want,
                       int max_major, int *major, int *minor);

#endif

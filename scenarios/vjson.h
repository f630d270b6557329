/* vjson: the JSON side of the view (view.h), shared by the recording and the
 * scenario mappings: bytes and strings as UTF-8 text or {"base64": "..."},
 * 64-bit unsigned values, and typed getters whose errors name the JSON path
 * ("classes[1].tasks[0].requests[2].url: expected a string").
 * Internal to scenarios/. */
#ifndef AIOTEST_VJSON_H
#define AIOTEST_VJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "mp_error.h"

/* Where a value is read: the JSON path of the object being read. */
typedef struct vj_ctx {
    char path[240];
    mp_error_t *err;
} vj_ctx_t;

/* Fills err with "<path>.<key>: <msg>" and returns code. */
int vj_fail(const vj_ctx_t *c, int code, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A context for a member (".key"), an element ("[i]") or both. */
vj_ctx_t vj_sub(const vj_ctx_t *c, const char *key);
vj_ctx_t vj_at(const vj_ctx_t *c, const char *key, size_t i);

/* New references; NULL on out of memory. Bytes are a string when valid UTF-8,
 * else {"base64": "..."}; unsigned values above INT64_MAX are a decimal string. */
json_t *vj_bytes(const void *p, size_t n);
json_t *vj_str(const char *s);   /* NULL s gives JSON null */
json_t *vj_uint(uint64_t v);

/* Sets key to v (stolen) unless v is NULL; returns -1 when v was NULL
 * (out of memory), 0 otherwise. */
int vj_set(json_t *o, const char *key, json_t *v);

/* Getters: 0, MP_ERR_INVALID when required and absent, MP_ERR_FORMAT on a
 * wrong type; absent and optional leaves *out unchanged. */
int vj_get_str(const vj_ctx_t *c, const json_t *o, const char *key, bool required, char **out);
int vj_get_bytes(const vj_ctx_t *c, const json_t *o, const char *key, uint8_t **out, size_t *len);
int vj_get_uint(const vj_ctx_t *c, const json_t *o, const char *key, bool required, uint64_t max, uint64_t *out);
int vj_get_int(const vj_ctx_t *c, const json_t *o, const char *key, bool required, int64_t *out);
int vj_get_bool(const vj_ctx_t *c, const json_t *o, const char *key, bool *out);
/* An array member (absent: *out NULL). */
int vj_get_array(const vj_ctx_t *c, const json_t *o, const char *key, bool required, const json_t **out);
/* Checks that o is an object; what names it in the message. */
int vj_want_object(const vj_ctx_t *c, const json_t *o, const char *what);

/* A value (not a member) as a string; field names it ("" for the path alone). */
int vj_value_str(const vj_ctx_t *c, const json_t *v, const char *field, char **out);
/* [name, value] */
int vj_value_pair(const vj_ctx_t *c, const json_t *v, char **name, char **value);
/* [name, value] as JSON; NULL on out of memory. */
json_t *vj_pair(const char *name, const char *value);

/* "format" and "version" of a header object: format must be want (else
 * MP_ERR_KIND), major <= max_major (else MP_ERR_VERSION, the same message as
 * the msgpack readers). Both keys may be left out of a hand-written file:
 * the format is then taken as want and the version as max_major.0. */
int vj_header_version(const vj_ctx_t *c, const json_t *o, const char *want, int max_major,
                      int *major, int *minor);

#endif

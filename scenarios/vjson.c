/* vjson: JSON helpers of the view (vjson.h). Base64 is OpenSSL's. */
#include "vjson.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mpread.h"

int vj_fail(const vj_ctx_t *c, int code, const char *key, const char *fmt, ...)
{
    char what[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *sep = c->path[0] && key && key[0] ? "." : "";
    const char *place = c->path[0] || (key && key[0]) ? "" : "(top level)";
    return mp_error_set(c->err, code, -1, -1, "%s%s%s%s: %s", c->path, sep, key ? key : "", place, what);
}

vj_ctx_t vj_sub(const vj_ctx_t *c, const char *key)
{
    vj_ctx_t s = { .err = c->err };
    /* A path longer than the buffer is cut; the message stays one line. */
    if (snprintf(s.path, sizeof s.path, "%s%s%s", c->path, c->path[0] ? "." : "", key) < 0)
        s.path[0] = 0;
    return s;
}

vj_ctx_t vj_at(const vj_ctx_t *c, const char *key, size_t i)
{
    vj_ctx_t s = { .err = c->err };
    if (snprintf(s.path, sizeof s.path, "%s%s%s[%zu]", c->path, c->path[0] && key[0] ? "." : "", key, i) < 0)
        s.path[0] = 0;
    return s;
}

json_t *vj_bytes(const void *p, size_t n)
{
    if (n == 0)
        return json_string("");
    json_t *s = json_stringn(p, n); /* NULL when not valid UTF-8 */
    if (s)
        return s;
    if (n > (SIZE_MAX - 1) / 4 * 3 - 3)
        return NULL;
    size_t cap = (n + 2) / 3 * 4 + 1;
    unsigned char *b64 = malloc(cap);
    if (!b64)
        return NULL;
    int len = EVP_EncodeBlock(b64, p, (int)n);
    json_t *o = json_object();
    if (o && json_object_set_new(o, "base64", json_stringn((char *)b64, (size_t)len)) != 0) {
        json_decref(o);
        o = NULL;
    }
    free(b64);
    return o;
}

json_t *vj_str(const char *s)
{
    return s ? vj_bytes(s, strlen(s)) : json_null();
}

json_t *vj_uint(uint64_t v)
{
    if (v <= INT64_MAX)
        return json_integer((json_int_t)v);
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return json_string(buf);
}

int vj_set(json_t *o, const char *key, json_t *v)
{
    if (!v)
        return -1;
    return json_object_set_new(o, key, v) == 0 ? 0 : -1;
}

json_t *vj_pair(const char *name, const char *value)
{
    json_t *a = json_array();
    if (a && json_array_append_new(a, vj_str(name)) == 0 && json_array_append_new(a, vj_str(value)) == 0)
        return a;
    json_decref(a);
    return NULL;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "?";
}

/* Decodes {"base64": "..."}; the result has a NUL after the bytes. */
static int decode_b64(const vj_ctx_t *c, const json_t *v, const char *field, uint8_t **out, size_t *len)
{
    const json_t *b = json_object_get(v, "base64");
    if (!b || !json_is_string(b) || json_object_size(v) != 1)
        return vj_fail(c, MP_ERR_FORMAT, field, "expected a string or {\"base64\": \"...\"}, got %s",
                       json_is_object(v) ? "another object" : type_name(v));
    const char *s = json_string_value(b);
    size_t n = json_string_length(b);
    if (n % 4 != 0 || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != n ||
        (n && strchr(s, '=') && strchr(s, '=') < s + n - 2) || (n && s[n - 2] == '=' && s[n - 1] != '=') ||
        n > INT32_MAX)
        return vj_fail(c, MP_ERR_FORMAT, field, "base64: expected groups of 4 characters of A-Z a-z 0-9 + / with = padding");
    uint8_t *buf = malloc(n / 4 * 3 + 1);
    if (!buf)
        return vj_fail(c, MP_ERR_IO, field, "out of memory");
    int got = n ? EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n) : 0;
    if (got < 0) {
        free(buf);
        return vj_fail(c, MP_ERR_FORMAT, field, "base64: invalid");
    }
    /* EVP_DecodeBlock counts the padding as zero bytes. */
    size_t pad = n >= 2 && s[n - 2] == '=' ? 2 : n >= 1 && s[n - 1] == '=' ? 1 : 0;
    *len = (size_t)got - pad;
    buf[*len] = 0;
    *out = buf;
    return 0;
}

/* Bytes of a string or base64 value; *out is NULL for empty. */
static int value_bytes(const vj_ctx_t *c, const json_t *v, const char *field, uint8_t **out, size_t *len)
{
    uint8_t *b = NULL;
    size_t n = 0;
    if (json_is_string(v)) {
        n = json_string_length(v);
        b = malloc(n + 1);
        if (!b)
            return vj_fail(c, MP_ERR_IO, field, "out of memory");
        memcpy(b, json_string_value(v), n);
        b[n] = 0;
    } else {
        int rc = decode_b64(c, v, field, &b, &n);
        if (rc != 0)
            return rc;
    }
    if (n == 0) {
        free(b);
        b = NULL;
    }
    *out = b;
    *len = n;
    return 0;
}

int vj_value_str(const vj_ctx_t *c, const json_t *v, const char *field, char **out)
{
    uint8_t *b;
    size_t n;
    if (!json_is_string(v) && !json_is_object(v))
        return vj_fail(c, MP_ERR_FORMAT, field, "expected a string, got %s", type_name(v));
    int rc = value_bytes(c, v, field, &b, &n);
    if (rc != 0)
        return rc;
    if (n && memchr(b, 0, n)) {
        free(b);
        return vj_fail(c, MP_ERR_FORMAT, field, "string holds a NUL byte");
    }
    if (!b && !(b = (uint8_t *)strdup("")))
        return vj_fail(c, MP_ERR_IO, field, "out of memory");
    free(*out);
    *out = (char *)b;
    return 0;
}

int vj_value_pair(const vj_ctx_t *c, const json_t *v, char **name, char **value)
{
    if (!json_is_array(v) || json_array_size(v) != 2)
        return vj_fail(c, MP_ERR_FORMAT, NULL, "expected a [name, value] array of two strings, got %s",
                       type_name(v));
    int rc = vj_value_str(c, json_array_get(v, 0), NULL, name);
    if (rc == 0)
        rc = vj_value_str(c, json_array_get(v, 1), NULL, value);
    return rc;
}

static int absent(const vj_ctx_t *c, const char *key, bool required, const char *want)
{
    return required ? vj_fail(c, MP_ERR_INVALID, key, "missing (expected %s)", want) : 0;
}

int vj_get_str(const vj_ctx_t *c, const json_t *o, const char *key, bool required, char **out)
{
    const json_t *v = json_object_get(o, key);
    if (!v)
        return absent(c, key, required, "a string");
    return vj_value_str(c, v, key, out);
}

int vj_get_bytes(const vj_ctx_t *c, const json_t *o, const char *key, uint8_t **out, size_t *len)
{
    const json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_string(v) && !json_is_object(v))
        return vj_fail(c, MP_ERR_FORMAT, key, "expected a string or {\"base64\": \"...\"}, got %s", type_name(v));
    uint8_t *b;
    size_t n;
    int rc = value_bytes(c, v, key, &b, &n);
    if (rc == 0) {
        free(*out);
        *out = b;
        *len = n;
    }
    return rc;
}

int vj_get_uint(const vj_ctx_t *c, const json_t *o, const char *key, bool required, uint64_t max, uint64_t *out)
{
    const json_t *v = json_object_get(o, key);
    if (!v)
        return absent(c, key, required, "an unsigned integer");
    uint64_t u;
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        u = (uint64_t)json_integer_value(v);
    } else if (json_is_string(v) && strspn(json_string_value(v), "0123456789") == json_string_length(v) &&
               json_string_length(v) > 0 && json_string_length(v) <= 20) {
        char *end;
        errno = 0;
        unsigned long long x = strtoull(json_string_value(v), &end, 10);
        if (errno)
            return vj_fail(c, MP_ERR_FORMAT, key, "%s is out of range", json_string_value(v));
        u = x;
    } else {
        return vj_fail(c, MP_ERR_FORMAT, key, "expected an unsigned integer, got %s%s", type_name(v),
                       json_is_integer(v) ? " below 0" : "");
    }
    if (u > max)
        return vj_fail(c, MP_ERR_FORMAT, key, "%llu is out of range (max %llu)", (unsigned long long)u,
                       (unsigned long long)max);
    *out = u;
    return 0;
}

int vj_get_int(const vj_ctx_t *c, const json_t *o, const char *key, bool required, int64_t *out)
{
    const json_t *v = json_object_get(o, key);
    if (!v)
        return absent(c, key, required, "an integer");
    if (!json_is_integer(v))
        return vj_fail(c, MP_ERR_FORMAT, key, "expected an integer, got %s", type_name(v));
    *out = json_integer_value(v);
    return 0;
}

int vj_get_bool(const vj_ctx_t *c, const json_t *o, const char *key, bool *out)
{
    const json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return vj_fail(c, MP_ERR_FORMAT, key, "expected true or false, got %s", type_name(v));
    *out = json_is_true(v);
    return 0;
}

int vj_get_array(const vj_ctx_t *c, const json_t *o, const char *key, bool required, const json_t **out)
{
    *out = NULL;
    const json_t *v = json_object_get(o, key);
    if (!v)
        return absent(c, key, required, "an array");
    if (!json_is_array(v))
        return vj_fail(c, MP_ERR_FORMAT, key, "expected an array, got %s", type_name(v));
    *out = v;
    return 0;
}

int vj_want_object(const vj_ctx_t *c, const json_t *o, const char *what)
{
    if (json_is_object(o))
        return 0;
    return vj_fail(c, MP_ERR_FORMAT, NULL, "expected %s object, got %s", what, type_name(o));
}

int vj_header_version(const vj_ctx_t *c, const json_t *o, const char *want, int max_major,
                      int *major, int *minor)
{
    int rc = vj_want_object(c, o, "a header");
    if (rc != 0)
        return rc;
    const json_t *f = json_object_get(o, "format");
    if (f && (!json_is_string(f) || strcmp(json_string_value(f), want) != 0))
        return vj_fail(c, MP_ERR_KIND, "format", "is %s%.64s%s, expected '%s'", json_is_string(f) ? "'" : "",
                       json_is_string(f) ? json_string_value(f) : type_name(f), json_is_string(f) ? "'" : "",
                       want);
    *major = max_major;
    *minor = 0;
    const json_t *v = json_object_get(o, "version");
    if (!v)
        return 0;
    if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_integer(json_array_get(v, 0)) ||
        !json_is_integer(json_array_get(v, 1)) || json_integer_value(json_array_get(v, 0)) < 1 ||
        json_integer_value(json_array_get(v, 0)) > 65535 || json_integer_value(json_array_get(v, 1)) < 0 ||
        json_integer_value(json_array_get(v, 1)) > 65535)
        return vj_fail(c, MP_ERR_FORMAT, "version", "expected [major, minor] (two integers, major >= 1)");
    int maj = (int)json_integer_value(json_array_get(v, 0)), min = (int)json_integer_value(json_array_get(v, 1));
    if (maj > max_major)
        return mp_error_set(c->err, MP_ERR_VERSION, -1, -1,
                            "version %d.%d is newer than this build reads (%d.x); upgrade aiotest",
                            maj, min, max_major);
    *major = maj;
    *minor = min;
    return 0;
}

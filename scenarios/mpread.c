/* mpread: streaming msgpack reader and typed field accessors (mpread.h). */
#include "mpread.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mpskim.h"

#define MPR_CHUNK 32768

struct mpr_stream {
    FILE *fp;
    bool own_fp;
    char *name;
    msgpack_unpacker up;
    msgpack_object obj; /* the object last returned; its memory is the unpacker's zone */
    bool live;          /* obj's zone not yet cleared */
    int64_t fed;      /* bytes handed to the unpacker so far */
    int64_t start;    /* offset of the object last returned */
    int64_t end;      /* offset just after it */
    long index;       /* index of the object last returned, -1 before the first */
    bool eof;
    bool cut;         /* the last error was the end of the file inside a record */
    mpskim_t skim;    /* refuses impossible element counts before msgpack-c sees them */
};

int mp_error_set(mp_error_t *err, int code, long record, int64_t offset, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->record = record;
    err->offset = offset;
    return code;
}

mpr_stream_t *mpr_open_fp(FILE *fp, const char *name, mp_error_t *err)
{
    mpr_stream_t *s = calloc(1, sizeof *s);
    if (!s)
        goto fail;
    s->name = strdup(name);
    if (!s->name)
        goto fail_s;
    if (!msgpack_unpacker_init(&s->up, MPR_CHUNK))
        goto fail_name;
    s->fp = fp;
    s->index = -1;
    return s;
fail_name:
    free(s->name);
fail_s:
    free(s);
fail:
    mp_error_set(err, MP_ERR_IO, -1, -1, "%s: out of memory", name);
    return NULL;
}

mpr_stream_t *mpr_open(const char *path, mp_error_t *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        mp_error_set(err, MP_ERR_IO, -1, -1, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    mpr_stream_t *s = mpr_open_fp(fp, path, err);
    if (!s) {
        fclose(fp);
        return NULL;
    }
    s->own_fp = true;
    return s;
}

void mpr_close(mpr_stream_t *s)
{
    if (!s)
        return;
    msgpack_unpacker_destroy(&s->up);
    if (s->own_fp)
        fclose(s->fp);
    free(s->name);
    free(s);
}

/* Feeds the next chunk of the file. Returns bytes read (0 at end) or -1. */
static long feed(mpr_stream_t *s)
{
    if (s->eof)
        return 0;
    if (!msgpack_unpacker_reserve_buffer(&s->up, MPR_CHUNK))
        return -1;
    char *buf = msgpack_unpacker_buffer(&s->up);
    size_t n = fread(buf, 1, msgpack_unpacker_buffer_capacity(&s->up), s->fp);
    if (n == 0) {
        if (ferror(s->fp))
            return -1;
        s->eof = true;
        return 0;
    }
    struct stat st;
    int64_t size = fstat(fileno(s->fp), &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : INT64_MAX;
    size_t ok = mpskim_feed(&s->skim, (const uint8_t *)buf, n, size);
    if (ok < n)
        s->eof = true; /* nothing after the refused header is parsed */
    n = ok;
    msgpack_unpacker_buffer_consumed(&s->up, n);
    s->fed += (int64_t)n;
    return (long)n;
}

int mpr_next(mpr_stream_t *s, const msgpack_object **obj, mp_error_t *err)
{
    long rec = s->index + 1;
    int64_t at = s->end;
    /* One zone for the whole stream, cleared when the caller is done with
     * the last object (msgpack_unpacker_next makes and frees a zone of its
     * own per record: an allocation that also sent malloc consolidating).
     * Clearing runs the zone's finalizers, which release the read buffers
     * that object's strings pointed into. */
    if (s->live) {
        msgpack_unpacker_reset_zone(&s->up);
        s->live = false;
    }
    for (;;) {
        int r = msgpack_unpacker_execute(&s->up);
        if (r > 0) {
            s->obj = msgpack_unpacker_data(&s->up);
            msgpack_unpacker_reset(&s->up);
            s->live = true;
            s->index = rec;
            s->start = at;
            /* The C API has no nonparsed_size; used - off is what it would return. */
            s->end = s->fed - (int64_t)(s->up.used - s->up.off);
            *obj = &s->obj;
            return MP_OK;
        }
        if (r < 0 && r != MSGPACK_UNPACK_NOMEM_ERROR)
            return mp_error_set(err, MP_ERR_FORMAT, rec, at,
                                "%s: record %ld at byte %lld: not valid msgpack",
                                s->name, rec, (long long)at);
        if (r < 0)
            return mp_error_set(err, MP_ERR_FORMAT, rec, at,
                                "%s: record %ld at byte %lld: declares a size that does not fit in memory",
                                s->name, rec, (long long)at);
        long n = feed(s);
        if (n < 0)
            return mp_error_set(err, MP_ERR_IO, rec, at, "%s: record %ld at byte %lld: read failed: %s",
                                s->name, rec, (long long)at, strerror(errno));
        if (n == 0) {
            s->cut = s->fed != at;
            if (s->skim.bad_count)
                return mp_error_set(err, MP_ERR_FORMAT, rec, at,
                                    "%s: record %ld at byte %lld: truncated (the value at byte %lld declares %llu "
                                    "elements but the file ends at byte %lld)",
                                    s->name, rec, (long long)at, (long long)s->skim.bad_at,
                                    (unsigned long long)s->skim.bad_count, (long long)s->skim.file_size);
            if (s->fed == at)
                return MP_EOF;
            return mp_error_set(err, MP_ERR_FORMAT, rec, at,
                                "%s: record %ld at byte %lld: truncated (file ends at byte %lld inside the record)",
                                s->name, rec, (long long)at, (long long)s->fed);
        }
    }
}

long mpr_index(const mpr_stream_t *s) { return s->index; }
int64_t mpr_offset(const mpr_stream_t *s) { return s->start; }
int64_t mpr_end(const mpr_stream_t *s) { return s->end; }
const char *mpr_name(const mpr_stream_t *s) { return s->name; }
bool mpr_was_cut(const mpr_stream_t *s) { return s->cut; }

mpr_ctx_t mpr_ctx(const mpr_stream_t *s, mp_error_t *err)
{
    return (mpr_ctx_t){ .file = s->name, .record = s->index, .offset = s->start, .path = "", .err = err };
}

mpr_ctx_t mpr_at(const mpr_ctx_t *c, char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    mpr_ctx_t r = *c;
    r.path = buf;
    return r;
}

int mpr_fail(const mpr_ctx_t *c, int code, const char *field, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *path = c->path ? c->path : "";
    /* "class 'c' weight" but "hosts[0].base_url": a quoted name ends a word. */
    size_t pl = strlen(path);
    const char *dot = pl && field ? (path[pl - 1] == '\'' ? " " : ".") : "";
    char place[256];
    if (path[0])
        snprintf(place, sizeof place, "%s%s%s", path, dot, field ? field : "");
    else
        snprintf(place, sizeof place, "field '%s'", field ? field : "?");
    return mp_error_set(c->err, code, c->record, c->offset, "%s: record %ld at byte %lld: %s: %s",
                        c->file, c->record, (long long)c->offset, place, what);
}

const msgpack_object *mpr_get(const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t klen = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
            memcmp(k->via.str.ptr, key, klen) == 0)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

void mpr_fields(const msgpack_object *map, const mpr_key_t *keys, size_t n, const msgpack_object **vals)
{
    for (size_t j = 0; j < n; j++)
        vals[j] = NULL;
    if (!map || map->type != MSGPACK_OBJECT_MAP || n == 0)
        return;
    size_t next = 0; /* where the key after the last one found is: the writer's order */
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type != MSGPACK_OBJECT_STR)
            continue;
        for (size_t t = 0; t < n; t++) {
            size_t j = next + t < n ? next + t : next + t - n;
            if (keys[j].len == k->via.str.size && memcmp(keys[j].name, k->via.str.ptr, keys[j].len) == 0) {
                if (!vals[j])
                    vals[j] = &map->via.map.ptr[i].val;
                next = j + 1 < n ? j + 1 : 0;
                break;
            }
        }
    }
}

static const char *type_name(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: return "nil";
    case MSGPACK_OBJECT_BOOLEAN: return "a boolean";
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "an integer";
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return "a float";
    case MSGPACK_OBJECT_STR: return "a string";
    case MSGPACK_OBJECT_ARRAY: return "an array";
    case MSGPACK_OBJECT_MAP: return "a map";
    case MSGPACK_OBJECT_BIN: return "bin";
    case MSGPACK_OBJECT_EXT: return "ext";
    }
    return "unknown";
}

/* An absent value: an error when required, else 0 (the caller's default stays). */
static int absent(const mpr_ctx_t *c, const char *key, bool required, const char *want)
{
    return required ? mpr_fail(c, MP_ERR_INVALID, key, "missing (expected %s)", want) : 0;
}

int mpr_obj_str(const mpr_ctx_t *c, const msgpack_object *o, const char *field, char **out)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return mpr_fail(c, MP_ERR_FORMAT, field, "expected a string, got %s", type_name(o));
    if (memchr(o->via.str.ptr, 0, o->via.str.size))
        return mpr_fail(c, MP_ERR_FORMAT, field, "string holds a NUL byte");
    /* the length is known and holds no NUL: no strndup (which measures again) */
    char *s = malloc((size_t)o->via.str.size + 1);
    if (s) {
        memcpy(s, o->via.str.ptr, o->via.str.size);
        s[o->via.str.size] = '\0';
    }
    if (!s)
        return mpr_fail(c, MP_ERR_IO, field, "out of memory");
    free(*out);
    *out = s;
    return 0;
}

int mpr_str(const mpr_ctx_t *c, const msgpack_object *map, const char *key, bool required, char **out)
{
    return mpr_v_str(c, mpr_get(map, key), key, required, out);
}

int mpr_v_str(const mpr_ctx_t *c, const msgpack_object *o, const char *key, bool required, char **out)
{
    if (!o)
        return absent(c, key, required, "a string");
    return mpr_obj_str(c, o, key, out);
}

int mpr_uint(const mpr_ctx_t *c, const msgpack_object *map, const char *key, bool required, uint64_t *out)
{
    return mpr_v_uint(c, mpr_get(map, key), key, required, out);
}

int mpr_v_uint(const mpr_ctx_t *c, const msgpack_object *o, const char *key, bool required, uint64_t *out)
{
    if (!o)
        return absent(c, key, required, "an unsigned integer");
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return mpr_fail(c, MP_ERR_FORMAT, key, "expected an unsigned integer, got %s%s", type_name(o),
                        o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? " below 0" : "");
    *out = o->via.u64;
    return 0;
}

int mpr_int(const mpr_ctx_t *c, const msgpack_object *map, const char *key, bool required, int64_t *out)
{
    return mpr_v_int(c, mpr_get(map, key), key, required, out);
}

int mpr_v_int(const mpr_ctx_t *c, const msgpack_object *o, const char *key, bool required, int64_t *out)
{
    if (!o)
        return absent(c, key, required, "an integer");
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = o->via.i64;
        return 0;
    }
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return mpr_fail(c, MP_ERR_FORMAT, key, "expected an integer, got %s", type_name(o));
    if (o->via.u64 > INT64_MAX)
        return mpr_fail(c, MP_ERR_FORMAT, key, "integer %llu is out of range",
                        (unsigned long long)o->via.u64);
    *out = (int64_t)o->via.u64;
    return 0;
}

int mpr_bool(const mpr_ctx_t *c, const msgpack_object *map, const char *key, bool *out)
{
    return mpr_v_bool(c, mpr_get(map, key), key, out);
}

int mpr_v_bool(const mpr_ctx_t *c, const msgpack_object *o, const char *key, bool *out)
{
    if (!o)
        return 0;
    if (o->type != MSGPACK_OBJECT_BOOLEAN)
        return mpr_fail(c, MP_ERR_FORMAT, key, "expected a boolean, got %s", type_name(o));
    *out = o->via.boolean;
    return 0;
}

int mpr_bin(const mpr_ctx_t *c, const msgpack_object *map, const char *key, uint8_t **out, size_t *len)
{
    return mpr_v_bin(c, mpr_get(map, key), key, out, len);
}

int mpr_v_bin(const mpr_ctx_t *c, const msgpack_object *o, const char *key, uint8_t **out, size_t *len)
{
    if (!o)
        return 0;
    const char *p;
    size_t n;
    if (o->type == MSGPACK_OBJECT_BIN) {
        p = o->via.bin.ptr;
        n = o->via.bin.size;
    } else if (o->type == MSGPACK_OBJECT_STR) {
        p = o->via.str.ptr;
        n = o->via.str.size;
    } else {
        return mpr_fail(c, MP_ERR_FORMAT, key, "expected bin, got %s", type_name(o));
    }
    uint8_t *b = NULL;
    if (n > 0) {
        /* One extra NUL so text bodies can be used as C strings. */
        b = malloc(n + 1);
        if (!b)
            return mpr_fail(c, MP_ERR_IO, key, "out of memory (%zu bytes)", n);
        memcpy(b, p, n);
        b[n] = 0;
    }
    free(*out);
    *out = b;
    *len = n;
    return 0;
}

int mpr_array(const mpr_ctx_t *c, const msgpack_object *map, const char *key, bool required,
              const msgpack_object **out, size_t *n)
{
    return mpr_v_array(c, mpr_get(map, key), key, required, out, n);
}

int mpr_v_array(const mpr_ctx_t *c, const msgpack_object *o, const char *key, bool required,
                const msgpack_object **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!o)
        return absent(c, key, required, "an array");
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return mpr_fail(c, MP_ERR_FORMAT, key, "expected an array, got %s", type_name(o));
    *out = o->via.array.ptr;
    *n = o->via.array.size;
    return 0;
}

int mpr_pair(const mpr_ctx_t *c, const msgpack_object *o, const char *field, char **name, char **value)
{
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 2)
        return mpr_fail(c, MP_ERR_FORMAT, field, "expected a [name, value] array of two strings, got %s",
                        type_name(o));
    int rc = mpr_obj_str(c, &o->via.array.ptr[0], field, name);
    if (rc == 0)
        rc = mpr_obj_str(c, &o->via.array.ptr[1], field, value);
    return rc;
}

bool mpr_looks_like_json(const msgpack_object *first)
{
    /* '{' and '[' are positive fixints in msgpack: 123 and 91. */
    return first->type == MSGPACK_OBJECT_POSITIVE_INTEGER && (first->via.u64 == '{' || first->via.u64 == '[');
}

int mpr_header_version(const mpr_ctx_t *c, const msgpack_object *map, const char *want,
                       int max_major, int *major, int *minor)
{
    if (map->type != MSGPACK_OBJECT_MAP)
        return mpr_fail(c, MP_ERR_FORMAT, NULL, "expected the header map, got %s%s", type_name(map),
                        mpr_looks_like_json(map) ? " (the file looks like JSON text: a JSON view?)" : "");
    const msgpack_object *f = mpr_get(map, "format");
    if (!f || f->type != MSGPACK_OBJECT_STR)
        return mpr_fail(c, MP_ERR_KIND, "format", "not an aiotest file (no format string in the header)");
    size_t wl = strlen(want);
    if (f->via.str.size != wl || memcmp(f->via.str.ptr, want, wl) != 0)
        return mpr_fail(c, MP_ERR_KIND, "format", "is '%.*s', expected '%s'",
                        (int)(f->via.str.size > 64 ? 64 : f->via.str.size), f->via.str.ptr, want);
    const msgpack_object *v = mpr_get(map, "version");
    if (!v)
        return mpr_fail(c, MP_ERR_INVALID, "version", "missing (expected [major, minor])");
    if (v->type != MSGPACK_OBJECT_ARRAY || v->via.array.size < 2 ||
        v->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
        v->via.array.ptr[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
        v->via.array.ptr[0].via.u64 > 65535 || v->via.array.ptr[1].via.u64 > 65535)
        return mpr_fail(c, MP_ERR_FORMAT, "version", "expected [major, minor] (two integers 0..65535)");
    int maj = (int)v->via.array.ptr[0].via.u64, min = (int)v->via.array.ptr[1].via.u64;
    if (maj > max_major)
        return mp_error_set(c->err, MP_ERR_VERSION, c->record, c->offset,
                            "%s: version %d.%d is newer than this build reads (%d.x); upgrade aiotest",
                            c->file, maj, min, max_major);
    if (maj < 1)
        return mpr_fail(c, MP_ERR_VERSION, "version", "%d.%d is not a released version", maj, min);
    *major = maj;
    *minor = min;
    return 0;
}

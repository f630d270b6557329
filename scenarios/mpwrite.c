/* mpwrite: record packing and flushing (mpwrite.h). */
#include "mpwrite.h"

#include <errno.h>
#include <string.h>

void mpw_init(mpw_t *w)
{
    msgpack_sbuffer_init(&w->sb);
    msgpack_packer_init(&w->pk, &w->sb, msgpack_sbuffer_write);
    w->fail = 0;
}

void mpw_fini(mpw_t *w)
{
    msgpack_sbuffer_destroy(&w->sb);
}

void mpw_reset(mpw_t *w)
{
    msgpack_sbuffer_clear(&w->sb);
    w->fail = 0;
}

void mpw_map(mpw_t *w, size_t n) { w->fail |= msgpack_pack_map(&w->pk, n); }
void mpw_array(mpw_t *w, size_t n) { w->fail |= msgpack_pack_array(&w->pk, n); }
void mpw_uint(mpw_t *w, uint64_t v) { w->fail |= msgpack_pack_uint64(&w->pk, v); }
void mpw_int(mpw_t *w, int64_t v) { w->fail |= msgpack_pack_int64(&w->pk, v); }

void mpw_bool(mpw_t *w, bool v)
{
    w->fail |= v ? msgpack_pack_true(&w->pk) : msgpack_pack_false(&w->pk);
}

void mpw_strn(mpw_t *w, const char *s, size_t n)
{
    w->fail |= msgpack_pack_str(&w->pk, n);
    if (n)
        w->fail |= msgpack_pack_str_body(&w->pk, s, n);
}

void mpw_str(mpw_t *w, const char *s)
{
    mpw_strn(w, s ? s : "", s ? strlen(s) : 0);
}

void mpw_bin(mpw_t *w, const void *p, size_t n)
{
    w->fail |= msgpack_pack_bin(&w->pk, n);
    if (n)
        w->fail |= msgpack_pack_bin_body(&w->pk, p, n);
}

void mpw_pair(mpw_t *w, const char *name, const char *value)
{
    mpw_array(w, 2);
    mpw_str(w, name);
    mpw_str(w, value);
}

int mpw_emit(mpw_t *w, FILE *fp)
{
    if (w->fail) {
        errno = ENOMEM;
        return -1;
    }
    if (w->sb.size && fwrite(w->sb.data, 1, w->sb.size, fp) != w->sb.size)
        return -1;
    if (fflush(fp) != 0)
        return -1;
    return 0;
}

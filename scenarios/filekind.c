/* filekind: mp_file_kind (scenario.h), which file an .mp is, from the format
 * named in its header record. */
#include <string.h>

#include "mpread.h"
#include "recording.h"
#include "scenario.h"

int mp_file_kind(const char *path, mp_error_t *err)
{
    mpr_stream_t *s = mpr_open(path, err);
    if (!s)
        return MP_ERR_IO;
    const msgpack_object *o;
    int rc = mpr_next(s, &o, err);
    if (rc == MP_EOF)
        rc = mp_error_set(err, MP_ERR_FORMAT, 0, 0, "%s: empty file (expected an aiotest header)", path);
    if (rc != MP_OK)
        goto done;
    const msgpack_object *f = mpr_get(o, "format");
    if (f && f->type == MSGPACK_OBJECT_STR && f->via.str.size == strlen(REC_FORMAT) &&
        memcmp(f->via.str.ptr, REC_FORMAT, f->via.str.size) == 0)
        rc = MP_KIND_RECORDING;
    else if (f && f->type == MSGPACK_OBJECT_STR && f->via.str.size == strlen(SCN_FORMAT) &&
             memcmp(f->via.str.ptr, SCN_FORMAT, f->via.str.size) == 0)
        rc = MP_KIND_SCENARIO;
    else
        rc = mp_error_set(err, MP_ERR_KIND, 0, 0, "%s: record 0 at byte 0: not an aiotest file "
                          "(header has no format '%s' or '%s')%s", path, REC_FORMAT, SCN_FORMAT,
                          mpr_looks_like_json(o) ? "; it looks like JSON text: a JSON view?" : "");
done:
    mpr_close(s);
    return rc;
}

#include "input.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "har.h"
#include "recording.h"

/* A HAR is JSON text: its first non-blank byte is '{' (after an optional
 * UTF-8 BOM); a recording starts with a msgpack map, never '{' (0x7b is a
 * positive fixint). */
static int sniff_json(const char *path, bool *json, mp_error_t *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err->msg, sizeof err->msg, "%s: %s", path, strerror(errno));
        err->record = -1;
        err->offset = -1;
        return MP_ERR_IO;
    }
    int ch, n = 0;
    *json = false;
    while ((ch = fgetc(fp)) != EOF && n++ < 4096) {
        if (ch == 0xEF || ch == 0xBB || ch == 0xBF || isspace(ch))
            continue;
        *json = ch == '{';
        break;
    }
    fclose(fp);
    return 0;
}

static int load_recording(const char *path, size_t file_no, xset_t *xs, bool *damaged, mp_error_t *err)
{
    size_t before = xs->n;
    rec_header_t h = {0};
    rec_reader_t *r = rec_reader_open(path, &h, err);
    if (!r)
        return MP_ERR_FORMAT;  /* the file opened (sniffed): not a recording, or a newer one */
    int rc;
    for (;;) {
        xs_item_t *it = xs_push(xs);
        if (!it) {
            snprintf(err->msg, sizeof err->msg, "%s: out of memory", path);
            rc = MP_ERR_IO;
            break;
        }
        rc = rec_reader_next(r, &it->x, err);
        if (rc != MP_OK) {
            xs_pop(xs);
            break;
        }
        it->file = path;
        it->index = rec_reader_index(r);
        it->unit = "record";
        if (asprintf(&it->key, "%zu|%s", file_no, it->x.client ? it->x.client : "") < 0) {
            it->key = NULL;
            snprintf(err->msg, sizeof err->msg, "%s: out of memory", path);
            rc = MP_ERR_IO;
            break;
        }
    }
    rec_reader_close(r);
    rec_header_fini(&h);
    if (rc == MP_ERR_FORMAT && xs->n > before) {
        *damaged = true;  /* the stream cannot resync: what came before is all there is */
        return 0;
    }
    return rc == MP_EOF ? 0 : rc;
}

int input_load(const char *path, size_t file_no, xset_t *xs, bool *damaged, mp_error_t *err)
{
    bool json;
    *damaged = false;
    int rc = sniff_json(path, &json, err);
    if (rc)
        return rc;
    return json ? har_load(path, file_no, xs, err) : load_recording(path, file_no, xs, damaged, err);
}

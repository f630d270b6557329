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

/* "<file_no>|<client>", the session key of a record (heap; NULL on out of
 * memory); made for every record, so without a printf. */
static char *session_key(size_t file_no, const char *client)
{
    char num[24];
    int nl = 0;
    do
        num[sizeof num - 1 - nl++] = (char)('0' + file_no % 10);
    while ((file_no /= 10) != 0);
    size_t cl = client ? strlen(client) : 0;
    char *k = malloc((size_t)nl + 1 + cl + 1);
    if (!k)
        return NULL;
    memcpy(k, num + sizeof num - nl, (size_t)nl);
    k[nl] = '|';
    if (cl)
        memcpy(k + nl + 1, client, cl);
    k[nl + 1 + cl] = '\0';
    return k;
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
        if (!(it->key = session_key(file_no, it->x.client))) {
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

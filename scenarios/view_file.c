/* view_file: whole files through the JSON view (view.h): dump any .mp as
 * JSON, and turn a JSON view back into the .mp file. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpread.h"
#include "view.h"
#include "vjpos.h"
#include "vjprint.h"
#include "vjson.h"

static int out_err(const char *path, mp_error_t *err)
{
    return mp_error_set(err, MP_ERR_IO, -1, -1, "%s: writing the JSON view failed: %s", path, strerror(errno));
}

static int dump_recording(const char *path, FILE *out, mp_error_t *err)
{
    rec_header_t h;
    rec_reader_t *r = rec_reader_open(path, &h, err);
    if (!r)
        return err ? (err->record >= 0 ? MP_ERR_FORMAT : MP_ERR_IO) : MP_ERR_FORMAT;
    json_t *hj = view_rec_header_to_json(&h);
    rec_header_fini(&h);
    int rc = hj && fputs("{\n  \"header\": ", out) >= 0 && vj_print(out, hj, 2) == 0 &&
             fputs(",\n  \"exchanges\": [", out) >= 0 ? 0 : out_err(path, err);
    json_decref(hj);
    rec_exchange_t x;
    int rd;
    for (long n = 0; rc == 0 && (rd = rec_reader_next(r, &x, err)) == MP_OK; n++) {
        json_t *xj = view_exchange_to_json(&x);
        rec_exchange_fini(&x);
        if (!xj || fputs(n ? ",\n    " : "\n    ", out) < 0 || vj_print(out, xj, 4) != 0)
            rc = out_err(path, err);
        json_decref(xj);
    }
    /* Close the JSON even after a cut record, so what was read stays usable. */
    if (fputs("\n  ]\n}\n", out) < 0 && rc == 0)
        rc = out_err(path, err);
    if (rc == 0 && rd != MP_EOF)
        rc = rd;
    rec_reader_close(r);
    return rc;
}

int view_dump_file(const char *path, FILE *out, mp_error_t *err)
{
    int kind = mp_file_kind(path, err);
    if (kind < 0)
        return kind;
    if (kind == MP_KIND_RECORDING)
        return dump_recording(path, out, err);
    scn_scenario_t *s;
    int rc = scn_load(path, &s, err);
    if (rc != 0)
        return rc;
    json_t *j = view_scenario_to_json(s);
    scn_free(s);
    if (!j || vj_print(out, j, 0) != 0 || fputc('\n', out) == EOF)
        rc = out_err(path, err);
    json_decref(j);
    return rc;
}

/* A JSON view in memory: its text (for line numbers) and the parsed tree. */
typedef struct jdoc {
    const char *path;
    char *text;
    size_t len;
    json_t *root;
} jdoc_t;

static void jdoc_fini(jdoc_t *d)
{
    json_decref(d->root);
    free(d->text);
}

/* Reads and parses path; a syntax error names line and column. */
static int jdoc_load(jdoc_t *d, const char *path, mp_error_t *err)
{
    memset(d, 0, sizeof *d);
    d->path = path;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return mp_error_set(err, MP_ERR_IO, -1, -1, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 0;
    for (;;) {
        if (d->len + 65536 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *t = realloc(d->text, cap);
            if (!t) {
                fclose(fp);
                return mp_error_set(err, MP_ERR_IO, -1, -1, "%s: out of memory", path);
            }
            d->text = t;
        }
        size_t n = fread(d->text + d->len, 1, cap - d->len, fp);
        d->len += n;
        if (n == 0)
            break;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad)
        return mp_error_set(err, MP_ERR_IO, -1, -1, "%s: read failed", path);
    json_error_t je;
    d->root = json_loadb(d->text, d->len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &je);
    if (!d->root)
        return mp_error_set(err, MP_ERR_FORMAT, -1, je.position, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    return 0;
}

/* Prefixes err's message ("<json path>: what") with the file and the line
 * and column of that path. Returns rc. */
static int in_file(const jdoc_t *d, int rc, mp_error_t *err)
{
    if (!err)
        return rc;
    char msg[sizeof err->msg], jpath[256];
    memcpy(msg, err->msg, sizeof msg);
    const char *colon = strstr(msg, ": ");
    size_t pl = colon ? (size_t)(colon - msg) : 0;
    int line, col;
    if (pl && pl < sizeof jpath) {
        memcpy(jpath, msg, pl);
        jpath[pl] = 0;
        if (vjpos_find(d->text, d->len, jpath, &line, &col) == 0)
            return mp_error_set(err, rc, err->record, err->offset, "%s:%d:%d: %s", d->path, line, col, msg);
    }
    return mp_error_set(err, rc, err->record, err->offset, "%s: %s", d->path, msg);
}

static int recording_to_mp(const jdoc_t *d, const char *mp_path, mp_error_t *err)
{
    rec_header_t h;
    const json_t *hj = json_object_get(d->root, "header");
    if (!hj)
        return mp_error_set(err, MP_ERR_INVALID, -1, -1, "%s: header: missing (expected the recording header)",
                            d->path);
    int rc = view_rec_header_from_json(hj, &h, err);
    if (rc != 0)
        return in_file(d, rc, err);
    const json_t *xs = json_object_get(d->root, "exchanges");
    if (xs && !json_is_array(xs)) {
        rec_header_fini(&h);
        return in_file(d, mp_error_set(err, MP_ERR_FORMAT, -1, -1, "exchanges: expected an array"), err);
    }
    rec_writer_t *w = rec_writer_open(mp_path, &h, false, err);
    rec_header_fini(&h);
    if (!w)
        return MP_ERR_IO;
    size_t i;
    const json_t *xj;
    json_array_foreach(xs, i, xj) {
        char at[32];
        snprintf(at, sizeof at, "exchanges[%zu]", i);
        rec_exchange_t x;
        rc = view_exchange_from_json_at(xj, at, &x, err);
        if (rc != 0) {
            in_file(d, rc, err);
            break;
        }
        rc = rec_writer_write(w, &x, err);
        rec_exchange_fini(&x);
        if (rc != 0)
            break;
    }
    if (rec_writer_close(w) != 0 && rc == 0)
        rc = mp_error_set(err, MP_ERR_IO, -1, -1, "%s: close failed: %s", mp_path, strerror(errno));
    if (rc != 0)
        unlink(mp_path);
    return rc;
}

static bool is_recording_view(const json_t *j)
{
    return json_object_get(j, "header") || json_object_get(j, "exchanges");
}

int view_json_file_to_mp(const char *json_path, const char *mp_path, mp_error_t *err)
{
    jdoc_t d;
    int rc = jdoc_load(&d, json_path, err);
    if (rc != 0) {
        jdoc_fini(&d);
        return rc;
    }
    if (!json_is_object(d.root)) {
        rc = mp_error_set(err, MP_ERR_FORMAT, -1, -1, "%s: expected a JSON object at the top level", json_path);
    } else if (is_recording_view(d.root)) {
        rc = recording_to_mp(&d, mp_path, err);
    } else {
        scn_scenario_t *s;
        rc = view_scenario_from_json(d.root, &s, err);
        if (rc != 0)
            in_file(&d, rc, err);
        else
            rc = scn_save(mp_path, s, err);
        scn_free(s);
    }
    jdoc_fini(&d);
    return rc;
}

int view_scenario_load_json(const char *json_path, scn_scenario_t **out, mp_error_t *err)
{
    *out = NULL;
    jdoc_t d;
    int rc = jdoc_load(&d, json_path, err);
    if (rc == 0 && is_recording_view(d.root))
        rc = mp_error_set(err, MP_ERR_KIND, -1, -1, "%s: is a recording, expected a scenario", json_path);
    else if (rc == 0 && (rc = view_scenario_from_json(d.root, out, err)) != 0)
        in_file(&d, rc, err);
    jdoc_fini(&d);
    return rc;
}

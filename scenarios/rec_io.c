/* rec_io: the recording writer and reader (recording.h): one header record,
 * then one flushed record per exchange (or whole records in batches); the reader streams with constant
 * memory per record. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rec_codec.h"
#include "recording.h"

struct rec_writer {
    FILE *fp;
    bool own_fp;
    char *name;
    long index;        /* records in the file so far (header included) */
    mpw_t w;
    size_t batch;      /* 0: each record written and flushed; else bytes held before a write */
    long pending;      /* records packed in w, not yet written */
    bool headers_built; /* rec_writer_set_headers_built */
};

struct rec_reader {
    mpr_stream_t *s;
};

static rec_writer_t *writer_new(FILE *fp, bool own, const char *name, mp_error_t *err)
{
    rec_writer_t *w = calloc(1, sizeof *w);
    if (w)
        w->name = strdup(name);
    if (!w || !w->name) {
        free(w);
        mp_error_set(err, MP_ERR_IO, -1, -1, "%s: out of memory", name);
        return NULL;
    }
    w->fp = fp;
    w->own_fp = own;
    mpw_init(&w->w);
    return w;
}

static void writer_free(rec_writer_t *w)
{
    mpw_fini(&w->w);
    free(w->name);
    free(w);
}

static int write_header(rec_writer_t *w, const rec_header_t *h, mp_error_t *err)
{
    mpw_reset(&w->w);
    rec_codec_pack_header(&w->w, h);
    int rc = mpw_emit(&w->w, w->fp);
    mpw_reset(&w->w); /* batch mode packs behind what the buffer holds */
    if (rc != 0)
        return mp_error_set(err, MP_ERR_IO, 0, 0, "%s: writing the header: %s", w->name, strerror(errno));
    w->index = 1;
    return 0;
}

rec_writer_t *rec_writer_open_fp(FILE *fp, const rec_header_t *h, mp_error_t *err)
{
    rec_writer_t *w = writer_new(fp, false, "(stream)", err);
    if (w && write_header(w, h, err) != 0) {
        writer_free(w);
        return NULL;
    }
    return w;
}

/* Checks the existing file's header and finds the end of its last complete
 * record, so an append after a killed capture continues a readable file.
 * Returns that end offset (0: no complete header, start afresh) or negative
 * with err: another format or version, or bytes that are not msgpack. */
static int64_t existing_end(const char *path, long *records, mp_error_t *err)
{
    struct stat st;
    if (stat(path, &st) != 0 || st.st_size == 0)
        return 0;
    mpr_stream_t *s = mpr_open(path, err);
    if (!s)
        return MP_ERR_IO;
    const msgpack_object *o;
    int rc = mpr_next(s, &o, err);
    if (rc == MP_OK) {
        mpr_ctx_t c = mpr_ctx(s, err);
        rec_header_t h = {0};
        rc = rec_codec_unpack_header(&c, o, &h);
        rec_header_fini(&h);
        while (rc == MP_OK)
            rc = mpr_next(s, &o, err);
    }
    int64_t end = mpr_end(s);
    *records = mpr_index(s) + 1;
    bool cut = rc == MP_ERR_FORMAT && mpr_was_cut(s);
    mpr_close(s);
    if (rc == MP_EOF || cut)
        return end; /* clean end, or a last record cut short that we drop */
    return rc;
}

/* Recordings hold Authorization, cookies and bodies in clear: a file is
 * created 0600, and a regular file that already exists loses its group and
 * other bits (a pipe or /dev/stdout is left alone). */
static FILE *open_private(const char *path, bool append)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0600);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0 &&
        fchmod(fd, st.st_mode & 0700) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return NULL;
    }
    FILE *fp = fdopen(fd, append ? "ab" : "wb");
    if (!fp)
        close(fd);
    return fp;
}

rec_writer_t *rec_writer_open(const char *path, const rec_header_t *h, bool append, mp_error_t *err)
{
    int64_t end = 0;
    long records = 0;
    if (append) {
        end = existing_end(path, &records, err);
        if (end < 0)
            return NULL;
        if (end > 0 && truncate(path, end) != 0) {
            mp_error_set(err, MP_ERR_IO, -1, end, "%s: cannot cut the partial last record: %s",
                         path, strerror(errno));
            return NULL;
        }
    }
    FILE *fp = open_private(path, end > 0);
    if (!fp) {
        mp_error_set(err, MP_ERR_IO, -1, -1, "%s: cannot open for writing: %s", path, strerror(errno));
        return NULL;
    }
    rec_writer_t *w = writer_new(fp, true, path, err);
    if (!w) {
        fclose(fp);
        return NULL;
    }
    if (end > 0) {
        w->index = records;
        return w;
    }
    if (write_header(w, h, err) != 0) {
        rec_writer_close(w);
        return NULL;
    }
    return w;
}

void rec_writer_set_batch(rec_writer_t *w, size_t bytes) { w->batch = bytes; }

void rec_writer_set_headers_built(rec_writer_t *w, bool on) { w->headers_built = on; }

/* Writes the records packed so far, whole, and flushes. */
static int emit_pending(rec_writer_t *w, mp_error_t *err)
{
    if (w->pending == 0)
        return 0;
    long first = w->index - w->pending;
    int rc = mpw_emit(&w->w, w->fp);
    int e = errno;
    mpw_reset(&w->w);
    w->pending = 0;
    if (rc != 0)
        return mp_error_set(err, MP_ERR_IO, first, -1, "%s: records %ld to %ld: write failed: %s",
                            w->name, first, w->index - 1, strerror(e));
    return 0;
}

int rec_writer_write(rec_writer_t *w, const rec_exchange_t *x, mp_error_t *err)
{
    mp_error_t verr;
    if ((w->headers_built ? rec_exchange_validate_built(x, &verr) : rec_exchange_validate(x, &verr)) != 0)
        return mp_error_set(err, MP_ERR_INVALID, w->index, -1, "%s: record %ld: %s", w->name, w->index, verr.msg);
    if (w->batch == 0) {
        mpw_reset(&w->w);
        rec_codec_pack_exchange(&w->w, x);
        if (mpw_emit(&w->w, w->fp) != 0)
            return mp_error_set(err, MP_ERR_IO, w->index, -1, "%s: record %ld: write failed: %s",
                                w->name, w->index, strerror(errno));
        w->index++;
        return 0;
    }
    /* appended behind the records already packed; one that fails to pack
     * (out of memory) is cut off again, the others stay */
    size_t mark = w->w.sb.size;
    rec_codec_pack_exchange(&w->w, x);
    if (w->w.fail) {
        w->w.sb.size = mark;
        w->w.fail = 0;
        return mp_error_set(err, MP_ERR_IO, w->index, -1, "%s: record %ld: out of memory", w->name, w->index);
    }
    w->index++;
    w->pending++;
    return w->w.sb.size >= w->batch ? emit_pending(w, err) : 0;
}

int rec_writer_flush(rec_writer_t *w, mp_error_t *err)
{
    return emit_pending(w, err);
}

int rec_writer_close(rec_writer_t *w)
{
    if (!w)
        return 0;
    mp_error_t e;
    int rc = emit_pending(w, &e) == 0 ? 0 : MP_ERR_IO;
    if (fflush(w->fp) != 0)
        rc = MP_ERR_IO;
    if (w->own_fp && fclose(w->fp) != 0)
        rc = MP_ERR_IO;
    writer_free(w);
    return rc;
}

rec_reader_t *rec_reader_open(const char *path, rec_header_t *h, mp_error_t *err)
{
    rec_reader_t *r = calloc(1, sizeof *r);
    if (!r) {
        mp_error_set(err, MP_ERR_IO, -1, -1, "%s: out of memory", path);
        return NULL;
    }
    r->s = mpr_open(path, err);
    if (!r->s)
        goto fail;
    const msgpack_object *o;
    int rc = mpr_next(r->s, &o, err);
    if (rc == MP_EOF) {
        mp_error_set(err, MP_ERR_FORMAT, 0, 0, "%s: empty file (expected an %s header)", path, REC_FORMAT);
        goto fail;
    }
    if (rc != MP_OK)
        goto fail;
    mpr_ctx_t c = mpr_ctx(r->s, err);
    memset(h, 0, sizeof *h);
    if (rec_codec_unpack_header(&c, o, h) != 0) {
        rec_header_fini(h);
        goto fail;
    }
    return r;
fail:
    rec_reader_close(r);
    return NULL;
}

int rec_reader_next(rec_reader_t *r, rec_exchange_t *x, mp_error_t *err)
{
    memset(x, 0, sizeof *x);
    const msgpack_object *o;
    int rc = mpr_next(r->s, &o, err);
    if (rc != MP_OK)
        return rc;
    mpr_ctx_t c = mpr_ctx(r->s, err);
    rc = rec_codec_unpack_exchange(&c, o, x);
    if (rc == 0) {
        mp_error_t verr;
        rc = rec_exchange_validate(x, &verr);
        if (rc != 0)
            mp_error_set(err, rc, c.record, c.offset, "%s: record %ld at byte %lld: %s",
                         c.file, c.record, (long long)c.offset, verr.msg);
    }
    if (rc != 0)
        rec_exchange_fini(x);
    return rc;
}

long rec_reader_index(const rec_reader_t *r) { return mpr_index(r->s); }
int64_t rec_reader_offset(const rec_reader_t *r) { return mpr_offset(r->s); }

void rec_reader_close(rec_reader_t *r)
{
    if (!r)
        return;
    mpr_close(r->s);
    free(r);
}

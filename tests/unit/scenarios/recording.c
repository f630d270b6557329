/* Unit tests of scenarios/recording.c, rec_codec.c, rec_io.c, mpread.c,
 * mpwrite.c and filekind.c: the recording file, written and read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <msgpack.h>

#include "fixtures.h"
#include "mpwrite.h"
#include "recording.h"
#include "scenario.h"

#define N_X 3

/* Writes a header and N_X exchanges to a new temp file; returns its path. */
static char *write_sample(void)
{
    char *path = fx_tmp(".mp");
    rec_header_t h;
    fx_rec_header(&h);
    mp_error_t err;
    rec_writer_t *w = rec_writer_open(path, &h, false, &err);
    assert_non_null(w);
    for (int i = 0; i < N_X; i++) {
        rec_exchange_t x;
        fx_exchange(i, &x);
        assert_int_equal(rec_writer_write(w, &x, &err), 0);
        rec_exchange_fini(&x);
    }
    assert_int_equal(rec_writer_close(w), 0);
    rec_header_fini(&h);
    return path;
}

static void test_roundtrip_every_field(void **state)
{
    (void)state;
    char *path = write_sample();
    mp_error_t err;
    rec_header_t h, want_h;
    rec_reader_t *r = rec_reader_open(path, &h, &err);
    assert_non_null(r);
    fx_rec_header(&want_h);
    fx_assert_rec_header_equal(&h, &want_h);
    for (int i = 0; i < N_X; i++) {
        rec_exchange_t x, want;
        assert_int_equal(rec_reader_next(r, &x, &err), MP_OK);
        assert_int_equal(rec_reader_index(r), i + 1);
        assert_true(rec_reader_offset(r) > 0);
        fx_exchange(i, &want);
        fx_assert_exchange_equal(&x, &want);
        rec_exchange_fini(&x);
        rec_exchange_fini(&want);
    }
    rec_exchange_t x;
    assert_int_equal(rec_reader_next(r, &x, &err), MP_EOF);
    rec_reader_close(r);
    rec_header_fini(&h);
    rec_header_fini(&want_h);
    assert_int_equal(mp_file_kind(path, &err), MP_KIND_RECORDING);
    unlink(path);
    free(path);
}

/* Cuts the sample at every byte: every record that ends before the cut comes
 * back, then a clean end (cut on a boundary) or an error naming the record. */
static void test_cut_at_every_byte(void **state)
{
    (void)state;
    char *path = write_sample();
    size_t size;
    uint8_t *data = fx_read(path, &size);
    int64_t bounds[N_X + 2]; /* start of each record, then the file size */
    mp_error_t err;
    rec_header_t h;
    rec_reader_t *r = rec_reader_open(path, &h, &err);
    assert_non_null(r);
    bounds[0] = 0;
    for (int i = 1; i <= N_X; i++) {
        rec_exchange_t x;
        assert_int_equal(rec_reader_next(r, &x, &err), MP_OK);
        bounds[i] = rec_reader_offset(r);
        rec_exchange_fini(&x);
    }
    bounds[N_X + 1] = (int64_t)size;
    rec_reader_close(r);
    rec_header_fini(&h);

    char *cut = fx_tmp(".cut.mp");
    for (size_t k = 0; k < size; k++) {
        fx_write(cut, data, k);
        r = rec_reader_open(cut, &h, &err);
        if ((int64_t)k < bounds[1]) {
            assert_null(r);
            assert_int_equal(err.record, 0);
            assert_non_null(strstr(err.msg, k == 0 ? "empty file" : "record 0 at byte 0: truncated"));
            continue;
        }
        assert_non_null(r);
        int complete = 0;
        while (complete + 2 <= N_X + 1 && bounds[complete + 2] <= (int64_t)k)
            complete++;
        for (int i = 0; i < complete; i++) {
            rec_exchange_t x, want;
            assert_int_equal(rec_reader_next(r, &x, &err), MP_OK);
            fx_exchange(i, &want);
            fx_assert_exchange_equal(&x, &want);
            rec_exchange_fini(&x);
            rec_exchange_fini(&want);
        }
        rec_exchange_t x;
        int rc = rec_reader_next(r, &x, &err);
        if ((int64_t)k == bounds[complete + 1]) {
            assert_int_equal(rc, MP_EOF);
        } else {
            assert_int_equal(rc, MP_ERR_FORMAT);
            char want[128];
            snprintf(want, sizeof want, "record %d at byte %lld: truncated", complete + 1,
                     (long long)bounds[complete + 1]);
            assert_non_null(strstr(err.msg, want));
            assert_int_equal(err.record, complete + 1);
            assert_int_equal(err.offset, bounds[complete + 1]);
        }
        rec_reader_close(r);
        rec_header_fini(&h);
    }
    unlink(cut);
    unlink(path);
    free(cut);
    free(path);
    free(data);
}

/* Packs a header map with the given version and an extra unknown key. */
static void pack_header(mpw_t *w, const char *format, int major, int minor)
{
    mpw_map(w, 6);
    mpw_str(w, "format");
    mpw_str(w, format);
    mpw_str(w, "version");
    mpw_array(w, 2);
    mpw_uint(w, (uint64_t)major);
    mpw_uint(w, (uint64_t)minor);
    mpw_str(w, "created_us");
    mpw_int(w, 5);
    mpw_str(w, "source");
    mpw_str(w, "pcap");
    mpw_str(w, "tool");
    mpw_str(w, "other 9");
    mpw_str(w, "future_key");
    mpw_array(w, 0);
}

static char *write_mpw(mpw_t *w)
{
    char *path = fx_tmp(".mp");
    fx_write(path, w->sb.data, w->sb.size);
    return path;
}

static void test_newer_major_refused(void **state)
{
    (void)state;
    mpw_t w;
    mpw_init(&w);
    pack_header(&w, REC_FORMAT, 2, 0);
    char *path = write_mpw(&w);
    mp_error_t err;
    rec_header_t h;
    assert_null(rec_reader_open(path, &h, &err));
    char want[256];
    snprintf(want, sizeof want, "%s: version 2.0 is newer than this build reads (1.x); upgrade aiotest", path);
    assert_string_equal(err.msg, want);
    unlink(path);
    free(path);
    mpw_fini(&w);
}

/* A newer minor version with unknown keys everywhere is read. */
static void test_newer_minor_and_unknown_keys(void **state)
{
    (void)state;
    mpw_t w;
    mpw_init(&w);
    pack_header(&w, REC_FORMAT, 1, 9);
    mpw_map(&w, 9);
    mpw_str(&w, "client"); mpw_str(&w, "c1");
    mpw_str(&w, "conn"); mpw_uint(&w, 3);
    mpw_str(&w, "t_start_us"); mpw_int(&w, 10);
    mpw_str(&w, "scheme"); mpw_str(&w, "http");
    mpw_str(&w, "authority"); mpw_str(&w, "a:1");
    mpw_str(&w, "method"); mpw_str(&w, "GET");
    mpw_str(&w, "target"); mpw_str(&w, "/");
    mpw_str(&w, "http_version"); mpw_str(&w, "HTTP/1.1");
    mpw_str(&w, "new_in_1_9"); mpw_map(&w, 1); mpw_str(&w, "x"); mpw_bin(&w, "y", 1);
    char *path = write_mpw(&w);
    mp_error_t err;
    rec_header_t h;
    rec_reader_t *r = rec_reader_open(path, &h, &err);
    assert_non_null(r);
    assert_int_equal(h.version_minor, 9);
    assert_string_equal(h.source, "pcap");
    rec_exchange_t x;
    assert_int_equal(rec_reader_next(r, &x, &err), MP_OK);
    assert_string_equal(x.client, "c1");
    assert_int_equal(x.conn_id, 3);
    assert_int_equal(x.status, 0);
    assert_int_equal(x.req_headers.n, 0);
    assert_null(x.req_body);
    assert_null(x.error);
    rec_exchange_fini(&x);
    assert_int_equal(rec_reader_next(r, &x, &err), MP_EOF);
    rec_reader_close(r);
    rec_header_fini(&h);
    unlink(path);
    free(path);
    mpw_fini(&w);
}

/* An exchange with one field of the wrong type, or one missing. */
static void check_bad_exchange(const char *key, int wrong, const char *want_msg, int want_rc)
{
    mpw_t w;
    mpw_init(&w);
    pack_header(&w, REC_FORMAT, 1, 0);
    size_t header_end = w.sb.size;
    const char *keys[] = { "client", "conn", "t_start_us", "scheme", "authority", "method",
                           "target", "http_version", "status", "req_headers" };
    size_t n = sizeof keys / sizeof *keys;
    mpw_map(&w, strcmp(key, "-") && !wrong ? n - 1 : n);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(keys[i], key) == 0) {
            if (!wrong)
                continue;
            mpw_str(&w, keys[i]);
            if (strcmp(key, "req_headers") == 0) {
                mpw_array(&w, 1);
                mpw_array(&w, 1);
                mpw_str(&w, "Host");
            } else {
                mpw_array(&w, 0);
            }
            continue;
        }
        mpw_str(&w, keys[i]);
        if (!strcmp(keys[i], "conn") || !strcmp(keys[i], "t_start_us") || !strcmp(keys[i], "status"))
            mpw_uint(&w, !strcmp(keys[i], "status") ? 200 : 1);
        else if (!strcmp(keys[i], "req_headers"))
            mpw_array(&w, 0);
        else if (!strcmp(keys[i], "scheme"))
            mpw_str(&w, "https");
        else if (!strcmp(keys[i], "method"))
            mpw_str(&w, strcmp(key, "-") ? "GET" : "BAD METHOD");
        else
            mpw_str(&w, "x");
    }
    char *path = write_mpw(&w);
    mp_error_t err;
    rec_header_t h;
    rec_reader_t *r = rec_reader_open(path, &h, &err);
    assert_non_null(r);
    rec_exchange_t x;
    assert_int_equal(rec_reader_next(r, &x, &err), want_rc);
    char want[300];
    snprintf(want, sizeof want, "%s: record 1 at byte %zu: %s", path, header_end, want_msg);
    assert_string_equal(err.msg, want);
    assert_int_equal(err.record, 1);
    assert_int_equal(err.offset, (int64_t)header_end);
    rec_reader_close(r);
    rec_header_fini(&h);
    unlink(path);
    free(path);
    mpw_fini(&w);
}

static void test_wrong_types_and_missing_fields(void **state)
{
    (void)state;
    check_bad_exchange("status", 1, "field 'status': expected an unsigned integer, got an array", MP_ERR_FORMAT);
    check_bad_exchange("client", 1, "field 'client': expected a string, got an array", MP_ERR_FORMAT);
    check_bad_exchange("method", 0, "field 'method': missing (expected a string)", MP_ERR_INVALID);
    check_bad_exchange("conn", 0, "field 'conn': missing (expected an unsigned integer)", MP_ERR_INVALID);
    check_bad_exchange("req_headers", 1,
                       "field 'req_headers[0]': expected a [name, value] array of two strings, got an array",
                       MP_ERR_FORMAT);
    check_bad_exchange("-", 0, "field 'method': must be a non-empty token such as GET", MP_ERR_INVALID);
}

static void test_not_a_map_and_other_format(void **state)
{
    (void)state;
    mp_error_t err;
    rec_header_t h;
    mpw_t w;
    mpw_init(&w);
    mpw_array(&w, 1);
    mpw_uint(&w, 1);
    char *path = write_mpw(&w);
    assert_null(rec_reader_open(path, &h, &err));
    assert_non_null(strstr(err.msg, "record 0 at byte 0: field '?': expected the header map, got an array"));
    assert_int_equal(mp_file_kind(path, &err), MP_ERR_KIND);
    unlink(path);
    free(path);

    mpw_reset(&w);
    pack_header(&w, SCN_FORMAT, 1, 0);
    path = write_mpw(&w);
    assert_null(rec_reader_open(path, &h, &err));
    assert_non_null(strstr(err.msg, "field 'format': is 'aiotest-scenario', expected 'aiotest-recording'"));
    assert_int_equal(mp_file_kind(path, &err), MP_KIND_SCENARIO);
    unlink(path);
    free(path);
    mpw_fini(&w);

    assert_int_equal(mp_file_kind("/nonexistent/x.mp", &err), MP_ERR_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/x.mp: cannot open"));
}

/* Random bytes and random mutations of a valid file: an error or records,
 * never a crash (ASan checks the memory side). */
static void test_random_bytes_and_mutations(void **state)
{
    (void)state;
    char *good = write_sample();
    size_t size;
    uint8_t *data = fx_read(good, &size);
    char *path = fx_tmp(".rand.mp");
    uint64_t seed = 0x9e3779b97f4a7c15u;
    for (int iter = 0; iter < 400; iter++) {
        uint8_t buf[2048];
        size_t n;
        if (iter % 2) {
            n = size < sizeof buf ? size : sizeof buf;
            memcpy(buf, data, n);
            for (int m = 0; m < 1 + iter % 5; m++) {
                seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
                buf[seed % n] = (uint8_t)(seed >> 32);
            }
        } else {
            n = 1 + (size_t)iter * 5 % sizeof buf;
            for (size_t i = 0; i < n; i++) {
                seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
                buf[i] = (uint8_t)seed;
            }
        }
        fx_write(path, buf, n);
        mp_error_t err;
        err.msg[0] = 0;
        rec_header_t h;
        rec_reader_t *r = rec_reader_open(path, &h, &err);
        if (!r) {
            assert_true(strncmp(err.msg, path, strlen(path)) == 0);
            continue;
        }
        rec_exchange_t x;
        int rc;
        while ((rc = rec_reader_next(r, &x, &err)) == MP_OK)
            rec_exchange_fini(&x);
        if (rc != MP_EOF)
            assert_non_null(strstr(err.msg, "record "));
        rec_reader_close(r);
        rec_header_fini(&h);
    }
    unlink(path);
    unlink(good);
    free(path);
    free(good);
    free(data);
}

/* Five bytes claiming 2^32 entries: refused by size, before msgpack-c would
 * allocate the element table. */
static void test_impossible_counts(void **state)
{
    (void)state;
    mpw_t w;
    mpw_init(&w);
    pack_header(&w, REC_FORMAT, 1, 0);
    size_t at = w.sb.size;
    static const uint8_t huge[] = { 0x81, 0xa1, 'x', 0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0 };
    mpw_raw(&w, huge, sizeof huge);
    char *path = write_mpw(&w);
    mp_error_t err;
    rec_header_t h;
    rec_reader_t *r = rec_reader_open(path, &h, &err);
    assert_non_null(r);
    rec_exchange_t x;
    assert_int_equal(rec_reader_next(r, &x, &err), MP_ERR_FORMAT);
    char want[300];
    snprintf(want, sizeof want, "%s: record 1 at byte %zu: truncated (the value at byte %zu declares 8589934590 "
             "elements but the file ends at byte %zu)", path, at, at + 3, at + sizeof huge);
    assert_string_equal(err.msg, want);
    rec_reader_close(r);
    rec_header_fini(&h);
    unlink(path);
    free(path);
    mpw_fini(&w);
}

static void test_append_continues_after_a_cut(void **state)
{
    (void)state;
    char *path = write_sample();
    size_t size;
    uint8_t *data = fx_read(path, &size);
    fx_write(path, data, size - 3); /* last exchange cut short */
    mp_error_t err;
    rec_header_t h;
    fx_rec_header(&h);
    rec_writer_t *w = rec_writer_open(path, &h, true, &err);
    assert_non_null(w);
    rec_exchange_t x;
    fx_exchange(N_X - 1, &x);
    assert_int_equal(rec_writer_write(w, &x, &err), 0);
    rec_exchange_fini(&x);
    assert_int_equal(rec_writer_close(w), 0);
    rec_header_fini(&h);
    size_t size2;
    uint8_t *data2 = fx_read(path, &size2);
    assert_int_equal(size2, size);
    assert_memory_equal(data, data2, size);
    unlink(path);
    free(path);
    free(data);
    free(data2);
}

/* Append never cuts a file that is damaged rather than cut short, nor adds
 * to another kind of file. */
static void test_append_refuses_damaged(void **state)
{
    (void)state;
    char *path = write_sample();
    size_t size;
    uint8_t *data = fx_read(path, &size);
    data = realloc(data, size + 2);
    assert_non_null(data);
    data[size++] = 0xc1; /* never valid msgpack */
    data[size++] = 0x00;
    fx_write(path, data, size);
    mp_error_t err;
    rec_header_t h;
    fx_rec_header(&h);
    assert_null(rec_writer_open(path, &h, true, &err));
    assert_non_null(strstr(err.msg, "not valid msgpack"));
    size_t size2;
    uint8_t *data2 = fx_read(path, &size2);
    assert_int_equal(size2, size);
    free(data2);

    mpw_t w;
    mpw_init(&w);
    pack_header(&w, SCN_FORMAT, 1, 0);
    fx_write(path, w.sb.data, w.sb.size);
    assert_null(rec_writer_open(path, &h, true, &err));
    assert_non_null(strstr(err.msg, "expected 'aiotest-recording'"));
    mpw_fini(&w);
    rec_header_fini(&h);
    unlink(path);
    free(path);
    free(data);
}

static void test_writer_refuses_invalid(void **state)
{
    (void)state;
    char *path = fx_tmp(".mp");
    mp_error_t err;
    rec_header_t h;
    fx_rec_header(&h);
    rec_writer_t *w = rec_writer_open(path, &h, false, &err);
    assert_non_null(w);
    rec_exchange_t x;
    fx_exchange(0, &x);
    free(x.scheme);
    x.scheme = strdup("ftp");
    assert_int_equal(rec_writer_write(w, &x, &err), MP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "record 1: field 'scheme': expected \"http\" or \"https\""));
    x.status = 42;
    free(x.scheme);
    x.scheme = strdup("http");
    assert_int_equal(rec_exchange_validate(&x, &err), MP_ERR_INVALID);
    assert_string_equal(err.msg, "field 'status': must be 0 (no response) or 100..999");
    rec_exchange_fini(&x);
    rec_writer_close(w);
    rec_header_fini(&h);
    unlink(path);
    free(path);
}

/* The token check (a table since issue 20) accepts exactly RFC 9110's
 * tchar in methods and header names, and names the header it refuses. */
static void test_token_characters(void **state)
{
    (void)state;
    const char *punct = "!#$%&'*+-.^_`|~";
    mp_error_t err;
    for (int c = 1; c < 256; c++) {
        rec_exchange_t x;
        fx_exchange(0, &x);
        assert_true(x.resp_headers.n >= 1);
        char name[4] = { 'X', (char)c, 'Y', 0 };
        free(x.resp_headers.v[x.resp_headers.n - 1].name);
        x.resp_headers.v[x.resp_headers.n - 1].name = strdup(name);
        bool tchar = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     strchr(punct, c) != NULL;
        int rc = rec_exchange_validate(&x, &err);
        if (tchar) {
            assert_int_equal(rc, 0);
        } else {
            char want[96];
            snprintf(want, sizeof want, "field 'resp_headers[%zu]': header name must be a non-empty token",
                     x.resp_headers.n - 1);
            assert_int_equal(rc, MP_ERR_INVALID);
            assert_string_equal(err.msg, want);
        }
        free(x.method);
        x.method = strdup(name);
        rc = rec_exchange_validate(&x, &err);
        if (tchar) {
            assert_int_equal(rc, 0);
        } else {
            assert_int_equal(rc, MP_ERR_INVALID);
            assert_string_equal(err.msg, "field 'method': must be a non-empty token such as GET");
        }
        rec_exchange_fini(&x);
    }
    rec_exchange_t x;
    fx_exchange(0, &x);
    free(x.req_headers.v[0].name);
    x.req_headers.v[0].name = strdup("");
    assert_int_equal(rec_exchange_validate(&x, &err), MP_ERR_INVALID);
    assert_string_equal(err.msg, "field 'req_headers[0]': header name must be a non-empty token");
    free(x.req_headers.v[0].name);
    x.req_headers.v[0].name = strdup("Accept");
    free(x.req_headers.v[0].value);
    x.req_headers.v[0].value = NULL;
    assert_int_equal(rec_exchange_validate(&x, &err), MP_ERR_INVALID);
    assert_string_equal(err.msg, "field 'req_headers[0]': header value missing");
    rec_exchange_fini(&x);
}

static void test_headers_helpers(void **state)
{
    (void)state;
    rec_headers_t hs = {0};
    assert_int_equal(rec_headers_add(&hs, "Content-Type", "text/html"), 0);
    assert_int_equal(rec_headers_add(&hs, "content-type", "second"), 0);
    assert_string_equal(rec_headers_get(&hs, "CONTENT-TYPE"), "text/html");
    assert_null(rec_headers_get(&hs, "Accept"));
    assert_int_equal(hs.n, 2);
    rec_headers_fini(&hs);
    assert_int_equal(hs.n, 0);
}

/* Batch mode (issue 20): records stay in memory until the batch size or a
 * flush, are written whole, and read back the same as records written one
 * by one; close writes what is held. */
static long count_records(const char *path)
{
    mp_error_t err;
    rec_header_t h;
    rec_reader_t *r = rec_reader_open(path, &h, &err);
    assert_non_null(r);
    long n = 0;
    rec_exchange_t x;
    int rc;
    while ((rc = rec_reader_next(r, &x, &err)) == MP_OK) {
        rec_exchange_t want;
        fx_exchange((int)(n % N_X), &want);
        fx_assert_exchange_equal(&x, &want);
        rec_exchange_fini(&x);
        rec_exchange_fini(&want);
        n++;
    }
    assert_int_equal(rc, MP_EOF);
    rec_reader_close(r);
    rec_header_fini(&h);
    return n;
}

static void test_writer_batch(void **state)
{
    (void)state;
    char *path = fx_tmp(".mp");
    rec_header_t h;
    fx_rec_header(&h);
    mp_error_t err;
    rec_writer_t *w = rec_writer_open(path, &h, false, &err);
    assert_non_null(w);
    rec_writer_set_batch(w, 1u << 20);
    for (int i = 0; i < 5; i++) {
        rec_exchange_t x;
        fx_exchange(i % N_X, &x);
        assert_int_equal(rec_writer_write(w, &x, &err), 0);
        rec_exchange_fini(&x);
    }
    assert_int_equal(count_records(path), 0); /* held: only the header is in the file */
    assert_int_equal(rec_writer_flush(w, &err), 0);
    assert_int_equal(count_records(path), 5);
    /* a batch of one byte writes every record at once */
    rec_writer_set_batch(w, 1);
    rec_exchange_t x;
    fx_exchange(5 % N_X, &x);
    assert_int_equal(rec_writer_write(w, &x, &err), 0);
    rec_exchange_fini(&x);
    assert_int_equal(count_records(path), 6);
    /* close writes what is held */
    rec_writer_set_batch(w, 1u << 20);
    for (int i = 6; i < 9; i++) {
        fx_exchange(i % N_X, &x);
        assert_int_equal(rec_writer_write(w, &x, &err), 0);
        rec_exchange_fini(&x);
    }
    assert_int_equal(count_records(path), 6);
    assert_int_equal(rec_writer_close(w), 0);
    assert_int_equal(count_records(path), 9);
    rec_header_fini(&h);
    unlink(path);
    free(path);
}

/* rec_writer_set_headers_built (issue 20): the header entries are the
 * builder's to check; everything else is still validated. */
static void test_writer_headers_built(void **state)
{
    (void)state;
    char *path = fx_tmp(".mp");
    rec_header_t h;
    fx_rec_header(&h);
    mp_error_t err;
    rec_writer_t *w = rec_writer_open(path, &h, false, &err);
    assert_non_null(w);
    rec_writer_set_headers_built(w, true);
    rec_exchange_t x;
    fx_exchange(0, &x);
    char *client = x.client;
    x.client = NULL;
    assert_int_equal(rec_writer_write(w, &x, &err), MP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "field 'client'"));
    x.client = client;
    assert_int_equal(rec_writer_write(w, &x, &err), 0);
    rec_exchange_fini(&x);
    assert_int_equal(rec_writer_close(w), 0);
    assert_int_equal(count_records(path), 1);
    fx_exchange(0, &x);
    assert_int_equal(rec_exchange_validate_built(&x, &err), 0);
    free(x.req_headers.v[0].name);
    x.req_headers.v[0].name = strdup("bad name");
    assert_int_equal(rec_exchange_validate_built(&x, &err), 0);   /* the builder's part */
    assert_int_equal(rec_exchange_validate(&x, &err), MP_ERR_INVALID); /* checked otherwise */
    rec_exchange_fini(&x);
    rec_header_fini(&h);
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_every_field),
        cmocka_unit_test(test_cut_at_every_byte),
        cmocka_unit_test(test_newer_major_refused),
        cmocka_unit_test(test_newer_minor_and_unknown_keys),
        cmocka_unit_test(test_wrong_types_and_missing_fields),
        cmocka_unit_test(test_not_a_map_and_other_format),
        cmocka_unit_test(test_random_bytes_and_mutations),
        cmocka_unit_test(test_impossible_counts),
        cmocka_unit_test(test_append_continues_after_a_cut),
        cmocka_unit_test(test_append_refuses_damaged),
        cmocka_unit_test(test_writer_refuses_invalid),
        cmocka_unit_test(test_token_characters),
        cmocka_unit_test(test_headers_helpers),
        cmocka_unit_test(test_writer_batch),
        cmocka_unit_test(test_writer_headers_built),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

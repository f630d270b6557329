/* fixtures: see fixtures.h. */
#include "fixtures.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char *dupf(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *s = strdup(buf);
    assert_non_null(s);
    return s;
}

static uint8_t *bytes(const void *p, size_t n)
{
    uint8_t *b = malloc(n + 1);
    assert_non_null(b);
    memcpy(b, p, n);
    b[n] = 0;
    return b;
}

void fx_rec_header(rec_header_t *h)
{
    memset(h, 0, sizeof *h);
    h->version_major = REC_VERSION_MAJOR;
    h->version_minor = REC_VERSION_MINOR;
    h->created_us = 1764077400123456;
    h->source = dupf("proxy");
    h->tool = dupf("aiotest-capture 0.1.0");
}

void fx_exchange(int i, rec_exchange_t *x)
{
    memset(x, 0, sizeof *x);
    x->client = dupf("127.0.0.1:%d", 40000 + i);
    x->conn_id = 7 + (uint64_t)i;
    x->stream_id = (uint32_t)(2 * i + 1);
    x->t_start_us = 1764077400000000 + i * 1000;
    x->t_first_byte_us = x->t_start_us + 250;
    x->t_end_us = x->t_start_us + 900;
    x->scheme = dupf(i % 2 ? "https" : "http");
    x->authority = dupf("shop.test:%d", 8000 + i);
    x->method = dupf(i % 2 ? "POST" : "GET");
    x->target = dupf("/api/item/%d?q=a%%20b", i);
    x->http_version = dupf(i % 2 ? "HTTP/2" : "HTTP/1.1");
    assert_int_equal(rec_headers_add(&x->req_headers, "Host", "shop.test"), 0);
    assert_int_equal(rec_headers_add(&x->req_headers, "X-Dup", "1"), 0);
    assert_int_equal(rec_headers_add(&x->req_headers, "x-dup", "2"), 0);
    assert_int_equal(rec_headers_add(&x->resp_headers, "Set-Cookie", "session=abc; Path=/"), 0);
    assert_int_equal(rec_headers_add(&x->resp_headers, "Content-Type", "application/json"), 0);
    if (i % 2) {
        static const uint8_t bin[] = { 0x00, 0xff, 0xfe, 0x80, 'a', 0x00, 0xc3 };
        x->req_body = bytes(bin, sizeof bin);
        x->req_body_len = sizeof bin;
    } else {
        static const char txt[] = "{\"user\":\"ann\",\"pass\":\"é\"}";
        x->req_body = bytes(txt, strlen(txt));
        x->req_body_len = strlen(txt);
    }
    x->req_truncated = i % 2;
    x->status = 200 + i;
    char resp[64];
    int n = snprintf(resp, sizeof resp, "{\"token\":\"t%d\"}", i);
    x->resp_body = bytes(resp, (size_t)n);
    x->resp_body_len = (size_t)n;
    x->resp_truncated = !(i % 2);
    x->flags = REC_F_TLS | (i % 2 ? REC_F_H2 | REC_F_ERROR : 0) | (i == 2 ? 1u << 20 : 0);
    x->error = i % 2 ? dupf("upstream reset #%d", i) : NULL;
    x->tunnel_bytes_up = (uint64_t)i * 11;
    x->tunnel_bytes_down = UINT64_MAX - (uint64_t)i;
}

static void assert_str_eq_null(const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void assert_bytes_equal(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    assert_int_equal(an, bn);
    if (an)
        assert_memory_equal(a, b, an);
}

static void assert_headers_equal(const rec_headers_t *a, const rec_headers_t *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_string_equal(a->v[i].name, b->v[i].name);
        assert_string_equal(a->v[i].value, b->v[i].value);
    }
}

void fx_assert_rec_header_equal(const rec_header_t *a, const rec_header_t *b)
{
    assert_int_equal(a->version_major, b->version_major);
    assert_int_equal(a->version_minor, b->version_minor);
    assert_int_equal(a->created_us, b->created_us);
    assert_string_equal(a->source, b->source);
    assert_string_equal(a->tool, b->tool);
}

void fx_assert_exchange_equal(const rec_exchange_t *a, const rec_exchange_t *b)
{
    assert_string_equal(a->client, b->client);
    assert_int_equal(a->conn_id, b->conn_id);
    assert_int_equal(a->stream_id, b->stream_id);
    assert_int_equal(a->t_start_us, b->t_start_us);
    assert_int_equal(a->t_first_byte_us, b->t_first_byte_us);
    assert_int_equal(a->t_end_us, b->t_end_us);
    assert_string_equal(a->scheme, b->scheme);
    assert_string_equal(a->authority, b->authority);
    assert_string_equal(a->method, b->method);
    assert_string_equal(a->target, b->target);
    assert_string_equal(a->http_version, b->http_version);
    assert_headers_equal(&a->req_headers, &b->req_headers);
    assert_bytes_equal(a->req_body, a->req_body_len, b->req_body, b->req_body_len);
    assert_int_equal(a->req_truncated, b->req_truncated);
    assert_int_equal(a->status, b->status);
    assert_headers_equal(&a->resp_headers, &b->resp_headers);
    assert_bytes_equal(a->resp_body, a->resp_body_len, b->resp_body, b->resp_body_len);
    assert_int_equal(a->resp_truncated, b->resp_truncated);
    assert_int_equal(a->flags, b->flags);
    assert_str_eq_null(a->error, b->error);
    assert_int_equal(a->tunnel_bytes_up, b->tunnel_bytes_up);
    assert_int_equal(a->tunnel_bytes_down, b->tunnel_bytes_down);
}

char *fx_tmp(const char *suffix)
{
    static int seq;
    const char *dir = getenv("TMPDIR");
    return dupf("%s/aiotest-scn-%d-%d%s", dir && *dir ? dir : "/tmp", (int)getpid(), seq++, suffix);
}

void fx_write(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    if (n)
        assert_int_equal(fwrite(data, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

uint8_t *fx_read(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, got;
    do {
        if (len + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        got = fread(buf + len, 1, 4096, fp);
        len += got;
    } while (got > 0);
    fclose(fp);
    *n = len;
    return buf;
}

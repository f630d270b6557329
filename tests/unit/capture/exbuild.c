/* Unit tests of capture/exbuild.c, the one exchange builder: its rules, and
 * that the proxy recorder (record.c) and the pcap recorder (pcap/pcaprec.c)
 * write the same exchange for the same request and response. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "exbuild.h"
#include "pcaprec.h"
#include "record.h"

/* strdup whose next strdup_fails calls fail: the builder and the recording
 * library linked into this program call this one, so out of memory can be
 * shown without exhausting memory. */
static int strdup_fails;
char *strdup(const char *s)
{
    if (strdup_fails > 0) {
        strdup_fails--;
        return NULL;
    }
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    return p ? memcpy(p, s, n) : NULL;
}

static const char *hval(const rec_headers_t *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->v[i].name, name) == 0)
            return h->v[i].value;
    return NULL;
}

/* Request and response with every kind of header a recorder must leave out. */
static void sample(rec_headers_t *req, rec_headers_t *resp)
{
    rec_headers_add(req, ":authority", "shop.example");
    rec_headers_add(req, "Connection", "keep-alive, X-Hop");
    rec_headers_add(req, "X-Hop", "1");
    rec_headers_add(req, "Keep-Alive", "timeout=5");
    rec_headers_add(req, "Bad Name", "x");      /* not a token: unwritable */
    rec_headers_add(req, "Cookie", "sid=abc");
    rec_headers_add(req, "Accept", "*/*");
    rec_headers_add(resp, ":status", "200");
    rec_headers_add(resp, "Transfer-Encoding", "chunked");
    rec_headers_add(resp, "Content-Type", "text/plain");
}

static void test_rules(void **state)
{
    (void)state;
    rec_headers_t req = { 0 }, resp = { 0 };
    sample(&req, &resp);
    exb_sink_t sink = { .max_body = 4, .session = { .cookie = "sid" } };
    exb_req_t q = { .scheme = "https", .authority = "shop.example", .method = "GET", .target = "/a",
                    .http_version = "HTTP/2", .headers = &req, .stream_id = 3, .tls = true,
                    .t_start_us = 1000 };
    exb_t b;
    assert_int_equal(exb_begin(&b, &sink, &q), 0);
    assert_true(b.keep);
    assert_int_equal(b.x.flags, REC_F_TLS | REC_F_H2);
    assert_int_equal(b.x.req_headers.n, 2);
    assert_string_equal(b.x.req_headers.v[0].name, "Cookie");
    assert_string_equal(b.x.req_headers.v[1].name, "Accept");
    exb_req_body(&b, "0123", 4);
    exb_req_body(&b, "45", 2);
    assert_int_equal(b.x.req_body_len, 4);
    assert_true(b.x.req_truncated);
    exb_resp_head(&b, &sink, 200, &resp, 500); /* before the start: clamped */
    assert_int_equal(b.x.t_first_byte_us, 1000);
    assert_int_equal(b.x.resp_headers.n, 1);
    assert_string_equal(b.x.resp_headers.v[0].name, "Content-Type");
    assert_true(exb_flag(&b, REC_F_INCOMPLETE, "first"));
    assert_false(exb_flag(&b, REC_F_ERROR, "second"));
    assert_string_equal(b.x.error, "first");
    assert_int_equal(b.x.flags & (REC_F_INCOMPLETE | REC_F_ERROR), REC_F_INCOMPLETE | REC_F_ERROR);
    char *last = NULL;
    exb_end(&b, 2000, &last, "10.0.0.1");
    assert_non_null(last);
    assert_string_equal(b.x.client, last); /* the session, remembered for the connection */
    assert_int_equal(strncmp(last, "session:", 8), 0);
    exb_fini(&b);

    /* No session in the request: the connection's last one, else the address. */
    rec_headers_t plain = { 0 };
    q.headers = &plain;
    assert_int_equal(exb_begin(&b, &sink, &q), 0);
    exb_end(&b, 2000, &last, "10.0.0.1");
    assert_string_equal(b.x.client, last);
    exb_fini(&b);
    free(last);
    last = NULL;
    assert_int_equal(exb_begin(&b, &sink, &q), 0);
    exb_end(&b, 0, &last, "10.0.0.1");
    assert_string_equal(b.x.client, "10.0.0.1");
    assert_null(last);
    exb_fini(&b);
    rec_headers_fini(&req);
    rec_headers_fini(&resp);
}

static void test_forwarded_and_filter(void **state)
{
    (void)state;
    rec_headers_t req = { 0 };
    rec_headers_add(&req, "X-Forwarded-For", "192.0.2.9, 10.0.0.1");
    exb_sink_t sink = { .max_body = 64, .session = { .forwarded = true } };
    exb_req_t q = { .authority = "shop.example", .method = "GET", .target = "/skip/me", .headers = &req };
    char err[128];
    filter_t *f = filter_new();
    assert_int_equal(filter_exclude_path(f, "^/skip", err, sizeof err), 0);
    sink.filter = f;
    exb_t b;
    assert_int_equal(exb_begin(&b, &sink, &q), 0);
    assert_false(b.keep);
    assert_int_equal(b.x.req_headers.n, 0); /* filtered out: nothing copied */
    char *last = NULL;
    exb_end(&b, 5, &last, "10.0.0.1");
    assert_string_equal(b.x.client, "192.0.2.9");
    assert_int_equal(exb_write(&b, &sink), EXB_FILTERED);
    exb_fini(&b);
    filter_free(f);
    rec_headers_fini(&req);
}

/* Response headers that cannot be copied (out of memory) leave the exchange
 * flagged incomplete with the reason, not silently short of headers. */
static void test_resp_headers_oom(void **state)
{
    (void)state;
    rec_headers_t resp = { 0 };
    rec_headers_add(&resp, "Content-Type", "text/plain");
    /* an active redaction rule: header entries are then copied by strdup
     * (not packed, see test_packed_lists_as_copied), which fails here */
    redact_t *r = redact_new();
    assert_int_equal(redact_header(r, "X-None"), 0);
    exb_sink_t sink = { .max_body = 64, .redact = r };
    exb_req_t q = { .authority = "a", .method = "GET", .target = "/", .t_start_us = 10 };
    exb_t b;
    assert_int_equal(exb_begin(&b, &sink, &q), 0);
    strdup_fails = 1;
    exb_resp_head(&b, &sink, 200, &resp, 20);
    strdup_fails = 0;
    assert_true(b.x.flags & REC_F_INCOMPLETE);
    assert_non_null(b.x.error);
    assert_non_null(strstr(b.x.error, "out of memory"));
    exb_fini(&b);
    rec_headers_fini(&resp);
    redact_free(r);
}

/* Without redaction each kept header is one allocation, its value after its
 * name (issue 20); the lists hold what the unpacked copy holds, a second head
 * or trailer block replaces them, and exb_fini frees them (ASan checks). */
static void test_packed_lists_as_copied(void **state)
{
    (void)state;
    rec_headers_t req = { 0 }, resp = { 0 }, resp2 = { 0 }, tr = { 0 };
    rec_headers_add(&req, "Host", "a");
    rec_headers_add(&req, "Connection", "keep-alive");
    rec_headers_add(&req, "X-Empty", "");
    rec_headers_add(&req, "Cookie", "s=1");
    rec_headers_add(&resp, "Content-Type", "text/plain");
    rec_headers_add(&resp2, "Content-Length", "2");
    rec_headers_add(&resp2, "Set-Cookie", "s=2");
    rec_headers_add(&tr, "grpc-status", "0");
    redact_t *r = redact_new();
    assert_int_equal(redact_header(r, "X-None"), 0);
    exb_sink_t packed = { .max_body = 64 }, plain = { .max_body = 64, .redact = r };
    exb_req_t q = { .authority = "a", .method = "GET", .target = "/", .t_start_us = 10, .headers = &req };
    exb_t b[2];
    const exb_sink_t *sinks[2] = { &packed, &plain };
    for (int i = 0; i < 2; i++) {
        assert_int_equal(exb_begin(&b[i], sinks[i], &q), 0);
        exb_resp_head(&b[i], sinks[i], 100, &resp, 20);
        exb_resp_head(&b[i], sinks[i], 200, &resp2, 30);
        exb_resp_trailers(&b[i], &tr);
        exb_resp_trailers(&b[i], &tr);
    }
    assert_true(b[0].pack);
    assert_false(b[1].pack);
    const rec_headers_t *lists[2][3] = {
        { &b[0].x.req_headers, &b[0].x.resp_headers, &b[0].x.resp_trailers },
        { &b[1].x.req_headers, &b[1].x.resp_headers, &b[1].x.resp_trailers },
    };
    for (int l = 0; l < 3; l++) {
        assert_int_equal(lists[0][l]->n, lists[1][l]->n);
        for (size_t k = 0; k < lists[0][l]->n; k++) {
            assert_string_equal(lists[0][l]->v[k].name, lists[1][l]->v[k].name);
            assert_string_equal(lists[0][l]->v[k].value, lists[1][l]->v[k].value);
        }
    }
    assert_int_equal(b[0].x.req_headers.n, 3); /* Connection dropped */
    assert_string_equal(hval(&b[0].x.req_headers, "X-Empty"), "");
    assert_string_equal(hval(&b[0].x.resp_headers, "Set-Cookie"), "s=2");
    assert_null(b[0].x.error);
    for (int i = 0; i < 2; i++)
        exb_fini(&b[i]);
    rec_headers_fini(&req);
    rec_headers_fini(&resp);
    rec_headers_fini(&resp2);
    rec_headers_fini(&tr);
    redact_free(r);
}

/* te: trailers (a gRPC call's) is kept where other te values are not; trailers
 * are cleaned as headers and replace earlier ones; WebSocket messages are
 * capped at max_body; out of memory is flagged, never silent. */
static void test_trailers_and_ws(void **state)
{
    (void)state;
    rec_headers_t req = { 0 }, tr = { 0 }, tr2 = { 0 };
    rec_headers_add(&req, "te", "trailers");
    rec_headers_add(&req, "Content-Type", "application/grpc");
    rec_headers_add(&tr, "grpc-status", "14");
    rec_headers_add(&tr, "Bad Name", "x");
    rec_headers_add(&tr, "grpc-message", "down");
    rec_headers_add(&tr2, "grpc-status", "0");
    redact_t *r = redact_new(); /* active: entries by strdup, which fails below */
    assert_int_equal(redact_header(r, "X-None"), 0);
    exb_sink_t sink = { .max_body = 4, .redact = r };
    exb_req_t q = { .authority = "a", .method = "POST", .target = "/s/M", .t_start_us = 10 };
    q.headers = &req;
    exb_t b;
    assert_int_equal(exb_begin(&b, &sink, &q), 0);
    assert_string_equal(hval(&b.x.req_headers, "te"), "trailers");
    exb_resp_trailers(&b, &tr);
    assert_int_equal(b.x.resp_trailers.n, 2);
    assert_string_equal(hval(&b.x.resp_trailers, "grpc-status"), "14");
    assert_string_equal(hval(&b.x.resp_trailers, "grpc-message"), "down");
    exb_resp_trailers(&b, &tr2);
    assert_int_equal(b.x.resp_trailers.n, 1);
    assert_string_equal(hval(&b.x.resp_trailers, "grpc-status"), "0");
    assert_null(b.x.error);

    uint8_t payload[] = "abcdef";
    rec_ws_msg_t m = { .dir = REC_WS_UP, .opcode = 1, .t_us = 5, .data = payload, .len = 6 };
    exb_ws(&b, &m);
    m.len = 2;
    m.dir = REC_WS_DOWN;
    exb_ws(&b, &m);
    assert_int_equal(b.x.n_ws, 2);
    assert_int_equal(b.x.ws[0].len, 4);
    assert_true(b.x.ws[0].truncated);
    assert_memory_equal(b.x.ws[0].data, "abcd", 4);
    assert_int_equal(b.x.ws[1].len, 2);
    assert_false(b.x.ws[1].truncated);
    assert_int_equal(b.x.ws[1].dir, REC_WS_DOWN);

    strdup_fails = 1;
    exb_resp_trailers(&b, &tr);
    strdup_fails = 0;
    assert_true(b.x.flags & REC_F_INCOMPLETE);
    assert_non_null(strstr(b.x.error, "trailers"));
    exb_fini(&b);

    /* te other than trailers is the connection's. */
    rec_headers_t gz = { 0 };
    rec_headers_add(&gz, "te", "gzip");
    q.headers = &gz;
    assert_int_equal(exb_begin(&b, &sink, &q), 0);
    assert_null(hval(&b.x.req_headers, "te"));
    exb_fini(&b);
    rec_headers_fini(&gz);
    rec_headers_fini(&req);
    rec_headers_fini(&tr);
    rec_headers_fini(&tr2);
    redact_free(r);
}

/* Reads the one exchange of path into x. */
static void read_one(const char *path, const char *source, rec_exchange_t *x)
{
    rec_header_t h = { 0 };
    mp_error_t err;
    rec_reader_t *r = rec_reader_open(path, &h, &err);
    assert_non_null(r);
    assert_string_equal(h.source, source);
    assert_int_equal(rec_reader_next(r, x, &err), MP_OK);
    rec_reader_close(r);
    rec_header_fini(&h);
}

static void assert_same_headers(const rec_headers_t *a, const rec_headers_t *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_string_equal(a->v[i].name, b->v[i].name);
        assert_string_equal(a->v[i].value, b->v[i].value);
    }
}

/* The same traffic through both recorders: same headers kept, same flags,
 * same body cap, same client key. */
static void test_both_recorders_agree(void **state)
{
    (void)state;
    char ppath[] = "/tmp/test-exbuild-proxy.XXXXXX", cpath[] = "/tmp/test-exbuild-pcap.XXXXXX";
    close(mkstemp(ppath));
    close(mkstemp(cpath));
    char err[256];
    rec_headers_t req = { 0 }, resp = { 0 }, tr = { 0 };
    sample(&req, &resp);
    rec_headers_add(&tr, "grpc-status", "0");
    rec_headers_add(&tr, "Bad Name", "x");

    record_opts_t ro = { .path = ppath, .max_body = 3, .session_cookie = "sid" };
    record_t *rec = record_open(&ro, err, sizeof err);
    assert_non_null(rec);
    record_conn_t rc = { .addr = "10.0.0.7", .id = record_next_conn_id(rec) };
    recx_t *x = recx_begin(rec, &rc, 0, "http", "shop.example", "POST", "/cart", "HTTP/1.1", &req);
    assert_non_null(x);
    recx_req_body(x, "abcdef", 6);
    recx_resp_head(x, 200, &resp, 0);
    recx_resp_body(x, "ok", 2);
    recx_resp_trailers(x, &tr);
    recx_end(x);
    assert_int_equal(record_close(rec), 0);
    record_conn_fini(&rc);

    pcaprec_opts_t po = { .path = cpath, .max_body = 3, .session = { .cookie = "sid" } };
    pcaprec_t *pr = pcaprec_open(&po, err, sizeof err);
    assert_non_null(pr);
    pcaprec_conn_t pc;
    uint8_t cli[16] = { 10, 0, 0, 7 }, srv[16] = { 10, 0, 0, 8 };
    pcaprec_conn_init(&pc, 4, cli, srv, 80);
    pcx_req_t q = { .scheme = "http", .authority = "shop.example", .method = "POST", .target = "/cart",
                    .http_version = "HTTP/1.1", .headers = &req, .t_start_us = 10 };
    pcx_t *px = pcx_begin(pr, &pc, &q);
    assert_non_null(px);
    pcx_req_body(px, "abcdef", 6);
    pcx_resp_head(px, 200, &resp, 20);
    pcx_resp_body(px, "ok", 2);
    pcx_resp_trailers(px, &tr);
    pcx_end(px, 30);
    assert_int_equal(pcaprec_close(pr), 0);
    pcaprec_conn_fini(&pc);

    rec_exchange_t a = { 0 }, b = { 0 };
    read_one(ppath, "proxy", &a);
    read_one(cpath, "pcap", &b);
    assert_same_headers(&a.req_headers, &b.req_headers);
    assert_same_headers(&a.resp_headers, &b.resp_headers);
    assert_same_headers(&a.resp_trailers, &b.resp_trailers);
    assert_int_equal(a.resp_trailers.n, 1);
    assert_null(hval(&a.req_headers, "Bad Name"));
    assert_null(hval(&a.req_headers, "X-Hop"));
    assert_non_null(hval(&a.req_headers, "Cookie"));
    assert_int_equal(a.flags, b.flags);
    assert_int_equal(a.req_body_len, 3);
    assert_int_equal(b.req_body_len, 3);
    assert_true(a.req_truncated && b.req_truncated);
    assert_string_equal(a.client, b.client);
    rec_exchange_fini(&a);
    rec_exchange_fini(&b);
    rec_headers_fini(&req);
    rec_headers_fini(&resp);
    rec_headers_fini(&tr);
    unlink(ppath);
    unlink(cpath);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_forwarded_and_filter),
        cmocka_unit_test(test_both_recorders_agree),
        cmocka_unit_test(test_resp_headers_oom),
        cmocka_unit_test(test_packed_lists_as_copied),
        cmocka_unit_test(test_trailers_and_ws),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of capture/record.c: what an exchange looks like in the file
 * (hop-by-hop and pseudo-headers out, redaction, body cap, session keys). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <event2/event.h>

#include "record.h"

typedef struct fixture {
    char path[64];
    filter_t *filter;
    redact_t *redact;
    record_t *rec;
    record_conn_t conn;
} fixture_t;

static int setup_with(void **state, const char *cookie, const char *header)
{
    fixture_t *f = calloc(1, sizeof *f);
    char err[256];
    snprintf(f->path, sizeof f->path, "/tmp/test-capture-record.XXXXXX");
    int fd = mkstemp(f->path);
    close(fd);
    f->filter = filter_new();
    f->redact = redact_new();
    redact_header(f->redact, "Authorization");
    filter_exclude_path(f->filter, "^/skip", err, sizeof err);
    record_opts_t o = { .path = f->path, .max_body = 8, .filter = f->filter, .redact = f->redact,
                        .session_cookie = cookie, .session_header = header };
    f->rec = record_open(&o, err, sizeof err);
    assert_non_null(f->rec);
    snprintf(f->conn.addr, sizeof f->conn.addr, "10.0.0.7");
    f->conn.id = record_next_conn_id(f->rec);
    *state = f;
    return 0;
}

static int setup_plain(void **state) { return setup_with(state, NULL, NULL); }
static int setup_cookie(void **state) { return setup_with(state, "session", NULL); }
static int setup_header(void **state) { return setup_with(state, NULL, "X-Session"); }

static int teardown(void **state)
{
    fixture_t *f = *state;
    record_conn_fini(&f->conn);
    filter_free(f->filter);
    redact_free(f->redact);
    unlink(f->path);
    free(f);
    return 0;
}

/* Closes the recording and reads its exchanges into xs (up to n). */
static size_t read_back(fixture_t *f, rec_exchange_t *xs, size_t n)
{
    assert_int_equal(record_close(f->rec), 0);
    f->rec = NULL;
    rec_header_t h = { 0 };
    mp_error_t err;
    rec_reader_t *r = rec_reader_open(f->path, &h, &err);
    assert_non_null(r);
    assert_string_equal(h.source, "proxy");
    size_t k = 0;
    while (k < n && rec_reader_next(r, &xs[k], &err) == MP_OK)
        k++;
    rec_reader_close(r);
    rec_header_fini(&h);
    return k;
}

static void one_exchange(fixture_t *f, const char *target, const char *cookie, const char *set_cookie)
{
    rec_headers_t req = { 0 }, resp = { 0 };
    rec_headers_add(&req, ":authority", "shop.example");
    rec_headers_add(&req, "Connection", "keep-alive, X-Hop");
    rec_headers_add(&req, "X-Hop", "1");
    rec_headers_add(&req, "Authorization", "Bearer secret-token");
    if (cookie)
        rec_headers_add(&req, "Cookie", cookie);
    rec_headers_add(&req, "Accept", "*/*");
    if (set_cookie)
        rec_headers_add(&resp, "Set-Cookie", set_cookie);
    rec_headers_add(&resp, "Transfer-Encoding", "chunked");
    rec_headers_add(&resp, "Content-Type", "text/plain");
    recx_t *x = recx_begin(f->rec, &f->conn, 0, "http", "shop.example", "POST", target, "HTTP/1.1", &req);
    assert_non_null(x);
    recx_req_body(x, "0123", 4);
    recx_req_body(x, "456789", 6);
    recx_resp_head(x, 200, &resp, 0);
    recx_resp_body(x, "ok", 2);
    recx_end(x);
    rec_headers_fini(&req);
    rec_headers_fini(&resp);
}

static void headers_bodies_and_filters(void **state)
{
    fixture_t *f = *state;
    one_exchange(f, "/api/cart", NULL, NULL);
    one_exchange(f, "/skip/me", NULL, NULL);
    record_stats_t st;
    record_get_stats(f->rec, &st);
    assert_int_equal(st.exchanges, 1);
    assert_int_equal(st.skipped, 1);
    assert_int_equal(st.bytes_up, 20);
    rec_exchange_t xs[4] = { 0 };
    assert_int_equal(read_back(f, xs, 4), 1);
    rec_exchange_t *x = &xs[0];
    assert_string_equal(x->client, "10.0.0.7");
    assert_int_equal(x->req_headers.n, 2); /* :authority, Connection, X-Hop dropped */
    assert_string_equal(x->req_headers.v[0].name, "Authorization");
    assert_string_equal(x->req_headers.v[0].value, "{{secret.authorization}}");
    assert_string_equal(x->req_headers.v[1].name, "Accept");
    assert_int_equal(x->resp_headers.n, 1);
    assert_string_equal(x->resp_headers.v[0].name, "Content-Type");
    assert_int_equal(x->req_body_len, 8);
    assert_memory_equal(x->req_body, "01234567", 8);
    assert_true(x->req_truncated);
    assert_false(x->resp_truncated);
    assert_true(x->t_start_us <= x->t_end_us);
    rec_exchange_fini(x);
}

static void login_that_sets_the_cookie_starts_its_session(void **state)
{
    fixture_t *f = *state;
    one_exchange(f, "/api/login", NULL, "session=abc123; Path=/; HttpOnly");
    one_exchange(f, "/api/cart", "theme=dark; session=abc123", NULL);
    one_exchange(f, "/api/next", NULL, NULL); /* no cookie: the connection's last session */
    one_exchange(f, "/api/other", "session=zzz", NULL);
    rec_exchange_t xs[4] = { 0 };
    assert_int_equal(read_back(f, xs, 4), 4);
    assert_memory_equal(xs[0].client, "session:", 8);
    assert_int_equal(strlen(xs[0].client), 8 + 16);
    assert_null(strstr(xs[0].client, "abc123"));
    assert_string_equal(xs[0].client, xs[1].client);
    assert_string_equal(xs[1].client, xs[2].client);
    assert_string_not_equal(xs[2].client, xs[3].client);
    for (int i = 0; i < 4; i++)
        rec_exchange_fini(&xs[i]);
}

static void session_header_keys_and_connection_fallback(void **state)
{
    fixture_t *f = *state;
    rec_headers_t a = { 0 }, none = { 0 };
    rec_headers_add(&a, "x-session", "user-1");
    const rec_headers_t *seq[] = { &none, &a, &none };
    for (int i = 0; i < 3; i++) {
        recx_t *x = recx_begin(f->rec, &f->conn, (uint32_t)(2 * i + 1), "https", "h", "GET", "/", "HTTP/2", seq[i]);
        recx_resp_head(x, 204, NULL, 0);
        recx_end(x);
    }
    rec_headers_fini(&a);
    rec_exchange_t xs[3] = { 0 };
    assert_int_equal(read_back(f, xs, 3), 3);
    assert_string_equal(xs[0].client, "10.0.0.7");      /* nothing seen yet: the address */
    assert_memory_equal(xs[1].client, "session:", 8);
    assert_string_equal(xs[2].client, xs[1].client);    /* same connection, no header */
    assert_int_equal(xs[2].stream_id, 5);
    assert_true(xs[2].flags & REC_F_H2);
    for (int i = 0; i < 3; i++)
        rec_exchange_fini(&xs[i]);
}

static long file_size(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return (long)sb.st_size;
}

/* The exchange ending in a callback of the loop's pass. */
static void end_three(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    fixture_t *f = arg;
    long before = file_size(f->path);
    for (int i = 0; i < 3; i++)
        one_exchange(f, "/api/cart", NULL, NULL);
    /* Packed, not yet written: the pass is still running. */
    assert_int_equal(file_size(f->path), before);
}

/* With record_set_loop the records of one pass of the loop leave together
 * when the pass ends, before the loop waits again (what kill -9 keeps). */
static void records_of_a_pass_leave_together_at_its_end(void **state)
{
    fixture_t *f = *state;
    struct event_base *base = event_base_new();
    assert_non_null(base);
    assert_int_equal(record_set_loop(f->rec, base), 0);
    long header = file_size(f->path);
    struct event *ev = event_new(base, -1, 0, end_three, f);
    event_active(ev, EV_TIMEOUT, 1);
    assert_int_equal(event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK), 0);
    assert_true(file_size(f->path) > header);
    /* Readable while the recorder is still open: all three are whole records. */
    rec_header_t h = { 0 };
    mp_error_t err;
    rec_reader_t *r = rec_reader_open(f->path, &h, &err);
    assert_non_null(r);
    rec_exchange_t x = { 0 };
    int n = 0;
    while (rec_reader_next(r, &x, &err) == MP_OK) {
        n++;
        rec_exchange_fini(&x);
    }
    assert_int_equal(n, 3);
    rec_reader_close(r);
    rec_header_fini(&h);
    /* One more after the pass: written at close. */
    one_exchange(f, "/api/cart", NULL, NULL);
    rec_exchange_t xs[5] = { 0 };
    assert_int_equal(read_back(f, xs, 5), 4);
    for (int i = 0; i < 4; i++)
        rec_exchange_fini(&xs[i]);
    event_free(ev);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(headers_bodies_and_filters, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(records_of_a_pass_leave_together_at_its_end, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(login_that_sets_the_cookie_starts_its_session, setup_cookie, teardown),
        cmocka_unit_test_setup_teardown(session_header_keys_and_connection_fallback, setup_header, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of http/hc_h2.c through the connection slot (http/hc.c): an
 * nghttp2 server on loopback, on the test's own event_base, answers h2c with
 * prior knowledge in scripted ways (limits, RST_STREAM, GOAWAY, garbage, a
 * large body) and the exchanges' outcomes are checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include "clock.h"
#include "hc.h"
#include "hc_h2.h"
#include "target.h"

/* ---- the server */

enum mode {
    M_OK,        /* answer each request at once: 200 "hello" */
    M_SLOW,      /* answer every pending request each 20 ms */
    M_GOAWAY,    /* first connection: with 3 requests in, answer the first and GOAWAY */
    M_HOLD,      /* keep requests until srv_answer_all */
    M_GARBAGE,   /* answer the preface with HTTP/1.1 bytes */
    M_BIG,       /* answer with a body of BIG_LEN bytes (or srv.big_len) */
};

#define BIG_LEN (40u * 1024 * 1024)

typedef struct srv srv_t;

typedef struct sconn {
    srv_t *s;
    int fd;
    int idx;                    /* accept order, from 1 */
    nghttp2_session *sess;
    struct event *rev, *wev;
    char *out;                  /* bytes the socket did not take */
    size_t out_len, out_off;
    int32_t pending[64];
    int n_pending;
    int32_t begun[64];          /* request streams, in order */
    int n_begun;
    int open_streams;
    bool goaway_sent;
    struct sconn *next;
} sconn_t;

struct srv {
    struct event_base *base;
    int lfd;
    unsigned short port;
    struct event *lev, *tick;
    enum mode mode;
    uint32_t max_streams;       /* 0: nghttp2's default */
    int accepts, requests, max_open, cancels;
    bool manual_window;         /* no WINDOW_UPDATE but srv_open_windows' */
    size_t big_len;             /* M_BIG's body length when not 0 */
    size_t body_bytes;          /* request DATA received, all streams */
    sconn_t *conns;
};

static size_t big_sent;

static void sc_flush(sconn_t *c);

static ssize_t big_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                        nghttp2_data_source *src, void *ud)
{
    (void)ud;
    size_t *left = src->ptr;
    size_t n = len < *left ? len : *left;
    memset(buf, 'z', n);
    *left -= n;
    big_sent += n;
    if (*left == 0) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        nghttp2_session_set_stream_user_data(s, id, NULL);
        free(left);
    }
    return (ssize_t)n;
}

/* Frees the byte counter of stream id's big body, if it still has one (the
 * stream's user data; 1 and 2 mark the special paths). */
static void big_free(nghttp2_session *s, int32_t id)
{
    void *left = nghttp2_session_get_stream_user_data(s, id);
    if (left == NULL || left == (void *)1 || left == (void *)2)
        return;
    nghttp2_session_set_stream_user_data(s, id, NULL);
    free(left);
}

static ssize_t hello_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
                          uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    (void)s;
    (void)id;
    (void)src;
    (void)ud;
    assert_true(len >= 5);
    memcpy(buf, "hello", 5);
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    return 5;
}

static void answer(sconn_t *c, int32_t id)
{
    nghttp2_nv hdrs[] = {
        {(uint8_t *)":status", (uint8_t *)"200", 7, 3, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)"x-test", (uint8_t *)"yes", 6, 3, NGHTTP2_NV_FLAG_NONE},
    };
    nghttp2_data_provider prd = {.read_callback = hello_read};
    if (c->s->mode == M_BIG) {
        size_t *left = malloc(sizeof *left);
        *left = c->s->big_len ? c->s->big_len : BIG_LEN;
        prd.source.ptr = left;
        prd.read_callback = big_read;
        /* Freed by big_read at the end, or by s_on_stream_close before it. */
        nghttp2_session_set_stream_user_data(c->sess, id, left);
    }
    assert_int_equal(nghttp2_submit_response(c->sess, id, hdrs, 2, &prd), 0);
}

static int s_on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    (void)s;
    sconn_t *c = ud;
    if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) {
        c->open_streams++;
        if (c->n_begun < 64)
            c->begun[c->n_begun++] = f->hd.stream_id;
        if (c->open_streams > c->s->max_open)
            c->s->max_open = c->open_streams;
    }
    return 0;
}

static int s_on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
                       size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                       void *ud)
{
    (void)flags;
    (void)ud;
    /* A path of "/rst" asks for a reset of its stream, "/headonly" for an
     * answer that is one HEADERS frame ending the stream. */
    if (namelen == 5 && memcmp(name, ":path", 5) == 0 && valuelen == 4 &&
        memcmp(value, "/rst", 4) == 0)
        nghttp2_session_set_stream_user_data(s, f->hd.stream_id, (void *)1);
    if (namelen == 5 && memcmp(name, ":path", 5) == 0 && valuelen == 9 &&
        memcmp(value, "/headonly", 9) == 0)
        nghttp2_session_set_stream_user_data(s, f->hd.stream_id, (void *)2);
    return 0;
}

static int s_on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    sconn_t *c = ud;
    if (f->hd.type == NGHTTP2_RST_STREAM && f->rst_stream.error_code == NGHTTP2_CANCEL)
        c->s->cancels++;
    if ((f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) ||
        !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    int32_t id = f->hd.stream_id;
    c->s->requests++;
    void *special = nghttp2_session_get_stream_user_data(s, id);
    if (special == (void *)2) {
        nghttp2_nv hdrs[] = {
            {(uint8_t *)":status", (uint8_t *)"200", 7, 3, NGHTTP2_NV_FLAG_NONE},
            {(uint8_t *)"grpc-status", (uint8_t *)"14", 11, 2, NGHTTP2_NV_FLAG_NONE},
        };
        assert_int_equal(nghttp2_submit_response(s, id, hdrs, 2, NULL), 0);
        return 0;
    }
    if (special) {
        nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
        return 0;
    }
    switch (c->s->mode) {
    case M_OK:
    case M_BIG:
        answer(c, id);
        return 0;
    case M_GOAWAY:
        if (c->idx > 1) {
            answer(c, id);
            return 0;
        }
        c->pending[c->n_pending++] = id;
        if (c->n_pending == 3 && !c->goaway_sent) {
            answer(c, c->pending[0]);
            nghttp2_submit_goaway(s, NGHTTP2_FLAG_NONE, c->pending[0], NGHTTP2_NO_ERROR, NULL, 0);
            c->goaway_sent = true;
        }
        return 0;
    default:
        c->pending[c->n_pending++] = id;
        return 0;
    }
}

static int s_on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
                           size_t len, void *ud)
{
    (void)s;
    (void)flags;
    (void)id;
    (void)data;
    ((sconn_t *)ud)->s->body_bytes += len;
    return 0;
}

static int s_on_stream_close(nghttp2_session *s, int32_t id, uint32_t code, void *ud)
{
    (void)code;
    sconn_t *c = ud;
    c->open_streams--;
    if (c->s->mode == M_BIG)
        big_free(s, id); /* a body cut short */
    return 0;
}

static void sc_close(sconn_t *c)
{
    if (c->fd < 0)
        return;
    event_free(c->rev);
    event_free(c->wev);
    for (int i = 0; c->s->mode == M_BIG && i < c->n_begun; i++)
        big_free(c->sess, c->begun[i]); /* streams still open: no on_stream_close */
    nghttp2_session_del(c->sess);
    close(c->fd);
    free(c->out);
    c->out = NULL;
    c->fd = -1;
}

static void sc_flush(sconn_t *c)
{
    for (;;) {
        while (c->out_off < c->out_len) {
            ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
            if (w < 0 && errno == EAGAIN) {
                event_add(c->wev, NULL);
                return;
            }
            if (w <= 0) {
                sc_close(c);
                return;
            }
            c->out_off += (size_t)w;
        }
        c->out_off = c->out_len = 0;
        const uint8_t *d;
        ssize_t n = nghttp2_session_mem_send(c->sess, &d);
        if (n <= 0)
            return;
        c->out = realloc(c->out, (size_t)n);
        memcpy(c->out, d, (size_t)n);
        c->out_len = (size_t)n;
    }
}

static void sc_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    sconn_t *c = arg;
    char buf[16384];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN)
            return;
        sc_close(c);
        return;
    }
    if (c->s->mode == M_GARBAGE) {
        const char *g = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        assert_true(write(fd, g, strlen(g)) > 0);
        return;
    }
    if (nghttp2_session_mem_recv(c->sess, (const uint8_t *)buf, (size_t)n) < 0) {
        sc_close(c);
        return;
    }
    sc_flush(c);
}

static void sc_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sconn_t *c = arg;
    event_del(c->wev);
    sc_flush(c);
}

static void srv_accept(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    srv_t *s = arg;
    int cfd = accept(fd, NULL, NULL);
    if (cfd < 0)
        return;
    fcntl(cfd, F_SETFL, O_NONBLOCK);
    sconn_t *c = calloc(1, sizeof *c);
    c->s = s;
    c->fd = cfd;
    c->idx = ++s->accepts;
    nghttp2_session_callbacks *cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, s_on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, s_on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, s_on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, s_on_stream_close);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, s_on_data_chunk);
    nghttp2_option *opt;
    nghttp2_option_new(&opt);
    nghttp2_option_set_no_auto_window_update(opt, s->manual_window);
    nghttp2_session_server_new2(&c->sess, cb, c, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cb);
    nghttp2_settings_entry iv[1] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, s->max_streams}};
    nghttp2_submit_settings(c->sess, NGHTTP2_FLAG_NONE, iv, s->max_streams ? 1 : 0);
    c->rev = event_new(s->base, cfd, EV_READ | EV_PERSIST, sc_read, c);
    c->wev = event_new(s->base, cfd, EV_WRITE, sc_write, c);
    event_add(c->rev, NULL);
    c->next = s->conns;
    s->conns = c;
    if (s->mode != M_GARBAGE)
        sc_flush(c);
}

static void srv_answer_all(srv_t *s)
{
    for (sconn_t *c = s->conns; c; c = c->next) {
        if (c->fd < 0)
            continue;
        for (int i = 0; i < c->n_pending; i++)
            answer(c, c->pending[i]);
        c->n_pending = 0;
        sc_flush(c);
    }
}

/* One write that widens every request stream's window by inc and the
 * connection's by inc per stream. */
static void srv_open_windows(srv_t *s, int32_t inc)
{
    for (sconn_t *c = s->conns; c; c = c->next) {
        if (c->fd < 0)
            continue;
        for (int i = 0; i < c->n_begun; i++)
            assert_int_equal(nghttp2_submit_window_update(c->sess, NGHTTP2_FLAG_NONE, c->begun[i], inc), 0);
        assert_int_equal(nghttp2_submit_window_update(c->sess, NGHTTP2_FLAG_NONE, 0, inc * c->n_begun), 0);
        sc_flush(c);
    }
}

static void srv_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    srv_t *s = arg;
    if (s->mode == M_SLOW)
        srv_answer_all(s);
}

static void srv_start(srv_t *s, struct event_base *base, enum mode mode, uint32_t max_streams)
{
    memset(s, 0, sizeof *s);
    s->base = base;
    s->mode = mode;
    s->max_streams = max_streams;
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->lfd, 16), 0);
    socklen_t l = sizeof a;
    getsockname(s->lfd, (struct sockaddr *)&a, &l);
    s->port = ntohs(a.sin_port);
    s->lev = event_new(base, s->lfd, EV_READ | EV_PERSIST, srv_accept, s);
    event_add(s->lev, NULL);
    s->tick = event_new(base, -1, EV_PERSIST, srv_tick, s);
    struct timeval tv = {0, 20000};
    event_add(s->tick, &tv);
}

static void srv_stop(srv_t *s)
{
    while (s->conns) {
        sconn_t *c = s->conns;
        s->conns = c->next;
        sc_close(c);
        free(c);
    }
    event_free(s->lev);
    event_free(s->tick);
    close(s->lfd);
}

/* ---- the client side */

typedef struct req {
    hc_xch_t x;
    const char *path;
    int done;
    int status;
    hc_fail_t fail;
    bool retryable, retried;
    char body[16];
    size_t body_len;
    bool x_test;
    int heads;                  /* streamed: on_head calls */
    bool ended;                 /* streamed: on_head said the head ended the message */
    size_t streamed;            /* streamed: body bytes through on_body */
    bool upload;                /* a PUT whose body is streamed (hc_conn_body) */
    int drains;                 /* upload: on_drain calls */
} req_t;

static hc_conn_t *g_conn;

static int render(hc_xch_t *x, hc_req_t *rv)
{
    req_t *r = x->owner;
    memset(rv, 0, sizeof *rv);
    rv->method = "GET";
    rv->method_len = 3;
    rv->path = r->path;
    rv->path_len = strlen(r->path);
    rv->authority = "t";
    rv->authority_len = 1;
    static const hc_header_t hdrs[] = {{"Accept", 6, "*/*", 3}, {"Connection", 10, "keep-alive", 10}};
    rv->hdrs = hdrs;
    rv->n_hdrs = 2;
    if (r->upload) {
        rv->method = "PUT";
        rv->body_streamed = true;
        rv->body_length = -1;
    }
    return 0;
}

static void on_done(hc_xch_t *x, const hc_resp_t *resp, hc_fail_t fail)
{
    req_t *r = x->owner;
    /* As the user does: a request the server did not process goes again, once. */
    if (!resp && x->retryable && !r->retried) {
        r->retried = true;
        r->retryable = true;
        hc_conn_submit(g_conn, x);
        return;
    }
    r->done++;
    r->fail = fail;
    r->status = resp ? resp->status : 0;
    if (resp) {
        r->body_len = resp->body_len;
        if (resp->body_len < sizeof r->body)
            memcpy(r->body, resp->body ? resp->body : "", resp->body_len);
        for (size_t i = 0; i < resp->n_headers; i++)
            if (resp->headers[i].name_len == 6 && memcmp(resp->headers[i].name, "x-test", 6) == 0)
                r->x_test = true;
    }
}

static int on_head(hc_xch_t *x, const hc_resp_t *resp)
{
    req_t *r = x->owner;
    r->heads++;
    r->ended = resp->ended;
    return 0;
}

static int on_body(hc_xch_t *x, const char *data, size_t len)
{
    (void)data;
    req_t *r = x->owner;
    r->streamed += len;
    return 0;
}

typedef struct fixture {
    struct event_base *base;
    hc_env_t env;
    srv_t srv;
    target_t origin;
    hc_conn_t *conn;
} fixture_t;

static fixture_t *fx_new(enum mode mode, uint32_t max_streams)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->base = event_base_new();
    assert_int_equal(hc_env_init(&f->env, f->base), 0);
    f->env.render = render;
    f->env.on_done = on_done;
    f->env.on_head = on_head;
    f->env.on_body = on_body;
    f->env.connect_timeout_us = 2000000;
    srv_start(&f->srv, f->base, mode, max_streams);
    target_loopback(&f->origin, f->srv.port, false, HC_WANT_H2C, false);
    f->conn = g_conn = hc_conn_new(&f->env, &f->origin.t);
    assert_non_null(f->conn);
    return f;
}

static void fx_free(fixture_t *f)
{
    hc_conn_free(f->conn);
    srv_stop(&f->srv);
    hc_env_fini(&f->env);
    event_base_free(f->base);
    free(f);
}

static void submit(fixture_t *f, req_t *r, const char *path, bool want_body)
{
    memset(r, 0, sizeof *r);
    r->x.owner = r;
    r->x.want_body = want_body;
    r->path = path;
    hc_conn_submit(f->conn, &r->x);
}

/* Runs the loop until n requests are done (or 5 s passed). */
static void run_until(fixture_t *f, req_t *r, int n)
{
    uint64_t end = clk_mono_us() + 5000000;
    for (;;) {
        int done = 0;
        for (int i = 0; i < n; i++)
            done += r[i].done;
        if (done >= n || clk_mono_us() > end)
            return;
        event_base_loop(f->base, EVLOOP_ONCE);
    }
}

static void test_streams(void **state)
{
    (void)state;
    fixture_t *f = fx_new(M_OK, 0);
    req_t r[4];
    for (int i = 0; i < 4; i++)
        submit(f, &r[i], "/x", true);
    run_until(f, r, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(r[i].done, 1);
        assert_int_equal(r[i].fail, HC_OK);
        assert_int_equal(r[i].status, 200);
        assert_int_equal(r[i].body_len, 5);
        assert_memory_equal(r[i].body, "hello", 5);
        assert_true(r[i].x_test);
        assert_int_equal(r[i].x.proto, HC_PROTO_H2);
        assert_true(r[i].x.bytes_sent > 0);
        assert_true(r[i].x.bytes_received > 5);
    }
    assert_int_equal(f->srv.accepts, 1); /* one connection, four streams */
    assert_true(hc_conn_multiplexed(f->conn));
    /* Later requests reuse it. */
    submit(f, &r[0], "/y", false);
    run_until(f, r, 1);
    assert_int_equal(r[0].fail, HC_OK);
    assert_int_equal(r[0].body_len, 0); /* not buffered when not wanted */
    assert_int_equal(f->srv.accepts, 1);
    fx_free(f);
}

/* A streamed exchange learns from its head whether a body follows: a lone
 * HEADERS frame that ends the stream (a gRPC trailers-only answer, which a
 * proxy must relay as one) says ended; a head followed by DATA does not. */
static void test_head_ends_stream(void **state)
{
    (void)state;
    fixture_t *f = fx_new(M_OK, 0);
    req_t r[2];
    for (int i = 0; i < 2; i++) {
        memset(&r[i], 0, sizeof r[i]);
        r[i].x.owner = &r[i];
        r[i].x.stream = true;
        r[i].path = i == 0 ? "/headonly" : "/x";
        hc_conn_submit(f->conn, &r[i].x);
    }
    run_until(f, r, 2);
    assert_int_equal(r[0].fail, HC_OK);
    assert_int_equal(r[0].status, 200);
    assert_int_equal(r[0].heads, 1);
    assert_true(r[0].ended);
    assert_int_equal(r[0].streamed, 0);
    assert_int_equal(r[1].fail, HC_OK);
    assert_int_equal(r[1].heads, 1);
    assert_false(r[1].ended);
    assert_int_equal(r[1].streamed, 5);
    fx_free(f);
}

static void test_max_concurrent_streams(void **state)
{
    (void)state;
    fixture_t *f = fx_new(M_SLOW, 2);
    req_t r[7];
    for (int i = 0; i < 7; i++)
        submit(f, &r[i], "/x", false);
    run_until(f, r, 7);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(r[i].done, 1);
        assert_int_equal(r[i].fail, HC_OK);
    }
    assert_int_equal(f->srv.requests, 7);
    assert_int_equal(f->srv.max_open, 2); /* queued, never refused */
    assert_int_equal(f->srv.accepts, 1);
    fx_free(f);
}

static void test_rst_stream(void **state)
{
    (void)state;
    fixture_t *f = fx_new(M_OK, 0);
    req_t r[3];
    submit(f, &r[0], "/a", false);
    submit(f, &r[1], "/rst", false);
    submit(f, &r[2], "/b", false);
    run_until(f, r, 3);
    assert_int_equal(r[0].fail, HC_OK);
    assert_int_equal(r[1].fail, HC_FAIL_H2_RST);
    assert_false(r[1].retried); /* INTERNAL_ERROR: processed, not resent */
    assert_int_equal(r[2].fail, HC_OK);
    assert_int_equal(f->srv.accepts, 1);
    fx_free(f);
}

static void test_goaway(void **state)
{
    (void)state;
    fixture_t *f = fx_new(M_GOAWAY, 0);
    req_t r[3];
    for (int i = 0; i < 3; i++)
        submit(f, &r[i], "/x", false);
    run_until(f, r, 3);
    /* The stream the server accepted finished; the two above its last stream
     * id were resent on a new connection and answered there. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].done, 1);
        assert_int_equal(r[i].fail, HC_OK);
    }
    assert_false(r[0].retried);
    assert_true(r[1].retried);
    assert_true(r[2].retried);
    assert_int_equal(f->srv.accepts, 2);
    assert_int_equal(f->srv.requests, 5);
    fx_free(f);
}

static void test_cancel(void **state)
{
    (void)state;
    fixture_t *f = fx_new(M_HOLD, 0);
    req_t r[2];
    submit(f, &r[0], "/x", true);
    submit(f, &r[1], "/x", true);
    uint64_t end = clk_mono_us() + 3000000;
    while (f->srv.requests < 2 && clk_mono_us() < end)
        event_base_loop(f->base, EVLOOP_ONCE);
    assert_int_equal(f->srv.requests, 2);
    hc_conn_cancel(f->conn, &r[0].x);
    srv_answer_all(&f->srv);
    run_until(f, &r[1], 1);
    end = clk_mono_us() + 200000;
    while (clk_mono_us() < end)
        event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    assert_int_equal(r[0].done, 0); /* withdrawn: no callback */
    assert_int_equal(r[1].done, 1);
    assert_int_equal(r[1].fail, HC_OK);
    assert_int_equal(f->srv.cancels, 1);
    assert_int_equal(f->srv.accepts, 1); /* the connection stays */
    fx_free(f);
}

static void test_protocol_error(void **state)
{
    (void)state;
    fixture_t *f = fx_new(M_GARBAGE, 0);
    req_t r[2];
    submit(f, &r[0], "/x", false);
    submit(f, &r[1], "/y", false);
    run_until(f, r, 2);
    assert_int_equal(r[0].fail, HC_FAIL_H2_PROTOCOL);
    assert_int_equal(r[1].fail, HC_FAIL_H2_PROTOCOL);
    fx_free(f);
}

#define UP_FIRST (300u * 1024) /* above HC_UPLOAD_HIGH: the feeder waits for on_drain */
#define UP_REST (100u * 1024)

/* Counted only: like the capture proxy, which re-opens its client's window
 * here, the rest of the body comes later, from the loop. */
static void on_drain(hc_xch_t *x)
{
    ((req_t *)x->owner)->drains++;
}

/* Two streamed uploads on one connection both wait for on_drain, their
 * bodies held by the server's windows; then one WINDOW_UPDATE burst lets
 * both bodies go at once, and nothing more comes from the server until both
 * have ended. Each upload must hear on_drain: a client that signalled one
 * waiting upload per socket event left the other waiting forever (the
 * capture proxy's hung parallel h2 uploads). */
static void test_uploads_all_drained(void **state)
{
    (void)state;
    fixture_t *f = fx_new(M_HOLD, 0);
    f->srv.manual_window = true;
    f->env.on_drain = on_drain;
    static char first[UP_FIRST];
    memset(first, 'f', sizeof first);
    req_t r[2];
    for (int i = 0; i < 2; i++) {
        memset(&r[i], 0, sizeof r[i]);
        r[i].x.owner = &r[i];
        r[i].path = "/up";
        r[i].upload = true;
        hc_conn_submit(f->conn, &r[i].x);
        /* Queued while the socket connects: more than the high-water mark. */
        assert_int_equal(hc_conn_body(&r[i].x, first, sizeof first), 1);
    }
    /* The server's 20 ms tick keeps the loop turning. Both streams open and
     * the connection's first window (65 535 bytes) used up: */
    uint64_t end = clk_mono_us() + 3000000;
    while ((f->srv.conns == NULL || f->srv.conns->n_begun < 2 || f->srv.body_bytes < 65535) &&
           clk_mono_us() < end)
        event_base_loop(f->base, EVLOOP_ONCE);
    assert_int_equal(f->srv.body_bytes, 65535);
    assert_int_equal(r[0].drains + r[1].drains, 0);
    srv_open_windows(&f->srv, 1024 * 1024);
    static char rest[UP_REST];
    memset(rest, 'r', sizeof rest);
    bool fed[2] = {false, false};
    end = clk_mono_us() + 3000000;
    while (f->srv.requests < 2 && clk_mono_us() < end) {
        event_base_loop(f->base, EVLOOP_ONCE);
        for (int i = 0; i < 2; i++) {
            if (r[i].drains > 0 && !fed[i]) {
                fed[i] = true;
                assert_int_equal(hc_conn_body(&r[i].x, rest, sizeof rest), 0);
                hc_conn_body_end(&r[i].x);
            }
        }
    }
    assert_int_equal(r[0].drains, 1);
    assert_int_equal(r[1].drains, 1);
    assert_int_equal(f->srv.requests, 2);
    assert_int_equal(f->srv.body_bytes, 2 * (UP_FIRST + UP_REST));
    srv_answer_all(&f->srv);
    run_until(f, r, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(r[i].done, 1);
        assert_int_equal(r[i].fail, HC_OK);
        assert_int_equal(r[i].status, 200);
    }
    assert_int_equal(f->srv.accepts, 1);
    fx_free(f);
}

/* Streams whose caller paused them keep their bytes unacknowledged, up to
 * the stream window the caller chose (the capture's 1 MiB); the connection
 * window must have room for all of them, or enough paused streams (16 of
 * 1 MiB in HC_H2_LOCAL_WINDOW's 16 MiB) stop every other download on the
 * connection. */
static void test_paused_streams_leave_room(void **state)
{
    (void)state;
    enum { PAUSED = 20 };
    fixture_t *f = fx_new(M_BIG, 0);
    f->env.h2_stream_window = 1024 * 1024;
    req_t r[PAUSED + 1];
    for (int i = 0; i <= PAUSED; i++) {
        memset(&r[i], 0, sizeof r[i]);
        r[i].x.owner = &r[i];
        r[i].x.stream = true;
        r[i].x.paused = i < PAUSED;
        r[i].path = "/big";
        hc_conn_submit(f->conn, &r[i].x);
    }
    run_until(f, &r[PAUSED], 1);
    assert_int_equal(r[PAUSED].done, 1);
    assert_int_equal(r[PAUSED].fail, HC_OK);
    assert_int_equal(r[PAUSED].streamed, BIG_LEN);
    for (int i = 0; i < PAUSED; i++) {
        assert_int_equal(r[i].done, 0);
        assert_true(r[i].streamed <= 1024 * 1024); /* each held to its own window */
        hc_conn_cancel(f->conn, &r[i].x);
    }
    fx_free(f);
}

/* A stream that ends while its caller has it paused: its unacknowledged
 * bytes go back to the connection window when it closes. They were lost,
 * and a long-lived connection (the capture's shared h2 slot of an origin)
 * shrank with each such download until every download on it stopped. */
static void test_paused_stream_end_gives_window_back(void **state)
{
    (void)state;
    enum { ROUNDS = 40, LEN = 512 * 1024 }; /* 20 MiB in all: more than the 16 MiB window */
    fixture_t *f = fx_new(M_BIG, 0);
    f->srv.big_len = LEN;
    for (int i = 0; i < ROUNDS; i++) {
        req_t r;
        memset(&r, 0, sizeof r);
        r.x.owner = &r;
        r.x.stream = true;
        r.x.paused = true;
        r.path = "/big";
        hc_conn_submit(f->conn, &r.x);
        run_until(f, &r, 1);
        assert_int_equal(r.done, 1);
        assert_int_equal(r.fail, HC_OK);
        assert_int_equal(r.streamed, LEN);
    }
    assert_int_equal(f->srv.accepts, 1);
    fx_free(f);
}

static void test_large_download(void **state)
{
    (void)state;
    fixture_t *f = fx_new(M_BIG, 0);
    big_sent = 0;
    req_t r[1];
    submit(f, &r[0], "/big", false);
    run_until(f, r, 1);
    assert_int_equal(r[0].done, 1);
    assert_int_equal(r[0].fail, HC_OK);
    assert_int_equal(big_sent, BIG_LEN);
    assert_true(r[0].x.bytes_received >= BIG_LEN);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_head_ends_stream),
        cmocka_unit_test(test_max_concurrent_streams),
        cmocka_unit_test(test_rst_stream),
        cmocka_unit_test(test_goaway),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_protocol_error),
        cmocka_unit_test(test_large_download),
        cmocka_unit_test(test_uploads_all_drained),
        cmocka_unit_test(test_paused_streams_leave_room),
        cmocka_unit_test(test_paused_stream_end_gives_window_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

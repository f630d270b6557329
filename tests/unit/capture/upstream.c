/* Unit tests of capture/upstream.c: the proxy's pool of origin connections on
 * the shared HTTP client, against a small HTTP/1.1 origin in the same event
 * loop (it answers each request "ok" and counts connections and closes). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/event.h>

#include "clock.h"
#include "upstream.h"

/* ---- the origin */

typedef struct oconn {
    int fd;
    struct event *ev;
    char buf[8192];
    size_t len;
    struct origin *o;
} oconn_t;

typedef struct origin {
    struct event_base *base;
    int lfd;
    unsigned short port;
    struct event *lev;
    int accepts, closes, requests;
    char last_request[2048];
    oconn_t *conns[64];
    int n;
} origin_t;

static void oc_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    oconn_t *c = arg;
    ssize_t n = read(fd, c->buf + c->len, sizeof c->buf - c->len - 1);
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN)
            return;
        c->o->closes++;
        event_free(c->ev);
        c->ev = NULL;
        close(fd);
        c->fd = -1;
        return;
    }
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    char *end;
    while ((end = strstr(c->buf, "\r\n\r\n")) != NULL) {
        size_t head = (size_t)(end + 4 - c->buf);
        snprintf(c->o->last_request, sizeof c->o->last_request, "%.*s", (int)head, c->buf);
        c->o->requests++;
        static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Origin: yes\r\n\r\nok";
        assert_int_equal(write(fd, answer, sizeof answer - 1), (ssize_t)(sizeof answer - 1));
        memmove(c->buf, c->buf + head, c->len - head);
        c->len -= head;
        c->buf[c->len] = '\0';
    }
}

static void o_accept(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    origin_t *o = arg;
    int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK);
    if (cfd < 0)
        return;
    assert_true(o->n < 64);
    oconn_t *c = calloc(1, sizeof *c);
    c->fd = cfd;
    c->o = o;
    c->ev = event_new(o->base, cfd, EV_READ | EV_PERSIST, oc_read, c);
    event_add(c->ev, NULL);
    o->conns[o->n++] = c;
    o->accepts++;
}

static void origin_start(origin_t *o, struct event_base *base)
{
    memset(o, 0, sizeof *o);
    o->base = base;
    o->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof sin;
    assert_int_equal(bind(o->lfd, (struct sockaddr *)&sin, sizeof sin), 0);
    assert_int_equal(listen(o->lfd, 64), 0);
    getsockname(o->lfd, (struct sockaddr *)&sin, &l);
    o->port = ntohs(sin.sin_port);
    o->lev = event_new(base, o->lfd, EV_READ | EV_PERSIST, o_accept, o);
    event_add(o->lev, NULL);
}

static void origin_stop(origin_t *o)
{
    for (int i = 0; i < o->n; i++) {
        if (o->conns[i]->fd >= 0) {
            event_free(o->conns[i]->ev);
            close(o->conns[i]->fd);
        }
        free(o->conns[i]);
    }
    event_free(o->lev);
    close(o->lfd);
}

/* ---- a front */

typedef struct front {
    int interim, heads, done, fails, status, fail_status;
    size_t body;
    bool has_body, origin_header;
    char reason[512];
    bool in_start;          /* set around up_start: no callback may come then */
} front_t;

static void f_interim(void *arg, int status, const rec_headers_t *h)
{
    (void)status;
    (void)h;
    front_t *f = arg;
    assert_false(f->in_start);
    f->interim++;
}

static void f_head(void *arg, const up_resp_t *r)
{
    front_t *f = arg;
    assert_false(f->in_start);
    f->heads++;
    f->status = r->status;
    f->has_body = r->has_body;
    f->origin_header = rec_headers_get(r->headers, "X-Origin") != NULL;
}

static void f_body(void *arg, const char *p, size_t n)
{
    (void)p;
    front_t *f = arg;
    f->body += n;
}

static void f_done(void *arg)
{
    front_t *f = arg;
    assert_false(f->in_start);
    f->done++;
}

static void f_fail(void *arg, int status, const char *reason)
{
    front_t *f = arg;
    assert_false(f->in_start);
    f->fails++;
    f->fail_status = status;
    snprintf(f->reason, sizeof f->reason, "%s", reason);
}

static void f_drain(void *arg) { (void)arg; }

static const up_ops_t f_ops = {f_interim, f_head, f_body, f_done, f_fail, f_drain, NULL};

typedef struct fixture {
    struct event_base *base;
    origin_t origin;
    up_pool_t *pool;
    url_t url;
    char url_text[64];
} fixture_t;

static fixture_t *fx_new(uint64_t idle_us, unsigned max_idle)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->base = event_base_new();
    origin_start(&f->origin, f->base);
    up_pool_opts_t o = {.base = f->base, .timeout_us = 5000000, .idle_us = idle_us,
                        .max_idle = max_idle};
    f->pool = up_pool_new(&o);
    assert_non_null(f->pool);
    snprintf(f->url_text, sizeof f->url_text, "http://127.0.0.1:%u/", f->origin.port);
    char err[128];
    assert_int_equal(url_parse(f->url_text, &f->url, err, sizeof err), 0);
    return f;
}

static void fx_free(fixture_t *f)
{
    up_pool_free(f->pool);
    origin_stop(&f->origin);
    event_base_free(f->base);
    free(f);
}

static up_conn_t *start(fixture_t *f, front_t *fr, const url_t *u, const rec_headers_t *h)
{
    rec_headers_t none = {0};
    fr->in_start = true;
    up_conn_t *c = up_start(f->pool, u, "GET", "/x", NULL, h ? h : &none, FWD_NONE, &f_ops, fr);
    fr->in_start = false;
    assert_non_null(c);
    return c;
}

/* Runs the loop until cond holds or 10 s passed (a loaded machine, ASan). */
#define RUN_UNTIL(f, cond)                                                   \
    do {                                                                     \
        uint64_t end_ = clk_mono_us() + 10000000;                            \
        while (!(cond) && clk_mono_us() < end_)                              \
            event_base_loop((f)->base, EVLOOP_ONCE | EVLOOP_NONBLOCK),       \
                usleep(1000);                                                \
    } while (0)

/* Requests one after the other go on one kept-alive connection; the origin
 * gets the client's end-to-end headers but no hop-by-hop ones. */
static void test_reuse_and_hop_by_hop(void **state)
{
    (void)state;
    fixture_t *f = fx_new(0, 0);
    rec_headers_t h = {0};
    assert_int_equal(rec_headers_add(&h, "Host", "example.test"), 0);
    assert_int_equal(rec_headers_add(&h, "Accept", "*/*"), 0);
    assert_int_equal(rec_headers_add(&h, "Connection", "keep-alive, X-Private"), 0);
    assert_int_equal(rec_headers_add(&h, "X-Private", "secret"), 0);
    assert_int_equal(rec_headers_add(&h, "Proxy-Connection", "keep-alive"), 0);
    assert_int_equal(rec_headers_add(&h, "Keep-Alive", "timeout=5"), 0);
    for (int i = 0; i < 3; i++) {
        front_t fr = {0};
        start(f, &fr, &f->url, &h);
        RUN_UNTIL(f, fr.done + fr.fails > 0);
        assert_int_equal(fr.done, 1);
        assert_int_equal(fr.fails, 0);
        assert_int_equal(fr.status, 200);
        assert_true(fr.has_body);
        assert_true(fr.origin_header);
        assert_int_equal(fr.body, 2);
    }
    assert_int_equal(f->origin.requests, 3);
    assert_int_equal(f->origin.accepts, 1);
    const char *r = f->origin.last_request;
    assert_non_null(strstr(r, "GET /x HTTP/1.1\r\n"));
    assert_non_null(strstr(r, "Host: example.test\r\n"));
    assert_non_null(strstr(r, "Accept: */*\r\n"));
    assert_null(strstr(r, "X-Private"));
    assert_null(strstr(r, "Proxy-Connection"));
    assert_null(strstr(r, "Keep-Alive"));
    assert_null(strstr(r, "Connection:"));
    rec_headers_fini(&h);
    fx_free(f);
}

/* Concurrent requests open connections of their own; once done, only
 * max_idle of them stay, and those close after idle_us. */
static void test_idle_limit_and_timeout(void **state)
{
    (void)state;
    fixture_t *f = fx_new(2000000, 2);
    front_t fr[4] = {{0}};
    for (int i = 0; i < 4; i++)
        start(f, &fr[i], &f->url, NULL);
    RUN_UNTIL(f, fr[0].done + fr[1].done + fr[2].done + fr[3].done == 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(fr[i].done, 1);
    assert_int_equal(f->origin.accepts, 4);
    /* Two over the limit are closed at once. */
    RUN_UNTIL(f, f->origin.closes >= 2);
    assert_int_equal(f->origin.closes, 2);
    /* The two kept are used again. */
    front_t again[2] = {{0}};
    for (int i = 0; i < 2; i++)
        start(f, &again[i], &f->url, NULL);
    RUN_UNTIL(f, again[0].done + again[1].done == 2);
    assert_int_equal(f->origin.accepts, 4);
    /* Then idle for longer than idle_us: closed (within a wide margin). */
    RUN_UNTIL(f, f->origin.closes >= 4);
    assert_int_equal(f->origin.closes, 4);
    fx_free(f);
}

/* A refused origin fails from the loop, never inside up_start (the front's
 * state would not be ready), with 502 and the reason naming the origin. */
static void test_refused_later_not_inside_start(void **state)
{
    (void)state;
    fixture_t *f = fx_new(0, 0);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof sin;
    bind(s, (struct sockaddr *)&sin, sizeof sin);
    getsockname(s, (struct sockaddr *)&sin, &l);
    close(s);
    char text[64], err[128];
    snprintf(text, sizeof text, "http://127.0.0.1:%u/", ntohs(sin.sin_port));
    url_t dead;
    assert_int_equal(url_parse(text, &dead, err, sizeof err), 0);
    front_t fr = {0};
    start(f, &fr, &dead, NULL); /* f_fail asserts it is not called in here */
    assert_int_equal(fr.fails, 0);
    RUN_UNTIL(f, fr.fails > 0);
    assert_int_equal(fr.fails, 1);
    assert_int_equal(fr.done, 0);
    assert_int_equal(fr.fail_status, 502);
    assert_non_null(strstr(fr.reason, "http://127.0.0.1:"));
    assert_non_null(strstr(fr.reason, "refused"));
    fx_free(f);
}

/* A front that leaves (up_abort) hears nothing more; the pool stays usable. */
static void test_abort(void **state)
{
    (void)state;
    fixture_t *f = fx_new(0, 0);
    front_t fr = {0};
    up_conn_t *c = start(f, &fr, &f->url, NULL);
    up_abort(c);
    front_t next = {0};
    start(f, &next, &f->url, NULL);
    RUN_UNTIL(f, next.done + next.fails > 0);
    assert_int_equal(next.done, 1);
    assert_int_equal(fr.heads + fr.done + fr.fails, 0);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reuse_and_hop_by_hop),
        cmocka_unit_test(test_idle_limit_and_timeout),
        cmocka_unit_test(test_refused_later_not_inside_start),
        cmocka_unit_test(test_abort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

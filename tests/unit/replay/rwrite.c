/* Tests of replay/rwrite.c: a metrics page as a remote write WriteRequest
 * (decoded back with snappy and protobuf-c), and the sender against a small
 * HTTP server on loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#ifdef AIOTEST_HAVE_RWRITE
#include <netinet/in.h>
#include <pthread.h>
#include <snappy-c.h>
#include <sys/socket.h>
#include <unistd.h>

#include "remote.pb-c.h"
#include "rwrite.h"

static Prometheus__WriteRequest *decode(const uint8_t *z, size_t zlen)
{
    size_t len = 0;
    assert_int_equal(snappy_uncompressed_length((const char *)z, zlen, &len), SNAPPY_OK);
    char *pb = malloc(len ? len : 1);
    assert_int_equal(snappy_uncompress((const char *)z, zlen, pb, &len), SNAPPY_OK);
    Prometheus__WriteRequest *wr = prometheus__write_request__unpack(NULL, len, (uint8_t *)pb);
    free(pb);
    assert_non_null(wr);
    return wr;
}

static const char *label(const Prometheus__TimeSeries *ts, const char *name)
{
    for (size_t i = 0; i < ts->n_labels; i++)
        if (strcmp(ts->labels[i]->name, name) == 0)
            return ts->labels[i]->value;
    return NULL;
}

static const char page[] =
    "# HELP aiotest_requests_total Requests ended.\n"
    "# TYPE aiotest_requests_total counter\n"
    "aiotest_requests_total{name=\"/a \\\"q\\\" \\\\ b\",method=\"GET\",protocol=\"h2\",status=\"200\"} 42\n"
    "aiotest_request_duration_seconds_bucket{name=\"/a\",method=\"GET\",le=\"+Inf\"} 7\n"
    "aiotest_target_rate 2.5\n"
    "aiotest_users{class=\"buyer\",job=\"mine\"} 3\n";

static void test_encode(void **state)
{
    (void)state;
    const char *extra[] = {"job", "aiotest", "run", "r1"};
    uint8_t *z = NULL;
    size_t zlen = 0, samples = 0;
    char err[256];
    assert_int_equal(rwrite_encode(page, strlen(page), extra, 2, 1700000000123, &z, &zlen,
                                   &samples, err, sizeof err), 0);
    assert_int_equal(samples, 4);
    Prometheus__WriteRequest *wr = decode(z, zlen);
    assert_int_equal(wr->n_timeseries, 4);
    const Prometheus__TimeSeries *t = wr->timeseries[0];
    assert_string_equal(label(t, "__name__"), "aiotest_requests_total");
    assert_string_equal(label(t, "name"), "/a \"q\" \\ b"); /* unescaped */
    assert_string_equal(label(t, "status"), "200");
    assert_string_equal(label(t, "run"), "r1");
    assert_string_equal(label(t, "job"), "aiotest");
    assert_int_equal(t->n_samples, 1);
    assert_true(t->samples[0]->value == 42);
    assert_int_equal(t->samples[0]->timestamp, 1700000000123);
    for (size_t s = 0; s < wr->n_timeseries; s++)
        for (size_t i = 1; i < wr->timeseries[s]->n_labels; i++)
            assert_true(strcmp(wr->timeseries[s]->labels[i - 1]->name,
                               wr->timeseries[s]->labels[i]->name) < 0); /* sorted, unique */
    assert_string_equal(label(wr->timeseries[1], "le"), "+Inf");
    assert_string_equal(label(wr->timeseries[2], "__name__"), "aiotest_target_rate");
    assert_true(wr->timeseries[2]->samples[0]->value == 2.5);
    assert_int_equal(wr->timeseries[2]->n_labels, 3); /* __name__, job, run */
    assert_string_equal(label(wr->timeseries[3], "job"), "mine"); /* the page's wins */
    prometheus__write_request__free_unpacked(wr, NULL);
    free(z);

    const char bad[] = "aiotest_users{class=\"buyer} 3\n";
    assert_int_equal(rwrite_encode(bad, strlen(bad), NULL, 0, 1, &z, &zlen, &samples, err,
                                   sizeof err), -1);
    assert_non_null(strstr(err, "line 1"));
    assert_null(z);
}

/* A one-shot HTTP server: answers the first request with status, keeps the body. */
typedef struct srv {
    int fd, port, status;
    char req[65536];
    size_t req_len;
} srv_t;

static void *serve(void *arg)
{
    srv_t *s = arg;
    int c = accept(s->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    for (;;) {
        ssize_t k = recv(c, s->req + s->req_len, sizeof s->req - 1 - s->req_len, 0);
        if (k <= 0)
            break;
        s->req_len += (size_t)k;
        s->req[s->req_len] = '\0';
        char *h = strstr(s->req, "\r\n\r\n"), *cl = strstr(s->req, "Content-Length: ");
        if (h && cl && s->req_len >= (size_t)(h + 4 - s->req) + strtoul(cl + 16, NULL, 10))
            break;
    }
    char resp[128];
    int n = snprintf(resp, sizeof resp, "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n", s->status);
    (void)!send(c, resp, (size_t)n, 0);
    close(c);
    return NULL;
}

static void start_srv(srv_t *s, int status, pthread_t *th)
{
    memset(s, 0, sizeof *s);
    s->status = status;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->fd, 4), 0);
    socklen_t al = sizeof a;
    getsockname(s->fd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    pthread_create(th, NULL, serve, s);
}

static void test_send(void **state)
{
    (void)state;
    srv_t s;
    pthread_t th;
    start_srv(&s, 204, &th);
    char url[64], err[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/write", s.port);
    const char *extra[] = {"job", "aiotest"};
    rwrite_t *w = rwrite_start(url, extra, 1, err, sizeof err);
    assert_non_null(w);
    rwrite_push(w, strdup(page), strlen(page), 1000);
    rwrite_stats_t st;
    rwrite_stop(w, 10000000, &st);
    pthread_join(th, NULL);
    close(s.fd);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.samples, 4);
    assert_int_equal(st.dropped + st.rejected, 0);
    assert_non_null(strstr(s.req, "POST /api/v1/write HTTP/1.1\r\n"));
    assert_non_null(strstr(s.req, "Content-Encoding: snappy\r\n"));
    assert_non_null(strstr(s.req, "Content-Type: application/x-protobuf\r\n"));
    assert_non_null(strstr(s.req, "X-Prometheus-Remote-Write-Version: 0.1.0\r\n"));
    char *body = strstr(s.req, "\r\n\r\n") + 4;
    Prometheus__WriteRequest *wr = decode((uint8_t *)body, s.req_len - (size_t)(body - s.req));
    assert_int_equal(wr->n_timeseries, 4);
    prometheus__write_request__free_unpacked(wr, NULL);

    /* A 400 is not retried: counted as refused, the run goes on. */
    start_srv(&s, 400, &th);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/write", s.port);
    w = rwrite_start(url, NULL, 0, err, sizeof err);
    rwrite_push(w, strdup(page), strlen(page), 1000);
    rwrite_stop(w, 10000000, &st);
    pthread_join(th, NULL);
    close(s.fd);
    assert_int_equal(st.sent, 0);
    assert_int_equal(st.rejected, 1);
    assert_non_null(strstr(st.last_error, "HTTP 400"));

    assert_null(rwrite_start("https://127.0.0.1:1/w", NULL, 0, err, sizeof err));
    assert_non_null(strstr(err, "https"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_send),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#else
int main(void)
{
    puts("SKIP: built without remote write (snappy, protobuf-c)");
    return 77;
}
#endif

/* Tests of replay/metrics.c: the page served over HTTP, parsed back; promtool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "metrics.h"
#include "smetric.h"

/* GET path from 127.0.0.1:port with HTTP/1.0; returns the whole response. */
static char *http_get(unsigned short port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    char req[256];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    assert_int_equal(write(fd, req, (size_t)n), n);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    ssize_t got;
    while ((got = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)got;
        if (cap - len < 4096)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    close(fd);
    return buf;
}

/* A free port on 127.0.0.1 (url_parse_listen takes no port 0). */
static unsigned short free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* Sum of the values of every sample line that starts with prefix. */
static double sum_samples(const char *page, const char *prefix)
{
    double sum = 0;
    size_t pl = strlen(prefix);
    for (const char *line = page; line != NULL && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, prefix, pl) != 0)
            continue;
        const char *end = strchr(line, '\n');
        const char *sp = end;
        while (sp > line && sp[-1] != ' ')
            sp--;
        sum += strtod(sp, NULL);
    }
    return sum;
}

typedef struct fixture {
    stats_names_t *names;
    stats_t *s;
    uint32_t a, b;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    f->names = stats_names_new();
    f->a = stats_names_intern(f->names, "GET", "/item/{id}");
    f->b = stats_names_intern(f->names, "POST", "/odd \"name\" \\ with\nnewline");
    f->s = stats_new(f->names);
    for (int i = 0; i < 1000; i++) {
        stats_record(f->s, f->a, i % 4 ? STATS_PROTO_H1 : STATS_PROTO_H2, 200, STATS_OK,
                     (uint64_t)(1000 + i * 120), 50, 500);
        if (i % 5 == 0)
            stats_record(f->s, f->b, STATS_PROTO_H1, i % 10 ? 503 : 0,
                         i % 10 ? STATS_FAIL_HTTP : STATS_FAIL_TIMEOUT, 30000000, 10, 0);
        stats_iteration(f->s, false);
        if (i % 2)
            stats_iteration(f->s, true);
    }
    /* What the replay could not do or did specially (the report's bodies,
     * unsolicited, pipeline and schedule). */
    stats_body(f->s, true, false, 4096);
    stats_body(f->s, true, false, 1000);
    stats_body(f->s, false, true, 0);
    stats_unsolicited(f->s, 37);
    stats_pipeline_depth(f->s, 3);
    for (int i = 0; i < 6; i++)
        stats_pipeline(f->s, true, i == 0);
    for (int i = 0; i < 40; i++)
        stats_lag(f->s, i < 37 ? 500 : 20000);
    for (int i = 0; i < 10; i++)
        stats_diff(f->s, f->a, i < 8 ? 0 : (1u << STATS_DIFF_STATUS) | (1u << STATS_DIFF_LENGTH), "x");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    stats_free(f->s);
    stats_names_free(f->names);
    free(f);
    return 0;
}

static void test_page(void **state)
{
    fixture_t *f = *state;
    char err[256];
    const char *classes[] = {"Browser", "Api \"client\""};
    char listen[32];
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", free_port());
    metrics_t *m = metrics_start(listen, f->names, classes, 2, err, sizeof(err));
    if (m == NULL)
        fail_msg("%s", err);
    unsigned short port = metrics_port(m);
    assert_int_equal(port, atoi(strchr(listen, ':') + 1));

    char *before = http_get(port, "/metrics");
    assert_non_null(strstr(before, " 200 OK\r\n"));
    assert_non_null(strstr(before, "text/plain; version=0.0.4"));
    assert_non_null(strstr(before, "aiotest_target_users 0\n"));
    assert_null(strstr(before, "aiotest_requests_total{"));
    assert_non_null(strstr(before, "process_cpu_seconds_total "));
    free(before);

    /* A run without timed steps: the counters at 0, no lag histogram. */
    stats_t *none = stats_new(f->names);
    metrics_publish(m, none, NULL);
    char *plain = http_get(port, "/metrics");
    assert_non_null(strstr(plain, "\naiotest_bodies_cut_total 0\n"));
    assert_non_null(strstr(plain, "\naiotest_schedule_steps_total 0\n"));
    assert_null(strstr(plain, "aiotest_schedule_lag_seconds"));
    assert_null(strstr(plain, "aiotest_diff_"));
    free(plain);
    stats_free(none);

    uint32_t users[2] = {6, 2};
    metrics_state_t st = {.users_per_class = users, .target_users = 8, .stage = 2,
                          .target_rate = 12.5, .elapsed_s = 3.5};
    metrics_publish(m, f->s, &st);
    char *page = http_get(port, "/metrics");
    const stats_entry_t *ea = stats_entry(f->s, f->a), *eb = stats_entry(f->s, f->b);
    assert_true(sum_samples(page, "aiotest_requests_total{") == (double)(ea->count + eb->count));
    assert_non_null(strstr(page, "aiotest_requests_total{name=\"/item/{id}\",method=\"GET\","
                                 "protocol=\"h2\",status=\"200\"} 250\n"));
    assert_non_null(strstr(page, "aiotest_requests_total{name=\"/odd \\\"name\\\" \\\\ with\\nnewline\","
                                 "method=\"POST\",protocol=\"http/1.1\",status=\"timeout\"} 100\n"));
    assert_true(sum_samples(page, "aiotest_request_failures_total{") == (double)eb->failures);
    assert_non_null(strstr(page, "category=\"http\"} 100\n"));
    assert_non_null(strstr(page, "aiotest_request_duration_seconds_bucket{name=\"/item/{id}\","
                                 "method=\"GET\",le=\"+Inf\"} 1000\n"));
    /* Buckets against the histogram: 0.05 s holds 1000 + i*120 <= 50000 -> i <= 408. */
    assert_non_null(strstr(page, "method=\"GET\",le=\"0.05\"} 409\n"));
    assert_non_null(strstr(page, "method=\"POST\",le=\"30\"} 200\n"));
    assert_non_null(strstr(page, "method=\"POST\",le=\"10\"} 0\n"));
    assert_true(sum_samples(page, "aiotest_bytes_received_total{") == 500000.0);
    assert_non_null(strstr(page, "aiotest_users{class=\"Api \\\"client\\\"\"} 2\n"));
    assert_non_null(strstr(page, "aiotest_users{class=\"Browser\"} 6\n"));
    assert_non_null(strstr(page, "aiotest_iterations_total{state=\"started\"} 1000\n"));
    assert_non_null(strstr(page, "aiotest_iterations_total{state=\"completed\"} 500\n"));
    assert_non_null(strstr(page, "aiotest_stage 2\n"));
    assert_non_null(strstr(page, "aiotest_target_rate 12.5\n"));
    assert_non_null(strstr(page, "# TYPE aiotest_request_duration_seconds histogram\n"));
    assert_non_null(strstr(page, "# TYPE aiotest_bodies_cut_total counter\n"));
    assert_non_null(strstr(page, "\naiotest_bodies_cut_total 2\n"));
    assert_non_null(strstr(page, "\naiotest_bodies_undecoded_total 1\n"));
    assert_non_null(strstr(page, "\naiotest_body_bytes_dropped_total 5096\n"));
    assert_non_null(strstr(page, "# TYPE aiotest_unsolicited_events_total counter\n"));
    assert_non_null(strstr(page, "\naiotest_unsolicited_events_total 1\n"));
    assert_non_null(strstr(page, "\naiotest_unsolicited_bytes_total 37\n"));
    assert_non_null(strstr(page, "\naiotest_pipelined_requests_total 6\n"));
    assert_non_null(strstr(page, "\naiotest_pipeline_resent_total 1\n"));
    assert_non_null(strstr(page, "\naiotest_schedule_steps_total 40\n"));
    assert_non_null(strstr(page, "\naiotest_schedule_late_steps_total 3\n"));
    assert_non_null(strstr(page, "# TYPE aiotest_schedule_lag_seconds histogram\n"));
    assert_non_null(strstr(page, "\naiotest_schedule_lag_seconds_bucket{le=\"0.005\"} 37\n"));
    assert_non_null(strstr(page, "\naiotest_schedule_lag_seconds_bucket{le=\"0.01\"} 37\n"));
    assert_non_null(strstr(page, "\naiotest_schedule_lag_seconds_bucket{le=\"0.025\"} 40\n"));
    assert_non_null(strstr(page, "\naiotest_schedule_lag_seconds_bucket{le=\"+Inf\"} 40\n"));
    assert_non_null(strstr(page, "\naiotest_schedule_lag_seconds_sum 0.078500\n"));
    assert_non_null(strstr(page, "\naiotest_schedule_lag_seconds_count 40\n"));
    assert_non_null(strstr(page, "# TYPE aiotest_diff_compared_total counter\n"));
    assert_non_null(strstr(page, "\naiotest_diff_compared_total{name=\"/item/{id}\",method=\"GET\"} 10\n"));
    assert_non_null(strstr(page, "\naiotest_diff_mismatched_total{name=\"/item/{id}\",method=\"GET\"} 2\n"));
    assert_non_null(strstr(page, "\naiotest_diff_kind_total{name=\"/item/{id}\",method=\"GET\",kind=\"status\"} 2\n"));
    assert_non_null(strstr(page, "\naiotest_diff_kind_total{name=\"/item/{id}\",method=\"GET\",kind=\"length\"} 2\n"));
    assert_null(strstr(page, "kind=\"shape\""));
    assert_null(strstr(page, "aiotest_diff_compared_total{name=\"/odd"));
    assert_true(sum_samples(page, "process_resident_memory_bytes") > 1e5);
    assert_true(sum_samples(page, "process_start_time_seconds") > 1.6e9);

    /* promtool, when installed, accepts the page. */
    if (system("command -v promtool >/dev/null 2>&1") == 0) {
        char path[] = "/tmp/aiotest-metrics-XXXXXX";
        int fd = mkstemp(path);
        const char *body = strstr(page, "\r\n\r\n") + 4;
        assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
        close(fd);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
        int rc = system(cmd);
        unlink(path);
        if (rc != 0)
            fail_msg("promtool check metrics rejected the page (exit %d)", rc);
    } else {
        print_message("promtool not installed: exposition check skipped\n");
    }
    free(page);

    char *nf = http_get(port, "/other");
    assert_non_null(strstr(nf, " 404 Not Found\r\n"));
    free(nf);
    metrics_stop(m);
}

/* The Lua script's metrics: summed over writers at publish, escaped labels,
 * histogram families, refused counts; promtool accepts the page. */
static void test_script_metrics(void **state)
{
    fixture_t *f = *state;
    char err[256], listen[32];
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", free_port());
    metrics_t *m = metrics_start(listen, f->names, NULL, 0, err, sizeof(err));
    if (m == NULL)
        fail_msg("%s", err);
    smet_t *sm = smet_new(2);
    smet_handle_t c, h, plain;
    smet_label_t l = {"why", "a \"quoted\" one"};
    assert_int_equal(smet_series(sm, SMET_COUNTER, "checks", &l, 1, NULL, 0, &c, err, sizeof err), 0);
    assert_int_equal(smet_series(sm, SMET_COUNTER, "plain_total", NULL, 0, NULL, 0, &plain, err,
                                 sizeof err), 0);
    double b[] = {0.1, 1};
    assert_int_equal(smet_series(sm, SMET_HISTOGRAM, "wait", NULL, 0, b, 2, &h, err, sizeof err), 0);
    smet_inc(smet_slots(sm, 0), &c, 3);
    smet_inc(smet_slots(sm, 1), &c, 4);
    smet_inc(smet_slots(sm, 1), &plain, 1);
    smet_observe(smet_slots(sm, 0), &h, 0.05);
    smet_observe(smet_slots(sm, 1), &h, 5);
    metrics_state_t st = {.script = sm};
    metrics_publish(m, f->s, &st);
    char *page = http_get(metrics_port(m), "/metrics");
    assert_non_null(strstr(page, "# TYPE aiotest_script_checks_total counter\n"));
    assert_non_null(strstr(page, "aiotest_script_checks_total{why=\"a \\\"quoted\\\" one\"} 7\n"));
    assert_non_null(strstr(page, "\naiotest_script_plain_total 1\n"));
    assert_non_null(strstr(page, "# TYPE aiotest_script_wait histogram\n"));
    assert_non_null(strstr(page, "aiotest_script_wait_bucket{le=\"0.1\"} 1\n"));
    assert_non_null(strstr(page, "aiotest_script_wait_bucket{le=\"1\"} 1\n"));
    assert_non_null(strstr(page, "aiotest_script_wait_bucket{le=\"+Inf\"} 2\n"));
    assert_non_null(strstr(page, "aiotest_script_wait_sum 5.05\n"));
    assert_non_null(strstr(page, "aiotest_script_wait_count 2\n"));
    assert_non_null(strstr(page, "aiotest_script_updates_refused_total{metric=\"checks\"} 0\n"));
    if (system("command -v promtool >/dev/null 2>&1") == 0) {
        char path[] = "/tmp/aiotest-metrics-XXXXXX";
        int fd = mkstemp(path);
        const char *body = strstr(page, "\r\n\r\n") + 4;
        assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
        close(fd);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
        int rc = system(cmd);
        unlink(path);
        if (rc != 0)
            fail_msg("promtool check metrics rejected the page (exit %d)", rc);
    }
    free(page);
    metrics_stop(m);
    smet_free(sm);
}

static unsigned short scrape_port;

static void *scraper(void *arg)
{
    int *complete = arg;
    for (int i = 0; i < 40; i++) {
        char *page = http_get(scrape_port, "/metrics");
        /* Every page is one whole snapshot: its +Inf bucket equals its _count. */
        const char *inf = strstr(page, "method=\"GET\",le=\"+Inf\"} ");
        const char *cnt = strstr(page, "aiotest_request_duration_seconds_count{name=\"/item/{id}\"");
        if (inf != NULL && cnt != NULL &&
            strtoull(inf + strlen("method=\"GET\",le=\"+Inf\"} "), NULL, 10) ==
                strtoull(strstr(cnt, "\"} ") + 3, NULL, 10))
            (*complete)++;
        free(page);
    }
    return NULL;
}

/* Scrapes on two threads while the main thread publishes: no torn pages. */
static void test_publish_while_scraping(void **state)
{
    fixture_t *f = *state;
    char err[256], listen[32];
    snprintf(listen, sizeof(listen), ":%u", free_port());
    metrics_t *m = metrics_start(listen, f->names, NULL, 0, err, sizeof(err));
    assert_non_null(m);
    scrape_port = metrics_port(m);
    metrics_publish(m, f->s, NULL);
    int complete[2] = {0, 0};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, scraper, &complete[i]), 0);
    for (int i = 0; i < 200; i++) {
        stats_record(f->s, f->a, STATS_PROTO_H1, 200, STATS_OK, (uint64_t)(1000 + i), 10, 10);
        metrics_publish(m, f->s, NULL);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(complete[0], 40);
    assert_int_equal(complete[1], 40);
    metrics_stop(m);
}

static void test_start_errors(void **state)
{
    fixture_t *f = *state;
    char err[256];
    char listen[32];
    snprintf(listen, sizeof(listen), ":%u", free_port());
    metrics_t *m = metrics_start(listen, f->names, NULL, 0, err, sizeof(err));
    assert_non_null(m);
    assert_null(metrics_start(listen, f->names, NULL, 0, err, sizeof(err)));
    char want[128];
    snprintf(want, sizeof(want), "cannot listen on 127.0.0.1 port %s: ", listen + 1);
    if (strstr(err, want) == NULL)
        fail_msg("'%s' lacks '%s'", err, want);
    metrics_stop(m);
    assert_null(metrics_start("nohost.invalid:9646", f->names, NULL, 0, err, sizeof(err)));
    assert_non_null(strstr(err, "nohost.invalid"));
    assert_null(metrics_start("127.0.0.1:notaport", f->names, NULL, 0, err, sizeof(err)));
    assert_true(strlen(err) > 0);
    /* IPv6 loopback works too. */
    snprintf(listen, sizeof(listen), "[::1]:%u", free_port());
    m = metrics_start(listen, f->names, NULL, 0, err, sizeof(err));
    if (m == NULL)
        print_message("::1 not available here: %s\n", err);
    metrics_stop(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_while_scraping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_script_metrics, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

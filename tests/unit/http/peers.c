/* The HTTP client (http/hc.c) against real servers on loopback: nginx over
 * HTTP/1.1 (plain and TLS), h2 over TLS (ALPN) and h2c (prior knowledge), and
 * nghttpd (h2c). Each peer sends trailers (nginx add_trailer, nghttpd
 * --trailer) so that trailers are seen apart from the headers, and every
 * case runs twice: body accumulated for on_done, and streamed piece by piece
 * (on_head before on_body, the pieces adding up to the file). Skips (77) when
 * nginx, nghttpd or openssl is missing. Servers are started here on ports
 * this test picked and stopped by PID. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "hc.h"
#include "target.h"
#include "tls.h"

extern char **environ;

#define FILE_LEN 1000000 /* many DATA frames / chunks / reads; uploads wait for on_drain */

static char g_dir[64];
static char g_file[FILE_LEN];
static uint16_t g_p_h1, g_p_tls, g_p_h2c, g_p_nghttpd;
static pid_t g_nginx = -1, g_nghttpd = -1;

/* ---- peers */

static bool have(const char *prog)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
    return system(cmd) == 0;
}

static uint16_t free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof sin;
    bind(s, (struct sockaddr *)&sin, sizeof sin);
    getsockname(s, (struct sockaddr *)&sin, &l);
    close(s);
    return ntohs(sin.sin_port);
}

static bool port_open(uint16_t port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(s, (struct sockaddr *)&sin, sizeof sin) == 0;
    close(s);
    return ok;
}

static pid_t spawn(char *const argv[])
{
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0)
        pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

static bool wait_ports(const uint16_t *ports, size_t n)
{
    for (int i = 0; i < 200; i++) { /* up to 10 s on a busy machine */
        size_t up = 0;
        for (size_t k = 0; k < n; k++)
            up += port_open(ports[k]);
        if (up == n)
            return true;
        nanosleep(&(struct timespec){0, 50000000}, NULL);
    }
    return false;
}

static void stop(pid_t *pid)
{
    if (*pid > 0) {
        kill(*pid, SIGTERM);
        waitpid(*pid, NULL, 0);
    }
    *pid = -1;
}

static int peers_up(void **state)
{
    (void)state;
    if (!have("nginx") || !have("nghttpd") || !have("openssl")) {
        fprintf(stderr, "nginx, nghttpd or openssl missing: skipped\n");
        exit(77);
    }
    snprintf(g_dir, sizeof g_dir, "/tmp/hc-peers-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    char path[256], cmd[1024];
    snprintf(path, sizeof path, "%s/www", g_dir);
    mkdir(path, 0755);
    for (size_t i = 0; i < FILE_LEN; i++)
        g_file[i] = (char)('a' + (i * 7 + i / 251) % 26);
    snprintf(path, sizeof path, "%s/www/f.txt", g_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fwrite(g_file, 1, FILE_LEN, f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
             "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout %s/srv.key "
             "-out %s/srv.crt >/dev/null 2>&1", g_dir, g_dir);
    assert_int_equal(system(cmd), 0);
    g_p_h1 = free_port();
    g_p_tls = free_port();
    g_p_h2c = free_port();
    g_p_nghttpd = free_port();
    snprintf(path, sizeof path, "%s/nginx.conf", g_dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "daemon off; master_process off; worker_processes 1;\n"
            "pid %1$s/nginx.pid; error_log %1$s/nginx-error.log warn;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            "  client_body_temp_path %1$s/body; proxy_temp_path %1$s/proxy;\n"
            "  fastcgi_temp_path %1$s/fcgi; uwsgi_temp_path %1$s/uwsgi; scgi_temp_path %1$s/scgi;\n"
            "  access_log off; root %1$s/www;\n"
            "  add_header X-Test head always; client_max_body_size 10m;\n"
            /* No trailer on PUT's answer: nginx 1.22 then announces a chunked
             * body for a header-only 201 and never ends it. Uploads are read
             * back through /get/. */
            "  server { listen 127.0.0.1:%2$u; include %1$s/loc.conf; }\n"
            "  server { listen 127.0.0.1:%3$u ssl http2; ssl_certificate %1$s/srv.crt;\n"
            "           ssl_certificate_key %1$s/srv.key; include %1$s/loc.conf; }\n"
            "  server { listen 127.0.0.1:%4$u http2; include %1$s/loc.conf; }\n"
            "}\n",
            g_dir, g_p_h1, g_p_tls, g_p_h2c);
    fclose(f);
    snprintf(path, sizeof path, "%s/loc.conf", g_dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "location / { add_trailer X-Trailer nginx always; }\n"
            "location /up/ { dav_methods PUT; create_full_put_path on; }\n"
            "location /get/ { alias %s/www/up/; add_trailer X-Trailer nginx always; }\n",
            g_dir);
    fclose(f);
    char conf[256], port[16], docroot[256];
    snprintf(conf, sizeof conf, "%s/nginx.conf", g_dir);
    char elog[256];
    snprintf(elog, sizeof elog, "%s/nginx-error.log", g_dir);
    g_nginx = spawn((char *[]){"nginx", "-c", conf, "-e", elog, NULL});
    snprintf(port, sizeof port, "%u", g_p_nghttpd);
    snprintf(docroot, sizeof docroot, "%s/www", g_dir);
    g_nghttpd = spawn((char *[]){"nghttpd", "--no-tls", "--echo-upload", "-d", docroot,
                                 "--trailer", "x-trailer: nghttpd", port, NULL});
    assert_true(g_nginx > 0 && g_nghttpd > 0);
    const uint16_t ports[] = {g_p_h1, g_p_tls, g_p_h2c, g_p_nghttpd};
    assert_true(wait_ports(ports, 4));
    return 0;
}

static int peers_down(void **state)
{
    (void)state;
    stop(&g_nginx);
    stop(&g_nghttpd);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (g_dir[0])
        (void)system(cmd);
    return 0;
}

/* ---- the client */

typedef struct result {
    int done, heads, pieces;
    hc_fail_t fail;
    int status;
    bool head_before_body;
    char *body;
    size_t body_len;
    char x_test[32], trailer[32];
} result_t;

static result_t g_r;
static const char *g_authority;
static const char *g_method = "GET", *g_path = "/f.txt";
static int64_t g_up_length;    /* streamed request body: its length, -1 unknown */

/* The streamed upload: FILE_LEN bytes of g_file in pieces, pausing when the
 * client says so until on_drain. */
static struct {
    hc_xch_t *x;
    size_t off, piece;
    int waits, drains;
} g_up;

static int render(hc_xch_t *x, hc_req_t *rv)
{
    (void)x;
    *rv = (hc_req_t){.method = g_method, .method_len = strlen(g_method), .path = g_path,
                     .path_len = strlen(g_path), .authority = g_authority,
                     .authority_len = strlen(g_authority)};
    if (strcmp(g_method, "GET") != 0) {
        rv->body_streamed = true;
        rv->body_length = g_up_length;
    }
    return 0;
}

static void feed(void)
{
    while (g_up.off < FILE_LEN) {
        size_t n = FILE_LEN - g_up.off < g_up.piece ? FILE_LEN - g_up.off : g_up.piece;
        int rc = hc_conn_body(g_up.x, g_file + g_up.off, n);
        assert_int_not_equal(rc, -1);
        g_up.off += n;
        if (rc == 1) {
            g_up.waits++;
            return; /* on_drain calls again */
        }
    }
    hc_conn_body_end(g_up.x);
    g_up.off++; /* past the end: fed */
}

static void on_drain(hc_xch_t *x)
{
    assert_ptr_equal(x, g_up.x);
    g_up.drains++;
    if (g_up.off < FILE_LEN)
        feed();
}

static void find(const hc_header_t *h, size_t n, const char *name, char *out, size_t cap)
{
    for (size_t i = 0; i < n; i++)
        if (h[i].name_len == strlen(name) && strncasecmp(h[i].name, name, h[i].name_len) == 0)
            snprintf(out, cap, "%.*s", (int)h[i].value_len, h[i].value);
}

static void add_body(const char *d, size_t n)
{
    if (n == 0)
        return; /* d may be NULL then, which memcpy may not see */
    g_r.body = realloc(g_r.body, g_r.body_len + n + 1);
    memcpy(g_r.body + g_r.body_len, d, n);
    g_r.body_len += n;
}

static int on_head(hc_xch_t *x, const hc_resp_t *resp)
{
    (void)x;
    g_r.heads++;
    g_r.head_before_body = g_r.pieces == 0;
    g_r.status = resp->status;
    assert_int_equal(resp->n_trailers, 0);
    find(resp->headers, resp->n_headers, "x-test", g_r.x_test, sizeof g_r.x_test);
    return 0;
}

static bool g_pause_first; /* pause x at its first body piece */

static int on_body(hc_xch_t *x, const char *d, size_t n)
{
    g_r.pieces++;
    add_body(d, n);
    if (g_pause_first && g_r.pieces == 1)
        hc_conn_pause(x, true);
    return 0;
}

static void on_done(hc_xch_t *x, const hc_resp_t *resp, hc_fail_t fail)
{
    g_r.done++;
    g_r.fail = fail;
    if (!resp)
        return;
    g_r.status = resp->status;
    if (!x->stream)
        add_body(resp->body, resp->body_len);
    find(resp->headers, resp->n_headers, "x-test", g_r.x_test, sizeof g_r.x_test);
    find(resp->trailers, resp->n_trailers, "x-trailer", g_r.trailer, sizeof g_r.trailer);
    /* A trailer is never among the headers. */
    char in_head[32] = "";
    find(resp->headers, resp->n_headers, "x-trailer", in_head, sizeof in_head);
    assert_string_equal(in_head, "");
}

/* One request (g_method g_path) to 127.0.0.1:port; checks the outcome: a GET
 * gets f.txt back, a PUT/POST streams f.txt up (echoed by nghttpd). */
static void fetch(uint16_t port, bool tls, hc_want_t want, hc_proto_id_t proto, const char *trailer,
                  bool stream)
{
    bool up = strcmp(g_method, "GET") != 0;
    struct event_base *base = event_base_new();
    hc_env_t env;
    assert_int_equal(hc_env_init(&env, base), 0);
    env.render = render;
    env.on_done = on_done;
    env.on_head = on_head;
    env.on_body = on_body;
    env.on_drain = on_drain;
    env.connect_timeout_us = env.first_byte_timeout_us = env.body_timeout_us = 10000000;
    env.max_body = 1u << 20;
    char err[256], ca[256];
    snprintf(ca, sizeof ca, "%s/srv.crt", g_dir);
    tls_client_opts_t to = {.ca_file = ca};
    env.ssl_ctx = tls_client_ctx_new(&to, err, sizeof err);
    assert_non_null(env.ssl_ctx);
    target_t t;
    target_loopback(&t, port, tls, want, false);
    char auth[32];
    snprintf(auth, sizeof auth, "127.0.0.1:%u", port);
    g_authority = auth;
    hc_conn_t *c = hc_conn_new(&env, &t.t);
    assert_non_null(c);
    free(g_r.body);
    memset(&g_r, 0, sizeof g_r);
    hc_xch_t x = {.want_body = !stream, .stream = stream};
    hc_conn_submit(c, &x);
    if (up) {
        /* Fed at once: the first pieces wait for the connection. */
        g_up.x = &x;
        g_up.off = 0;
        g_up.waits = g_up.drains = 0;
        g_up.piece = 65536;
        feed();
    }
    struct timeval step = {0, 20000};
    for (int i = 0; i < 1000 && !g_r.done; i++) /* at most ~20 s */
        event_base_loopexit(base, &step), event_base_dispatch(base);
    if (g_r.fail != HC_OK)
        fprintf(stderr, "%s %s port %u: %s (fed %zu, waits %d, drains %d)\n", g_method, g_path,
                port, hc_fail_name(g_r.fail), g_up.off, g_up.waits, g_up.drains);
    assert_int_equal(g_r.done, 1);
    assert_int_equal(g_r.fail, HC_OK);
    assert_int_equal(x.proto, proto);
    assert_null(x.up); /* the upload buffer went with the exchange */
    if (up) {
        assert_true(g_up.off > FILE_LEN); /* all fed, end said */
        assert_int_equal(g_up.drains, g_up.waits);
        assert_true(g_up.waits >= 1); /* fed before the connection was ready: over the mark */
    }
    if (up && strcmp(trailer, "nginx") == 0) {
        /* nginx (dav) stored it: 201 the first time, 204 after. */
        assert_true(g_r.status == 201 || g_r.status == 204);
        hc_conn_free(c);
        SSL_CTX_free(env.ssl_ctx);
        hc_env_fini(&env);
        event_base_free(base);
        const char *m = g_method, *pa = g_path;
        char get[64];
        snprintf(get, sizeof get, "/get/%s", g_path + 4); /* "/up/x" -> "/get/x" */
        g_method = "GET";
        g_path = get;
        fetch(port, tls, want, proto, trailer, stream);
        g_method = m;
        g_path = pa;
        return;
    }
    assert_int_equal(g_r.status, 200);
    assert_int_equal(hc_conn_state(c), HC_CONN_READY);
    assert_int_equal(g_r.body_len, FILE_LEN);
    assert_memory_equal(g_r.body, g_file, FILE_LEN);
    assert_string_equal(g_r.trailer, trailer);
    if (strcmp(trailer, "nginx") == 0)
        assert_string_equal(g_r.x_test, "head");
    if (stream) {
        assert_int_equal(g_r.heads, 1);
        assert_true(g_r.head_before_body);
        assert_true(g_r.pieces >= 1);
    } else {
        assert_int_equal(g_r.heads, 0);
        assert_int_equal(g_r.pieces, 0);
    }
    hc_conn_free(c);
    SSL_CTX_free(env.ssl_ctx);
    hc_env_fini(&env);
    event_base_free(base);
}

static void test_nginx_h1(void **state)
{
    (void)state;
    fetch(g_p_h1, false, HC_WANT_AUTO, HC_PROTO_H1, "nginx", false);
    fetch(g_p_h1, false, HC_WANT_AUTO, HC_PROTO_H1, "nginx", true);
}

static void test_nginx_tls_h1(void **state)
{
    (void)state;
    fetch(g_p_tls, true, HC_WANT_H1, HC_PROTO_H1, "nginx", false);
    fetch(g_p_tls, true, HC_WANT_H1, HC_PROTO_H1, "nginx", true);
}

static void test_nginx_tls_h2(void **state)
{
    (void)state;
    fetch(g_p_tls, true, HC_WANT_AUTO, HC_PROTO_H2, "nginx", false);
    fetch(g_p_tls, true, HC_WANT_AUTO, HC_PROTO_H2, "nginx", true);
}

static void test_nginx_h2c(void **state)
{
    (void)state;
    fetch(g_p_h2c, false, HC_WANT_H2C, HC_PROTO_H2, "nginx", false);
    fetch(g_p_h2c, false, HC_WANT_H2C, HC_PROTO_H2, "nginx", true);
}

static void test_nghttpd_h2c(void **state)
{
    (void)state;
    fetch(g_p_nghttpd, false, HC_WANT_H2C, HC_PROTO_H2, "nghttpd", false);
    fetch(g_p_nghttpd, false, HC_WANT_H2C, HC_PROTO_H2, "nghttpd", true);
}

/* Streamed request bodies: PUT to nginx (HTTP/1.1 chunked and with a
 * length, TLS h2), read back with GET; POST to nghttpd, echoed. The body is
 * fed in 64 KiB pieces as the client asks (on_drain). */
static void test_upload(void **state)
{
    (void)state;
    g_method = "PUT";
    g_path = "/up/a.txt";
    g_up_length = -1; /* HTTP/1.1: chunked */
    fetch(g_p_h1, false, HC_WANT_AUTO, HC_PROTO_H1, "nginx", false);
    g_path = "/up/b.txt";
    g_up_length = FILE_LEN;
    fetch(g_p_h1, false, HC_WANT_AUTO, HC_PROTO_H1, "nginx", true);
    g_path = "/up/c.txt";
    fetch(g_p_tls, true, HC_WANT_AUTO, HC_PROTO_H2, "nginx", false);
    g_path = "/up/d.txt";
    g_up_length = -1; /* h2: no content-length */
    fetch(g_p_tls, true, HC_WANT_AUTO, HC_PROTO_H2, "nginx", false);
    g_method = "POST";
    g_path = "/f.txt";
    fetch(g_p_nghttpd, false, HC_WANT_H2C, HC_PROTO_H2, "nghttpd", false);
    g_up_length = FILE_LEN;
    fetch(g_p_nghttpd, false, HC_WANT_H2C, HC_PROTO_H2, "nghttpd", true);
    g_method = "GET";
    g_path = "/f.txt";
}

/* h2: a paused stream gets no more than the window it was given; resumed,
 * the rest comes. */
static void test_pause_h2(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    hc_env_t env;
    assert_int_equal(hc_env_init(&env, base), 0);
    env.render = render;
    env.on_done = on_done;
    env.on_head = on_head;
    env.on_body = on_body;
    env.connect_timeout_us = 10000000;
    env.h2_stream_window = 65535;
    target_t t;
    target_loopback(&t, g_p_nghttpd, false, HC_WANT_H2C, false);
    char auth[32];
    snprintf(auth, sizeof auth, "127.0.0.1:%u", g_p_nghttpd);
    g_authority = auth;
    hc_conn_t *c = hc_conn_new(&env, &t.t);
    free(g_r.body);
    memset(&g_r, 0, sizeof g_r);
    g_pause_first = true;
    hc_xch_t x = {.stream = true};
    hc_conn_submit(c, &x);
    struct timeval step = {0, 20000};
    for (int i = 0; i < 500 && g_r.pieces == 0; i++)
        event_base_loopexit(base, &step), event_base_dispatch(base);
    for (int i = 0; i < 15; i++) /* 0.3 s paused */
        event_base_loopexit(base, &step), event_base_dispatch(base);
    g_pause_first = false;
    assert_int_equal(g_r.done, 0);
    assert_true(g_r.body_len > 0 && g_r.body_len <= 65535);
    hc_conn_pause(&x, false);
    for (int i = 0; i < 1000 && !g_r.done; i++)
        event_base_loopexit(base, &step), event_base_dispatch(base);
    assert_int_equal(g_r.done, 1);
    assert_int_equal(g_r.fail, HC_OK);
    assert_int_equal(g_r.body_len, FILE_LEN);
    assert_memory_equal(g_r.body, g_file, FILE_LEN);
    hc_conn_free(c);
    hc_env_fini(&env);
    event_base_free(base);
}

/* hc_conn_open: the connection (TLS and h2 preface) is open before any
 * exchange and without a callback; the request then goes on it. Against a
 * port nobody listens on it ends closed, says why, and calls nothing. */
static void test_open_ahead(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    hc_env_t env;
    assert_int_equal(hc_env_init(&env, base), 0);
    env.render = render;
    env.on_done = on_done;
    env.connect_timeout_us = env.first_byte_timeout_us = 10000000;
    char err[256], ca[256];
    snprintf(ca, sizeof ca, "%s/srv.crt", g_dir);
    tls_client_opts_t to = {.ca_file = ca};
    env.ssl_ctx = tls_client_ctx_new(&to, err, sizeof err);
    assert_non_null(env.ssl_ctx);
    target_t t;
    target_loopback(&t, g_p_tls, true, HC_WANT_AUTO, false);
    char auth[32];
    snprintf(auth, sizeof auth, "127.0.0.1:%u", g_p_tls);
    g_authority = auth;
    hc_conn_t *c = hc_conn_new(&env, &t.t);
    assert_non_null(c);
    free(g_r.body);
    memset(&g_r, 0, sizeof g_r);
    hc_conn_open(c);
    assert_int_not_equal(hc_conn_state(c), HC_CONN_CLOSED);
    struct timeval step = {0, 20000};
    for (int i = 0; i < 500 && hc_conn_state(c) != HC_CONN_READY; i++)
        event_base_loopexit(base, &step), event_base_dispatch(base);
    assert_int_equal(hc_conn_state(c), HC_CONN_READY);
    assert_non_null(hc_conn_proto(c));
    assert_int_equal(hc_conn_proto(c)->proto_id, HC_PROTO_H2);
    assert_int_equal(g_r.done, 0);
    hc_conn_open(c); /* open already: nothing */
    assert_int_equal(hc_conn_state(c), HC_CONN_READY);
    hc_xch_t x = {.want_body = true};
    hc_conn_submit(c, &x);
    for (int i = 0; i < 500 && !g_r.done; i++)
        event_base_loopexit(base, &step), event_base_dispatch(base);
    assert_int_equal(g_r.done, 1);
    assert_int_equal(g_r.fail, HC_OK);
    assert_int_equal(g_r.status, 200);
    assert_int_equal(x.proto, HC_PROTO_H2);
    hc_conn_free(c);

    target_loopback(&t, free_port(), false, HC_WANT_AUTO, false);
    c = hc_conn_new(&env, &t.t);
    assert_non_null(c);
    free(g_r.body);
    memset(&g_r, 0, sizeof g_r);
    hc_conn_open(c);
    for (int i = 0; i < 500 && hc_conn_state(c) != HC_CONN_CLOSED; i++)
        event_base_loopexit(base, &step), event_base_dispatch(base);
    assert_int_equal(hc_conn_state(c), HC_CONN_CLOSED);
    assert_non_null(strstr(hc_conn_why(c), "connect"));
    assert_int_equal(g_r.done, 0);
    hc_conn_free(c);
    SSL_CTX_free(env.ssl_ctx);
    hc_env_fini(&env);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nginx_h1),
        cmocka_unit_test(test_nginx_tls_h1),
        cmocka_unit_test(test_nginx_tls_h2),
        cmocka_unit_test(test_nginx_h2c),
        cmocka_unit_test(test_nghttpd_h2c),
        cmocka_unit_test(test_upload),
        cmocka_unit_test(test_pause_h2),
        cmocka_unit_test(test_open_ahead),
    };
    return cmocka_run_group_tests(tests, peers_up, peers_down);
}

/* Unit tests of replay/wsrun.c (a user's WebSocket session) through the user
 * state machine (user.c) and the plan (plan.c), against a tiny WebSocket
 * server on 127.0.0.1 run on the test's event loop: a handshake, messages
 * with awaits by a JSON field and by count, an extractor feeding the next
 * message's template, server pings answered, the close; and each failure
 * category: ws_handshake, ws_closed, ws_timeout, ws_protocol. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "plan.h"
#include "user.h"
#include "view.h"
#include "wsframe.h"
#include "wsrun.h"

/* ---- the server */

enum mode { M_ECHO, M_BAD_ACCEPT, M_CLOSE_AFTER_FIRST, M_SILENT, M_BAD_FRAME };

typedef struct wsconn {
    struct wss *s;
    int fd;
    struct event *ev;
    char head[4096];
    size_t head_len;
    bool upgraded;
    wsf_t p;
    int n;                /* data messages from the client */
} wsconn_t;

typedef struct wss {
    struct event_base *base;
    int lfd;
    unsigned short port;
    struct event *lev;
    enum mode mode;
    int accepts;
    char log[8192];       /* "text:<payload>|binary:<hex>|close:<code>|pong:<payload>|" */
    char request[2048];   /* the last handshake */
    wsconn_t *conns[16];
    int n_conns;
} wss_t;

static void logf_(wss_t *s, const char *fmt, ...)
{
    size_t l = strlen(s->log);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->log + l, sizeof s->log - l, fmt, ap);
    va_end(ap);
}

static void send_frame(wsconn_t *c, uint8_t op, const void *d, size_t n)
{
    uint8_t out[512];
    size_t len = wsf_frame(out, op, d, n, false, NULL);
    assert_int_equal(write(c->fd, out, len), (ssize_t)len);
}

static int on_client_msg(void *ctx, const wsf_msg_t *m)
{
    wsconn_t *c = ctx;
    wss_t *s = c->s;
    if (m->opcode == WSF_TEXT) {
        logf_(s, "text:%.*s|", (int)m->len, (const char *)m->data);
    } else if (m->opcode == WSF_BINARY) {
        logf_(s, "binary:");
        for (size_t i = 0; i < m->len; i++)
            logf_(s, "%02x", m->data[i]);
        logf_(s, "|");
    } else if (m->opcode == WSF_PONG) {
        logf_(s, "pong:%.*s|", (int)m->len, (const char *)m->data);
        return 0;
    } else if (m->opcode == WSF_CLOSE) {
        logf_(s, "close:%u|", m->close_code);
        uint8_t code[2] = {0x03, 0xe8};
        send_frame(c, WSF_CLOSE, code, 2);
        return 0;
    }
    if (m->opcode != WSF_TEXT && m->opcode != WSF_BINARY)
        return 0;
    c->n++;
    switch (s->mode) {
    case M_CLOSE_AFTER_FIRST: {
        uint8_t code[2] = {0x0f, 0xa1}; /* 4001 */
        send_frame(c, WSF_CLOSE, code, 2);
        return 0;
    }
    case M_SILENT:
        return 0;
    case M_BAD_FRAME: {
        const uint8_t bad[] = {0xC1, 0x02, 'h', 'i'}; /* RSV1 set: nothing was negotiated */
        assert_int_equal(write(c->fd, bad, sizeof bad), (ssize_t)sizeof bad);
        return 0;
    }
    default:
        break;
    }
    /* Echo: a ping first (the client must answer it), then news nobody
     * awaits by name, then the answer. */
    send_frame(c, WSF_PING, "p1", 2);
    char ans[256];
    int n = snprintf(ans, sizeof ans, "{\"op\":\"news\",\"n\":%d}", c->n);
    send_frame(c, WSF_TEXT, ans, (size_t)n);
    n = snprintf(ans, sizeof ans, "{\"op\":\"echo\",\"n\":%d,\"sid\":\"S%d\"}", c->n, s->accepts);
    send_frame(c, WSF_TEXT, ans, (size_t)n);
    return 0;
}

static void conn_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    wsconn_t *c = arg;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) {
        event_del(c->ev);
        close(c->fd);
        c->fd = -1;
        return;
    }
    if (c->upgraded) {
        wsf_feed(&c->p, (const uint8_t *)buf, (size_t)n, on_client_msg, c);
        return;
    }
    memcpy(c->head + c->head_len, buf, (size_t)n);
    c->head_len += (size_t)n;
    c->head[c->head_len] = 0;
    char *end = strstr(c->head, "\r\n\r\n");
    if (!end)
        return;
    snprintf(c->s->request, sizeof c->s->request, "%.*s", (int)(end - c->head), c->head);
    const char *k = strcasestr(c->head, "\r\nSec-WebSocket-Key: ");
    assert_non_null(k);
    char key[64];
    snprintf(key, sizeof key, "%.*s", (int)strcspn(k + 21, "\r"), k + 21);
    char accept[29];
    wsr_accept_of(key, accept);
    if (c->s->mode == M_BAD_ACCEPT)
        accept[0] = accept[0] == 'A' ? 'B' : 'A';
    /* The subprotocol only when asked for (a client must refuse another). */
    bool chat = strcasestr(c->head, "\r\nSec-WebSocket-Protocol: chat\r\n") != NULL;
    char resp[512];
    int rl = snprintf(resp, sizeof resp,
                      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Accept: %s\r\n%s\r\n", accept,
                      chat ? "Sec-WebSocket-Protocol: chat\r\n" : "");
    assert_int_equal(write(fd, resp, (size_t)rl), rl);
    c->upgraded = true;
    wsf_init(&c->p, 4096);
    size_t rest = c->head_len - (size_t)(end + 4 - c->head);
    if (rest)
        wsf_feed(&c->p, (const uint8_t *)end + 4, rest, on_client_msg, c);
}

static void accept_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    wss_t *s = arg;
    int cfd = accept(fd, NULL, NULL);
    if (cfd < 0)
        return;
    wsconn_t *c = calloc(1, sizeof *c);
    c->s = s;
    c->fd = cfd;
    c->ev = event_new(s->base, cfd, EV_READ | EV_PERSIST, conn_cb, c);
    event_add(c->ev, NULL);
    s->accepts++;
    assert_true(s->n_conns < 16);
    s->conns[s->n_conns++] = c;
}

static void wss_start(wss_t *s, struct event_base *base, enum mode mode)
{
    memset(s, 0, sizeof *s);
    s->base = base;
    s->mode = mode;
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->lfd, 16), 0);
    socklen_t al = sizeof a;
    getsockname(s->lfd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    s->lev = event_new(base, s->lfd, EV_READ | EV_PERSIST, accept_cb, s);
    event_add(s->lev, NULL);
}

static void wss_stop(wss_t *s)
{
    for (int i = 0; i < s->n_conns; i++) {
        wsconn_t *c = s->conns[i];
        if (c->fd >= 0) {
            event_del(c->ev);
            close(c->fd);
        }
        event_free(c->ev);
        if (c->upgraded)
            wsf_fini(&c->p);
        free(c);
    }
    event_free(s->lev);
    close(s->lfd);
}

/* ---- the replay side */

static const char scenario_json[] =
    "{\"hosts\": [{\"base_url\": \"http://127.0.0.1:PORT\"}],"
    " \"classes\": [{\"name\": \"chat\", \"wait\": {\"kind\": \"none\"}, \"tasks\": [{\"ws\": {"
    "   \"name\": \"room\", \"url\": \"ws://127.0.0.1:PORT/live?u={{user_id}}\", \"subprotocol\": \"chat\","
    "   \"headers\": [[\"Origin\", \"http://127.0.0.1:PORT\"]],"
    "   \"messages\": ["
    "     {\"name\": \"hello\", \"data\": \"hello {{user_id}}\", \"await\": {\"json\": \"$.op\", \"equals\": \"echo\"},"
    "      \"extract\": [{\"var\": \"sid\", \"kind\": \"json\", \"expr\": \"$.sid\"}]},"
    "     {\"name\": \"again\", \"data\": \"again {{sid}}\", \"gap_us\": 1000, \"await\": {\"count\": 2}},"
    "     {\"name\": \"blob\", \"binary\": true, \"data\": {\"base64\": \"AP8=\"}, \"await\": {\"count\": 2}}],"
    "   \"close_gap_us\": 1000}}]}]}";

typedef struct fx {
    struct event_base *base;
    wss_t srv;
    scn_scenario_t *scn;
    plan_t *plan;
    stats_t *stats;
    user_env_t env;
    int ended;
} fx_t;

static void on_end(user_t *u, void *arg)
{
    (void)u;
    ((fx_t *)arg)->ended++;
}

/* A background session ("bg": join, then "later" after 1 s) and, while it
 * is open, a foreground one ("fg") in the next step. */
static const char background_json[] =
    "{\"hosts\": [{\"base_url\": \"http://127.0.0.1:PORT\"}],"
    " \"classes\": [{\"name\": \"chat\", \"wait\": {\"kind\": \"none\"}, \"tasks\": ["
    "  {\"ws\": {\"name\": \"bg\", \"url\": \"ws://127.0.0.1:PORT/bg\", \"background\": true,"
    "   \"messages\": [{\"name\": \"join\", \"data\": \"bg join\", \"await\": {\"count\": 2}},"
    "                {\"name\": \"later\", \"data\": \"bg later\", \"gap_us\": 1000000, \"await\": {\"count\": 2}}]}},"
    "  {\"ws\": {\"name\": \"fg\", \"url\": \"ws://127.0.0.1:PORT/fg\","
    "   \"messages\": [{\"name\": \"hi\", \"data\": \"fg hi\", \"gap_us\": 50000, \"await\": {\"count\": 2}}]}}]}]}";

static const char *fx_json = scenario_json;

static fx_t *fx_new(enum mode mode, uint64_t timeout_us)
{
    fx_t *f = calloc(1, sizeof *f);
    f->base = event_base_new();
    wss_start(&f->srv, f->base, mode);
    /* PORT -> the server's port, everywhere. */
    char text[4096], port[8];
    snprintf(port, sizeof port, "%u", f->srv.port);
    size_t o = 0;
    for (const char *p = fx_json; *p;) {
        if (strncmp(p, "PORT", 4) == 0) {
            o += (size_t)snprintf(text + o, sizeof text - o, "%s", port);
            p += 4;
        } else {
            text[o++] = *p++;
        }
    }
    text[o] = 0;
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    assert_non_null(j);
    mp_error_t err;
    if (view_scenario_from_json(j, &f->scn, &err) != 0)
        fail_msg("%s", err.msg);
    json_decref(j);
    char perr[256];
    f->plan = plan_compile(f->scn, NULL, ".", perr, sizeof perr);
    if (!f->plan)
        fail_msg("%s", perr);
    f->stats = stats_new(f->plan->names);
    assert_int_equal(user_env_init(&f->env, f->plan, f->base, f->stats, 1), 0);
    f->env.conn.connect_timeout_us = 2000000;
    static struct timeval tv;
    tv = (struct timeval){(time_t)(timeout_us / 1000000), (suseconds_t)(timeout_us % 1000000)};
    f->env.timeout_tv = timeout_us ? &tv : NULL;
    f->env.timeout_us = timeout_us;
    f->env.iterations = 1;
    f->env.on_end = on_end;
    f->env.arg = f;
    return f;
}

static void fx_free(fx_t *f)
{
    user_env_fini(&f->env);
    stats_free(f->stats);
    plan_free(f->plan);
    scn_free(f->scn);
    wss_stop(&f->srv);
    event_base_free(f->base);
    free(f);
}

/* Runs the loop until the user ended (10 s at most: a loaded machine). */
static void run_until_end(fx_t *f)
{
    struct timeval step = {0, 5000};
    for (int i = 0; i < 2000 && !f->ended; i++)
        event_base_loopexit(f->base, &step), event_base_dispatch(f->base);
    assert_int_equal(f->ended, 1);
}

static const stats_entry_t *entry(fx_t *f, const char *name)
{
    for (size_t i = 0; i < stats_names_count(f->plan->names); i++)
        if (strcmp(stats_names_name(f->plan->names, (uint32_t)i), name) == 0)
            return stats_entry(f->stats, (uint32_t)i);
    fail_msg("no entry %s", name);
    return NULL;
}

static uint64_t fails(fx_t *f, const char *name, stats_fail_t cat)
{
    return entry(f, name)->fail[cat];
}

static void test_accept_key_rfc_example(void **state)
{
    (void)state;
    char out[29];
    wsr_accept_of("dGhlIHNhbXBsZSBub25jZQ==", out); /* RFC 6455 1.3 */
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void test_session(void **state)
{
    (void)state;
    fx_t *f = fx_new(M_ECHO, 5000000);
    user_t *u = user_new(&f->env, 7, 0, false);
    user_start(u);
    run_until_end(f);
    /* The handshake: GET with the Upgrade headers, the template expanded,
     * the scenario's header, the subprotocol. */
    assert_non_null(strstr(f->srv.request, "GET /live?u=7 HTTP/1.1\r\n"));
    assert_non_null(strstr(f->srv.request, "\r\nUpgrade: websocket"));
    assert_non_null(strstr(f->srv.request, "\r\nConnection: Upgrade"));
    assert_non_null(strstr(f->srv.request, "\r\nSec-WebSocket-Version: 13"));
    assert_non_null(strstr(f->srv.request, "\r\nSec-WebSocket-Protocol: chat"));
    assert_non_null(strstr(f->srv.request, "\r\nOrigin: http://127.0.0.1:"));
    /* Messages in order; "again" carries the sid extracted from the awaited
     * echo (not from the news before it); every ping answered; the close. */
    assert_string_equal(f->srv.log, "text:hello 7|pong:p1|text:again S1|pong:p1|binary:00ff|pong:p1|close:1000|");
    assert_int_equal(f->srv.accepts, 1);
    assert_int_equal(entry(f, "room connect")->count, 1);
    assert_int_equal(entry(f, "room hello")->count, 1);
    assert_int_equal(entry(f, "room again")->count, 1);
    assert_int_equal(entry(f, "room blob")->count, 1);
    assert_int_equal(stats_total(f->stats)->failures, 0);
    user_free(u);
    fx_free(f);
}

static void test_bad_accept_is_ws_handshake(void **state)
{
    (void)state;
    fx_t *f = fx_new(M_BAD_ACCEPT, 5000000);
    user_t *u = user_new(&f->env, 1, 0, false);
    user_start(u);
    run_until_end(f);
    assert_int_equal(fails(f, "room connect", STATS_FAIL_WS_HANDSHAKE), 1);
    assert_int_equal(entry(f, "room hello")->count, 0); /* nothing sent */
    assert_string_equal(f->srv.log, "");
    user_free(u);
    fx_free(f);
}

static void test_refused_is_ws_handshake(void **state)
{
    (void)state;
    fx_t *f = fx_new(M_ECHO, 5000000);
    /* Nobody listens any more. */
    event_del(f->srv.lev);
    close(f->srv.lfd);
    f->srv.lfd = socket(AF_INET, SOCK_STREAM, 0);
    user_t *u = user_new(&f->env, 1, 0, false);
    user_start(u);
    run_until_end(f);
    assert_int_equal(fails(f, "room connect", STATS_FAIL_WS_HANDSHAKE), 1);
    assert_int_equal(stats_total(f->stats)->count, 1);
    user_free(u);
    fx_free(f);
}

static void test_server_close_is_ws_closed(void **state)
{
    (void)state;
    fx_t *f = fx_new(M_CLOSE_AFTER_FIRST, 5000000);
    user_t *u = user_new(&f->env, 1, 0, false);
    user_start(u);
    run_until_end(f);
    assert_int_equal(entry(f, "room connect")->failures, 0);
    assert_int_equal(fails(f, "room hello", STATS_FAIL_WS_CLOSED), 1);
    /* The session ended: the later messages were never attempted. */
    assert_int_equal(entry(f, "room again")->count, 0);
    /* The server's close (4001) was answered with the same code. */
    assert_string_equal(f->srv.log, "text:hello 1|close:4001|");
    user_free(u);
    fx_free(f);
}

static void test_silence_is_ws_timeout(void **state)
{
    (void)state;
    fx_t *f = fx_new(M_SILENT, 200000);
    user_t *u = user_new(&f->env, 1, 0, false);
    user_start(u);
    run_until_end(f);
    /* Every await times out; the session goes on to the end and closes. */
    assert_int_equal(fails(f, "room hello", STATS_FAIL_WS_TIMEOUT), 1);
    assert_int_equal(fails(f, "room again", STATS_FAIL_WS_TIMEOUT), 1);
    assert_int_equal(fails(f, "room blob", STATS_FAIL_WS_TIMEOUT), 1);
    assert_non_null(strstr(f->srv.log, "close:1000|"));
    /* The extractor never ran: {{sid}} is empty. */
    assert_non_null(strstr(f->srv.log, "text:again |"));
    user_free(u);
    fx_free(f);
}

static void test_bad_frame_is_ws_protocol(void **state)
{
    (void)state;
    fx_t *f = fx_new(M_BAD_FRAME, 5000000);
    user_t *u = user_new(&f->env, 1, 0, false);
    user_start(u);
    run_until_end(f);
    assert_int_equal(fails(f, "room hello", STATS_FAIL_WS_PROTOCOL), 1);
    assert_int_equal(entry(f, "room again")->count, 0);
    user_free(u);
    fx_free(f);
}

/* A stop while the session waits out a gap: it closes at once, on_stop runs. */
static void test_stop_closes(void **state)
{
    (void)state;
    fx_t *f = fx_new(M_ECHO, 5000000);
    /* A long gap before "again". */
    ((scn_ws_msg_t *)f->plan->classes[0].tasks.v[0].ws->msgs[1].src)->gap_us = 60000000;
    user_t *u = user_new(&f->env, 3, 0, false);
    user_start(u);
    struct timeval step = {0, 5000};
    for (int i = 0; i < 2000 && !strstr(f->srv.log, "text:hello 3|"); i++)
        event_base_loopexit(f->base, &step), event_base_dispatch(f->base);
    for (int i = 0; i < 20; i++)
        event_base_loopexit(f->base, &step), event_base_dispatch(f->base);
    assert_true(user_memory(u) > 0);
    user_stop(u);
    run_until_end(f);
    assert_string_equal(f->srv.log, "text:hello 3|pong:p1|close:1000|");
    assert_int_equal(entry(f, "room again")->count, 0);
    assert_int_equal(stats_total(f->stats)->failures, 0);
    user_free(u);
    fx_free(f);
}

/* A background session runs beside the next step; the iteration ends when
 * both ended. */
static void test_background_session(void **state)
{
    (void)state;
    fx_json = background_json;
    fx_t *f = fx_new(M_ECHO, 5000000);
    fx_json = scenario_json;
    user_t *u = user_new(&f->env, 1, 0, false);
    user_start(u);
    run_until_end(f);
    /* fg's whole session happens while bg waits out its 1 s; bg's second
     * message comes after, and the user ended only after bg closed. */
    assert_string_equal(f->srv.log, "text:bg join|pong:p1|text:fg hi|pong:p1|close:1000|text:bg later|pong:p1|close:1000|");
    assert_int_equal(f->srv.accepts, 2);
    assert_int_equal(entry(f, "bg later")->count, 1);
    assert_int_equal(entry(f, "fg hi")->count, 1);
    assert_int_equal(stats_total(f->stats)->failures, 0);
    assert_int_equal(stats_iterations_completed(f->stats), 1);
    user_free(u);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_key_rfc_example),
        cmocka_unit_test(test_session),
        cmocka_unit_test(test_bad_accept_is_ws_handshake),
        cmocka_unit_test(test_refused_is_ws_handshake),
        cmocka_unit_test(test_server_close_is_ws_closed),
        cmocka_unit_test(test_silence_is_ws_timeout),
        cmocka_unit_test(test_bad_frame_is_ws_protocol),
        cmocka_unit_test(test_stop_closes),
        cmocka_unit_test(test_background_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of convert/wsstep.c and the converter's handling of recorded
 * WebSocket sessions (pick.c, convert.c): a 101 with its messages becomes a
 * ws step in its user's flow, between the HTTP steps it came between. Before,
 * every such session was dropped as "upgrade". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "convert.h"
#include "fixture.h"
#include "pick.h"
#include "wsstep.h"

static void add_msg(rec_exchange_t *x, int dir, int op, int64_t t_ms, const char *data)
{
    rec_ws_msg_t m = {.dir = (uint8_t)dir, .opcode = (uint8_t)op, .t_us = t_ms * 1000,
                      .data = (uint8_t *)data, .len = data ? strlen(data) : 0};
    assert_int_equal(rec_ws_add(x, &m), 0);
}

/* A chat session as the proxy records it: no Upgrade header (hop-by-hop),
 * the key and the accept; hello (2 answers), a ping, a message nobody answers,
 * one holding "{{", a close. */
static void make_ws(rec_exchange_t *x, int start_ms)
{
    fx_make(x, "GET", "/live/42?room=7", start_ms, start_ms + 5, 101, NULL, NULL);
    x->t_end_us = x->t_first_byte_us + 900000;  /* the connection closed 900 ms after the 101 */
    rec_headers_add(&x->req_headers, "Host", "shop.test");
    rec_headers_add(&x->req_headers, "Origin", "http://shop.test");
    rec_headers_add(&x->req_headers, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
    rec_headers_add(&x->req_headers, "Sec-WebSocket-Version", "13");
    rec_headers_add(&x->req_headers, "Sec-WebSocket-Protocol", "chat, superchat");
    rec_headers_add(&x->resp_headers, "Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    rec_headers_add(&x->resp_headers, "Sec-WebSocket-Protocol", "chat");
    add_msg(x, REC_WS_DOWN, 1, 2, "{\"op\":\"welcome\"}");   /* before any client message: not awaited */
    add_msg(x, REC_WS_UP, 1, 100, "{\"op\":\"hello\"}");
    add_msg(x, REC_WS_DOWN, 1, 110, "{\"op\":\"hi\"}");
    add_msg(x, REC_WS_DOWN, 9, 115, "");                     /* a ping: the connection's */
    add_msg(x, REC_WS_DOWN, 1, 120, "{\"op\":\"news\"}");
    add_msg(x, REC_WS_UP, 2, 400, "\x01\x02");
    add_msg(x, REC_WS_UP, 1, 500, "{{not a template");
    add_msg(x, REC_WS_UP, 8, 800, "bye");
}

static void test_pick_verdicts(void **state)
{
    (void)state;
    conv_opts_t o;
    conv_opts_init(&o);
    mp_error_t err;
    pick_t *f = pick_new(&o, &err);
    assert_non_null(f);
    rec_exchange_t ws, tunnel, h2c, get;
    make_ws(&ws, 0);
    assert_true(pick_is_websocket(&ws));
    assert_int_equal(pick_check(f, &ws), PICK_KEEP_WS);
    /* Another upgrade piped blind: a tunnel (dropped as error, as before). */
    fx_make(&tunnel, "GET", "/raw", 0, 1, 101, NULL, NULL);
    tunnel.flags = REC_F_TUNNEL;
    assert_false(pick_is_websocket(&tunnel));
    /* A 101 without any WebSocket sign (h2c upgrade): counted as upgrade. */
    fx_make(&h2c, "GET", "/", 0, 1, 101, NULL, NULL);
    rec_headers_add(&h2c.req_headers, "Upgrade", "h2c");
    assert_false(pick_is_websocket(&h2c));
    assert_int_equal(pick_check(f, &h2c), PICK_DROP_UPGRADE);
    fx_make(&get, "GET", "/", 0, 1, 200, NULL, NULL);
    assert_int_equal(pick_check(f, &get), PICK_KEEP);
    /* Host filters still apply to WebSocket sessions. */
    const char *ex[] = {"shop.test"};
    o.exclude_hosts = ex;
    o.n_exclude_hosts = 1;
    assert_int_equal(pick_check(f, &ws), PICK_DROP_HOST);
    o.n_exclude_hosts = 0;
    o.exclude_hosts = NULL;
    rec_exchange_fini(&ws);
    rec_exchange_fini(&tunnel);
    rec_exchange_fini(&h2c);
    rec_exchange_fini(&get);
    pick_free(f);
}

static void test_step_from_session(void **state)
{
    (void)state;
    conv_opts_t o;
    conv_opts_init(&o);
    rec_exchange_t x;
    make_ws(&x, 0);
    wsstep_stats_t st = {0};
    scn_ws_t *w = wsstep_from_exchange(&x, &o, &st);
    assert_non_null(w);
    assert_string_equal(w->url, "ws://shop.test/live/42?room=7");
    assert_string_equal(w->name, "/live/{id}");
    assert_string_equal(w->subprotocol, "chat");
    /* Origin kept; Host and every Sec-WebSocket-* are the connection's. */
    assert_int_equal(w->n_headers, 1);
    assert_string_equal(w->headers[0].name, "Origin");
    assert_int_equal(w->n_msgs, 2);
    assert_string_equal(w->msgs[0].name, "msg 0");
    assert_false(w->msgs[0].binary);
    assert_int_equal(w->msgs[0].len, strlen("{\"op\":\"hello\"}"));
    assert_memory_equal(w->msgs[0].data, "{\"op\":\"hello\"}", w->msgs[0].len);
    assert_int_equal(w->msgs[0].gap_us, 100000);     /* from the 101 */
    assert_int_equal(w->msgs[0].await_count, 2);     /* the two data answers, not the ping */
    assert_true(w->msgs[1].binary);
    assert_int_equal(w->msgs[1].len, 2);
    assert_int_equal(w->msgs[1].gap_us, 280000);     /* from the last awaited answer (120 ms) */
    assert_int_equal(w->msgs[1].await_count, 0);
    assert_int_equal(w->close_gap_us, 500000);       /* the client's close at 800 ms, from 300 ms */
    assert_int_equal(st.messages, 2);
    assert_int_equal(st.braces, 1);
    scn_ws_free(w);
    rec_exchange_fini(&x);
}

/* A session id the server hands out and the client sends back: an extractor
 * on the message whose answer carried it, a template in the later ones; a
 * value the client sent first (its room) is the client's, not correlated. */
static void test_correlation(void **state)
{
    (void)state;
    conv_opts_t o;
    conv_opts_init(&o);
    rec_exchange_t x;
    fx_make(&x, "GET", "/chat", 0, 5, 101, NULL, NULL);
    rec_headers_add(&x.req_headers, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
    add_msg(&x, REC_WS_UP, 1, 10, "{\"op\":\"join\",\"room\":\"room-4711\"}");
    add_msg(&x, REC_WS_DOWN, 1, 12, "{\"op\":\"joined\",\"room\":\"room-4711\",\"sid\":\"a81f0c2e\"}");
    add_msg(&x, REC_WS_UP, 1, 20, "{\"op\":\"say\",\"sid\":\"a81f0c2e\",\"room\":\"room-4711\"}");
    add_msg(&x, REC_WS_UP, 1, 30, "bye a81f0c2e!");
    wsstep_stats_t st = {0};
    scn_ws_t *w = wsstep_from_exchange(&x, &o, &st);
    assert_non_null(w);
    assert_int_equal(st.correlated, 1);
    assert_int_equal(w->msgs[0].n_extractors, 1);
    assert_string_equal(w->msgs[0].extractors[0].var, "ws_sid");
    assert_int_equal(w->msgs[0].extractors[0].kind, SCN_EXT_JSON);
    assert_string_equal(w->msgs[0].extractors[0].expr, "$.sid");
    const char *say = "{\"op\":\"say\",\"sid\":\"{{ws_sid}}\",\"room\":\"room-4711\"}";
    assert_int_equal(w->msgs[1].len, strlen(say));
    assert_memory_equal(w->msgs[1].data, say, strlen(say));
    assert_int_equal(w->msgs[2].len, strlen("bye {{ws_sid}}!"));
    assert_memory_equal(w->msgs[2].data, "bye {{ws_sid}}!", w->msgs[2].len);
    scn_ws_free(w);
    /* Without correlation the messages stay as recorded. */
    o.correlate = false;
    st = (wsstep_stats_t){0};
    w = wsstep_from_exchange(&x, &o, &st);
    assert_int_equal(st.correlated, 0);
    assert_int_equal(w->msgs[0].n_extractors, 0);
    assert_non_null(memmem(w->msgs[1].data, w->msgs[1].len, "a81f0c2e", 8));
    scn_ws_free(w);
    rec_exchange_fini(&x);
}

/* Whole conversion: GET /, then the session, then GET /bye: the ws step sits
 * between them in the tasks, the summary counts it, the scenario validates. */
static void test_convert_places_the_step(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/aiotest-wsstep-%d.mp", (int)getpid());
    rec_header_t h = {.version_major = REC_VERSION_MAJOR, .version_minor = REC_VERSION_MINOR,
                      .source = "proxy", .tool = "test"};
    mp_error_t err;
    rec_writer_t *wr = rec_writer_open(path, &h, false, &err);
    assert_non_null(wr);
    rec_exchange_t a, ws, b;
    fx_make(&a, "GET", "/", 0, 10, 200, "text/html", "<html></html>");
    make_ws(&ws, 2000);
    fx_make(&b, "GET", "/bye", 4000, 4010, 200, "text/html", "bye");
    assert_int_equal(rec_writer_write(wr, &a, &err), 0);
    assert_int_equal(rec_writer_write(wr, &ws, &err), 0);
    assert_int_equal(rec_writer_write(wr, &b, &err), 0);
    assert_int_equal(rec_writer_close(wr), 0);
    conv_opts_t o;
    conv_opts_init(&o);
    const char *paths[] = {path};
    scn_scenario_t *s = NULL;
    conv_stats_t st;
    if (conv_to_scenario(paths, 1, &o, &s, &st, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(st.dropped_upgrade, 0);
    assert_int_equal(st.ws_steps, 1);
    assert_int_equal(st.ws_messages, 2);
    assert_int_equal(st.ws_braces, 1);
    assert_int_equal(st.requests, 2);
    assert_int_equal(s->n_classes, 1);
    const scn_steps_t *t = &s->classes[0].tasks;
    size_t total = s->classes[0].on_start.n + t->n + s->classes[0].on_stop.n;
    assert_int_equal(total, 3);
    assert_int_equal(t->n, 3);
    assert_string_equal(t->v[0].requests[0].url, "/");
    assert_non_null(t->v[1].ws);
    assert_string_equal(t->v[2].requests[0].url, "/bye");
    /* Think times around the session: from / to the connect, from the close to /bye. */
    assert_int_equal(t->v[0].think_us, 1990000);
    assert_int_equal(t->v[1].think_us, 4000000 - 2005000 - 900000);
    char line[768];
    assert_non_null(strstr(conv_stats_line(&st, line, sizeof line),
                           "1 WebSocket session(s) -> ws steps, 2 message(s), 1 left out (text holding '{{')"));
    mp_error_t verr;
    assert_int_equal(scn_validate(s, &verr), 0);
    scn_free(s);
    rec_exchange_fini(&a);
    rec_exchange_fini(&ws);
    rec_exchange_fini(&b);
    unlink(path);
}

/* A session that stayed open while the user went on (a single-page app's live
 * updates): a background ws step, the next step due from its connect. */
static void test_convert_background(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/aiotest-wsbg-%d.mp", (int)getpid());
    rec_header_t h = {.version_major = REC_VERSION_MAJOR, .version_minor = REC_VERSION_MINOR,
                      .source = "proxy", .tool = "test"};
    mp_error_t err;
    rec_writer_t *wr = rec_writer_open(path, &h, false, &err);
    assert_non_null(wr);
    rec_exchange_t a, ws, b;
    fx_make(&a, "GET", "/", 0, 10, 200, "text/html", "<html></html>");
    make_ws(&ws, 100);                 /* open from 100 ms to 1005 ms */
    fx_make(&b, "GET", "/api/news", 600, 610, 200, "application/json", "[]");
    assert_int_equal(rec_writer_write(wr, &a, &err), 0);
    assert_int_equal(rec_writer_write(wr, &ws, &err), 0);
    assert_int_equal(rec_writer_write(wr, &b, &err), 0);
    assert_int_equal(rec_writer_close(wr), 0);
    conv_opts_t o;
    conv_opts_init(&o);
    const char *paths[] = {path};
    scn_scenario_t *s = NULL;
    conv_stats_t st;
    if (conv_to_scenario(paths, 1, &o, &s, &st, &err) != 0)
        fail_msg("%s", err.msg);
    const scn_steps_t *t = &s->classes[0].tasks;
    assert_int_equal(t->n, 3);
    assert_non_null(t->v[1].ws);
    assert_true(t->v[1].ws->background);
    assert_int_equal(t->v[1].think_us, 500000); /* /api/news 500 ms after the connect */
    assert_string_equal(t->v[2].requests[0].url, "/api/news");
    assert_int_equal(st.ws_background, 1);
    char line[768];
    assert_non_null(strstr(conv_stats_line(&st, line, sizeof line), "2 message(s), 1 in the background"));
    scn_free(s);
    rec_exchange_fini(&a);
    rec_exchange_fini(&ws);
    rec_exchange_fini(&b);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pick_verdicts),
        cmocka_unit_test(test_step_from_session),
        cmocka_unit_test(test_correlation),
        cmocka_unit_test(test_convert_places_the_step),
        cmocka_unit_test(test_convert_background),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

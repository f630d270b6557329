/* Unit tests of capture/fwd.c: hop-by-hop headers and HTTP/1.1 framing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fwd.h"

static char *drain_str(struct evbuffer *b)
{
    size_t n = evbuffer_get_length(b);
    char *s = malloc(n + 1);
    evbuffer_remove(b, s, n);
    s[n] = '\0';
    return s;
}

static void hop_by_hop_names_and_connection_tokens(void **state)
{
    (void)state;
    rec_headers_t h = { 0 };
    rec_headers_add(&h, "Connection", "keep-alive, X-Trace , close");
    rec_headers_add(&h, "X-Trace", "1");
    rec_headers_add(&h, "X-Other", "2");
    assert_true(fwd_is_hop(&h, "connection"));
    assert_true(fwd_is_hop(&h, "Proxy-Connection"));
    assert_true(fwd_is_hop(&h, "transfer-encoding"));
    assert_true(fwd_is_hop(&h, "Proxy-Authorization"));
    assert_true(fwd_is_hop(&h, "x-trace"));      /* named in Connection */
    assert_false(fwd_is_hop(&h, "X-Other"));
    assert_false(fwd_is_hop(&h, "X-Trac"));      /* a prefix is not a token */
    assert_false(fwd_is_hop(NULL, "Cookie"));
    /* every fixed name in any case, without a Connection header; names of
     * the same lengths that are not hop-by-hop (the switch on the length) */
    static const char *const hop[] = { "te", "TRAILER", "upgrade", "Connection", "KEEP-alive",
                                       "proxy-connection", "Transfer-Encoding", "PROXY-AUTHORIZATION" };
    static const char *const not_hop[] = { "tf", "Trailers", "Referer", "Connectio", "Keep-Alivf",
                                           "X-Forwarded-Proto", "Content-Encoding", "Proxy-Authorizatio",
                                           "Proxy-Authenticate", "" };
    for (size_t i = 0; i < sizeof hop / sizeof hop[0]; i++)
        assert_true(fwd_is_hop(NULL, hop[i]));
    for (size_t i = 0; i < sizeof not_hop / sizeof not_hop[0]; i++)
        assert_false(fwd_is_hop(NULL, not_hop[i]));
    assert_true(fwd_names_others(&h)); /* X-Trace and close */
    rec_headers_t k = { 0 };
    assert_false(fwd_names_others(&k));
    rec_headers_add(&k, "connection", " Keep-Alive ,upgrade,, TE");
    assert_false(fwd_names_others(&k));
    rec_headers_add(&k, "Connection", "close");
    assert_true(fwd_names_others(&k));
    rec_headers_fini(&k);
    rec_headers_fini(&h);
    /* te: trailers is the one te that HTTP/2 and the recording keep. */
    assert_true(fwd_is_te_trailers("TE", "Trailers"));
    assert_false(fwd_is_te_trailers("te", "gzip"));
    assert_false(fwd_is_te_trailers("trailer", "trailers"));
}

static void request_head_drops_hop_headers_and_rechunks(void **state)
{
    (void)state;
    rec_headers_t h = { 0 };
    rec_headers_add(&h, "Host", "old.example");
    rec_headers_add(&h, "Proxy-Connection", "Keep-Alive");
    rec_headers_add(&h, "Content-Length", "5");
    rec_headers_add(&h, "accept", "*/*");
    struct evbuffer *b = evbuffer_new();
    assert_int_equal(fwd_request_head(b, "POST", "/a?b=1", "new.example:81", &h, FWD_CHUNKED), 0);
    char *s = drain_str(b);
    assert_string_equal(s, "POST /a?b=1 HTTP/1.1\r\nHost: new.example:81\r\naccept: */*\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n");
    free(s);
    assert_int_equal(fwd_request_head(b, "POST", "/", NULL, &h, FWD_LENGTH), 0);
    s = drain_str(b);
    assert_string_equal(s, "POST / HTTP/1.1\r\nHost: old.example\r\nContent-Length: 5\r\naccept: */*\r\n\r\n");
    free(s);
    evbuffer_free(b);
    rec_headers_fini(&h);
}

static void response_head_keeps_length_of_head_answers(void **state)
{
    (void)state;
    rec_headers_t h = { 0 };
    rec_headers_add(&h, "Content-Length", "42");
    rec_headers_add(&h, "Keep-Alive", "timeout=5");
    struct evbuffer *b = evbuffer_new();
    fwd_response_head(b, 200, &h, FWD_NONE, true);
    char *s = drain_str(b);
    assert_string_equal(s, "HTTP/1.1 200 OK\r\nContent-Length: 42\r\nConnection: close\r\n\r\n");
    free(s);
    fwd_response_head(b, 404, &h, FWD_CLOSE, false);
    s = drain_str(b);
    assert_string_equal(s, "HTTP/1.1 404 Not Found\r\n\r\n");
    free(s);
    evbuffer_free(b);
    rec_headers_fini(&h);
}

static void chunk_framing(void **state)
{
    (void)state;
    struct evbuffer *b = evbuffer_new();
    fwd_body(b, FWD_CHUNKED, "hello world, this is 31 bytes!!", 31);
    fwd_body(b, FWD_CHUNKED, "", 0); /* an empty piece must not end the body */
    fwd_body_end(b, FWD_CHUNKED);
    char *s = drain_str(b);
    assert_string_equal(s, "1f\r\nhello world, this is 31 bytes!!\r\n0\r\n\r\n");
    free(s);
    fwd_body(b, FWD_LENGTH, "abc", 3);
    fwd_body_end(b, FWD_LENGTH);
    s = drain_str(b);
    assert_string_equal(s, "abc");
    free(s);
    evbuffer_free(b);
}

static void framing_choice(void **state)
{
    (void)state;
    assert_int_equal(fwd_framing_for(false, 10, true), FWD_NONE);
    assert_int_equal(fwd_framing_for(true, 10, false), FWD_LENGTH);
    assert_int_equal(fwd_framing_for(true, -1, true), FWD_CHUNKED);
    assert_int_equal(fwd_framing_for(true, -1, false), FWD_CLOSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hop_by_hop_names_and_connection_tokens),
        cmocka_unit_test(request_head_drops_hop_headers_and_rechunks),
        cmocka_unit_test(response_head_keeps_length_of_head_answers),
        cmocka_unit_test(chunk_framing),
        cmocka_unit_test(framing_choice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

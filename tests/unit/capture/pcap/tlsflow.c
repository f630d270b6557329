/* Unit tests of capture/pcap/tlsflow.c with the records of RFC 8448 section
 * 3: the client's ClientHello, the server's ServerHello, then the client's
 * encrypted Finished (handshake keys) and 50 bytes of application data (the
 * application keys after Finished), delivered whole and cut at every byte;
 * a missing key, an unsupported suite and TLS 1.1 counted by reason; keys
 * that arrive in the key log file late (live capture). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tlsflow.h"

#define CR "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7"
static const char *keys =
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET " CR " b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21\n"
    "SERVER_HANDSHAKE_TRAFFIC_SECRET " CR " b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38\n"
    "CLIENT_TRAFFIC_SECRET_0 " CR " 9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5\n"
    "SERVER_TRAFFIC_SECRET_0 " CR " a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643\n";

static const char *client_hello =
    "16030100c4010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7000006130113031302"
    "010000910000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103010400230000"
    "003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c002b0003020304000d00"
    "20001e040305030603020308040805080604010501060102010402050206020202002d00020101001c00024001";
static const char *server_hello =
    "160303005a020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100002e003300"
    "24001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304";
static const char *client_records =
    "1403030001" "01" /* compatibility ChangeCipherSpec */
    "170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38f80338ac98fc46deb384bd1caeacab68"
    "67d726c40546"
    "1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f2b9819a8a5b46b395bd54a9a20441e2b62974e1f"
    "5a6292a2977014bd1e3deae63aeebb21694915e4";

static uint8_t got[256];
static size_t got_len;
static int lost;

static void on_plain(void *opaque, bool client, const uint8_t *p, size_t n, int64_t ts)
{
    (void)opaque;
    (void)ts;
    assert_true(client);
    assert_true(got_len + n <= sizeof got);
    memcpy(got + got_len, p, n);
    got_len += n;
}

static void on_lost(void *opaque, int64_t ts)
{
    (void)opaque;
    (void)ts;
    lost++;
}

static const tlsflow_ops_t ops = { on_plain, on_lost };

static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = strlen(s) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(s + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return n;
}

/* The trace into a new flow, in pieces of at most step bytes. */
static void run(tlsflow_ctx_t *ctx, size_t step, const char *sh)
{
    uint8_t ch[512], shb[256], cr[512];
    size_t chn = unhex(client_hello, ch), shn = unhex(sh, shb), crn = unhex(client_records, cr);
    got_len = 0;
    lost = 0;
    tlsflow_t *f = tlsflow_new(ctx, "c -> s", &ops, NULL);
    assert_non_null(f);
    assert_true(tlsflow_client_hello(ch, chn));
    assert_false(tlsflow_client_hello(shb, shn));
    for (size_t i = 0; i < chn; i += step)
        tlsflow_data(f, true, ch + i, chn - i < step ? chn - i : step, 1);
    assert_string_equal(tlsflow_sni(f), "server");
    for (size_t i = 0; i < shn; i += step)
        tlsflow_data(f, false, shb + i, shn - i < step ? shn - i : step, 2);
    for (size_t i = 0; i < crn; i += step)
        tlsflow_data(f, true, cr + i, crn - i < step ? crn - i : step, 3);
    tlsflow_free(f, 4);
}

static void decrypts_rfc8448_trace(void **state)
{
    (void)state;
    keylog_t *k = keylog_new();
    keylog_add_text(k, "t", keys, strlen(keys));
    tlsflow_ctx_t ctx = { .keys = k };
    for (size_t step = 1; step <= 400; step = step < 8 ? step + 1 : step * 3) {
        run(&ctx, step, server_hello);
        assert_int_equal(got_len, 50);
        for (int i = 0; i < 50; i++)
            assert_int_equal(got[i], i);
        assert_int_equal(lost, 0);
    }
    assert_int_equal(ctx.st.decrypted, ctx.st.conns);
    for (int i = 0; i < TLSFLOW_NREASONS; i++)
        assert_int_equal(ctx.st.failed[i], 0);
    char line[1024];
    tlsflow_report(&ctx, line, sizeof line);
    assert_non_null(strstr(line, "0 NOT decrypted"));
    keylog_free(k);
}

static void failures_counted_by_reason(void **state)
{
    (void)state;
    keylog_t *k = keylog_new();
    tlsflow_ctx_t ctx = { .keys = k };
    run(&ctx, 1000, server_hello); /* empty key log */
    assert_int_equal(got_len, 0);
    assert_int_equal(ctx.st.failed[TLSFLOW_NO_KEY], 1);
    assert_non_null(strstr(ctx.st.first[TLSFLOW_NO_KEY], "c -> s (SNI server), client_random " CR));

    keylog_add_text(k, "t", keys, strlen(keys));
    /* TLS_AES_128_CCM_SHA256 (0x1304) instead of 0x1301 */
    char sh[512];
    snprintf(sh, sizeof sh, "%s", server_hello);
    char *suite = strstr(sh, "0013010000");
    memcpy(suite, "0013040000", 10);
    run(&ctx, 1000, sh);
    assert_int_equal(ctx.st.failed[TLSFLOW_SUITE], 1);
    assert_non_null(strstr(ctx.st.first[TLSFLOW_SUITE], "cipher suite 0x1304"));

    /* TLS 1.1: legacy version 0x0302, no supported_versions */
    snprintf(sh, sizeof sh, "160303002a020000260302%s00c02f00", "a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e26928");
    run(&ctx, 1000, sh);
    assert_int_equal(ctx.st.failed[TLSFLOW_VERSION], 1);
    assert_int_equal(ctx.st.decrypted, 0);

    char line[2048];
    tlsflow_report(&ctx, line, sizeof line);
    assert_non_null(strstr(line, "3 connections, 0 decrypted"));
    assert_non_null(strstr(line, "3 NOT decrypted (1 no key for its client_random"));
    assert_non_null(strstr(line, "1 unsupported cipher suite, first: c -> s (SNI server), cipher suite 0x1304"));
    keylog_free(k);
}

/* A flipped bit in the application record's tag: nothing handed on, the
 * record named. */
static void bad_tag(void **state)
{
    (void)state;
    keylog_t *k = keylog_new();
    keylog_add_text(k, "t", keys, strlen(keys));
    tlsflow_ctx_t ctx = { .keys = k };
    uint8_t ch[512], shb[256], cr[512];
    size_t chn = unhex(client_hello, ch), shn = unhex(server_hello, shb), crn = unhex(client_records, cr);
    cr[crn - 3] ^= 0x40; /* inside the application record's tag */
    got_len = 0;
    tlsflow_t *f = tlsflow_new(&ctx, "c -> s", &ops, NULL);
    tlsflow_data(f, true, ch, chn, 1);
    tlsflow_data(f, false, shb, shn, 2);
    tlsflow_data(f, true, cr, crn, 3);
    tlsflow_free(f, 4);
    assert_int_equal(got_len, 0);
    assert_int_equal(ctx.st.failed[TLSFLOW_BAD_TAG], 1);
    assert_non_null(strstr(ctx.st.first[TLSFLOW_BAD_TAG], "client record 1"));
    keylog_free(k);
}

/* Live: the keys are written to the file after the records were seen. */
static void keys_arrive_late(void **state)
{
    (void)state;
    char path[] = "/tmp/tlsflow-test.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char err[256];
    keylog_t *k = keylog_new();
    assert_int_equal(keylog_open(k, path, true, err, sizeof err), 0);
    tlsflow_ctx_t ctx = { .keys = k, .follow = true };
    uint8_t ch[512], shb[256], cr[512];
    size_t chn = unhex(client_hello, ch), shn = unhex(server_hello, shb), crn = unhex(client_records, cr);
    got_len = 0;
    tlsflow_t *f = tlsflow_new(&ctx, "c -> s", &ops, NULL);
    tlsflow_data(f, true, ch, chn, 1);
    tlsflow_data(f, false, shb, shn, 2);
    tlsflow_data(f, true, cr, 20, 3);
    assert_int_equal(got_len, 0);
    assert_int_equal(write(fd, keys, strlen(keys)), (ssize_t)strlen(keys));
    tlsflow_data(f, true, cr + 20, crn - 20, 4); /* the file grew: read again */
    assert_int_equal(got_len, 50);
    tlsflow_free(f, 5);
    assert_int_equal(ctx.st.decrypted, 1);
    assert_int_equal(ctx.st.waited, 1);
    keylog_free(k);
    close(fd);
    unlink(path);
}

/* Live, without keys: the bytes held are bounded per connection and in all. */
static void waiting_is_bounded(void **state)
{
    (void)state;
    keylog_t *k = keylog_new();
    tlsflow_ctx_t ctx = { .keys = k, .follow = true };
    uint8_t ch[512], shb[256], cr[512];
    size_t chn = unhex(client_hello, ch), shn = unhex(server_hello, shb), crn = unhex(client_records, cr);
    tlsflow_t *f = tlsflow_new(&ctx, "c -> s", &ops, NULL);
    tlsflow_data(f, true, ch, chn, 1);
    tlsflow_data(f, false, shb, shn, 2);
    assert_int_equal(ctx.st.waited, 1);
    size_t held = 0;
    while (held + crn <= TLSFLOW_MAX_WAITING) {
        tlsflow_data(f, true, cr, crn, 3);
        held += crn;
    }
    assert_int_equal(ctx.waiting_bytes, held);
    assert_int_equal(ctx.st.failed[TLSFLOW_NO_KEY], 0);
    tlsflow_data(f, true, cr, crn, 4); /* one chunk too many */
    assert_int_equal(ctx.st.failed[TLSFLOW_NO_KEY], 1);
    tlsflow_free(f, 5);
    assert_int_equal(ctx.waiting_bytes, 0);

    /* all connections together: another one that would pass the total */
    ctx.waiting_bytes = TLSFLOW_MAX_WAITING_ALL - 10;
    f = tlsflow_new(&ctx, "c2 -> s", &ops, NULL);
    tlsflow_data(f, true, ch, chn, 1);
    tlsflow_data(f, false, shb, shn, 2);
    tlsflow_data(f, true, cr, 20, 3);
    assert_int_equal(ctx.st.failed[TLSFLOW_NO_KEY], 2);
    tlsflow_free(f, 4);
    assert_int_equal(ctx.waiting_bytes, TLSFLOW_MAX_WAITING_ALL - 10);
    keylog_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decrypts_rfc8448_trace),
        cmocka_unit_test(failures_counted_by_reason),
        cmocka_unit_test(bad_tag),
        cmocka_unit_test(keys_arrive_late),
        cmocka_unit_test(waiting_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

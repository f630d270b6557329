/* Unit tests of capture/pcap/tlscrypt.c against published vectors: the key
 * schedule and records of RFC 8448 section 3 (a TLS 1.3 AES-128-GCM trace)
 * and the TLS 1.2 PRF vector of the IETF TLS list (P_SHA256). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tlscrypt.h"

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

static void assert_hex(const uint8_t *p, size_t n, const char *want)
{
    char got[512] = "";
    for (size_t i = 0; i < n; i++)
        sprintf(got + 2 * i, "%02x", p[i]);
    assert_string_equal(got, want);
}

/* RFC 8448 3: traffic secrets -> write key and IV */
static void expand_label_rfc8448(void **state)
{
    (void)state;
    static const struct { const char *secret, *key, *iv; } v[] = {
        { "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38", /* s hs traffic */
          "3fce516009c21727d0f2e4e86ee403bc", "5d313eb2671276ee13000b30" },
        { "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21", /* c hs traffic */
          "dbfaa693d1762c5b666af5d950258d01", "5bd3c71b836e0b76bb73265f" },
        { "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643", /* s ap traffic */
          "9f02283b6c9c07efc26bb9f2ac92e356", "cf782b88dd83549aadf1e984" },
        { "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5", /* c ap traffic */
          "17422dda596ed5d9acd890e3c63f5051", "5b78923dee08579033e523d9" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t secret[32], key[16], iv[12];
        unhex(v[i].secret, secret);
        assert_int_equal(tlscrypt_expand_label("SHA256", secret, 32, "key", NULL, 0, key, 16), 0);
        assert_hex(key, 16, v[i].key);
        assert_int_equal(tlscrypt_expand_label("SHA256", secret, 32, "iv", NULL, 0, iv, 12), 0);
        assert_hex(iv, 12, v[i].iv);
    }
}

/* The client's Finished, then 50 bytes of application data (RFC 8448 3) */
static void open_rfc8448_records(void **state)
{
    (void)state;
    const tlscrypt_suite_t *s = tlscrypt_suite(0x1301);
    assert_non_null(s);
    tlscrypt_dir_t d = { 0 };
    uint8_t secret[32], rec[128], out[128], type = 0;
    unhex("b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21", secret);
    assert_int_equal(tlscrypt_set13(&d, s, secret), 0);
    size_t n = unhex("170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38f80338ac98fc46"
                     "deb384bd1caeacab6867d726c40546", rec);
    long m = tlscrypt_open(&d, rec, rec + 5, n - 5, out, &type);
    assert_int_equal(m, 36);
    assert_int_equal(type, 22);
    assert_hex(out, 36, "14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61");
    assert_int_equal(d.seq, 1);

    unhex("9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5", secret);
    assert_int_equal(tlscrypt_set13(&d, s, secret), 0);
    n = unhex("1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f2b9819a8a5b46b395bd54a9a2044"
              "1e2b62974e1f5a6292a2977014bd1e3deae63aeebb21694915e4", rec);
    m = tlscrypt_open(&d, rec, rec + 5, n - 5, out, &type);
    assert_int_equal(m, 50);
    assert_int_equal(type, 23);
    for (int i = 0; i < 50; i++)
        assert_int_equal(out[i], i);

    /* the same record again: sequence 1 now, so the nonce differs and the tag fails */
    assert_int_equal(tlscrypt_open(&d, rec, rec + 5, n - 5, out, &type), -1);
    /* a flipped byte fails too, and does not advance the sequence */
    d.seq = 0;
    rec[20] ^= 1;
    assert_int_equal(tlscrypt_open(&d, rec, rec + 5, n - 5, out, &type), -1);
    assert_int_equal(d.seq, 0);
    /* shorter than a tag */
    assert_int_equal(tlscrypt_open(&d, rec, rec + 5, 10, out, &type), -1);
    tlscrypt_fini(&d);
}

/* KeyUpdate: the next secret is HKDF-Expand-Label(secret, "traffic upd", "", Hash.length) */
static void key_update(void **state)
{
    (void)state;
    const tlscrypt_suite_t *s = tlscrypt_suite(0x1301);
    tlscrypt_dir_t d = { 0 };
    uint8_t secret[32], next[32];
    unhex("9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5", secret);
    assert_int_equal(tlscrypt_set13(&d, s, secret), 0);
    d.seq = 7;
    assert_int_equal(tlscrypt_update13(&d), 0);
    assert_int_equal(tlscrypt_expand_label("SHA256", secret, 32, "traffic upd", NULL, 0, next, 32), 0);
    assert_memory_equal(d.secret, next, 32);
    assert_memory_not_equal(d.secret, secret, 32);
    assert_int_equal(d.seq, 0);
    tlscrypt_fini(&d);
}

static void prf_tls12(void **state)
{
    (void)state;
    uint8_t secret[16], seed[16], out[100];
    unhex("9bbe436ba940f017b17652849a71db35", secret);
    unhex("a0ba9f936cda311827a6f796ffd5198c", seed);
    assert_int_equal(tlscrypt_prf("SHA256", secret, 16, "test label", seed, 16, out, 100), 0);
    assert_hex(out, 100,
               "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af"
               "0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
               "87347b66");
}

static void suites(void **state)
{
    (void)state;
    assert_non_null(tlscrypt_suite(0x1302));
    assert_true(tlscrypt_suite(0x1303)->tls13);
    assert_false(tlscrypt_suite(0xC02F)->tls13);
    assert_int_equal(tlscrypt_suite(0xC02F)->iv_len, 4);
    assert_int_equal(tlscrypt_suite(0xCCA8)->iv_len, 12);
    assert_int_equal(tlscrypt_suite(0x002F)->mac_len, 20);  /* AES128-SHA: HMAC-SHA1 */
    assert_string_equal(tlscrypt_suite(0xC028)->digest, "SHA384");
    assert_null(tlscrypt_suite(0x000A)); /* 3DES: not read */
    assert_null(tlscrypt_suite(0x1304)); /* AES-CCM: not read */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(expand_label_rfc8448),
        cmocka_unit_test(open_rfc8448_records),
        cmocka_unit_test(key_update),
        cmocka_unit_test(prf_tls12),
        cmocka_unit_test(suites),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of capture/ca.c: a CA made by ca_init_dir signs leaves for DNS
 * names and IP addresses that verify against it, cached on disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/x509v3.h>

#include "ca.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test-capture-ca.XXXXXX");
    assert_non_null(mkdtemp(dir));
    char sub[128], err[256];
    snprintf(sub, sizeof sub, "%s/ca", dir);
    assert_int_equal(ca_init_dir(sub, err, sizeof err), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* true when ctx's certificate verifies against the CA in ca.pem for host. */
static bool leaf_verifies(SSL_CTX *ctx, const char *capem, const char *host, bool ip)
{
    X509 *leaf = SSL_CTX_get0_certificate(ctx);
    X509_STORE *store = X509_STORE_new();
    X509_STORE_load_file(store, capem);
    X509_STORE_CTX *sc = X509_STORE_CTX_new();
    X509_STORE_CTX_init(sc, store, leaf, NULL);
    X509_VERIFY_PARAM *p = X509_STORE_CTX_get0_param(sc);
    if (ip)
        X509_VERIFY_PARAM_set1_ip_asc(p, host);
    else
        X509_VERIFY_PARAM_set1_host(p, host, 0);
    X509_VERIFY_PARAM_set_purpose(p, X509_PURPOSE_SSL_SERVER);
    bool ok = X509_verify_cert(sc) == 1;
    X509_STORE_CTX_free(sc);
    X509_STORE_free(store);
    return ok;
}

static void init_refuses_to_overwrite(void **state)
{
    (void)state;
    char sub[128], err[256], key[160];
    snprintf(sub, sizeof sub, "%s/ca", dir);
    snprintf(key, sizeof key, "%s/ca.key", sub);
    struct stat st;
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(ca_init_dir(sub, err, sizeof err), -1);
    assert_non_null(strstr(err, "already exists"));
}

static void leaves_for_names_and_addresses(void **state)
{
    (void)state;
    char sub[128], err[256], capem[160], cached[200];
    snprintf(sub, sizeof sub, "%s/ca", dir);
    snprintf(capem, sizeof capem, "%s/ca.pem", sub);
    ca_t *ca = ca_load(sub, true, err, sizeof err);
    assert_non_null(ca);
    SSL_CTX *a = ca_server_ctx(ca, "shop.example", err, sizeof err);
    assert_non_null(a);
    assert_ptr_equal(ca_server_ctx(ca, "shop.example", err, sizeof err), a); /* memory cache */
    assert_true(leaf_verifies(a, capem, "shop.example", false));
    assert_false(leaf_verifies(a, capem, "other.example", false));
    SSL_CTX *b = ca_server_ctx(ca, "127.0.0.1", err, sizeof err);
    assert_non_null(b);
    assert_true(leaf_verifies(b, capem, "127.0.0.1", true));
    SSL_CTX *c = ca_server_ctx(ca, "::1", err, sizeof err);
    assert_non_null(c);
    assert_true(leaf_verifies(c, capem, "::1", true));
    snprintf(cached, sizeof cached, "%s/certs/shop.example.pem", sub);
    assert_int_equal(access(cached, R_OK), 0);
    snprintf(cached, sizeof cached, "%s/certs/__1.pem", sub);
    assert_int_equal(access(cached, R_OK), 0);
    X509 *first = X509_dup(SSL_CTX_get0_certificate(a));
    ca_free(ca);

    /* A second run takes the leaf from disk: the same certificate. */
    ca = ca_load(sub, true, err, sizeof err);
    assert_int_equal(X509_cmp(first, SSL_CTX_get0_certificate(ca_server_ctx(ca, "shop.example", err, sizeof err))), 0);
    X509_free(first);
    ca_free(ca);
}

static void spki_hash_is_base64_sha256(void **state)
{
    (void)state;
    char sub[128], err[256], out[128];
    snprintf(sub, sizeof sub, "%s/ca", dir);
    assert_int_equal(ca_spki_hash(sub, out, sizeof out, err, sizeof err), 0);
    assert_int_equal(strlen(out), 44);
    assert_int_equal(out[43], '=');
}

static void missing_ca_names_the_file(void **state)
{
    (void)state;
    char err[256];
    assert_null(ca_load("/nonexistent-dir", true, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent-dir/ca.pem"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_refuses_to_overwrite),
        cmocka_unit_test(leaves_for_names_and_addresses),
        cmocka_unit_test(spki_hash_is_base64_sha256),
        cmocka_unit_test(missing_ca_names_the_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

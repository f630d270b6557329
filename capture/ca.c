#include "ca.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define CA_DAYS 3650
#define LEAF_DAYS 365

typedef struct leaf {
    char *host;
    SSL_CTX *ctx;
    struct leaf *next;
} leaf_t;

struct ca {
    char *dir;
    X509 *cert;
    EVP_PKEY *key;
    bool offer_h2;
    leaf_t *leaves;
};

static const char *ssl_reason(void)
{
    const char *r = ERR_reason_error_string(ERR_get_error());
    ERR_clear_error();
    return r ? r : "unknown OpenSSL error";
}

static EVP_PKEY *new_key(void)
{
    return EVP_EC_gen("P-256");
}

/* Adds extension nid=value, with cert as subject and issuer as issuer. */
static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (ex == NULL)
        return -1;
    int ok = X509_add_ext(cert, ex, -1);
    X509_EXTENSION_free(ex);
    return ok == 1 ? 0 : -1;
}

/* A certificate for key with subject CN=cn, valid from a day ago for days:
 * the caller adds extensions and signs. */
static X509 *new_cert(EVP_PKEY *key, const char *cn, int days)
{
    X509 *c = X509_new();
    unsigned char serial[16];
    if (c == NULL || RAND_bytes(serial, sizeof serial) != 1)
        goto fail;
    serial[0] &= 0x7f; /* positive */
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c)) == NULL) {
        BN_free(bn);
        goto fail;
    }
    BN_free(bn);
    X509_NAME *name = X509_get_subject_name(c);
    if (X509_set_version(c, 2) != 1 ||
        X509_gmtime_adj(X509_getm_notBefore(c), -24L * 3600) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(c), (long)days * 24 * 3600) == NULL ||
        X509_set_pubkey(c, key) != 1 ||
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"aiotest-capture", -1, -1, 0) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) != 1)
        goto fail;
    return c;
fail:
    X509_free(c);
    return NULL;
}

static int path_join(char *out, size_t len, const char *dir, const char *file)
{
    int n = snprintf(out, len, "%s/%s", dir, file);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

/* Writes PEM cert (and key when given) to path with mode, replacing it. */
static int write_pem(const char *path, mode_t mode, X509 *cert, EVP_PKEY *key, bool exclusive)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | (exclusive ? O_EXCL : 0), mode);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        return -1;
    }
    int ok = (cert == NULL || PEM_write_X509(f, cert) == 1) &&
             (key == NULL || PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1);
    return fclose(f) == 0 && ok ? 0 : -1;
}

int ca_init_dir(const char *dir, char *err, size_t errlen)
{
    char keyp[4096], certp[4096];
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    int rc = -1;
    if (path_join(keyp, sizeof keyp, dir, "ca.key") != 0 || path_join(certp, sizeof certp, dir, "ca.pem") != 0) {
        snprintf(err, errlen, "%s: path too long", dir);
        return -1;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create directory: %s", dir, strerror(errno));
        return -1;
    }
    if (access(keyp, F_OK) == 0) {
        snprintf(err, errlen, "%s: already exists (remove it to make a new CA)", keyp);
        return -1;
    }
    if ((key = new_key()) == NULL || (cert = new_cert(key, "aiotest-capture local CA", CA_DAYS)) == NULL ||
        X509_set_issuer_name(cert, X509_get_subject_name(cert)) != 1 ||
        add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") != 0 ||
        add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature") != 0 ||
        add_ext(cert, cert, NID_subject_key_identifier, "hash") != 0 ||
        X509_sign(cert, key, EVP_sha256()) == 0) {
        snprintf(err, errlen, "%s: cannot make the CA: %s", dir, ssl_reason());
        goto out;
    }
    if (write_pem(keyp, 0600, NULL, key, true) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", keyp, strerror(errno));
        goto out;
    }
    if (write_pem(certp, 0644, cert, NULL, false) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", certp, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

static X509 *read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    X509 *c = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return c;
}

static EVP_PKEY *read_key(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return k;
}

int ca_spki_hash(const char *dir, char *out, size_t outlen, char *err, size_t errlen)
{
    char path[4096];
    unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    path_join(path, sizeof path, dir, "ca.pem");
    X509 *c = read_cert(path);
    int n = c ? i2d_PUBKEY(X509_get0_pubkey(c), &der) : -1;
    if (n <= 0 || EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) != 1 || outlen < 4 * ((mdlen + 2) / 3) + 1) {
        snprintf(err, errlen, "%s: cannot read the CA certificate", path);
        OPENSSL_free(der);
        X509_free(c);
        return -1;
    }
    EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
    OPENSSL_free(der);
    X509_free(c);
    return 0;
}

ca_t *ca_load(const char *dir, bool offer_h2, char *err, size_t errlen)
{
    char keyp[4096], certp[4096], certs[4096];
    ca_t *ca = calloc(1, sizeof *ca);
    if (ca == NULL || (ca->dir = strdup(dir)) == NULL) {
        snprintf(err, errlen, "out of memory");
        free(ca);
        return NULL;
    }
    ca->offer_h2 = offer_h2;
    path_join(keyp, sizeof keyp, dir, "ca.key");
    path_join(certp, sizeof certp, dir, "ca.pem");
    path_join(certs, sizeof certs, dir, "certs");
    if ((ca->cert = read_cert(certp)) == NULL) {
        snprintf(err, errlen, "%s: cannot read a PEM certificate (make one with --init-ca %s)", certp, dir);
        goto fail;
    }
    if ((ca->key = read_key(keyp)) == NULL) {
        snprintf(err, errlen, "%s: cannot read a PEM private key", keyp);
        goto fail;
    }
    if (X509_check_private_key(ca->cert, ca->key) != 1) {
        snprintf(err, errlen, "%s: the key does not match %s", keyp, certp);
        goto fail;
    }
    if (mkdir(certs, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create directory: %s", certs, strerror(errno));
        goto fail;
    }
    ERR_clear_error();
    return ca;
fail:
    ERR_clear_error();
    ca_free(ca);
    return NULL;
}

void ca_free(ca_t *ca)
{
    if (ca == NULL)
        return;
    while (ca->leaves != NULL) {
        leaf_t *l = ca->leaves;
        ca->leaves = l->next;
        SSL_CTX_free(l->ctx);
        free(l->host);
        free(l);
    }
    X509_free(ca->cert);
    EVP_PKEY_free(ca->key);
    free(ca->dir);
    free(ca);
}

static bool is_ip(const char *host)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* A leaf for host signed by the CA. */
static X509 *sign_leaf(ca_t *ca, const char *host, EVP_PKEY *key)
{
    char san[300];
    snprintf(san, sizeof san, "%s:%s", is_ip(host) ? "IP" : "DNS", host);
    X509 *c = new_cert(key, host, LEAF_DAYS);
    if (c == NULL || X509_set_issuer_name(c, X509_get_subject_name(ca->cert)) != 1 ||
        add_ext(c, ca->cert, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
        add_ext(c, ca->cert, NID_key_usage, "critical,digitalSignature,keyEncipherment") != 0 ||
        add_ext(c, ca->cert, NID_ext_key_usage, "serverAuth") != 0 ||
        add_ext(c, ca->cert, NID_subject_alt_name, san) != 0 ||
        add_ext(c, ca->cert, NID_subject_key_identifier, "hash") != 0 ||
        add_ext(c, ca->cert, NID_authority_key_identifier, "keyid:always") != 0 ||
        X509_sign(c, ca->key, EVP_sha256()) == 0) {
        X509_free(c);
        return NULL;
    }
    return c;
}

/* ALPN: h2 when offered and allowed, else http/1.1, else no ALPN at all. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg)
{
    static const unsigned char both[] = "\x02h2\x08http/1.1", h1[] = "\x08http/1.1";
    ca_t *ca = arg;
    (void)ssl;
    const unsigned char *prefs = ca->offer_h2 ? both : h1;
    unsigned plen = ca->offer_h2 ? sizeof both - 1 : sizeof h1 - 1;
    if (SSL_select_next_proto((unsigned char **)out, outlen, prefs, plen, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    return SSL_TLSEXT_ERR_OK;
}

/* The same choice for a context without a CA: arg is non-NULL when h2 may be picked. */
static int alpn_select_flag(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                            const unsigned char *in, unsigned inlen, void *arg)
{
    ca_t fake = { .offer_h2 = arg != NULL };
    return alpn_select(ssl, out, outlen, in, inlen, &fake);
}

SSL_CTX *ca_file_server_ctx(const char *cert_file, const char *key_file, bool offer_h2,
                            char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        snprintf(err, errlen, "cannot make a TLS context: %s", ssl_reason());
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    const char *bad = NULL;
    if (access(cert_file, R_OK) != 0 || access(key_file, R_OK) != 0) {
        const char *f = access(cert_file, R_OK) != 0 ? cert_file : key_file;
        snprintf(err, errlen, "%s: %s", f, strerror(errno));
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1)
        bad = cert_file;
    else if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1)
        bad = key_file;
    else if (SSL_CTX_check_private_key(ctx) != 1)
        bad = key_file;
    if (bad != NULL) {
        snprintf(err, errlen, "%s: %s", bad, ssl_reason());
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select_flag, offer_h2 ? (void *)ctx : NULL);
    return ctx;
}

static SSL_CTX *server_ctx(ca_t *ca, X509 *leaf, EVP_PKEY *key)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate(ctx, leaf) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        SSL_CTX_add1_chain_cert(ctx, ca->cert) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, ca);
    return ctx;
}

/* DIR/certs/<host>.pem, with characters that are not safe in a file name
 * (':' of IPv6) replaced. */
static void leaf_path(const ca_t *ca, const char *host, char *out, size_t len)
{
    char safe[256];
    size_t i = 0;
    for (; host[i] != '\0' && i < sizeof safe - 1; i++) {
        char ch = host[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                  ch == '.' || ch == '-';
        safe[i] = ok ? ch : '_';
    }
    safe[i] = '\0';
    snprintf(out, len, "%s/certs/%s.pem", ca->dir, safe);
}

/* A cached leaf is used only while valid, for this CA, and for this host. */
static bool leaf_usable(const ca_t *ca, X509 *c, EVP_PKEY *k, const char *host)
{
    if (c == NULL || k == NULL || X509_check_private_key(c, k) != 1)
        return false;
    if (X509_check_issued(ca->cert, c) != X509_V_OK || X509_verify(c, ca->key) != 1)
        return false;
    if (X509_cmp_current_time(X509_get0_notAfter(c)) <= 0)
        return false;
    int ok = is_ip(host) ? X509_check_ip_asc(c, host, 0) : X509_check_host(c, host, 0, 0, NULL);
    return ok == 1;
}

SSL_CTX *ca_server_ctx(ca_t *ca, const char *host, char *err, size_t errlen)
{
    for (leaf_t *l = ca->leaves; l != NULL; l = l->next)
        if (strcmp(l->host, host) == 0)
            return l->ctx;
    char path[4096];
    leaf_path(ca, host, path, sizeof path);
    X509 *cert = read_cert(path);
    EVP_PKEY *key = read_key(path);
    SSL_CTX *ctx = NULL;
    leaf_t *l = NULL;
    if (!leaf_usable(ca, cert, key, host)) {
        X509_free(cert);
        EVP_PKEY_free(key);
        if ((key = new_key()) == NULL || (cert = sign_leaf(ca, host, key)) == NULL) {
            snprintf(err, errlen, "%s: cannot sign a certificate: %s", host, ssl_reason());
            goto out;
        }
        if (write_pem(path, 0600, cert, key, false) != 0) /* a cache: memory still works */
            fprintf(stderr, "aiotest-capture: %s: cannot write: %s\n", path, strerror(errno));
    }
    ERR_clear_error();
    if ((ctx = server_ctx(ca, cert, key)) == NULL || (l = calloc(1, sizeof *l)) == NULL ||
        (l->host = strdup(host)) == NULL) {
        snprintf(err, errlen, "%s: cannot make a TLS server context: %s", host, ssl_reason());
        SSL_CTX_free(ctx);
        ctx = NULL;
        free(l);
        goto out;
    }
    l->ctx = ctx;
    l->next = ca->leaves;
    ca->leaves = l;
out:
    X509_free(cert);
    EVP_PKEY_free(key);
    return ctx;
}

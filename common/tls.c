#include "tls.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

const unsigned char tls_alpn_h2_http11[] = "\x02h2\x08http/1.1";
const size_t tls_alpn_h2_http11_len = sizeof(tls_alpn_h2_http11) - 1;
const unsigned char tls_alpn_http11[] = "\x08http/1.1";
const size_t tls_alpn_http11_len = sizeof(tls_alpn_http11) - 1;

/* tls_client_opts_t.lazy_system_store: the verification of the first
 * certificate loads the system store into the context's store (a store that
 * holds nothing yet), then verifies as OpenSSL would. What the load leaves on
 * the thread's error queue (a default file that does not exist) is dropped:
 * a handshake that goes on would otherwise read it as its own failure. */
static int verify_loading_store(X509_STORE_CTX *sctx, void *arg)
{
    SSL_CTX *ctx = arg;
    if (sk_X509_OBJECT_num(X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx))) == 0) {
        ERR_set_mark();
        SSL_CTX_set_default_verify_paths(ctx);
        ERR_pop_to_mark();
    }
    return X509_verify_cert(sctx);
}

SSL_CTX *tls_client_ctx_new(const tls_client_opts_t *opts, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        snprintf(err, errlen, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (opts->insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (!opts->ca_file && opts->lazy_system_store)
            SSL_CTX_set_cert_verify_callback(ctx, verify_loading_store, ctx);
        int ok = opts->ca_file                 ? SSL_CTX_load_verify_locations(ctx, opts->ca_file, NULL)
                 : opts->lazy_system_store ? 1
                                           : SSL_CTX_set_default_verify_paths(ctx);
        if (ok != 1) {
            snprintf(err, errlen, "%s: cannot load CA certificates (%s)",
                     opts->ca_file ? opts->ca_file : "system store",
                     ERR_reason_error_string(ERR_get_error()));
            SSL_CTX_free(ctx);
            return NULL;
        }
    }
    if (opts->alpn && SSL_CTX_set_alpn_protos(ctx, opts->alpn, (unsigned)opts->alpn_len) != 0) {
        snprintf(err, errlen, "cannot set ALPN protocols");
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int tls_client_prepare(SSL *ssl, const char *host)
{
    unsigned char addr[16];
    bool is_ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    if (is_ip)
        return X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1 ? 0 : -1;
    if (SSL_set_tlsext_host_name(ssl, host) != 1)
        return -1;
    return SSL_set1_host(ssl, host) == 1 ? 0 : -1;
}

const char *tls_error_string(SSL *ssl, char *buf, size_t len)
{
    long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    unsigned long e = ERR_peek_last_error();
    if (vr != X509_V_OK)
        snprintf(buf, len, "certificate verify failed: %s", X509_verify_cert_error_string(vr));
    else if (e != 0)
        snprintf(buf, len, "%s", ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "TLS error");
    else
        snprintf(buf, len, "TLS handshake failed");
    ERR_clear_error();
    return buf;
}

/* tls: OpenSSL client contexts shared by replay and the capture proxy's upstream side. */
#ifndef AIOTEST_TLS_H
#define AIOTEST_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/ssl.h>

typedef struct tls_client_opts {
    bool insecure;          /* skip certificate and host name verification */
    const char *ca_file;    /* PEM bundle to trust instead of the system store, or NULL */
    const unsigned char *alpn; /* ALPN protocol list in wire format, or NULL */
    size_t alpn_len;
    /* Load the system store at the first certificate to verify, not now: it
     * is ~25 ms of CPU that a run without TLS never needs. Only for a context
     * used by one thread (the load then happens in that thread); a store that
     * cannot be loaded then fails that verification. */
    bool lazy_system_store;
} tls_client_opts_t;

/* A client SSL_CTX: TLS >= 1.2, verification on unless opts->insecure, client
 * session cache on (resumption is done by the caller with SSL_set_session).
 * Returns NULL with a message in err on failure. The caller owns the context. */
SSL_CTX *tls_client_ctx_new(const tls_client_opts_t *opts, char *err, size_t errlen);

/* Prepares a new SSL for host: SNI (not for IP literals) and host or IP
 * verification. Returns 0, or -1 when the host name cannot be set. */
int tls_client_prepare(SSL *ssl, const char *host);

/* Writes the first OpenSSL error (or the verify result) into buf as a short string. */
const char *tls_error_string(SSL *ssl, char *buf, size_t len);

/* ALPN wire-format lists. */
extern const unsigned char tls_alpn_h2_http11[]; /* "h2", "http/1.1" */
extern const size_t tls_alpn_h2_http11_len;
extern const unsigned char tls_alpn_http11[];    /* "http/1.1" */
extern const size_t tls_alpn_http11_len;

#endif

/* ca: the local certificate authority of TLS interception. --init-ca writes
 * DIR/ca.pem and DIR/ca.key (mode 0600); the proxy then signs one leaf
 * certificate per host (SAN = the DNS name or IP address) on first use, keeps
 * it in memory and in DIR/certs/, and serves it from a TLS server context
 * that offers h2 and http/1.1 by ALPN. */
#ifndef CAPTURE_CA_H
#define CAPTURE_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/ssl.h>

typedef struct ca ca_t;

/* Creates DIR (0700) with a new CA key and self-signed certificate. Refuses
 * to overwrite an existing key. Returns 0 or -1 with err. */
int ca_init_dir(const char *dir, char *err, size_t errlen);

/* The chromium --ignore-certificate-errors-spki-list value of DIR/ca.pem
 * (base64 SHA-256 of the public key) into out. Returns 0 or -1 with err. */
int ca_spki_hash(const char *dir, char *out, size_t outlen, char *err, size_t errlen);

/* Loads DIR/ca.pem and DIR/ca.key. offer_h2 decides whether ALPN may pick h2.
 * Returns NULL with err. */
ca_t *ca_load(const char *dir, bool offer_h2, char *err, size_t errlen);
void ca_free(ca_t *ca);

/* The server context for host (a DNS name or an IP literal): from memory,
 * from DIR/certs/, or freshly signed. Owned by ca. NULL with err. */
SSL_CTX *ca_server_ctx(ca_t *ca, const char *host, char *err, size_t errlen);

/* A server context from a certificate chain and key in PEM files (the
 * reverse proxy's --reverse-tls CERT,KEY), with the same ALPN choice (h2 when
 * offer_h2, else http/1.1). The caller owns it. NULL with err naming the file. */
SSL_CTX *ca_file_server_ctx(const char *cert_file, const char *key_file, bool offer_h2,
                            char *err, size_t errlen);

#endif

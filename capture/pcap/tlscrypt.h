/* tlscrypt: the cryptography of reading TLS records with known secrets, all
 * through OpenSSL: the cipher suites read here, key derivation (TLS 1.3
 * HKDF-Expand-Label with EVP_KDF "HKDF"; the TLS 1.2 key block with EVP_KDF
 * "TLS1-PRF"), KeyUpdate, and AEAD record decryption with EVP_CIPHER
 * (AES-128/256-GCM, ChaCha20-Poly1305), and TLS 1.2 AES-CBC with HMAC
 * (EVP_CIPHER, EVP_MAC), MAC-then-encrypt or encrypt-then-MAC. */
#ifndef CAPTURE_PCAP_TLSCRYPT_H
#define CAPTURE_PCAP_TLSCRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLSCRYPT_TAG_LEN 16
#define TLSCRYPT_MAX_HASH 48

typedef struct tlscrypt_suite {
    uint16_t id;
    bool tls13;
    const char *digest;    /* "SHA256" or "SHA384" (HKDF, PRF) */
    size_t hash_len;
    int cipher;            /* enum in tlscrypt.c */
    size_t key_len;
    size_t iv_len;         /* TLS 1.2 GCM: the 4-byte salt; CBC: 0 (explicit IVs); else 12 */
    const char *mac;       /* TLS 1.2 CBC: the HMAC digest ("SHA1", "SHA256", "SHA384"); else NULL */
    size_t mac_len;
} tlscrypt_suite_t;

/* The suite with this IANA number, or NULL when it is not read here. */
const tlscrypt_suite_t *tlscrypt_suite(uint16_t id);

/* One direction's record protection. Zero-initialise; tlscrypt_fini frees. */
typedef struct tlscrypt_dir {
    const tlscrypt_suite_t *s;
    void *ctx;             /* EVP_CIPHER_CTX with the key set */
    void *mac;             /* CBC: EVP_MAC_CTX (HMAC) with the MAC key set */
    bool etm;              /* CBC: encrypt-then-MAC (RFC 7366) was negotiated */
    uint8_t iv[12];
    uint64_t seq;
    uint8_t secret[TLSCRYPT_MAX_HASH];  /* TLS 1.3 traffic secret, for KeyUpdate */
} tlscrypt_dir_t;

/* HKDF-Expand-Label(secret, "tls13 " + label, context, outlen) (RFC 8446 7.1)
 * with digest ("SHA256"/"SHA384"). 0, or -1 when OpenSSL fails. */
int tlscrypt_expand_label(const char *digest, const uint8_t *secret, size_t secret_len, const char *label,
                          const uint8_t *context, size_t context_len, uint8_t *out, size_t outlen);
/* The TLS 1.2 PRF (RFC 5246 5) with digest. 0 or -1. */
int tlscrypt_prf(const char *digest, const uint8_t *secret, size_t secret_len, const char *label,
                 const uint8_t *seed, size_t seed_len, uint8_t *out, size_t outlen);

/* TLS 1.3: keys and IV of a traffic secret (hash_len bytes), sequence 0. 0 or -1. */
int tlscrypt_set13(tlscrypt_dir_t *d, const tlscrypt_suite_t *s, const uint8_t *secret);
/* TLS 1.3 KeyUpdate: the next traffic secret and its keys. 0 or -1. */
int tlscrypt_update13(tlscrypt_dir_t *d);
/* TLS 1.2: both directions' keys from the 48-byte master secret and the
 * randoms (32 bytes each); etm: the ServerHello accepted encrypt_then_mac
 * (CBC suites only). 0 or -1. */
int tlscrypt_set12(const tlscrypt_suite_t *s, const uint8_t *master, const uint8_t *client_random,
                   const uint8_t *server_random, bool etm, tlscrypt_dir_t *client, tlscrypt_dir_t *server);

/* Decrypts one record: hdr is its 5-byte header, payload its n bytes; out
 * gets the plaintext (room for n bytes). TLS 1.3: the padding is removed and
 * *type is the inner content type; TLS 1.2: *type is hdr's. Returns the
 * plaintext length, or -1 when the record does not authenticate (bad tag or
 * MAC, bad CBC padding, too short, all padding). The sequence number
 * advances on success. */
long tlscrypt_open(tlscrypt_dir_t *d, const uint8_t hdr[5], const uint8_t *payload, size_t n, uint8_t *out,
                   uint8_t *type);
void tlscrypt_fini(tlscrypt_dir_t *d);

#endif

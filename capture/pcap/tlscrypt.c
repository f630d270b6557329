#include "tlscrypt.h"

#include <string.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

enum { C_AES128GCM, C_AES256GCM, C_CHACHA };

static const tlscrypt_suite_t suites[] = {
    { 0x1301, true, "SHA256", 32, C_AES128GCM, 16, 12 },  /* TLS_AES_128_GCM_SHA256 */
    { 0x1302, true, "SHA384", 48, C_AES256GCM, 32, 12 },  /* TLS_AES_256_GCM_SHA384 */
    { 0x1303, true, "SHA256", 32, C_CHACHA, 32, 12 },     /* TLS_CHACHA20_POLY1305_SHA256 */
    /* TLS 1.2 AEAD suites: the key log's master secret serves any key exchange */
    { 0xC02F, false, "SHA256", 32, C_AES128GCM, 16, 4 },  /* ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
    { 0xC030, false, "SHA384", 48, C_AES256GCM, 32, 4 },  /* ECDHE_RSA_WITH_AES_256_GCM_SHA384 */
    { 0xC02B, false, "SHA256", 32, C_AES128GCM, 16, 4 },  /* ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 */
    { 0xC02C, false, "SHA384", 48, C_AES256GCM, 32, 4 },  /* ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 */
    { 0xCCA8, false, "SHA256", 32, C_CHACHA, 32, 12 },    /* ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 */
    { 0xCCA9, false, "SHA256", 32, C_CHACHA, 32, 12 },    /* ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 */
    { 0xCCAA, false, "SHA256", 32, C_CHACHA, 32, 12 },    /* DHE_RSA_WITH_CHACHA20_POLY1305_SHA256 */
    { 0x009E, false, "SHA256", 32, C_AES128GCM, 16, 4 },  /* DHE_RSA_WITH_AES_128_GCM_SHA256 */
    { 0x009F, false, "SHA384", 48, C_AES256GCM, 32, 4 },  /* DHE_RSA_WITH_AES_256_GCM_SHA384 */
    { 0x009C, false, "SHA256", 32, C_AES128GCM, 16, 4 },  /* RSA_WITH_AES_128_GCM_SHA256 */
    { 0x009D, false, "SHA384", 48, C_AES256GCM, 32, 4 },  /* RSA_WITH_AES_256_GCM_SHA384 */
};

const tlscrypt_suite_t *tlscrypt_suite(uint16_t id)
{
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        if (suites[i].id == id)
            return &suites[i];
    return NULL;
}

static const EVP_CIPHER *cipher_of(const tlscrypt_suite_t *s)
{
    switch (s->cipher) {
    case C_AES128GCM: return EVP_aes_128_gcm();
    case C_AES256GCM: return EVP_aes_256_gcm();
    default: return EVP_chacha20_poly1305();
    }
}

static int kdf(const char *name, OSSL_PARAM *params, uint8_t *out, size_t outlen)
{
    EVP_KDF *k = EVP_KDF_fetch(NULL, name, NULL);
    if (k == NULL)
        return -1;
    EVP_KDF_CTX *c = EVP_KDF_CTX_new(k);
    EVP_KDF_free(k);
    if (c == NULL)
        return -1;
    int rc = EVP_KDF_derive(c, out, outlen, params) == 1 ? 0 : -1;
    EVP_KDF_CTX_free(c);
    return rc;
}

int tlscrypt_expand_label(const char *digest, const uint8_t *secret, size_t secret_len, const char *label,
                          const uint8_t *context, size_t context_len, uint8_t *out, size_t outlen)
{
    /* struct HkdfLabel { uint16 length; opaque label<7..255>; opaque context<0..255>; } */
    uint8_t info[2 + 1 + 255 + 1 + 255];
    size_t ll = 6 + strlen(label);
    if (ll > 255 || context_len > 255 || outlen > 0xffff)
        return -1;
    size_t n = 0;
    info[n++] = (uint8_t)(outlen >> 8);
    info[n++] = (uint8_t)outlen;
    info[n++] = (uint8_t)ll;
    memcpy(info + n, "tls13 ", 6);
    memcpy(info + n + 6, label, ll - 6);
    n += ll;
    info[n++] = (uint8_t)context_len;
    if (context_len > 0)
        memcpy(info + n, context, context_len);
    n += context_len;
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n),
        OSSL_PARAM_construct_end(),
    };
    return kdf("HKDF", p, out, outlen);
}

int tlscrypt_prf(const char *digest, const uint8_t *secret, size_t secret_len, const char *label,
                 const uint8_t *seed, size_t seed_len, uint8_t *out, size_t outlen)
{
    uint8_t full[128];
    size_t ll = strlen(label);
    if (ll + seed_len > sizeof full)
        return -1;
    memcpy(full, label, ll);
    memcpy(full + ll, seed, seed_len);
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret, secret_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, full, ll + seed_len),
        OSSL_PARAM_construct_end(),
    };
    return kdf("TLS1-PRF", p, out, outlen);
}

static int set_key(tlscrypt_dir_t *d, const tlscrypt_suite_t *s, const uint8_t *key, const uint8_t *iv)
{
    if (d->ctx == NULL && (d->ctx = EVP_CIPHER_CTX_new()) == NULL)
        return -1;
    if (EVP_DecryptInit_ex(d->ctx, cipher_of(s), NULL, key, NULL) != 1)
        return -1;
    d->s = s;
    memcpy(d->iv, iv, s->iv_len);
    d->seq = 0;
    return 0;
}

int tlscrypt_set13(tlscrypt_dir_t *d, const tlscrypt_suite_t *s, const uint8_t *secret)
{
    uint8_t key[32], iv[12];
    if (tlscrypt_expand_label(s->digest, secret, s->hash_len, "key", NULL, 0, key, s->key_len) != 0 ||
        tlscrypt_expand_label(s->digest, secret, s->hash_len, "iv", NULL, 0, iv, 12) != 0)
        return -1;
    memcpy(d->secret, secret, s->hash_len);
    return set_key(d, s, key, iv);
}

int tlscrypt_update13(tlscrypt_dir_t *d)
{
    uint8_t next[TLSCRYPT_MAX_HASH];
    if (d->s == NULL ||
        tlscrypt_expand_label(d->s->digest, d->secret, d->s->hash_len, "traffic upd", NULL, 0, next,
                              d->s->hash_len) != 0)
        return -1;
    return tlscrypt_set13(d, d->s, next);
}

int tlscrypt_set12(const tlscrypt_suite_t *s, const uint8_t *master, const uint8_t *client_random,
                   const uint8_t *server_random, tlscrypt_dir_t *client, tlscrypt_dir_t *server)
{
    /* key_block = PRF(master, "key expansion", server_random + client_random):
     * client key, server key, client IV, server IV (AEAD suites have no MAC keys) */
    uint8_t seed[64], block[2 * 32 + 2 * 12];
    memcpy(seed, server_random, 32);
    memcpy(seed + 32, client_random, 32);
    size_t need = 2 * s->key_len + 2 * s->iv_len;
    if (tlscrypt_prf(s->digest, master, 48, "key expansion", seed, sizeof seed, block, need) != 0)
        return -1;
    const uint8_t *ivs = block + 2 * s->key_len;
    if (set_key(client, s, block, ivs) != 0 || set_key(server, s, block + s->key_len, ivs + s->iv_len) != 0)
        return -1;
    return 0;
}

long tlscrypt_open(tlscrypt_dir_t *d, const uint8_t hdr[5], const uint8_t *payload, size_t n, uint8_t *out,
                   uint8_t *type)
{
    const tlscrypt_suite_t *s = d->s;
    uint8_t nonce[12], aad[13];
    size_t aad_len;
    if (s == NULL)
        return -1;
    bool explicit_nonce = !s->tls13 && s->iv_len == 4;
    size_t lead = explicit_nonce ? 8 : 0;
    if (n < lead + TLSCRYPT_TAG_LEN)
        return -1;
    size_t clen = n - lead - TLSCRYPT_TAG_LEN;
    if (explicit_nonce) {
        memcpy(nonce, d->iv, 4);
        memcpy(nonce + 4, payload, 8);
    } else {
        memcpy(nonce, d->iv, 12);
        for (int i = 0; i < 8; i++)
            nonce[4 + i] ^= (uint8_t)(d->seq >> (56 - 8 * i));
    }
    if (s->tls13) {
        memcpy(aad, hdr, 5);
        aad_len = 5;
    } else {
        for (int i = 0; i < 8; i++)
            aad[i] = (uint8_t)(d->seq >> (56 - 8 * i));
        aad[8] = hdr[0];
        aad[9] = hdr[1];
        aad[10] = hdr[2];
        aad[11] = (uint8_t)(clen >> 8);
        aad[12] = (uint8_t)clen;
        aad_len = 13;
    }
    EVP_CIPHER_CTX *c = d->ctx;
    int len = 0, fin = 0;
    if (EVP_DecryptInit_ex(c, NULL, NULL, NULL, nonce) != 1 ||
        EVP_DecryptUpdate(c, NULL, &len, aad, (int)aad_len) != 1 ||
        EVP_DecryptUpdate(c, out, &len, payload + lead, (int)clen) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, TLSCRYPT_TAG_LEN, (void *)(payload + lead + clen)) != 1 ||
        EVP_DecryptFinal_ex(c, out + len, &fin) != 1)
        return -1;
    d->seq++;
    size_t plen = (size_t)len + (size_t)fin;
    if (!s->tls13) {
        *type = hdr[0];
        return (long)plen;
    }
    /* TLSInnerPlaintext: content, type, zero padding */
    while (plen > 0 && out[plen - 1] == 0)
        plen--;
    if (plen == 0)
        return -1;
    *type = out[--plen];
    return (long)plen;
}

void tlscrypt_fini(tlscrypt_dir_t *d)
{
    EVP_CIPHER_CTX_free(d->ctx);
    memset(d, 0, sizeof *d);
}

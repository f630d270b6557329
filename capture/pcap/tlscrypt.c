#include "tlscrypt.h"

#include <string.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

enum { C_AES128GCM, C_AES256GCM, C_CHACHA, C_AES128CBC, C_AES256CBC };

static const tlscrypt_suite_t suites[] = {
    { 0x1301, true, "SHA256", 32, C_AES128GCM, 16, 12, NULL, 0 },  /* TLS_AES_128_GCM_SHA256 */
    { 0x1302, true, "SHA384", 48, C_AES256GCM, 32, 12, NULL, 0 },  /* TLS_AES_256_GCM_SHA384 */
    { 0x1303, true, "SHA256", 32, C_CHACHA, 32, 12, NULL, 0 },     /* TLS_CHACHA20_POLY1305_SHA256 */
    /* TLS 1.2 AEAD suites: the key log's master secret serves any key exchange */
    { 0xC02F, false, "SHA256", 32, C_AES128GCM, 16, 4, NULL, 0 },  /* ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
    { 0xC030, false, "SHA384", 48, C_AES256GCM, 32, 4, NULL, 0 },  /* ECDHE_RSA_WITH_AES_256_GCM_SHA384 */
    { 0xC02B, false, "SHA256", 32, C_AES128GCM, 16, 4, NULL, 0 },  /* ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 */
    { 0xC02C, false, "SHA384", 48, C_AES256GCM, 32, 4, NULL, 0 },  /* ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 */
    { 0xCCA8, false, "SHA256", 32, C_CHACHA, 32, 12, NULL, 0 },    /* ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 */
    { 0xCCA9, false, "SHA256", 32, C_CHACHA, 32, 12, NULL, 0 },    /* ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 */
    { 0xCCAA, false, "SHA256", 32, C_CHACHA, 32, 12, NULL, 0 },    /* DHE_RSA_WITH_CHACHA20_POLY1305_SHA256 */
    { 0x009E, false, "SHA256", 32, C_AES128GCM, 16, 4, NULL, 0 },  /* DHE_RSA_WITH_AES_128_GCM_SHA256 */
    { 0x009F, false, "SHA384", 48, C_AES256GCM, 32, 4, NULL, 0 },  /* DHE_RSA_WITH_AES_256_GCM_SHA384 */
    { 0x009C, false, "SHA256", 32, C_AES128GCM, 16, 4, NULL, 0 },  /* RSA_WITH_AES_128_GCM_SHA256 */
    { 0x009D, false, "SHA384", 48, C_AES256GCM, 32, 4, NULL, 0 },  /* RSA_WITH_AES_256_GCM_SHA384 */
    /* TLS 1.2 CBC suites: the PRF is SHA-256 unless the suite names SHA-384 */
    { 0xC013, false, "SHA256", 32, C_AES128CBC, 16, 0, "SHA1", 20 },   /* ECDHE_RSA_WITH_AES_128_CBC_SHA */
    { 0xC014, false, "SHA256", 32, C_AES256CBC, 32, 0, "SHA1", 20 },   /* ECDHE_RSA_WITH_AES_256_CBC_SHA */
    { 0xC009, false, "SHA256", 32, C_AES128CBC, 16, 0, "SHA1", 20 },   /* ECDHE_ECDSA_WITH_AES_128_CBC_SHA */
    { 0xC00A, false, "SHA256", 32, C_AES256CBC, 32, 0, "SHA1", 20 },   /* ECDHE_ECDSA_WITH_AES_256_CBC_SHA */
    { 0xC027, false, "SHA256", 32, C_AES128CBC, 16, 0, "SHA256", 32 }, /* ECDHE_RSA_WITH_AES_128_CBC_SHA256 */
    { 0xC028, false, "SHA384", 48, C_AES256CBC, 32, 0, "SHA384", 48 }, /* ECDHE_RSA_WITH_AES_256_CBC_SHA384 */
    { 0xC023, false, "SHA256", 32, C_AES128CBC, 16, 0, "SHA256", 32 }, /* ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 */
    { 0xC024, false, "SHA384", 48, C_AES256CBC, 32, 0, "SHA384", 48 }, /* ECDHE_ECDSA_WITH_AES_256_CBC_SHA384 */
    { 0x0033, false, "SHA256", 32, C_AES128CBC, 16, 0, "SHA1", 20 },   /* DHE_RSA_WITH_AES_128_CBC_SHA */
    { 0x0039, false, "SHA256", 32, C_AES256CBC, 32, 0, "SHA1", 20 },   /* DHE_RSA_WITH_AES_256_CBC_SHA */
    { 0x0067, false, "SHA256", 32, C_AES128CBC, 16, 0, "SHA256", 32 }, /* DHE_RSA_WITH_AES_128_CBC_SHA256 */
    { 0x006B, false, "SHA256", 32, C_AES256CBC, 32, 0, "SHA256", 32 }, /* DHE_RSA_WITH_AES_256_CBC_SHA256 */
    { 0x002F, false, "SHA256", 32, C_AES128CBC, 16, 0, "SHA1", 20 },   /* RSA_WITH_AES_128_CBC_SHA */
    { 0x0035, false, "SHA256", 32, C_AES256CBC, 32, 0, "SHA1", 20 },   /* RSA_WITH_AES_256_CBC_SHA */
    { 0x003C, false, "SHA256", 32, C_AES128CBC, 16, 0, "SHA256", 32 }, /* RSA_WITH_AES_128_CBC_SHA256 */
    { 0x003D, false, "SHA256", 32, C_AES256CBC, 32, 0, "SHA256", 32 }, /* RSA_WITH_AES_256_CBC_SHA256 */
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
    case C_AES128CBC: return EVP_aes_128_cbc();
    case C_AES256CBC: return EVP_aes_256_cbc();
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
    if (s->mac != NULL)
        EVP_CIPHER_CTX_set_padding(d->ctx, 0); /* TLS padding is checked here, not PKCS#7 */
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

static int set_mac(tlscrypt_dir_t *d, const tlscrypt_suite_t *s, const uint8_t *key, bool etm)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL)
        return -1;
    EVP_MAC_CTX_free(d->mac);
    d->mac = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)s->mac, 0),
        OSSL_PARAM_construct_end(),
    };
    if (d->mac == NULL || EVP_MAC_init(d->mac, key, s->mac_len, p) != 1)
        return -1;
    d->etm = etm;
    return 0;
}

int tlscrypt_set12(const tlscrypt_suite_t *s, const uint8_t *master, const uint8_t *client_random,
                   const uint8_t *server_random, bool etm, tlscrypt_dir_t *client, tlscrypt_dir_t *server)
{
    /* key_block = PRF(master, "key expansion", server_random + client_random):
     * client MAC key, server MAC key (CBC suites), client key, server key,
     * client IV, server IV (AEAD suites' implicit part) */
    uint8_t seed[64], block[2 * 48 + 2 * 32 + 2 * 12];
    memcpy(seed, server_random, 32);
    memcpy(seed + 32, client_random, 32);
    size_t macs = s->mac ? 2 * s->mac_len : 0;
    size_t need = macs + 2 * s->key_len + 2 * s->iv_len;
    if (tlscrypt_prf(s->digest, master, 48, "key expansion", seed, sizeof seed, block, need) != 0)
        return -1;
    const uint8_t *keys = block + macs, *ivs = keys + 2 * s->key_len;
    if (set_key(client, s, keys, ivs) != 0 || set_key(server, s, keys + s->key_len, ivs + s->iv_len) != 0)
        return -1;
    if (s->mac && (set_mac(client, s, block, etm) != 0 || set_mac(server, s, block + s->mac_len, etm) != 0))
        return -1;
    return 0;
}

/* HMAC(seq, type, version, length, data) == tag */
static bool mac_ok(tlscrypt_dir_t *d, const uint8_t hdr[5], const uint8_t *data, size_t n, const uint8_t *tag)
{
    uint8_t head[13], out[EVP_MAX_MD_SIZE];
    size_t len = 0;
    for (int i = 0; i < 8; i++)
        head[i] = (uint8_t)(d->seq >> (56 - 8 * i));
    head[8] = hdr[0];
    head[9] = hdr[1];
    head[10] = hdr[2];
    head[11] = (uint8_t)(n >> 8);
    head[12] = (uint8_t)n;
    return EVP_MAC_init(d->mac, NULL, 0, NULL) == 1 && EVP_MAC_update(d->mac, head, sizeof head) == 1 &&
           EVP_MAC_update(d->mac, data, n) == 1 && EVP_MAC_final(d->mac, out, &len, sizeof out) == 1 &&
           len == d->s->mac_len && memcmp(out, tag, len) == 0;
}

/* TLS 1.2 CBC: explicit IV, then MAC-then-encrypt or encrypt-then-MAC. */
static long open_cbc(tlscrypt_dir_t *d, const uint8_t hdr[5], const uint8_t *payload, size_t n, uint8_t *out)
{
    size_t ml = d->s->mac_len;
    if (d->etm) {
        if (n < 16 + 16 + ml || !mac_ok(d, hdr, payload, n - ml, payload + n - ml))
            return -1;
        n -= ml;
    }
    if (n < 16 + 16 || (n - 16) % 16 != 0)
        return -1;
    int len = 0, fin = 0;
    if (EVP_DecryptInit_ex(d->ctx, NULL, NULL, NULL, payload) != 1 ||
        EVP_DecryptUpdate(d->ctx, out, &len, payload + 16, (int)(n - 16)) != 1 ||
        EVP_DecryptFinal_ex(d->ctx, out + len, &fin) != 1)
        return -1;
    size_t plen = (size_t)len + (size_t)fin, pad = out[plen - 1];
    if (pad + 1 > plen)
        return -1;
    for (size_t i = plen - pad - 1; i < plen; i++)
        if (out[i] != pad)
            return -1;
    plen -= pad + 1;
    if (!d->etm) {
        if (plen < ml || !mac_ok(d, hdr, out, plen - ml, out + plen - ml))
            return -1;
        plen -= ml;
    }
    d->seq++;
    return (long)plen;
}

long tlscrypt_open(tlscrypt_dir_t *d, const uint8_t hdr[5], const uint8_t *payload, size_t n, uint8_t *out,
                   uint8_t *type)
{
    const tlscrypt_suite_t *s = d->s;
    uint8_t nonce[12], aad[13];
    size_t aad_len;
    if (s == NULL)
        return -1;
    if (s->mac != NULL) {
        *type = hdr[0];
        return open_cbc(d, hdr, payload, n, out);
    }
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
    EVP_MAC_CTX_free(d->mac);
    memset(d, 0, sizeof *d);
}

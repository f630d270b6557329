#include "tlsflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tlscrypt.h"

#define REC_HDR 5
#define MAX_RECORD (16384 + 2048)     /* TLS 1.2's ciphertext limit; 1.3's is lower */
#define MAX_HS_MSG (1u << 20)
#define MAX_EARLY_STASH (1u << 20)

enum { CT_CCS = 20, CT_ALERT = 21, CT_HANDSHAKE = 22, CT_DATA = 23 };
enum { HS_CLIENT_HELLO = 1, HS_SERVER_HELLO = 2, HS_END_OF_EARLY_DATA = 5, HS_ENCRYPTED_EXTENSIONS = 8,
       HS_FINISHED = 20, HS_KEY_UPDATE = 24 };
enum { EXT_SNI = 0, EXT_ALPN = 16, EXT_ETM = 22, EXT_EARLY_DATA = 42, EXT_VERSIONS = 43 };

/* TLS 1.3 0-RTT: the client's records before the server said whether it
 * takes early data wait in a stash; then they are read with the early key
 * (accepted) or skipped (rejected: the server skipped them too). */
enum early { EARLY_NONE, EARLY_PENDING, EARLY_ON, EARLY_REJECTED, EARLY_DONE };

/* ServerHello.random of a HelloRetryRequest (RFC 8446 4.1.3) */
static const uint8_t hrr_random[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf_t;

typedef struct chunk {
    struct chunk *next;
    bool client;
    int64_t ts;
    size_t n;
    uint8_t p[];
} chunk_t;

typedef struct dir {
    buf_t rec;               /* bytes of an incomplete record */
    buf_t hs;                /* bytes of an incomplete handshake message */
    tlscrypt_dir_t c;
    bool encrypted;          /* TLS 1.2: after ChangeCipherSpec */
    bool to_app;             /* TLS 1.3: Finished read, app keys after this record */
    bool update;             /* TLS 1.3: KeyUpdate read, next keys after this record */
    int64_t ts;
} dir_t;

struct tlsflow {
    tlsflow_ctx_t *ctx;
    const tlsflow_ops_t *ops;
    void *opaque;
    char name[112];
    uint16_t version;        /* chosen: 0x0303, 0x0304; 0 before ServerHello */
    const tlscrypt_suite_t *suite;
    bool have_cr, keyed, waiting, plain_out;
    bool etm;                /* TLS 1.2 encrypt_then_mac accepted by the server */
    enum early early;
    bool early_accepted, early_end, early_settled;
    buf_t early_stash;       /* client records waiting for EncryptedExtensions */
    tlscrypt_dir_t early_c;  /* the client's early traffic key */
    int failed;              /* reason + 1, 0 while fine */
    uint8_t cr[32], sr[32];
    char sni[256], alpn[32];
    dir_t d[2];              /* [0] server, [1] client */
    chunk_t *wait_head, *wait_tail;
    size_t wait_bytes;
    uint8_t out[MAX_RECORD];
};

static const char *reason_text[TLSFLOW_NREASONS] = {
    "no key for its client_random", "unsupported cipher suite", "TLS version below 1.2",
    "decrypt failure (bad tag or MAC)", "handshake not in the capture", "capture gap",
    "not TLS (malformed record or handshake)", "ended during the handshake",
};

static void fail(tlsflow_t *f, int reason, const char *detail, int64_t ts)
{
    if (f->failed)
        return;
    f->failed = reason + 1;
    tlsflow_stats_t *st = &f->ctx->st;
    char sni[sizeof f->sni + 8] = "";
    if (f->sni[0])
        snprintf(sni, sizeof sni, " (SNI %s)", f->sni);
    if (st->failed[reason]++ == 0)
        snprintf(st->first[reason], sizeof st->first[reason], "%s%s%s%s", f->name, sni, *detail ? ", " : "",
                 detail);
    log_debug("pcap: TLS %s%s not decrypted: %s%s%s", f->name, sni, reason_text[reason], *detail ? ": " : "",
              detail);
    if (f->plain_out && f->ops->lost)
        f->ops->lost(f->opaque, ts);
}

static int buf_add(buf_t *b, const uint8_t *p, size_t n)
{
    if (n == 0) /* an empty record: nothing to copy, and b->p may still be NULL */
        return 0;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (q == NULL)
            return -1;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

static void buf_drop(buf_t *b, size_t n)
{
    if (n == 0)
        return;
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

tlsflow_t *tlsflow_new(tlsflow_ctx_t *ctx, const char *name, const tlsflow_ops_t *ops, void *opaque)
{
    tlsflow_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    f->ctx = ctx;
    f->ops = ops;
    f->opaque = opaque;
    snprintf(f->name, sizeof f->name, "%s", name);
    ctx->st.conns++;
    return f;
}

const char *tlsflow_alpn(const tlsflow_t *f) { return f->alpn; }
const char *tlsflow_sni(const tlsflow_t *f) { return f->sni; }

bool tlsflow_record_start(const uint8_t *p, size_t n)
{
    return n >= REC_HDR && p[0] >= CT_CCS && p[0] <= CT_DATA && p[1] == 3 && p[2] <= 4 &&
           ((size_t)p[3] << 8 | p[4]) <= MAX_RECORD;
}

bool tlsflow_client_hello(const uint8_t *p, size_t n)
{
    return tlsflow_record_start(p, n) && p[0] == CT_HANDSHAKE && n >= 6 && p[5] == HS_CLIENT_HELLO;
}

/* A reader of handshake fields that fails once and stays failed. */
typedef struct rd {
    const uint8_t *p;
    size_t n;
    bool bad;
} rd_t;

static const uint8_t *take(rd_t *r, size_t n)
{
    if (r->bad || r->n < n) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    r->n -= n;
    return p;
}

static unsigned get(rd_t *r, size_t n)
{
    const uint8_t *p = take(r, n);
    unsigned v = 0;
    for (size_t i = 0; p && i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* A vector with an n-byte length, as a sub-reader. */
static rd_t vec(rd_t *r, size_t n)
{
    unsigned len = get(r, n);
    const uint8_t *p = take(r, len);
    return (rd_t){ p, p ? len : 0, p == NULL };
}

/* ALPN extension data: the first protocol of the list (the server's choice). */
static void read_alpn(tlsflow_t *f, rd_t e)
{
    rd_t list = vec(&e, 2);
    rd_t name = vec(&list, 1);
    if (!name.bad && name.n < sizeof f->alpn) {
        memcpy(f->alpn, name.p, name.n);
        f->alpn[name.n] = '\0';
    }
}

static void read_sni(tlsflow_t *f, rd_t e)
{
    rd_t list = vec(&e, 2);
    while (!list.bad && list.n > 0) {
        unsigned type = get(&list, 1);
        rd_t host = vec(&list, 2);
        if (type == 0 && !host.bad && host.n < sizeof f->sni) {
            memcpy(f->sni, host.p, host.n);
            f->sni[host.n] = '\0';
            for (size_t i = 0; i < host.n; i++)
                if (f->sni[i] < 0x21 || f->sni[i] > 0x7e)
                    f->sni[i] = '?';
            return;
        }
    }
}

static bool client_hello(tlsflow_t *f, rd_t m)
{
    get(&m, 2);
    const uint8_t *random = take(&m, 32);
    vec(&m, 1); /* session id */
    vec(&m, 2); /* cipher suites */
    vec(&m, 1); /* compression */
    if (m.bad)
        return false;
    memcpy(f->cr, random, 32);
    f->have_cr = true;
    rd_t exts = vec(&m, 2);
    while (!exts.bad && exts.n > 0) {
        unsigned type = get(&exts, 2);
        rd_t e = vec(&exts, 2);
        if (type == EXT_SNI && !e.bad)
            read_sni(f, e);
        else if (type == EXT_EARLY_DATA)
            f->early = EARLY_PENDING;
    }
    return true;
}

/* Keys from the key log, when it has them: false while it does not. */
static bool find_keys(tlsflow_t *f)
{
    keylog_t *k = f->ctx->keys;
    if (k == NULL)
        return false;
    const tlscrypt_suite_t *s = f->suite;
    const uint8_t *sec[4];
    if (s->tls13) {
        static const enum keylog_label need[4] = { KEYLOG_SERVER_HS_TRAFFIC, KEYLOG_CLIENT_HS_TRAFFIC,
                                                   KEYLOG_SERVER_TRAFFIC_0, KEYLOG_CLIENT_TRAFFIC_0 };
        for (int i = 0; i < 4; i++)
            if (keylog_find(k, f->cr, need[i], &sec[i]) != s->hash_len)
                return false;
        /* the application secrets are kept for the switch after Finished */
        if (tlscrypt_set13(&f->d[0].c, s, sec[0]) != 0 || tlscrypt_set13(&f->d[1].c, s, sec[1]) != 0)
            return false;
        return true;
    }
    if (keylog_find(k, f->cr, KEYLOG_CLIENT_RANDOM, &sec[0]) != 48)
        return false;
    return tlscrypt_set12(s, sec[0], f->cr, f->sr, f->etm, &f->d[1].c, &f->d[0].c) == 0;
}

/* Named by its client_random, to be looked for in the key log. */
static void no_key(tlsflow_t *f, int64_t ts)
{
    char detail[96] = "client_random ";
    for (int i = 0; i < 32; i++)
        snprintf(detail + 14 + 2 * i, 3, "%02x", f->cr[i]);
    fail(f, TLSFLOW_NO_KEY, detail, ts);
}

/* Looks for the keys, reading the key log again if it is live and grew. */
static bool get_keys(tlsflow_t *f)
{
    if (f->keyed)
        return true;
    tlsflow_ctx_t *c = f->ctx;
    if (!find_keys(f) && !(c->follow && c->keys && keylog_refresh(c->keys) > 0 && find_keys(f)))
        return false;
    f->keyed = true;
    return true;
}

static bool server_hello(tlsflow_t *f, rd_t m, int64_t ts)
{
    unsigned legacy = get(&m, 2);
    const uint8_t *random = take(&m, 32);
    vec(&m, 1);
    unsigned suite = get(&m, 2);
    get(&m, 1);
    if (m.bad)
        return false;
    if (memcmp(random, hrr_random, 32) == 0)
        return true; /* HelloRetryRequest: the client says hello again, the same random */
    unsigned version = legacy;
    rd_t exts = vec(&m, 2);
    while (!exts.bad && exts.n > 0) {
        unsigned type = get(&exts, 2);
        rd_t e = vec(&exts, 2);
        if (type == EXT_VERSIONS)
            version = get(&e, 2);
        else if (type == EXT_ALPN)
            read_alpn(f, e);
        else if (type == EXT_ETM)
            f->etm = true;
    }
    memcpy(f->sr, random, 32);
    f->version = (uint16_t)version;
    char detail[48];
    if (version < 0x0303 || version > 0x0304) {
        snprintf(detail, sizeof detail, "version 0x%04x", version);
        fail(f, TLSFLOW_VERSION, detail, ts);
        return true;
    }
    f->suite = tlscrypt_suite((uint16_t)suite);
    if (f->suite == NULL || f->suite->tls13 != (version == 0x0304)) {
        snprintf(detail, sizeof detail, "cipher suite 0x%04x", suite);
        fail(f, TLSFLOW_SUITE, detail, ts);
        return true;
    }
    if (!f->have_cr) {
        fail(f, TLSFLOW_NO_HANDSHAKE, "ServerHello without ClientHello", ts);
        return true;
    }
    if (get_keys(f))
        return true;
    if (f->ctx->follow) {
        /* a live key log may not have them yet */
        f->waiting = true;
        f->ctx->st.waited++;
    } else {
        no_key(f, ts);
    }
    return true;
}

/* One whole handshake message (type, body) from a direction. */
static bool handshake_msg(tlsflow_t *f, bool client, unsigned type, rd_t body, int64_t ts)
{
    dir_t *d = &f->d[client];
    switch (type) {
    case HS_CLIENT_HELLO:
        return !client || client_hello(f, body);
    case HS_SERVER_HELLO:
        return client || server_hello(f, body, ts);
    case HS_ENCRYPTED_EXTENSIONS: {
        rd_t exts = vec(&body, 2);
        while (!exts.bad && exts.n > 0) {
            unsigned t = get(&exts, 2);
            rd_t e = vec(&exts, 2);
            if (t == EXT_ALPN)
                read_alpn(f, e);
            else if (t == EXT_EARLY_DATA)
                f->early_accepted = true;
        }
        if (f->early == EARLY_PENDING)
            f->early = f->early_accepted ? EARLY_ON : EARLY_REJECTED;
        return !exts.bad;
    }
    case HS_END_OF_EARLY_DATA:
        f->early_end = client;
        return true;
    case HS_FINISHED:
        if (f->version == 0x0304)
            d->to_app = true;
        return true;
    case HS_KEY_UPDATE:
        if (f->version == 0x0304)
            d->update = true;
        return true;
    default:
        return true;
    }
}

static bool handshake_bytes(tlsflow_t *f, bool client, const uint8_t *p, size_t n, int64_t ts)
{
    dir_t *d = &f->d[client];
    if (buf_add(&d->hs, p, n) != 0)
        return false;
    while (d->hs.len >= 4 && !f->failed) {
        size_t len = (size_t)d->hs.p[1] << 16 | (size_t)d->hs.p[2] << 8 | d->hs.p[3];
        if (len > MAX_HS_MSG)
            return false;
        if (d->hs.len < 4 + len)
            break;
        if (!handshake_msg(f, client, d->hs.p[0], (rd_t){ d->hs.p + 4, len, false }, ts))
            return false;
        buf_drop(&d->hs, 4 + len);
    }
    return true;
}

/* TLS 1.3 key changes that take effect after the record that announced them. */
static void after_record(tlsflow_t *f, dir_t *d, bool client)
{
    if (d->to_app) {
        d->to_app = false;
        const uint8_t *sec;
        if (keylog_find(f->ctx->keys, f->cr, client ? KEYLOG_CLIENT_TRAFFIC_0 : KEYLOG_SERVER_TRAFFIC_0, &sec) ==
                f->suite->hash_len)
            tlscrypt_set13(&d->c, f->suite, sec);
    }
    if (d->update) {
        d->update = false;
        if (tlscrypt_update13(&d->c) == 0)
            f->ctx->st.key_updates++;
    }
}

static void record(tlsflow_t *f, bool client, const uint8_t *hdr, const uint8_t *payload, size_t n, int64_t ts);

/* EncryptedExtensions said whether the server takes early data: the stashed
 * client records are read (with the early key) or skipped. */
static void early_decided(tlsflow_t *f, int64_t ts)
{
    if (f->early == EARLY_ON) {
        const uint8_t *sec;
        if (keylog_find(f->ctx->keys, f->cr, KEYLOG_CLIENT_EARLY_TRAFFIC, &sec) != f->suite->hash_len) {
            fail(f, TLSFLOW_NO_KEY, "no CLIENT_EARLY_TRAFFIC_SECRET for its 0-RTT data", ts);
            return;
        }
        if (tlscrypt_set13(&f->early_c, f->suite, sec) != 0) {
            fail(f, TLSFLOW_MALFORMED, "out of memory", ts);
            return;
        }
    }
    buf_t stash = f->early_stash;
    f->early_stash = (buf_t){ 0 };
    for (size_t at = 0; at + REC_HDR <= stash.len && !f->failed;) {
        size_t len = (size_t)stash.p[at + 3] << 8 | stash.p[at + 4];
        record(f, true, stash.p + at, stash.p + at + REC_HDR, len, ts);
        at += REC_HDR + len;
    }
    free(stash.p);
}

/* A client record while 0-RTT is in play; false when it is not (read as usual). */
static bool early_record(tlsflow_t *f, const uint8_t *hdr, const uint8_t *payload, size_t n, int64_t ts)
{
    switch (f->early) {
    case EARLY_PENDING:
        /* servers take some kB of early data (max_early_data_size); more is not 0-RTT */
        if (f->early_stash.len + REC_HDR + n > MAX_EARLY_STASH || buf_add(&f->early_stash, hdr, REC_HDR) != 0 ||
            buf_add(&f->early_stash, payload, n) != 0)
            fail(f, TLSFLOW_MALFORMED, "too much data before the server's EncryptedExtensions", ts);
        return true;
    case EARLY_REJECTED: {
        /* early records the server skipped: they do not open with the handshake key */
        tlscrypt_dir_t *c = &f->d[1].c;
        uint8_t inner;
        uint64_t seq = c->seq;
        if (c->seq == 0 && tlscrypt_open(c, hdr, payload, n, f->out, &inner) < 0) {
            f->ctx->st.early_skipped++;
            c->seq = seq;
            return true;
        }
        c->seq = seq;
        f->early = EARLY_DONE;
        return false;
    }
    default:
        return false;
    }
}

/* One whole record of a direction. */
static void record(tlsflow_t *f, bool client, const uint8_t *hdr, const uint8_t *payload, size_t n, int64_t ts)
{
    dir_t *d = &f->d[client];
    uint8_t type = hdr[0];
    if (client && type == CT_DATA && f->early != EARLY_NONE && f->early != EARLY_DONE &&
        early_record(f, hdr, payload, n, ts))
        return;
    bool enc = f->version == 0x0304 ? type == CT_DATA : d->encrypted;
    if (type == CT_CCS && !d->encrypted) {
        if (f->version == 0x0303)
            d->encrypted = true;
        return;
    }
    if (!enc) {
        if (type == CT_DATA) {
            fail(f, TLSFLOW_MALFORMED, f->version == 0 ? "application data before ServerHello"
                                                       : "application data before ChangeCipherSpec", ts);
            return;
        }
        if (type == CT_HANDSHAKE && !handshake_bytes(f, client, payload, n, ts))
            fail(f, TLSFLOW_MALFORMED, client ? "client handshake" : "server handshake", ts);
        return;
    }
    if (f->suite == NULL) {
        fail(f, TLSFLOW_MALFORMED, "encrypted record before ServerHello", ts);
        return;
    }
    uint8_t inner;
    tlscrypt_dir_t *c = client && f->early == EARLY_ON ? &f->early_c : &d->c;
    long m = tlscrypt_open(c, hdr, payload, n, f->out, &inner);
    if (m < 0) {
        char detail[64];
        snprintf(detail, sizeof detail, "%s%s record %llu", client ? "client" : "server",
                 c == &f->early_c ? " early data" : "", (unsigned long long)c->seq + 1);
        fail(f, TLSFLOW_BAD_TAG, detail, ts);
        return;
    }
    f->ctx->st.records++;
    if (inner == CT_HANDSHAKE) {
        if (!handshake_bytes(f, client, f->out, (size_t)m, ts))
            fail(f, TLSFLOW_MALFORMED, "encrypted handshake", ts);
    } else if (inner == CT_DATA && m > 0) {
        f->plain_out = true;
        f->ops->plain(f->opaque, client, f->out, (size_t)m, ts);
    }
    if (f->version == 0x0304)
        after_record(f, d, client);
    if (f->early_end) {
        f->early_end = false;
        f->early = EARLY_DONE; /* the client's handshake key from the next record */
    }
    if (!client && (f->early == EARLY_ON || f->early == EARLY_REJECTED) && !f->early_settled) {
        f->early_settled = true;
        early_decided(f, ts);
    }
}

/* Cuts whole records from a direction's bytes, until it waits for keys. */
static void records(tlsflow_t *f, bool client)
{
    dir_t *d = &f->d[client];
    size_t at = 0;
    while (!f->failed && !f->waiting && d->rec.len - at >= REC_HDR) {
        const uint8_t *h = d->rec.p + at;
        size_t len = (size_t)h[3] << 8 | h[4];
        if (!tlsflow_record_start(h, REC_HDR)) {
            fail(f, TLSFLOW_MALFORMED, client ? "client record header" : "server record header", d->ts);
            break;
        }
        if (d->rec.len - at < REC_HDR + len)
            break;
        record(f, client, h, h + REC_HDR, len, d->ts);
        at += REC_HDR + len;
    }
    if (f->failed)
        d->rec.len = 0;
    else
        buf_drop(&d->rec, at);
}

static void feed(tlsflow_t *f, bool client, const uint8_t *p, size_t n, int64_t ts)
{
    dir_t *d = &f->d[client];
    if (buf_add(&d->rec, p, n) != 0) {
        fail(f, TLSFLOW_MALFORMED, "out of memory", ts);
        return;
    }
    d->ts = ts;
    records(f, client);
}

/* Keys came: the bytes held in each direction, then the waiting chunks in
 * the order they came. */
static void resume(tlsflow_t *f)
{
    f->waiting = false;
    records(f, false);
    records(f, true);
    while (f->wait_head != NULL && !f->waiting) {
        chunk_t *c = f->wait_head;
        f->wait_head = c->next;
        f->wait_bytes -= c->n;
        f->ctx->waiting_bytes -= c->n;
        if (!f->failed)
            feed(f, c->client, c->p, c->n, c->ts);
        free(c);
    }
    if (f->wait_head == NULL)
        f->wait_tail = NULL;
}

static void hold(tlsflow_t *f, bool client, const uint8_t *p, size_t n, int64_t ts)
{
    if (f->wait_bytes + n > TLSFLOW_MAX_WAITING || f->ctx->waiting_bytes + n > TLSFLOW_MAX_WAITING_ALL) {
        no_key(f, ts);
        return;
    }
    chunk_t *c = malloc(sizeof *c + n);
    if (c == NULL) {
        fail(f, TLSFLOW_MALFORMED, "out of memory", ts);
        return;
    }
    c->next = NULL;
    c->client = client;
    c->ts = ts;
    c->n = n;
    memcpy(c->p, p, n);
    if (f->wait_tail) f->wait_tail->next = c; else f->wait_head = c;
    f->wait_tail = c;
    f->wait_bytes += n;
    f->ctx->waiting_bytes += n;
}

void tlsflow_data(tlsflow_t *f, bool client, const uint8_t *p, size_t n, int64_t ts_us)
{
    if (f->failed)
        return;
    if (f->waiting) {
        hold(f, client, p, n, ts_us);
        if (!f->failed && get_keys(f))
            resume(f);
        return;
    }
    feed(f, client, p, n, ts_us);
}

void tlsflow_gap(tlsflow_t *f, bool client, int64_t ts_us)
{
    fail(f, TLSFLOW_GAP, client ? "client bytes missing" : "server bytes missing", ts_us);
}

void tlsflow_no_handshake(tlsflow_t *f)
{
    fail(f, TLSFLOW_NO_HANDSHAKE, "", 0);
}

static void free_waiting(tlsflow_t *f)
{
    while (f->wait_head) {
        chunk_t *c = f->wait_head;
        f->wait_head = c->next;
        f->ctx->waiting_bytes -= c->n;
        free(c);
    }
    f->wait_tail = NULL;
}

void tlsflow_free(tlsflow_t *f, int64_t ts_us)
{
    if (f == NULL)
        return;
    if (!f->failed && f->waiting) {
        if (get_keys(f))
            resume(f);
        if (f->waiting)
            no_key(f, ts_us);
    }
    if (!f->failed) {
        if (!f->keyed) {
            fail(f, TLSFLOW_UNFINISHED, "", ts_us);
        } else {
            f->ctx->st.decrypted++;
            log_debug("pcap: TLS %s%s%s decrypted: TLS 1.%d, cipher suite 0x%04x, ALPN %s", f->name,
                      f->sni[0] ? " SNI " : "", f->sni, f->version == 0x0304 ? 3 : 2, f->suite->id,
                      f->alpn[0] ? f->alpn : "none");
        }
    }
    free_waiting(f);
    free(f->early_stash.p);
    tlscrypt_fini(&f->early_c);
    for (int i = 0; i < 2; i++) {
        free(f->d[i].rec.p);
        free(f->d[i].hs.p);
        tlscrypt_fini(&f->d[i].c);
    }
    free(f);
}

void tlsflow_report(const tlsflow_ctx_t *ctx, char *buf, size_t len)
{
    const tlsflow_stats_t *st = &ctx->st;
    size_t at = 0;
    buf[0] = '\0';
    if (st->conns == 0 && ctx->keys == NULL)
        return;
    uint64_t failed = 0;
    for (int i = 0; i < TLSFLOW_NREASONS; i++)
        failed += st->failed[i];
#define ADD(...) do { int w_ = snprintf(buf + at, at < len ? len - at : 0, __VA_ARGS__); \
                      if (w_ > 0) at += (size_t)w_; } while (0)
    ADD(", TLS: %llu connections, %llu decrypted (%llu records, %llu key updates, %llu waited for their keys), "
        "%llu NOT decrypted", (unsigned long long)st->conns, (unsigned long long)st->decrypted,
        (unsigned long long)st->records, (unsigned long long)st->key_updates, (unsigned long long)st->waited,
        (unsigned long long)failed);
    const char *sep = " (";
    for (int i = 0; i < TLSFLOW_NREASONS; i++) {
        if (st->failed[i] == 0)
            continue;
        ADD("%s%llu %s, first: %s", sep, (unsigned long long)st->failed[i], reason_text[i], st->first[i]);
        sep = "; ";
    }
    if (failed)
        ADD(")");
    if (st->early_skipped)
        ADD(", %llu 0-RTT records the server rejected (skipped, as it did)", (unsigned long long)st->early_skipped);
    if (ctx->keys == NULL) {
        if (st->conns)
            ADD(" (no --keylog given)");
    } else {
        keylog_stats_t ks;
        keylog_get_stats(ctx->keys, &ks);
        ADD(", key log: %llu secrets, %llu lines malformed%s%s%s", (unsigned long long)ks.secrets,
            (unsigned long long)ks.malformed, ks.malformed ? " (first at " : "", ks.first_bad,
            ks.malformed ? ")" : "");
    }
#undef ADD
    if (at >= len && len > 0)
        buf[len - 1] = '\0';
}

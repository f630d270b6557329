/* tlsflow: TLS over one reassembled TCP connection, read with the secrets of
 * a key log (keylog.h). Records are cut from each direction's byte stream,
 * the handshake is read (ClientHello: client_random, SNI; ServerHello:
 * version, cipher suite, ALPN for TLS 1.2; EncryptedExtensions: ALPN for TLS
 * 1.3), keys are derived (tlscrypt.h), and the decrypted application data of
 * each direction is handed on in order, with the time of its record.
 *
 * Live (follow), when the key log has no secrets for the connection yet, its
 * bytes wait (bounded) and the log is read again as new bytes come and at the
 * end: a live capture can be ahead of the program writing the log. From a
 * file, a connection without keys is given up at once. A connection that
 * cannot be decrypted is counted once by its reason, never silently skipped. */
#ifndef CAPTURE_PCAP_TLSFLOW_H
#define CAPTURE_PCAP_TLSFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keylog.h"

/* bytes of a connection, and of all connections, that may wait for their
 * keys (live); past them the connection is counted "no key" */
#define TLSFLOW_MAX_WAITING (8u << 20)
#define TLSFLOW_MAX_WAITING_ALL (256u << 20)

enum tlsflow_reason {
    TLSFLOW_NO_KEY = 0,     /* no secrets for its client_random */
    TLSFLOW_SUITE,          /* cipher suite not read here */
    TLSFLOW_VERSION,        /* SSL 3, TLS 1.0 or 1.1 */
    TLSFLOW_BAD_TAG,        /* a record did not authenticate (wrong key, damaged) */
    TLSFLOW_NO_HANDSHAKE,   /* began before the capture: no ClientHello */
    TLSFLOW_GAP,            /* bytes missing from the capture */
    TLSFLOW_MALFORMED,      /* records or handshake messages that are not TLS */
    TLSFLOW_UNFINISHED,     /* ended before the handshake chose keys */
    TLSFLOW_NREASONS
};

typedef struct tlsflow_stats {
    uint64_t conns;         /* TLS connections seen */
    uint64_t decrypted;     /* read to their end */
    uint64_t failed[TLSFLOW_NREASONS];   /* not (or not completely) decrypted, by reason */
    char first[TLSFLOW_NREASONS][400];   /* the first such connection, named */
    uint64_t records;       /* records decrypted */
    uint64_t key_updates;
    uint64_t waited;        /* connections whose keys were not in the key log at ServerHello */
    uint64_t early_skipped; /* 0-RTT records the server rejected (it skipped them too) */
} tlsflow_stats_t;

/* What all connections share: the key log (borrowed, may be NULL: then every
 * TLS connection is counted "no key") and the counters. */
typedef struct tlsflow_ctx {
    keylog_t *keys;
    bool follow;            /* re-read the key log file when a key is missing */
    size_t waiting_bytes;   /* held by all connections waiting for keys */
    tlsflow_stats_t st;
} tlsflow_ctx_t;

typedef struct tlsflow tlsflow_t;

typedef struct tlsflow_ops {
    /* Decrypted application data of one direction, in order. */
    void (*plain)(void *opaque, bool client, const uint8_t *p, size_t n, int64_t ts_us);
    /* Decryption stopped after some application data was handed on: what
     * follows is lost (the caller ends what is open as incomplete). */
    void (*lost)(void *opaque, int64_t ts_us);
} tlsflow_ops_t;

/* name ("client -> server") is used in counters and -v lines. NULL on ENOMEM. */
tlsflow_t *tlsflow_new(tlsflow_ctx_t *ctx, const char *name, const tlsflow_ops_t *ops, void *opaque);
/* Bytes of one direction, in order. */
void tlsflow_data(tlsflow_t *f, bool client, const uint8_t *p, size_t n, int64_t ts_us);
/* n bytes of a direction are missing: the record stream is lost. */
void tlsflow_gap(tlsflow_t *f, bool client, int64_t ts_us);
/* The connection began before the capture: nothing can be decrypted. */
void tlsflow_no_handshake(tlsflow_t *f);
/* Last try for waiting bytes, the connection's count, then frees. */
void tlsflow_free(tlsflow_t *f, int64_t ts_us);

/* The ALPN protocol the server chose ("h2", "http/1.1"), or "" (none yet). */
const char *tlsflow_alpn(const tlsflow_t *f);
/* The server name the client asked for (SNI), or "". */
const char *tlsflow_sni(const tlsflow_t *f);

/* Whether bytes begin like a TLS record header (handshake, alert, CCS or
 * data; version 3.x; a length TLS allows). */
bool tlsflow_record_start(const uint8_t *p, size_t n);
/* Whether they begin like a ClientHello record (at least 6 bytes). */
bool tlsflow_client_hello(const uint8_t *p, size_t n);

/* Appends ", TLS: ..." counters (and the key log's) to buf; nothing when no
 * TLS was seen and no key log given. */
void tlsflow_report(const tlsflow_ctx_t *ctx, char *buf, size_t len);

#endif

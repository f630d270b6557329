#include "appflow.h"

#include <stdlib.h>
#include <string.h>

#include "h1flow.h"
#include "h2flow.h"
#include "pcaprec.h"

/* server bytes kept while the client has not yet said which protocol */
#define MAX_EARLY (64 * 1024)

enum proto { P_UNKNOWN, P_H1, P_H2, P_NONE };

typedef struct appflow {
    pcaprec_t *rec;
    tcpflow_ends_t ends;
    int client;             /* side of the client, -1 until known */
    enum proto proto;
    pcaprec_conn_t conn;
    uint8_t pre[H2FLOW_PREFACE_LEN]; /* client's first bytes, while they may be the preface */
    size_t pre_len;
    uint8_t *early;         /* server bytes before the protocol was known */
    size_t early_len;
    int64_t early_us;
    h1flow_t *h1;
    h2flow_t *h2;
    tlsflow_ctx_t *tls_ctx;
    tlsflow_t *tls;         /* the connection is TLS: bytes go through it */
    bool tls_fin[2];        /* FINs wait for the bytes held for keys */
} appflow_t;

static void *on_open(void *ctx, const tcpflow_ends_t *ends)
{
    appflow_t *a = calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    const appflow_ctx_t *c = ctx;
    a->rec = c->rec;
    a->tls_ctx = c->tls;
    a->ends = *ends;
    a->client = ends->syn ? 0 : -1;
    return a;
}

static void set_client(appflow_t *a, int side)
{
    a->client = side;
    pcaprec_conn_init(&a->conn, a->ends.family, a->ends.addr[side], a->ends.addr[!side], a->ends.port[!side]);
}

static void not_http(appflow_t *a, size_t n)
{
    a->proto = P_NONE;
    pcaprec_skipped(a->rec, 0, n + a->early_len + a->pre_len);
    free(a->early);
    a->early = NULL;
    a->early_len = a->pre_len = 0;
}

static void server_bytes(appflow_t *a, const uint8_t *p, size_t n, int64_t ts);

/* The client's bytes after an h2c upgrade, and the server's after its 101. */
static void to_h2(appflow_t *a, pcx_t *upgraded, const uint8_t *held, size_t held_len,
                  const uint8_t *rest, size_t rest_len, int64_t ts)
{
    a->h2 = h2flow_new(a->rec, &a->conn, upgraded);
    if (a->h2 == NULL) {
        if (upgraded)
            pcx_end(upgraded, 0);
        not_http(a, rest_len);
        return;
    }
    a->proto = P_H2;
    if (held_len > 0)
        h2flow_data(a->h2, true, held, held_len, ts);
    if (rest_len > 0)
        h2flow_data(a->h2, false, rest, rest_len, ts);
}

/* What h1flow said after a chunk of its bytes. */
static void after_h1(appflow_t *a, enum h1flow_result r, bool client, const uint8_t *p,
                     size_t n, size_t used, int64_t ts)
{
    if (r == H1FLOW_H2) {
        const uint8_t *held;
        size_t held_len;
        pcx_t *x = h1flow_upgraded(a->h1, &held, &held_len);
        /* the server's rest follows its 101; the client's was held */
        to_h2(a, x, held, held_len, client ? NULL : p + used, client ? 0 : n - used, ts);
    } else if (r == H1FLOW_OTHER) {
        a->proto = P_NONE;
        pcaprec_skipped(a->rec, 0, n - used);
    }
}

/* The protocol is known: the server bytes that came early go first. */
static void start(appflow_t *a, enum proto proto, bool hunt, int64_t ts)
{
    a->proto = proto;
    if (proto == P_H1) {
        a->h1 = h1flow_new(a->rec, &a->conn, hunt);
        if (a->h1 == NULL) {
            not_http(a, 0);
            return;
        }
    } else {
        to_h2(a, NULL, NULL, 0, NULL, 0, ts);
        if (a->proto != P_H2)
            return;
    }
    uint8_t *early = a->early;
    size_t len = a->early_len;
    a->early = NULL;
    a->early_len = 0;
    if (len > 0)
        server_bytes(a, early, len, a->early_us);
    free(early);
}

/* Bytes of a connection whose protocol is settled: to its parser, or
 * counted as skipped. false while the protocol is still unknown. */
static bool known_bytes(appflow_t *a, bool from_client, const uint8_t *p, size_t n, int64_t ts)
{
    size_t used = 0;
    enum h1flow_result r;
    switch (a->proto) {
    case P_H1:
        r = h1flow_data(a->h1, from_client, p, n, ts, &used);
        after_h1(a, r, from_client, p, n, used, ts);
        return true;
    case P_H2:
        h2flow_data(a->h2, from_client, p, n, ts);
        return true;
    case P_NONE:
        pcaprec_skipped(a->rec, 0, n);
        return true;
    case P_UNKNOWN:
        break;
    }
    return false;
}

static void client_bytes(appflow_t *a, const uint8_t *p, size_t n, int64_t ts)
{
    if (known_bytes(a, true, p, n, ts))
        return;
    /* the preface may come in pieces: keep what matches it so far */
    size_t take = n < H2FLOW_PREFACE_LEN - a->pre_len ? n : H2FLOW_PREFACE_LEN - a->pre_len;
    if (memcmp(p, &H2FLOW_PREFACE[a->pre_len], take) == 0) {
        memcpy(a->pre + a->pre_len, p, take);
        a->pre_len += take;
        if (a->pre_len < H2FLOW_PREFACE_LEN)
            return;
        start(a, P_H2, false, ts);
        if (a->proto == P_H2)
            h2flow_data(a->h2, true, a->pre, a->pre_len, ts);
        a->pre_len = 0;
        client_bytes(a, p + take, n - take, ts);
        return;
    }
    bool hunt = !a->ends.syn;
    if (a->pre_len > 0 || !(hunt ? h1flow_request_start(p, n) : (n > 0 && p[0] >= 'A' && p[0] <= 'Z'))) {
        if (!hunt) {
            not_http(a, n);
            return;
        }
        pcaprec_skipped(a->rec, 0, n + a->pre_len);
        a->pre_len = 0;
        return;
    }
    start(a, P_H1, false, ts);
    if (a->proto == P_H1)
        client_bytes(a, p, n, ts);
}

static void server_bytes(appflow_t *a, const uint8_t *p, size_t n, int64_t ts)
{
    if (known_bytes(a, false, p, n, ts))
        return;
    if (a->early_len + n > MAX_EARLY) {
        not_http(a, n); /* a server that talks first and long: not HTTP */
        return;
    }
    uint8_t *b = realloc(a->early, a->early_len + n);
    if (b == NULL)
        return;
    if (a->early_len == 0)
        a->early_us = ts;
    memcpy(b + a->early_len, p, n);
    a->early = b;
    a->early_len += n;
}

static void tls_plain(void *opaque, bool client, const uint8_t *p, size_t n, int64_t ts)
{
    appflow_t *a = opaque;
    if (a->proto == P_UNKNOWN && strcmp(tlsflow_alpn(a->tls), "h2") == 0)
        start(a, P_H2, false, ts);
    if (client)
        client_bytes(a, p, n, ts);
    else
        server_bytes(a, p, n, ts);
}

/* Decryption stopped midway: the open exchanges are cut. */
static void tls_lost(void *opaque, int64_t ts)
{
    appflow_t *a = opaque;
    if (a->proto == P_H1) {
        h1flow_gap(a->h1, true, 1);
        h1flow_gap(a->h1, false, 1);
    } else if (a->proto == P_H2) {
        h2flow_gap(a->h2, true, 1, ts);
    }
    a->proto = P_NONE;
}

static const tlsflow_ops_t tls_ops = { tls_plain, tls_lost };

/* A TLS connection; handshake: whether its ClientHello is in the capture. */
static bool start_tls(appflow_t *a, bool handshake)
{
    char name[160];
    snprintf(name, sizeof name, "%s:%u -> %s", a->conn.client, a->ends.port[a->client], a->conn.server);
    a->tls = tlsflow_new(a->tls_ctx, name, &tls_ops, a);
    if (a->tls == NULL)
        return false;
    a->conn.tls = true;
    if (!handshake)
        tlsflow_no_handshake(a->tls);
    return true;
}

/* TLS bytes, or the first bytes of a TLS connection: true when taken. */
static bool tls_bytes(appflow_t *a, int side, const uint8_t *p, size_t n, int64_t ts)
{
    if (a->tls == NULL) {
        if (a->tls_ctx == NULL || a->proto != P_UNKNOWN || a->pre_len > 0 || !tlsflow_record_start(p, n))
            return false;
        bool hello = tlsflow_client_hello(p, n);
        if (a->client < 0)
            set_client(a, hello ? side : !side);
        else if (hello && side != a->client)
            return false;
        if (!start_tls(a, hello && side == a->client))
            return false;
    }
    tlsflow_data(a->tls, side == a->client, p, n, ts);
    /* the SNI is the authority of requests without Host (until the first exchange took the connection) */
    if (a->conn.id == 0 && tlsflow_sni(a->tls)[0] != '\0')
        snprintf(a->conn.server, sizeof a->conn.server, "%s:%u", tlsflow_sni(a->tls), a->ends.port[!a->client]);
    return true;
}

static void on_data(void *flow, int side, const uint8_t *p, size_t n, int64_t ts)
{
    appflow_t *a = flow;
    if (a->client >= 0 && a->conn.client[0] == '\0')
        set_client(a, a->client);
    if (tls_bytes(a, side, p, n, ts))
        return;
    if (a->client < 0) {
        /* no handshake: the side that sends a request line (or the preface) is the client */
        if (h1flow_request_start(p, n) || (n >= 4 && memcmp(p, "PRI ", 4) == 0)) {
            set_client(a, side);
        } else if (h1flow_response_start(p, n)) {
            set_client(a, !side);
        } else {
            pcaprec_skipped(a->rec, 0, n);
            return;
        }
        if (side != a->client) {
            /* an answer whose request came before the capture */
            start(a, P_H1, true, ts);
            pcaprec_skipped(a->rec, 0, n);
            return;
        }
    } else if (a->conn.client[0] == '\0') {
        set_client(a, a->client);
    }
    if (side == a->client)
        client_bytes(a, p, n, ts);
    else
        server_bytes(a, p, n, ts);
}

static void on_gap(void *flow, int side, uint64_t n, int64_t ts)
{
    appflow_t *a = flow;
    bool client = side == a->client;
    pcaprec_skipped(a->rec, 0, n);
    if (a->tls != NULL) {
        tlsflow_gap(a->tls, client, ts);
        return;
    }
    if (a->proto == P_H1)
        h1flow_gap(a->h1, client, n);
    else if (a->proto == P_H2)
        h2flow_gap(a->h2, client, n, ts);
}

static void on_conflict(void *flow, int side, int64_t ts)
{
    appflow_t *a = flow;
    (void)ts;
    if (a->proto == P_H1)
        h1flow_conflict(a->h1, side == a->client);
    else if (a->proto == P_H2)
        h2flow_conflict(a->h2, side == a->client);
}

static void on_reset(void *flow, int side, int64_t ts)
{
    appflow_t *a = flow;
    (void)side;
    if (a->proto == P_H1)
        h1flow_reset(a->h1, ts);
}

static void on_fin(void *flow, int side, int64_t ts)
{
    appflow_t *a = flow;
    if (a->tls != NULL)
        a->tls_fin[side == a->client] = true;
    else if (a->proto == P_H1)
        h1flow_fin(a->h1, side == a->client, ts);
}

static void on_close(void *flow, int64_t ts)
{
    appflow_t *a = flow;
    if (a->tls != NULL) {
        tlsflow_free(a->tls, ts); /* its last bytes may still come out */
        for (int c = 0; c < 2; c++)
            if (a->tls_fin[c] && a->proto == P_H1)
                h1flow_fin(a->h1, c, ts);
    }
    if (a->proto == P_UNKNOWN && a->early_len > 0)
        pcaprec_skipped(a->rec, 0, a->early_len);
    h1flow_free(a->h1, ts);
    h2flow_free(a->h2, ts);
    pcaprec_conn_fini(&a->conn);
    free(a->early);
    free(a);
}

const tcpflow_ops_t appflow_ops = { on_open, on_data, on_gap, on_fin, on_close, on_conflict, on_reset };

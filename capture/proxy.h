/* proxy: what every connection of the capture proxy shares (event base,
 * resolver, upstream pool, recording, CA, mode, counters) and the list of live
 * connections the drain reaches. The listener that creates it and accepts
 * connections is listener.c; the connections (client.c, h2server.c,
 * tunnel.c) include this header only, so no connection module depends on
 * the listener that starts it. */
#ifndef CAPTURE_PROXY_H
#define CAPTURE_PROXY_H

#include <stdbool.h>
#include <stdint.h>
#include <event2/event.h>

#include "access.h"
#include "ca.h"
#include "filter.h"
#include "record.h"
#include "upstream.h"
#include "url.h"

typedef struct proxy_config {
    char listen_host[256];
    unsigned short listen_port;
    const char *out_path;
    const char *ca_dir;          /* NULL: CONNECT is a blind tunnel */
    bool reverse;                /* reverse_url is the one origin */
    url_t reverse_url;
    const char *reverse_tls;     /* "CERT,KEY" or a host name (leaf from ca_dir's CA):
                                  * the reverse listener speaks TLS; NULL: cleartext */
    bool upstream_insecure;
    const char *upstream_ca;
    bool h2;                     /* offer h2 to TLS clients */
    bool upstream_h2;            /* offer h2 to TLS origins */
    uint64_t upstream_timeout_us;
    uint64_t drain_timeout_us;
    uint64_t stats_interval_us;  /* 0: only at exit */
    const access_t *access;      /* --allow-clients, --connect-ports */
    record_opts_t rec;
} proxy_config_t;

/* A live connection (client side or tunnel), so the drain can reach it. */
typedef struct proxy_link proxy_link_t;
struct proxy_link {
    proxy_link_t *prev, *next;
    /* Stop taking requests: close now if idle, else after the exchange in flight. */
    void (*on_drain)(proxy_link_t *l);
    /* Time is up: record what is in flight as incomplete and close. */
    void (*on_abort)(proxy_link_t *l);
};

typedef struct proxy {
    const proxy_config_t *cfg;
    struct event_base *base;
    struct evdns_base *dns;
    up_pool_t *pool;
    record_t *rec;
    ca_t *ca;
    SSL_CTX *reverse_tls;        /* the reverse listener's TLS, or NULL */
    bool own_reverse_tls;        /* made from files (else owned by ca) */
    bool draining;
    uint64_t refused_clients;    /* outside --allow-clients: closed at once */
    uint64_t refused_connects;   /* CONNECTs answered 403 (--connect-ports) */
    uint64_t tls_failures;       /* client TLS handshakes that failed */
    proxy_link_t links;          /* list head */
    unsigned nlinks;
} proxy_t;

/* Every connection joins on creation and leaves when freed. */
void proxy_link_add(proxy_t *px, proxy_link_t *l);
void proxy_link_remove(proxy_t *px, proxy_link_t *l);

#endif

/* server: the libmicrohttpd daemon of the demo shop. Routes each request to its
 * handler, counts it, and applies the injected delay (by suspending the
 * connection, never by sleeping in a pool thread) and failures. */
#ifndef TARGET_SERVER_H
#define TARGET_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compress.h"

struct server_config {
    const char *bind;          /* numeric IPv4 or IPv6 address */
    unsigned port;             /* 0: the kernel picks one (see server_port) */
    unsigned threads;          /* MHD pool threads, >= 1 */
    unsigned max_conns;        /* open connections at most */
    size_t max_sessions;       /* logged-in sessions kept; the oldest is evicted */
    uint32_t delay_min_ms, delay_max_ms; /* delay of /api/ and /checkout requests */
    double fail_rate;          /* fraction of /api/ and /checkout requests answered 500 */
    const char *tls_cert_pem;  /* PEM text, both set for HTTPS, else NULL */
    const char *tls_key_pem;
    bool quiet;                /* no libmicrohttpd messages on stderr */
    compress_set_t compress;   /* codings of /api/ and /checkout answers (n 0: none) */
    const char *require_name;  /* --require-header: requests without this header with */
    const char *require_value; /* this value are answered 403; NULL: none */
};

struct server;

/* Starts listening and serving. Returns the handle, or NULL with a one-line
 * reason in err (address in use, TLS unsupported, out of memory). The PEM
 * strings of cfg must outlive the handle. */
struct server *server_start(const struct server_config *cfg, char *err, size_t errlen);

/* The port listened on (the chosen one when cfg->port was 0). */
unsigned server_port(const struct server *s);

/* Answers the requests still delayed, stops the daemon, frees. NULL is accepted. */
void server_stop(struct server *s);

#endif

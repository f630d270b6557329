/* record: assembles exchanges as the proxy sees them and writes each one to
 * the recording the moment it completes (the writer flushes every record, so a
 * capture killed at any point leaves every earlier exchange readable). With
 * record_set_loop, "the moment" is the end of the event-loop pass in which the
 * exchange completed: the records of one pass leave in one write (a write
 * per exchange was one system call in eight of the proxy's), still whole
 * records, before the loop waits again.
 * The counters of the exit and --stats-interval lines live here too. */
#ifndef CAPTURE_RECORD_H
#define CAPTURE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cscript.h"
#include "filter.h"
#include "recording.h"
#include "redact.h"

typedef struct record record_t;
typedef struct recx recx_t;

typedef struct record_opts {
    const char *path;            /* output file */
    size_t max_body;             /* recorded copy of each body is capped here */
    const filter_t *filter;      /* borrowed */
    redact_t *redact;            /* borrowed; applied to each exchange written */
    cscr_t *script;              /* borrowed; --script, before the redaction; NULL: none */
    const char *session_cookie;  /* --session-cookie NAME, or NULL */
    const char *session_header;  /* --session-header NAME, or NULL */
} record_opts_t;

typedef struct record_stats {
    uint64_t exchanges;  /* written to the file */
    uint64_t skipped;    /* proxied but filtered out */
    uint64_t tunnels;    /* blind CONNECT tunnels written */
    uint64_t bytes_up;   /* body and tunnel bytes client -> origin */
    uint64_t bytes_down; /* origin -> client */
    uint64_t errors;     /* upstream failures, cut exchanges, write failures */
} record_stats_t;

/* What an exchange knows of the client connection that carried it. Embedded
 * in each client connection; last_session is owned (free with record_conn_fini). */
typedef struct record_conn {
    char addr[64];       /* client IP address, the default client key */
    uint64_t id;         /* connection id, unique in the recording */
    bool tls;            /* the client side is TLS */
    char *last_session;  /* last session value seen on this connection */
} record_conn_t;

/* Opens the file and writes the header. NULL with a message in err. */
record_t *record_open(const record_opts_t *o, char *err, size_t errlen);
struct event_base;
/* Writes the records of each pass of base's loop together at the pass's end
 * (see above). Before the first exchange. Returns 0 or -1 (out of memory:
 * records are then written one by one, as without it). */
int record_set_loop(record_t *r, struct event_base *base);
/* Closes the file (writing what a pass left). Returns 0, or -1 when the last writes failed. */
int record_close(record_t *r);
void record_get_stats(const record_t *r, record_stats_t *s);
/* A new connection id. */
uint64_t record_next_conn_id(record_t *r);
void record_conn_fini(record_conn_t *c);

/* Starts an exchange at the time of the call. req_headers are the headers as
 * received (cleaned by exbuild.h: hop-by-hop, pseudo-headers, non-tokens; the
 * redaction rules apply when the exchange is written). stream_id is 0 for HTTP/1. Returns NULL when out of memory. */
recx_t *recx_begin(record_t *r, record_conn_t *conn, uint32_t stream_id,
                   const char *scheme, const char *authority, const char *method,
                   const char *target, const char *http_version,
                   const rec_headers_t *req_headers);
/* Request body as received (decoded); the copy is capped, the count is not. */
void recx_req_body(recx_t *x, const void *p, size_t n);
/* Response head; first_byte_us is the wall clock of its first byte. */
void recx_resp_head(recx_t *x, int status, const rec_headers_t *headers, int64_t first_byte_us);
void recx_resp_body(recx_t *x, const void *p, size_t n);
/* One WebSocket message after the 101 (copied; payload already capped). */
void recx_ws(recx_t *x, const rec_ws_msg_t *m);
/* Response trailers (HTTP/2), recorded as resp_trailers. */
void recx_resp_trailers(recx_t *x, const rec_headers_t *trailers);
/* Marks the exchange failed: status is what the client was answered (502,
 * 504, or 0 when the connection was cut), flag REC_F_ERROR or REC_F_INCOMPLETE. */
void recx_fail(recx_t *x, int status, uint32_t flag, const char *reason);
/* A blind tunnel's byte counts (sets REC_F_TUNNEL). */
void recx_tunnel(recx_t *x, uint64_t up, uint64_t down);
/* Ends the exchange at the time of the call, writes it (unless filtered out)
 * and frees x. */
void recx_end(recx_t *x);

#endif

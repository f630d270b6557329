/* pcaprec: the recording side of passive capture. An exchange (pcx) begins
 * when a request head has been read and ends when its response is complete
 * or given up. The format asks pcap input to be written in the order the
 * requests started, so an ended exchange waits for earlier ones still open;
 * more than PCAPREC_MAX_WAITING waiting (or PCAPREC_MAX_WAITING_BYTES of
 * their bodies) are written at once, out of order (counted), so a
 * never-ending stream cannot hold the rest in memory.
 * Times are packet times, not the clock of the machine reading the file. */
#ifndef CAPTURE_PCAP_PCAPREC_H
#define CAPTURE_PCAP_PCAPREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cscript.h"
#include "filter.h"
#include "recording.h"
#include "redact.h"
#include "session.h"

#define PCAPREC_MAX_WAITING 4096
#define PCAPREC_MAX_WAITING_BYTES (64u << 20)

typedef struct pcaprec pcaprec_t;
typedef struct pcx pcx_t;

typedef struct pcaprec_opts {
    const char *path;         /* output file */
    size_t max_body;          /* recorded copy of each body is capped here */
    const filter_t *filter;   /* borrowed; NULL records everything */
    redact_t *redact;         /* borrowed; NULL redacts nothing */
    cscr_t *script;           /* borrowed; --script, before the redaction; NULL: none */
    session_opts_t session;   /* client keys other than the client's address */
} pcaprec_opts_t;

typedef struct pcaprec_stats {
    uint64_t exchanges;     /* written */
    uint64_t incomplete;    /* of those, flagged incomplete */
    uint64_t filtered;      /* left out by --include-host and friends */
    uint64_t out_of_order;  /* written before an earlier one still open */
    uint64_t errors;        /* failed writes */
    uint64_t skipped;       /* messages seen but not recorded (answers without a
                               request, malformed, pushed streams) */
    uint64_t skipped_bytes; /* stream bytes that were not HTTP we could read */
} pcaprec_stats_t;

/* The connection an exchange came on, kept by the caller. */
typedef struct pcaprec_conn {
    char client[48];   /* client IP address: the client key */
    char server[64];   /* "ip:port" ("[v6]:port"): the authority without Host */
    uint64_t id;       /* 0 until its first exchange takes a connection id */
    char *last_session; /* the last session key seen on it (owned) */
    bool tls;          /* decrypted TLS: exchanges are https and flagged TLS */
} pcaprec_conn_t;

/* A request as read from the wire. */
typedef struct pcx_req {
    const char *scheme;         /* NULL: "http" */
    const char *authority;      /* NULL or "": the connection's server */
    const char *method, *target, *http_version;
    const rec_headers_t *headers;  /* as received; cleaned as exbuild.h says */
    uint32_t stream_id;         /* 0 for HTTP/1 */
    int64_t t_start_us;
} pcx_req_t;

/* Opens the file and writes the header (source "pcap"). NULL with err. */
pcaprec_t *pcaprec_open(const pcaprec_opts_t *o, char *err, size_t errlen);
/* Writes exchanges still waiting and closes the file. Every exchange must
 * have been ended. Returns 0, or -1 when a write failed. */
int pcaprec_close(pcaprec_t *r);
void pcaprec_get_stats(const pcaprec_t *r, pcaprec_stats_t *st);
/* Holds written records in memory up to bytes before writing them whole
 * (rec_writer_set_batch); 0, the default, writes and flushes each. */
void pcaprec_set_batch(pcaprec_t *r, size_t bytes);
/* Writes the records held. Returns 0, or -1 when the write failed (logged,
 * counted in errors). */
int pcaprec_flush(pcaprec_t *r);

/* Counts what was seen and not recorded. */
void pcaprec_skipped(pcaprec_t *r, uint64_t messages, uint64_t bytes);

/* Fills c for a connection from client to server; pcaprec_conn_fini frees
 * what it holds. The connection must outlive every pcx_end of its
 * exchanges (the client key is decided there). */
void pcaprec_conn_init(pcaprec_conn_t *c, uint8_t family, const uint8_t client[16],
                       const uint8_t server[16], uint16_t server_port);
void pcaprec_conn_fini(pcaprec_conn_t *c);

/* Begins an exchange; the caller holds it until pcx_end. NULL when out of memory. */
pcx_t *pcx_begin(pcaprec_t *r, pcaprec_conn_t *c, const pcx_req_t *q);
/* Decoded body bytes; the copy is capped by max_body (truncated flag set). */
void pcx_req_body(pcx_t *x, const void *p, size_t n);
void pcx_resp_head(pcx_t *x, int status, const rec_headers_t *headers, int64_t t_first_byte_us);
void pcx_resp_body(pcx_t *x, const void *p, size_t n);
bool pcx_has_response(const pcx_t *x);
/* One WebSocket message after a 101 (payload capped here at max_body). */
void pcx_ws(pcx_t *x, const rec_ws_msg_t *m);
/* Response trailers (an h2 header block after the response's), as received. */
void pcx_resp_trailers(pcx_t *x, const rec_headers_t *trailers);
/* A CONNECT answered 2xx: a tunnel that carried up bytes from the client and
 * down from the server (sets the tunnel flag). */
void pcx_tunnel(pcx_t *x, uint64_t up, uint64_t down);
/* An HTTP/1.1 request upgraded to h2c is answered on HTTP/2 stream 1. */
void pcx_set_h2_stream(pcx_t *x, uint32_t stream_id);
/* Every reason passive capture gives an incomplete exchange (its `error`),
 * as printf formats in pcx_why_format; docs/file-formats.md lists them all
 * (tests/unit/capture/pcap/pcaprec.c checks that it does). */
enum pcx_why {
    PCX_NO_RESPONSE, PCX_NO_RESPONSE_GAP, PCX_NO_RESPONSE_QUEUE,
    PCX_REQUEST_CUT, PCX_RESPONSE_CUT, PCX_TUNNEL_CUT,
    PCX_GAP_REQUEST, PCX_GAP_RESPONSE,             /* bytes (%llu) */
    PCX_CLOSED_REQUEST, PCX_CLOSED_RESPONSE,
    PCX_MALFORMED_REQUEST, PCX_MALFORMED_RESPONSE, /* http_parser's error (%s) */
    PCX_CONFLICT_REQUEST, PCX_CONFLICT_RESPONSE,
    PCX_H2_GAP_CLIENT, PCX_H2_GAP_SERVER,           /* bytes (%llu) */
    PCX_H2_FRAMING,                                /* the frame error (%s) */
    PCX_H2_HPACK,
    PCX_H2_RESET_CLIENT, PCX_H2_RESET_SERVER,       /* error code (%u) */
    PCX_H2_RESET_BEFORE_RESPONSE,                   /* error code (%u) */
    PCX_WS_FRAMES,                                  /* side (%s), the frame error (%s) */
    PCX_WS_CUT,
    PCX_WHY_N
};
extern const char *const pcx_why_format[PCX_WHY_N];
/* pcx_why_format[why] with its arguments, into buf; returns buf. */
const char *pcx_why(char *buf, size_t len, enum pcx_why why, ...);

/* Every http_version passive capture writes ("HTTP/0.9" ... "HTTP/2");
 * NULL-terminated. An HTTP/1 message of another version is malformed. */
extern const char *const pcaprec_http_versions[];

/* Flags the exchange incomplete; the first reason is kept (later ones are
 * consequences of it). */
void pcx_incomplete(pcx_t *x, const char *reason);
/* The exchange is over at t_end_us (0: no response). Its client key is
 * decided here, as the proxy decides it: the session of its request or of
 * the response that set the session cookie, else (--session-forwarded) the
 * forwarded client address, else the last session of its connection, else
 * the client's address. It is written as soon
 * as every earlier one is, and x is no longer the caller's. */
void pcx_end(pcx_t *x, int64_t t_end_us);

#endif

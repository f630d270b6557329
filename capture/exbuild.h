/* exbuild: the one place an exchange of a recording is assembled, shared by
 * the proxy recorder (record.c) and the pcap recorder (pcap/pcaprec.c) so both
 * write the same thing for the same traffic: the same header cleaning
 * (hop-by-hop headers, the headers Connection names, HTTP/2 pseudo-headers and
 * names that are not tokens are framing or unwritable, not content), the same
 * flags, the same body cap, the same client key (capture/session.c) and the
 * same redaction before writing (capture/redact.c).
 * What differs stays with the recorders: where times come from (wall clock or
 * packet times), the order of writing, and the counters. */
#ifndef CAPTURE_EXBUILD_H
#define CAPTURE_EXBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cscript.h"
#include "filter.h"
#include "recording.h"
#include "redact.h"
#include "session.h"

/* An exchange being built; embedded in the recorder's own exchange. */
typedef struct exb {
    rec_exchange_t x;   /* what is written; strings and bodies owned */
    bool keep;          /* passes the filter: headers and bodies are copied */
    size_t max_body;    /* the sink's */
    size_t req_alloc, resp_alloc; /* sizes of the body buffers (>= their lengths) */
    bool pack;          /* header entries may be one allocation each (no redaction) */
    uint8_t packed;     /* which header lists are (exbuild.c) */
    char *session;      /* session key of the request, or of the response that set it */
    char *forwarded;    /* --session-forwarded: the original client's address */
} exb_t;

/* The request as the recorder saw it. */
typedef struct exb_req {
    const char *scheme, *authority, *method, *target, *http_version; /* NULL: "" */
    const rec_headers_t *headers;  /* as received (NULL: none) */
    uint32_t stream_id;            /* 0 for HTTP/1 (sets the h2 flag otherwise) */
    bool tls;                      /* the client side is TLS (sets the tls flag) */
    int64_t t_start_us;
} exb_req_t;

/* What every exchange of one recording shares: the file and the rules.
 * Embedded in each recorder; filter, redact and the session names borrowed. */
typedef struct exb_sink {
    const char *path;         /* output file */
    size_t max_body;          /* cap of each recorded body */
    const filter_t *filter;   /* NULL records everything */
    redact_t *redact;         /* NULL redacts nothing */
    cscr_t *script;           /* --script: exchange(ex) before the redaction; NULL: none */
    session_opts_t session;   /* client keys other than the client's address */
    rec_writer_t *w;          /* set by exb_sink_open */
} exb_sink_t;

/* A recorder of size bytes, zeroed, whose first member is an exb_sink_t: a
 * copy of s with s->path opened and a recording header written with source
 * ("proxy", "pcap") and the capture's tool name. NULL with a message in err.
 * The recorder frees it after exb_sink_close. */
void *exb_sink_new(size_t size, const exb_sink_t *s, const char *source, char *err, size_t errlen);
/* Closes the file. 0, or -1 when the last writes failed. */
int exb_sink_close(exb_sink_t *s);

/* Starts b for s: the request's strings, its cleaned headers (when s's
 * filter keeps the exchange), flags, and the session key of the request.
 * Returns 0, or -1 when out of memory (b then holds nothing). */
int exb_begin(exb_t *b, const exb_sink_t *s, const exb_req_t *q);
/* Frees what b holds. */
void exb_fini(exb_t *b);

/* Copies what a header list holds into dst, without hop-by-hop headers
 * (but te: trailers, which a gRPC call needs), pseudo-headers and names that
 * are not tokens. 0 or -1 (out of memory). */
int exb_copy_headers(rec_headers_t *dst, const rec_headers_t *h);

/* Body bytes as received (decoded); the copy is capped at max_body (the
 * truncated flag is set past it). Not copied when b is filtered out. */
void exb_req_body(exb_t *b, const void *p, size_t n);
void exb_resp_body(exb_t *b, const void *p, size_t n);
/* Response head: status, cleaned headers, the time of its first byte
 * (clamped to the start), and the session key of a response that sets the
 * session cookie. Out of memory for the headers flags b incomplete, saying so. */
void exb_resp_head(exb_t *b, const exb_sink_t *s, int status, const rec_headers_t *headers,
                   int64_t t_first_byte_us);
/* Sets flag and keeps the first reason (later ones are its consequences).
 * Returns true when reason was the first. */
bool exb_flag(exb_t *b, uint32_t flag, const char *reason);
/* Response trailers (an HTTP/2 header block after the response's, chunked
 * trailer fields), cleaned as headers, replacing earlier ones; recorded as
 * resp_trailers. Out of memory flags b incomplete, saying so. */
void exb_resp_trailers(exb_t *b, const rec_headers_t *trailers);
/* One WebSocket message after a 101, copied with its payload capped at
 * max_body (the message's truncated flag set past it). Out of memory flags b
 * incomplete, saying so. Not copied when b is filtered out. */
void exb_ws(exb_t *b, const rec_ws_msg_t *m);
/* A tunnel's byte counts (sets the tunnel flag). */
void exb_tunnel(exb_t *b, uint64_t up, uint64_t down);

/* Ends b at t_end_us (0: never answered): the first byte is kept within
 * [start, end], and the client key decided: the session of this exchange
 * (remembered in *last_session), else the forwarded client, else
 * *last_session, else client_addr. */
void exb_end(exb_t *b, int64_t t_end_us, char **last_session, const char *client_addr);

typedef enum exb_written {
    EXB_WRITTEN,   /* in the file */
    EXB_FILTERED,  /* left out by the filter */
    EXB_FAILED,    /* redaction or the write failed (logged, naming path) */
    EXB_DROPPED,   /* the script dropped it, or failed on it (counted by cscript) */
} exb_written_t;

/* Runs the script's exchange hook, redacts and writes an ended b to s's file. */
exb_written_t exb_write(exb_t *b, const exb_sink_t *s);

#endif

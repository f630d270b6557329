/* recording: the aiotest-recording file (docs/file-formats.md), a stream of
 * msgpack maps: one header, then one exchange per recorded request/response.
 *
 * Ownership: every pointer in these structs is heap memory owned by the struct
 * (freed by rec_exchange_fini / rec_header_fini). Strings are NUL-terminated;
 * bodies are bytes with a length. */
#ifndef AIOTEST_RECORDING_H
#define AIOTEST_RECORDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mp_error.h"

#define REC_FORMAT "aiotest-recording"
#define REC_VERSION_MAJOR 1
#define REC_VERSION_MINOR 1

typedef struct rec_header_field {
    char *name;   /* case kept as seen on the wire */
    char *value;
} rec_hfield_t;

typedef struct rec_headers {
    rec_hfield_t *v;  /* in wire order */
    size_t n;
} rec_headers_t;

/* One WebSocket message after a 101 (recording 1.1): a whole message, its
 * fragments joined, unmasked; control frames (close, ping, pong) too. */
enum rec_ws_dir { REC_WS_UP = 0 /* client to server */, REC_WS_DOWN = 1 };
typedef struct rec_ws_msg {
    uint8_t dir;             /* enum rec_ws_dir */
    uint8_t opcode;          /* 1 text, 2 binary, 8 close, 9 ping, 10 pong */
    int64_t t_us;            /* µs since the handshake's response (the 101) */
    uint8_t *data;           /* payload (a close's without its 2-byte code) */
    size_t len;
    bool truncated;          /* cut at --max-body */
    uint16_t close_code;     /* opcode 8 with a code; 0 otherwise */
} rec_ws_msg_t;

typedef struct rec_header {
    int version_major, version_minor;
    int64_t created_us;   /* wall clock, µs since the Unix epoch */
    char *source;         /* "proxy", "pcap" or "har" */
    char *tool;           /* e.g. "aiotest-capture 0.1.0" */
} rec_header_t;

enum rec_flag {
    REC_F_TLS = 1u << 0,        /* the client connection was TLS */
    REC_F_INCOMPLETE = 1u << 1, /* the exchange was cut (no response, capture gap) */
    REC_F_TUNNEL = 1u << 2,     /* a CONNECT tunnel not decrypted: see tunnel_* */
    REC_F_ERROR = 1u << 3,      /* upstream failed: see error */
    REC_F_H2 = 1u << 4,         /* carried over HTTP/2 (stream_id valid) */
};

typedef struct rec_exchange {
    char *client;            /* client key: address or session value */
    uint64_t conn_id;        /* connection id, unique within the recording */
    uint32_t stream_id;      /* HTTP/2 stream id, 0 for HTTP/1 */
    int64_t t_start_us;      /* wall clock µs: request started */
    int64_t t_first_byte_us; /* first response byte (0 if none) */
    int64_t t_end_us;        /* response complete */
    char *scheme;            /* "http" or "https" */
    char *authority;         /* host[:port] */
    char *method;
    char *target;            /* path and query as sent ("/a?b=1"), or authority for CONNECT */
    char *http_version;      /* "HTTP/1.1", "HTTP/2" ... */
    rec_headers_t req_headers;
    uint8_t *req_body;
    size_t req_body_len;
    bool req_truncated;      /* body capped by --max-body */
    int status;              /* 0 when no response */
    rec_headers_t resp_headers;
    uint8_t *resp_body;
    size_t resp_body_len;
    bool resp_truncated;
    uint32_t flags;          /* enum rec_flag */
    char *error;             /* reason when REC_F_ERROR/INCOMPLETE, else NULL */
    uint64_t tunnel_bytes_up, tunnel_bytes_down; /* REC_F_TUNNEL only */
    rec_headers_t resp_trailers; /* HTTP/2 (or chunked) trailers, e.g. grpc-status (1.1) */
    rec_ws_msg_t *ws;            /* WebSocket messages after a 101, in order (1.1) */
    size_t n_ws;
} rec_exchange_t;

void rec_header_fini(rec_header_t *h);
void rec_exchange_fini(rec_exchange_t *x);
void rec_headers_fini(rec_headers_t *hs);

/* Appends a copy of name/value to hs. Returns 0 or -1 (out of memory). */
int rec_headers_add(rec_headers_t *hs, const char *name, const char *value);

/* Appends name/value taking ownership of both (freed on failure too).
 * Returns 0 or -1 (out of memory). */
int rec_headers_take(rec_headers_t *hs, char *name, char *value);

/* Appends a copy of a WebSocket message to x (data may be NULL when len is
 * 0). Returns 0 or -1 (out of memory). */
int rec_ws_add(rec_exchange_t *x, const rec_ws_msg_t *m);

/* Value of the first header named name (case-insensitive), or NULL. */
const char *rec_headers_get(const rec_headers_t *hs, const char *name);

/* Checks an exchange against the spec (required fields, ranges). Returns 0 or
 * MP_ERR_INVALID with err naming the field. */
int rec_exchange_validate(const rec_exchange_t *x, mp_error_t *err);
/* The same but for the header lists' entries (names tokens, values present),
 * which a builder that only copies checked headers guarantees
 * (rec_writer_set_headers_built): validating once, not twice (issue 20). */
int rec_exchange_validate_built(const rec_exchange_t *x, mp_error_t *err);

/* ---- writer: streaming; every record is flushed when written (or whole
 * records in batches, rec_writer_set_batch), so a writer killed at any point
 * leaves every earlier written record readable. */
typedef struct rec_writer rec_writer_t;

/* Creates/truncates path (or appends when append is true and the file already
 * has a header) and writes the header. The file is private: created 0600, an
 * existing regular file's group and other bits cleared. Returns NULL with err
 * on failure. */
rec_writer_t *rec_writer_open(const char *path, const rec_header_t *h, bool append, mp_error_t *err);
/* Writes to an open stream instead (not closed by rec_writer_close). */
rec_writer_t *rec_writer_open_fp(FILE *fp, const rec_header_t *h, mp_error_t *err);
/* Validates, encodes, writes and flushes one exchange. Returns 0 or negative.
 * In batch mode the record is packed behind the earlier ones and written only
 * once they reach the batch size: then an error may be a write failure of the
 * earlier records (named by their indexes). */
int rec_writer_write(rec_writer_t *w, const rec_exchange_t *x, mp_error_t *err);
/* Batch mode (bytes > 0; 0, the default, writes and flushes every record):
 * records are held in memory and written whole, bytes or more at a time, so
 * a writer killed between writes still leaves only complete records, but
 * loses those not yet written. For a source that can be read again (a pcap
 * file), or with rec_writer_flush on a timer. */
void rec_writer_set_batch(rec_writer_t *w, size_t bytes);
/* The caller's exchanges hold only header names it checked as tokens and
 * values that are present (capture's exchange builder): the writer skips that
 * part of the validation (rec_exchange_validate_built). */
void rec_writer_set_headers_built(rec_writer_t *w, bool on);
/* Writes and flushes the records held by batch mode. Returns 0 or MP_ERR_IO. */
int rec_writer_flush(rec_writer_t *w, mp_error_t *err);
/* Writes what batch mode holds, flushes and closes (the file too, unless
 * opened with _fp). Returns 0 or MP_ERR_IO. */
int rec_writer_close(rec_writer_t *w);

/* ---- reader: streaming, constant memory per record. */
typedef struct rec_reader rec_reader_t;

/* Opens path and reads the header into *h (caller owns; rec_header_fini).
 * Refuses another format or a newer major version. Returns NULL with err. */
rec_reader_t *rec_reader_open(const char *path, rec_header_t *h, mp_error_t *err);
/* Reads the next exchange into *x (caller owns; rec_exchange_fini).
 * Returns MP_OK, MP_EOF at a clean end, or negative: a record cut short at
 * the end of the file is MP_ERR_FORMAT naming its index and offset, and every
 * record before it was returned. */
int rec_reader_next(rec_reader_t *r, rec_exchange_t *x, mp_error_t *err);
/* Index of the last record returned (1 = first exchange) and its byte offset. */
long rec_reader_index(const rec_reader_t *r);
int64_t rec_reader_offset(const rec_reader_t *r);
void rec_reader_close(rec_reader_t *r);

#endif

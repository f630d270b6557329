/* hc_msg: the messages of the HTTP client (hc.h) as slices: a header pair, a
 * request as the caller hands it over, a response as the client hands it
 * back. No allocation here: every slice points into someone else's buffer and
 * is valid only for the call it is passed to. Kept apart from hc.h so that
 * code which only reads responses (checks, extractors) needs no socket,
 * libevent or OpenSSL types. */
#ifndef AIOTEST_HC_MSG_H
#define AIOTEST_HC_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One header field: name and value slices (not NUL-terminated). In a request
 * the caller has checked them (the name a token, the value free of CR, LF and
 * NUL); in a response they are as the server sent them. */
typedef struct hc_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} hc_header_t;

/* A request as the protocols take it: slices valid during one render call. */
typedef struct hc_req {
    const char *method;
    size_t method_len;
    const char *path;       /* origin-form: "/a?b=1" */
    size_t path_len;
    const char *authority;  /* Host header value (HTTP/2 :authority) */
    size_t authority_len;
    const hc_header_t *hdrs; /* in order; no Host, Cookie, length or hop-by-hop ones */
    size_t n_hdrs;
    const char *cookie;     /* Cookie header value, NULL when none */
    size_t cookie_len;
    const char *body;       /* NULL when none */
    size_t body_len;
    bool has_body;          /* send a length even when body_len == 0 */
    /* The body follows the request piece by piece (hc_conn_body, then
     * hc_conn_body_end): body, body_len and h1_bytes are unused; body_length
     * is its size, or -1 when unknown (HTTP/1.1 then sends it chunked). */
    bool body_streamed;
    int64_t body_length;
    bool head;              /* HEAD: the response has no body */
    /* The whole HTTP/1.1 request when nothing in it is dynamic (else NULL):
     * the HTTP/1.1 protocol writes it as is, with no copy, or with the Cookie
     * header (cookie above) inserted at h1_head_len, before the blank line. */
    const char *h1_bytes;
    size_t h1_len, h1_head_len;
} hc_req_t;

/* A response: slices into the connection's buffers, valid only during the
 * callback it is passed to. */
typedef struct hc_resp {
    int status;
    const hc_header_t *headers;   /* the final header block (interim 1xx ones dropped) */
    size_t n_headers;
    const hc_header_t *trailers;  /* HTTP/1.1 chunked trailer fields, HTTP/2 trailing HEADERS */
    size_t n_trailers;
    /* The body as accumulated (hc_xch_t.want_body): decoded of its transfer
     * coding (chunked) and of its Content-Encoding (gzip, br...), at most
     * hc_env_t.max_body bytes. Empty for streamed exchanges (hc_env_t.on_body). */
    const char *body;
    size_t body_len;
    /* env->on_head only: the head ended the message (h2 HEADERS with
     * END_STREAM, e.g. a gRPC trailers-only answer): no body follows. */
    bool ended;
    bool body_cut;          /* longer than max_body (received or decoded): body is its first bytes */
    bool body_undecoded;    /* a Content-Encoding that could not be undone: body as received */
    uint64_t body_dropped;  /* bytes received past max_body, read and discarded */
} hc_resp_t;

#endif

/* h1msg: one HTTP/1 message read with http_parser, both directions. It gathers
 * the start line and headers (split across reads or not) into an ordered list
 * and hands the body on in pieces as it arrives, so a caller can stream it.
 * Shared plumbing: replay's response reader wants the same (candidate for common/). */
#ifndef CAPTURE_H1MSG_H
#define CAPTURE_H1MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <http_parser.h>

#include "recording.h"

typedef struct h1msg h1msg_t;

typedef struct h1msg_ops {
    /* Start line and headers are complete. Return 0 to go on, 1 to say the
     * message has no body (response to HEAD), -1 to stop with an error. */
    int (*on_head)(void *ctx, h1msg_t *m);
    /* A piece of the decoded body (chunk framing removed). 0 or -1. */
    int (*on_body)(void *ctx, const char *p, size_t n);
    /* The message is complete. 0 or -1. The next message starts fresh. */
    int (*on_done)(void *ctx, h1msg_t *m);
} h1msg_ops_t;

/* Embedded by the connection that reads; fields are valid from on_head until
 * the next message begins. url and the strings of headers point into one
 * buffer the message owns (headers is read-only: never rec_headers_fini it);
 * the buffer and the list are reused from message to message, so reading a
 * message allocates nothing once they have grown (issue 20). */
struct h1msg {
    http_parser parser;
    http_parser_settings settings;
    const h1msg_ops_t *ops;
    void *ctx;
    char *url;              /* request target as sent */
    size_t url_len;
    rec_headers_t headers;  /* wire order, case kept */
    /* while reading: the message's strings, NUL-terminated, one after the
     * other (offsets, since the buffer moves as it grows) */
    char *buf;
    size_t buf_len, buf_cap;
    struct h1msg_span { size_t name, value; } *spans; /* the headers read so far */
    size_t n_spans, spans_cap, headers_cap;
    size_t url_off, name_off, cur_off; /* starts of the url, of the header name, of the
                                        * string being read */
    int state;               /* what the string being read is (h1msg.c) */
    bool fast;               /* h1msg_fast: simple whole messages without http_parser */
    bool between;            /* the parser waits for a new message (none begun, or the
                              * last ended and kept the connection) */
    char error[128];
};

void h1msg_init(h1msg_t *m, enum http_parser_type type, const h1msg_ops_t *ops, void *ctx);
void h1msg_fini(h1msg_t *m);

/* Feeds n bytes. Returns how many were consumed (fewer than n when a callback
 * paused the parser), or -1 with m->error set on a malformed message or a
 * callback error. */
ssize_t h1msg_feed(h1msg_t *m, const char *p, size_t n);

/* Lets h1msg_feed read a simple message that is whole in the bytes given
 * (start line, plain header lines, Content-Length or no body for a request,
 * keep-alive) itself, calling the same callbacks with the same pieces and
 * leaving the same parser fields (method, status, version, keep-alive) as
 * http_parser would; anything else still goes through http_parser. Only for a
 * reader whose callbacks pause nowhere but in on_done (issue 20: the
 * byte-by-byte parse was a quarter of --pcap's time). */
void h1msg_fast(h1msg_t *m, bool on);

/* Stops consuming after the current callback (pipelined requests wait), or resumes. */
void h1msg_pause(h1msg_t *m, bool paused);

/* Tells the parser the connection ended: completes a close-delimited body.
 * Returns 0, or -1 when a message was cut short. */
int h1msg_eof(h1msg_t *m);

/* Accessors for the message just read. */
static inline int h1msg_status(const h1msg_t *m) { return (int)m->parser.status_code; }
static inline const char *h1msg_method(const h1msg_t *m)
{
    return http_method_str((enum http_method)m->parser.method);
}
/* true when the message was sent with Transfer-Encoding: chunked */
static inline bool h1msg_chunked(const h1msg_t *m) { return (m->parser.flags & F_CHUNKED) != 0; }
/* Content-Length, or -1 when absent */
int64_t h1msg_content_length(const h1msg_t *m);
static inline bool h1msg_keep_alive(const h1msg_t *m) { return http_should_keep_alive(&m->parser) != 0; }

#endif

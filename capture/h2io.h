/* h2io: bytes between a bufferevent's buffers and an nghttp2 session, for
 * both HTTP/2 ends of the proxy (h2server faces the client, uph2 an origin).
 * Each end keeps its own idea of when the session is over; these only move
 * bytes and stop early when *dead becomes true inside nghttp2's callbacks. */
#ifndef CAPTURE_H2IO_H
#define CAPTURE_H2IO_H

#include <stdbool.h>
#include <event2/buffer.h>
#include <nghttp2/nghttp2.h>

/* What nghttp2 may queue in an output buffer before the socket drains it. */
#define H2IO_OUT_HIGH (64 * 1024)

/* Feeds the bytes of in to ng, draining what it took.
 * 0, or nghttp2's (negative) error code. */
int h2io_feed(nghttp2_session *ng, struct evbuffer *in, const bool *dead);

/* Moves ng's frames into out until it has none or out holds H2IO_OUT_HIGH
 * bytes (the write callback calls again as the socket drains).
 * 0, or nghttp2's (negative) error code. */
int h2io_send(nghttp2_session *ng, struct evbuffer *out, const bool *dead);

#endif

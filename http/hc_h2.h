/* hc_h2: the HTTP/2 client protocol of the connection table (hc.h), on an
 * nghttp2 client session driven through memory buffers (mem_recv/mem_send),
 * so TLS and plain sockets stay hc.c's business.
 *
 * Many exchanges share one connection as concurrent streams, up to the
 * server's SETTINGS_MAX_CONCURRENT_STREAMS (one until the server's SETTINGS
 * arrived, so a small limit never refuses a burst); can_submit says no beyond
 * that and the connection queues the rest. Local windows are 16 MiB (stream
 * and connection) so large downloads are not held back by flow control; PING
 * and SETTINGS are answered by nghttp2.
 *
 * Outcomes: a stream closed after a full response ends its exchange with it;
 * RST_STREAM fails that exchange only (HC_FAIL_H2_RST; REFUSED_STREAM marks
 * it retryable); a GOAWAY finishes the streams the server accepted, fails the
 * others as retryable HC_FAIL_H2_GOAWAY (the caller may resend them, on a
 * new connection), and the socket is retired as soon as it holds no stream;
 * a session error (bad frame, compression error) closes the connection with
 * HC_FAIL_H2_PROTOCOL for everything on it.
 *
 * Exchanges are ended outside nghttp2's callbacks: callbacks only collect
 * finished streams, which are handed to hc_conn_done after mem_recv returns, so
 * a caller that submits again from on_done never re-enters the session. */
#ifndef AIOTEST_HC_H2_H
#define AIOTEST_HC_H2_H

#include "hc_proto.h"

extern const hc_proto_t hc_h2_proto;

/* Local flow-control window, per stream and for the connection. */
#define HC_H2_LOCAL_WINDOW (16 * 1024 * 1024)
/* With a smaller stream window (hc_env_t.h2_stream_window), the connection's
 * grows to that window times the streams the server allows, counting at most
 * this many streams: paused streams then never hold the whole connection. */
#define HC_H2_ROOM_STREAMS 256

#endif

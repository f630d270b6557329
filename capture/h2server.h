/* h2server: HTTP/2 towards a TLS client that chose h2 by ALPN (browsers do),
 * with nghttp2's server session. Each stream is one exchange, recorded with
 * its stream id and REC_F_H2, forwarded to the origin over HTTP/1.1 from the
 * upstream pool (one connection per concurrent stream). Pseudo-headers become
 * method, scheme, authority and target; the other headers keep their order. */
#ifndef CAPTURE_H2SERVER_H
#define CAPTURE_H2SERVER_H

#include <event2/bufferevent.h>

#include "proxy.h"
#include "record.h"
#include "url.h"

/* Takes over bev (TLS established, h2 negotiated) and serves it; conn is
 * copied; origin is where the client's CONNECT pointed. Returns 0, or -1
 * when out of memory (bev is then still the caller's). */
int h2s_start(proxy_t *px, struct bufferevent *bev, const record_conn_t *conn, const url_t *origin);

#endif

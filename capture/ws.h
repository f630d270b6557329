/* ws: an HTTP/1.1 Upgrade relayed through the proxy (forward, CONNECT MITM
 * and --reverse). The request goes to the origin on a connection of its own
 * with its Upgrade (for WebSocket without Sec-WebSocket-Extensions, so that
 * permessage-deflate is not negotiated and frames stay readable); the answer
 * goes back as it came. After a 101 both directions are piped: WebSocket
 * frames are parsed on the way (common/wsframe) into the exchange's messages
 * (direction, opcode, payload up to --max-body, time since the 101, close
 * code); any other protocol (h2c, tcp...) is piped blind and recorded with its
 * byte counts (REC_F_TUNNEL). An answer other than 101 is relayed with its
 * body and the connection closes after it. The exchange is written when the
 * connection closes. */
#ifndef CAPTURE_WS_H
#define CAPTURE_WS_H

#include <stdbool.h>
#include <event2/bufferevent.h>

#include "proxy.h"
#include "record.h"
#include "url.h"

/* True when h asks to switch protocols (an Upgrade header, and Connection
 * listing "upgrade"). */
bool ws_is_upgrade(const rec_headers_t *h);

/* Takes over client (the request head just read; bytes after it may wait in
 * its input) for a request to origin: method and path as sent to it, host the
 * Host header to send (NULL: the client's own), authority and version as
 * recorded, req_headers as received. conn is copied. Returns 0, or -1 when out
 * of memory (client is then still the caller's). */
int ws_start(proxy_t *px, struct bufferevent *client, const record_conn_t *conn, const url_t *origin,
             const char *method, const char *path, const char *host, const char *authority,
             const char *version, const rec_headers_t *req_headers);

#endif

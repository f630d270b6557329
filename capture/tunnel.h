/* tunnel: a CONNECT without a CA is a blind byte tunnel. It is recorded as one
 * exchange with REC_F_TUNNEL: the authority, bytes each way, and the times of
 * opening and closing, so the recording says that traffic existed. */
#ifndef CAPTURE_TUNNEL_H
#define CAPTURE_TUNNEL_H

#include <event2/bufferevent.h>

#include "proxy.h"
#include "record.h"

/* Takes over client (its CONNECT request just read; bytes after it may wait in
 * its input), connects to host:port, answers 200 or 502, then relays until
 * either side closes. conn is copied (its last_session too). Returns 0, or
 * -1 when out of memory (client is then still the caller's). */
int tunnel_start(proxy_t *px, struct bufferevent *client, const record_conn_t *conn,
                 const char *authority, const char *host, unsigned short port);

#endif

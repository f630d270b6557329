/* client: one client connection speaking HTTP/1.1 to the proxy, as a state
 * machine (every state is a value of client.c's enum client_state):
 *
 *  [PREFACE: cleartext reverse with h2, h2c preface? ─yes─► h2server.c]
 *     │ no
 *   HEAD ──request head──► EXCHANGE ──response done, keep-alive──► HEAD
 *     │                      ├──client FIN after the request──► HALF_CLOSED ──response done──► CLOSING
 *     │                      └──close / error / drain──► CLOSING (flush, free)
 *     └─CONNECT head─► CONNECT ─► tunnel.c (no CA)
 *              or CONNECTED (200 being written) ─► HANDSHAKE (TLS, leaf cert)
 *                                                   ├─ALPN h2─► h2server.c
 *                                                   └─else────► HEAD (https)
 *
 * Requests are absolute-URI (forward proxy), origin-form behind TLS
 * interception or in reverse mode. One exchange at a time: pipelined requests
 * wait in the parser. Bodies stream both ways with backpressure. */
#ifndef CAPTURE_CLIENT_H
#define CAPTURE_CLIENT_H

#include <event2/util.h>
#include <sys/socket.h>

#include "proxy.h"

/* Serves an accepted socket (owned from now on). Returns 0, or -1 when out
 * of memory (fd closed). */
int client_start(proxy_t *px, evutil_socket_t fd, const struct sockaddr *addr);

#endif

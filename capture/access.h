/* access: who may use the proxy and where its CONNECTs may go. A proxy bound
 * to a non-loopback address is an open relay unless --allow-clients limits
 * it, so such a listener needs a CIDR list; CONNECT goes to --connect-ports
 * (default 80 and 443) and to the hosts that --include-host names. */
#ifndef CAPTURE_ACCESS_H
#define CAPTURE_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "filter.h"

typedef struct access access_t;

/* A policy with no client list and the default ports (80, 443). NULL on out
 * of memory. */
access_t *access_new(void);
void access_free(access_t *a);

/* Adds a comma-separated list of CIDRs or addresses ("10.0.0.0/8,::1,
 * 192.0.2.7/32"). Returns 0, or -1 with err naming the item and what was
 * expected. */
int access_allow_clients(access_t *a, const char *list, char *err, size_t errlen);
/* true once a client list was given. */
bool access_limits_clients(const access_t *a);
/* true when a client at addr may use the proxy: always without a list, else
 * when addr lies in one of its CIDRs (IPv4-mapped IPv6 counts as IPv4). */
bool access_client_ok(const access_t *a, const struct sockaddr *addr);
/* true when addr is 127.0.0.0/8 or ::1 (IPv4-mapped too). */
bool access_is_loopback(const struct sockaddr *addr);

/* Replaces the CONNECT ports with a list of ports and ranges ("443,8000-8100")
 * or "any". Returns 0, or -1 with err naming the item. */
int access_connect_ports(access_t *a, const char *list, char *err, size_t errlen);
/* true when a CONNECT to host:port may go out: port in the list, or the host
 * named by an --include-host pattern of f (f may be NULL). */
bool access_connect_ok(const access_t *a, const filter_t *f, const char *host, unsigned port);
/* The port list as given ("80,443" by default), for messages. */
const char *access_connect_ports_text(const access_t *a);

#endif

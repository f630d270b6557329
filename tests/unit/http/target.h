/* target: an hc_target_t for 127.0.0.1:port, for the client's unit tests.
 * The address lives in the target_t, which must outlive the connection. */
#ifndef AIOTEST_TEST_HTTP_TARGET_H
#define AIOTEST_TEST_HTTP_TARGET_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "hc.h"

typedef struct target {
    hc_target_t t;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char name[64];
} target_t;

/* port on loopback, plain or TLS; want as the test asks. resolve: leave the
 * address empty so that the connection looks "localhost" up (evdns). */
static inline void target_loopback(target_t *tg, uint16_t port, bool tls, hc_want_t want,
                                   bool resolve)
{
    memset(tg, 0, sizeof *tg);
    struct sockaddr_in *sin = (struct sockaddr_in *)&tg->addr;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    tg->addr_len = resolve ? 0 : sizeof *sin;
    snprintf(tg->name, sizeof tg->name, "%s://%s:%u", tls ? "https" : "http",
             resolve ? "localhost" : "127.0.0.1", port);
    tg->t = (hc_target_t){.host = resolve ? "localhost" : "127.0.0.1", .port = port, .tls = tls,
                          .want = want, .name = tg->name, .addr = &tg->addr,
                          .addr_len = &tg->addr_len};
}

#endif

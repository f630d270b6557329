/* listener: runs the capture proxy: sets up the shared context (proxy.h),
 * accepts client connections and hands each to client.c, prints the counters
 * line, and drains on SIGINT/SIGTERM: stop accepting, let exchanges in flight
 * finish within --drain-timeout, cut what is left (recorded as incomplete),
 * stop. */
#ifndef CAPTURE_LISTENER_H
#define CAPTURE_LISTENER_H

#include "proxy.h"

/* Runs the proxy until a signal and the drain end it. Returns the exit code:
 * 0, or 2 when the setup failed (message already printed). */
int listener_run(const proxy_config_t *cfg);

#endif

/* fuzzpeer: the in-process server of the http/ client's fuzz targets. One
 * exchange run: a client connection (http/hc.c) to an abstract AF_UNIX
 * listener made once per process (no TCP ports, no TIME_WAIT pile-up over
 * millions of runs), whose peer answers pre + data as the response bytes and
 * then closes its sending side. Checks the client's contract on every
 * exchange and abort()s when it is broken, so libFuzzer reports it:
 *  - each submitted exchange ends exactly once (env->on_done), within a
 *    bounded number of loop iterations and never by a timeout;
 *  - a success has a status in 100..999 and a response;
 *  - the body handed over is at most max_body bytes, and without a
 *    Content-Encoding at most the bytes the peer sent. */
#ifndef AIOTEST_FUZZPEER_H
#define AIOTEST_FUZZPEER_H

#include <stddef.h>
#include <stdint.h>

#include "hc.h"

/* Runs n_xch (1..4) GET exchanges on one connection speaking want. The
 * peer sends pre at once, and data too unless wait_headers > 0 (h2): then
 * only after the client sent that many HEADERS frames on the connection. */
void fuzzpeer_run(hc_want_t want, int n_xch, int wait_headers, const uint8_t *pre,
                  size_t pre_len, const uint8_t *data, size_t size);
/* HTTP/1.1 pipelining depth of the next runs' connection (hc_target_t.pipeline;
 * 0: off, the default). */
void fuzzpeer_pipeline(uint16_t depth);

#endif

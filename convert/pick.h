/* pick: the converter's filter: which exchanges become requests (hosts,
 * paths, static assets, broken records) and which recorded headers are left
 * to the replay. (capture/filter.c, prefix filter_, is the capture's: which
 * exchanges are written at all.) */
#ifndef AIOTEST_CONV_PICK_H
#define AIOTEST_CONV_PICK_H

#include <stdbool.h>

#include "mp_error.h"
#include "opts.h"
#include "recording.h"

typedef enum pick_verdict {
    PICK_KEEP = 0,
    PICK_DROP_ERROR,  /* tunnel, upstream error, incomplete, no response */
    PICK_DROP_HOST,
    PICK_DROP_PATH,
    PICK_DROP_STATIC,
    PICK_DROP_UPGRADE, /* a 101 to another upgrade (h2c, tcp...): nothing to replay it with */
    PICK_KEEP_WS,      /* a WebSocket session (pick_is_websocket): a ws step */
} pick_verdict_t;

typedef struct pick pick_t;

/* Compiles the filter options of o (regexes). NULL with err naming the bad
 * --exclude-path on failure. */
pick_t *pick_new(const conv_opts_t *o, mp_error_t *err);
void pick_free(pick_t *f);

pick_verdict_t pick_check(const pick_t *f, const rec_exchange_t *x);

/* True for a static asset: image, font, css or js by response Content-Type
 * or by the extension of the path. */
bool pick_is_static(const rec_exchange_t *x);
/* True when x is a WebSocket session: a 101 answer to an Upgrade: websocket
 * request (Upgrade recorded, or Sec-WebSocket-Key/-Accept, or messages), not
 * a blind tunnel. */
bool pick_is_websocket(const rec_exchange_t *x);

/* True for headers the replay must not send as recorded: hop-by-hop and
 * length headers (recomputed), Host, Proxy-*, HTTP/2 pseudo-headers, and
 * Cookie (the replay's cookie jar sends its own). */
bool pick_header_dropped(const char *name);

/* Host part of an authority ("[::1]:80" -> "::1") into buf. Returns buf. */
char *pick_host(const char *authority, char *buf, size_t len);

#endif

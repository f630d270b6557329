/* filter: which exchanges become requests (hosts, paths, static assets,
 * broken records) and which recorded headers are left to the replay. */
#ifndef AIOTEST_CONV_FILTER_H
#define AIOTEST_CONV_FILTER_H

#include <stdbool.h>

#include "convert.h"
#include "recording.h"

typedef enum filter_verdict {
    FILTER_KEEP = 0,
    FILTER_DROP_ERROR,  /* tunnel, upstream error, incomplete, no response */
    FILTER_DROP_HOST,
    FILTER_DROP_PATH,
    FILTER_DROP_STATIC,
    FILTER_DROP_UPGRADE, /* a 101 (WebSocket or other): the replay has no ws step yet */
} filter_verdict_t;

typedef struct filter filter_t;

/* Compiles the filter options of o (regexes). NULL with err naming the bad
 * --exclude-path on failure. */
filter_t *filter_new(const conv_opts_t *o, mp_error_t *err);
void filter_free(filter_t *f);

filter_verdict_t filter_check(const filter_t *f, const rec_exchange_t *x);

/* True for a static asset: image, font, css or js by response Content-Type
 * or by the extension of the path. */
bool filter_is_static(const rec_exchange_t *x);

/* True for headers the replay must not send as recorded: hop-by-hop and
 * length headers (recomputed), Host, Proxy-*, HTTP/2 pseudo-headers, and
 * Cookie (the replay's cookie jar sends its own). */
bool filter_header_dropped(const char *name);

/* Host part of an authority ("[::1]:80" -> "::1") into buf. Returns buf. */
char *filter_host(const char *authority, char *buf, size_t len);

#endif

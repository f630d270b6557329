/* uph2: HTTP/2 towards an origin that chose h2 by ALPN. One session per TLS
 * connection multiplexes the requests of many client exchanges; each stream
 * reports to its front through the same up_ops_t as an HTTP/1.1 connection,
 * so fronts never know which one they talk to (upstream.c does the choosing
 * and wraps streams in its handles). */
#ifndef CAPTURE_UPH2_H
#define CAPTURE_UPH2_H

#include <stdbool.h>
#include <stdint.h>
#include <event2/bufferevent.h>

#include "recording.h"
#include "upstream.h"

typedef struct uph2 uph2_t;
typedef struct uph2_stream uph2_stream_t;

/* Takes over bev (TLS up, ALPN h2) for origin key ("https://host:port").
 * on_gone(arg, s) is called once when the session ends, before it is freed.
 * Returns NULL when out of memory (bev is then still the caller's). */
uph2_t *uph2_new(struct bufferevent *bev, const char *key, uint64_t timeout_us,
                 void (*on_gone)(void *arg, uph2_t *s), void *arg);
/* Fails the streams still open (502) and frees the session. */
void uph2_free(uph2_t *s);
const char *uph2_key(const uph2_t *s);
/* true while the session takes new streams (alive, no GOAWAY, below the
 * origin's concurrency limit). */
bool uph2_can_take(const uph2_t *s);

/* Starts a request: Host becomes :authority, hop-by-hop headers are left out,
 * names are lower-cased. has_body: a body follows with uph2_body/_body_end.
 * Returns NULL when the session refuses it (no callback then). */
uph2_stream_t *uph2_request(uph2_t *s, const char *method, const char *path, const char *authority,
                            const rec_headers_t *h, bool has_body, const up_ops_t *ops, void *front);
/* As up_body, up_body_end, up_pause, up_abort and up_detach. */
int uph2_body(uph2_stream_t *st, const void *p, size_t n);
void uph2_body_end(uph2_stream_t *st);
void uph2_pause(uph2_stream_t *st, bool paused);
void uph2_abort(uph2_stream_t *st);
void uph2_detach(uph2_stream_t *st);

#endif

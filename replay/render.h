/* render: a compiled request (plan_req_t) plus a user's variables -> the
 * request as the protocols take it (hc_req_t).
 *
 * Every template of a request is expanded once, into one growable per-thread
 * buffer; generators are drawn once per request (tpl_memo_t), so the same
 * generator gives the same value in the URL, the headers and the body, and a
 * resent request (retry) carries the same bytes. Headers stay name/value
 * pairs (HTTP/2 takes them as they are, HTTP/1.1 writes them once). A fully
 * literal request keeps its prebuilt HTTP/1.1 bytes, with the Cookie header
 * inserted by the protocol when the user has cookies.
 *
 * What a template produced is checked before anything goes on the wire: a
 * header name must be a token, a value must hold no CR, LF or NUL, the request
 * target no control byte or space. A bad value (typically extracted from a
 * server's response) fails that request as STATS_FAIL_EXTRACT with a reason
 * (render_why), never a header line of its own. */
#ifndef AIOTEST_RENDER_H
#define AIOTEST_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "cookies.h"
#include "hc_msg.h"
#include "plan.h"
#include "template.h"

/* Per-thread rendering state; slices handed out stay valid until the next
 * render_request on the same render_t. Zero-initialise, render_fini to free. */
typedef struct render {
    tpl_buf_t buf;            /* header values and body of the current request */
    tpl_buf_t cookie;         /* Cookie header value */
    hc_header_t *hdrs;
    struct render_slot *slots;  /* 2 per header + the body */
    size_t hdrs_cap;
    char why[200];            /* reason of the last refused request */
} render_t;

void render_fini(render_t *rd);

/* req's URL (the path, or the whole URL when the origin is a template),
 * NUL-terminated, into *url and *len: the literal itself, or its expansion into
 * out (replacing out's content), checked as a request target. ctx->memo should
 * be cleared by the caller when a new request starts and kept for
 * render_request. Returns 0, -STATS_FAIL_EXTRACT (bad bytes; why in rd) or
 * -STATS_FAIL_PROTOCOL (out of memory). */
int render_url(render_t *rd, const plan_req_t *req, const tpl_ctx_t *ctx, tpl_buf_t *out,
               const char **url, size_t *len);

/* True when rendering r draws generators (it then needs a tpl_memo_t in
 * ctx for its values to be the same in every place). */
bool render_draws(const plan_req_t *r);

/* What a request is sent with besides its plan: set by the engine per hop. */
typedef struct render_in {
    const plan_req_t *req;
    const char *method;          /* req's, or GET after a 303 */
    const plan_origin_t *origin;
    const char *path;            /* origin-form target, NUL-terminated: render_url's
                                  * (checked there) or a redirect's (checked here) */
    size_t path_len;
    bool redirected;             /* a redirect hop: not the request as compiled */
    const cookie_jar_t *jar;     /* NULL when the user holds no cookie */
    int64_t now_s;               /* wall clock for cookie expiry */
} render_in_t;

/* Fills rv for in with ctx's variables and memo. Returns 0, or a negative
 * stats_fail_t (-STATS_FAIL_EXTRACT: a template gave a bad header name or
 * value, why in rd; -STATS_FAIL_PROTOCOL: out of memory, or a redirect's
 * target with a control byte or space). */
int render_request(render_t *rd, const render_in_t *in, const tpl_ctx_t *ctx, hc_req_t *rv);

/* The reason of the last refusal ("header 'Authorization': value holds CR"). */
const char *render_why(const render_t *rd);

#endif

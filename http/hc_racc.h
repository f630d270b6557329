/* hc_racc: a response as a protocol receives it (header names and values in
 * one byte buffer, the body in another), handed to the caller as an hc_resp_t
 * of slices. Fields that come after hc_racc_end_head are trailers. The body
 * kept is bounded (hc_env_t.max_body: the rest is counted and
 * dropped, so a 100 MB answer costs no 100 MB), and decoded of its
 * Content-Encoding once, when the view is made (only bodies someone wanted are
 * kept at all). Shared by HTTP/1.1 (hc_h1.c) and h2 (hc_h2.c) so both deliver the
 * same view. The buffers are reused from one response to the next
 * (hc_racc_reset) and freed by hc_racc_fini (an idle connection, or a finished h2
 * stream). Every function that can grow a buffer returns 0 or -1 (out of
 * memory; the accumulator stays valid). */
#ifndef AIOTEST_HC_RACC_H
#define AIOTEST_HC_RACC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hc_proto.h"

typedef struct hc_racc_hdr {
    uint32_t name_off, name_len, value_off, value_len;
} hc_racc_hdr_t;

typedef struct hc_racc {
    char *hb;              /* header names and values, back to back */
    size_t hb_len, hb_cap;
    hc_racc_hdr_t *hdrs;
    size_t n_hdrs, hdrs_cap;
    char *body;
    size_t body_len, body_cap;
    uint64_t body_dropped; /* received past the limit of hc_racc_body, not kept */
    size_t n_head;         /* headers of the head; the rest are trailers */
    bool head_done;        /* hc_racc_end_head called */
    bool in_value;         /* the last piece added was a value (hc_racc_field/hc_racc_value) */
} hc_racc_t;

/* Empties a (for the next response or a replacing header block); keeps memory. */
void hc_racc_reset(hc_racc_t *a);
/* Frees the buffers; a is empty and reusable afterwards. */
void hc_racc_fini(hc_racc_t *a);

/* Piecewise headers, as http_parser delivers them: a field after a value
 * starts a new header, pieces of one name or value are joined. */
int hc_racc_field(hc_racc_t *a, const char *d, size_t n);
int hc_racc_value(hc_racc_t *a, const char *d, size_t n);
/* One whole header (h2: name and value arrive together). */
int hc_racc_header(hc_racc_t *a, const char *name, size_t nl, const char *value, size_t vl);
/* Appends body bytes, keeping at most max bytes of the body in all (the
 * rest only counted in body_dropped). */
int hc_racc_body(hc_racc_t *a, const void *d, size_t n, size_t max);

/* The header block ended: fields added from now on are trailers. */
void hc_racc_end_head(hc_racc_t *a);
/* Fills *out with status and the header slices only (no body, no trailers),
 * for hc_env_t.on_head. 0 or -1. */
int hc_racc_head_view(hc_racc_t *a, hc_env_t *env, int status, hc_resp_t *out);

/* Fills *out with status and slices of a (header and trailer slices in env->hdrs). A
 * body with a Content-Encoding is decoded into env->dec (output bounded by
 * env->max_body; a coding that cannot be undone leaves the body as received,
 * out->body_undecoded). A NUL follows the body (regexec may read up to one),
 * not counted in body_len. The view is valid until a or env->dec changes. */
int hc_racc_view(hc_racc_t *a, hc_env_t *env, int status, hc_resp_t *out);

#endif

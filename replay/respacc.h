/* respacc: a response as a protocol receives it (header names and values in
 * one byte buffer, the body in another), handed to the user as a resp_view_t
 * of slices. The body kept is bounded (--max-body: the rest is counted and
 * dropped, so a 100 MB answer costs no 100 MB), and decoded of its
 * Content-Encoding once, when the view is made (only bodies someone wanted are
 * kept at all). Shared by HTTP/1.1 (http1.c) and h2 (h2.c) so both deliver the
 * same view. The buffers are reused from one response to the next
 * (racc_reset) and freed by racc_fini (an idle connection, or a finished h2
 * stream). Every function that can grow a buffer returns 0 or -1 (out of
 * memory; the accumulator stays valid). */
#ifndef AIOTEST_RESPACC_H
#define AIOTEST_RESPACC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"

typedef struct racc_hdr {
    uint32_t name_off, name_len, value_off, value_len;
} racc_hdr_t;

typedef struct racc {
    char *hb;              /* header names and values, back to back */
    size_t hb_len, hb_cap;
    racc_hdr_t *hdrs;
    size_t n_hdrs, hdrs_cap;
    char *body;
    size_t body_len, body_cap;
    uint64_t body_dropped; /* received past the limit of racc_body, not kept */
    bool in_value;         /* the last piece added was a value (racc_field/racc_value) */
} racc_t;

/* Empties a (for the next response or a replacing header block); keeps memory. */
void racc_reset(racc_t *a);
/* Frees the buffers; a is empty and reusable afterwards. */
void racc_fini(racc_t *a);

/* Piecewise headers, as http_parser delivers them: a field after a value
 * starts a new header, pieces of one name or value are joined. */
int racc_field(racc_t *a, const char *d, size_t n);
int racc_value(racc_t *a, const char *d, size_t n);
/* One whole header (h2: name and value arrive together). */
int racc_header(racc_t *a, const char *name, size_t nl, const char *value, size_t vl);
/* Appends body bytes, keeping at most max bytes of the body in all (the
 * rest only counted in body_dropped). */
int racc_body(racc_t *a, const void *d, size_t n, size_t max);

/* Fills *out with status and slices of a (header slices in env->hdrs). A
 * body with a Content-Encoding is decoded into env->dec (output bounded by
 * env->max_body; a coding that cannot be undone leaves the body as received,
 * out->body_undecoded). A NUL follows the body (regexec may read up to one),
 * not counted in body_len. The view is valid until a or env->dec changes. */
int racc_view(racc_t *a, conn_env_t *env, int status, resp_view_t *out);

#endif

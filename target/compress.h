/* compress: Content-Encoding of the demo shop's API answers, as a web server
 * with compression on would do (nginx `gzip on`, its brotli and zstd modules):
 * a coding the client accepts (Accept-Encoding) and the server enables
 * (--compress) is applied to the body. The encoders are the libraries' own
 * (zlib, libbrotlienc, libzstd). */
#ifndef TARGET_COMPRESS_H
#define TARGET_COMPRESS_H

#include <stddef.h>

typedef enum compress_coding {
    COMPRESS_NONE = 0,
    COMPRESS_GZIP,
    COMPRESS_DEFLATE,   /* zlib-wrapped, as RFC 9110 8.4.1.2 defines it */
    COMPRESS_BR,
    COMPRESS_ZSTD,
    COMPRESS__COUNT
} compress_coding_t;

/* The server's codings in order of preference. */
typedef struct compress_set {
    compress_coding_t v[COMPRESS__COUNT];
    size_t n;
} compress_set_t;

/* Parses "gzip,br,zstd,deflate" (order = preference), or "off"/"none" for no
 * compression. Returns 0, or -1 for an unknown or repeated name. */
int compress_parse(const char *list, compress_set_t *set);

/* The first coding of set that accept (an Accept-Encoding value, may be NULL)
 * allows: named with q > 0, or "*" with q > 0 and the coding not refused by
 * name. COMPRESS_NONE when there is none. */
compress_coding_t compress_pick(const compress_set_t *set, const char *accept);

/* The Content-Encoding token of c ("gzip", "deflate", "br", "zstd"). */
const char *compress_name(compress_coding_t c);

/* in[0..len) coded with c into a new malloc'd buffer *out of *out_len bytes.
 * Returns 0, or -1 (out of memory, encoder failure). */
int compress_encode(compress_coding_t c, const void *in, size_t len, char **out, size_t *out_len);

#endif

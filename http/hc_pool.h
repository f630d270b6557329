/* hc_pool: a per-thread cache of small blocks for the h2 client's short-lived
 * allocations. nghttp2 makes about eleven allocations per request (stream,
 * outbound item, header copies, HPACK buffers) and frees them when the stream
 * closes; a burst of ten streams frees more blocks of one size than glibc's
 * tcache keeps (seven), so most went through malloc's slow paths (issue 20:
 * malloc and free were 14 % of the h2c user time). Blocks up to 2 KiB are
 * kept on per-thread free lists by power-of-two size (at most HC_POOL_KEEP
 * each); bigger ones go to malloc. A block may be freed on another thread
 * than the one that allocated it. What a thread keeps is freed when it exits.
 * Under AddressSanitizer every call goes straight to malloc, so that
 * use-after-free stays detectable. */
#ifndef AIOTEST_HC_POOL_H
#define AIOTEST_HC_POOL_H

#include <stddef.h>

#include <nghttp2/nghttp2.h>

#define HC_POOL_KEEP 256

/* As malloc, calloc, realloc and free (NULL when out of memory; free(NULL)
 * does nothing); a block from these must be freed with hc_pool_free. */
void *hc_pool_alloc(size_t n);
void *hc_pool_calloc(size_t n, size_t size);
void *hc_pool_realloc(void *p, size_t n);
void hc_pool_free(void *p);

/* The same functions as an nghttp2 allocator (nghttp2_session_client_new3). */
nghttp2_mem *hc_pool_nghttp2_mem(void);

#endif

/* hc_pool: per-thread free lists of small blocks (see hc_pool.h). */
#include "hc_pool.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define HC_POOL_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HC_POOL_OFF 1
#endif
#endif

#ifdef HC_POOL_OFF

void *hc_pool_alloc(size_t n) { return malloc(n); }
void hc_pool_free(void *p) { free(p); }
void *hc_pool_realloc(void *p, size_t n) { return realloc(p, n); }

#else

/* Classes of 32, 64, ... 2048 bytes. */
#define N_CLASSES 7
#define MIN_SHIFT 5
#define BIG ((uint32_t)N_CLASSES) /* a block from malloc of its own size */

/* In front of every block: its class (16 bytes keep the block aligned as
 * malloc's). */
typedef struct head {
    struct {
        uint32_t cls;
        uint32_t size; /* asked for (realloc copies that much) */
    } h;
    uint64_t pad;
} head_t;
_Static_assert(sizeof(head_t) == 16, "blocks keep malloc's 16-byte alignment");

typedef struct free_block {
    struct free_block *next;
} free_block_t;

/* one thread's cache: one thread-local object, so one address computation */
typedef struct cache {
    free_block_t *lists[N_CLASSES];
    uint32_t kept[N_CLASSES];
    int armed;
} cache_t;
static __thread cache_t cache;
static pthread_key_t exit_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

/* At thread exit: what the thread keeps goes back to malloc. */
static void drop_all(void *unused)
{
    (void)unused;
    for (int c = 0; c < N_CLASSES; c++) {
        while (cache.lists[c]) {
            free_block_t *b = cache.lists[c];
            cache.lists[c] = b->next;
            free((head_t *)b - 1);
        }
        cache.kept[c] = 0;
    }
}

static void make_key(void) { pthread_key_create(&exit_key, drop_all); }

static void arm(void)
{
    pthread_once(&key_once, make_key);
    pthread_setspecific(exit_key, &cache);
    cache.armed = 1;
}

static inline uint32_t class_of(size_t n)
{
    if (n <= ((size_t)1 << MIN_SHIFT))
        return 0;
    if (n > ((size_t)1 << (MIN_SHIFT + N_CLASSES - 1)))
        return BIG;
    /* the smallest c with n <= 2^(MIN_SHIFT + c) */
    return (uint32_t)(64 - __builtin_clzll((unsigned long long)(n - 1))) - MIN_SHIFT;
}

static inline size_t class_size(uint32_t c) { return (size_t)1 << (MIN_SHIFT + c); }

void *hc_pool_alloc(size_t n)
{
    uint32_t c = class_of(n);
    cache_t *k = &cache;
    head_t *h;
    if (c != BIG && k->lists[c]) {
        free_block_t *b = k->lists[c];
        k->lists[c] = b->next;
        k->kept[c]--;
        h = (head_t *)b - 1;
    } else {
        if (n > UINT32_MAX - sizeof(head_t))
            return NULL;
        h = malloc(sizeof(head_t) + (c == BIG ? n : class_size(c)));
        if (!h)
            return NULL;
        h->h.cls = c;
    }
    h->h.size = (uint32_t)n;
    return h + 1;
}

void hc_pool_free(void *p)
{
    if (!p)
        return;
    head_t *h = (head_t *)p - 1;
    uint32_t c = h->h.cls;
    cache_t *k = &cache;
    if (c == BIG || k->kept[c] >= HC_POOL_KEEP) {
        free(h);
        return;
    }
    if (!k->armed)
        arm();
    free_block_t *b = p;
    b->next = k->lists[c];
    k->lists[c] = b;
    k->kept[c]++;
}

void *hc_pool_realloc(void *p, size_t n)
{
    if (!p)
        return hc_pool_alloc(n);
    head_t *h = (head_t *)p - 1;
    if (h->h.cls != BIG && n <= class_size(h->h.cls)) {
        h->h.size = (uint32_t)n;
        return p;
    }
    if (h->h.cls == BIG && class_of(n) == BIG) {
        if (n > UINT32_MAX - sizeof(head_t))
            return NULL;
        head_t *g = realloc(h, sizeof(head_t) + n);
        if (!g)
            return NULL;
        g->h.size = (uint32_t)n;
        return g + 1;
    }
    void *q = hc_pool_alloc(n);
    if (!q)
        return NULL;
    memcpy(q, p, h->h.size < n ? h->h.size : n);
    hc_pool_free(p);
    return q;
}

#endif

void *hc_pool_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = hc_pool_alloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

static void *ng_malloc(size_t n, void *ud)
{
    (void)ud;
    return hc_pool_alloc(n);
}

static void ng_free(void *p, void *ud)
{
    (void)ud;
    hc_pool_free(p);
}

static void *ng_calloc(size_t n, size_t size, void *ud)
{
    (void)ud;
    return hc_pool_calloc(n, size);
}

static void *ng_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    return hc_pool_realloc(p, n);
}

static nghttp2_mem ng_mem = {NULL, ng_malloc, ng_free, ng_calloc, ng_realloc};

nghttp2_mem *hc_pool_nghttp2_mem(void) { return &ng_mem; }

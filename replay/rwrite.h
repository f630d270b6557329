/* rwrite: Prometheus remote write 1.0 (--remote-write URL), the push
 * alternative to being scraped for short-lived generators. The main thread hands
 * over each published metrics page (once a second); a sender thread turns it into
 * a WriteRequest (protobuf, snappy block-compressed) and POSTs it, retrying
 * failures from a bounded queue; rwrite_stop flushes what is queued. */
#ifndef AIOTEST_RWRITE_H
#define AIOTEST_RWRITE_H

#include <stddef.h>
#include <stdint.h>

typedef struct rwrite rwrite_t;

typedef struct rwrite_stats {
    uint64_t sent;      /* batches accepted (2xx) */
    uint64_t samples;   /* samples in them */
    uint64_t rejected;  /* batches refused with a 4xx other than 429: not retried */
    uint64_t dropped;   /* batches lost: queue full (oldest first), or unsent at stop */
    uint64_t retries;   /* failed attempts that were retried */
    char last_error[600];
} rwrite_stats_t;

/* Starts the sender for url ("http://host[:port]/path"; https is refused in err).
 * labels: n pairs (name, value) added to every series (job, instance, run...),
 * copied. NULL with err on a bad URL or out of memory. */
rwrite_t *rwrite_start(const char *url, const char *const *labels, size_t n, char *err,
                       size_t errlen);

/* Queues page (the text exposition format as metrics.c renders it; ownership
 * passes to w) with the samples' timestamp ts_ms (Unix ms). Main thread. When
 * 120 batches wait, the oldest is dropped (counted). */
void rwrite_push(rwrite_t *w, char *page, size_t len, int64_t ts_ms);

/* Sends what is queued (retrying, at most timeout_us), stops the thread and frees
 * w; st (may be NULL) receives the counts. */
void rwrite_stop(rwrite_t *w, uint64_t timeout_us, rwrite_stats_t *st);

/* The WriteRequest for one page, snappy-compressed, in *out (malloc'd, the
 * caller frees); *samples the number of samples. Series labels: __name__, the
 * page's labels, then the extra labels (sorted by name; a page label wins over an
 * extra one of the same name). Returns 0, or -1 on a line it cannot read (err
 * names the line) or out of memory. */
int rwrite_encode(const char *page, size_t len, const char *const *labels, size_t n,
                  int64_t ts_ms, uint8_t **out, size_t *outlen, size_t *samples, char *err,
                  size_t errlen);

#endif

/* metrics: the Prometheus endpoint (libmicrohttpd, text exposition 0.0.4).
 * The page is rendered from a snapshot that the main thread publishes once a
 * second (metrics_publish copies it under a mutex); load threads never see the
 * server. Metric names and labels: docs/metrics.md. */
#ifndef AIOTEST_METRICS_H
#define AIOTEST_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"

typedef struct metrics metrics_t;
typedef struct rwrite rwrite_t;

/* --remote-write: every metrics_publish also hands the page (with the process
 * metrics) to w. w is not owned and must outlive the publishes. */
void metrics_set_remote(metrics_t *m, rwrite_t *w);

/* Starts serving GET /metrics on listen ("ADDR:PORT", or ":PORT" for 127.0.0.1);
 * listen NULL renders the page without serving it (for --remote-write alone).
 * names and class_names are copied. Returns NULL with err (bad address, port in
 * use: "cannot listen on 127.0.0.1 port 9646: Address already in use"; the caller
 * adds "--metrics ADDR: "). */
metrics_t *metrics_start(const char *listen, const stats_names_t *names,
                         const char *const *class_names, size_t n_classes,
                         char *err, size_t errlen);

/* The port actually bound (for ":0" in tests). */
unsigned short metrics_port(const metrics_t *m);

typedef struct metrics_state {
    const uint32_t *users_per_class; /* n_classes running users */
    uint32_t target_users;           /* users the shape wants now, this segment's share */
    int stage;                       /* 1-based current stage, 0 after the run */
    double target_rate;              /* open model: iterations/s wanted now (this
                                        segment's share), else 0 */
    double elapsed_s;
    const struct smet *script;       /* the Lua script's metrics (smetric.h), summed over
                                        threads at publish; NULL: none */
} metrics_state_t;

/* Copies the merged totals and the state into the served snapshot. Main thread only.
 * total is the merged stats of the whole run so far (counters are cumulative);
 * users_per_class has n_classes slots or is NULL. Before the first publish the
 * page has the gauges at 0 and no request series. The page has one series per entry of the names
 * given to metrics_start. */
void metrics_publish(metrics_t *m, const stats_t *total, const metrics_state_t *st);

/* --metrics-linger: marks the page published last as final and waits until a
 * scrape of it has been sent completely to a scraper (so the run's last
 * samples reach Prometheus), at most timeout_us. Returns true when one was, false
 * at the timeout. Main thread, after the last metrics_publish. */
bool metrics_linger(metrics_t *m, uint64_t timeout_us);

/* Stops the server (after --metrics-linger, decided by the caller) and frees. */
void metrics_stop(metrics_t *m);

#endif

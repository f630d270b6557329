/* stats: request statistics. One stats_t per worker thread, written only by
 * that thread (no locks on the hot path); merged into totals by the main
 * thread through stats_merge on snapshots that workers publish once a second.
 *
 * Entries: every (method, name) pair of the scenario gets an index in a
 * stats_names_t built once before threads start and read-only afterwards. */
#ifndef AIOTEST_STATS_H
#define AIOTEST_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "grpc.h"
#include "hist.h"

typedef enum stats_fail {
    STATS_OK = 0,
    STATS_FAIL_CONNECT,     /* refused, unreachable, DNS */
    STATS_FAIL_TIMEOUT,     /* connect or response timeout */
    STATS_FAIL_RESET,       /* connection reset or closed mid-response */
    STATS_FAIL_TLS,         /* handshake or certificate verification */
    STATS_FAIL_HTTP,        /* status >= 400 (or outside the check's set) */
    STATS_FAIL_CHECK,       /* body check failed */
    STATS_FAIL_EXTRACT,     /* an extractor without default found nothing */
    STATS_FAIL_PROTOCOL,    /* unparsable response */
    STATS_FAIL_H2_RST,      /* stream reset by the server */
    STATS_FAIL_H2_GOAWAY,   /* refused by GOAWAY and not retried */
    STATS_FAIL_H2_PROTOCOL, /* HTTP/2 protocol or session error */
    STATS_FAIL_UNFINISHED,  /* still in flight when the run ended (duration, stop
                               timeout, signal): never answered */
    STATS_FAIL_ORIGIN,      /* origin met at run time that the rules do not allow: not sent */
    STATS_FAIL_GRPC,        /* a gRPC response whose grpc-status is not 0 (OK), or absent */
    STATS_FAIL_SCRIPT,      /* a Lua hook failed it (returned false, or raised an error) */
    STATS_FAIL_WS_HANDSHAKE,/* WebSocket connect: refused, not 101, or a bad Sec-WebSocket-Accept */
    STATS_FAIL_WS_CLOSED,   /* WebSocket: the server closed (close frame or socket) mid-session */
    STATS_FAIL_WS_TIMEOUT,  /* WebSocket: the awaited server message did not come in --timeout */
    STATS_FAIL_WS_PROTOCOL, /* WebSocket: a server frame that breaks RFC 6455 (common/wsframe refuses it) */
    STATS_FAIL__COUNT
} stats_fail_t;

typedef enum stats_proto { STATS_PROTO_H1 = 0, STATS_PROTO_H2 = 1, STATS_PROTO__COUNT } stats_proto_t;

/* Stable short names used in reports, CSV and metric labels:
 * "ok", "connect", "timeout", "reset", "tls", "http", "check", "extract",
 * "protocol", "h2_rst", "h2_goaway", "h2_protocol", "unfinished", "origin", "grpc",
 * "script", "ws_handshake", "ws_closed", "ws_timeout", "ws_protocol"; "http/1.1", "h2". */
const char *stats_fail_name(stats_fail_t f);
const char *stats_proto_name(stats_proto_t p);
/* Inverse of stats_fail_name; -1 when unknown. */
int stats_fail_from_name(const char *s);
/* Inverse of stats_proto_name; -1 when unknown. */
int stats_proto_from_name(const char *s);

/* ---- names: the (method, name) table. */
typedef struct stats_names stats_names_t;
stats_names_t *stats_names_new(void);
void stats_names_free(stats_names_t *n);
/* Index of (method, name), added if new; -1 when out of memory (nothing
 * added). Not thread-safe: before threads start. */
int stats_names_intern(stats_names_t *n, const char *method, const char *name);
size_t stats_names_count(const stats_names_t *n);
const char *stats_names_method(const stats_names_t *n, uint32_t i);
const char *stats_names_name(const stats_names_t *n, uint32_t i);

/* The name as tables show it beside its method: without a leading "METHOD "
 * (scenario names often repeat it: "GET /api/search"). Points into name. */
const char *stats_display_name(const char *method, const char *name);

/* Response diff (--diff): what differed between a replayed response and the
 * recorded one. A response may differ in several ways; each counts. */
typedef enum stats_diff {
    STATS_DIFF_STATUS = 0,  /* status code */
    STATS_DIFF_TYPE,        /* media type of Content-Type */
    STATS_DIFF_SHAPE,       /* JSON: the set of key paths and value types */
    STATS_DIFF_VALUES,      /* JSON values (--diff-values) */
    STATS_DIFF_LENGTH,      /* other bodies: length beyond the tolerance */
    STATS_DIFF__COUNT
} stats_diff_t;
/* "status", "type", "shape", "values", "length". */
const char *stats_diff_name(stats_diff_t d);
#define STATS_DIFF_EXAMPLES 5

/* ---- per-entry figures, read through accessors. */
typedef struct stats_entry {
    uint64_t count;                        /* requests ended (ok + failed) */
    uint64_t failures;                     /* sum of fail[] */
    uint64_t fail[STATS_FAIL__COUNT];      /* by category; fail[STATS_OK] unused */
    uint64_t by_proto[STATS_PROTO__COUNT]; /* requests per protocol */
    uint64_t bytes_sent, bytes_received;
    hist_t *latency;                       /* all requests, ok and failed, µs */
    uint64_t grpc[GRPC_STATUS__COUNT];     /* gRPC responses by grpc-status (grpc.h) */
    uint64_t diff_compared;                /* --diff: responses compared with the recording */
    uint64_t diff_mismatched;              /* of those, differing in any way */
    uint64_t diff[STATS_DIFF__COUNT];      /* by what differed */
} stats_entry_t;

/* Status codes are counted per entry for the metrics' status label. */
#define STATS_STATUS_MAX 600

typedef struct stats stats_t;

/* A stats_t with one entry per name of names (names may grow before the run
 * only). NULL on out of memory. */
stats_t *stats_new(const stats_names_t *names);
void stats_free(stats_t *s);
void stats_reset(stats_t *s);

/* Hot path: one request ended. status 0 when there was no response. latency_us
 * from the (scheduled) start to the end of the response. */
void stats_record(stats_t *s, uint32_t entry, stats_proto_t proto, int status,
                  stats_fail_t fail, uint64_t latency_us, uint64_t bytes_sent,
                  uint64_t bytes_received);
/* Response bodies that checks and extractors could not see whole: cut at
 * --max-body (received or decoded; dropped_bytes received past the limit) or
 * left coded (a Content-Encoding that could not be undone). */
/* A gRPC response of entry with grpc-status code (0..16, GRPC_STATUS_MISSING
 * or _BAD), besides its stats_record (which counts a failure as STATS_FAIL_GRPC). */
void stats_grpc(stats_t *s, uint32_t entry, int code);
void stats_body(stats_t *s, bool cut, bool undecoded, uint64_t dropped_bytes);
uint64_t stats_bodies_cut(const stats_t *s);
uint64_t stats_bodies_undecoded(const stats_t *s);
uint64_t stats_body_bytes_dropped(const stats_t *s);
/* HTTP/1.1 pipelining (--pipeline): one attempt of a request ended that was
 * sent behind another on its connection (pipelined), and whether it is being
 * resent because that pipeline broke before its response began (resent). */
void stats_pipeline(stats_t *s, bool pipelined, bool resent);
/* The run's --pipeline depth (1: off), kept for the summary and the report:
 * the largest of merged ones counts. */
void stats_pipeline_depth(stats_t *s, uint32_t depth);
uint64_t stats_pipelined(const stats_t *s);
/* HTTP/1.1: bytes came from a server that no request waited for (after the
 * last response in flight, or on an idle connection); the client dropped
 * them and closed that connection. One call per such read. */
void stats_unsolicited(stats_t *s, uint64_t bytes);
uint64_t stats_unsolicited_events(const stats_t *s);
uint64_t stats_unsolicited_bytes(const stats_t *s);
uint64_t stats_pipeline_resent(const stats_t *s);
/* The reason of a failure that has one (category script: what the Lua hook
 * said). Counted per (entry, reason), up to STATS_REASONS_MAX pairs per stats_t
 * (text cut at STATS_REASON_LEN - 1 bytes); further pairs are counted in
 * stats_reasons_other. Call beside the stats_record of that failure. */
#define STATS_REASONS_MAX 32
#define STATS_REASON_LEN 120
void stats_reason(stats_t *s, uint32_t entry, const char *text);
size_t stats_reasons(const stats_t *s);
/* Pair i: its entry, text and count. NULL when i is out of range. */
const char *stats_reason_at(const stats_t *s, size_t i, uint32_t *entry, uint64_t *n);
uint64_t stats_reasons_other(const stats_t *s);
/* --diff: one response compared; kinds is a mask of 1 << stats_diff_t (0: the
 * same). example (may be NULL) describes the first difference ("request ...:
 * recorded ... replayed ..."); the first STATS_DIFF_EXAMPLES are kept, merged
 * in arrival order, and go to the report's "diff". */
void stats_diff(stats_t *s, uint32_t entry, unsigned kinds, const char *example);
/* Timed replay: one step started lag_us behind its schedule (0: on time). A step
 * more than STATS_LATE_US late counts as late; more than 1% late ones mean the
 * run did not keep the schedule (the summary and the report's "schedule" say so). */
#define STATS_LATE_US 10000u
void stats_lag(stats_t *s, uint64_t lag_us);
const hist_t *stats_lag_hist(const stats_t *s);
uint64_t stats_late(const stats_t *s);
/* The schedule lines of the summary (nothing when no step was timed). */
void stats_print_lag(FILE *out, const stats_t *s);
/* Iterations (one pass of a class's tasks) started/completed. */
void stats_iteration(stats_t *s, bool completed);

/* dst += src, entry by entry (same names table). */
void stats_merge(stats_t *dst, const stats_t *src);

size_t stats_entries(const stats_t *s);
const stats_entry_t *stats_entry(const stats_t *s, uint32_t i);
/* Totals over all entries (the "Aggregated" row); latency merged. */
const stats_entry_t *stats_total(stats_t *s);
/* Count of responses with status code (0..STATS_STATUS_MAX-1) for entry i. */
uint64_t stats_status_count(const stats_t *s, uint32_t i, int status);
/* The same for one protocol. */
uint64_t stats_status_count_proto(const stats_t *s, uint32_t i, stats_proto_t proto, int status);
/* Requests of entry i over proto that ended without a response (status 0 in
 * stats_record), by failure category. */
uint64_t stats_noresp_count(const stats_t *s, uint32_t i, stats_proto_t proto, stats_fail_t fail);
uint64_t stats_iterations_started(const stats_t *s);
uint64_t stats_iterations_completed(const stats_t *s);

/* ---- history: one row a second, appended by the main thread. */
typedef struct stats_second {
    double t;                /* seconds since the run started */
    uint32_t users;          /* running users at that second */
    uint32_t target_users;
    double rps, fails_per_s;
    uint64_t p50_us, p95_us, p99_us;
    double iterations_per_s;
    double target_rate;      /* open stages: iterations/s the shape asked for */
    /* The second's latency histogram (all requests) in hist_text form, with its
     * bounds: what --merge adds up. p50/p95/p99 above are read from it, so merged
     * seconds have the percentiles one process would have computed. Owned by the
     * history; NULL when not known (a report older than it, out of memory). */
    char *lat_text;
    uint64_t lat_min_us, lat_max_us;
} stats_second_t;

typedef struct stats_history stats_history_t;
stats_history_t *stats_history_new(void);
void stats_history_free(stats_history_t *h);
/* Appends a row computed from interval (the stats of that second only). */
void stats_history_add(stats_history_t *h, double t, uint32_t users, uint32_t target_users,
                       double interval_s, stats_t *interval);
/* Sets the target arrival rate of the last row (no row: nothing). */
void stats_history_set_rate(stats_history_t *h, double target_rate);
size_t stats_history_len(const stats_history_t *h);
/* The history of runs that ran side by side (--segment copies) as one run's:
 * in[i] started offset_s[i] >= 0 seconds after the earliest. Rows are aligned on
 * the whole second since the earliest start (rounded, so a skew below half a
 * second keeps them in step; more shifts a segment by a second); a second sums
 * the inputs' users, targets and rates (an input's last, partial row joins its
 * second weighted by its length); p50/p95/p99 come from the sum of the inputs'
 * histograms of that second (lat_text), as one process would have computed them;
 * only when an input lacks them (an older report) the highest of the inputs'. t is
 * seconds since the earliest start. NULL on out of memory or a span over 31 days. */
stats_history_t *stats_history_merge(const stats_history_t *const *in, const double *offset_s,
                                     size_t n);
const stats_second_t *stats_history_at(const stats_history_t *h, size_t i);

/* ---- output. */
/* Locust-like table: Type, Name, # reqs, # fails, RPS, min/avg/p50/p90/p95/p99/p99.9/max
 * (ms), one row per entry and an "Aggregated" total row; a line on response
 * bodies cut or left coded when there were any. */
void stats_print_summary(FILE *out, stats_t *s, const stats_names_t *names, double duration_s);

/* The run report (docs/report-format.md): {"format": "aiotest-report", "version": 1,
 * "started": ISO8601, "duration_s", "entries": [{method, name, count, failures,
 * fail: {category: n}, protocols: {...}, statuses: {"200": n}, bytes_sent,
 * bytes_received, latency: hist_to_json, min/avg/p50/../max in ms}], "total": {...},
 * "iterations": {...}, "bodies": {"cut", "undecoded", "dropped_bytes"}, "unsolicited": {"events",
 * "bytes"}, "history": [...]}; meta (may be NULL) is merged in at the top
 * level (command line, scenario, shape...). New reference. */
json_t *stats_report_json(stats_t *s, const stats_names_t *names, const stats_history_t *h,
                          double duration_s, int64_t started_wall_us, json_t *meta);
/* Reads a report back (for --merge and --baseline): fills names, stats, history.
 * Returns 0, or -1 with a message in err naming the field. */
int stats_report_load(const json_t *report, stats_names_t **names, stats_t **stats,
                      stats_history_t **history, double *duration_s, char *err, size_t errlen);
/* Writes a report to path (indented, reals with 10 significant digits, so
 * 0.8 ms stays "0.8"). Returns 0 or -1 with err naming the path. */
int stats_report_write(const json_t *report, const char *path, char *err, size_t errlen);
/* Reads a JSON file (a report, for --merge and --baseline). NULL with err
 * "PATH:LINE:COLUMN: what" on failure. New reference. */
json_t *stats_report_read(const char *path, char *err, size_t errlen);

#endif

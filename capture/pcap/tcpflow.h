/* tcpflow: TCP reassembly per connection, both directions. Each side's bytes
 * are handed on in sequence order exactly once, and only bytes the capture
 * saw: segments that arrive out of order wait (bounded), retransmissions and
 * overlaps are dropped, and a hole that can no longer be filled is reported
 * as a gap of n bytes. Connections whose handshake is not in the capture
 * start at their first data segment.
 *
 * Bytes are handed on once the peer has acknowledged them (what a receiver
 * acknowledged is what it took), or at once when the capture holds no ACK of
 * the peer; past the per-flow or total limit the oldest go on unacknowledged.
 * Until then a retransmission is compared with the first copy: when bytes
 * differ, the first seen are kept (most IDSes' policy), the segment is
 * counted as a conflict and the data holding them is announced (conflict op).
 *
 * Holes are given up when the receiver has acknowledged bytes in them (the
 * capture missed them; they will never come), when the bytes waiting behind a
 * hole exceed the per-flow or total limit, and when the connection ends. */
#ifndef CAPTURE_PCAP_TCPFLOW_H
#define CAPTURE_PCAP_TCPFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ip.h"

typedef struct tcpflow_table tcpflow_table_t;

/* The two ends of a connection. Side 0 sent the SYN when the handshake was
 * seen (syn is true), else it sent the first segment seen. */
typedef struct tcpflow_ends {
    uint8_t family;
    uint8_t addr[2][16];
    uint16_t port[2];
    bool syn;
} tcpflow_ends_t;

/* What the caller does with a connection; flow is what open returned. */
typedef struct tcpflow_ops {
    /* A new connection (SYN or data). Returns the caller's state, or NULL to
     * ignore the connection's bytes. */
    void *(*open)(void *ctx, const tcpflow_ends_t *ends);
    /* n bytes of side's stream, in order; ts_us is the time of their packet. */
    void (*data)(void *flow, int side, const uint8_t *p, size_t n, int64_t ts_us);
    /* n bytes of side's stream are missing from the capture. */
    void (*gap)(void *flow, int side, uint64_t n, int64_t ts_us);
    /* side sent FIN after all its bytes. */
    void (*fin)(void *flow, int side, int64_t ts_us);
    /* The connection is over (both FINs, RST, idle, end of capture); the
     * caller frees flow. */
    void (*close)(void *flow, int64_t ts_us);
    /* The next data of side holds bytes that the capture saw twice with
     * different content (the first seen are handed on). May be NULL. */
    void (*conflict)(void *flow, int side, int64_t ts_us);
    /* side sent RST (close follows). May be NULL. */
    void (*reset)(void *flow, int side, int64_t ts_us);
} tcpflow_ops_t;

typedef struct tcpflow_stats {
    uint64_t flows;        /* connections opened */
    uint64_t retrans;      /* segments whose bytes were all seen before */
    uint64_t conflicts;    /* segments that overlap bytes seen before with other bytes */
    uint64_t gaps;         /* holes given up */
    uint64_t gap_bytes;
    uint64_t over_limit;   /* holes given up because of the memory limits */
    uint64_t after_close;  /* segments of connections already closed */
    uint64_t active;       /* connections open now */
} tcpflow_stats_t;

/* max_flow: bytes that may wait behind holes per direction; max_total: in
 * all connections together. NULL when out of memory. */
tcpflow_table_t *tcpflow_new(const tcpflow_ops_t *ops, void *ctx, size_t max_flow, size_t max_total);
/* Ends every connection (holes reported as gaps, close called). */
void tcpflow_end_all(tcpflow_table_t *t, int64_t ts_us);
/* Ends every connection still open and frees the table. */
void tcpflow_free(tcpflow_table_t *t, int64_t ts_us);

/* One captured segment at time ts_us. */
void tcpflow_segment(tcpflow_table_t *t, const ip_tcpseg_t *seg, int64_t ts_us);
/* Ends connections silent for a long time before now_us (live capture). */
void tcpflow_expire(tcpflow_table_t *t, int64_t now_us);
void tcpflow_get_stats(const tcpflow_table_t *t, tcpflow_stats_t *st);

#endif

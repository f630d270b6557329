#include "tcpflow.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define BUCKETS 16384
/* A connection silent this long is ended; a closed one is remembered this
 * long so its late retransmissions and final ACKs do not open a new one. */
#define IDLE_US (600 * 1000000LL)
#define CLOSED_US (60 * 1000000LL)

typedef struct seg {
    struct seg *next;
    uint64_t off;      /* stream offset of data[head] */
    size_t len;        /* bytes from data[head] on */
    size_t head;       /* bytes already handed on (a partial ACK) */
    int64_t ts_us;
    bool conflict;     /* some of its bytes were seen again with other content */
    uint8_t data[];
} seg_t;

/* One direction: offsets count from the first byte after the SYN (or from
 * the first byte seen when there was no SYN). */
typedef struct side {
    bool synced;       /* isn is known */
    bool fin;          /* FIN seen at fin_off */
    bool done;         /* FIN handed on */
    bool acked_seen;   /* the peer has acknowledged some of these bytes */
    uint32_t isn;      /* sequence number of offset 0 */
    uint64_t next;     /* next offset to hand on */
    uint64_t fin_off;
    uint64_t acked;    /* the peer has every byte before this offset */
    seg_t *held;       /* seen, not handed on: sorted by offset, never overlapping */
    size_t held_bytes;
} side_t;

typedef struct flow {
    struct flow *hnext;          /* hash chain */
    struct flow *lprev, *lnext;  /* least recently used first */
    tcpflow_ends_t ends;
    side_t s[2];
    void *app;
    bool closed;
    int64_t last_us;
} flow_t;

struct tcpflow_table {
    const tcpflow_ops_t *ops;
    void *ctx;
    size_t max_flow, max_total, total;
    flow_t *bucket[BUCKETS];
    flow_t *lru_head, *lru_tail;
    tcpflow_stats_t st;
};

tcpflow_table_t *tcpflow_new(const tcpflow_ops_t *ops, void *ctx, size_t max_flow, size_t max_total)
{
    tcpflow_table_t *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->ops = ops;
    t->ctx = ctx;
    t->max_flow = max_flow;
    t->max_total = max_total;
    return t;
}

void tcpflow_get_stats(const tcpflow_table_t *t, tcpflow_stats_t *st) { *st = t->st; }

/* ---- the table: a hash of both orientations of the 4-tuple, and an LRU list */

static uint32_t hash_end(uint32_t h, const uint8_t *addr, uint16_t port)
{
    for (int i = 0; i < 16; i++)
        h = (h ^ addr[i]) * 16777619u;
    return ((h ^ port) * 16777619u);
}

/* The same for both directions: the two ends are combined symmetrically. */
static size_t hash_of(uint8_t fam, const uint8_t *a, uint16_t pa, const uint8_t *b, uint16_t pb)
{
    return (hash_end(2166136261u, a, pa) + hash_end(2166136261u, b, pb) + fam) % BUCKETS;
}

/* Which side of f sent seg, or -1 when seg is not of f. */
static int side_of(const flow_t *f, const ip_tcpseg_t *seg)
{
    const tcpflow_ends_t *e = &f->ends;
    if (e->family != seg->family)
        return -1;
    for (int d = 0; d < 2; d++)
        if (e->port[d] == seg->sport && e->port[!d] == seg->dport &&
            memcmp(e->addr[d], seg->src, 16) == 0 && memcmp(e->addr[!d], seg->dst, 16) == 0)
            return d;
    return -1;
}

static void lru_unlink(tcpflow_table_t *t, flow_t *f)
{
    if (f->lprev) f->lprev->lnext = f->lnext; else t->lru_head = f->lnext;
    if (f->lnext) f->lnext->lprev = f->lprev; else t->lru_tail = f->lprev;
    f->lprev = f->lnext = NULL;
}

static void lru_append(tcpflow_table_t *t, flow_t *f)
{
    f->lprev = t->lru_tail;
    f->lnext = NULL;
    if (t->lru_tail) t->lru_tail->lnext = f; else t->lru_head = f;
    t->lru_tail = f;
}

static void free_held(tcpflow_table_t *t, side_t *s)
{
    while (s->held) {
        seg_t *g = s->held;
        s->held = g->next;
        t->total -= g->len;
        free(g);
    }
    s->held_bytes = 0;
}

static void unhash_and_free(tcpflow_table_t *t, flow_t *f)
{
    const tcpflow_ends_t *e = &f->ends;
    flow_t **pp = &t->bucket[hash_of(e->family, e->addr[0], e->port[0], e->addr[1], e->port[1])];
    while (*pp != f)
        pp = &(*pp)->hnext;
    *pp = f->hnext;
    lru_unlink(t, f);
    free_held(t, &f->s[0]);
    free_held(t, &f->s[1]);
    free(f);
}

/* ---- one direction's stream */

/* Stream offset of sequence number seq, near the current position. */
static int64_t offset_of(const side_t *s, uint32_t seq)
{
    return (int64_t)s->next + (int32_t)(seq - (uint32_t)(s->isn + s->next));
}

static void hand_on(tcpflow_table_t *t, flow_t *f, int d, const uint8_t *p, size_t n, int64_t ts)
{
    f->s[d].next += n;
    if (f->app && n > 0)
        t->ops->data(f->app, d, p, n, ts);
}

static void check_fin(tcpflow_table_t *t, flow_t *f, int d, int64_t ts)
{
    side_t *s = &f->s[d];
    if (s->fin && !s->done && s->next >= s->fin_off) {
        s->done = true;
        if (f->app)
            t->ops->fin(f->app, d, ts);
    }
}

/* Hands on the first held segment, or its first n bytes. */
static void hand_on_first(tcpflow_table_t *t, flow_t *f, int d, size_t n)
{
    side_t *s = &f->s[d];
    seg_t *g = s->held;
    if (g->conflict && f->app && t->ops->conflict)
        t->ops->conflict(f->app, d, g->ts_us);
    hand_on(t, f, d, g->data + g->head, n, g->ts_us);
    s->held_bytes -= n;
    t->total -= n;
    if (n < g->len) {
        g->head += n;
        g->off += n;
        g->len -= n;
        return;
    }
    s->held = g->next;
    free(g);
}

/* Marks n bytes missing before the first held segment (or up to end when
 * nothing is held, or a nearer one). */
static void gap_to(tcpflow_table_t *t, flow_t *f, int d, uint64_t end, int64_t ts)
{
    side_t *s = &f->s[d];
    if (s->held && s->held->off < end)
        end = s->held->off;
    if (end <= s->next)
        return;
    t->st.gaps++;
    t->st.gap_bytes += end - s->next;
    if (f->app)
        t->ops->gap(f->app, d, end - s->next, ts);
    s->next = end;
}

/* Hands on what may go: held bytes that follow the stream without a hole and
 * that the peer has acknowledged (all of them when the peer acknowledges
 * nothing, as in a one-sided capture). Waiting for the ACK is what lets a
 * retransmission with other bytes be compared with the first copy before
 * either is handed on; the receiver keeps what it acknowledged. A hole the
 * peer acknowledged was delivered but not captured: it is given up. */
static void release(tcpflow_table_t *t, flow_t *f, int d, int64_t ts)
{
    side_t *s = &f->s[d];
    uint64_t limit = s->acked_seen ? s->acked : UINT64_MAX;
    if (s->fin && limit > s->fin_off)
        limit = s->fin_off; /* the FIN's own sequence number is no byte */
    while (s->next < limit) {
        seg_t *g = s->held;
        if (g != NULL && g->off <= s->next) {
            uint64_t end = g->off + g->len < limit ? g->off + g->len : limit;
            hand_on_first(t, f, d, (size_t)(end - g->off));
        } else if (s->acked_seen) {
            gap_to(t, f, d, limit, ts);
        } else {
            break;
        }
    }
    check_fin(t, f, d, ts);
}

/* Over the memory limits, or at the end: hands on the oldest held bytes
 * whether acknowledged or not, and gives up the hole before them if there is
 * one (counted as over the limit when it is that). */
static void force_release(tcpflow_table_t *t, flow_t *f, int d, int64_t ts, bool over_limit)
{
    side_t *s = &f->s[d];
    if (s->held->off > s->next) {
        if (over_limit)
            t->st.over_limit++;
        gap_to(t, f, d, UINT64_MAX, ts);
    }
    hand_on_first(t, f, d, s->held->len);
    check_fin(t, f, d, ts);
}

static seg_t *seg_new(uint64_t off, const uint8_t *p, size_t n, int64_t ts)
{
    seg_t *g = malloc(sizeof *g + n);
    if (g == NULL)
        return NULL;
    g->next = NULL;
    g->off = off;
    g->len = n;
    g->head = 0;
    g->ts_us = ts;
    g->conflict = false;
    memcpy(g->data, p, n);
    return g;
}

/* Keeps the bytes of [off, off + n) that are not held yet; bytes that are
 * held are compared (first seen wins). Returns the bytes added, or -1 when
 * a copy could not be made (lost like a dropped packet: the hole is given up
 * later). *conflict is set when held bytes differ. */
static ssize_t hold(tcpflow_table_t *t, side_t *s, uint64_t off, const uint8_t *p, size_t n,
                    int64_t ts, bool *conflict)
{
    uint64_t cur = off, end = off + n;
    size_t added = 0;
    seg_t **pp = &s->held;
    while (cur < end) {
        while (*pp && (*pp)->off + (*pp)->len <= cur)
            pp = &(*pp)->next;
        seg_t *g = *pp;
        if (g != NULL && g->off <= cur) { /* cur is held: compare the overlap */
            uint64_t stop = g->off + g->len < end ? g->off + g->len : end;
            if (memcmp(g->data + g->head + (cur - g->off), p + (cur - off), (size_t)(stop - cur)) != 0) {
                g->conflict = true;
                *conflict = true;
            }
            cur = stop;
            continue;
        }
        uint64_t stop = g != NULL && g->off < end ? g->off : end;
        seg_t *piece = seg_new(cur, p + (cur - off), (size_t)(stop - cur), ts);
        if (piece == NULL)
            return -1;
        piece->next = g;
        *pp = piece;
        pp = &piece->next;
        added += piece->len;
        cur = stop;
    }
    s->held_bytes += added;
    t->total += added;
    return (ssize_t)added;
}

static void stream_bytes(tcpflow_table_t *t, flow_t *f, int d, int64_t off,
                         const uint8_t *p, size_t n, int64_t ts)
{
    side_t *s = &f->s[d];
    if (off + (int64_t)n <= (int64_t)s->next) {
        t->st.retrans++;
        return;
    }
    if (off < (int64_t)s->next) { /* overlaps what was handed on: keep the new part */
        size_t skip = (size_t)((int64_t)s->next - off);
        p += skip;
        n -= skip;
        off = (int64_t)s->next;
    }
    bool conflict = false;
    ssize_t added = hold(t, s, (uint64_t)off, p, n, ts, &conflict);
    if (added == 0)
        t->st.retrans++;
    if (conflict)
        t->st.conflicts++;
    release(t, f, d, ts);
    while (s->held && (s->held_bytes > t->max_flow || t->total > t->max_total))
        force_release(t, f, d, ts, true);
}

/* The peer acknowledged every byte of side d before sequence number ack. */
static void acked(tcpflow_table_t *t, flow_t *f, int d, uint32_t ack, int64_t ts)
{
    side_t *s = &f->s[d];
    int64_t a = offset_of(s, ack);
    /* an ACK far behind or ahead of the stream is not about these bytes */
    if (a < 0 || a > (int64_t)s->next + (1LL << 30))
        return;
    if (!s->acked_seen || (uint64_t)a > s->acked) {
        s->acked_seen = true;
        s->acked = (uint64_t)a;
    }
    release(t, f, d, ts);
}

/* ---- connections */

static void end_flow(tcpflow_table_t *t, flow_t *f, int64_t ts)
{
    for (int d = 0; d < 2; d++) {
        side_t *s = &f->s[d];
        while (s->held)
            force_release(t, f, d, ts, false);
        if (s->fin && !s->done) {
            gap_to(t, f, d, s->fin_off, ts);
            check_fin(t, f, d, ts);
        }
        free_held(t, s);
    }
    if (f->app)
        t->ops->close(f->app, ts);
    f->app = NULL;
    f->closed = true;
    t->st.active--;
}

static flow_t *find(tcpflow_table_t *t, const ip_tcpseg_t *seg, int *side)
{
    size_t h = hash_of(seg->family, seg->src, seg->sport, seg->dst, seg->dport);
    for (flow_t *f = t->bucket[h]; f; f = f->hnext)
        if ((*side = side_of(f, seg)) >= 0)
            return f;
    return NULL;
}

/* A fresh connection state in f (new, or a closed one whose ports are reused). */
static void open_flow(tcpflow_table_t *t, flow_t *f, const ip_tcpseg_t *seg, int *side)
{
    /* side 0 is the client: the SYN's sender, the SYN-ACK's receiver */
    bool synack = (seg->flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK);
    int me = synack ? 1 : 0;
    memset(f->s, 0, sizeof f->s);
    f->closed = false;
    f->ends.family = seg->family;
    memcpy(f->ends.addr[me], seg->src, 16);
    memcpy(f->ends.addr[!me], seg->dst, 16);
    f->ends.port[me] = seg->sport;
    f->ends.port[!me] = seg->dport;
    f->ends.syn = (seg->flags & TCP_SYN) != 0;
    *side = me;
    t->st.flows++;
    t->st.active++;
    f->app = t->ops->open(t->ctx, &f->ends);
}

static flow_t *lookup_or_open(tcpflow_table_t *t, const ip_tcpseg_t *seg, int *side, int64_t ts)
{
    flow_t *f = find(t, seg, side);
    bool syn_only = (seg->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
    if (f != NULL && f->closed && syn_only) {
        open_flow(t, f, seg, side);
    } else if (f != NULL && !f->closed && syn_only && f->s[*side].synced &&
               f->s[*side].isn != seg->seq + 1) {
        /* a new connection on the same ports: the old one is over */
        end_flow(t, f, ts);
        open_flow(t, f, seg, side);
    }
    if (f != NULL)
        return f;
    if (!(seg->flags & TCP_SYN) && seg->len == 0)
        return NULL; /* a bare ACK, FIN or RST opens nothing */
    f = calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    size_t h = hash_of(seg->family, seg->src, seg->sport, seg->dst, seg->dport);
    f->hnext = t->bucket[h];
    t->bucket[h] = f;
    lru_append(t, f);
    open_flow(t, f, seg, side);
    return f;
}

void tcpflow_segment(tcpflow_table_t *t, const ip_tcpseg_t *seg, int64_t ts)
{
    int d;
    flow_t *f = lookup_or_open(t, seg, &d, ts);
    if (f == NULL)
        return;
    f->last_us = ts;
    lru_unlink(t, f);
    lru_append(t, f);
    if (f->closed) {
        t->st.after_close++;
        return;
    }
    side_t *s = &f->s[d], *o = &f->s[!d];
    /* what this segment acknowledges came before it: the peer's bytes go on first */
    if ((seg->flags & TCP_ACK) && o->synced)
        acked(t, f, !d, seg->ack, ts);
    uint32_t seq = seg->seq;
    if (seg->flags & TCP_SYN) {
        seq++; /* the SYN takes a sequence number; data on a SYN follows it */
        if (!s->synced) {
            s->synced = true;
            s->isn = seq;
        }
    } else if (!s->synced && (seg->len > 0 || (seg->flags & TCP_FIN))) {
        s->synced = true; /* no handshake in the capture: start here */
        s->isn = seq;
    }
    if (s->synced && (seg->flags & TCP_FIN) && !s->fin) {
        int64_t end = offset_of(s, seq) + (int64_t)seg->len;
        s->fin = true;
        s->fin_off = end > 0 ? (uint64_t)end : 0;
    }
    if (s->synced && seg->len > 0)
        stream_bytes(t, f, d, offset_of(s, seq), seg->payload, seg->len, ts);
    else if (s->synced)
        release(t, f, d, ts);
    if ((seg->flags & TCP_RST) && f->app && t->ops->reset)
        t->ops->reset(f->app, d, ts);
    if ((seg->flags & TCP_RST) || (s->done && o->done))
        end_flow(t, f, ts);
}

void tcpflow_expire(tcpflow_table_t *t, int64_t now)
{
    flow_t *f = t->lru_head;
    while (f && f->last_us < now - CLOSED_US) {
        flow_t *next = f->lnext;
        if (!f->closed && f->last_us < now - IDLE_US)
            end_flow(t, f, now);
        if (f->closed)
            unhash_and_free(t, f);
        f = next;
    }
}

void tcpflow_end_all(tcpflow_table_t *t, int64_t ts)
{
    while (t->lru_head) {
        flow_t *f = t->lru_head;
        if (!f->closed)
            end_flow(t, f, ts);
        unhash_and_free(t, f);
    }
}

void tcpflow_free(tcpflow_table_t *t, int64_t ts)
{
    if (t == NULL)
        return;
    tcpflow_end_all(t, ts);
    free(t);
}

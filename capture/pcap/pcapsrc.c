#include "pcapsrc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>
#include <pcap/pcap.h>

#include "appflow.h"
#include "ip.h"
#include "keylog.h"
#include "link.h"
#include "log.h"
#include "pcapng.h"
#include "tcpflow.h"

#define SNAPLEN 262144
#define READ_TIMEOUT_MS 100
#define EXPIRE_EVERY_US (10 * 1000000LL)
/* bytes of records held before a write (rec_writer_set_batch) */
#define RECORD_BATCH (256u * 1024)

#define MAX_NAMED 32

/* What the frames that were not TCP carried, by name (static strings). */
typedef struct named {
    const char *what;
    uint64_t n;
} named_t;

typedef struct counts {
    uint64_t packets, not_ip, not_tcp, fragments, malformed, snapped;
    uint64_t bad_time;  /* packets whose time does not fit in µs (clamped) */
    named_t named[MAX_NAMED];
} counts_t;

static void count_named(counts_t *c, const char *what)
{
    if (what == NULL)
        what = "unknown";
    for (size_t i = 0; i < MAX_NAMED; i++) {
        if (c->named[i].what == NULL || c->named[i].what == what || strcmp(c->named[i].what, what) == 0) {
            c->named[i].what = what;
            c->named[i].n++;
            return;
        }
    }
}

static volatile sig_atomic_t stop_signal;
static pcap_t *live_handle;

/* libpcap on Linux waits in poll() without a timeout (the kernel's block
 * timer only fires once packets came) and retries on EINTR: only
 * pcap_breakloop, which is safe in a signal handler, wakes it. */
static void on_signal(int sig)
{
    stop_signal = sig;
    pcap_breakloop(live_handle);
}

/* SIGINT, SIGTERM, and SIGALRM for --duration, all stop the capture. */
static void catch_signals(pcap_t *p, uint64_t duration_us)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    live_handle = p;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    if (duration_us > 0) {
        struct itimerval it = { .it_value = { .tv_sec = (time_t)(duration_us / 1000000),
                                              .tv_usec = (suseconds_t)(duration_us % 1000000) } };
        setitimer(ITIMER_REAL, &it, NULL);
    }
}

static pcap_t *open_live(const pcapsrc_opts_t *o, char *errbuf)
{
    pcap_t *p = pcap_create(o->iface, errbuf);
    if (p == NULL)
        return NULL;
    pcap_set_snaplen(p, SNAPLEN);
    pcap_set_timeout(p, READ_TIMEOUT_MS);
    /* loopback and busy links drop packets with libpcap's default 2 MiB */
    pcap_set_buffer_size(p, (int)o->buffer_size);
    int rc = pcap_activate(p);
    if (rc < 0) {
        snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s", pcap_geterr(p));
        if (rc == PCAP_ERROR_PERM_DENIED)
            snprintf(errbuf, PCAP_ERRBUF_SIZE, "permission denied (live capture needs root or CAP_NET_RAW)");
        pcap_close(p);
        return NULL;
    }
    if (rc > 0)
        log_warn("-i %s: %s", o->iface, pcap_geterr(p));
    return p;
}

static int set_filter(pcap_t *p, const pcapsrc_opts_t *o, const char *where)
{
    struct bpf_program prog;
    if (pcap_compile(p, &prog, o->filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        fprintf(stderr, "aiotest-capture: --filter '%s': %s\n", o->filter, pcap_geterr(p));
        return -1;
    }
    int rc = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (rc != 0)
        fprintf(stderr, "aiotest-capture: %s: --filter: %s\n", where, pcap_geterr(p));
    return rc;
}

/* A packet's time in µs. A file's timestamp can be anything (a pcapng
 * interface with a resolution of seconds and a 64-bit count is 2^64 s):
 * times past what µs in 63 bits hold are clamped (to half the range, so
 * the differences taken of them cannot overflow either), never overflowed;
 * packet() counts them. */
#define TS_MAX (INT64_MAX / 2)
#define TS_MIN (INT64_MIN / 2)
static int64_t ts_of(const struct pcap_pkthdr *h)
{
    int64_t us;
    if (__builtin_mul_overflow((int64_t)h->ts.tv_sec, (int64_t)1000000, &us) ||
        __builtin_add_overflow(us, (int64_t)h->ts.tv_usec, &us) || us > TS_MAX || us < TS_MIN)
        return h->ts.tv_sec < 0 ? TS_MIN : TS_MAX;
    return us;
}

/* After a stop signal: the packets the kernel captured before it are still
 * in the ring (a block is handed over only when full or when its timer of
 * READ_TIMEOUT_MS fires); read them, so that what was on the wire before
 * Ctrl-C is recorded, and stop once the ring stayed empty for three timer
 * periods. */
static void drain_ring(pcap_t *p, tcpflow_table_t *t, int dlt, counts_t *c, int64_t *last_us);

/* One frame down to its TCP segment, counting what is not one. */
static void packet(tcpflow_table_t *t, int dlt, const struct pcap_pkthdr *h, const uint8_t *data, counts_t *c)
{
    const uint8_t *ip;
    size_t iplen;
    ip_tcpseg_t seg;
    const char *what = NULL;
    c->packets++;
    int64_t ts = ts_of(h);
    if (ts == TS_MAX || ts == TS_MIN)
        c->bad_time++;
    if (!link_supported(dlt)) {
        c->not_ip++;
        count_named(c, "link type not supported");
        return;
    }
    enum link_result lr = link_ip(dlt, data, h->caplen, &ip, &iplen, &what);
    /* a tunnel's Ethernet frame goes through the link layer again (ip.c
     * bounds the nesting of IP tunnels; this, of Ethernet ones) */
    for (int depth = 0; lr == LINK_IP; depth++) {
        switch (ip_tcp(ip, iplen, &seg)) {
        case IP_TCP:
            tcpflow_segment(t, &seg, ts);
            return;
        case IP_NOT_TCP: c->not_tcp++; count_named(c, seg.what); return;
        case IP_FRAGMENT: c->fragments++; return;
        case IP_MALFORMED:
            if (h->caplen < h->len) c->snapped++; else c->malformed++;
            return;
        case IP_ETHERNET:
            if (depth == 4) {
                c->not_tcp++;
                count_named(c, "tunnels nested too deep");
                return;
            }
            lr = link_ethernet(seg.payload, seg.len, &ip, &iplen, &what);
            break;
        }
    }
    if (lr == LINK_SHORT && h->caplen < h->len) {
        c->snapped++;
    } else if (lr == LINK_SHORT) {
        c->malformed++;
    } else {
        c->not_ip++;
        count_named(c, what);
    }
}

/* What reading packets needs between calls. */
typedef struct reader {
    tcpflow_table_t *t;
    int dlt;
    counts_t *c;
    int64_t *last_us;
    int64_t expired_us;
} reader_t;

/* One packet read (a pcap_handler, for pcap_dispatch too). */
static void on_packet(u_char *arg, const struct pcap_pkthdr *h, const u_char *data)
{
    reader_t *rd = (reader_t *)arg;
    packet(rd->t, rd->dlt, h, data, rd->c);
    *rd->last_us = ts_of(h);
    if (*rd->last_us - rd->expired_us > EXPIRE_EVERY_US) {
        tcpflow_expire(rd->t, *rd->last_us);
        rd->expired_us = *rd->last_us;
    }
}

static void report(const counts_t *c, const tcpflow_table_t *t, const pcaprec_t *r, pcap_t *p, bool live,
                   const tlsflow_ctx_t *tls)
{
    char tlsline[4096];
    tlsflow_report(tls, tlsline, sizeof tlsline);
    tcpflow_stats_t ts;
    pcaprec_stats_t rs;
    tcpflow_get_stats(t, &ts);
    pcaprec_get_stats(r, &rs);
    char drops[128] = "";
    struct pcap_stat ps;
    if (live && pcap_stats(p, &ps) == 0)
        snprintf(drops, sizeof drops, ", kernel drops %u, interface drops %u", ps.ps_drop, ps.ps_ifdrop);
    fprintf(stderr,
            "aiotest-capture: done: %llu packets, %llu TCP connections, %llu exchanges written "
            "(%llu incomplete), %llu skipped (%llu messages not recorded, %llu bytes not HTTP, "
            "%llu non-IP, %llu non-TCP, %llu fragments, %llu malformed, %llu cut by the snap length), "
            "%llu retransmissions, %llu conflicting (first seen kept), %llu gaps (%llu bytes, %llu over the memory limit), %llu filtered out, "
            "%llu written out of order%s%s\n",
            (unsigned long long)c->packets, (unsigned long long)ts.flows, (unsigned long long)rs.exchanges,
            (unsigned long long)rs.incomplete,
            (unsigned long long)(rs.skipped + c->not_ip + c->not_tcp + c->fragments + c->malformed + c->snapped),
            (unsigned long long)rs.skipped, (unsigned long long)rs.skipped_bytes, (unsigned long long)c->not_ip,
            (unsigned long long)c->not_tcp, (unsigned long long)c->fragments, (unsigned long long)c->malformed,
            (unsigned long long)c->snapped, (unsigned long long)ts.retrans, (unsigned long long)ts.conflicts,
            (unsigned long long)ts.gaps,
            (unsigned long long)ts.gap_bytes, (unsigned long long)ts.over_limit, (unsigned long long)rs.filtered,
            (unsigned long long)rs.out_of_order, drops, tlsline);
    if (c->bad_time > 0)
        fprintf(stderr, "aiotest-capture: %llu packets have a time out of range (clamped)\n",
                (unsigned long long)c->bad_time);
    /* what the non-IP and non-TCP frames were, most frequent first */
    named_t v[MAX_NAMED];
    size_t n = 0;
    for (; n < MAX_NAMED && c->named[n].what; n++)
        v[n] = c->named[n];
    if (n == 0)
        return;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && v[j].n > v[j - 1].n; j--) {
            named_t tmp = v[j];
            v[j] = v[j - 1];
            v[j - 1] = tmp;
        }
    fprintf(stderr, "aiotest-capture: not TCP/IP:");
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s %s %llu", i ? "," : "", v[i].what, (unsigned long long)v[i].n);
    fputc('\n', stderr);
}

/* libpcap 1.10 stops at the second interface of a pcapng file when its link
 * type differs from the first one's ("an interface has a type ... different
 * from the type of the first interface"). */
static bool mixed_links(pcap_t *p)
{
    return strstr(pcap_geterr(p), "different from the type of the first interface") != NULL;
}

/* The --filter program for link type dlt, compiled on first use. */
static struct bpf_program *filter_for(int dlt, const char *filter, struct bpf_program progs[], int dlts[], size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        if (dlts[i] == dlt)
            return &progs[i];
    if (*n == 8)
        return NULL;
    pcap_t *dead = pcap_open_dead(dlt, SNAPLEN);
    if (dead == NULL || pcap_compile(dead, &progs[*n], filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        if (dead)
            pcap_close(dead);
        return NULL;
    }
    pcap_close(dead);
    dlts[*n] = dlt;
    return &progs[(*n)++];
}

/* Reads a pcapng file with per-interface link types with pcapng.c, skipping
 * the packets libpcap already gave. Returns 0, or 2 on a damaged file. */
static int read_mixed_pcapng(const pcapsrc_opts_t *o, tcpflow_table_t *t, counts_t *c, int64_t *last_us)
{
    char err[512];
    pcapng_t *ng = pcapng_open(o->file, err, sizeof err);
    if (ng == NULL) {
        fprintf(stderr, "aiotest-capture: %s\n", err);
        return 2;
    }
    struct bpf_program progs[8];
    int dlts[8];
    size_t nprogs = 0;
    uint64_t skip = c->packets;
    pcapng_pkt_t k;
    int n, rc = 0;
    while ((n = pcapng_next(ng, &k, err, sizeof err)) == 1) {
        if (skip > 0) {
            skip--;
            continue;
        }
        struct pcap_pkthdr h = { .ts = { .tv_sec = k.ts_us / 1000000, .tv_usec = k.ts_us % 1000000 },
                                 .caplen = k.caplen, .len = k.len };
        if (o->filter) {
            struct bpf_program *prog = filter_for(k.dlt, o->filter, progs, dlts, &nprogs);
            if (prog != NULL && pcap_offline_filter(prog, &h, k.data) == 0)
                continue;
        }
        packet(t, k.dlt, &h, k.data, c);
        *last_us = k.ts_us;
    }
    if (n < 0) {
        fprintf(stderr, "aiotest-capture: %s (packet %llu)\n", err, (unsigned long long)c->packets + 1);
        rc = 2;
    }
    for (size_t i = 0; i < nprogs; i++)
        pcap_freecode(&progs[i]);
    pcapng_close(ng);
    return rc;
}

static void dsb_secrets(void *ctx, uint32_t type, const uint8_t *data, size_t len, long offset)
{
    char where[64];
    if (type != 0x544c534bu) /* "TLSK"; WireGuard and others are not read here */
        return;
    snprintf(where, sizeof where, "Decryption Secrets Block at byte %ld", offset);
    keylog_add_text(ctx, where, (const char *)data, len);
}

/* The key log: --keylog FILE (re-read as it grows when live), and a pcapng
 * file's Decryption Secrets Blocks. Returns 0, or 2 naming what failed. */
static int load_keys(const pcapsrc_opts_t *o, bool live, keylog_t *k)
{
    char err[512];
    if (o->keylog && keylog_open(k, o->keylog, live, err, sizeof err) != 0) {
        fprintf(stderr, "aiotest-capture: --keylog %s\n", err);
        return 2;
    }
    if (live)
        return 0;
    pcapng_t *ng = pcapng_open(o->file, err, sizeof err);
    if (ng == NULL)
        return 0; /* a pcap file: libpcap names its problems */
    pcapng_on_secrets(ng, dsb_secrets, k);
    pcapng_pkt_t pkt;
    while (pcapng_next(ng, &pkt, err, sizeof err) == 1)
        ;
    pcapng_close(ng);
    return 0;
}

int pcapsrc_run(const pcapsrc_opts_t *o)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "", err[512];
    const char *where = o->file ? o->file : o->iface;
    bool live = o->file == NULL;
    int rc = 2;
    pcaprec_t *rec = NULL;
    tcpflow_table_t *t = NULL;
    keylog_t *keys = NULL;
    pcap_t *p = live ? open_live(o, errbuf)
                     : pcap_open_offline_with_tstamp_precision(o->file, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
    if (p == NULL) {
        fprintf(stderr, "aiotest-capture: %s %s: %s\n", live ? "-i" : "--pcap", where, errbuf);
        return 2;
    }
    if (o->filter && set_filter(p, o, where) != 0)
        goto out;
    int dlt = pcap_datalink(p);
    if (!link_supported(dlt)) {
        const char *name = pcap_datalink_val_to_name(dlt);
        fprintf(stderr, "aiotest-capture: %s: link type %s (%d) is not supported; expected Ethernet, "
                "Linux cooked (SLL, SLL2), BSD loopback, raw IP, NFLOG, Cisco HDLC, PPP, PPPoE or 802.11 "
                "(plain, radiotap, AVS, Prism)\n", where, name ? name : "?", dlt);
        goto out;
    }
    keys = keylog_new();
    if (keys == NULL || (rc = load_keys(o, live, keys)) != 0)
        goto out;
    rc = 2;
    rec = pcaprec_open(&o->rec, err, sizeof err);
    if (rec == NULL) {
        fprintf(stderr, "aiotest-capture: -o: %s\n", err);
        goto out;
    }
    keylog_stats_t ks;
    keylog_get_stats(keys, &ks);
    tlsflow_ctx_t tls = { .keys = o->keylog || ks.lines > 0 ? keys : NULL, .follow = live && o->keylog };
    appflow_ctx_t actx = { rec, &tls };
    t = tcpflow_new(&appflow_ops, &actx, o->max_flow, o->max_total);
    if (t == NULL)
        goto out;
    if (live) {
        catch_signals(p, o->duration_us);
        log_info("capturing on %s%s%s; stop with Ctrl-C", o->iface, o->filter ? " with filter " : "",
                 o->filter ? o->filter : "");
    }
    counts_t c = { 0 };
    int64_t last_us = 0;
    reader_t rd = { t, dlt, &c, &last_us, 0 };
    /* records are written in batches (issue 20: a write and a flush per
     * record was 7 % of --pcap); live, after every buffer libpcap hands
     * over (at most READ_TIMEOUT_MS old), so a killed capture loses at most
     * that much */
    pcaprec_set_batch(rec, RECORD_BATCH);
    rc = 0;
    while (!stop_signal) {
        struct pcap_pkthdr *h;
        const u_char *data;
        int n = live ? pcap_dispatch(p, -1, on_packet, (u_char *)&rd) : pcap_next_ex(p, &h, &data);
        if (live && n >= 0) {
            pcaprec_flush(rec);
        } else if (n == 1) {
            on_packet((u_char *)&rd, h, data);
        } else if (n == PCAP_ERROR_BREAK) {
            break; /* end of the file, or pcap_breakloop */
        } else if (n == PCAP_ERROR && !live && mixed_links(p)) {
            rc = read_mixed_pcapng(o, t, &c, &last_us);
            break;
        } else if (n == PCAP_ERROR) {
            fprintf(stderr, "aiotest-capture: %s: packet %llu: %s\n", where,
                    (unsigned long long)c.packets + 1, pcap_geterr(p));
            rc = 2; /* what was read so far is still written */
            break;
        }
    }
    if (live && stop_signal)
        drain_ring(p, t, dlt, &c, &last_us);
    tcpflow_end_all(t, last_us);
    report(&c, t, rec, p, live, &tls);
out:
    tcpflow_free(t, 0);
    keylog_free(keys);
    if (rec != NULL && pcaprec_close(rec) != 0) {
        fprintf(stderr, "aiotest-capture: %s: the recording could not be written completely\n", o->rec.path);
        rc = 2;
    }
    pcap_close(p);
    return rc;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void drain_ring(pcap_t *p, tcpflow_table_t *t, int dlt, counts_t *c, int64_t *last_us)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    if (pcap_setnonblock(p, 1, errbuf) != 0)
        return;
    int64_t quiet_since = mono_us();
    while (mono_us() - quiet_since < 3 * READ_TIMEOUT_MS * 1000) {
        struct pcap_pkthdr *h;
        const u_char *data;
        int n = pcap_next_ex(p, &h, &data);
        if (n == 1) {
            packet(t, dlt, h, data, c);
            *last_us = ts_of(h);
            quiet_since = mono_us();
        } else if (n == 0) {
            struct timespec pause = { .tv_nsec = 10 * 1000000 };
            nanosleep(&pause, NULL);
        } else {
            return;
        }
    }
}

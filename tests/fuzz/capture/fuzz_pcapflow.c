/* Fuzz target of passive capture's path from TCP segments to exchanges:
 * capture/pcap/tcpflow.c (reassembly) -> appflow.c -> h1flow.c / h2flow.c ->
 * pcaprec.c (written to /dev/null). The input is a script of segments:
 *   byte 0: bit 0 the connection starts with a handshake
 *   then per segment: a header byte (bit 0 from the server, bit 1 FIN,
 *   bit 2 RST, bit 3 resend the last 8 bytes first, bits 4-7 skip that many
 *   bytes: a hole), a length byte, and that many payload bytes.
 * Crashes, leaks and sanitizer reports are the findings; every exchange
 * begun must be ended (pcaprec_close frees what is not, but ASan sees it). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "appflow.h"
#include "pcaprec.h"
#include "tcpflow.h"

static void send_seg(tcpflow_table_t *t, int server, uint8_t flags, uint32_t seq, uint32_t ack,
                     const uint8_t *p, size_t n, int64_t ts)
{
    ip_tcpseg_t s = { .family = 4, .flags = flags, .seq = seq, .ack = ack, .payload = p, .len = n };
    uint8_t c[16] = { 127, 0, 0, 1 }, sv[16] = { 127, 0, 0, 2 };
    memcpy(s.src, server ? sv : c, 16);
    memcpy(s.dst, server ? c : sv, 16);
    s.sport = server ? 80 : 50000;
    s.dport = server ? 50000 : 80;
    tcpflow_segment(t, &s, ts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char err[256];
    pcaprec_opts_t o = { .path = "/dev/null", .max_body = 4096 };
    pcaprec_t *rec = pcaprec_open(&o, err, sizeof err);
    if (rec == NULL)
        abort();
    tlsflow_ctx_t tls = { 0 }; /* TLS is recognised and counted, with no keys */
    appflow_ctx_t actx = { rec, &tls };
    tcpflow_table_t *t = tcpflow_new(&appflow_ops, &actx, 64 * 1024, 256 * 1024);
    uint32_t next[2] = { 1000, 900000 };
    int64_t ts = 1700000000000000;
    if (data[0] & 1) {
        send_seg(t, 0, TCP_SYN, next[0]++, 0, NULL, 0, ts);
        send_seg(t, 1, TCP_SYN | TCP_ACK, next[1]++, next[0], NULL, 0, ts);
    }
    size_t at = 1;
    while (at + 2 <= size) {
        uint8_t h = data[at], len = data[at + 1];
        at += 2;
        if (len > size - at)
            len = (uint8_t)(size - at);
        int server = h & 1;
        uint8_t flags = TCP_ACK | ((h & 2) ? TCP_FIN : 0) | ((h & 4) ? TCP_RST : 0);
        uint32_t seq = next[server] + (h >> 4);
        if (h & 8) /* a retransmission overlapping what was sent */
            seq -= 8;
        ts += 1000;
        send_seg(t, server, flags, seq, next[!server], data + at, len, ts);
        if (!(h & 8))
            next[server] = seq + len;
        at += len;
    }
    tcpflow_free(t, ts);
    pcaprec_close(rec);
    return 0;
}

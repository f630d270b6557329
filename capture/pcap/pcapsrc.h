/* pcapsrc: passive capture with libpcap, from a pcap/pcapng file or a live
 * interface: each packet goes link layer -> IP -> TCP reassembly -> HTTP, and
 * the exchanges into the recording. TLS is decrypted with the secrets of
 * --keylog and of a pcapng file's Decryption Secrets Blocks (tlsflow.h).
 * Prints the counter line at the end. */
#ifndef CAPTURE_PCAP_PCAPSRC_H
#define CAPTURE_PCAP_PCAPSRC_H

#include <stddef.h>
#include <stdint.h>

#include "pcaprec.h"

typedef struct pcapsrc_opts {
    const char *file;         /* --pcap FILE, or NULL */
    const char *iface;        /* -i IFACE, or NULL */
    const char *filter;       /* --filter BPF, or NULL */
    uint64_t duration_us;     /* live: stop after this long (0: at SIGINT/SIGTERM only) */
    size_t buffer_size;       /* live: kernel buffer (pcap_set_buffer_size) */
    size_t max_flow;          /* bytes waiting behind holes, per direction */
    size_t max_total;         /* the same, all connections */
    const char *keylog;       /* --keylog FILE (NSS key log) for TLS, or NULL */
    pcaprec_opts_t rec;
} pcapsrc_opts_t;

/* Runs the capture to the end of the file, or until a signal or the duration.
 * Returns the exit code: 0, or 2 (cannot open or read the input or the key log, bad filter,
 * unsupported link type, the recording could not be written) with one line
 * on stderr naming the file or interface, the packet and what was expected. */
int pcapsrc_run(const pcapsrc_opts_t *o);

#endif

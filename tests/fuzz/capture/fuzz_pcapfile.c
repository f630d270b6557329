/* Fuzz target of passive capture's whole path from a file: a pcap or pcapng
 * file (the input) through libpcap or pcapng.c, link.c, ip.c, tcpflow.c and
 * the HTTP readers to a recording in /dev/null, by pcapsrc_run as
 * `aiotest-capture --pcap` runs it. Crashes, leaks and sanitizer reports
 * (the signed overflow of timestamps: corpus/pcapfile/ts_overflow.pcapng)
 * are the findings; exit code 2 for a damaged file is not. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pcapsrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-pcap", 0);
    if (fd < 0)
        abort();
    if (size > 0 && write(fd, data, size) != (ssize_t)size)
        abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    /* the counter line and errors go to stderr: keep the run quiet */
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w");
    pcapsrc_opts_t o = { .file = path, .max_flow = 64 * 1024, .max_total = 1024 * 1024,
                         .rec = { .path = "/dev/null", .max_body = 4096 } };
    int rc = pcapsrc_run(&o);
    fclose(stderr);
    stderr = saved;
    close(fd);
    if (rc != 0 && rc != 2)
        abort();
    return 0;
}

/* h2frame: splits one direction of an HTTP/2 connection into frames, however
 * the bytes are cut, and removes what only frames the payload: the padding of
 * DATA, HEADERS and PUSH_PROMISE and the priority fields of HEADERS. */
#ifndef CAPTURE_PCAP_H2FRAME_H
#define CAPTURE_PCAP_H2FRAME_H

#include <stddef.h>
#include <stdint.h>

enum {
    H2F_DATA = 0, H2F_HEADERS = 1, H2F_PRIORITY = 2, H2F_RST_STREAM = 3, H2F_SETTINGS = 4,
    H2F_PUSH_PROMISE = 5, H2F_PING = 6, H2F_GOAWAY = 7, H2F_WINDOW_UPDATE = 8, H2F_CONTINUATION = 9,
};
enum { H2F_END_STREAM = 0x1, H2F_ACK = 0x1, H2F_END_HEADERS = 0x4, H2F_PADDED = 0x8, H2F_PRIO = 0x20 };

typedef struct h2frame_hdr {
    uint32_t len;       /* payload length on the wire */
    uint8_t type, flags;
    uint32_t stream;
} h2frame_hdr_t;

/* A whole frame: p[0..n) is its payload without padding and priority. 0 to
 * go on, -1 to stop (h2frame_feed returns -1). */
typedef int (*h2frame_cb)(void *ctx, const h2frame_hdr_t *h, const uint8_t *p, size_t n);

/* Embedded by its reader: zero it, or h2frame_init. */
typedef struct h2frame {
    uint8_t hdr[9];
    size_t hdr_len;
    uint8_t *buf;       /* payload being gathered */
    size_t got;
    char error[96];
} h2frame_t;

void h2frame_init(h2frame_t *r);
void h2frame_fini(h2frame_t *r);

/* Feeds bytes; calls cb for every frame they complete. Returns 0, or -1 with
 * r->error set (a frame longer than 2^24-1 cannot be, so: padding longer than
 * its frame, or cb refused). */
int h2frame_feed(h2frame_t *r, const uint8_t *p, size_t n, h2frame_cb cb, void *ctx);

#endif

/* pcapng: a small reader of pcapng files for the ones libpcap 1.10 refuses:
 * files whose interfaces have different link types (libpcap takes the first
 * interface's type for the whole file and stops at the next). Every packet
 * comes with the link type and time resolution of its own interface.
 * Section Header, Interface Description, Enhanced, Simple and obsolete Packet
 * blocks are read, Decryption Secrets Blocks handed to a callback; other
 * blocks are skipped. */
#ifndef CAPTURE_PCAP_PCAPNG_H
#define CAPTURE_PCAP_PCAPNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct pcapng pcapng_t;

typedef struct pcapng_pkt {
    int dlt;               /* link type of the packet's interface */
    int64_t ts_us;         /* µs since the epoch (0 for Simple Packet blocks) */
    uint32_t caplen, len;  /* bytes captured, bytes on the wire */
    const uint8_t *data;   /* valid until the next call */
} pcapng_pkt_t;

/* A Decryption Secrets Block: secrets of type (0x544c534b "TLSK": an NSS
 * key log) at byte offset of the file; data is valid during the call. */
typedef void pcapng_secrets_fn(void *ctx, uint32_t type, const uint8_t *data, size_t len, long offset);

/* NULL with err ("FILE: ...") when the file cannot be read or is not pcapng. */
pcapng_t *pcapng_open(const char *path, char *err, size_t errlen);
/* The next packet: 1, 0 at the end, -1 with err naming the block and offset. */
int pcapng_next(pcapng_t *r, pcapng_pkt_t *pkt, char *err, size_t errlen);
void pcapng_close(pcapng_t *r);
/* Decryption Secrets Blocks met by pcapng_next from now on go to fn. */
void pcapng_on_secrets(pcapng_t *r, pcapng_secrets_fn *fn, void *ctx);

#endif

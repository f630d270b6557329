#include "pcapng.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 1u
#define BT_OPB 2u   /* obsolete Packet Block */
#define BT_SPB 3u
#define BT_EPB 6u
#define BT_DSB 10u  /* Decryption Secrets Block */
#define BOM 0x1A2B3C4Du
#define OPT_TSRESOL 9
#define MAX_BLOCK (64u << 20)

typedef struct iface {
    int dlt;
    bool pow2;      /* resolution 2^-res, else 10^-res */
    unsigned res;
} iface_t;

struct pcapng {
    FILE *fp;
    const char *path;
    bool swap;          /* the section's byte order is not ours */
    iface_t *ifs;
    size_t nifs;
    uint8_t *block;
    size_t cap;
    long offset;        /* of the block being read */
    pcapng_secrets_fn *on_secrets;
    void *secrets_ctx;
};

void pcapng_on_secrets(pcapng_t *r, pcapng_secrets_fn *fn, void *ctx)
{
    r->on_secrets = fn;
    r->secrets_ctx = ctx;
}

static uint32_t get32(const pcapng_t *r, const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return r->swap ? __builtin_bswap32(v) : v;
}

static uint16_t get16(const pcapng_t *r, const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return r->swap ? __builtin_bswap16(v) : v;
}

pcapng_t *pcapng_open(const char *path, char *err, size_t errlen)
{
    pcapng_t *r = calloc(1, sizeof *r);
    if (r == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    r->path = path;
    r->fp = fopen(path, "rb");
    if (r->fp == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(r);
        return NULL;
    }
    uint8_t head[4];
    uint32_t type;
    if (fread(head, 1, 4, r->fp) != 4 || (memcpy(&type, head, 4), type != BT_SHB)) {
        snprintf(err, errlen, "%s: not a pcapng file (no Section Header Block at byte 0)", path);
        pcapng_close(r);
        return NULL;
    }
    rewind(r->fp);
    return r;
}

void pcapng_close(pcapng_t *r)
{
    if (r == NULL)
        return;
    if (r->fp)
        fclose(r->fp);
    free(r->ifs);
    free(r->block);
    free(r);
}

/* A Section Header starts a new byte order and interface list. */
static int section(pcapng_t *r, const uint8_t *b, uint32_t len, char *err, size_t errlen)
{
    uint32_t bom;
    memcpy(&bom, b + 8, 4);
    if (bom != BOM && bom != __builtin_bswap32(BOM)) {
        snprintf(err, errlen, "%s: byte %ld: Section Header Block with a bad byte-order magic", r->path, r->offset);
        return -1;
    }
    r->swap = bom != BOM;
    r->nifs = 0;
    (void)len;
    return 0;
}

static int interface(pcapng_t *r, const uint8_t *b, uint32_t len)
{
    iface_t *ifs = realloc(r->ifs, (r->nifs + 1) * sizeof *ifs);
    if (ifs == NULL)
        return -1;
    r->ifs = ifs;
    iface_t *f = &ifs[r->nifs++];
    f->dlt = get16(r, b + 8);
    f->pow2 = false;
    f->res = 6;
    /* options: code, length, value padded to 4 */
    for (uint32_t at = 16; at + 4 <= len - 4;) {
        uint16_t code = get16(r, b + at), olen = get16(r, b + at + 2);
        if (code == 0 || at + 4 + olen > len - 4)
            break;
        if (code == OPT_TSRESOL && olen >= 1) {
            f->pow2 = (b[at + 4] & 0x80) != 0;
            f->res = b[at + 4] & 0x7f;
        }
        at += 4 + ((olen + 3u) & ~3u);
    }
    return 0;
}

static int64_t to_us(const iface_t *f, uint64_t t)
{
    if (f->pow2) {
        unsigned n = f->res < 64 ? f->res : 63;
        return (int64_t)((t >> n) * 1000000u + (((t & ((1ull << n) - 1)) * 1000000u) >> n));
    }
    uint64_t k = 1;
    if (f->res >= 6) {
        for (unsigned i = 6; i < f->res && i < 26; i++)
            k *= 10;
        return (int64_t)(t / k);
    }
    for (unsigned i = f->res; i < 6; i++)
        k *= 10;
    return (int64_t)(t * k);
}

int pcapng_next(pcapng_t *r, pcapng_pkt_t *pkt, char *err, size_t errlen)
{
    for (;;) {
        uint8_t head[8];
        r->offset = ftell(r->fp);
        size_t got = fread(head, 1, 8, r->fp);
        if (got == 0)
            return 0;
        uint32_t type, len;
        memcpy(&type, head, 4);
        if (got == 8 && type == BT_SHB) {
            /* the length is in the byte order the block itself declares */
            uint8_t bom[4];
            if (fread(bom, 1, 4, r->fp) != 4 || fseek(r->fp, -4, SEEK_CUR) != 0)
                goto cut;
            uint32_t m;
            memcpy(&m, bom, 4);
            r->swap = m != BOM;
        }
        len = got == 8 ? get32(r, head + 4) : 0;
        if (got < 8 || len < 12 || len % 4 != 0 || len > MAX_BLOCK) {
            snprintf(err, errlen, "%s: byte %ld: block of type %u with an impossible length %u", r->path,
                     r->offset, got >= 4 ? get32(r, head) : 0, len);
            return -1;
        }
        if (len > r->cap) {
            uint8_t *b = realloc(r->block, len);
            if (b == NULL)
                goto cut;
            r->block = b;
            r->cap = len;
        }
        memcpy(r->block, head, 8);
        if (fread(r->block + 8, 1, len - 8, r->fp) != len - 8)
            goto cut;
        const uint8_t *b = r->block;
        type = get32(r, b);
        if (type == BT_SHB) {
            if (len < 28 || section(r, b, len, err, errlen) != 0)
                return -1;
        } else if (type == BT_IDB) {
            if (len < 20 || interface(r, b, len) != 0)
                goto cut;
        } else if (type == BT_EPB || type == BT_OPB) {
            uint32_t id = type == BT_EPB ? get32(r, b + 8) : get16(r, b + 8);
            if (len < 32 || id >= r->nifs) {
                snprintf(err, errlen, "%s: byte %ld: packet of interface %u, which was not described",
                         r->path, r->offset, id);
                return -1;
            }
            pkt->dlt = r->ifs[id].dlt;
            pkt->ts_us = to_us(&r->ifs[id], (uint64_t)get32(r, b + 12) << 32 | get32(r, b + 16));
            pkt->caplen = get32(r, b + 20);
            pkt->len = get32(r, b + 24);
            pkt->data = b + 28;
            if (pkt->caplen > len - 32)
                pkt->caplen = len - 32;
            return 1;
        } else if (type == BT_DSB) {
            uint32_t slen = len >= 20 ? get32(r, b + 12) : 0;
            if (r->on_secrets && len >= 20 && slen <= len - 20)
                r->on_secrets(r->secrets_ctx, get32(r, b + 8), b + 16, slen, r->offset);
        } else if (type == BT_SPB) {
            if (r->nifs == 0 || len < 16)
                continue;
            pkt->dlt = r->ifs[0].dlt;
            pkt->ts_us = 0;
            pkt->len = get32(r, b + 8);
            pkt->caplen = pkt->len < len - 16 ? pkt->len : len - 16;
            pkt->data = b + 12;
            return 1;
        }
    }
cut:
    snprintf(err, errlen, "%s: byte %ld: block cut short (the file ends inside it)", r->path, r->offset);
    return -1;
}

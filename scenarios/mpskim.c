/* mpskim: header walk of a msgpack byte stream (mpskim.h). Only the sizes of
 * headers and payloads are read here; msgpack-c does the decoding. */
#include "mpskim.h"

/* Bytes of the header starting with type byte b: the type byte and any
 * length or count after it (at most 5). */
static int header_len(uint8_t b)
{
    switch (b) {
    case 0xc4: case 0xc7: case 0xd9: return 2;            /* 8-bit length */
    case 0xc5: case 0xc8: case 0xda: case 0xdc: case 0xde: return 3; /* 16-bit */
    case 0xc6: case 0xc9: case 0xdb: case 0xdd: case 0xdf: return 5; /* 32-bit */
    default: return 1;
    }
}

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Payload bytes after a complete header, and the element count (map entries
 * count twice) of a container. */
static void header_sizes(const uint8_t *h, uint64_t *payload, uint64_t *elems)
{
    static const uint8_t fixed[0x20] = {
        /* c0 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 8, 1, 2, 4, 8,
        /* d0 */ 1, 2, 4, 8, 2, 3, 5, 9, 17, 0, 0, 0, 0, 0, 0, 0,
    };
    uint8_t b = h[0];
    int hl = header_len(b);
    uint64_t len = hl > 1 ? be(h + 1, hl - 1) : 0;
    *payload = 0;
    *elems = 0;
    if (b >= 0x80 && b <= 0x8f)
        *elems = 2u * (b & 0x0f);
    else if (b >= 0x90 && b <= 0x9f)
        *elems = b & 0x0f;
    else if (b >= 0xa0 && b <= 0xbf)
        *payload = b & 0x1f;
    else if (b == 0xc4 || b == 0xc5 || b == 0xc6 || b == 0xd9 || b == 0xda || b == 0xdb)
        *payload = len;                /* bin, str */
    else if (b == 0xc7 || b == 0xc8 || b == 0xc9)
        *payload = 1 + len;            /* ext: type byte + data */
    else if (b == 0xdc || b == 0xdd)
        *elems = len;
    else if (b == 0xde || b == 0xdf)
        *elems = 2 * len;
    else if (b >= 0xc0 && b <= 0xdf)
        *payload = fixed[b - 0xc0];    /* numbers, fixext (type byte + data) */
}

size_t mpskim_feed(mpskim_t *k, const uint8_t *p, size_t n, int64_t file_size)
{
    /* k's fields in locals: a store through k may alias p (bytes), so the
     * loop would reload them at every byte. The offset is pos0 + i. */
    const int64_t pos0 = k->pos;
    uint64_t skip = k->skip;
    int hl = k->hl;
    size_t i = 0;
    while (i < n) {
        if (skip) {
            uint64_t step = skip < n - i ? skip : n - i;
            skip -= step;
            i += step;
            continue;
        }
        uint8_t b = p[i];
        if (hl == 0 && (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)) {
            i++; /* fixint, nil, bool: the header is the value (most bytes a skim sees) */
            continue;
        }
        if (hl == 0 && b >= 0xa0 && b <= 0xbf) {
            i++; /* fixstr: the keys of every map */
            skip = b & 0x1f;
            continue;
        }
        k->hdr[hl++] = b;
        i++;
        int need = header_len(k->hdr[0]);
        if (hl < need)
            continue;
        uint64_t payload, elems;
        header_sizes(k->hdr, &payload, &elems);
        hl = 0;
        int64_t pos = pos0 + (int64_t)i;
        /* Every element takes at least one byte of what is left. */
        if (elems > 15 && (int64_t)elems > file_size - pos) {
            k->bad_count = elems;
            k->bad_at = pos - need;
            k->file_size = file_size;
            k->pos = pos;
            k->skip = skip;
            k->hl = 0;
            return i - 1; /* keep the header incomplete for the unpacker */
        }
        skip = payload;
    }
    k->pos = pos0 + (int64_t)n;
    k->skip = skip;
    k->hl = hl;
    return n;
}

#include "h2frame.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void h2frame_init(h2frame_t *r) { memset(r, 0, sizeof *r); }

void h2frame_fini(h2frame_t *r)
{
    free(r->buf);
    r->buf = NULL;
}

static void parse_hdr(const uint8_t *b, h2frame_hdr_t *h)
{
    h->len = (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
    h->type = b[3];
    h->flags = b[4];
    h->stream = ((uint32_t)b[5] << 24 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 8 | b[8]) & 0x7fffffffu;
}

/* The payload without padding and priority; -1 when they do not fit. */
static int strip(h2frame_t *r, const h2frame_hdr_t *h, const uint8_t **p, size_t *n)
{
    size_t pad = 0;
    if ((h->type == H2F_DATA || h->type == H2F_HEADERS || h->type == H2F_PUSH_PROMISE) &&
        (h->flags & H2F_PADDED)) {
        if (*n < 1)
            goto bad;
        pad = (*p)[0];
        (*p)++;
        (*n)--;
    }
    if (h->type == H2F_HEADERS && (h->flags & H2F_PRIO)) {
        if (*n < 5)
            goto bad;
        *p += 5;
        *n -= 5;
    }
    if (pad > *n)
        goto bad;
    *n -= pad;
    return 0;
bad:
    snprintf(r->error, sizeof r->error, "frame type %u on stream %u: padding or priority longer than the frame",
             h->type, h->stream);
    return -1;
}

int h2frame_feed(h2frame_t *r, const uint8_t *p, size_t n, h2frame_cb cb, void *ctx)
{
    while (n > 0) {
        if (r->hdr_len < 9) {
            size_t take = 9 - r->hdr_len < n ? 9 - r->hdr_len : n;
            memcpy(r->hdr + r->hdr_len, p, take);
            r->hdr_len += take;
            p += take;
            n -= take;
            if (r->hdr_len < 9)
                return 0;
        }
        h2frame_hdr_t h;
        parse_hdr(r->hdr, &h);
        const uint8_t *payload;
        if (r->got == 0 && n >= h.len) {
            payload = p; /* whole in this chunk: no copy */
            p += h.len;
            n -= h.len;
        } else {
            if (r->buf == NULL && (r->buf = malloc(h.len ? h.len : 1)) == NULL) {
                snprintf(r->error, sizeof r->error, "out of memory for a frame of %u bytes", h.len);
                return -1;
            }
            size_t take = h.len - r->got < n ? h.len - r->got : n;
            memcpy(r->buf + r->got, p, take);
            r->got += take;
            p += take;
            n -= take;
            if (r->got < h.len)
                return 0;
            payload = r->buf;
        }
        size_t len = h.len;
        int rc = strip(r, &h, &payload, &len);
        if (rc == 0 && cb(ctx, &h, payload, len) != 0) {
            if (r->error[0] == '\0')
                snprintf(r->error, sizeof r->error, "frame type %u on stream %u refused", h.type, h.stream);
            rc = -1;
        }
        free(r->buf);
        r->buf = NULL;
        r->got = 0;
        r->hdr_len = 0;
        if (rc != 0)
            return -1;
    }
    return 0;
}

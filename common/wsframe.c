/* wsframe: WebSocket frames into messages (wsframe.h). */
#include "wsframe.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wsf_init(wsf_t *p, size_t max)
{
    memset(p, 0, sizeof *p);
    p->max = max;
}

void wsf_from_server(wsf_t *p) { p->from_server = true; }

void wsf_fini(wsf_t *p)
{
    free(p->buf);
    p->buf = NULL;
    p->len = p->cap = 0;
}

bool wsf_idle(const wsf_t *p)
{
    return !p->failed && p->hlen == 0 && !p->in_payload && !p->in_msg;
}

static int fail(wsf_t *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->error, sizeof p->error, fmt, ap);
    va_end(ap);
    p->failed = true;
    return -1;
}

/* Header bytes needed for what has been gathered so far. */
static size_t hdr_need(const wsf_t *p)
{
    if (p->hlen < 2)
        return 2;
    uint8_t l7 = p->hdr[1] & 0x7f;
    size_t n = 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0);
    return n + ((p->hdr[1] & 0x80) ? 4 : 0);
}

static int keep(wsf_t *p, const uint8_t *d, size_t n)
{
    p->msg_full += n;
    if (p->len >= p->max) {
        p->msg_cut = p->msg_cut || n > 0;
        return 0;
    }
    size_t take = n < p->max - p->len ? n : p->max - p->len;
    if (take < n)
        p->msg_cut = true;
    if (p->len + take > p->cap) {
        size_t cap = p->cap ? p->cap : 256;
        while (cap < p->len + take)
            cap *= 2;
        uint8_t *b = realloc(p->buf, cap);
        if (!b)
            return fail(p, "out of memory");
        p->buf = b;
        p->cap = cap;
    }
    memcpy(p->buf + p->len, d, take);
    p->len += take;
    return 0;
}

/* The header is complete: check it and set up the payload. */
static int start_frame(wsf_t *p)
{
    uint8_t b0 = p->hdr[0], b1 = p->hdr[1];
    p->fin = (b0 & 0x80) != 0;
    p->op = b0 & 0x0f;
    p->masked = (b1 & 0x80) != 0;
    if (b0 & 0x70)
        return fail(p, "frame with RSV bits 0x%x set (a compressed frame: extension not negotiated)",
                    (b0 & 0x70) >> 4);
    if (p->masked && p->from_server)
        return fail(p, "masked frame from the server (opcode %u; a server must not mask)", p->op);
    uint8_t l7 = b1 & 0x7f;
    size_t at = 2;
    uint64_t len = l7;
    if (l7 == 126) {
        len = (uint64_t)p->hdr[2] << 8 | p->hdr[3];
        at = 4;
    } else if (l7 == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | p->hdr[2 + i];
        at = 10;
        if (len >> 63)
            return fail(p, "frame length with the most significant bit set");
    }
    if (p->masked)
        memcpy(p->mask, p->hdr + at, 4);
    if (p->op >= 8) {
        if (p->op > WSF_PONG)
            return fail(p, "unknown control opcode %u", p->op);
        if (!p->fin)
            return fail(p, "fragmented control frame (opcode %u)", p->op);
        if (len > 125)
            return fail(p, "control frame of %llu bytes (at most 125)", (unsigned long long)len);
        p->ctl_len = 0;
    } else if (p->op == WSF_CONT) {
        if (!p->in_msg)
            return fail(p, "continuation frame without a message to continue");
    } else if (p->op == WSF_TEXT || p->op == WSF_BINARY) {
        if (p->in_msg)
            return fail(p, "new data frame (opcode %u) inside a fragmented message", p->op);
        p->in_msg = true;
        p->msg_op = p->op;
        p->len = 0;
        p->msg_full = 0;
        p->msg_cut = false;
    } else {
        return fail(p, "unknown data opcode %u", p->op);
    }
    p->left = len;
    p->pos = 0;
    p->in_payload = true;
    p->hlen = 0;
    return 0;
}

/* The current frame's payload is complete. */
static int end_frame(wsf_t *p, wsf_on_msg_fn cb, void *ctx)
{
    p->in_payload = false;
    wsf_msg_t m = {0};
    if (p->op >= 8) {
        m.opcode = p->op;
        m.data = p->ctl;
        m.len = m.full_len = p->ctl_len;
        if (p->op == WSF_CLOSE) {
            if (p->ctl_len == 1)
                return fail(p, "close frame with a 1-byte payload (a code takes 2)");
            if (p->ctl_len >= 2) {
                m.close_code = (uint16_t)(p->ctl[0] << 8 | p->ctl[1]);
                m.data = p->ctl + 2;
                m.len = m.full_len = p->ctl_len - 2;
            }
        }
    } else {
        if (!p->fin)
            return 0;
        p->in_msg = false;
        m.opcode = p->msg_op;
        m.data = p->buf;
        m.len = p->len;
        m.full_len = p->msg_full;
        m.truncated = p->msg_cut;
    }
    if (cb && cb(ctx, &m) != 0)
        return fail(p, "stopped by the reader");
    return 0;
}

int wsf_feed(wsf_t *p, const uint8_t *d, size_t n, wsf_on_msg_fn cb, void *ctx)
{
    if (p->failed)
        return -1;
    while (n > 0 || (p->in_payload && p->left == 0)) {
        if (!p->in_payload) {
            size_t need = hdr_need(p);
            while (p->hlen < need && n > 0) {
                p->hdr[p->hlen++] = *d++;
                n--;
                need = hdr_need(p);
            }
            if (p->hlen < need)
                return 0;
            if (start_frame(p) != 0)
                return -1;
            continue;
        }
        size_t take = p->left < n ? (size_t)p->left : n;
        uint8_t tmp[4096];
        while (take > 0) {
            size_t k = take < sizeof tmp ? take : sizeof tmp;
            for (size_t i = 0; i < k; i++)
                tmp[i] = p->masked ? d[i] ^ p->mask[(p->pos + i) & 3] : d[i];
            if (p->op >= 8) {
                memcpy(p->ctl + p->ctl_len, tmp, k); /* len <= 125, checked */
                p->ctl_len += k;
            } else if (keep(p, tmp, k) != 0) {
                return -1;
            }
            p->pos += k;
            p->left -= k;
            d += k;
            n -= k;
            take -= k;
        }
        if (p->left == 0 && end_frame(p, cb, ctx) != 0)
            return -1;
    }
    return 0;
}

size_t wsf_frame_size(size_t len, bool mask)
{
    return 2 + (len > 65535 ? 8 : len > 125 ? 2 : 0) + (mask ? 4 : 0) + len;
}

size_t wsf_frame(uint8_t *out, uint8_t opcode, const void *payload, size_t len, bool mask,
                 const uint8_t mask_key[4])
{
    size_t at = 0;
    out[at++] = (uint8_t)(0x80 | (opcode & 0x0f));
    uint8_t mbit = mask ? 0x80 : 0;
    if (len <= 125) {
        out[at++] = (uint8_t)(mbit | len);
    } else if (len <= 65535) {
        out[at++] = mbit | 126;
        out[at++] = (uint8_t)(len >> 8);
        out[at++] = (uint8_t)len;
    } else {
        out[at++] = mbit | 127;
        for (int i = 7; i >= 0; i--)
            out[at++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    if (mask) {
        memcpy(out + at, mask_key, 4);
        at += 4;
    }
    const uint8_t *src = payload;
    for (size_t i = 0; i < len; i++)
        out[at + i] = mask ? src[i] ^ mask_key[i & 3] : src[i];
    return at + len;
}

/* Fuzz target of capture/h1msg.c. The first byte picks the direction and a
 * split point; the message is parsed in one piece and again in two, and both
 * must see the same heads, headers, body bytes and completions (the header
 * gathering across reads is what h1msg adds to http_parser). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fwd.h"
#include "h1msg.h"

typedef struct summary {
    unsigned heads, dones, hops;
    size_t headers, header_bytes, body;
    uint64_t body_hash;
} summary_t;

static int on_head(void *ctx, h1msg_t *m)
{
    summary_t *s = ctx;
    s->heads++;
    s->headers += m->headers.n;
    for (size_t i = 0; i < m->headers.n; i++) {
        s->header_bytes += strlen(m->headers.v[i].name) + strlen(m->headers.v[i].value);
        s->hops += fwd_is_hop(&m->headers, m->headers.v[i].name);
    }
    s->header_bytes += strlen(m->url);
    (void)h1msg_content_length(m);
    return 0;
}

static int on_body(void *ctx, const char *p, size_t n)
{
    summary_t *s = ctx;
    for (size_t i = 0; i < n; i++)
        s->body_hash = (s->body_hash ^ (uint8_t)p[i]) * 0x100000001b3ull;
    s->body += n;
    return 0;
}

static int on_done(void *ctx, h1msg_t *m)
{
    (void)m;
    ((summary_t *)ctx)->dones++;
    return 0;
}

static const h1msg_ops_t ops = { on_head, on_body, on_done };

/* Feeds the pieces until one is not consumed whole (error or upgrade), or the
 * parser has switched protocols: after a CONNECT or an Upgrade the bytes are
 * the tunnel's, and the proxy stops feeding h1msg there (client.c). Feeding the
 * second piece after a head that ended exactly at the cut made the one-piece
 * and two-piece parses differ although the product never does it. */
static void parse(enum http_parser_type t, const char *p, size_t n, size_t split, summary_t *s)
{
    h1msg_t m;
    memset(s, 0, sizeof *s);
    h1msg_init(&m, t, &ops, s);
    size_t cuts[2] = { split, n - split };
    for (int i = 0; i < 2; i++) {
        ssize_t k = h1msg_feed(&m, p, cuts[i]);
        if (k < 0 || (size_t)k < cuts[i] || m.parser.upgrade)
            break;
        p += cuts[i];
    }
    h1msg_fini(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    enum http_parser_type t = (data[0] & 1) ? HTTP_RESPONSE : HTTP_REQUEST;
    const char *p = (const char *)data + 1;
    size_t n = size - 1, split = (size_t)data[0] * n / 256;
    summary_t whole, halves;
    parse(t, p, n, n, &whole);
    parse(t, p, n, split, &halves);
    /* A cut inside a message that then fails can differ only in what the
     * failing part reached; for input the parser accepts, all must agree. */
    if (whole.dones == halves.dones && memcmp(&whole, &halves, sizeof whole) != 0)
        abort();
    return 0;
}

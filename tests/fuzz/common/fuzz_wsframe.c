/* Fuzz target of common/wsframe.c: any bytes are messages or a protocol error
 * with a reason, never a crash; fed whole or split at any point (the first
 * byte chooses where) they give the same messages and the same verdict, and
 * no data message is longer than the limit. The first byte's lowest bit
 * also makes both parsers a client's (wsf_from_server: masked frames refused). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wsframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct sum {
    size_t n;
    uint64_t h;
} sum_t;

static int on_msg(void *ctx, const wsf_msg_t *m)
{
    sum_t *s = ctx;
    /* data messages are cut at the parser's max (64 here); control frames are
     * at most 125 bytes by the protocol and kept whole */
    size_t most = m->opcode >= 8 ? 125 : 64;
    if (m->len > most || (m->len < m->full_len) != m->truncated || (m->len && !m->data))
        abort();
    s->n++;
    s->h = s->h * 131 + m->opcode + m->close_code * 7 + m->full_len;
    for (size_t i = 0; i < m->len; i++)
        s->h = s->h * 31 + m->data[i];
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t cut = data[0] % size;
    data++, size--;
    if (cut > size)
        cut = size;
    wsf_t a, b;
    sum_t sa = {0}, sb = {0};
    bool client = data[-1] & 1;
    wsf_init(&a, 64);
    wsf_init(&b, 64);
    if (client) {
        wsf_from_server(&a);
        wsf_from_server(&b);
    }
    int ra = wsf_feed(&a, data, size, on_msg, &sa);
    int rb = wsf_feed(&b, data, cut, on_msg, &sb);
    if (rb == 0)
        rb = wsf_feed(&b, data + cut, size - cut, on_msg, &sb);
    if (ra != rb || sa.n != sb.n || sa.h != sb.h)
        abort();
    if (ra != 0 && a.error[0] == '\0')
        abort();
    wsf_fini(&a);
    wsf_fini(&b);
    return 0;
}

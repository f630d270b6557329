/* Fuzz target of capture/pcap/keylog.c and tlsflow.c (with tlscrypt.c).
 * Input: key log text up to the first NUL byte, then chunks of one TLS
 * connection: a byte whose low bit is the direction (1: client) and whose
 * other bits give the length ((b >> 1) * 16 + 1, capped by what is left),
 * then that many bytes. Each connection must end counted exactly once:
 * decrypted or by one reason, and plaintext never exceeds what came in. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keylog.h"
#include "tlsflow.h"

static size_t plain_bytes;
static unsigned plain_sum;

static void on_plain(void *opaque, bool client, const uint8_t *p, size_t n, int64_t ts)
{
    (void)opaque;
    (void)client;
    (void)ts;
    for (size_t i = 0; i < n; i++) /* every byte read: a bad pointer or length shows under ASan */
        plain_sum += p[i];
    plain_bytes += n;
}

static void on_lost(void *opaque, int64_t ts)
{
    (void)opaque;
    (void)ts;
}

static const tlsflow_ops_t ops = { on_plain, on_lost };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t klen = nul ? (size_t)(nul - data) : size;
    keylog_t *k = keylog_new();
    if (k == NULL)
        return 0;
    keylog_add_text(k, "fuzz", (const char *)data, klen);
    tlsflow_ctx_t ctx = { .keys = k, .follow = klen % 2 == 1 }; /* odd: the held-bytes path of live capture */
    tlsflow_t *f = tlsflow_new(&ctx, "fuzz", &ops, NULL);
    plain_bytes = 0;
    size_t at = nul ? klen + 1 : size, fed = 0;
    int64_t ts = 1;
    while (f != NULL && at < size) {
        uint8_t b = data[at++];
        size_t n = (size_t)(b >> 1) * 16 + 1;
        if (n > size - at)
            n = size - at;
        tlsflow_data(f, b & 1, data + at, n, ts++);
        fed += n;
        at += n;
    }
    tlsflow_free(f, ts);
    uint64_t counted = ctx.st.decrypted;
    for (int i = 0; i < TLSFLOW_NREASONS; i++)
        counted += ctx.st.failed[i];
    if (f != NULL && (counted != 1 || plain_bytes > fed))
        abort();
    if (getenv("FUZZ_TLS_VERBOSE"))
        fprintf(stderr, "fuzz_tls: %zu plaintext bytes, %llu decrypted\n", plain_bytes,
                (unsigned long long)ctx.st.decrypted);
    keylog_free(k);
    return 0;
}

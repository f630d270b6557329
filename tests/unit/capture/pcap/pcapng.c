/* Unit tests of capture/pcap/pcapng.c: packets with their interface's link
 * type, Decryption Secrets Blocks wherever they are in the file (between
 * packets too) with their byte offsets, in both byte orders, and a file cut
 * inside a block named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "pcapng.h"

typedef struct buf {
    uint8_t b[4096];
    size_t n;
    bool swap; /* write big-endian */
} buf_t;

static void put32(buf_t *f, uint32_t v)
{
    if (f->swap)
        v = __builtin_bswap32(v);
    memcpy(f->b + f->n, &v, 4);
    f->n += 4;
}

static void put16(buf_t *f, uint16_t v)
{
    if (f->swap)
        v = __builtin_bswap16(v);
    memcpy(f->b + f->n, &v, 2);
    f->n += 2;
}

static void pad(buf_t *f)
{
    while (f->n % 4)
        f->b[f->n++] = 0;
}

/* A block of type with body (padded) and both length fields; returns its offset. */
static size_t block(buf_t *f, uint32_t type, const void *body, size_t len)
{
    size_t at = f->n;
    uint32_t total = (uint32_t)(12 + ((len + 3) & ~(size_t)3));
    put32(f, type);
    put32(f, total);
    memcpy(f->b + f->n, body, len);
    f->n += len;
    pad(f);
    put32(f, total);
    return at;
}

static void shb(buf_t *f)
{
    buf_t body = { .swap = f->swap };
    put32(&body, 0x1A2B3C4Du);
    put16(&body, 1);
    put16(&body, 0);
    put32(&body, 0xFFFFFFFFu);
    put32(&body, 0xFFFFFFFFu);
    block(f, 0x0A0D0D0Au, body.b, body.n);
}

static void idb(buf_t *f, uint16_t dlt)
{
    buf_t body = { .swap = f->swap };
    put16(&body, dlt);
    put16(&body, 0);
    put32(&body, 65535);
    block(f, 1, body.b, body.n);
}

static void epb(buf_t *f, uint32_t iface, const char *data)
{
    buf_t body = { .swap = f->swap };
    size_t n = strlen(data);
    put32(&body, iface);
    put32(&body, 0);
    put32(&body, 1000000); /* 1 s in µs */
    put32(&body, (uint32_t)n);
    put32(&body, (uint32_t)n);
    memcpy(body.b + body.n, data, n);
    body.n += n;
    pad(&body);
    block(f, 6, body.b, body.n);
}

static size_t dsb(buf_t *f, const char *secrets)
{
    buf_t body = { .swap = f->swap };
    size_t n = strlen(secrets);
    put32(&body, 0x544c534bu);
    put32(&body, (uint32_t)n);
    memcpy(body.b + body.n, secrets, n);
    body.n += n;
    pad(&body);
    return block(f, 10, body.b, body.n);
}

typedef struct seen {
    int n;
    char text[4][64];
    long offset[4];
} seen_t;

static void on_secrets(void *ctx, uint32_t type, const uint8_t *data, size_t len, long offset)
{
    seen_t *s = ctx;
    assert_int_equal(type, 0x544c534bu);
    assert_true(s->n < 4 && len < 64);
    memcpy(s->text[s->n], data, len);
    s->text[s->n][len] = '\0';
    s->offset[s->n++] = offset;
}

/* SHB, IDB (Ethernet), IDB (raw IP), packet, DSB, packet, packet, DSB at the end. */
static char *sample(bool swap, size_t dsb_at[2])
{
    buf_t f = { .swap = swap };
    shb(&f);
    idb(&f, 1);
    idb(&f, 101);
    epb(&f, 0, "first packet");
    dsb_at[0] = dsb(&f, "CLIENT_RANDOM aa bb\n");
    epb(&f, 1, "second, on the raw IP interface");
    epb(&f, 0, "third");
    dsb_at[1] = dsb(&f, "CLIENT_RANDOM cc dd\n");
    char *path = strdup("/tmp/aiotest-pcapng-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, f.b, f.n), (ssize_t)f.n);
    close(fd);
    return path;
}

static void check(bool swap)
{
    size_t at[2];
    char *path = sample(swap, at);
    char err[256];

    /* every packet with its interface's link type, the secrets in between */
    pcapng_t *r = pcapng_open(path, err, sizeof err);
    assert_non_null(r);
    seen_t s = { 0 };
    pcapng_on_secrets(r, on_secrets, &s);
    pcapng_pkt_t k;
    const char *want[] = { "first packet", "second, on the raw IP interface", "third" };
    int dlts[] = { 1, 101, 1 };
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pcapng_next(r, &k, err, sizeof err), 1);
        assert_int_equal(k.dlt, dlts[i]);
        assert_int_equal(k.ts_us, 1000000);
        assert_int_equal(k.caplen, strlen(want[i]));
        assert_memory_equal(k.data, want[i], k.caplen);
        assert_int_equal(s.n, i == 0 ? 0 : 1); /* the first DSB came after packet 1 */
    }
    assert_int_equal(pcapng_next(r, &k, err, sizeof err), 0);
    assert_int_equal(s.n, 2);
    pcapng_close(r);

    /* read for its secrets only, as load_keys does: the same blocks */
    r = pcapng_open(path, err, sizeof err);
    assert_non_null(r);
    seen_t s2 = { 0 };
    pcapng_on_secrets(r, on_secrets, &s2);
    while (pcapng_next(r, &k, err, sizeof err) == 1)
        ;
    assert_int_equal(s2.n, 2);
    for (int i = 0; i < 2; i++) {
        assert_string_equal(s2.text[i], s.text[i]);
        assert_int_equal(s2.offset[i], (long)at[i]);
        assert_int_equal(s.offset[i], (long)at[i]);
    }
    assert_string_equal(s2.text[0], "CLIENT_RANDOM aa bb\n");
    assert_string_equal(s2.text[1], "CLIENT_RANDOM cc dd\n");
    pcapng_close(r);
    unlink(path);
    free(path);
}

static void test_little_endian(void **state)
{
    (void)state;
    check(false);
}

static void test_big_endian(void **state)
{
    (void)state;
    check(true);
}

/* A file cut inside a block: pcapng_next names the block and its offset
 * after handing on what came before it. */
static void test_cut_file(void **state)
{
    (void)state;
    size_t at[2];
    char *path = sample(false, at);
    assert_int_equal(truncate(path, (off_t)at[1] + 10), 0);
    char err[256];
    pcapng_t *r = pcapng_open(path, err, sizeof err);
    assert_non_null(r);
    seen_t s = { 0 };
    pcapng_on_secrets(r, on_secrets, &s);
    pcapng_pkt_t k;
    int rc, packets = 0;
    while ((rc = pcapng_next(r, &k, err, sizeof err)) == 1)
        packets++;
    assert_int_equal(packets, 3);
    assert_int_equal(rc, -1);
    char want[128];
    snprintf(want, sizeof want, "byte %zu: block cut short (the file ends inside it)", at[1]);
    assert_non_null(strstr(err, want));
    assert_int_equal(s.n, 1);
    pcapng_close(r);
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_little_endian),
        cmocka_unit_test(test_big_endian),
        cmocka_unit_test(test_cut_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

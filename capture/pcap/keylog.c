#include "keylog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct entry {
    bool used;
    uint8_t cr[KEYLOG_RANDOM_LEN];
    uint8_t len[KEYLOG_NLABELS];
    uint8_t secret[KEYLOG_NLABELS][KEYLOG_MAX_SECRET];
} entry_t;

struct keylog {
    entry_t *tab;        /* open addressing, size a power of two */
    size_t size, used;
    char *path;          /* the file to re-read, or NULL */
    long offset;         /* bytes of it consumed (through the last newline) */
    bool follow;
    uint64_t file_lines;
    keylog_stats_t st;
};

static const struct { const char *name; int label; } labels[] = {
    { "CLIENT_RANDOM", KEYLOG_CLIENT_RANDOM },
    { "CLIENT_HANDSHAKE_TRAFFIC_SECRET", KEYLOG_CLIENT_HS_TRAFFIC },
    { "SERVER_HANDSHAKE_TRAFFIC_SECRET", KEYLOG_SERVER_HS_TRAFFIC },
    { "CLIENT_TRAFFIC_SECRET_0", KEYLOG_CLIENT_TRAFFIC_0 },
    { "SERVER_TRAFFIC_SECRET_0", KEYLOG_SERVER_TRAFFIC_0 },
    /* known and not needed here: well-formed, ignored */
    { "EXPORTER_SECRET", -1 },
    { "EARLY_EXPORTER_SECRET", -1 },
    { "CLIENT_EARLY_TRAFFIC_SECRET", KEYLOG_CLIENT_EARLY_TRAFFIC },
    { "RSA", -1 },
};

keylog_t *keylog_new(void)
{
    keylog_t *k = calloc(1, sizeof *k);
    if (k == NULL)
        return NULL;
    k->size = 64;
    k->tab = calloc(k->size, sizeof *k->tab);
    if (k->tab == NULL) {
        free(k);
        return NULL;
    }
    return k;
}

void keylog_free(keylog_t *k)
{
    if (k == NULL)
        return;
    free(k->tab);
    free(k->path);
    free(k);
}

/* client_randoms are random: their first bytes are a good hash */
static size_t slot_of(const keylog_t *k, const uint8_t cr[KEYLOG_RANDOM_LEN])
{
    uint64_t h;
    memcpy(&h, cr, sizeof h);
    size_t i = (size_t)h & (k->size - 1);
    while (k->tab[i].used && memcmp(k->tab[i].cr, cr, KEYLOG_RANDOM_LEN) != 0)
        i = (i + 1) & (k->size - 1);
    return i;
}

static int grow(keylog_t *k)
{
    keylog_t n = *k;
    n.size = k->size * 2;
    n.tab = calloc(n.size, sizeof *n.tab);
    if (n.tab == NULL)
        return -1;
    for (size_t i = 0; i < k->size; i++)
        if (k->tab[i].used)
            n.tab[slot_of(&n, k->tab[i].cr)] = k->tab[i];
    free(k->tab);
    k->tab = n.tab;
    k->size = n.size;
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes a whole hex field of at most max bytes; its length, or -1. */
static int unhex(const char *p, size_t n, uint8_t *out, size_t max)
{
    if (n == 0 || n % 2 != 0 || n / 2 > max)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        int a = hexval((unsigned char)p[i]), b = hexval((unsigned char)p[i + 1]);
        if (a < 0 || b < 0)
            return -1;
        out[i / 2] = (uint8_t)(a << 4 | b);
    }
    return (int)(n / 2);
}

static void bad(keylog_t *k, const char *where, uint64_t line, const char *what)
{
    if (k->st.malformed++ == 0)
        snprintf(k->st.first_bad, sizeof k->st.first_bad, "%s:%llu: %s", where, (unsigned long long)line, what);
}

/* One line without its newline. */
static void add_line(keylog_t *k, const char *where, uint64_t lineno, const char *p, size_t n)
{
    k->st.lines++;
    while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (i == n || p[i] == '#')
        return;
    const char *f[3];
    size_t fl[3], nf = 0;
    while (i < n) {
        size_t s = i;
        while (i < n && p[i] != ' ' && p[i] != '\t')
            i++;
        if (nf < 3) {
            f[nf] = p + s;
            fl[nf] = i - s;
        }
        nf++;
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
    }
    if (nf != 3) {
        bad(k, where, lineno, "expected LABEL CLIENT_RANDOM SECRET (3 fields)");
        return;
    }
    int label = -2;
    for (size_t j = 0; j < sizeof labels / sizeof labels[0]; j++)
        if (strlen(labels[j].name) == fl[0] && memcmp(labels[j].name, f[0], fl[0]) == 0)
            label = labels[j].label;
    /* the secrets after KeyUpdates (OpenSSL: "CLIENT_TRAFFIC_SECRET_N"): derived here instead */
    if (label == -2 && ((fl[0] > 22 && memcmp(f[0], "CLIENT_TRAFFIC_SECRET_", 22) == 0) ||
                        (fl[0] > 22 && memcmp(f[0], "SERVER_TRAFFIC_SECRET_", 22) == 0)))
        label = -1;
    if (label == -2) {
        bad(k, where, lineno, "unknown label");
        return;
    }
    if (label == -1) {
        k->st.ignored++;
        return;
    }
    uint8_t cr[KEYLOG_RANDOM_LEN], secret[KEYLOG_MAX_SECRET];
    if (unhex(f[1], fl[1], cr, sizeof cr) != KEYLOG_RANDOM_LEN) {
        bad(k, where, lineno, "client_random is not 64 hex digits");
        return;
    }
    int slen = unhex(f[2], fl[2], secret, sizeof secret);
    if (slen < 0 || (label == KEYLOG_CLIENT_RANDOM && slen != 48) ||
        (label != KEYLOG_CLIENT_RANDOM && slen != 32 && slen != 48)) {
        bad(k, where, lineno, "secret is not hex of the label's length (48 bytes; 32 or 48 for TLS 1.3)");
        return;
    }
    if ((k->used + 1) * 2 > k->size && grow(k) != 0)
        return;
    entry_t *e = &k->tab[slot_of(k, cr)];
    if (!e->used) {
        e->used = true;
        memcpy(e->cr, cr, sizeof cr);
        k->used++;
    }
    if (e->len[label] == 0)
        k->st.secrets++;
    memcpy(e->secret[label], secret, (size_t)slen);
    e->len[label] = (uint8_t)slen;
}

/* Lines of p, the last one too when last is set; returns bytes consumed. */
static size_t add_lines(keylog_t *k, const char *where, uint64_t *lineno, const char *p, size_t n, bool last)
{
    size_t at = 0;
    while (at < n) {
        const char *nl = memchr(p + at, '\n', n - at);
        if (nl == NULL && !last)
            break;
        size_t len = nl ? (size_t)(nl - (p + at)) : n - at;
        add_line(k, where, ++*lineno, p + at, len);
        at += len + (nl != NULL);
    }
    return at;
}

void keylog_add_text(keylog_t *k, const char *where, const char *p, size_t n)
{
    uint64_t lineno = 0;
    add_lines(k, where, &lineno, p, n, true);
}

size_t keylog_refresh(keylog_t *k)
{
    struct stat sb;
    /* called for every record that waits for a key: a stat when nothing was added */
    if (k->path == NULL || stat(k->path, &sb) != 0 || sb.st_size == (off_t)k->offset)
        return 0;
    if (sb.st_size < (off_t)k->offset) {
        /* truncated or replaced (a browser started again): its secrets are kept, its lines read anew */
        k->offset = 0;
        k->file_lines = 0;
    }
    FILE *fp = fopen(k->path, "rb");
    if (fp == NULL)
        return 0;
    uint64_t before = k->st.secrets;
    char buf[65536];
    size_t have = 0, got;
    if (fseek(fp, k->offset, SEEK_SET) == 0) {
        while ((got = fread(buf + have, 1, sizeof buf - have, fp)) > 0) {
            have += got;
            size_t used = add_lines(k, k->path, &k->file_lines, buf, have, false);
            if (used == 0 && have == sizeof buf) {
                /* a line longer than the buffer: not a key log line */
                bad(k, k->path, ++k->file_lines, "line too long");
                used = have;
            }
            k->offset += (long)used;
            memmove(buf, buf + used, have - used);
            have -= used;
        }
        if (have > 0 && !k->follow)
            k->offset += (long)add_lines(k, k->path, &k->file_lines, buf, have, true);
    }
    fclose(fp);
    return (size_t)(k->st.secrets - before);
}

int keylog_open(keylog_t *k, const char *path, bool follow, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    fclose(fp);
    free(k->path);
    k->path = strdup(path);
    if (k->path == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    k->offset = 0;
    k->file_lines = 0;
    k->follow = follow;
    keylog_refresh(k);
    return 0;
}

size_t keylog_find(const keylog_t *k, const uint8_t cr[KEYLOG_RANDOM_LEN], enum keylog_label label,
                   const uint8_t **secret)
{
    const entry_t *e = &k->tab[slot_of(k, cr)];
    if (!e->used || e->len[label] == 0)
        return 0;
    *secret = e->secret[label];
    return e->len[label];
}

void keylog_get_stats(const keylog_t *k, keylog_stats_t *st)
{
    *st = k->st;
}

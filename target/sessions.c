#include "sessions.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define KEY_BYTES (SESSIONS_KEY_LEN / 2)
#define NIL UINT32_MAX

struct entry {
    uint8_t sid[KEY_BYTES], tok[KEY_BYTES], csrf[KEY_BYTES];
    bool used, has_csrf;
    uint32_t next_sid, next_tok; /* hash chains of the two keys */
    struct sessions_view view;
};

/* Entries are handed out in ring order, so the slot a login takes next is the
 * oldest one: eviction is free. Two chained hash indexes find an entry by
 * token and by session id; the keys are random, so their first bytes hash. */
struct sessions {
    pthread_mutex_t lock;
    struct entry *e;
    uint32_t cap, ring;
    uint32_t *by_sid, *by_tok;
    uint32_t mask;
    uint64_t orders;
};

struct sessions *sessions_new(size_t capacity)
{
    if (capacity < 1 || capacity >= NIL / 2)
        return NULL;
    size_t buckets = 1;
    while (buckets < capacity * 2)
        buckets *= 2;
    struct sessions *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->e = calloc(capacity, sizeof(*s->e));
    s->by_sid = malloc(buckets * sizeof(*s->by_sid));
    s->by_tok = malloc(buckets * sizeof(*s->by_tok));
    if (!s->e || !s->by_sid || !s->by_tok || pthread_mutex_init(&s->lock, NULL))
        goto fail;
    memset(s->by_sid, 0xff, buckets * sizeof(*s->by_sid));
    memset(s->by_tok, 0xff, buckets * sizeof(*s->by_tok));
    s->cap = (uint32_t)capacity;
    s->mask = (uint32_t)(buckets - 1);
    return s;

fail:
    free(s->by_tok);
    free(s->by_sid);
    free(s->e);
    free(s);
    return NULL;
}

void sessions_free(struct sessions *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->lock);
    free(s->by_tok);
    free(s->by_sid);
    free(s->e);
    free(s);
}

/* Hex text to key bytes; false when text is not exactly SESSIONS_KEY_LEN hex digits. */
static bool key_parse(const char *text, uint8_t key[KEY_BYTES])
{
    if (!text)
        return false;
    for (size_t i = 0; i < KEY_BYTES; i++) {
        int hi = OPENSSL_hexchar2int((unsigned char)text[2 * i]);
        int lo = hi < 0 ? -1 : OPENSSL_hexchar2int((unsigned char)text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        key[i] = (uint8_t)(hi << 4 | lo);
    }
    return text[SESSIONS_KEY_LEN] == '\0';
}

static void key_format(const uint8_t key[KEY_BYTES], char out[SESSIONS_KEY_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < KEY_BYTES; i++) {
        out[2 * i] = digits[key[i] >> 4];
        out[2 * i + 1] = digits[key[i] & 15];
    }
    out[SESSIONS_KEY_LEN] = '\0';
}

static void key_random(uint8_t key[KEY_BYTES])
{
    /* getrandom on the urandom pool never fails for 16 bytes once the pool is
     * initialised; loop only on interruption. */
    size_t got = 0;
    while (got < KEY_BYTES) {
        ssize_t n = getrandom(key + got, KEY_BYTES - got, 0);
        if (n > 0)
            got += (size_t)n;
    }
}

static uint32_t key_bucket(const struct sessions *s, const uint8_t key[KEY_BYTES])
{
    uint32_t h;
    memcpy(&h, key, sizeof(h));
    return h & s->mask;
}

/* The chain link field of entry i for one of the two indexes. */
static uint32_t *link_of(struct sessions *s, uint32_t i, bool tok)
{
    return tok ? &s->e[i].next_tok : &s->e[i].next_sid;
}

static void index_insert(struct sessions *s, uint32_t i, bool tok)
{
    uint32_t *heads = tok ? s->by_tok : s->by_sid;
    uint32_t b = key_bucket(s, tok ? s->e[i].tok : s->e[i].sid);
    *link_of(s, i, tok) = heads[b];
    heads[b] = i;
}

static void index_remove(struct sessions *s, uint32_t i, bool tok)
{
    uint32_t *p = &(tok ? s->by_tok : s->by_sid)[key_bucket(s, tok ? s->e[i].tok : s->e[i].sid)];
    while (*p != NIL && *p != i)
        p = link_of(s, *p, tok);
    if (*p == i)
        *p = *link_of(s, i, tok);
}

static struct entry *find(struct sessions *s, const char *text, bool tok)
{
    uint8_t key[KEY_BYTES];
    if (!key_parse(text, key))
        return NULL;
    for (uint32_t i = (tok ? s->by_tok : s->by_sid)[key_bucket(s, key)]; i != NIL;
         i = *link_of(s, i, tok))
        if (!memcmp(tok ? s->e[i].tok : s->e[i].sid, key, KEY_BYTES))
            return &s->e[i];
    return NULL;
}

static void entry_drop(struct sessions *s, struct entry *e)
{
    uint32_t i = (uint32_t)(e - s->e);
    index_remove(s, i, true);
    index_remove(s, i, false);
    e->used = false;
}

int sessions_login(struct sessions *s, const char *user,
                   char token[SESSIONS_KEY_LEN + 1], char sid[SESSIONS_KEY_LEN + 1])
{
    size_t ulen = strlen(user);
    if (ulen > SESSIONS_USER_MAX)
        return SESSIONS_ERANGE;
    struct entry fresh = {.used = true};
    key_random(fresh.tok);
    key_random(fresh.sid);
    memcpy(fresh.view.user, user, ulen + 1);

    pthread_mutex_lock(&s->lock);
    uint32_t i = s->ring;
    s->ring = (s->ring + 1) % s->cap;
    if (s->e[i].used)
        entry_drop(s, &s->e[i]);
    s->e[i] = fresh;
    index_insert(s, i, true);
    index_insert(s, i, false);
    pthread_mutex_unlock(&s->lock);

    key_format(fresh.tok, token);
    key_format(fresh.sid, sid);
    return SESSIONS_OK;
}

static int view_of(struct sessions *s, const char *key, bool tok, struct sessions_view *out)
{
    pthread_mutex_lock(&s->lock);
    struct entry *e = find(s, key, tok);
    if (e)
        *out = e->view;
    pthread_mutex_unlock(&s->lock);
    return e ? SESSIONS_OK : SESSIONS_ENOENT;
}

int sessions_by_token(struct sessions *s, const char *token, struct sessions_view *out)
{
    return view_of(s, token, true, out);
}

int sessions_by_sid(struct sessions *s, const char *sid, struct sessions_view *out)
{
    return view_of(s, sid, false, out);
}

int sessions_cart_add(struct sessions *s, const char *sid, uint32_t item, uint32_t qty,
                      struct sessions_view *out)
{
    int rc = SESSIONS_OK;
    if (qty == 0)
        return SESSIONS_ERANGE;
    pthread_mutex_lock(&s->lock);
    struct entry *e = find(s, sid, false);
    if (!e) {
        rc = SESSIONS_ENOENT;
        goto out;
    }
    struct sessions_view *v = &e->view;
    unsigned l = 0;
    while (l < v->n_lines && v->lines[l].item != item)
        l++;
    if (l == SESSIONS_CART_MAX) {
        rc = SESSIONS_EFULL;
        goto out;
    }
    if (l == v->n_lines)
        v->lines[v->n_lines++] = (struct sessions_line){item, 0};
    v->lines[l].qty = v->lines[l].qty > UINT32_MAX - qty ? UINT32_MAX : v->lines[l].qty + qty;
    *out = *v;
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sessions_checkout(struct sessions *s, const char *sid, char csrf[SESSIONS_KEY_LEN + 1])
{
    uint8_t key[KEY_BYTES];
    key_random(key);
    pthread_mutex_lock(&s->lock);
    struct entry *e = find(s, sid, false);
    if (e) {
        memcpy(e->csrf, key, KEY_BYTES);
        e->has_csrf = true;
    }
    pthread_mutex_unlock(&s->lock);
    if (!e)
        return SESSIONS_ENOENT;
    key_format(key, csrf);
    return SESSIONS_OK;
}

int sessions_order(struct sessions *s, const char *sid, const char *csrf, uint64_t *order_id)
{
    uint8_t key[KEY_BYTES];
    bool csrf_ok = key_parse(csrf, key);
    int rc = SESSIONS_OK;
    pthread_mutex_lock(&s->lock);
    struct entry *e = find(s, sid, false);
    if (!e)
        rc = SESSIONS_ENOENT;
    else if (!csrf_ok || !e->has_csrf || memcmp(e->csrf, key, KEY_BYTES))
        rc = SESSIONS_ECSRF;
    else {
        *order_id = ++s->orders;
        e->view.n_lines = 0;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sessions_logout(struct sessions *s, const char *token, const char *sid)
{
    pthread_mutex_lock(&s->lock);
    struct entry *e = find(s, token, true);
    if (!e)
        e = find(s, sid, false);
    if (e)
        entry_drop(s, e);
    pthread_mutex_unlock(&s->lock);
    return e ? SESSIONS_OK : SESSIONS_ENOENT;
}

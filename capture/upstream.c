/* upstream: the capture proxy's requests to origins, on the shared HTTP
 * client (http/hc.h). This file keeps only what a proxy adds to the client:
 * a pool of client slots per origin, requests built from the client's
 * recorded headers, the response handed to the front as rec_headers_t, and
 * the answer (502/504 with a reason) when an origin fails. */
#include "upstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "clock.h"
#include "hc.h"

/* Idle pooled slots: how many in all, and how long each is kept (defaults
 * of up_pool_opts_t's max_idle and idle_us). */
#define UP_MAX_IDLE 256
#define UP_IDLE_US (30 * 1000000ull)
/* The h2 stream window towards origins: what a paused stream may still
 * receive before flow control holds the origin back. */
#define UP_H2_STREAM_WINDOW (1u << 20)

typedef struct up_origin up_origin_t;

/* One hc connection slot of an origin. HTTP/1.1 slots carry one request at
 * a time and wait in the origin's idle list between requests; the origin's
 * h2 slot carries every request to it at once. */
typedef struct up_slot {
    hc_conn_t *hc;
    up_origin_t *org;
    unsigned inflight;         /* handles submitted on it */
    bool idle;                 /* in org->idle */
    bool dead;                 /* on the pool's reap list */
    uint64_t idle_since_us;
    struct up_slot *next;      /* org->idle or the reap list */
    struct up_slot *all_prev, *all_next;  /* the pool's slots */
} up_slot_t;

struct up_origin {
    up_pool_t *pool;
    char key[300];             /* "scheme://host:port" */
    char host[256];
    hc_target_t t;
    struct sockaddr_storage addr;  /* looked up once (hc_target_t's cache) */
    socklen_t addr_len;
    up_slot_t *idle;           /* HTTP/1.1 slots without a request */
    up_slot_t *h2;             /* the slot that negotiated h2, NULL until one did */
    /* The slot whose first connection is being opened to an origin expected
     * to speak h2: new requests wait on it for ALPN instead of each opening
     * a connection of its own (on_negotiated spreads them when ALPN says
     * HTTP/1.1). NULL when no such attempt is under way. */
    up_slot_t *opening;
    bool alpn_h1;              /* the origin's last ALPN chose HTTP/1.1: do not wait */
    up_origin_t *next;
};

/* What the handle waits for on its event. */
enum up_pending { UP_P_NONE, UP_P_DONE, UP_P_RETRY, UP_P_CANCEL };

struct up_conn {
    hc_xch_t x;                /* x.owner is the handle */
    up_pool_t *pool;
    up_slot_t *slot;
    const up_ops_t *ops;
    void *front;               /* NULL once the front is gone or told the end */
    /* The request, copied (the front's headers do not outlive up_start). */
    char *buf;
    size_t buf_cap;
    hc_header_t *hdrs;
    size_t n_hdrs, hdrs_cap;
    size_t te_trailers;        /* index of "te: trailers" in hdrs (h2 only), or SIZE_MAX */
    const char *method, *target, *authority;
    enum fwd_framing framing;
    int64_t body_length;
    bool in_hc;                /* submitted: hc holds x */
    bool retried;
    bool aborted;              /* the front left while hc held x */
    int64_t first_byte_us;
    /* Delivered from the loop, never inside up_* or hc's callbacks. */
    struct event ev;
    enum up_pending pending;
    hc_fail_t fail;
    rec_headers_t trailers;
    bool head_seen;
    char why[300];             /* hc_conn_why of a failed connect or handshake */
    up_origin_t *org;          /* named in a failure's reason */
    up_conn_t *free_next;      /* the pool's free list */
    up_conn_t *live_prev, *live_next;  /* the pool's live handles */
};

struct up_pool {
    up_pool_opts_t o;
    hc_env_t env;
    up_origin_t *origins;
    unsigned nidle;
    up_slot_t *reap;           /* slots to free from the loop */
    struct event reap_ev, sweep_ev;
    bool sweep_armed;
    up_conn_t *free_handles;
    unsigned n_free;
    /* The head handed to a front: rec_headers_t over copies of hc's slices. */
    rec_hfield_t *hv;
    size_t hv_cap;
    char *hb;
    size_t hb_cap;
    hc_header_t *rh;           /* a rendered request's headers without te (HTTP/1.1) */
    size_t rh_cap;
    up_slot_t *slots;          /* every slot (freed with the pool) */
    up_conn_t *live;           /* every handle not on the free list */
};

static void handle_ev(evutil_socket_t fd, short what, void *arg);
static void handle_later(up_conn_t *h, enum up_pending what);

/* Makes *v hold at least n items of size bytes (kept from one request to
 * the next: no allocation once warm). 0 or -1 (out of memory, *v unchanged). */
static int grow(void *v, size_t *cap, size_t n, size_t size)
{
    if (n <= *cap)
        return 0;
    void *p = realloc(*(void **)v, n * size);
    if (!p)
        return -1;
    *(void **)v = p;
    *cap = n;
    return 0;
}

/* ---- slots */

static void slot_unidle(up_slot_t *s)
{
    if (!s->idle)
        return;
    for (up_slot_t **pp = &s->org->idle; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    s->next = NULL;
    s->idle = false;
    s->org->pool->nidle--;
}

/* Freed from the loop: hc may be inside one of its callbacks for it now. */
static void slot_kill(up_slot_t *s)
{
    if (s->dead)
        return;
    up_pool_t *p = s->org->pool;
    slot_unidle(s);
    if (s->org->h2 == s)
        s->org->h2 = NULL;
    if (s->org->opening == s)
        s->org->opening = NULL;
    s->dead = true;
    s->next = p->reap;
    p->reap = s;
    event_active(&p->reap_ev, 0, 0);
}

static void slot_free(up_slot_t *s)
{
    up_pool_t *p = s->org->pool;
    if (s->all_prev)
        s->all_prev->all_next = s->all_next;
    else
        p->slots = s->all_next;
    if (s->all_next)
        s->all_next->all_prev = s->all_prev;
    hc_conn_free(s->hc);
    free(s);
}

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    up_pool_t *p = arg;
    while (p->reap) {
        up_slot_t *s = p->reap;
        p->reap = s->next;
        slot_free(s);
    }
}

static void sweep_arm(up_pool_t *p)
{
    if (p->sweep_armed)
        return;
    /* A sixth of the idle time: a connection goes at most 1/6 late. */
    uint64_t us = p->o.idle_us / 6;
    struct timeval tv = { .tv_sec = (time_t)(us / 1000000), .tv_usec = (suseconds_t)(us % 1000000) };
    evtimer_add(&p->sweep_ev, &tv);
    p->sweep_armed = true;
}

/* Closes slots idle for o.idle_us; trims the others' buffers. */
static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    up_pool_t *p = arg;
    uint64_t now = clk_mono_us(), limit = p->o.idle_us;
    bool left = false;
    p->sweep_armed = false;
    for (up_origin_t *o = p->origins; o; o = o->next) {
        for (up_slot_t *s = o->idle, *next; s; s = next) {
            next = s->next;
            if (now - s->idle_since_us >= limit) {
                slot_kill(s);
            } else {
                hc_conn_trim(s->hc); /* idle a while: its buffers go, not per request */
                left = true;
            }
        }
        if (o->h2 && o->h2->inflight == 0) {
            if (now - o->h2->idle_since_us >= limit)
                slot_kill(o->h2);
            else
                left = true;
        }
    }
    if (left)
        sweep_arm(p);
}

static up_slot_t *slot_new(up_origin_t *o)
{
    up_slot_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->org = o;
    if (!(s->hc = hc_conn_new(&o->pool->env, &o->t))) {
        free(s);
        return NULL;
    }
    hc_conn_set_owner(s->hc, s);
    up_pool_t *p = o->pool;
    s->all_next = p->slots;
    if (p->slots)
        p->slots->all_prev = s;
    p->slots = s;
    return s;
}

/* A handle left s: s goes idle (HTTP/1.1 back to the pool, within its
 * limit), stays the origin's h2 slot, or goes. */
static void slot_release(up_slot_t *s)
{
    if (s->dead || --s->inflight > 0)
        return;
    up_pool_t *p = s->org->pool;
    if (s->org->opening == s)
        s->org->opening = NULL; /* nothing waits on it any more (its attempt failed) */
    s->idle_since_us = clk_mono_us();
    if (hc_conn_multiplexed(s->hc) && hc_conn_proto(s->hc)) {
        if (s->org->h2 == NULL)
            s->org->h2 = s;
        if (s->org->h2 != s)
            slot_kill(s);
        else
            sweep_arm(p);
        return;
    }
    if (p->nidle >= p->o.max_idle) {
        slot_kill(s);
        return;
    }
    s->idle = true;
    s->next = s->org->idle;
    s->org->idle = s;
    p->nidle++;
    sweep_arm(p);
}

static up_slot_t *slot_take(up_origin_t *o);

/* ALPN gave HTTP/1.1 on s while requests waited on it for h2: s keeps the
 * oldest, each of the others moves (before anything was sent) to an idle
 * slot or a new one, as if it had come after ALPN. A request that finds no
 * slot (out of memory) fails with HC_FAIL_REQUEST. */
static void slot_spread(up_slot_t *s)
{
    up_pool_t *p = s->org->pool;
    size_t n = 0;
    for (up_conn_t *h = p->live; h; h = h->live_next)
        n += h->slot == s && h->in_hc && !h->aborted && h->x.conn == s->hc;
    /* p->live is newest first: the last one met (the oldest) stays. */
    for (up_conn_t *h = p->live, *next; h && n > 1; h = next) {
        next = h->live_next;
        if (h->slot != s || !h->in_hc || h->aborted || h->x.conn != s->hc)
            continue;
        n--;
        hc_conn_cancel(s->hc, &h->x); /* still queued: only unlinked, upload kept */
        s->inflight--;
        up_slot_t *t = slot_take(s->org);
        if (!t) {
            hc_xch_upload_free(&h->x);
            h->slot = NULL;
            h->in_hc = false;
            h->fail = HC_FAIL_REQUEST;
            handle_later(h, UP_P_DONE);
            continue;
        }
        h->slot = t;
        hc_conn_submit(t->hc, &h->x); /* a failure at once reaches on_done, which defers */
    }
}

/* After ALPN (or prior knowledge): a slot that got h2 becomes the origin's
 * h2 slot, and what waited on it goes as streams; one that got HTTP/1.1
 * spreads what waited on it. */
static void on_negotiated(hc_conn_t *c, void *owner)
{
    up_slot_t *s = owner;
    up_origin_t *o = s->org;
    if (o->opening == s)
        o->opening = NULL;
    if (hc_conn_multiplexed(c)) {
        o->alpn_h1 = false;
        if (o->h2 == NULL)
            o->h2 = s;
        return;
    }
    o->alpn_h1 = true;
    if (o->h2 == s)
        o->h2 = NULL;
    if (s->inflight > 1)
        slot_spread(s);
}

/* ---- origins */

static void origin_key(const url_t *o, char *key, size_t len)
{
    snprintf(key, len, "%s://%s%s%s:%u", o->scheme, o->ipv6 ? "[" : "", o->host,
             o->ipv6 ? "]" : "", o->port);
}

static up_origin_t *origin_get(up_pool_t *p, const url_t *u)
{
    char key[300];
    origin_key(u, key, sizeof key);
    for (up_origin_t *o = p->origins; o; o = o->next)
        if (strcmp(o->key, key) == 0)
            return o;
    up_origin_t *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->pool = p;
    snprintf(o->key, sizeof o->key, "%s", key);
    snprintf(o->host, sizeof o->host, "%s", u->host);
    o->t = (hc_target_t){
        .host = o->host, .port = u->port, .tls = u->tls,
        .want = u->tls && p->o.h2 ? HC_WANT_AUTO : HC_WANT_H1,
        .name = o->key, .addr = &o->addr, .addr_len = &o->addr_len,
    };
    o->next = p->origins;
    p->origins = o;
    return o;
}

/* A slot for one more request: the origin's h2 one, the one whose first
 * connection is being opened to an origin expected to speak h2 (the request
 * waits for its ALPN, as a browser's do), an idle HTTP/1.1 one, or a new one.
 * A slot taken before its first ALPN becomes the opening one when h2 is
 * possible and the origin did not say HTTP/1.1 before. */
static up_slot_t *slot_take(up_origin_t *o)
{
    up_slot_t *s = o->h2;
    if (s && !(hc_conn_multiplexed(s->hc) && hc_conn_proto(s->hc))) {
        o->h2 = NULL; /* reconnected to an origin that now chose HTTP/1.1 */
        s = NULL;
    }
    if (!s && o->opening) {
        s = o->opening;
        slot_unidle(s);
    }
    if (!s && (s = o->idle) != NULL)
        slot_unidle(s);
    if (!s && !(s = slot_new(o)))
        return NULL;
    /* A slot that never negotiated: new, or idle after its waiting requests
     * failed or left (possibly still in its handshake). */
    if (!o->opening && !o->alpn_h1 && !hc_conn_proto(s->hc) && hc_conn_multiplexed(s->hc))
        o->opening = s;
    s->inflight++;
    return s;
}

/* ---- the request */

/* Copies the request into h's buffer; hop-by-hop headers dropped as
 * fwd_request_head drops them, Host carried as the authority. 0 or -1. */
static int request_copy(up_conn_t *h, const up_origin_t *o, const char *method,
                        const char *target, const char *host, const rec_headers_t *hs,
                        enum fwd_framing f)
{
    const char *authority = host ? host : rec_headers_get(hs, "Host");
    const char *origin_auth = strstr(o->key, "://") + 3;
    if (!authority)
        authority = origin_auth;
    bool reframed = f != FWD_NONE;
    size_t need = strlen(method) + strlen(target) + strlen(authority) + 3, n = 0;
    for (size_t i = 0; i < hs->n; i++) {
        need += strlen(hs->v[i].name) + strlen(hs->v[i].value) + 2;
        n++;
    }
    if (grow(&h->buf, &h->buf_cap, need, 1) != 0 ||
        grow(&h->hdrs, &h->hdrs_cap, n, sizeof *h->hdrs) != 0)
        return -1;
    char *w = h->buf;
#define COPY(dst, s) do { size_t l_ = strlen(s); memcpy(w, (s), l_ + 1); (dst) = w; w += l_ + 1; } while (0)
    COPY(h->method, method);
    COPY(h->target, target);
    COPY(h->authority, authority);
    h->n_hdrs = 0;
    h->te_trailers = SIZE_MAX;
    h->body_length = -1;
    for (size_t i = 0; i < hs->n; i++) {
        const char *name = hs->v[i].name, *value = hs->v[i].value;
        bool te = fwd_is_te_trailers(name, value);
        if (strcasecmp(name, "Content-Length") == 0 && f == FWD_LENGTH)
            h->body_length = strtoll(value, NULL, 10);
        if ((fwd_is_hop(hs, name) && !te) || strcasecmp(name, "Host") == 0 ||
            (reframed && strcasecmp(name, "Content-Length") == 0))
            continue;
        hc_header_t *hd = &h->hdrs[h->n_hdrs];
        if (te)
            h->te_trailers = h->n_hdrs;
        COPY(hd->name, name);
        hd->name_len = strlen(name);
        COPY(hd->value, value);
        hd->value_len = strlen(value);
        h->n_hdrs++;
    }
#undef COPY
    if (f == FWD_LENGTH && h->body_length < 0)
        h->body_length = 0;
    h->framing = f;
    return 0;
}

/* hc renders the request once the slot is ready and its protocol known. */
static int render(hc_xch_t *x, hc_req_t *rv)
{
    up_conn_t *h = x->owner;
    up_pool_t *p = h->pool;
    const hc_proto_t *proto = x->conn ? hc_conn_proto(x->conn) : NULL;
    bool h2 = proto && proto->proto_id == HC_PROTO_H2;
    const hc_header_t *hdrs = h->hdrs;
    size_t n = h->n_hdrs;
    if (h->te_trailers != SIZE_MAX && !h2) {
        /* te is hop-by-hop in HTTP/1.1: only h2 carries "te: trailers". */
        if (grow(&p->rh, &p->rh_cap, n, sizeof *p->rh) != 0)
            return -1;
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (i != h->te_trailers)
                p->rh[k++] = hdrs[i];
        hdrs = p->rh;
        n = k;
    }
    *rv = (hc_req_t){
        .method = h->method, .method_len = strlen(h->method),
        .path = h->target, .path_len = strlen(h->target),
        .authority = h->authority, .authority_len = strlen(h->authority),
        .hdrs = hdrs, .n_hdrs = n,
        .body_streamed = h->framing != FWD_NONE,
        .body_length = h->framing == FWD_LENGTH ? h->body_length : -1,
        .head = strcmp(h->method, "HEAD") == 0,
    };
    return 0;
}

/* ---- handles */

static up_conn_t *handle_new(up_pool_t *p)
{
    up_conn_t *h = p->free_handles;
    if (h) {
        p->free_handles = h->free_next;
        p->n_free--;
    } else if (!(h = calloc(1, sizeof *h))) {
        return NULL;
    }
    char *buf = h->buf;
    size_t buf_cap = h->buf_cap, hdrs_cap = h->hdrs_cap;
    hc_header_t *hdrs = h->hdrs;
    memset(h, 0, sizeof *h);
    h->buf = buf;
    h->buf_cap = buf_cap;
    h->hdrs = hdrs;
    h->hdrs_cap = hdrs_cap;
    h->pool = p;
    h->x.owner = h;
    h->x.stream = true;
    event_assign(&h->ev, p->o.base, -1, 0, handle_ev, h);
    h->live_next = p->live;
    if (p->live)
        p->live->live_prev = h;
    p->live = h;
    return h;
}

static void handle_release_slot(up_conn_t *h)
{
    if (h->slot) {
        slot_release(h->slot);
        h->slot = NULL;
    }
}

/* Back to the pool's free list (a few hundred kept for the next requests). */
static void handle_free(up_conn_t *h)
{
    up_pool_t *p = h->pool;
    event_del(&h->ev);
    handle_release_slot(h);
    rec_headers_fini(&h->trailers);
    h->trailers = (rec_headers_t){ 0 };
    if (h->live_prev)
        h->live_prev->live_next = h->live_next;
    else
        p->live = h->live_next;
    if (h->live_next)
        h->live_next->live_prev = h->live_prev;
    if (p->n_free < 512) {
        h->free_next = p->free_handles;
        p->free_handles = h;
        p->n_free++;
        return;
    }
    free(h->buf);
    free(h->hdrs);
    free(h);
}

static void handle_later(up_conn_t *h, enum up_pending what)
{
    h->pending = what;
    event_active(&h->ev, 0, 0);
}

/* ---- the response, as the front takes it */

/* hc's header slices as rec_headers_t (valid until the next call). 0 or -1. */
static int headers_view(up_pool_t *p, const hc_header_t *v, size_t n, rec_headers_t *out)
{
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += v[i].name_len + v[i].value_len + 2;
    if (grow(&p->hb, &p->hb_cap, bytes, 1) != 0 || grow(&p->hv, &p->hv_cap, n, sizeof *p->hv) != 0)
        return -1;
    char *w = p->hb;
    for (size_t i = 0; i < n; i++) {
        p->hv[i].name = w;
        memcpy(w, v[i].name, v[i].name_len);
        w[v[i].name_len] = '\0';
        w += v[i].name_len + 1;
        p->hv[i].value = w;
        memcpy(w, v[i].value, v[i].value_len);
        w[v[i].value_len] = '\0';
        w += v[i].value_len + 1;
    }
    *out = (rec_headers_t){ .v = p->hv, .n = n };
    return 0;
}

static void on_interim(hc_xch_t *x, const hc_resp_t *resp)
{
    up_conn_t *h = x->owner;
    rec_headers_t hs;
    if (!h->first_byte_us)
        h->first_byte_us = clk_wall_us();
    if (!h->front || h->aborted || headers_view(h->pool, resp->headers, resp->n_headers, &hs) != 0)
        return;
    h->ops->on_interim(h->front, resp->status, &hs);
}

static int on_head(hc_xch_t *x, const hc_resp_t *resp)
{
    up_conn_t *h = x->owner;
    if (!h->first_byte_us)
        h->first_byte_us = clk_wall_us();
    h->head_seen = true;
    if (h->aborted)
        return 1;
    if (!h->front)
        return 0; /* detached: the rest is read quietly */
    rec_headers_t hs;
    if (headers_view(h->pool, resp->headers, resp->n_headers, &hs) != 0)
        return 1;
    int status = resp->status;
    bool bodiless = x->head || status == 204 || status == 304;
    const char *cl = rec_headers_get(&hs, "Content-Length");
    long long len = !bodiless && cl ? strtoll(cl, NULL, 10) : -1;
    up_resp_t r = {
        .status = status, .headers = &hs, .content_length = len,
        .has_body = !bodiless && len != 0 && !resp->ended, .first_byte_us = h->first_byte_us,
    };
    h->ops->on_head(h->front, &r);
    return h->aborted ? 1 : 0;
}

static int on_body(hc_xch_t *x, const char *data, size_t len)
{
    up_conn_t *h = x->owner;
    if (h->aborted)
        return 1;
    if (h->front)
        h->ops->on_body(h->front, data, len);
    return h->aborted ? 1 : 0;
}

static void on_drain(hc_xch_t *x)
{
    up_conn_t *h = x->owner;
    if (h->front && !h->aborted)
        h->ops->on_drain(h->front);
}

static int trailers_copy(up_conn_t *h, const hc_resp_t *resp)
{
    rec_headers_t t;
    if (headers_view(h->pool, resp->trailers, resp->n_trailers, &t) != 0)
        return -1;
    for (size_t i = 0; i < t.n; i++)
        if (rec_headers_add(&h->trailers, t.v[i].name, t.v[i].value) != 0)
            return -1;
    return 0;
}

/* x ended in hc. The front hears of it from the loop; a body-less request
 * that met a reused socket the origin had closed goes once more. */
static void on_done(hc_xch_t *x, const hc_resp_t *resp, hc_fail_t fail)
{
    up_conn_t *h = x->owner;
    h->in_hc = false;
    if (h->aborted || !h->front) {
        handle_free(h);
        return;
    }
    if (fail != HC_OK && x->retryable && !h->retried && !h->head_seen && h->framing == FWD_NONE &&
        h->slot && !h->slot->dead) {
        h->retried = true;
        handle_later(h, UP_P_RETRY);
        return;
    }
    h->fail = fail;
    if ((fail == HC_FAIL_CONNECT || fail == HC_FAIL_TLS) && h->slot)
        snprintf(h->why, sizeof h->why, "%s", hc_conn_why(h->slot->hc));
    if (fail == HC_OK && resp && resp->n_trailers > 0 && trailers_copy(h, resp) != 0)
        h->fail = HC_FAIL_PROTOCOL;
    handle_release_slot(h);
    handle_later(h, UP_P_DONE);
}

/* Why an exchange failed, as the proxy answers and records it: "origin: what
 * happened". Returns the status to answer with (504 for a timeout, else 502). */
static int fail_reason(const up_conn_t *h, const up_origin_t *o, char *why, size_t len)
{
    static const char *const text[HC_FAIL__COUNT] = {
        [HC_FAIL_CONNECT] = "connect failed",
        [HC_FAIL_TLS] = "TLS handshake failed",
        [HC_FAIL_PROTOCOL] = "bad response",
        [HC_FAIL_H2_RST] = "stream reset by the origin",
        [HC_FAIL_H2_GOAWAY] = "request refused by GOAWAY",
        [HC_FAIL_H2_PROTOCOL] = "HTTP/2 protocol error",
        [HC_FAIL_REQUEST] = "request not sent (out of memory)",
    };
    const char *key = o ? o->key : "origin";
    if (h->fail == HC_FAIL_TIMEOUT) {
        snprintf(why, len, "%s: no answer within %.1fs", key, (double)h->pool->o.timeout_us / 1e6);
        return 504;
    }
    if (h->fail == HC_FAIL_RESET)
        snprintf(why, len, "%s closed the connection %s", key,
                 h->head_seen ? "in the middle of the response" : "before responding");
    else if (h->fail == HC_FAIL_TLS && !h->pool->o.tls)
        snprintf(why, len, "%s: no TLS context for https origins", key);
    else if (h->why[0])
        snprintf(why, len, "%s: %s", key, h->why);
    else
        snprintf(why, len, "%s: %s", key,
                 (unsigned)h->fail < HC_FAIL__COUNT && text[h->fail] ? text[h->fail] : "failed");
    return 502;
}

static void handle_ev(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    up_conn_t *h = arg;
    enum up_pending p = h->pending;
    h->pending = UP_P_NONE;
    if (p == UP_P_RETRY) {
        if (!h->front) {
            handle_free(h);
            return;
        }
        h->in_hc = true;
        h->head_seen = false;
        hc_conn_submit(h->slot->hc, &h->x);
        return;
    }
    if (p == UP_P_CANCEL) {
        if (h->in_hc && h->slot) {
            h->in_hc = false;
            hc_conn_cancel(h->slot->hc, &h->x);
            hc_xch_upload_free(&h->x);
        }
        handle_free(h);
        return;
    }
    void *front = h->front;
    const up_ops_t *ops = h->ops;
    h->front = NULL;
    if (!front) {
        handle_free(h);
        return;
    }
    if (h->fail == HC_OK) {
        if (h->trailers.n > 0 && ops->on_trailers)
            ops->on_trailers(front, &h->trailers);
        handle_free(h);
        ops->on_done(front);
        return;
    }
    char why[700];
    int status = fail_reason(h, h->org, why, sizeof why);
    handle_free(h);
    ops->on_fail(front, status, why);
}

/* ---- the API */

up_pool_t *up_pool_new(const up_pool_opts_t *o)
{
    up_pool_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->o = *o;
    if (!p->o.idle_us)
        p->o.idle_us = UP_IDLE_US;
    if (!p->o.max_idle)
        p->o.max_idle = UP_MAX_IDLE;
    if (hc_env_init(&p->env, o->base) != 0) {
        hc_env_fini(&p->env);
        free(p);
        return NULL;
    }
    hc_env_t *e = &p->env;
    e->ssl_ctx = o->tls;
    e->connect_timeout_us = e->first_byte_timeout_us = e->body_timeout_us = o->timeout_us;
    e->dns = o->dns;   /* capture's resolver: taken back before hc_env_fini */
    e->render = render;
    e->on_done = on_done;
    e->on_head = on_head;
    e->on_body = on_body;
    e->on_interim = on_interim;
    e->on_drain = on_drain;
    e->on_negotiated = on_negotiated;
    e->h2_stream_window = UP_H2_STREAM_WINDOW;
    event_assign(&p->reap_ev, o->base, -1, 0, reap_cb, p);
    evtimer_assign(&p->sweep_ev, o->base, sweep_cb, p);
    return p;
}

void up_pool_free(up_pool_t *p)
{
    if (!p)
        return;
    while (p->live) {
        up_conn_t *h = p->live;
        if (h->in_hc && h->slot) {
            h->in_hc = false;
            hc_conn_cancel(h->slot->hc, &h->x);
            hc_xch_upload_free(&h->x);
        }
        h->slot = NULL;
        handle_free(h);
    }
    while (p->free_handles) {
        up_conn_t *h = p->free_handles;
        p->free_handles = h->free_next;
        free(h->buf);
        free(h->hdrs);
        free(h);
    }
    p->reap = NULL;
    while (p->slots) {
        up_slot_t *s = p->slots;
        s->dead = true;
        slot_free(s);
    }
    while (p->origins) {
        up_origin_t *o = p->origins;
        p->origins = o->next;
        free(o);
    }
    event_del(&p->reap_ev);
    evtimer_del(&p->sweep_ev);
    if (p->o.dns)
        p->env.dns = NULL; /* the caller's: not hc's to free */
    hc_env_fini(&p->env);
    free(p->hv);
    free(p->hb);
    free(p->rh);
    free(p);
}

up_conn_t *up_start(up_pool_t *p, const url_t *origin, const char *method, const char *target,
                    const char *host, const rec_headers_t *h, enum fwd_framing f,
                    const up_ops_t *ops, void *front)
{
    up_origin_t *o = origin_get(p, origin);
    up_conn_t *c = o ? handle_new(p) : NULL;
    if (!c)
        return NULL;
    c->ops = ops;
    c->front = front;
    c->org = o;
    if (request_copy(c, o, method, target, host, h, f) != 0) {
        c->front = NULL;
        handle_free(c);
        return NULL;
    }
    if (origin->tls && !p->o.tls) {
        c->fail = HC_FAIL_TLS;
        handle_later(c, UP_P_DONE);
        return c;
    }
    if (!(c->slot = slot_take(o))) {
        c->front = NULL;
        handle_free(c);
        return NULL;
    }
    /* A failure found at once reaches on_done inside this call: it is
     * delivered from the loop like any other (on_done defers it). */
    c->in_hc = true;
    hc_conn_submit(c->slot->hc, &c->x);
    return c;
}

int up_body(up_conn_t *c, const void *p, size_t n)
{
    if (!c->in_hc || c->aborted)
        return 0;
    return hc_conn_body(&c->x, p, n) == 1 ? 1 : 0;
}

void up_body_end(up_conn_t *c)
{
    if (c->in_hc && !c->aborted)
        hc_conn_body_end(&c->x);
}

void up_pause(up_conn_t *c, bool paused)
{
    if (c->in_hc && !c->aborted)
        hc_conn_pause(&c->x, paused);
}

/* The front is gone. hc may be inside a callback of this very exchange:
 * the cancel runs from the loop, and callbacks until then abandon it. */
void up_abort(up_conn_t *c)
{
    c->front = NULL;
    if (!c->in_hc) {
        handle_free(c);
        return;
    }
    c->aborted = true;
    handle_later(c, UP_P_CANCEL);
}

void up_detach(up_conn_t *c)
{
    c->front = NULL;
    if (!c->in_hc) {
        handle_free(c);
        return;
    }
    if (c->x.paused)
        hc_conn_pause(&c->x, false);
}

#include "h1flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "h1msg.h"
#include "wsframe.h"

/* WebSocket payload bytes parsed per message (pcx_ws caps what is kept) */
#define WS_MAX_MESSAGE (1u << 20)

/* client bytes held while an upgrade request waits for its answer */
#define MAX_HELD (256 * 1024)
/* requests waiting for their answers on one connection; past this the
 * oldest is given up (a capture that sees only one direction) */
#define MAX_WAITING 1024

/* An exchange whose request or response is still being read. */
typedef struct entry {
    pcx_t *x;
    bool head;          /* HEAD request: the response has no body */
    bool connect;       /* CONNECT request: a 2xx answer opens a tunnel */
    bool req_done, resp_started, resp_done;
    int64_t t_end_us;   /* response complete (or last byte seen) */
} entry_t;

/* One direction: its parser and where it is. */
typedef struct side {
    h1flow_t *f;
    bool client;
    h1msg_t m;
    int (*h1msg_begin)(http_parser *);  /* h1msg's own on_message_begin */
    bool hunting;
    bool in_msg;        /* a message has begun and not completed */
    int64_t cur_us;     /* time of the chunk being parsed */
    int64_t start_us;   /* time of the current message's first byte */
    entry_t *e;         /* exchange of the message being read (NULL: none, orphan or interim) */
    int status;         /* response side: status of the message being read */
    bool taint;         /* the chunk being parsed crossed a conflicting retransmission */
} side_t;

/* UP_TUNNEL: a CONNECT was answered 2xx; the rest of the connection is the
 * tunnel's (encrypted) bytes, counted, not parsed. */
/* UP_WS: a WebSocket handshake was answered 101; frames are parsed into the
 * exchange's messages until the connection ends. */
enum upgrade { UP_NONE, UP_WAIT, UP_H2, UP_OTHER, UP_TUNNEL, UP_WS };

struct h1flow {
    pcaprec_t *rec;
    pcaprec_conn_t *conn;
    side_t req, resp;
    entry_t **q;        /* open exchanges, in request order */
    size_t qn, qcap;
    bool lost_response; /* a gap between responses: a whole response may be missing */
    enum upgrade up;
    entry_t *up_entry;  /* the request that asked to upgrade */
    bool release_held;  /* the upgrade was refused: parse the held bytes as HTTP/1 */
    uint8_t *held;
    size_t held_len;
    pcx_t *upgraded;
    entry_t *tunnel;    /* the CONNECT whose tunnel the connection now carries */
    uint64_t tunnel_up, tunnel_down;
    int64_t tunnel_last_us;
    bool ws_asked;      /* the upgrade request asked for websocket */
    entry_t *ws;        /* the handshake whose WebSocket the connection now carries */
    wsf_t ws_up, ws_down;
    int64_t ws_t0_us;   /* the 101's time: messages' time origin */
    bool ws_lost;       /* a gap or a frame error: later messages are not recorded */
    bool ended;         /* a FIN or RST was seen: the connection's end is in the capture */
};

/* ---- plausible message starts */

bool h1flow_response_start(const uint8_t *p, size_t n)
{
    return n >= 12 && memcmp(p, "HTTP/1.", 7) == 0 && p[8] == ' ' &&
           p[9] >= '1' && p[9] <= '9' && p[10] >= '0' && p[10] <= '9' && p[11] >= '0' && p[11] <= '9';
}

bool h1flow_request_start(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && i < 24 && ((p[i] >= 'A' && p[i] <= 'Z') || p[i] == '-' || p[i] == '_'))
        i++;
    if (i < 3 || i >= n || p[i] != ' ')
        return false;
    /* the request line ends with " HTTP/1.x" within a sane length */
    size_t lim = n < 8192 ? n : 8192;
    const uint8_t *eol = memchr(p, '\n', lim);
    if (eol == NULL)
        return false;
    size_t len = (size_t)(eol - p);
    if (len > 0 && p[len - 1] == '\r')
        len--;
    return len >= i + 10 && memcmp(p + len - 9, " HTTP/1.", 8) == 0;
}

/* ---- the queue of open exchanges */

static void end_finished(h1flow_t *f);

static entry_t *push(h1flow_t *f, pcx_t *x, bool head)
{
    if (f->qn >= MAX_WAITING && !f->q[0]->resp_started && f->q[0] != f->req.e) {
        f->q[0]->resp_started = f->q[0]->resp_done = f->q[0]->req_done = true;
        pcx_incomplete(f->q[0]->x, pcx_why_format[PCX_NO_RESPONSE_QUEUE]);
        end_finished(f);
    }
    if (f->qn == f->qcap) {
        size_t cap = f->qcap ? 2 * f->qcap : 8;
        entry_t **q = realloc(f->q, cap * sizeof *q);
        if (q == NULL)
            return NULL;
        f->q = q;
        f->qcap = cap;
    }
    entry_t *e = calloc(1, sizeof *e);
    if (e == NULL)
        return NULL;
    e->x = x;
    e->head = head;
    f->q[f->qn++] = e;
    return e;
}

/* Ends and removes every exchange whose request and response are both over. */
static void end_finished(h1flow_t *f)
{
    size_t k = 0;
    for (size_t i = 0; i < f->qn; i++) {
        entry_t *e = f->q[i];
        if (e->req_done && e->resp_done && e != f->up_entry && e != f->tunnel && e != f->ws) {
            if (f->req.e == e) f->req.e = NULL;
            if (f->resp.e == e) f->resp.e = NULL;
            if (e->x != NULL) /* NULL: handed on to HTTP/2 as stream 1 */
                pcx_end(e->x, e->t_end_us);
            free(e);
        } else {
            f->q[k++] = e;
        }
    }
    f->qn = k;
}

/* The exchange a response answers. In order, except
 * after a gap between responses: then the latest request sent before it, and
 * the ones before that lost their answer in the gap. */
static entry_t *answered(h1flow_t *f)
{
    entry_t *first = NULL, *latest = NULL;
    for (size_t i = 0; i < f->qn; i++) {
        entry_t *e = f->q[i];
        if (e->resp_started)
            continue;
        if (first == NULL)
            first = e;
        latest = e;
    }
    if (!f->lost_response || first == NULL)
        return first;
    f->lost_response = false;
    for (size_t i = 0; i < f->qn && f->q[i] != latest; i++) {
        entry_t *e = f->q[i];
        if (!e->resp_started && e->req_done) {
            e->resp_started = e->resp_done = true;
            pcx_incomplete(e->x, pcx_why_format[PCX_NO_RESPONSE_GAP]);
        }
    }
    return latest;
}

/* ---- parser callbacks */

/* The message being read received bytes of a tainted chunk. */
static void check_taint(side_t *s)
{
    if (s->taint && s->e != NULL && s->e->x != NULL)
        pcx_incomplete(s->e->x, pcx_why_format[s->client ? PCX_CONFLICT_REQUEST : PCX_CONFLICT_RESPONSE]);
}

static int on_begin(http_parser *p)
{
    h1msg_t *m = p->data;
    side_t *s = m->ctx;
    s->in_msg = true;
    s->start_us = s->cur_us;
    s->e = NULL;
    s->status = 0;
    return s->h1msg_begin(p);
}

/* "http://host:port/path" sends the authority in the request line (to a proxy). */
static const char *split_absolute(const char *url, char *auth, size_t authlen)
{
    const char *rest = NULL;
    if (strncasecmp(url, "http://", 7) == 0)
        rest = url + 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        rest = url + 8;
    if (rest == NULL)
        return url;
    size_t n = strcspn(rest, "/?");
    snprintf(auth, authlen, "%.*s", (int)n, rest);
    return rest[n] ? rest + n : "/";
}

static int request_head(side_t *s, h1msg_t *m)
{
    h1flow_t *f = s->f;
    char version[32], auth[256] = "";
    if (m->parser.http_major <= 9 && m->parser.http_minor <= 9) {
        /* every request takes this: no snprintf per exchange (issue 20) */
        memcpy(version, "HTTP/x.y", 9);
        version[5] = (char)('0' + m->parser.http_major);
        version[7] = (char)('0' + m->parser.http_minor);
    } else {
        snprintf(version, sizeof version, "HTTP/%u.%u", m->parser.http_major, m->parser.http_minor);
    }
    bool known = false;
    for (size_t i = 0; pcaprec_http_versions[i]; i++)
        known = known || strcmp(version, pcaprec_http_versions[i]) == 0;
    if (!known || m->parser.http_major >= 2) {
        /* the format's list of versions is closed: another is not read as HTTP/1 */
        snprintf(m->error, sizeof m->error, "HTTP version %u.%u in the request line is not 0.9, 1.0 or 1.1",
                 m->parser.http_major, m->parser.http_minor);
        return -1;
    }
    const char *target = split_absolute(m->url, auth, sizeof auth);
    const char *host = rec_headers_get(&m->headers, "Host");
    pcx_req_t q = {
        .scheme = strncasecmp(m->url, "https://", 8) == 0 ? "https" : "http",
        .authority = auth[0] ? auth : host, .method = h1msg_method(m), .target = target,
        .http_version = version, .headers = &m->headers, .t_start_us = s->start_us,
    };
    if (m->parser.method == HTTP_CONNECT) {
        /* as the proxy records a tunnel: the authority is the target */
        q.scheme = "https";
        q.target = q.authority = m->url;
    }
    pcx_t *x = pcx_begin(f->rec, f->conn, &q);
    if (x == NULL)
        return -1;
    s->e = push(f, x, m->parser.method == HTTP_HEAD);
    if (s->e == NULL) {
        pcx_end(x, 0);
        return -1;
    }
    s->e->connect = m->parser.method == HTTP_CONNECT;
    check_taint(s);
    return 0;
}

static bool asks_h2c(const h1msg_t *req)
{
    const char *up = rec_headers_get(&req->headers, "Upgrade");
    return up != NULL && strcasestr(up, "h2c") != NULL;
}

static int response_head(side_t *s, h1msg_t *m)
{
    h1flow_t *f = s->f;
    s->status = h1msg_status(m);
    if (s->status < 200 && s->status != 101)
        return 0; /* interim (100 Continue, 103): the final answer follows */
    entry_t *e = answered(f);
    if (e == NULL) {
        pcaprec_skipped(f->rec, 1, 0); /* an answer whose request is not in the capture */
        return 0;
    }
    s->e = e;
    e->resp_started = true;
    check_taint(s);
    /* an answer to h2c is recorded from stream 1, not this 101 */
    if (!(s->status == 101 && e == f->up_entry && f->up == UP_H2))
        pcx_resp_head(e->x, s->status, &m->headers, s->start_us);
    /* a 2xx to CONNECT has no body: what follows is the tunnel's */
    return e->head || (e->connect && s->status < 300) ? 1 : 0;
}

static int on_head(void *ctx, h1msg_t *m)
{
    side_t *s = ctx;
    return s->client ? request_head(s, m) : response_head(s, m);
}

static int on_body(void *ctx, const char *p, size_t n)
{
    side_t *s = ctx;
    check_taint(s);
    if (s->e != NULL) {
        if (s->client)
            pcx_req_body(s->e->x, p, n);
        else
            pcx_resp_body(s->e->x, p, n);
    }
    return 0;
}

static void request_done(side_t *s, h1msg_t *m)
{
    h1flow_t *f = s->f;
    if (s->e == NULL)
        return;
    s->e->req_done = true;
    if (m->parser.method == HTTP_CONNECT) {
        /* the client's next bytes are the tunnel's, unless the answer refuses */
        f->up = UP_WAIT;
        f->up_entry = s->e;
    } else if (m->parser.upgrade) {
        /* what follows depends on the answer: hold the client's bytes */
        f->up = UP_WAIT;
        f->up_entry = s->e;
        if (asks_h2c(m))
            f->up = UP_H2; /* provisional: confirmed by a 101 */
        const char *up = rec_headers_get(&m->headers, "Upgrade");
        f->ws_asked = up != NULL && strcasecmp(up, "websocket") == 0;
    }
}

static void response_done(side_t *s)
{
    h1flow_t *f = s->f;
    entry_t *e = s->e;
    if (e == NULL)
        return;
    e->resp_done = true;
    e->t_end_us = s->cur_us;
    if (e == f->up_entry && e->connect) {
        if (s->status >= 200 && s->status < 300) {
            f->up = UP_TUNNEL;
            f->tunnel = e;
            f->tunnel_last_us = s->cur_us;
            /* what the client sent before the answer is the tunnel's first bytes */
            f->tunnel_up += f->held_len;
            free(f->held);
            f->held = NULL;
            f->held_len = 0;
        } else {
            f->up = UP_NONE;
            f->release_held = true;
        }
        f->up_entry = NULL;
    } else if (e == f->up_entry) {
        if (s->status == 101) {
            if (f->up == UP_H2) {
                f->upgraded = e->x;
                e->x = NULL;
            } else if (f->ws_asked) {
                f->up = UP_WS;
                f->ws = e;
                f->ws_t0_us = s->cur_us;
                f->tunnel_last_us = s->cur_us;
                wsf_init(&f->ws_up, WS_MAX_MESSAGE);
                wsf_init(&f->ws_down, WS_MAX_MESSAGE);
            } else {
                f->up = UP_OTHER;
            }
        } else {
            f->up = UP_NONE; /* refused: the connection stays HTTP/1 */
            f->release_held = true;
        }
        f->up_entry = NULL;
    } else if (s->status == 101) {
        f->up = UP_OTHER; /* switched without being asked: not HTTP/1 any more */
    }
}

static int on_done(void *ctx, h1msg_t *m)
{
    side_t *s = ctx;
    s->in_msg = false;
    if (s->client)
        request_done(s, m);
    else if (s->status >= 200 || s->status == 101)
        response_done(s);
    /* after a 101 the bytes are another protocol, even when the answer
     * lacks the Upgrade headers http_parser wants to see before it stops */
    if (!s->client && (s->status == 101 || s->f->up == UP_TUNNEL))
        h1msg_pause(m, true);
    s->e = NULL;
    return 0;
}

static const h1msg_ops_t ops = { on_head, on_body, on_done };

/* ---- directions */

static void side_reset(side_t *s, bool hunting)
{
    h1msg_fini(&s->m);
    h1msg_init(&s->m, s->client ? HTTP_REQUEST : HTTP_RESPONSE, &ops, s);
    s->h1msg_begin = s->m.settings.on_message_begin;
    s->m.settings.on_message_begin = on_begin;
    h1msg_fast(&s->m, true); /* our callbacks pause only in on_done */
    s->hunting = hunting;
    s->in_msg = false;
    s->e = NULL;
}

/* The message being read of s cannot be finished. */
static void cut(side_t *s, const char *why)
{
    entry_t *e = s->e;
    if (e != NULL) {
        if (e->x != NULL)
            pcx_incomplete(e->x, why);
        if (s->client) {
            e->req_done = true;
        } else {
            e->resp_done = true;
            e->t_end_us = s->cur_us;
        }
    }
    s->e = NULL;
}

h1flow_t *h1flow_new(pcaprec_t *rec, pcaprec_conn_t *conn, bool hunt)
{
    h1flow_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    f->rec = rec;
    f->conn = conn;
    f->req.f = f->resp.f = f;
    f->req.client = true;
    h1msg_init(&f->req.m, HTTP_REQUEST, &ops, &f->req);
    h1msg_init(&f->resp.m, HTTP_RESPONSE, &ops, &f->resp);
    side_reset(&f->req, hunt);
    side_reset(&f->resp, hunt);
    return f;
}

static int hold(h1flow_t *f, const uint8_t *p, size_t n)
{
    if (n == 0)
        return 0;
    if (f->held_len + n > MAX_HELD)
        return -1;
    uint8_t *b = realloc(f->held, f->held_len + n);
    if (b == NULL)
        return -1;
    memcpy(b + f->held_len, p, n);
    f->held = b;
    f->held_len += n;
    return 0;
}

static size_t feed(h1flow_t *f, side_t *s, const uint8_t *p, size_t n, int64_t ts);

typedef struct ws_ctx {
    h1flow_t *f;
    uint8_t dir;
    int64_t ts;
} ws_ctx_t;

static int ws_message(void *ctx, const wsf_msg_t *m)
{
    ws_ctx_t *c = ctx;
    rec_ws_msg_t r = {
        .dir = c->dir, .opcode = m->opcode, .t_us = c->ts - c->f->ws_t0_us,
        .data = (uint8_t *)m->data, .len = m->len, .truncated = m->truncated,
        .close_code = m->close_code,
    };
    if (c->f->ws->x)
        pcx_ws(c->f->ws->x, &r);
    return 0;
}

/* Bytes of the WebSocket after the 101, one direction. */
static void ws_feed(h1flow_t *f, bool client, const uint8_t *p, size_t n, int64_t ts)
{
    f->tunnel_last_us = ts;
    if (f->ws_lost || n == 0)
        return;
    wsf_t *w = client ? &f->ws_up : &f->ws_down;
    ws_ctx_t c = {f, client ? REC_WS_UP : REC_WS_DOWN, ts};
    if (wsf_feed(w, p, n, ws_message, &c) != 0) {
        char why[200];
        pcx_why(why, sizeof why, PCX_WS_FRAMES, client ? "client" : "server", w->error);
        if (f->ws->x)
            pcx_incomplete(f->ws->x, why);
        f->ws_lost = true;
    }
}

/* An upgrade was refused: the held client bytes are HTTP/1 after all. */
static void release_held(h1flow_t *f, int64_t ts)
{
    f->release_held = false;
    uint8_t *b = f->held;
    size_t n = f->held_len;
    f->held = NULL;
    f->held_len = 0;
    side_reset(&f->req, false);
    if (n > 0)
        feed(f, &f->req, b, n, ts);
    free(b);
}

/* Parses a chunk of one direction; returns the bytes that were HTTP/1. */
static size_t feed(h1flow_t *f, side_t *s, const uint8_t *p, size_t n, int64_t ts)
{
    s->cur_us = ts;
    if (f->up == UP_WS) {
        ws_feed(f, s->client, p, n, ts);
        return n;
    }
    if (f->up == UP_TUNNEL) {
        *(s->client ? &f->tunnel_up : &f->tunnel_down) += n;
        f->tunnel_last_us = ts;
        return n;
    }
    if (s->client && f->up != UP_NONE) {
        if (hold(f, p, n) != 0) {
            pcaprec_skipped(f->rec, 0, n);
            f->up = UP_OTHER;
        }
        return n;
    }
    if (s->hunting) {
        bool start = s->client ? h1flow_request_start(p, n) : h1flow_response_start(p, n);
        if (!start) {
            pcaprec_skipped(f->rec, 0, n);
            return n;
        }
        side_reset(s, false);
    }
    ssize_t used = h1msg_feed(&s->m, (const char *)p, n);
    if (used < 0) {
        char why[256];
        pcx_why(why, sizeof why, s->client ? PCX_MALFORMED_REQUEST : PCX_MALFORMED_RESPONSE, s->m.error);
        if (s->e == NULL)
            pcaprec_skipped(f->rec, 1, 0);
        cut(s, why);
        side_reset(s, true);
        end_finished(f);
        return n;
    }
    end_finished(f);
    if (s->client && f->up != UP_NONE) {
        hold(f, p + used, n - (size_t)used);
        return n;
    }
    if (!s->client && f->release_held)
        release_held(f, ts);
    if (!s->client && f->up == UP_WS) {
        /* the client's frames sent before the 101 arrived, then the server's after it */
        uint8_t *b = f->held;
        size_t hn = f->held_len;
        f->held = NULL;
        f->held_len = 0;
        ws_feed(f, true, b, hn, ts);
        free(b);
        ws_feed(f, false, p + used, n - (size_t)used, ts);
        return n;
    }
    if (!s->client && f->up == UP_TUNNEL) {
        f->tunnel_down += n - (size_t)used; /* the server's first tunnel bytes after its 2xx */
        if (n > (size_t)used)
            f->tunnel_last_us = ts;
        return n;
    }
    if (!s->client && (f->upgraded != NULL || f->up == UP_OTHER))
        return (size_t)used;
    return n;
}

enum h1flow_result h1flow_data(h1flow_t *f, bool client, const uint8_t *p, size_t n,
                               int64_t ts_us, size_t *used)
{
    if (f->upgraded != NULL || f->up == UP_OTHER) {
        *used = 0;
        return f->upgraded ? H1FLOW_H2 : H1FLOW_OTHER;
    }
    side_t *s = client ? &f->req : &f->resp;
    *used = feed(f, s, p, n, ts_us);
    s->taint = false;
    if (f->upgraded != NULL)
        return H1FLOW_H2;
    return f->up == UP_OTHER ? H1FLOW_OTHER : H1FLOW_OK;
}

void h1flow_gap(h1flow_t *f, bool client, uint64_t n)
{
    side_t *s = client ? &f->req : &f->resp;
    char why[96];
    pcx_why(why, sizeof why, client ? PCX_GAP_REQUEST : PCX_GAP_RESPONSE, (unsigned long long)n);
    if (f->up == UP_WS) {
        /* frames cannot be found again after a hole */
        if (!f->ws_lost && f->ws->x)
            pcx_incomplete(f->ws->x, why);
        f->ws_lost = true;
        return;
    }
    if (!client && !s->in_msg)
        f->lost_response = true;
    cut(s, why);
    side_reset(s, true);
    end_finished(f);
}

void h1flow_reset(h1flow_t *f, int64_t ts_us)
{
    f->ended = true;
    if (f->up == UP_TUNNEL || f->up == UP_WS)
        f->tunnel_last_us = ts_us;
}

void h1flow_conflict(h1flow_t *f, bool client)
{
    side_t *s = client ? &f->req : &f->resp;
    s->taint = true;
    check_taint(s); /* a message in the middle is crossed too */
}

void h1flow_fin(h1flow_t *f, bool client, int64_t ts_us)
{
    side_t *s = client ? &f->req : &f->resp;
    s->cur_us = ts_us;
    f->ended = true;
    if (f->up == UP_TUNNEL || f->up == UP_WS) {
        f->tunnel_last_us = ts_us;
        return;
    }
    if (s->hunting || (client && f->up != UP_NONE))
        return;
    if (h1msg_eof(&s->m) != 0 || s->in_msg)
        cut(s, pcx_why_format[client ? PCX_CLOSED_REQUEST : PCX_CLOSED_RESPONSE]);
    end_finished(f);
}

pcx_t *h1flow_upgraded(h1flow_t *f, const uint8_t **held, size_t *held_len)
{
    pcx_t *x = f->upgraded;
    f->upgraded = NULL;
    f->up = UP_OTHER; /* nothing more is HTTP/1 */
    *held = f->held;
    *held_len = f->held_len;
    return x;
}

void h1flow_free(h1flow_t *f, int64_t ts_us)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->qn; i++) {
        entry_t *e = f->q[i];
        if (e->x == NULL) {
            free(e);
            continue;
        }
        if (e == f->ws) {
            if (!f->ended)
                pcx_incomplete(e->x, pcx_why_format[PCX_WS_CUT]);
            pcx_end(e->x, f->ended ? f->tunnel_last_us : ts_us);
            free(e);
            continue;
        }
        if (e == f->tunnel) {
            pcx_tunnel(e->x, f->tunnel_up, f->tunnel_down);
            if (!f->ended)
                pcx_incomplete(e->x, pcx_why_format[PCX_TUNNEL_CUT]);
            pcx_end(e->x, f->ended ? f->tunnel_last_us : ts_us);
            free(e);
            continue;
        }
        if (!e->resp_started)
            pcx_incomplete(e->x, pcx_why_format[PCX_NO_RESPONSE]);
        else if (!e->resp_done)
            pcx_incomplete(e->x, pcx_why_format[PCX_RESPONSE_CUT]);
        else if (!e->req_done)
            pcx_incomplete(e->x, pcx_why_format[PCX_REQUEST_CUT]);
        pcx_end(e->x, e->resp_started ? (e->t_end_us ? e->t_end_us : ts_us) : 0);
        free(e);
    }
    if (f->upgraded)
        pcx_end(f->upgraded, 0);
    free(f->q);
    h1msg_fini(&f->req.m);
    h1msg_fini(&f->resp.m);
    free(f->held);
    if (f->ws) {
        wsf_fini(&f->ws_up);
        wsf_fini(&f->ws_down);
    }
    free(f);
}

#include "h2flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nghttp2/nghttp2.h>

#include "h2frame.h"

/* a header block (HEADERS or PUSH_PROMISE and its CONTINUATIONs) larger than
 * this is not decoded: the connection is given up */
#define MAX_BLOCK (1024 * 1024)
#define SETTINGS_HEADER_TABLE_SIZE 1

typedef struct stream {
    struct stream *next;
    uint32_t id;
    pcx_t *x;            /* NULL: a pushed stream, not recorded */
    bool req_done, resp_done;
    int64_t t_end_us;
    unsigned client_reset;   /* error code + 1 of a client's RST_STREAM, 0: none */
} stream_t;

/* One direction: its frames and the decoder of the header blocks it sends. */
typedef struct dir {
    h2frame_t fr;
    nghttp2_hd_inflater *hd;
    size_t preface_left;  /* client: preface bytes still to skip */
    uint8_t *block;       /* header block being gathered */
    size_t block_len;
    uint8_t block_type;   /* H2F_HEADERS or H2F_PUSH_PROMISE */
    uint8_t block_flags;  /* of the frame that began it */
    uint32_t block_stream, promised;
    bool in_block;
} dir_t;

struct h2flow {
    pcaprec_t *rec;
    pcaprec_conn_t *conn;
    dir_t d[2];           /* [1] client, [0] server */
    stream_t *streams;
    bool dead;
    int64_t cur_us;
    bool cur_client;
};

h2flow_t *h2flow_new(pcaprec_t *rec, pcaprec_conn_t *conn, pcx_t *upgraded)
{
    h2flow_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    f->rec = rec;
    f->conn = conn;
    for (int i = 0; i < 2; i++) {
        h2frame_init(&f->d[i].fr);
        if (nghttp2_hd_inflate_new(&f->d[i].hd) != 0) {
            h2flow_free(f, 0);
            return NULL;
        }
    }
    f->d[1].preface_left = H2FLOW_PREFACE_LEN;
    if (upgraded != NULL) {
        stream_t *s = calloc(1, sizeof *s);
        if (s == NULL) {
            h2flow_free(f, 0);
            return NULL;
        }
        s->id = 1;
        s->x = upgraded;
        pcx_set_h2_stream(upgraded, 1);
        s->req_done = true; /* the HTTP/1.1 request was the whole request */
        f->streams = s;
    }
    return f;
}

static stream_t *find(h2flow_t *f, uint32_t id)
{
    for (stream_t *s = f->streams; s; s = s->next)
        if (s->id == id)
            return s;
    return NULL;
}

static void drop(h2flow_t *f, stream_t *s)
{
    stream_t **pp = &f->streams;
    while (*pp != s)
        pp = &(*pp)->next;
    *pp = s->next;
    free(s);
}

static void end_stream(h2flow_t *f, stream_t *s, int64_t t_end)
{
    if (s->x)
        pcx_end(s->x, t_end);
    drop(f, s);
}

static void maybe_done(h2flow_t *f, stream_t *s)
{
    if (s->req_done && s->resp_done)
        end_stream(f, s, s->t_end_us);
}

static void cut_stream(h2flow_t *f, stream_t *s, const char *why)
{
    if (s->x) {
        pcx_incomplete(s->x, why);
        end_stream(f, s, pcx_has_response(s->x) ? f->cur_us : 0);
    } else {
        drop(f, s);
    }
}

/* Framing or decoding is lost: nothing more of the connection can be read. */
static void die(h2flow_t *f, const char *why)
{
    while (f->streams)
        cut_stream(f, f->streams, why);
    f->dead = true;
}

/* ---- header blocks */

/* Decodes a whole header block into h; -1 on an HPACK error. */
static int inflate(dir_t *d, const uint8_t *in, size_t len, rec_headers_t *h)
{
    for (;;) {
        nghttp2_nv nv;
        int fl = 0;
        ssize_t rv = nghttp2_hd_inflate_hd2(d->hd, &nv, &fl, in, len, 1);
        if (rv < 0)
            return -1;
        in += rv;
        len -= (size_t)rv;
        if (fl & NGHTTP2_HD_INFLATE_EMIT) {
            char *name = strndup((const char *)nv.name, nv.namelen);
            char *value = strndup((const char *)nv.value, nv.valuelen);
            if (rec_headers_take(h, name, value) != 0)
                return -1;
        }
        if (fl & NGHTTP2_HD_INFLATE_FINAL) {
            nghttp2_hd_inflate_end_headers(d->hd);
            return 0;
        }
        if (!(fl & NGHTTP2_HD_INFLATE_EMIT) && len == 0)
            return 0;
    }
}

static void request(h2flow_t *f, uint32_t id, const rec_headers_t *h, bool end_stream)
{
    const char *method = rec_headers_get(h, ":method"), *path = rec_headers_get(h, ":path");
    const char *auth = rec_headers_get(h, ":authority");
    if (method == NULL) {
        pcaprec_skipped(f->rec, 1, 0);
        return;
    }
    if (auth == NULL)
        auth = rec_headers_get(h, "host");
    const char *scheme = rec_headers_get(h, ":scheme");
    if (scheme == NULL || (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
        scheme = "http";
    pcx_req_t q = {
        .scheme = scheme, .authority = auth, .method = method,
        .target = path ? path : (auth ? auth : "/"), .http_version = "HTTP/2",
        .headers = h, .stream_id = id, .t_start_us = f->cur_us,
    };
    stream_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return;
    s->x = pcx_begin(f->rec, f->conn, &q);
    if (s->x == NULL) {
        free(s);
        return;
    }
    s->id = id;
    s->req_done = end_stream;
    s->next = f->streams;
    f->streams = s;
}

static void response(h2flow_t *f, stream_t *s, const rec_headers_t *h, bool end_stream)
{
    const char *st = rec_headers_get(h, ":status");
    int status = st ? atoi(st) : 0;
    if (s->x && status >= 200 && !pcx_has_response(s->x))
        pcx_resp_head(s->x, status, h, f->cur_us);
    /* 1xx: the final answer follows; a later block without :status is trailers */
    else if (s->x && st == NULL && pcx_has_response(s->x))
        pcx_resp_trailers(s->x, h);
    if (end_stream) {
        s->resp_done = true;
        s->t_end_us = f->cur_us;
        maybe_done(f, s);
    }
}

static int block_done(h2flow_t *f, dir_t *d, bool client)
{
    rec_headers_t h = { 0 };
    d->in_block = false;
    if (inflate(d, d->block, d->block_len, &h) != 0) {
        rec_headers_fini(&h);
        die(f, pcx_why_format[PCX_H2_HPACK]);
        return -1;
    }
    bool end = (d->block_flags & H2F_END_STREAM) != 0;
    stream_t *s = find(f, d->block_stream);
    if (d->block_type == H2F_PUSH_PROMISE) {
        stream_t *p = calloc(1, sizeof *p);
        if (p != NULL) {
            p->id = d->promised;
            p->req_done = true;
            p->next = f->streams;
            f->streams = p;
        }
        pcaprec_skipped(f->rec, 1, 0);
    } else if (client && s == NULL) {
        request(f, d->block_stream, &h, end);
    } else if (client && end) {
        s->req_done = true; /* trailers end the request */
        maybe_done(f, s);
    } else if (!client && s != NULL) {
        response(f, s, &h, end);
    }
    rec_headers_fini(&h);
    return 0;
}

static int block_add(dir_t *d, const uint8_t *p, size_t n)
{
    if (d->block_len + n > MAX_BLOCK)
        return -1;
    uint8_t *b = realloc(d->block, d->block_len + n + 1);
    if (b == NULL)
        return -1;
    memcpy(b + d->block_len, p, n);
    d->block = b;
    d->block_len += n;
    return 0;
}

static int block_begin(h2flow_t *f, dir_t *d, const h2frame_hdr_t *h, const uint8_t *p, size_t n, bool client)
{
    d->block_len = 0;
    d->block_type = h->type;
    d->block_flags = h->flags;
    d->block_stream = h->stream;
    d->in_block = true;
    if (h->type == H2F_PUSH_PROMISE) {
        if (n < 4)
            return -1;
        d->promised = ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]) & 0x7fffffffu;
        p += 4;
        n -= 4;
    }
    if (block_add(d, p, n) != 0)
        return -1;
    return (h->flags & H2F_END_HEADERS) ? block_done(f, d, client) : 0;
}

/* ---- frames */

static void settings(h2flow_t *f, bool client, const h2frame_hdr_t *h, const uint8_t *p, size_t n)
{
    if (h->flags & H2F_ACK)
        return;
    /* the sender's decoder accepts this table size: the peer's encoder may use it */
    dir_t *peer = &f->d[client ? 0 : 1];
    for (size_t i = 0; i + 6 <= n; i += 6) {
        unsigned id = (unsigned)(p[i] << 8 | p[i + 1]);
        uint32_t v = (uint32_t)p[i + 2] << 24 | (uint32_t)p[i + 3] << 16 | (uint32_t)p[i + 4] << 8 | p[i + 5];
        if (id == SETTINGS_HEADER_TABLE_SIZE)
            nghttp2_hd_inflate_change_table_size(peer->hd, v);
    }
}

static void data(h2flow_t *f, bool client, const h2frame_hdr_t *h, const uint8_t *p, size_t n)
{
    stream_t *s = find(f, h->stream);
    if (s == NULL)
        return;
    if (s->x) {
        if (client)
            pcx_req_body(s->x, p, n);
        else
            pcx_resp_body(s->x, p, n);
    }
    if (h->flags & H2F_END_STREAM) {
        if (client) {
            s->req_done = true;
        } else {
            s->resp_done = true;
            s->t_end_us = f->cur_us;
        }
        maybe_done(f, s);
    }
}

static void rst(h2flow_t *f, bool client, const h2frame_hdr_t *h, const uint8_t *p, size_t n)
{
    stream_t *s = find(f, h->stream);
    if (s == NULL)
        return;
    char why[96];
    unsigned code = n >= 4 ? (unsigned)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]) : 0;
    if (s->resp_done) {
        /* after a whole response a reset only stops the rest of the request */
        s->req_done = true;
        maybe_done(f, s);
        return;
    }
    pcx_why(why, sizeof why, client ? PCX_H2_RESET_CLIENT : PCX_H2_RESET_SERVER, code);
    if (client && s->req_done) {
        /* the server may have answered already: its frames are on the way */
        s->client_reset = code + 1;
        return;
    }
    cut_stream(f, s, why);
}

static int on_frame(void *ctx, const h2frame_hdr_t *h, const uint8_t *p, size_t n)
{
    h2flow_t *f = ctx;
    bool client = f->cur_client;
    dir_t *d = &f->d[client ? 1 : 0];
    if (d->in_block) {
        /* only CONTINUATION of the same stream may follow an open header block */
        if (h->type != H2F_CONTINUATION || h->stream != d->block_stream || block_add(d, p, n) != 0)
            return -1;
        return (h->flags & H2F_END_HEADERS) ? block_done(f, d, client) : 0;
    }
    switch (h->type) {
    case H2F_HEADERS: case H2F_PUSH_PROMISE:
        return block_begin(f, d, h, p, n, client);
    case H2F_DATA: data(f, client, h, p, n); break;
    case H2F_RST_STREAM: rst(f, client, h, p, n); break;
    case H2F_SETTINGS: settings(f, client, h, p, n); break;
    default: break; /* PRIORITY, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION out of place, unknown */
    }
    return 0;
}

void h2flow_data(h2flow_t *f, bool client, const uint8_t *p, size_t n, int64_t ts_us)
{
    if (f->dead) {
        pcaprec_skipped(f->rec, 0, n);
        return;
    }
    dir_t *d = &f->d[client ? 1 : 0];
    size_t skip = d->preface_left < n ? d->preface_left : n;
    d->preface_left -= skip;
    p += skip;
    n -= skip;
    f->cur_us = ts_us;
    f->cur_client = client;
    if (n > 0 && h2frame_feed(&d->fr, p, n, on_frame, f) != 0 && !f->dead) {
        char why[160];
        pcx_why(why, sizeof why, PCX_H2_FRAMING, d->fr.error[0] ? d->fr.error : "bad frame sequence");
        die(f, why);
    }
}

void h2flow_conflict(h2flow_t *f, bool client)
{
    for (stream_t *s = f->streams; s; s = s->next)
        if (s->x && !(client ? s->req_done : s->resp_done))
            pcx_incomplete(s->x, pcx_why_format[client ? PCX_CONFLICT_REQUEST : PCX_CONFLICT_RESPONSE]);
}

void h2flow_gap(h2flow_t *f, bool client, uint64_t n, int64_t ts_us)
{
    if (f->dead)
        return;
    char why[128];
    pcx_why(why, sizeof why, client ? PCX_H2_GAP_CLIENT : PCX_H2_GAP_SERVER, (unsigned long long)n);
    f->cur_us = ts_us;
    die(f, why);
}

void h2flow_free(h2flow_t *f, int64_t ts_us)
{
    if (f == NULL)
        return;
    f->cur_us = ts_us;
    while (f->streams) {
        stream_t *s = f->streams;
        char why[96];
        pcx_why(why, sizeof why, PCX_H2_RESET_BEFORE_RESPONSE, s->client_reset - 1);
        if (s->x && s->client_reset && !s->resp_done)
            pcx_incomplete(s->x, why);
        if (s->x && !pcx_has_response(s->x))
            pcx_incomplete(s->x, pcx_why_format[PCX_NO_RESPONSE]);
        else if (s->x && !s->resp_done)
            pcx_incomplete(s->x, pcx_why_format[PCX_RESPONSE_CUT]);
        else if (s->x && !s->req_done)
            pcx_incomplete(s->x, pcx_why_format[PCX_REQUEST_CUT]);
        end_stream(f, s, s->x && pcx_has_response(s->x) ? (s->resp_done ? s->t_end_us : ts_us) : 0);
    }
    for (int i = 0; i < 2; i++) {
        h2frame_fini(&f->d[i].fr);
        if (f->d[i].hd)
            nghttp2_hd_inflate_del(f->d[i].hd);
        free(f->d[i].block);
    }
    free(f);
}

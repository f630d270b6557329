/* hc_h2: HTTP/2 over an hc_conn_t with nghttp2 (see hc_h2.h). */
#include "hc_h2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nghttp2/nghttp2.h>

#include "hc_pool.h"
#include "hc_racc.h"

typedef struct h2_stream {
    struct h2_stream *prev, *next;  /* every stream of the session */
    struct h2_stream *done_next;    /* finished, waiting to be handed over */
    hc_xch_t *x;                       /* NULL once cancelled */
    int32_t id;                     /* < 0 until nghttp2 assigned one */
    int status;
    bool finished;                  /* in the done list */
    bool refused;                   /* REFUSED_STREAM or above GOAWAY's last id */
    bool reset_by_peer;             /* RST_STREAM received (else nghttp2 reset it) */
    bool abandoned;                 /* the streaming caller refused the response */
    bool paused;                    /* hc_conn_pause: DATA not acknowledged (no WINDOW_UPDATE) */
    size_t unconsumed;              /* DATA bytes received while paused */
    uint32_t error;                 /* RST_STREAM code, 0 */
    hc_racc_t resp;                    /* headers, and the body when wanted */
    char *req_body;                 /* copy of the request body */
    size_t req_len, req_off;
} h2_stream_t;

typedef struct h2 {
    nghttp2_session *sess;
    hc_conn_t *conn;
    h2_stream_t *streams;           /* list of every live stream */
    h2_stream_t *done_head, *done_tail;
    size_t n_active;                /* streams nghttp2 has not closed yet */
    uint32_t epoch;                 /* bumped when the session goes away */
    bool settings_seen;             /* the server's first SETTINGS arrived */
    bool goaway;                    /* GOAWAY received: nothing new on this socket */
    bool delivering;
    bool local_error;               /* nghttp2 sent GOAWAY with an error: the session is over */
    int32_t conn_window;            /* the connection window we announced */
} h2_t;

static void stream_unlink(h2_t *h, h2_stream_t *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else if (h->streams == s)
        h->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
}

static void stream_release(h2_stream_t *s)
{
    hc_racc_fini(&s->resp);
    free(s->req_body);
    hc_pool_free(s);
}

static void stream_free(h2_t *h, h2_stream_t *s)
{
    stream_unlink(h, s);
    stream_release(s);
}

static h2_stream_t *stream_of(nghttp2_session *sess, int32_t id)
{
    return id > 0 ? nghttp2_session_get_stream_user_data(sess, id) : NULL;
}

/* ---- nghttp2 callbacks: they only record; exchanges end in deliver(). */

/* The streaming caller refused the rest of s: reset it, end it as refused. */
static void abandon(nghttp2_session *sess, h2_stream_t *s)
{
    s->abandoned = true;
    nghttp2_submit_rst_stream(sess, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
}

static int on_begin_headers(nghttp2_session *sess, const nghttp2_frame *f, void *ud)
{
    (void)ud;
    h2_stream_t *s = stream_of(sess, f->hd.stream_id);
    /* A new header block after an interim (1xx) response replaces it. */
    if (s && f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_RESPONSE)
        hc_racc_reset(&s->resp);
    return 0;
}

static int on_header(nghttp2_session *sess, const nghttp2_frame *f, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *ud)
{
    (void)flags;
    (void)ud;
    h2_stream_t *s = stream_of(sess, f->hd.stream_id);
    if (!s || f->hd.type != NGHTTP2_HEADERS)
        return 0;
    if (namelen && name[0] == ':') {
        if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
            int st = 0;
            for (size_t i = 0; i < valuelen && i < 3; i++)
                st = st * 10 + (value[i] - '0');
            s->status = st;
            if (st >= 100 && st < 200)
                hc_racc_reset(&s->resp); /* interim: the final one follows */
            if (st >= 200)
                hc_racc_reset(&s->resp); /* a final block after an interim one */
        }
        return 0;
    }
    if (hc_racc_header(&s->resp, (const char *)name, namelen, (const char *)value, valuelen) != 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets this stream only */
    return 0;
}

static int on_data_chunk(nghttp2_session *sess, uint8_t flags, int32_t id, const uint8_t *data,
                         size_t len, void *ud)
{
    (void)flags;
    (void)ud;
    h2_stream_t *s = stream_of(sess, id);
    /* Windows re-open as the caller takes the bytes: a paused stream's
     * sender is held back by flow control, the other streams go on. */
    if (s && s->paused)
        s->unconsumed += len;
    else
        nghttp2_session_consume(sess, id, len);
    if (s && s->x && s->x->stream) {
        if (!s->abandoned && hc_conn_env(((h2_t *)ud)->conn)->on_body(s->x, (const char *)data, len) != 0)
            abandon(sess, s);
        return 0;
    }
    if (s && s->x && s->x->want_body && hc_racc_body(&s->resp, data, len, hc_conn_env(((h2_t *)ud)->conn)->max_body) != 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    return 0;
}

/* A paused stream's unacknowledged bytes (up to its window) count against
 * the connection window too: with the caller's smaller stream window, the
 * connection's grows to hold every stream the server allows (as its
 * SETTINGS say), so paused streams cannot stop the others. */
static void widen_conn_window(nghttp2_session *sess, h2_t *h)
{
    uint32_t stream_window = hc_conn_env(h->conn)->h2_stream_window;
    if (!stream_window)
        return; /* one stream's window is the connection's: nothing pauses */
    uint64_t n = nghttp2_session_get_remote_settings(sess, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
    if (n > HC_H2_ROOM_STREAMS)
        n = HC_H2_ROOM_STREAMS;
    uint64_t want = n * stream_window;
    if (want > NGHTTP2_MAX_WINDOW_SIZE)
        want = NGHTTP2_MAX_WINDOW_SIZE;
    if (want <= (uint64_t)h->conn_window)
        return;
    if (nghttp2_session_set_local_window_size(sess, NGHTTP2_FLAG_NONE, 0, (int32_t)want) == 0)
        h->conn_window = (int32_t)want;
}

static int on_frame_recv(nghttp2_session *sess, const nghttp2_frame *f, void *ud)
{
    h2_t *h = ud;
    switch (f->hd.type) {
    case NGHTTP2_SETTINGS:
        if (!(f->hd.flags & NGHTTP2_FLAG_ACK)) {
            h->settings_seen = true;
            widen_conn_window(sess, h);
        }
        return 0;
    case NGHTTP2_GOAWAY:
        /* nghttp2 closes the streams above last_stream_id itself (REFUSED_STREAM). */
        h->goaway = true;
        return 0;
    case NGHTTP2_RST_STREAM: {
        h2_stream_t *s = stream_of(sess, f->hd.stream_id);
        if (s)
            s->reset_by_peer = true;
        return 0;
    }
    case NGHTTP2_HEADERS:
    case NGHTTP2_DATA: {
        h2_stream_t *s = stream_of(sess, f->hd.stream_id);
        if (s && s->x)
            s->x->bytes_received += f->hd.length + 9;
        if (s && f->hd.type == NGHTTP2_HEADERS && !s->resp.head_done && s->status >= 100 &&
            s->status < 200 && s->x) {
            /* An interim head (103 Early Hints...): handed on, then dropped. */
            hc_env_t *env = hc_conn_env(h->conn);
            hc_resp_t head;
            if (env->on_interim && hc_racc_head_view(&s->resp, env, s->status, &head) == 0)
                env->on_interim(s->x, &head);
        }
        /* The final header block (after any 1xx) is whole: what follows are trailers. */
        if (s && f->hd.type == NGHTTP2_HEADERS && !s->resp.head_done && s->status >= 200) {
            hc_racc_end_head(&s->resp);
            if (s->x && s->x->stream && !s->abandoned) {
                hc_env_t *env = hc_conn_env(h->conn);
                hc_resp_t head;
                int rc = hc_racc_head_view(&s->resp, env, s->status, &head);
                if (rc == 0) {
                    head.ended = (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
                    rc = env->on_head(s->x, &head);
                }
                if (rc != 0)
                    abandon(sess, s);
            }
        }
        return 0;
    }
    default:
        return 0;
    }
}

static int on_frame_send(nghttp2_session *sess, const nghttp2_frame *f, void *ud)
{
    h2_t *h = ud;
    /* nghttp2 handles a connection error itself: it sends GOAWAY with the code. */
    if (f->hd.type == NGHTTP2_GOAWAY && f->goaway.error_code != NGHTTP2_NO_ERROR)
        h->local_error = true;
    if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA)
        return 0;
    h2_stream_t *s = stream_of(sess, f->hd.stream_id);
    if (s && s->x)
        s->x->bytes_sent += f->hd.length + 9;
    return 0;
}

static int on_stream_close(nghttp2_session *sess, int32_t id, uint32_t error_code, void *ud)
{
    h2_t *h = ud;
    h2_stream_t *s = stream_of(sess, id);
    if (!s)
        return 0;
    nghttp2_session_set_stream_user_data(sess, id, NULL);
    /* Bytes a paused stream left unacknowledged count against the connection
     * window too: given back now, or every stream that ends paused shrinks
     * the window for good. */
    if (s->unconsumed) {
        nghttp2_session_consume_connection(sess, s->unconsumed);
        s->unconsumed = 0;
    }
    if (h->n_active)
        h->n_active--;
    if (!s->x) { /* cancelled: nobody waits for it */
        stream_free(h, s);
        return 0;
    }
    s->error = error_code;
    s->refused = error_code == NGHTTP2_REFUSED_STREAM;
    s->finished = true;
    if (h->done_tail)
        h->done_tail->done_next = s;
    else
        h->done_head = s;
    h->done_tail = s;
    return 0;
}

static ssize_t body_read(nghttp2_session *sess, int32_t id, uint8_t *buf, size_t len,
                         uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    (void)sess;
    (void)id;
    (void)ud;
    h2_stream_t *s = src->ptr;
    size_t n = s->req_len - s->req_off;
    if (n > len)
        n = len;
    memcpy(buf, s->req_body + s->req_off, n);
    s->req_off += n;
    if (s->req_off == s->req_len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/* A streamed request body (hc_conn_body): what the caller gave so far;
 * deferred until more comes (h2_body resumes the stream). */
static ssize_t upload_read(nghttp2_session *sess, int32_t id, uint8_t *buf, size_t len,
                           uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    (void)sess;
    (void)id;
    (void)ud;
    h2_stream_t *s = src->ptr;
    hc_upload_t *u = s->x ? s->x->up : NULL;
    if (!u)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* withdrawn: reset the stream */
    size_t n = u->len - u->off;
    if (n == 0 && !u->end)
        return NGHTTP2_ERR_DEFERRED;
    if (n > len)
        n = len;
    memcpy(buf, u->buf + u->off, n);
    u->off += n;
    if (u->off == u->len && u->end)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/* ---- driving the session */

/* Everything nghttp2 wants to send, into the socket (or conn's buffer).
 * nghttp2 hands out one frame per call: frames are gathered so that a burst
 * costs one write (and one TLS record) instead of one per frame.
 * 0 or -1 (the socket failed). */
static int flush(hc_conn_t *c, h2_t *h)
{
    uint8_t batch[16384];
    size_t used = 0;
    for (;;) {
        const uint8_t *d;
        ssize_t n = nghttp2_session_mem_send(h->sess, &d);
        if (n < 0)
            return -1;
        if (n == 0 || used + (size_t)n > sizeof batch) {
            if (used && hc_conn_write(c, batch, used) != 0)
                return -1;
            used = 0;
        }
        if (n == 0)
            return 0;
        if ((size_t)n > sizeof batch) {
            if (hc_conn_write(c, d, (size_t)n) != 0)
                return -1;
            continue;
        }
        memcpy(batch + used, d, (size_t)n);
        used += (size_t)n;
    }
}

static hc_fail_t fail_of(const h2_t *h, const h2_stream_t *s)
{
    if (s->abandoned)
        return HC_FAIL_REQUEST;
    if (s->refused)
        return h->goaway ? HC_FAIL_H2_GOAWAY : HC_FAIL_H2_RST;
    /* The server's RST_STREAM, whatever its code; a reset of ours means the
     * response broke the protocol (nghttp2 checks headers and lengths). */
    if (s->error && s->reset_by_peer)
        return HC_FAIL_H2_RST;
    if (s->error == NGHTTP2_PROTOCOL_ERROR || s->error == NGHTTP2_COMPRESSION_ERROR ||
        s->error == NGHTTP2_FLOW_CONTROL_ERROR || s->error == NGHTTP2_FRAME_SIZE_ERROR)
        return HC_FAIL_H2_PROTOCOL;
    if (s->error)
        return HC_FAIL_H2_RST;
    return s->status >= 200 ? HC_OK : HC_FAIL_H2_PROTOCOL;
}

/* Ends one finished stream's exchange. */
static void deliver_one(hc_conn_t *c, h2_t *h, h2_stream_t *s)
{
    hc_xch_t *x = s->x;
    hc_fail_t fail = fail_of(h, s);
    s->x = NULL;
    if (fail != HC_OK) {
        /* Refused streams were not processed: safe to send again. */
        x->retryable = s->refused;
        stream_free(h, s);
        hc_conn_done(c, x, NULL, fail);
        return;
    }
    hc_resp_t resp;
    if (hc_racc_view(&s->resp, hc_conn_env(c), s->status, &resp) != 0) {
        stream_free(h, s);
        hc_conn_done(c, x, NULL, HC_FAIL_PROTOCOL);
        return;
    }
    hc_conn_mark_reused(c);
    /* Unlinked but not freed: resp points into s until on_done returns. */
    stream_unlink(h, s);
    hc_conn_done(c, x, &resp, HC_OK);
    stream_release(s);
}

/* After nghttp2 ran: send what it produced, hand finished streams over,
 * submit what waits, and retire a socket that GOAWAY closed. Returns 0 or a
 * negative hc_fail_t for on_read; the connection may be gone on return. */
static int run(hc_conn_t *c, h2_t *h)
{
    if (h->delivering)
        return flush(c, h) == 0 ? 0 : -HC_FAIL_RESET;
    uint32_t epoch = h->epoch;
    /* The peer may close at once after a bad frame: the write then fails, but
     * the reason is ours to tell. */
    if (flush(c, h) != 0 || h->local_error)
        return h->local_error ? -HC_FAIL_H2_PROTOCOL : -HC_FAIL_RESET;
    h->delivering = true;
    while (h->done_head) {
        h2_stream_t *s = h->done_head;
        h->done_head = s->done_next;
        if (!h->done_head)
            h->done_tail = NULL;
        s->done_next = NULL;
        s->finished = false;
        if (!s->x) {
            stream_free(h, s);
            continue;
        }
        deliver_one(c, h, s);
        if (h->epoch != epoch)
            return 0; /* on_done closed this connection */
    }
    h->delivering = false;
    hc_conn_pump(c);
    if (h->epoch != epoch)
        return 0;
    if (flush(c, h) != 0)
        return -HC_FAIL_RESET;
    if (h->n_active == 0 &&
        (h->goaway || (!nghttp2_session_want_read(h->sess) && !nghttp2_session_want_write(h->sess))))
        hc_conn_retire(c, HC_FAIL_H2_GOAWAY);
    return 0;
}

/* ---- the protocol table */

static void drain_uploads(hc_conn_t *c, h2_t *h);

static void session_end(h2_t *h, hc_xch_t **out)
{
    h->done_head = h->done_tail = NULL;
    while (h->streams) {
        h2_stream_t *s = h->streams;
        if (s->x && out) {
            /* Never sent, or refused: not processed by the server. */
            s->x->retryable = s->refused || s->id < 0 ||
                              (s->x->bytes_sent == 0 && s->x->bytes_received == 0);
            s->x->qnext = *out;
            *out = s->x;
        }
        s->x = NULL;
        stream_free(h, s);
    }
    if (h->sess) {
        nghttp2_session_del(h->sess);
        h->sess = NULL;
    }
    h->n_active = 0;
    h->epoch++;
    h->delivering = false;
}

static int h2_on_ready(hc_conn_t *c, void *st)
{
    h2_t *h = st;
    uint32_t epoch = h->epoch;
    session_end(h, NULL);
    memset(h, 0, sizeof *h);
    h->epoch = epoch + 1;
    h->conn = c;
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb) != 0)
        return -1;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_option *opt = NULL;
    if (nghttp2_option_new(&opt) != 0) {
        nghttp2_session_callbacks_del(cb);
        return -1;
    }
    nghttp2_option_set_no_auto_window_update(opt, 1); /* see on_data_chunk */
    int rc = nghttp2_session_client_new3(&h->sess, cb, h, opt, hc_pool_nghttp2_mem());
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cb);
    if (rc != 0)
        return -1;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE,
         hc_conn_env(c)->h2_stream_window ? hc_conn_env(c)->h2_stream_window : HC_H2_LOCAL_WINDOW},
    };
    if (nghttp2_submit_settings(h->sess, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]) != 0 ||
        nghttp2_session_set_local_window_size(h->sess, NGHTTP2_FLAG_NONE, 0, HC_H2_LOCAL_WINDOW) != 0)
        return -1;
    h->conn_window = HC_H2_LOCAL_WINDOW;
    return flush(c, h);
}

static bool h2_can_submit(hc_conn_t *c, void *st)
{
    (void)c;
    h2_t *h = st;
    if (!h->sess || h->goaway)
        return false;
    /* One stream until the server said its limit: a burst must not be refused. */
    uint32_t max = h->settings_seen
                       ? nghttp2_session_get_remote_settings(h->sess,
                                                             NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS)
                       : 1;
    return h->n_active < max;
}

/* Connection-specific fields have no place in HTTP/2 (RFC 9113 8.2.2). */
static bool h2_skip_header(const char *n, size_t l)
{
    static const char *const skip[] = {"host", "connection", "keep-alive", "proxy-connection",
                                       "transfer-encoding", "upgrade", "te", "content-length"};
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (strlen(skip[i]) == l && strncasecmp(skip[i], n, l) == 0)
            return true;
    return false;
}

#define MAKE_NV(n, nl, v, vl)                                                                     \
    ((nghttp2_nv){(uint8_t *)(n), (uint8_t *)(v), (nl), (vl), NGHTTP2_NV_FLAG_NONE})

static int h2_submit(hc_conn_t *c, void *st, hc_xch_t *x, const hc_req_t *rv)
{
    h2_t *h = st;
    x->head = rv->head;
    x->proto = HC_PROTO_H2;
    h2_stream_t *s = hc_pool_calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->x = x;
    s->id = -1;
    s->paused = x->paused;
    s->next = h->streams;
    if (h->streams)
        h->streams->prev = s;
    h->streams = s;

    /* Names go lower-case into the thread's serialisation buffer. */
    size_t n_nv = 6 + rv->n_hdrs, names = 0; /* 4 pseudo-headers, length, cookie */
    for (size_t i = 0; i < rv->n_hdrs; i++)
        names += rv->hdrs[i].name_len;
    nghttp2_nv stack_nv[48], *nva = n_nv <= 48 ? stack_nv : malloc(n_nv * sizeof *nva);
    char *lower = hc_env_wbuf(hc_conn_env(c), names + 32);
    if (!nva || !lower) {
        if (nva != stack_nv)
            free(nva);
        return -1;
    }
    const bool tls = hc_conn_target(c)->tls;
    size_t k = 0;
    nva[k++] = MAKE_NV(":method", 7, rv->method, rv->method_len);
    nva[k++] = MAKE_NV(":scheme", 7, tls ? "https" : "http", tls ? 5 : 4);
    nva[k++] = MAKE_NV(":authority", 10, rv->authority, rv->authority_len);
    nva[k++] = MAKE_NV(":path", 5, rv->path, rv->path_len);
    char clen[24];
    if (rv->body_streamed ? rv->body_length >= 0 : rv->has_body || rv->body_len) {
        int l = snprintf(clen, sizeof clen, "%lld",
                         rv->body_streamed ? (long long)rv->body_length : (long long)rv->body_len);
        nva[k++] = MAKE_NV("content-length", 14, clen, (size_t)l);
    }
    char *lp = lower;
    for (size_t i = 0; i < rv->n_hdrs; i++) {
        const char *hn = rv->hdrs[i].name, *hv = rv->hdrs[i].value;
        size_t hnl = rv->hdrs[i].name_len, hvl = rv->hdrs[i].value_len;
        /* te: trailers is the one te HTTP/2 allows (gRPC servers require it). */
        if (hnl == 0 || (h2_skip_header(hn, hnl) &&
                         !(hnl == 2 && strncasecmp(hn, "te", 2) == 0 && hvl == 8 &&
                           strncasecmp(hv, "trailers", 8) == 0)))
            continue;
        for (size_t j = 0; j < hnl; j++)
            lp[j] = (char)((hn[j] >= 'A' && hn[j] <= 'Z') ? hn[j] + 32 : hn[j]);
        nva[k++] = MAKE_NV(lp, hnl, hv, hvl);
        lp += hnl;
    }
    if (rv->cookie && rv->cookie_len)
        nva[k++] = MAKE_NV("cookie", 6, rv->cookie, rv->cookie_len);
    nghttp2_data_provider prd, *pp = NULL;
    if (rv->body_streamed) {
        if (!x->up && !(x->up = calloc(1, sizeof *x->up))) {
            if (nva != stack_nv)
                free(nva);
            return -1;
        }
        x->up->with_proto = true;
        prd.source.ptr = s;
        prd.read_callback = upload_read;
        pp = &prd;
    } else if (rv->body_len) {
        s->req_body = malloc(rv->body_len);
        if (!s->req_body) {
            if (nva != stack_nv)
                free(nva);
            return -1;
        }
        memcpy(s->req_body, rv->body, rv->body_len);
        s->req_len = rv->body_len;
        prd.source.ptr = s;
        prd.read_callback = body_read;
        pp = &prd;
    }
    int32_t id = nghttp2_submit_request(h->sess, NULL, nva, k, pp, s);
    if (nva != stack_nv)
        free(nva);
    if (id < 0)
        return -1; /* stream ids used up or out of memory: a new connection helps */
    s->id = id;
    h->n_active++;
    /* While delivering, run() flushes after the pump; otherwise the other
     * requests of a parallel step are likely being submitted right now. */
    if (!h->delivering)
        hc_conn_flush_soon(c);
    return 0;
}

static int h2_on_read(hc_conn_t *c, void *st, const char *data, size_t len)
{
    h2_t *h = st;
    if (!h->sess)
        return -HC_FAIL_H2_PROTOCOL;
    ssize_t n = nghttp2_session_mem_recv(h->sess, (const uint8_t *)data, len);
    /* nghttp2 handles a connection error by terminating the session itself
     * (it then wants nothing more to read, with no GOAWAY received). */
    if (n >= 0 && !h->goaway && !nghttp2_session_want_read(h->sess))
        h->local_error = true;
    if (n < 0) {
        /* Tell the server why before the socket goes. */
        nghttp2_session_terminate_session(h->sess, NGHTTP2_PROTOCOL_ERROR);
        flush(c, h);
        return -HC_FAIL_H2_PROTOCOL;
    }
    uint32_t epoch = h->epoch;
    int rc = run(c, h);
    /* A WINDOW_UPDATE may have let a waiting upload go. */
    if (rc == 0 && h->epoch == epoch && h->sess && !h->delivering)
        drain_uploads(c, h);
    return rc;
}

static void h2_on_eof(hc_conn_t *c, void *st)
{
    h2_t *h = st;
    /* Streams the server finished are in the done list: hand them over first. */
    uint32_t epoch = h->epoch;
    if (!h->sess)
        return;
    int rc = run(c, h);
    if (h->epoch != epoch || !h->sess)
        return;
    if (rc < 0)
        hc_conn_close(c, (hc_fail_t)-rc);
    else
        hc_conn_retire(c, h->goaway ? HC_FAIL_H2_GOAWAY : HC_FAIL_RESET);
}

/* Streamed bodies whose caller waits and which nghttp2 has taken down to
 * half the high-water mark, with the socket drained: on_drain, each of them.
 * Not only the first: after this the socket may stay quiet (the server's
 * windows are open and it owes nothing until the bodies end), so an upload
 * left waiting here would wait for good. */
static void drain_uploads(hc_conn_t *c, h2_t *h)
{
    hc_env_t *env = hc_conn_env(c);
    uint32_t epoch = h->epoch;
    /* on_drain may submit, cancel or feed (and a feed's flush may close
     * streams): the list is walked again from its head after each call. Each
     * round clears one want_drain, so the walk ends; output left in the
     * socket's buffer brings on_writable, which comes back here. */
    while (h->epoch == epoch && !hc_conn_out_pending(c)) {
        h2_stream_t *s = h->streams;
        hc_upload_t *u = NULL;
        for (; s; s = s->next) {
            u = s->x ? s->x->up : NULL;
            if (u && u->want_drain && u->len - u->off < HC_UPLOAD_HIGH / 2)
                break;
        }
        if (!s)
            return;
        u->want_drain = false;
        if (env->on_drain)
            env->on_drain(s->x);
    }
}

static void h2_on_writable(hc_conn_t *c, void *st)
{
    h2_t *h = st;
    int rc;
    if (h->sess && !h->delivering && (rc = run(c, h)) < 0) {
        hc_conn_close(c, (hc_fail_t)-rc);
        return;
    }
    if (h->sess && !h->delivering)
        drain_uploads(c, h);
}

/* Stops or resumes acknowledging x's DATA. */
static void h2_pause(hc_conn_t *c, void *st, hc_xch_t *x, bool paused)
{
    h2_t *h = st;
    for (h2_stream_t *s = h->streams; s; s = s->next) {
        if (s->x != x)
            continue;
        s->paused = paused;
        if (!paused && s->unconsumed && s->id > 0 && h->sess) {
            nghttp2_session_consume(h->sess, s->id, s->unconsumed);
            s->unconsumed = 0;
            if (!h->delivering)
                hc_conn_flush_soon(c); /* the WINDOW_UPDATE */
        }
        return;
    }
}

/* New bytes or the end of x's streamed body: nghttp2 takes them as the
 * stream's window allows. */
static int h2_body(hc_conn_t *c, void *st, hc_xch_t *x)
{
    h2_t *h = st;
    for (h2_stream_t *s = h->streams; s; s = s->next) {
        if (s->x != x || s->id < 0 || s->finished)
            continue;
        nghttp2_session_resume_data(h->sess, s->id);
        if (!h->delivering)
            return flush(c, h);
        return 0;
    }
    return 0;
}

static bool h2_cancel(hc_conn_t *c, void *st, hc_xch_t *x)
{
    h2_t *h = st;
    for (h2_stream_t *s = h->streams; s; s = s->next) {
        if (s->x != x)
            continue;
        s->x = NULL;
        if (s->id > 0 && !s->finished && h->sess) {
            nghttp2_submit_rst_stream(h->sess, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
            if (!h->delivering)
                flush(c, h); /* a failed write shows at the next read */
        }
        break;
    }
    return false;
}

static void h2_on_close(hc_conn_t *c, void *st, hc_xch_t **out)
{
    (void)c;
    session_end(st, out);
}

static bool h2_busy(hc_conn_t *c, void *st)
{
    (void)c;
    return ((h2_t *)st)->n_active > 0;
}

static void h2_fini(hc_conn_t *c, void *st)
{
    (void)c;
    session_end(st, NULL);
}

const hc_proto_t hc_h2_proto = {
    .name = "h2",
    .proto_id = HC_PROTO_H2,
    .state_size = sizeof(h2_t),
    .on_ready = h2_on_ready,
    .can_submit = h2_can_submit,
    .submit = h2_submit,
    .on_read = h2_on_read,
    .on_eof = h2_on_eof,
    .on_writable = h2_on_writable,
    .cancel = h2_cancel,
    .on_close = h2_on_close,
    .trim = NULL,
    .busy = h2_busy,
    .body = h2_body,
    .pause = h2_pause,
    .fini = h2_fini,
};

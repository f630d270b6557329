#include "h2server.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/buffer.h>
#include <nghttp2/nghttp2.h>

#include "fwd.h"
#include "log.h"

/* What nghttp2 may queue in the output buffer before the socket drains it. */
#define H2_OUT_HIGH (64 * 1024)
/* Response body queued per stream above which the origin is not read. */
#define H2_STREAM_HIGH (256 * 1024)
/* Streams a client may open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
#define H2_MAX_STREAMS 100
/* The client's connection window: room for every stream's whole window, so
 * that a stream whose request body waits for its origin (its window is not
 * given back, see on_data) never closes the window of the streams beside it.
 * A stream's own window stays nghttp2's default 65 535 bytes. */
#define H2_CONN_WINDOW (H2_MAX_STREAMS * NGHTTP2_INITIAL_WINDOW_SIZE)

/* Feeds the bytes of in to ng, draining what it took; stops early when
 * *dead becomes true inside nghttp2's callbacks. 0, or nghttp2's error code. */
static int ng_feed(nghttp2_session *ng, struct evbuffer *in, const bool *dead)
{
    while (!*dead && evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        ssize_t n = nghttp2_session_mem_recv(ng, v.iov_base, v.iov_len);
        if (n < 0)
            return (int)n;
        evbuffer_drain(in, (size_t)n);
    }
    return 0;
}

/* Moves ng's frames into out until it has none or out holds H2_OUT_HIGH
 * bytes (the write callback calls again as the socket drains). 0, or
 * nghttp2's error code. */
static int ng_send(nghttp2_session *ng, struct evbuffer *out, const bool *dead)
{
    while (!*dead && evbuffer_get_length(out) < H2_OUT_HIGH) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(ng, &data);
        if (n <= 0)
            return (int)n;
        evbuffer_add(out, data, (size_t)n);
    }
    return 0;
}

typedef struct h2stream h2stream_t;

typedef struct h2s {
    proxy_link_t link;       /* first: the drain finds us by it */
    proxy_t *px;
    struct bufferevent *bev;
    nghttp2_session *ng;
    record_conn_t conn;
    url_t origin;
    h2stream_t *streams;
    int busy;                /* > 0 inside nghttp2 or a flush: freeing waits */
    bool dead;               /* free when busy drops to 0 */
} h2s_t;

struct h2stream {
    h2s_t *s;
    int32_t id;
    rec_headers_t headers;   /* regular headers as received, in order */
    char *method, *scheme, *authority, *path;
    recx_t *x;
    up_conn_t *up;
    struct evbuffer *resp;   /* response body not yet taken by nghttp2 */
    size_t unconsumed;       /* request bytes not yet acknowledged (backpressure) */
    long long resp_len;      /* the response's Content-Length, -1 when not given */
    long long resp_got;      /* response body bytes the origin sent so far */
    bool resp_eof, resp_started, up_paused, up_full;
    bool resp_sent;          /* the last of the response went to nghttp2 */
    rec_headers_t trailers;  /* the origin's trailers, sent after the body */
    h2stream_t *prev, *next;
};

static void h2_flush(h2s_t *s);

/* ---- streams */

/* Gives back the request bytes on_data held from the client (st->unconsumed)
 * and stops holding. up_drain calls it when the origin caught up; up_done,
 * up_fail and on_stream_close when nothing will drain them any more (the
 * origin answered or failed before taking the whole body, e.g. a 413 or 401
 * to an upload, or the stream closed): without that, each such stream kept
 * up to its window (64 KiB) out of the connection window for the
 * connection's life, and about 100 of them stalled every later upload on it.
 * An open stream's own window reopens too, so a client that sends its whole
 * body before it reads the answer is not stuck; a closing stream (closing)
 * has none left, so only the connection's is given. */
static void stream_give_back(h2stream_t *st, bool closing)
{
    st->up_full = false;
    if (st->unconsumed == 0)
        return;
    if (closing)
        nghttp2_session_consume_connection(st->s->ng, st->unconsumed);
    else
        nghttp2_session_consume(st->s->ng, st->id, st->unconsumed);
    st->unconsumed = 0;
}

static h2stream_t *stream_new(h2s_t *s, int32_t id)
{
    h2stream_t *st = calloc(1, sizeof *st);
    if (st == NULL || (st->resp = evbuffer_new()) == NULL) {
        free(st);
        return NULL;
    }
    st->s = s;
    st->id = id;
    st->resp_len = -1;
    st->next = s->streams;
    if (s->streams)
        s->streams->prev = st;
    s->streams = st;
    return st;
}

/* Ends the stream's exchange (recording it) and frees the stream. */
static void stream_free(h2stream_t *st)
{
    h2s_t *s = st->s;
    if (st->up != NULL && st->resp_sent) {
        /* The stream ended inside up_head (a body-less answer): complete. */
        up_detach(st->up);
    } else if (st->up != NULL) {
        up_abort(st->up);
        st->up = NULL;
    }
    /* Every byte of a response of announced length went to nghttp2 but the
     * exchange had not ended on the origin's side (an HTTP/2 origin's stream
     * ends only once the upload its answer cut short does; up_done comes from
     * the loop): a client that left now had the whole response (curl resets
     * such a stream as soon as it has the announced body). */
    bool whole = st->resp_len >= 0 && st->resp_got == st->resp_len &&
                 evbuffer_get_length(st->resp) == 0;
    if (!st->resp_sent && !whole && st->x)
        recx_fail(st->x, 0, REC_F_INCOMPLETE, "stream closed before the response was delivered");
    if (st->x != NULL)
        recx_end(st->x);
    if (st->prev)
        st->prev->next = st->next;
    else
        s->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    rec_headers_fini(&st->headers);
    rec_headers_fini(&st->trailers);
    free(st->method);
    free(st->scheme);
    free(st->authority);
    free(st->path);
    evbuffer_free(st->resp);
    free(st);
}

static void session_free(h2s_t *s)
{
    while (s->streams != NULL)
        stream_free(s->streams);
    nghttp2_session_del(s->ng);
    if (s->bev)
        bufferevent_free(s->bev);
    record_conn_fini(&s->conn);
    proxy_link_remove(s->px, &s->link);
    free(s);
}

/* ---- response towards the client */

/* Submits st->trailers with lower-case names (nghttp2 allows it from the data
 * callback that sets EOF). 0 or -1. */
static int submit_trailers(h2stream_t *st)
{
    size_t n = st->trailers.n, k = 0;
    nghttp2_nv *nv = calloc(n, sizeof *nv);
    char **names = calloc(n, sizeof *names);
    int rc = -1;
    if (nv == NULL || names == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const char *name = st->trailers.v[i].name;
        if (fwd_is_hop(&st->trailers, name))
            continue;
        if ((names[k] = strdup(name)) == NULL)
            goto out;
        for (char *p = names[k]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        nv[k] = (nghttp2_nv){ (uint8_t *)names[k], (uint8_t *)st->trailers.v[i].value, strlen(name),
                              strlen(st->trailers.v[i].value), NGHTTP2_NV_FLAG_NONE };
        k++;
    }
    rc = k > 0 && nghttp2_submit_trailer(st->s->ng, st->id, nv, k) == 0 ? 0 : -1;
out:
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
    free(nv);
    return rc;
}

static ssize_t read_resp(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
                         uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    h2stream_t *st = src->ptr;
    (void)ng, (void)id, (void)ud;
    int n = evbuffer_remove(st->resp, buf, len);
    if (n < 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    if (st->up_paused && st->up && evbuffer_get_length(st->resp) < H2_STREAM_HIGH / 2) {
        st->up_paused = false;
        up_pause(st->up, false);
    }
    if (evbuffer_get_length(st->resp) == 0) {
        if (st->resp_eof) {
            *flags |= NGHTTP2_DATA_FLAG_EOF;
            st->resp_sent = true;
            /* The origin's trailers end the stream instead (gRPC's grpc-status). */
            if (st->trailers.n > 0 && submit_trailers(st) == 0)
                *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        }
        else if (n == 0)
            return NGHTTP2_ERR_DEFERRED;
    }
    return n;
}

/* Submits the response head: ":status", then the end-to-end headers with
 * lower-case names as HTTP/2 requires. */
static int submit_head(h2stream_t *st, int status, const rec_headers_t *h, bool has_body)
{
    size_t n = h ? h->n : 0, k = 0;
    nghttp2_nv *nv = calloc(n + 1, sizeof *nv);
    char **names = calloc(n + 1, sizeof *names);
    char code[4];
    int rc = -1;
    if (nv == NULL || names == NULL)
        goto out;
    snprintf(code, sizeof code, "%03d", status);
    nv[k++] = (nghttp2_nv){ (uint8_t *)":status", (uint8_t *)code, 7, 3, NGHTTP2_NV_FLAG_NONE };
    for (size_t i = 0; i < n; i++) {
        const char *name = h->v[i].name;
        if (fwd_is_hop(h, name) || strcasecmp(name, "Host") == 0)
            continue;
        if ((names[k] = strdup(name)) == NULL)
            goto out;
        for (char *p = names[k]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        nv[k] = (nghttp2_nv){ (uint8_t *)names[k], (uint8_t *)h->v[i].value, strlen(name),
                              strlen(h->v[i].value), NGHTTP2_NV_FLAG_NONE };
        k++;
    }
    nghttp2_data_provider dp = { .source.ptr = st, .read_callback = read_resp };
    rc = nghttp2_submit_response(st->s->ng, st->id, nv, k, has_body ? &dp : NULL) == 0 ? 0 : -1;
    st->resp_sent = rc == 0 && !has_body;
out:
    for (size_t i = 0; names && i <= n; i++)
        free(names[i]);
    free(names);
    free(nv);
    return rc;
}

static void up_interim(void *arg, int status, const rec_headers_t *h)
{
    (void)arg, (void)status, (void)h; /* the client sent its body without waiting */
}

static void up_head(void *arg, const up_resp_t *r)
{
    h2stream_t *st = arg;
    recx_resp_head(st->x, r->status, r->headers, r->first_byte_us);
    st->resp_started = true;
    st->resp_len = r->has_body ? r->content_length : -1;
    if (!r->has_body)
        st->resp_eof = true;
    if (submit_head(st, r->status, r->headers, r->has_body) != 0)
        nghttp2_submit_rst_stream(st->s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
    h2_flush(st->s);
}

static void up_body_cb(void *arg, const char *p, size_t n)
{
    h2stream_t *st = arg;
    recx_resp_body(st->x, p, n);
    st->resp_got += (long long)n;
    evbuffer_add(st->resp, p, n);
    if (!st->up_paused && evbuffer_get_length(st->resp) > H2_STREAM_HIGH) {
        st->up_paused = true;
        up_pause(st->up, true);
    }
    nghttp2_session_resume_data(st->s->ng, st->id);
    h2_flush(st->s);
}

static void up_done(void *arg)
{
    h2stream_t *st = arg;
    st->up = NULL;
    stream_give_back(st, false);
    st->resp_eof = true;
    nghttp2_session_resume_data(st->s->ng, st->id);
    h2_flush(st->s);
}

static void up_fail(void *arg, int status, const char *reason)
{
    h2stream_t *st = arg;
    h2s_t *s = st->s;
    st->up = NULL;
    stream_give_back(st, false);
    log_debug("conn %llu stream %d: %s", (unsigned long long)s->conn.id, st->id, reason);
    if (st->resp_started) {
        recx_fail(st->x, 0, REC_F_INCOMPLETE, reason);
        nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
    } else {
        static const char type[] = "content-type";
        recx_fail(st->x, status, REC_F_ERROR, reason);
        evbuffer_add_printf(st->resp, "%s\n", reason);
        st->resp_eof = true;
        rec_headers_t h = { 0 };
        rec_headers_add(&h, type, "text/plain");
        submit_head(st, status, &h, true);
        rec_headers_fini(&h);
    }
    h2_flush(s);
}

static void up_drain(void *arg)
{
    h2stream_t *st = arg;
    stream_give_back(st, false);
    h2_flush(st->s);
}

static void up_trailers(void *arg, const rec_headers_t *t)
{
    h2stream_t *st = arg;
    recx_resp_trailers(st->x, t);
    rec_headers_fini(&st->trailers);
    for (size_t i = 0; i < t->n; i++)
        if (rec_headers_add(&st->trailers, t->v[i].name, t->v[i].value) != 0)
            break; /* out of memory: what was copied goes */
}

static const up_ops_t h2_up_ops = { up_interim, up_head, up_body_cb, up_done, up_fail, up_drain,
                                    up_trailers };

/* ---- requests from the client */

/* The headers forwarded over HTTP/1.1: HTTP/2 may split Cookie into several
 * fields, HTTP/1.1 wants one (RFC 9113 8.2.3). */
static int h1_headers(const rec_headers_t *in, rec_headers_t *out)
{
    char *cookie = NULL;
    size_t clen = 0;
    int rc = 0;
    for (size_t i = 0; i < in->n && rc == 0; i++) {
        const char *name = in->v[i].name, *v = in->v[i].value;
        if (strcasecmp(name, "cookie") != 0) {
            rc = rec_headers_add(out, name, v);
            continue;
        }
        size_t vl = strlen(v);
        char *t = realloc(cookie, clen + vl + 3);
        if (t == NULL) {
            rc = -1;
            break;
        }
        cookie = t;
        if (clen > 0) {
            memcpy(cookie + clen, "; ", 2);
            clen += 2;
        }
        memcpy(cookie + clen, v, vl + 1);
        clen += vl;
    }
    if (rc == 0 && cookie != NULL)
        rc = rec_headers_add(out, "cookie", cookie);
    free(cookie);
    return rc;
}

static void stream_start(h2stream_t *st, bool end_stream)
{
    h2s_t *s = st->s;
    /* Reverse mode records and sends the service's authority, as client.c does. */
    const char *host = s->px->cfg->reverse ? NULL
                       : st->authority ? st->authority : rec_headers_get(&st->headers, "host");
    char authority[300];
    if (host == NULL)
        url_host_header(&s->origin, authority, sizeof authority);
    else
        snprintf(authority, sizeof authority, "%s", host);
    if (st->method == NULL || st->path == NULL) {
        nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_PROTOCOL_ERROR);
        return;
    }
    const char *scheme = s->px->cfg->reverse ? s->origin.scheme : st->scheme ? st->scheme : "https";
    st->x = recx_begin(s->px->rec, &s->conn, (uint32_t)st->id, scheme,
                       authority, st->method, st->path, "HTTP/2", &st->headers);
    const char *cl = rec_headers_get(&st->headers, "content-length");
    enum fwd_framing f = cl ? FWD_LENGTH : end_stream ? FWD_NONE : FWD_CHUNKED;
    rec_headers_t fh = { 0 };
    if (st->x != NULL && h1_headers(&st->headers, &fh) == 0)
        st->up = up_start(s->px->pool, &s->origin, st->method, st->path, authority, &fh, f,
                          &h2_up_ops, st);
    rec_headers_fini(&fh);
    if (st->up == NULL) {
        if (st->x)
            recx_fail(st->x, 502, REC_F_ERROR, "out of memory");
        nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
        return;
    }
    if (end_stream)
        up_body_end(st->up);
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *frame, void *ud)
{
    h2s_t *s = ud;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    h2stream_t *st = stream_new(s, frame->hd.stream_id);
    if (st == NULL)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    nghttp2_session_set_stream_user_data(ng, frame->hd.stream_id, st);
    return 0;
}

static int set_pseudo(char **field, const uint8_t *v, size_t vl)
{
    free(*field);
    *field = strndup((const char *)v, vl);
    return *field ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name,
                     size_t nl, const uint8_t *value, size_t vl, uint8_t flags, void *ud)
{
    (void)flags, (void)ud;
    h2stream_t *st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
    if (st == NULL || st->x != NULL) /* trailers are not recorded */
        return 0;
    const char *n = (const char *)name;
    if (nl == 7 && memcmp(n, ":method", 7) == 0)
        return set_pseudo(&st->method, value, vl);
    if (nl == 7 && memcmp(n, ":scheme", 7) == 0)
        return set_pseudo(&st->scheme, value, vl);
    if (nl == 10 && memcmp(n, ":authority", 10) == 0)
        return set_pseudo(&st->authority, value, vl);
    if (nl == 5 && memcmp(n, ":path", 5) == 0)
        return set_pseudo(&st->path, value, vl);
    if (nl > 0 && n[0] == ':')
        return 0;
    char *nn = strndup(n, nl), *vv = strndup((const char *)value, vl);
    int rc = nn && vv ? rec_headers_add(&st->headers, nn, vv) : -1;
    free(nn);
    free(vv);
    return rc == 0 ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *ud)
{
    (void)ud;
    h2stream_t *st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
    if (st == NULL)
        return 0;
    bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (frame->hd.type == NGHTTP2_HEADERS && st->x == NULL && !st->resp_started) {
        stream_start(st, end);
        return 0;
    }
    if ((frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS) && end && st->up)
        up_body_end(st->up);
    return 0;
}

static int on_data(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data,
                   size_t len, void *ud)
{
    (void)flags, (void)ud;
    h2stream_t *st = nghttp2_session_get_stream_user_data(ng, id);
    if (st != NULL && st->x != NULL)
        recx_req_body(st->x, data, len);
    if (st == NULL || st->up == NULL) {
        /* An origin that answered before reading the body: still recorded. */
        nghttp2_session_consume(ng, id, len);
        return 0;
    }
    if (up_body(st->up, data, len) == 1)
        st->up_full = true;
    /* Window updates wait while the origin is behind: HTTP/2 flow control
     * is the backpressure towards the client. */
    if (st->up_full)
        st->unconsumed += len;
    else
        nghttp2_session_consume(ng, id, len);
    return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *ud)
{
    (void)code, (void)ud;
    h2stream_t *st = nghttp2_session_get_stream_user_data(ng, id);
    if (st != NULL) {
        nghttp2_session_set_stream_user_data(ng, id, NULL);
        stream_give_back(st, true);
        stream_free(st);
    }
    return 0;
}

/* ---- the connection */

/* nghttp2 gave up on the connection (the client broke the protocol). */
static void broken(h2s_t *s, int rc)
{
    log_debug("conn %llu: HTTP/2: %s", (unsigned long long)s->conn.id, nghttp2_strerror(rc));
    s->dead = true;
}

/* Hands nghttp2's output to the socket while it keeps up; ends the session
 * when neither side has anything more to say. */
static void h2_flush(h2s_t *s)
{
    struct evbuffer *out = bufferevent_get_output(s->bev);
    s->busy++;
    int rc = ng_send(s->ng, out, &s->dead);
    if (rc < 0)
        broken(s, rc);
    s->busy--;
    if (!s->dead && !nghttp2_session_want_read(s->ng) && !nghttp2_session_want_write(s->ng) &&
        evbuffer_get_length(out) == 0)
        s->dead = true;
    if (s->dead && s->busy == 0)
        session_free(s);
}

static void h2_read(struct bufferevent *bev, void *arg)
{
    h2s_t *s = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    s->busy++;
    int rc = ng_feed(s->ng, in, &s->dead);
    if (rc < 0)
        broken(s, rc);
    s->busy--;
    h2_flush(s);
}

static void h2_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    h2_flush(arg);
}

static void h2_event(struct bufferevent *bev, short what, void *arg)
{
    h2s_t *s = arg;
    (void)bev, (void)what;
    for (h2stream_t *st = s->streams; st != NULL; st = st->next)
        if (st->up && st->x)
            recx_fail(st->x, 0, REC_F_INCOMPLETE, "client closed the connection mid-exchange");
    s->dead = true;
    if (s->busy == 0)
        session_free(s);
}

static void h2_drain(proxy_link_t *l)
{
    h2s_t *s = (h2s_t *)l;
    /* GOAWAY with the last stream taken: those finish, no new ones start. */
    nghttp2_submit_goaway(s->ng, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(s->ng),
                          NGHTTP2_NO_ERROR, NULL, 0);
    h2_flush(s);
}

static void h2_abort(proxy_link_t *l)
{
    h2s_t *s = (h2s_t *)l;
    for (h2stream_t *st = s->streams; st != NULL; st = st->next)
        if (st->up && st->x)
            recx_fail(st->x, 0, REC_F_INCOMPLETE, "capture stopped before the exchange completed");
    session_free(s);
}

int h2s_start(proxy_t *px, struct bufferevent *bev, const record_conn_t *conn, const url_t *origin)
{
    h2s_t *s = calloc(1, sizeof *s);
    nghttp2_session_callbacks *cbs = NULL;
    nghttp2_option *opt = NULL;
    if (s == NULL || nghttp2_session_callbacks_new(&cbs) != 0 || nghttp2_option_new(&opt) != 0)
        goto fail;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    nghttp2_option_set_no_auto_window_update(opt, 1);
    if (nghttp2_session_server_new2(&s->ng, cbs, s, opt) != 0)
        goto fail;
    nghttp2_session_callbacks_del(cbs);
    nghttp2_option_del(opt);
    nghttp2_settings_entry iv[] = { { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_STREAMS } };
    if (nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, 1) != 0 ||
        nghttp2_session_set_local_window_size(s->ng, NGHTTP2_FLAG_NONE, 0, H2_CONN_WINDOW) != 0)
        goto fail_session;
    s->px = px;
    s->bev = bev;
    s->conn = *conn;
    s->conn.last_session = conn->last_session ? strdup(conn->last_session) : NULL;
    s->origin = *origin;
    s->link.on_drain = h2_drain;
    s->link.on_abort = h2_abort;
    proxy_link_add(px, &s->link);
    bufferevent_setcb(bev, h2_read, h2_write, h2_event, s);
    bufferevent_set_timeouts(bev, NULL, NULL);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
        h2_read(bev, s);
    else
        h2_flush(s);
    return 0;
fail_session:
    nghttp2_session_del(s->ng);
    free(s);
    return -1;
fail:
    nghttp2_session_callbacks_del(cbs);
    nghttp2_option_del(opt);
    free(s);
    return -1;
}

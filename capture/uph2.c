#include "uph2.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/buffer.h>
#include <nghttp2/nghttp2.h>

#include "clock.h"
#include "fwd.h"
#include "h2io.h"

/* Request body queued per stream above which the front stops reading. */
#define UPH2_REQ_HIGH (256 * 1024)
#define UPH2_IDLE_SECONDS 30
#define UPH2_STREAM_WINDOW (1 << 20)
#define UPH2_CONN_WINDOW (16 << 20)

struct uph2_stream {
    uph2_t *s;
    int32_t id;
    const up_ops_t *ops;
    void *front;              /* NULL once told the end, or gone */
    rec_headers_t headers;    /* response headers being read */
    rec_headers_t trailers;   /* response trailers (a HEADERS frame after the head) */
    int status;
    bool head_only, head_seen, finished;
    struct evbuffer *req;     /* request body not yet taken by nghttp2 */
    bool req_end, want_drain, drain_due;
    bool paused;              /* the front is slow: no WINDOW_UPDATE */
    size_t unconsumed;
    int64_t first_byte_us;
    uph2_stream_t *prev, *next;
};

struct uph2 {
    struct bufferevent *bev;
    nghttp2_session *ng;
    char key[300];
    uint64_t timeout_us;
    void (*on_gone)(void *arg, uph2_t *s);
    void *arg;
    uph2_stream_t *streams;
    int nstreams;
    bool dead;                /* free when busy drops to 0 */
    bool flush_again;         /* output was asked for while busy */
    int busy;                 /* > 0 inside nghttp2 or a flush */
};

static void session_flush(uph2_t *s);

const char *uph2_key(const uph2_t *s) { return s->key; }

bool uph2_can_take(const uph2_t *s)
{
    if (s->dead || !nghttp2_session_want_read(s->ng) || nghttp2_session_get_next_stream_id(s->ng) > (1 << 30))
        return false;
    uint32_t max = nghttp2_session_get_remote_settings(s->ng, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
    return (uint32_t)s->nstreams < max;
}

static void set_timeout(uph2_t *s)
{
    uint64_t us = s->nstreams > 0 ? s->timeout_us : UPH2_IDLE_SECONDS * 1000000ull;
    struct timeval tv = { .tv_sec = (time_t)(us / 1000000), .tv_usec = (suseconds_t)(us % 1000000) };
    bufferevent_set_timeouts(s->bev, &tv, NULL);
}

/* The front hears the end once: done, or failed with status and reason. */
static void stream_end(uph2_stream_t *st, int status, const char *reason)
{
    void *front = st->front;
    st->front = NULL;
    st->finished = true;
    if (front == NULL)
        return;
    if (reason == NULL)
        st->ops->on_done(front);
    else
        st->ops->on_fail(front, status, reason);
}

static void stream_free(uph2_stream_t *st)
{
    uph2_t *s = st->s;
    if (st->prev)
        st->prev->next = st->next;
    else
        s->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    s->nstreams--;
    rec_headers_fini(&st->headers);
    rec_headers_fini(&st->trailers);
    evbuffer_free(st->req);
    free(st);
    set_timeout(s);
}

static void session_free(uph2_t *s)
{
    if (s->on_gone)
        s->on_gone(s->arg, s);
    while (s->streams != NULL) {
        stream_end(s->streams, 502, "the HTTP/2 connection to the origin ended");
        stream_free(s->streams);
    }
    nghttp2_session_del(s->ng);
    bufferevent_free(s->bev);
    free(s);
}

void uph2_free(uph2_t *s)
{
    s->on_gone = NULL;
    session_free(s);
}

/* Every open stream fails with status and reason; the session ends. */
static void session_fail(uph2_t *s, int status, const char *reason)
{
    s->busy++; /* fronts told here may call back: nothing is freed meanwhile */
    s->dead = true;
    for (uph2_stream_t *st = s->streams; st != NULL; st = st->next)
        stream_end(st, status, reason);
    s->busy--;
}

/* ---- nghttp2 callbacks */

static ssize_t read_req(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                        nghttp2_data_source *src, void *ud)
{
    uph2_stream_t *st = src->ptr;
    (void)ng, (void)id, (void)ud;
    int n = evbuffer_remove(st->req, buf, len);
    if (n < 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    if (st->want_drain && evbuffer_get_length(st->req) < UPH2_REQ_HIGH / 2) {
        st->want_drain = false;
        st->drain_due = true; /* told after the send loop, outside nghttp2 */
    }
    if (evbuffer_get_length(st->req) == 0) {
        if (st->req_end)
            *flags |= NGHTTP2_DATA_FLAG_EOF;
        else if (n == 0)
            return NGHTTP2_ERR_DEFERRED;
    }
    return n;
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *frame, void *ud)
{
    (void)ud;
    uph2_stream_t *st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
    if (st != NULL && st->first_byte_us == 0)
        st->first_byte_us = clk_wall_us();
    return 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name, size_t nl,
                     const uint8_t *value, size_t vl, uint8_t flags, void *ud)
{
    (void)flags, (void)ud;
    uph2_stream_t *st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
    if (st == NULL)
        return 0;
    if (st->head_seen) { /* trailers: handed to the front before the end */
        if (nl > 0 && name[0] == ':')
            return 0;
        char *n = strndup((const char *)name, nl), *v = strndup((const char *)value, vl);
        int rc = n && v ? rec_headers_add(&st->trailers, n, v) : -1;
        free(n);
        free(v);
        return rc == 0 ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    if (nl == 7 && memcmp(name, ":status", 7) == 0) {
        st->status = atoi((const char *)value);
        return 0;
    }
    char *n = strndup((const char *)name, nl), *v = strndup((const char *)value, vl);
    int rc = n && v ? rec_headers_add(&st->headers, n, v) : -1;
    free(n);
    free(v);
    return rc == 0 ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
}

static void deliver_head(uph2_stream_t *st, bool end_stream)
{
    const char *cl = rec_headers_get(&st->headers, "content-length");
    bool bodiless = st->head_only || st->status == 204 || st->status == 304;
    up_resp_t r = {
        .status = st->status, .headers = &st->headers,
        .content_length = cl && !bodiless ? strtoll(cl, NULL, 10) : -1,
        .has_body = !bodiless && !end_stream, .first_byte_us = st->first_byte_us,
    };
    st->head_seen = true;
    if (st->front)
        st->ops->on_head(st->front, &r);
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *ud)
{
    (void)ud;
    uph2_stream_t *st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
    if (st == NULL)
        return 0;
    bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (frame->hd.type == NGHTTP2_HEADERS && !st->head_seen) {
        if (st->status >= 100 && st->status < 200) {
            if (st->front)
                st->ops->on_interim(st->front, st->status, &st->headers);
            rec_headers_fini(&st->headers);
            st->status = 0;
            return 0;
        }
        deliver_head(st, end);
    }
    if (frame->hd.type == NGHTTP2_HEADERS && st->head_seen && end && st->trailers.n > 0 &&
        st->front && st->ops->on_trailers)
        st->ops->on_trailers(st->front, &st->trailers);
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) && end && !st->finished)
        stream_end(st, 0, NULL);
    return 0;
}

static int on_data(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *ud)
{
    (void)flags, (void)ud;
    uph2_stream_t *st = nghttp2_session_get_stream_user_data(ng, id);
    if (st != NULL && st->front != NULL)
        st->ops->on_body(st->front, (const char *)data, len);
    /* WINDOW_UPDATE waits while the front is slow: flow control is the backpressure. */
    if (st != NULL && st->paused && st->front != NULL)
        st->unconsumed += len;
    else
        nghttp2_session_consume(ng, id, len);
    return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *ud)
{
    uph2_t *s = ud;
    uph2_stream_t *st = nghttp2_session_get_stream_user_data(ng, id);
    if (st == NULL)
        return 0;
    if (!st->finished) {
        char why[400];
        snprintf(why, sizeof why, "%s: HTTP/2 stream %s by the origin (%s)", s->key,
                 st->head_seen ? "reset in the middle of the response" : "refused or reset",
                 nghttp2_http2_strerror(code));
        stream_end(st, 502, why);
    }
    nghttp2_session_set_stream_user_data(ng, id, NULL);
    stream_free(st);
    return 0;
}

/* ---- the connection */

/* Hands nghttp2's output to the socket while it keeps up, then tells fronts
 * whose request body drained. Never runs inside nghttp2 (nghttp2 forbids
 * sending from its callbacks): a call from there only asks for another round. */
static void session_flush(uph2_t *s)
{
    if (s->busy > 0) {
        s->flush_again = true;
        return;
    }
    struct evbuffer *out = bufferevent_get_output(s->bev);
    s->busy++;
    do {
        s->flush_again = false;
        int rc = h2io_send(s->ng, out, &s->dead);
        if (rc < 0) {
            char why[400];
            snprintf(why, sizeof why, "%s: HTTP/2: %s", s->key, nghttp2_strerror(rc));
            session_fail(s, 502, why);
        }
        for (uph2_stream_t *st = s->streams; st != NULL; st = st->next) {
            if (st->drain_due && st->front) {
                st->drain_due = false;
                st->ops->on_drain(st->front);
            }
        }
    } while (s->flush_again && !s->dead);
    s->busy--;
    if (!s->dead && !nghttp2_session_want_read(s->ng) && !nghttp2_session_want_write(s->ng))
        s->dead = true;
    if (s->dead)
        session_free(s);
}

static void session_read(struct bufferevent *bev, void *arg)
{
    uph2_t *s = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    s->busy++;
    int rc = h2io_feed(s->ng, in, &s->dead);
    if (rc < 0) {
        char why[400];
        snprintf(why, sizeof why, "%s: bad HTTP/2 from the origin: %s", s->key, nghttp2_strerror(rc));
        session_fail(s, 502, why);
    }
    s->busy--;
    session_flush(s);
}

static void session_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    session_flush(arg);
}

static void session_event(struct bufferevent *bev, short what, void *arg)
{
    uph2_t *s = arg;
    char why[400];
    (void)bev;
    bool timeout = (what & BEV_EVENT_TIMEOUT) != 0;
    if (timeout)
        snprintf(why, sizeof why, "%s: no answer within %.1fs", s->key, (double)s->timeout_us / 1e6);
    else
        snprintf(why, sizeof why, "%s closed the HTTP/2 connection", s->key);
    session_fail(s, timeout ? 504 : 502, why);
    if (s->busy == 0)
        session_free(s);
}

uph2_t *uph2_new(struct bufferevent *bev, const char *key, uint64_t timeout_us,
                 void (*on_gone)(void *arg, uph2_t *s), void *arg)
{
    uph2_t *s = calloc(1, sizeof *s);
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
    if (nghttp2_session_client_new2(&s->ng, cbs, s, opt) != 0)
        goto fail;
    nghttp2_session_callbacks_del(cbs);
    nghttp2_option_del(opt);
    /* Windows large enough for concurrent downloads at loopback speed; what
     * is not yet taken by a slow front stays unacknowledged, so memory stays
     * bounded by them. */
    nghttp2_settings_entry iv[] = { { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, UPH2_STREAM_WINDOW } };
    nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, 1);
    nghttp2_session_set_local_window_size(s->ng, NGHTTP2_FLAG_NONE, 0, UPH2_CONN_WINDOW);
    s->bev = bev;
    snprintf(s->key, sizeof s->key, "%s", key);
    s->timeout_us = timeout_us;
    s->on_gone = on_gone;
    s->arg = arg;
    bufferevent_setcb(bev, session_read, session_write, session_event, s);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    set_timeout(s);
    if (evbuffer_get_length(bufferevent_get_input(bev)) > 0) /* the origin's SETTINGS */
        bufferevent_trigger(bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
    return s;
fail:
    nghttp2_session_callbacks_del(cbs);
    nghttp2_option_del(opt);
    free(s);
    return NULL;
}

/* ---- requests */

uph2_stream_t *uph2_request(uph2_t *s, const char *method, const char *path, const char *authority,
                            const rec_headers_t *h, bool has_body, const up_ops_t *ops, void *front)
{
    uph2_stream_t *st = calloc(1, sizeof *st);
    size_t n = h ? h->n : 0, k = 0;
    nghttp2_nv *nv = calloc(n + 4, sizeof *nv);
    char **names = calloc(n + 1, sizeof *names);
    if (st == NULL || nv == NULL || names == NULL || (st->req = evbuffer_new()) == NULL)
        goto fail;
#define NV(name, value) (nghttp2_nv){ (uint8_t *)(name), (uint8_t *)(value), strlen(name), strlen(value), NGHTTP2_NV_FLAG_NONE }
    nv[k++] = NV(":method", method);
    nv[k++] = NV(":scheme", "https");
    nv[k++] = NV(":authority", authority);
    nv[k++] = NV(":path", path);
    for (size_t i = 0; i < n; i++) {
        const char *name = h->v[i].name;
        if ((fwd_is_hop(h, name) && !fwd_is_te_trailers(name, h->v[i].value)) ||
            strcasecmp(name, "Host") == 0)
            continue;
        if ((names[i] = strdup(name)) == NULL)
            goto fail;
        for (char *p = names[i]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        nv[k++] = NV(names[i], h->v[i].value);
    }
#undef NV
    st->s = s;
    st->ops = ops;
    st->front = front;
    st->head_only = strcmp(method, "HEAD") == 0;
    st->req_end = !has_body;
    nghttp2_data_provider dp = { .source.ptr = st, .read_callback = read_req };
    st->id = nghttp2_submit_request(s->ng, NULL, nv, k, has_body ? &dp : NULL, st);
    if (st->id < 0)
        goto fail;
    st->next = s->streams;
    if (s->streams)
        s->streams->prev = st;
    s->streams = st;
    s->nstreams++;
    set_timeout(s);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(nv);
    session_flush(s);
    return st;
fail:
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
    free(nv);
    if (st && st->req)
        evbuffer_free(st->req);
    free(st);
    return NULL;
}

int uph2_body(uph2_stream_t *st, const void *p, size_t n)
{
    evbuffer_add(st->req, p, n);
    nghttp2_session_resume_data(st->s->ng, st->id);
    session_flush(st->s);
    if (evbuffer_get_length(st->req) > UPH2_REQ_HIGH) {
        st->want_drain = true;
        return 1;
    }
    return 0;
}

void uph2_body_end(uph2_stream_t *st)
{
    st->req_end = true;
    nghttp2_session_resume_data(st->s->ng, st->id);
    session_flush(st->s);
}

void uph2_pause(uph2_stream_t *st, bool paused)
{
    st->paused = paused;
    if (!paused && st->unconsumed > 0) {
        nghttp2_session_consume(st->s->ng, st->id, st->unconsumed);
        st->unconsumed = 0;
        session_flush(st->s);
    }
}

void uph2_abort(uph2_stream_t *st)
{
    st->front = NULL;
    st->finished = true;
    nghttp2_submit_rst_stream(st->s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
    session_flush(st->s);
}

void uph2_detach(uph2_stream_t *st)
{
    st->front = NULL;
    st->paused = false;
    if (st->unconsumed > 0) {
        nghttp2_session_consume(st->s->ng, st->id, st->unconsumed);
        st->unconsumed = 0;
    }
    session_flush(st->s);
}

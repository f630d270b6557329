#include "record.h"

#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "clock.h"
#include "exbuild.h"
#include "log.h"

/* Records packed in one pass of the event loop leave in one write(2) at the
 * end of that pass; a pass that packs more than this writes as it goes. */
#define RECORD_PASS_BATCH (256u * 1024)

struct record {
    exb_sink_t sink;  /* first: made by exb_sink_new */
    record_stats_t st;
    uint64_t next_conn;
    struct event *flush;  /* record_set_loop: end-of-pass write; NULL: a write per record */
    bool flush_armed;
};

struct recx {
    record_t *r;
    record_conn_t *conn;
    exb_t b;
};

record_t *record_open(const record_opts_t *o, char *err, size_t errlen)
{
    exb_sink_t sink = {
        .path = o->path, .max_body = o->max_body, .filter = o->filter, .redact = o->redact,
        .script = o->script, .session = { .cookie = o->session_cookie, .header = o->session_header },
    };
    return exb_sink_new(sizeof(record_t), &sink, "proxy", err, errlen);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    record_t *r = arg;
    r->flush_armed = false;
    mp_error_t e;
    if (rec_writer_flush(r->sink.w, &e) != 0) {
        log_error("%s", e.msg);
        r->st.errors++;
    }
}

int record_set_loop(record_t *r, struct event_base *base)
{
    if (r->flush == NULL && (r->flush = event_new(base, -1, 0, on_flush, r)) == NULL)
        return -1;
    rec_writer_set_batch(r->sink.w, RECORD_PASS_BATCH);
    return 0;
}

int record_close(record_t *r)
{
    if (r == NULL)
        return 0;
    if (r->flush != NULL)
        event_free(r->flush);
    int rc = exb_sink_close(&r->sink);
    free(r);
    return rc;
}

void record_get_stats(const record_t *r, record_stats_t *s) { *s = r->st; }

uint64_t record_next_conn_id(record_t *r)
{
    return ++r->next_conn;
}

void record_conn_fini(record_conn_t *c)
{
    free(c->last_session);
    c->last_session = NULL;
}

recx_t *recx_begin(record_t *r, record_conn_t *conn, uint32_t stream_id,
                   const char *scheme, const char *authority, const char *method,
                   const char *target, const char *http_version,
                   const rec_headers_t *req_headers)
{
    recx_t *x = calloc(1, sizeof *x);
    if (x == NULL)
        return NULL;
    x->r = r;
    x->conn = conn;
    exb_req_t q = {
        .scheme = scheme, .authority = authority, .method = method, .target = target,
        .http_version = http_version, .headers = req_headers, .stream_id = stream_id,
        .tls = conn->tls, .t_start_us = clk_wall_us(),
    };
    if (exb_begin(&x->b, &r->sink, &q) != 0) {
        free(x);
        return NULL;
    }
    x->b.x.conn_id = conn->id;
    return x;
}

void recx_req_body(recx_t *x, const void *p, size_t n)
{
    x->r->st.bytes_up += n;
    exb_req_body(&x->b, p, n);
}

void recx_resp_head(recx_t *x, int status, const rec_headers_t *headers, int64_t first_byte_us)
{
    exb_resp_head(&x->b, &x->r->sink, status, headers, first_byte_us);
}

void recx_resp_body(recx_t *x, const void *p, size_t n)
{
    x->r->st.bytes_down += n;
    exb_resp_body(&x->b, p, n);
}

void recx_ws(recx_t *x, const rec_ws_msg_t *m)
{
    if (m->dir == REC_WS_UP)
        x->r->st.bytes_up += m->len;
    else
        x->r->st.bytes_down += m->len;
    exb_ws(&x->b, m);
}

void recx_resp_trailers(recx_t *x, const rec_headers_t *trailers) { exb_resp_trailers(&x->b, trailers); }

void recx_fail(recx_t *x, int status, uint32_t flag, const char *reason)
{
    if (x->b.x.error != NULL)
        return; /* the first reason is the cause; later ones are consequences */
    if (status != 0)
        x->b.x.status = status;
    exb_flag(&x->b, flag, reason);
    x->r->st.errors++;
}

void recx_tunnel(recx_t *x, uint64_t up, uint64_t down)
{
    exb_tunnel(&x->b, up, down);
    x->r->st.bytes_up += up;
    x->r->st.bytes_down += down;
}

void recx_end(recx_t *x)
{
    record_t *r = x->r;
    exb_end(&x->b, clk_wall_us(), &x->conn->last_session, x->conn->addr);
    switch (exb_write(&x->b, &r->sink)) {
    case EXB_FILTERED: r->st.skipped++; break;
    case EXB_FAILED: r->st.errors++; break;
    case EXB_DROPPED: break; /* counted by the script (cscr_get_stats) */
    case EXB_WRITTEN:
        if (x->b.x.flags & REC_F_TUNNEL)
            r->st.tunnels++;
        else
            r->st.exchanges++;
        break;
    }
    exb_fini(&x->b);
    free(x);
    /* Activated, it runs in this same pass of the loop after the callbacks
     * already due (libevent appends it to the active queue being run). */
    if (r->flush != NULL && !r->flush_armed) {
        r->flush_armed = true;
        event_active(r->flush, EV_TIMEOUT, 1);
    }
}

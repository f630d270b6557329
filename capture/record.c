#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>

#include "clock.h"
#include "fwd.h"
#include "log.h"
#include "session.h"

struct record {
    rec_writer_t *w;
    record_opts_t o;
    record_stats_t st;
    uint64_t next_conn;
};

struct recx {
    record_t *r;
    record_conn_t *conn;
    rec_exchange_t x;
    bool keep;           /* passes the filters: bodies are copied */
    char *session;       /* session key found in the request or response */
};

record_t *record_open(const record_opts_t *o, char *err, size_t errlen)
{
    record_t *r = calloc(1, sizeof *r);
    if (r == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->o = *o;
    char source[] = "proxy", tool[] = "aiotest-capture " AIOTEST_VERSION;
    rec_header_t h = {
        .version_major = REC_VERSION_MAJOR, .version_minor = REC_VERSION_MINOR,
        .created_us = clk_wall_us(), .source = source, .tool = tool,
    };
    mp_error_t e;
    r->w = rec_writer_open(o->path, &h, false, &e);
    if (r->w == NULL) {
        snprintf(err, errlen, "%s", e.msg);
        free(r);
        return NULL;
    }
    return r;
}

int record_close(record_t *r)
{
    if (r == NULL)
        return 0;
    int rc = rec_writer_close(r->w) == 0 ? 0 : -1;
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

/* Copies h without hop-by-hop and pseudo-headers. */
static int copy_headers(rec_headers_t *dst, const rec_headers_t *h)
{
    for (size_t i = 0; h != NULL && i < h->n; i++) {
        const char *name = h->v[i].name;
        if (name[0] == ':' || (fwd_is_hop(h, name) && !fwd_is_te_trailers(name, h->v[i].value)))
            continue;
        if (rec_headers_add(dst, name, h->v[i].value) != 0)
            return -1;
    }
    return 0;
}

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

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
    x->keep = filter_records(r->o.filter, authority, target);
    x->x.conn_id = conn->id;
    x->x.stream_id = stream_id;
    x->x.t_start_us = clk_wall_us();
    x->x.flags = (conn->tls ? REC_F_TLS : 0) | (stream_id ? REC_F_H2 : 0);
    x->x.scheme = dup_or_empty(scheme);
    x->x.authority = dup_or_empty(authority);
    x->x.method = dup_or_empty(method);
    x->x.target = dup_or_empty(target);
    x->x.http_version = dup_or_empty(http_version);
    if (!x->x.scheme || !x->x.authority || !x->x.method || !x->x.target || !x->x.http_version ||
        (x->keep && copy_headers(&x->x.req_headers, req_headers) != 0)) {
        rec_exchange_fini(&x->x);
        free(x);
        return NULL;
    }
    if (r->o.session_cookie || r->o.session_header)
        x->session = session_from_request(&(session_opts_t){ .cookie = r->o.session_cookie,
                                                             .header = r->o.session_header }, req_headers);
    return x;
}

/* Appends to a recorded body up to the cap; sets *truncated past it. */
static void body_add(size_t cap, uint8_t **buf, size_t *len, bool *truncated,
                     const void *p, size_t n)
{
    if (*len >= cap) {
        *truncated = *truncated || n > 0;
        return;
    }
    size_t take = n < cap - *len ? n : cap - *len;
    uint8_t *b = realloc(*buf, *len + take + 1);
    if (b == NULL) {
        *truncated = true;
        return;
    }
    memcpy(b + *len, p, take);
    *len += take;
    *buf = b;
    if (take < n)
        *truncated = true;
}

void recx_req_body(recx_t *x, const void *p, size_t n)
{
    x->r->st.bytes_up += n;
    if (x->keep)
        body_add(x->r->o.max_body, &x->x.req_body, &x->x.req_body_len, &x->x.req_truncated, p, n);
}

void recx_resp_head(recx_t *x, int status, const rec_headers_t *headers, int64_t first_byte_us)
{
    x->x.status = status;
    x->x.t_first_byte_us = first_byte_us;
    if (x->keep) {
        rec_headers_fini(&x->x.resp_headers);
        copy_headers(&x->x.resp_headers, headers);
    }
    if (x->session == NULL && (x->r->o.session_cookie || x->r->o.session_header))
        x->session = session_from_response(&(session_opts_t){ .cookie = x->r->o.session_cookie,
                                                              .header = x->r->o.session_header }, headers);
}

void recx_resp_body(recx_t *x, const void *p, size_t n)
{
    x->r->st.bytes_down += n;
    if (x->keep)
        body_add(x->r->o.max_body, &x->x.resp_body, &x->x.resp_body_len, &x->x.resp_truncated, p, n);
}

void recx_ws(recx_t *x, const rec_ws_msg_t *m)
{
    if (m->dir == REC_WS_UP)
        x->r->st.bytes_up += m->len;
    else
        x->r->st.bytes_down += m->len;
    if (x->keep && rec_ws_add(&x->x, m) != 0)
        recx_fail(x, 0, REC_F_INCOMPLETE, "out of memory for WebSocket messages");
}

void recx_resp_trailers(recx_t *x, const rec_headers_t *trailers)
{
    if (x->keep) {
        rec_headers_fini(&x->x.resp_trailers);
        copy_headers(&x->x.resp_trailers, trailers);
    }
}

void recx_fail(recx_t *x, int status, uint32_t flag, const char *reason)
{
    if (x->x.error != NULL)
        return; /* the first reason is the cause; later ones are consequences */
    if (status != 0)
        x->x.status = status;
    x->x.flags |= flag;
    x->x.error = strdup(reason);
    x->r->st.errors++;
}

void recx_tunnel(recx_t *x, uint64_t up, uint64_t down)
{
    x->x.flags |= REC_F_TUNNEL;
    x->x.tunnel_bytes_up = up;
    x->x.tunnel_bytes_down = down;
    x->r->st.bytes_up += up;
    x->r->st.bytes_down += down;
}

/* Client key: the session found in this exchange, else the last one seen on
 * the same connection, else the client address. */
static char *client_key(recx_t *x)
{
    record_conn_t *c = x->conn;
    if (x->session != NULL) {
        free(c->last_session);
        c->last_session = strdup(x->session);
        return strdup(x->session);
    }
    return strdup(c->last_session ? c->last_session : c->addr);
}

void recx_end(recx_t *x)
{
    record_t *r = x->r;
    x->x.t_end_us = clk_wall_us();
    if (x->x.t_first_byte_us > x->x.t_end_us)
        x->x.t_first_byte_us = x->x.t_end_us;
    x->x.client = client_key(x);
    if (!x->keep) {
        r->st.skipped++;
    } else {
        mp_error_t e;
        if (redact_exchange(r->o.redact, &x->x) != 0) {
            /* Half-redacted is worse than absent. */
            r->st.errors++;
            log_error("%s: exchange %s not written: out of memory while redacting", r->o.path, x->x.method);
        } else if (rec_writer_write(r->w, &x->x, &e) != 0) {
            r->st.errors++;
            log_error("%s: exchange %s %s not written: %s", r->o.path, x->x.method, x->x.target, e.msg);
        } else if (x->x.flags & REC_F_TUNNEL) {
            r->st.tunnels++;
        } else {
            r->st.exchanges++;
        }
    }
    rec_exchange_fini(&x->x);
    free(x->session);
    free(x);
}

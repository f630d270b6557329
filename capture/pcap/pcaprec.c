#include "pcaprec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd.h"
#include "ip.h"
#include "log.h"
#include "scn_syntax.h"

struct pcx {
    pcaprec_t *r;
    pcx_t *next;       /* in the order requests started */
    bool done;
    bool keep;         /* passes the filter */
    pcaprec_conn_t *conn;
    char *session;     /* from the request or the response that set the cookie */
    char *forwarded;   /* X-Forwarded-For / Forwarded client address */
    rec_exchange_t x;
};

struct pcaprec {
    rec_writer_t *w;
    pcaprec_opts_t o;
    pcaprec_stats_t st;
    uint64_t next_conn;
    pcx_t *head, *tail;
    size_t waiting;    /* ended, not yet written */
    size_t waiting_bytes; /* their bodies */
};

const char *const pcx_why_format[PCX_WHY_N] = {
    [PCX_NO_RESPONSE] = "no response in the capture",
    [PCX_NO_RESPONSE_GAP] = "no response: lost in a capture gap",
    [PCX_NO_RESPONSE_QUEUE] = "no response: more than 1024 requests waiting on the connection",
    [PCX_REQUEST_CUT] = "request cut: the capture ended before it did",
    [PCX_RESPONSE_CUT] = "response cut: the capture ended before it did",
    [PCX_TUNNEL_CUT] = "tunnel cut: the capture ended before the connection did",
    [PCX_GAP_REQUEST] = "capture gap of %llu bytes in the request",
    [PCX_GAP_RESPONSE] = "capture gap of %llu bytes in the response",
    [PCX_CLOSED_REQUEST] = "connection closed in the middle of the request",
    [PCX_CLOSED_RESPONSE] = "connection closed in the middle of the response",
    [PCX_MALFORMED_REQUEST] = "malformed request: %s",
    [PCX_MALFORMED_RESPONSE] = "malformed response: %s",
    [PCX_CONFLICT_REQUEST] = "conflicting retransmission in the request: the capture saw two versions of "
                             "some bytes (the first seen kept)",
    [PCX_CONFLICT_RESPONSE] = "conflicting retransmission in the response: the capture saw two versions of "
                              "some bytes (the first seen kept)",
    [PCX_H2_GAP_CLIENT] = "capture gap of %llu bytes from the client: HTTP/2 framing lost",
    [PCX_H2_GAP_SERVER] = "capture gap of %llu bytes from the server: HTTP/2 framing lost",
    [PCX_H2_FRAMING] = "HTTP/2 framing broken (%s): the rest is unreadable",
    [PCX_H2_HPACK] = "HTTP/2 header block could not be decoded (HPACK error): the rest is unreadable",
    [PCX_H2_RESET_CLIENT] = "HTTP/2 stream reset by the client (error code %u)",
    [PCX_H2_RESET_SERVER] = "HTTP/2 stream reset by the server (error code %u)",
    [PCX_H2_RESET_BEFORE_RESPONSE] = "HTTP/2 stream reset by the client (error code %u) before the response",
};

const char *const pcaprec_http_versions[] = { "HTTP/0.9", "HTTP/1.0", "HTTP/1.1", "HTTP/2", NULL };

const char *pcx_why(char *buf, size_t len, enum pcx_why why, ...)
{
    va_list ap;
    va_start(ap, why);
    vsnprintf(buf, len, pcx_why_format[why], ap);
    va_end(ap);
    return buf;
}

pcaprec_t *pcaprec_open(const pcaprec_opts_t *o, char *err, size_t errlen)
{
    pcaprec_t *r = calloc(1, sizeof *r);
    if (r == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->o = *o;
    char source[] = "pcap", tool[] = "aiotest-capture " AIOTEST_VERSION;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    rec_header_t h = {
        .version_major = REC_VERSION_MAJOR, .version_minor = REC_VERSION_MINOR,
        .created_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000, .source = source, .tool = tool,
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

void pcaprec_get_stats(const pcaprec_t *r, pcaprec_stats_t *st) { *st = r->st; }

void pcaprec_skipped(pcaprec_t *r, uint64_t messages, uint64_t bytes)
{
    r->st.skipped += messages;
    r->st.skipped_bytes += bytes;
}

void pcaprec_conn_init(pcaprec_conn_t *c, uint8_t family, const uint8_t client[16],
                       const uint8_t server[16], uint16_t server_port)
{
    char s[48];
    memset(c, 0, sizeof *c);
    ip_addr_str(family, client, c->client, sizeof c->client);
    ip_addr_str(family, server, s, sizeof s);
    snprintf(c->server, sizeof c->server, family == 6 ? "[%s]:%u" : "%s:%u", s, server_port);
}

void pcaprec_conn_fini(pcaprec_conn_t *c)
{
    free(c->last_session);
    c->last_session = NULL;
}

/* The same rule as the proxy's record.c: hop-by-hop and pseudo-headers are
 * framing, not content (bodies are stored decoded); redact.c masks secrets
 * when the exchange is written. Names that are not tokens cannot be written (the format refuses
 * them) and are left out. */
static int copy_headers(rec_headers_t *dst, const rec_headers_t *h)
{
    for (size_t i = 0; h != NULL && i < h->n; i++) {
        const char *name = h->v[i].name;
        if (name[0] == ':' || !syn_is_token(name) || fwd_is_hop(h, name))
            continue;
        if (rec_headers_add(dst, name, h->v[i].value) != 0)
            return -1;
    }
    return 0;
}

pcx_t *pcx_begin(pcaprec_t *r, pcaprec_conn_t *c, const pcx_req_t *q)
{
    pcx_t *x = calloc(1, sizeof *x);
    if (x == NULL)
        return NULL;
    if (c->id == 0)
        c->id = ++r->next_conn;
    const char *auth = q->authority && *q->authority ? q->authority : c->server;
    x->r = r;
    x->keep = r->o.filter == NULL || filter_records(r->o.filter, auth, q->target);
    x->x.client = strdup(c->client);
    x->x.conn_id = c->id;
    x->x.stream_id = q->stream_id;
    x->x.t_start_us = q->t_start_us > 0 ? q->t_start_us : 0;
    x->x.flags = q->stream_id ? REC_F_H2 : 0;
    x->x.scheme = strdup(q->scheme ? q->scheme : "http");
    x->x.authority = strdup(auth);
    x->x.method = strdup(q->method);
    x->x.target = strdup(*q->target ? q->target : "/");
    x->x.http_version = strdup(q->http_version);
    if (!x->x.client || !x->x.scheme || !x->x.authority || !x->x.method || !x->x.target ||
        !x->x.http_version || (x->keep && copy_headers(&x->x.req_headers, q->headers) != 0)) {
        rec_exchange_fini(&x->x);
        free(x);
        return NULL;
    }
    x->conn = c;
    x->session = session_from_request(&r->o.session, q->headers);
    x->forwarded = session_forwarded_for(&r->o.session, q->headers);
    if (r->tail) r->tail->next = x; else r->head = x;
    r->tail = x;
    return x;
}

/* Appends to a recorded body up to the cap; sets *truncated past it. */
static void body_add(size_t cap, uint8_t **buf, size_t *len, bool *truncated, const void *p, size_t n)
{
    if (n == 0)
        return;
    size_t take = *len >= cap ? 0 : (n < cap - *len ? n : cap - *len);
    if (take < n)
        *truncated = true;
    if (take == 0)
        return;
    uint8_t *b = realloc(*buf, *len + take);
    if (b == NULL) {
        *truncated = true;
        return;
    }
    memcpy(b + *len, p, take);
    *len += take;
    *buf = b;
}

void pcx_req_body(pcx_t *x, const void *p, size_t n)
{
    if (x->keep)
        body_add(x->r->o.max_body, &x->x.req_body, &x->x.req_body_len, &x->x.req_truncated, p, n);
}

void pcx_resp_head(pcx_t *x, int status, const rec_headers_t *headers, int64_t t_first_byte_us)
{
    x->x.status = status;
    x->x.t_first_byte_us = t_first_byte_us < x->x.t_start_us ? x->x.t_start_us : t_first_byte_us;
    if (x->keep) {
        rec_headers_fini(&x->x.resp_headers);
        copy_headers(&x->x.resp_headers, headers);
    }
    if (x->session == NULL)
        x->session = session_from_response(&x->r->o.session, headers);
}

void pcx_resp_body(pcx_t *x, const void *p, size_t n)
{
    if (x->keep)
        body_add(x->r->o.max_body, &x->x.resp_body, &x->x.resp_body_len, &x->x.resp_truncated, p, n);
}

bool pcx_has_response(const pcx_t *x) { return x->x.status != 0; }

void pcx_tunnel(pcx_t *x, uint64_t up, uint64_t down)
{
    x->x.flags |= REC_F_TUNNEL;
    x->x.tunnel_bytes_up = up;
    x->x.tunnel_bytes_down = down;
}

void pcx_set_h2_stream(pcx_t *x, uint32_t stream_id)
{
    x->x.stream_id = stream_id;
    x->x.flags |= REC_F_H2;
}

void pcx_incomplete(pcx_t *x, const char *reason)
{
    x->x.flags |= REC_F_INCOMPLETE;
    if (x->x.error == NULL)
        x->x.error = strdup(reason);
}

static void write_one(pcaprec_t *r, pcx_t *x)
{
    if (!x->keep) {
        r->st.filtered++;
        return;
    }
    mp_error_t e;
    if (redact_exchange(r->o.redact, &x->x) != 0) {
        r->st.errors++;
        log_error("%s: exchange %s not written: out of memory while redacting", r->o.path, x->x.method);
        return;
    }
    if (rec_writer_write(r->w, &x->x, &e) != 0) {
        r->st.errors++;
        log_error("%s: exchange %s %s not written: %s", r->o.path, x->x.method, x->x.target, e.msg);
        return;
    }
    r->st.exchanges++;
    if (x->x.flags & REC_F_INCOMPLETE)
        r->st.incomplete++;
}

static size_t body_bytes(const pcx_t *x) { return x->x.req_body_len + x->x.resp_body_len; }

static void unlink_free(pcaprec_t *r, pcx_t *prev, pcx_t *x)
{
    if (x->done) {
        r->waiting--;
        r->waiting_bytes -= body_bytes(x);
    }
    if (prev) prev->next = x->next; else r->head = x->next;
    if (r->tail == x)
        r->tail = prev;
    rec_exchange_fini(&x->x);
    free(x->session);
    free(x->forwarded);
    free(x);
}

/* Writes what no open exchange precedes; past the bound, every ended one. */
static void flush(pcaprec_t *r, bool all_ended)
{
    while (r->head && r->head->done) {
        write_one(r, r->head);
        unlink_free(r, NULL, r->head);
    }
    if (!all_ended)
        return;
    for (pcx_t *prev = NULL, *x = r->head; x;) {
        pcx_t *next = x->next;
        if (x->done) {
            r->st.out_of_order++;
            write_one(r, x);
            unlink_free(r, prev, x);
        } else {
            prev = x;
        }
        x = next;
    }
}

void pcx_end(pcx_t *x, int64_t t_end_us)
{
    pcaprec_t *r = x->r;
    if (t_end_us != 0 && t_end_us < x->x.t_start_us)
        t_end_us = x->x.t_start_us;
    if (x->x.t_first_byte_us > t_end_us && t_end_us != 0)
        x->x.t_first_byte_us = t_end_us;
    x->x.t_end_us = t_end_us;
    const char *key = x->session;
    if (key != NULL) {
        free(x->conn->last_session);
        x->conn->last_session = strdup(key);
    } else if (x->forwarded != NULL) {
        key = x->forwarded; /* behind a balancer one connection carries many users */
    } else if (x->conn->last_session != NULL) {
        key = x->conn->last_session;
    }
    if (key != NULL) {
        char *k = strdup(key);
        if (k != NULL) {
            free(x->x.client);
            x->x.client = k;
        }
    }
    x->conn = NULL;
    x->done = true;
    r->waiting++;
    r->waiting_bytes += body_bytes(x);
    flush(r, r->waiting > PCAPREC_MAX_WAITING || r->waiting_bytes > PCAPREC_MAX_WAITING_BYTES);
}

int pcaprec_close(pcaprec_t *r)
{
    if (r == NULL)
        return 0;
    flush(r, true);
    while (r->head) /* not ended by its owner: a bug elsewhere, but never lose memory */
        unlink_free(r, NULL, r->head);
    int rc = rec_writer_close(r->w) == 0 && r->st.errors == 0 ? 0 : -1;
    free(r);
    return rc;
}

#include "pcaprec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exbuild.h"
#include "ip.h"
#include "log.h"

struct pcx {
    pcaprec_t *r;
    pcx_t *next;       /* in the order requests started */
    bool done;
    pcaprec_conn_t *conn;
    exb_t b;
};

struct pcaprec {
    exb_sink_t sink;  /* first: made by exb_sink_new */
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
    [PCX_WS_FRAMES] = "WebSocket frames from the %s unreadable (%s): later messages not recorded",
    [PCX_WS_CUT] = "WebSocket cut: the capture ended before the connection did",
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
    exb_sink_t sink = { .path = o->path, .max_body = o->max_body, .filter = o->filter,
                        .redact = o->redact, .script = o->script, .session = o->session };
    return exb_sink_new(sizeof(pcaprec_t), &sink, "pcap", err, errlen);
}

void pcaprec_get_stats(const pcaprec_t *r, pcaprec_stats_t *st) { *st = r->st; }

void pcaprec_set_batch(pcaprec_t *r, size_t bytes) { rec_writer_set_batch(r->sink.w, bytes); }

int pcaprec_flush(pcaprec_t *r)
{
    mp_error_t e;
    if (rec_writer_flush(r->sink.w, &e) == 0)
        return 0;
    log_error("%s", e.msg);
    r->st.errors++;
    return -1;
}

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

pcx_t *pcx_begin(pcaprec_t *r, pcaprec_conn_t *c, const pcx_req_t *q)
{
    pcx_t *x = calloc(1, sizeof *x);
    if (x == NULL)
        return NULL;
    exb_req_t bq = {
        .scheme = c->tls ? "https" : q->scheme ? q->scheme : "http",
        .authority = q->authority && *q->authority ? q->authority : c->server,
        .method = q->method, .target = *q->target ? q->target : "/",
        .http_version = q->http_version, .headers = q->headers,
        .stream_id = q->stream_id, .tls = c->tls, .t_start_us = q->t_start_us,
    };
    if (exb_begin(&x->b, &r->sink, &bq) != 0) {
        free(x);
        return NULL;
    }
    if (c->id == 0)
        c->id = ++r->next_conn;
    x->b.x.conn_id = c->id;
    x->r = r;
    x->conn = c;
    if (r->tail) r->tail->next = x; else r->head = x;
    r->tail = x;
    return x;
}

void pcx_req_body(pcx_t *x, const void *p, size_t n) { exb_req_body(&x->b, p, n); }

void pcx_resp_head(pcx_t *x, int status, const rec_headers_t *headers, int64_t t_first_byte_us)
{
    exb_resp_head(&x->b, &x->r->sink, status, headers, t_first_byte_us);
}

void pcx_resp_body(pcx_t *x, const void *p, size_t n) { exb_resp_body(&x->b, p, n); }

bool pcx_has_response(const pcx_t *x) { return x->b.x.status != 0; }

void pcx_ws(pcx_t *x, const rec_ws_msg_t *m) { exb_ws(&x->b, m); }

void pcx_resp_trailers(pcx_t *x, const rec_headers_t *trailers) { exb_resp_trailers(&x->b, trailers); }

void pcx_tunnel(pcx_t *x, uint64_t up, uint64_t down) { exb_tunnel(&x->b, up, down); }

void pcx_set_h2_stream(pcx_t *x, uint32_t stream_id)
{
    x->b.x.stream_id = stream_id;
    x->b.x.flags |= REC_F_H2;
}

void pcx_incomplete(pcx_t *x, const char *reason) { exb_flag(&x->b, REC_F_INCOMPLETE, reason); }

static void write_one(pcaprec_t *r, pcx_t *x)
{
    switch (exb_write(&x->b, &r->sink)) {
    case EXB_FILTERED: r->st.filtered++; break;
    case EXB_FAILED: r->st.errors++; break;
    case EXB_DROPPED: break; /* counted by the script (cscr_get_stats) */
    case EXB_WRITTEN:
        r->st.exchanges++;
        if (x->b.x.flags & REC_F_INCOMPLETE)
            r->st.incomplete++;
        break;
    }
}

static size_t body_bytes(const pcx_t *x) { return x->b.x.req_body_len + x->b.x.resp_body_len; }

static void unlink_free(pcaprec_t *r, pcx_t *prev, pcx_t *x)
{
    if (x->done) {
        r->waiting--;
        r->waiting_bytes -= body_bytes(x);
    }
    if (prev) prev->next = x->next; else r->head = x->next;
    if (r->tail == x)
        r->tail = prev;
    exb_fini(&x->b);
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
    exb_end(&x->b, t_end_us, &x->conn->last_session, x->conn->client);
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
    int rc = exb_sink_close(&r->sink) == 0 && r->st.errors == 0 ? 0 : -1;
    free(r);
    return rc;
}

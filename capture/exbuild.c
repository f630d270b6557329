#include "exbuild.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fwd.h"
#include "log.h"
#include "scn_syntax.h"

void *exb_sink_new(size_t size, const exb_sink_t *tmpl, const char *source, char *err, size_t errlen)
{
    exb_sink_t *s = calloc(1, size);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *s = *tmpl;
    char src[16], tool[] = "aiotest-capture " AIOTEST_VERSION;
    snprintf(src, sizeof src, "%s", source);
    rec_header_t h = {
        .version_major = REC_VERSION_MAJOR, .version_minor = REC_VERSION_MINOR,
        .created_us = clk_wall_us(), .source = src, .tool = tool,
    };
    mp_error_t e;
    s->w = rec_writer_open(s->path, &h, false, &e);
    if (s->w == NULL) {
        snprintf(err, errlen, "%s", e.msg);
        free(s);
        return NULL;
    }
    /* exb_copy_headers keeps only token names with values (and redaction
     * changes values only): the writer need not check them again */
    rec_writer_set_headers_built(s->w, true);
    return s;
}

int exb_sink_close(exb_sink_t *s)
{
    int rc = s->w == NULL || rec_writer_close(s->w) == 0 ? 0 : -1;
    s->w = NULL;
    return rc;
}

/* Hop-by-hop headers (and those Connection names) and pseudo-headers are
 * framing, not content (bodies are stored decoded); names that are not
 * tokens cannot be written (the format refuses them). With pack, each kept
 * header is one allocation, its value right after its name's NUL (*packed
 * says the list holds such entries: headers_fini frees them); only for lists
 * nobody rewrites (redaction replaces values one by one). */
static int copy_headers(rec_headers_t *dst, const rec_headers_t *h, bool pack, bool *packed)
{
    *packed = false;
    if (h == NULL)
        return 0;
    /* most messages name no header in a Connection list (at most
     * "keep-alive"): then no scan of the list per header */
    const rec_headers_t *conn = fwd_names_others(h) ? h : NULL;
    /* an empty list is sized once for all of h (rec_headers_add grows it by
     * one entry per header: a realloc each, 8 % of --pcap) */
    size_t room = 0;
    if (dst->n == 0 && dst->v == NULL && h->n > 0) {
        if ((dst->v = malloc(h->n * sizeof *dst->v)) == NULL)
            return -1;
        room = h->n;
        *packed = pack;
    }
    for (size_t i = 0; i < h->n; i++) {
        const char *name = h->v[i].name, *value = h->v[i].value;
        /* te: trailers stays: gRPC servers refuse a call without it. */
        if (name[0] == ':' || !syn_is_token(name) ||
            (fwd_is_hop(conn, name) && !fwd_is_te_trailers(name, value)))
            continue;
        if (dst->n < room && *packed) {
            size_t nl = strlen(name), vl = strlen(value);
            char *blk = malloc(nl + vl + 2);
            if (blk == NULL)
                return -1;
            memcpy(blk, name, nl + 1);
            memcpy(blk + nl + 1, value, vl + 1);
            dst->v[dst->n++] = (rec_hfield_t){ blk, blk + nl + 1 };
        } else if (dst->n < room) {
            char *n = strdup(name), *v = strdup(value);
            if (n == NULL || v == NULL) {
                free(n);
                free(v);
                return -1;
            }
            dst->v[dst->n++] = (rec_hfield_t){ n, v };
        } else if (rec_headers_add(dst, name, value) != 0) {
            return -1;
        }
    }
    if (dst->n == 0 && room > 0) {
        free(dst->v); /* nothing kept: the list stays as it was */
        dst->v = NULL;
        *packed = false;
    }
    return 0;
}

int exb_copy_headers(rec_headers_t *dst, const rec_headers_t *h)
{
    bool packed;
    return copy_headers(dst, h, false, &packed);
}

/* Frees a list copy_headers filled (packed: the values live in their names'
 * blocks). */
static void headers_fini(rec_headers_t *h, bool packed)
{
    for (size_t i = 0; packed && i < h->n; i++)
        h->v[i].value = NULL;
    rec_headers_fini(h);
}

enum { PACKED_REQ = 1, PACKED_RESP = 2, PACKED_TRAILERS = 4 };

/* Copies h into the list of b that bit names, packed when b may be. */
static int copy_into(exb_t *b, rec_headers_t *dst, unsigned bit, const rec_headers_t *h)
{
    headers_fini(dst, (b->packed & bit) != 0);
    bool packed;
    int rc = copy_headers(dst, h, b->pack, &packed);
    b->packed = (uint8_t)(packed ? b->packed | bit : b->packed & ~bit);
    return rc;
}

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

int exb_begin(exb_t *b, const exb_sink_t *s, const exb_req_t *q)
{
    memset(b, 0, sizeof *b);
    b->keep = s->filter == NULL ||
              filter_records(s->filter, q->authority ? q->authority : "", q->target ? q->target : "");
    b->max_body = s->max_body;
    /* redaction rewrites header values one by one: those lists stay unpacked */
    b->pack = s->redact == NULL || !redact_active(s->redact);
    b->x.stream_id = q->stream_id;
    b->x.t_start_us = q->t_start_us > 0 ? q->t_start_us : 0;
    b->x.flags = (q->tls ? REC_F_TLS : 0) | (q->stream_id ? REC_F_H2 : 0);
    b->x.scheme = dup_or_empty(q->scheme);
    b->x.authority = dup_or_empty(q->authority);
    b->x.method = dup_or_empty(q->method);
    b->x.target = dup_or_empty(q->target);
    b->x.http_version = dup_or_empty(q->http_version);
    if (!b->x.scheme || !b->x.authority || !b->x.method || !b->x.target || !b->x.http_version ||
        (b->keep && copy_into(b, &b->x.req_headers, PACKED_REQ, q->headers) != 0)) {
        exb_fini(b);
        return -1;
    }
    b->session = session_from_request(&s->session, q->headers);
    b->forwarded = session_forwarded_for(&s->session, q->headers);
    return 0;
}

void exb_fini(exb_t *b)
{
    headers_fini(&b->x.req_headers, (b->packed & PACKED_REQ) != 0);
    headers_fini(&b->x.resp_headers, (b->packed & PACKED_RESP) != 0);
    headers_fini(&b->x.resp_trailers, (b->packed & PACKED_TRAILERS) != 0);
    b->packed = 0;
    rec_exchange_fini(&b->x);
    free(b->session);
    free(b->forwarded);
    b->session = b->forwarded = NULL;
}

/* Appends to a recorded body up to the cap; sets *truncated past it. The
 * buffer grows geometrically (*alloc its size): a body arriving in many
 * segments is not a realloc per segment (issue 20). */
static void body_add(size_t cap, uint8_t **buf, size_t *len, size_t *alloc, bool *truncated,
                     const void *p, size_t n)
{
    if (n == 0)
        return;
    size_t take = *len >= cap ? 0 : (n < cap - *len ? n : cap - *len);
    if (take < n)
        *truncated = true;
    if (take == 0)
        return;
    if (*len + take > *alloc) {
        size_t want = *alloc ? *alloc * 2 : 256;
        if (want < *len + take)
            want = *len + take;
        if (want > cap)
            want = cap; /* never more than the cap, which *len + take is within */
        uint8_t *nb = realloc(*buf, want);
        if (nb == NULL) {
            *truncated = true;
            return;
        }
        *buf = nb;
        *alloc = want;
    }
    memcpy(*buf + *len, p, take);
    *len += take;
}

void exb_req_body(exb_t *b, const void *p, size_t n)
{
    if (b->keep)
        body_add(b->max_body, &b->x.req_body, &b->x.req_body_len, &b->req_alloc, &b->x.req_truncated,
                 p, n);
}

void exb_resp_body(exb_t *b, const void *p, size_t n)
{
    if (b->keep)
        body_add(b->max_body, &b->x.resp_body, &b->x.resp_body_len, &b->resp_alloc,
                 &b->x.resp_truncated, p, n);
}

void exb_resp_head(exb_t *b, const exb_sink_t *s, int status, const rec_headers_t *headers,
                   int64_t t_first_byte_us)
{
    b->x.status = status;
    b->x.t_first_byte_us = t_first_byte_us < b->x.t_start_us ? b->x.t_start_us : t_first_byte_us;
    if (b->keep) {
        if (copy_into(b, &b->x.resp_headers, PACKED_RESP, headers) != 0)
            exb_flag(b, REC_F_INCOMPLETE, "out of memory: response headers not all recorded");
    }
    if (b->session == NULL)
        b->session = session_from_response(&s->session, headers);
}

bool exb_flag(exb_t *b, uint32_t flag, const char *reason)
{
    b->x.flags |= flag;
    if (b->x.error != NULL)
        return false;
    b->x.error = strdup(reason);
    return true;
}

void exb_tunnel(exb_t *b, uint64_t up, uint64_t down)
{
    b->x.flags |= REC_F_TUNNEL;
    b->x.tunnel_bytes_up = up;
    b->x.tunnel_bytes_down = down;
}

void exb_resp_trailers(exb_t *b, const rec_headers_t *trailers)
{
    if (!b->keep)
        return;
    if (copy_into(b, &b->x.resp_trailers, PACKED_TRAILERS, trailers) != 0)
        exb_flag(b, REC_F_INCOMPLETE, "out of memory: response trailers not all recorded");
}

void exb_ws(exb_t *b, const rec_ws_msg_t *m)
{
    if (!b->keep)
        return;
    rec_ws_msg_t c = *m;
    if (c.len > b->max_body) {
        c.len = b->max_body;
        c.truncated = true;
    }
    if (rec_ws_add(&b->x, &c) != 0)
        exb_flag(b, REC_F_INCOMPLETE, "out of memory for WebSocket messages");
}

void exb_end(exb_t *b, int64_t t_end_us, char **last_session, const char *client_addr)
{
    if (t_end_us != 0 && t_end_us < b->x.t_start_us)
        t_end_us = b->x.t_start_us;
    if (t_end_us != 0 && b->x.t_first_byte_us > t_end_us)
        b->x.t_first_byte_us = t_end_us;
    b->x.t_end_us = t_end_us;
    const char *key = client_addr;
    if (b->session != NULL) {
        free(*last_session);
        *last_session = strdup(b->session);
        key = b->session;
    } else if (b->forwarded != NULL) {
        key = b->forwarded; /* behind a balancer one connection carries many users */
    } else if (*last_session != NULL) {
        key = *last_session;
    }
    char *k = strdup(key ? key : "");
    if (k != NULL) {
        free(b->x.client);
        b->x.client = k;
    }
}

exb_written_t exb_write(exb_t *b, const exb_sink_t *s)
{
    if (!b->keep)
        return EXB_FILTERED;
    mp_error_t e;
    if (s->script && cscr_exchange(s->script, &b->x) != CSCR_KEEP)
        return EXB_DROPPED;
    if (redact_exchange(s->redact, &b->x) != 0) {
        /* Half-redacted is worse than absent. */
        log_error("%s: exchange %s not written: out of memory while redacting", s->path, b->x.method);
        return EXB_FAILED;
    }
    if (rec_writer_write(s->w, &b->x, &e) != 0) {
        log_error("%s: exchange %s %s not written: %s", s->path, b->x.method, b->x.target, e.msg);
        return EXB_FAILED;
    }
    return EXB_WRITTEN;
}

/* rec_codec: recording records <-> msgpack maps (rec_codec.h). Keys are the
 * field names of the spec; unknown keys are ignored so newer minor versions
 * stay readable. */
#include "rec_codec.h"

#include <stdlib.h>
#include <string.h>

void rec_codec_pack_header(mpw_t *w, const rec_header_t *h)
{
    mpw_map(w, 5);
    mpw_str(w, "format");
    mpw_str(w, REC_FORMAT);
    mpw_str(w, "version");
    mpw_array(w, 2);
    mpw_uint(w, REC_VERSION_MAJOR);
    mpw_uint(w, REC_VERSION_MINOR);
    mpw_str(w, "created_us");
    mpw_int(w, h->created_us);
    mpw_str(w, "source");
    mpw_str(w, h->source);
    mpw_str(w, "tool");
    mpw_str(w, h->tool);
}

static void pack_headers(mpw_t *w, const rec_headers_t *hs)
{
    mpw_array(w, hs->n);
    for (size_t i = 0; i < hs->n; i++)
        mpw_pair(w, hs->v[i].name, hs->v[i].value);
}

static void pack_ws(mpw_t *w, const rec_exchange_t *x)
{
    mpw_array(w, x->n_ws);
    for (size_t i = 0; i < x->n_ws; i++) {
        const rec_ws_msg_t *m = &x->ws[i];
        mpw_map(w, 4 + (m->truncated ? 1 : 0) + (m->close_code ? 1 : 0));
        mpw_str(w, "dir");  mpw_str(w, m->dir == REC_WS_UP ? "up" : "down");
        mpw_str(w, "op");   mpw_uint(w, m->opcode);
        mpw_str(w, "t_us"); mpw_int(w, m->t_us);
        mpw_str(w, "data"); mpw_bin(w, m->data, m->len);
        if (m->truncated) {
            mpw_str(w, "truncated");
            mpw_bool(w, true);
        }
        if (m->close_code) {
            mpw_str(w, "close_code");
            mpw_uint(w, m->close_code);
        }
    }
}

void rec_codec_pack_exchange(mpw_t *w, const rec_exchange_t *x)
{
    mpw_map(w, 21 + (x->error ? 1 : 0) + (x->resp_trailers.n ? 1 : 0) + (x->n_ws ? 1 : 0));
    mpw_str(w, "client");          mpw_str(w, x->client);
    mpw_str(w, "conn");            mpw_uint(w, x->conn_id);
    mpw_str(w, "stream");          mpw_uint(w, x->stream_id);
    mpw_str(w, "t_start_us");      mpw_int(w, x->t_start_us);
    mpw_str(w, "t_first_byte_us"); mpw_int(w, x->t_first_byte_us);
    mpw_str(w, "t_end_us");        mpw_int(w, x->t_end_us);
    mpw_str(w, "scheme");          mpw_str(w, x->scheme);
    mpw_str(w, "authority");       mpw_str(w, x->authority);
    mpw_str(w, "method");          mpw_str(w, x->method);
    mpw_str(w, "target");          mpw_str(w, x->target);
    mpw_str(w, "http_version");    mpw_str(w, x->http_version);
    mpw_str(w, "req_headers");     pack_headers(w, &x->req_headers);
    mpw_str(w, "req_body");        mpw_bin(w, x->req_body, x->req_body_len);
    mpw_str(w, "req_truncated");   mpw_bool(w, x->req_truncated);
    mpw_str(w, "status");          mpw_uint(w, x->status > 0 ? (uint64_t)x->status : 0);
    mpw_str(w, "resp_headers");    pack_headers(w, &x->resp_headers);
    mpw_str(w, "resp_body");       mpw_bin(w, x->resp_body, x->resp_body_len);
    mpw_str(w, "resp_truncated");  mpw_bool(w, x->resp_truncated);
    mpw_str(w, "flags");           mpw_uint(w, x->flags);
    mpw_str(w, "tunnel_bytes_up"); mpw_uint(w, x->tunnel_bytes_up);
    mpw_str(w, "tunnel_bytes_down"); mpw_uint(w, x->tunnel_bytes_down);
    if (x->error) {
        mpw_str(w, "error");
        mpw_str(w, x->error);
    }
    /* 1.1 keys, only when there is something: 1.0 files stay as they were. */
    if (x->resp_trailers.n) {
        mpw_str(w, "resp_trailers");
        pack_headers(w, &x->resp_trailers);
    }
    if (x->n_ws) {
        mpw_str(w, "ws");
        pack_ws(w, x);
    }
}

int rec_codec_unpack_header(const mpr_ctx_t *c, const msgpack_object *o, rec_header_t *h)
{
    int rc = mpr_header_version(c, o, REC_FORMAT, REC_VERSION_MAJOR, &h->version_major, &h->version_minor);
    if (rc == 0)
        rc = mpr_int(c, o, "created_us", true, &h->created_us);
    if (rc == 0)
        rc = mpr_str(c, o, "source", true, &h->source);
    if (rc == 0)
        rc = mpr_str(c, o, "tool", true, &h->tool);
    return rc;
}

static int unpack_headers(const mpr_ctx_t *c, const msgpack_object *v, const char *key, rec_headers_t *hs)
{
    const msgpack_object *a;
    size_t n;
    int rc = mpr_v_array(c, v, key, false, &a, &n);
    /* An empty list gets its final size at once: no realloc per header. */
    bool sized = rc == 0 && n && hs->n == 0 && !hs->v;
    if (sized && !(hs->v = malloc(n * sizeof *hs->v)))
        return mpr_fail(c, MP_ERR_IO, key, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char *name = NULL, *value = NULL;
        char field[48];
        if ((rc = mpr_pair(c, &a[i], key, &name, &value)) != 0) {
            /* The entry's name ("req_headers[3]") is made only when the entry is
             * refused, and the entry read again under it so that the error names
             * it: a printf per header was 2 % of loading a recording. */
            free(name);
            free(value);
            name = value = NULL;
            snprintf(field, sizeof field, "%s[%zu]", key, i);
            rc = mpr_pair(c, &a[i], field, &name, &value);
            free(name);
            free(value);
        } else if (sized) {
            hs->v[hs->n].name = name;
            hs->v[hs->n].value = value;
            hs->n++;
        } else if (rec_headers_take(hs, name, value) != 0) {
            snprintf(field, sizeof field, "%s[%zu]", key, i);
            return mpr_fail(c, MP_ERR_IO, field, "out of memory");
        }
    }
    return rc;
}

static int unpack_u32(const mpr_ctx_t *c, const msgpack_object *o, const char *key, uint32_t max, uint32_t *out)
{
    uint64_t v = 0;
    int rc = mpr_v_uint(c, o, key, false, &v);
    if (rc == 0 && v > max)
        return mpr_fail(c, MP_ERR_FORMAT, key, "%llu is out of range (max %u)", (unsigned long long)v, max);
    if (rc == 0)
        *out = (uint32_t)v;
    return rc;
}

static int unpack_ws(const mpr_ctx_t *c, const msgpack_object *v, rec_exchange_t *x)
{
    const msgpack_object *a;
    size_t n;
    int rc = mpr_v_array(c, v, "ws", false, &a, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char path[64];
        mpr_ctx_t mc = mpr_at(c, path, sizeof path, "%s%sws[%zu]", c->path ? c->path : "",
                              c->path && c->path[0] ? "." : "", i);
        if (a[i].type != MSGPACK_OBJECT_MAP)
            return mpr_fail(&mc, MP_ERR_FORMAT, NULL, "expected a message map");
        char *dir = NULL;
        uint64_t op = 0, code = 0;
        rec_ws_msg_t m = { 0 };
        rc = mpr_str(&mc, &a[i], "dir", true, &dir);
        if (rc == 0 && strcmp(dir, "up") != 0 && strcmp(dir, "down") != 0)
            rc = mpr_fail(&mc, MP_ERR_FORMAT, "dir", "expected \"up\" or \"down\", got \"%s\"", dir);
        if (rc == 0) rc = mpr_uint(&mc, &a[i], "op", true, &op);
        if (rc == 0 && op > 15)
            rc = mpr_fail(&mc, MP_ERR_FORMAT, "op", "%llu is not an opcode (0..15)", (unsigned long long)op);
        if (rc == 0) rc = mpr_int(&mc, &a[i], "t_us", false, &m.t_us);
        if (rc == 0) rc = mpr_bin(&mc, &a[i], "data", &m.data, &m.len);
        if (rc == 0) rc = mpr_bool(&mc, &a[i], "truncated", &m.truncated);
        if (rc == 0) rc = mpr_uint(&mc, &a[i], "close_code", false, &code);
        if (rc == 0 && code > 65535)
            rc = mpr_fail(&mc, MP_ERR_FORMAT, "close_code", "%llu is out of range (max 65535)", (unsigned long long)code);
        m.dir = dir && strcmp(dir, "up") == 0 ? REC_WS_UP : REC_WS_DOWN;
        m.opcode = (uint8_t)op;
        m.close_code = (uint16_t)code;
        free(dir);
        if (rc == 0 && rec_ws_add(x, &m) != 0)
            rc = mpr_fail(&mc, MP_ERR_IO, NULL, "out of memory");
        free(m.data);
    }
    return rc;
}

/* The keys of an exchange in the writer's order (rec_codec_pack_exchange), so
 * one pass over the map finds them all (mpr_fields). */
enum {
    X_CLIENT, X_CONN, X_STREAM, X_T_START, X_T_FIRST, X_T_END, X_SCHEME, X_AUTHORITY, X_METHOD, X_TARGET,
    X_VERSION, X_REQ_HEADERS, X_REQ_BODY, X_REQ_TRUNC, X_STATUS, X_RESP_HEADERS, X_RESP_BODY, X_RESP_TRUNC,
    X_FLAGS, X_TUN_UP, X_TUN_DOWN, X_ERROR, X_TRAILERS, X_WS, X_N
};
static const mpr_key_t x_keys[X_N] = {
    MPR_KEY("client"), MPR_KEY("conn"), MPR_KEY("stream"), MPR_KEY("t_start_us"), MPR_KEY("t_first_byte_us"),
    MPR_KEY("t_end_us"), MPR_KEY("scheme"), MPR_KEY("authority"), MPR_KEY("method"), MPR_KEY("target"),
    MPR_KEY("http_version"), MPR_KEY("req_headers"), MPR_KEY("req_body"), MPR_KEY("req_truncated"),
    MPR_KEY("status"), MPR_KEY("resp_headers"), MPR_KEY("resp_body"), MPR_KEY("resp_truncated"),
    MPR_KEY("flags"), MPR_KEY("tunnel_bytes_up"), MPR_KEY("tunnel_bytes_down"), MPR_KEY("error"),
    MPR_KEY("resp_trailers"), MPR_KEY("ws"),
};

int rec_codec_unpack_exchange(const mpr_ctx_t *c, const msgpack_object *o, rec_exchange_t *x)
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return mpr_fail(c, MP_ERR_FORMAT, NULL, "expected an exchange map");
    const msgpack_object *v[X_N];
    mpr_fields(o, x_keys, X_N, v);
#define K(i) v[i], x_keys[i].name
    uint32_t status = 0;
    int rc = mpr_v_str(c, K(X_CLIENT), true, &x->client);
    if (rc == 0) rc = mpr_v_uint(c, K(X_CONN), true, &x->conn_id);
    if (rc == 0) rc = unpack_u32(c, K(X_STREAM), UINT32_MAX, &x->stream_id);
    if (rc == 0) rc = mpr_v_int(c, K(X_T_START), true, &x->t_start_us);
    if (rc == 0) rc = mpr_v_int(c, K(X_T_FIRST), false, &x->t_first_byte_us);
    if (rc == 0) rc = mpr_v_int(c, K(X_T_END), false, &x->t_end_us);
    if (rc == 0) rc = mpr_v_str(c, K(X_SCHEME), true, &x->scheme);
    if (rc == 0) rc = mpr_v_str(c, K(X_AUTHORITY), true, &x->authority);
    if (rc == 0) rc = mpr_v_str(c, K(X_METHOD), true, &x->method);
    if (rc == 0) rc = mpr_v_str(c, K(X_TARGET), true, &x->target);
    if (rc == 0) rc = mpr_v_str(c, K(X_VERSION), true, &x->http_version);
    if (rc == 0) rc = unpack_headers(c, K(X_REQ_HEADERS), &x->req_headers);
    if (rc == 0) rc = mpr_v_bin(c, K(X_REQ_BODY), &x->req_body, &x->req_body_len);
    if (rc == 0) rc = mpr_v_bool(c, K(X_REQ_TRUNC), &x->req_truncated);
    if (rc == 0) rc = unpack_u32(c, K(X_STATUS), 999, &status);
    if (rc == 0) rc = unpack_headers(c, K(X_RESP_HEADERS), &x->resp_headers);
    if (rc == 0) rc = mpr_v_bin(c, K(X_RESP_BODY), &x->resp_body, &x->resp_body_len);
    if (rc == 0) rc = mpr_v_bool(c, K(X_RESP_TRUNC), &x->resp_truncated);
    if (rc == 0) rc = unpack_u32(c, K(X_FLAGS), UINT32_MAX, &x->flags);
    if (rc == 0) rc = mpr_v_uint(c, K(X_TUN_UP), false, &x->tunnel_bytes_up);
    if (rc == 0) rc = mpr_v_uint(c, K(X_TUN_DOWN), false, &x->tunnel_bytes_down);
    if (rc == 0) rc = mpr_v_str(c, K(X_ERROR), false, &x->error);
    if (rc == 0) rc = unpack_headers(c, K(X_TRAILERS), &x->resp_trailers);
    if (rc == 0) rc = unpack_ws(c, v[X_WS], x);
#undef K
    x->status = (int)status;
    return rc;
}

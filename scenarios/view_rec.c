/* view_rec: the recording's records <-> JSON (view.h). The keys are those of
 * the msgpack records; defaults (0, false, empty) are left out of the JSON and
 * flags are spelled as names. */
#include <stdlib.h>
#include <string.h>

#include "mpread.h"
#include "recording.h"
#include "view.h"
#include "vjson.h"

json_t *view_rec_header_to_json(const rec_header_t *h)
{
    json_t *o = json_object(), *v = json_array();
    if (!o || !v)
        goto fail;
    if (json_array_append_new(v, json_integer(REC_VERSION_MAJOR)) != 0 ||
        json_array_append_new(v, json_integer(REC_VERSION_MINOR)) != 0)
        goto fail;
    int rc = vj_set(o, "format", json_string(REC_FORMAT));
    rc |= vj_set(o, "version", v);
    v = NULL;
    rc |= vj_set(o, "created_us", json_integer(h->created_us));
    rc |= vj_set(o, "source", vj_str(h->source));
    rc |= vj_set(o, "tool", vj_str(h->tool));
    if (rc == 0)
        return o;
fail:
    json_decref(v);
    json_decref(o);
    return NULL;
}

static const char *const flag_names[] = { "tls", "incomplete", "tunnel", "error", "h2" };
#define N_FLAGS (sizeof flag_names / sizeof *flag_names)

static json_t *flags_to_json(uint32_t flags)
{
    json_t *a = json_array();
    for (unsigned bit = 0; a && bit < 32; bit++) {
        if (!(flags & (1u << bit)))
            continue;
        /* A bit this build has no name for (a newer minor) stays a number. */
        json_t *v = bit < N_FLAGS ? json_string(flag_names[bit]) : json_integer((json_int_t)1 << bit);
        if (json_array_append_new(a, v) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static int flags_from_json(const vj_ctx_t *c, const json_t *o, uint32_t *out)
{
    const json_t *a = NULL;
    int rc = vj_get_array(c, o, "flags", false, &a);
    size_t i;
    const json_t *v;
    json_array_foreach(a, i, v) {
        if (json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) <= UINT32_MAX &&
            !(json_integer_value(v) & (json_integer_value(v) - 1))) {
            *out |= (uint32_t)json_integer_value(v);
            continue;
        }
        size_t f = 0;
        while (f < N_FLAGS && !(json_is_string(v) && strcmp(json_string_value(v), flag_names[f]) == 0))
            f++;
        if (f == N_FLAGS)
            return vj_fail(c, MP_ERR_FORMAT, "flags",
                           "entry %zu: expected tls, incomplete, tunnel, error, h2 or a power of two", i);
        *out |= 1u << f;
    }
    return rc;
}

static json_t *headers_to_json(const rec_headers_t *hs)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < hs->n; i++)
        if (json_array_append_new(a, vj_pair(hs->v[i].name, hs->v[i].value)) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static int headers_from_json(const vj_ctx_t *c, const json_t *o, const char *key, rec_headers_t *hs)
{
    const json_t *a = NULL;
    int rc = vj_get_array(c, o, key, false, &a);
    for (size_t i = 0; rc == 0 && a && i < json_array_size(a); i++) {
        vj_ctx_t ec = vj_at(c, key, i);
        char *name = NULL, *value = NULL;
        rc = vj_value_pair(&ec, json_array_get(a, i), &name, &value);
        if (rc != 0) {
            free(name);
            free(value);
        } else if (rec_headers_take(hs, name, value) != 0) {
            rc = vj_fail(&ec, MP_ERR_IO, NULL, "out of memory");
        }
    }
    return rc;
}

static json_t *ws_to_json(const rec_exchange_t *x)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < x->n_ws; i++) {
        const rec_ws_msg_t *m = &x->ws[i];
        json_t *o = json_object();
        int rc = o ? 0 : -1;
        rc |= vj_set(o, "dir", json_string(m->dir == REC_WS_UP ? "up" : "down"));
        rc |= vj_set(o, "op", vj_uint(m->opcode));
        rc |= vj_set(o, "t_us", json_integer(m->t_us));
        rc |= vj_set(o, "data", vj_bytes(m->data, m->len));
        if (m->truncated)
            rc |= vj_set(o, "truncated", json_true());
        if (m->close_code)
            rc |= vj_set(o, "close_code", vj_uint(m->close_code));
        if (rc != 0 || json_array_append_new(a, o) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static int ws_from_json(const vj_ctx_t *c, const json_t *j, rec_exchange_t *x)
{
    const json_t *a;
    int rc = vj_get_array(c, j, "ws", false, &a);
    for (size_t i = 0; rc == 0 && a && i < json_array_size(a); i++) {
        vj_ctx_t mc = vj_at(c, "ws", i);
        const json_t *o = json_array_get(a, i);
        char *dir = NULL;
        uint64_t op = 0, code = 0;
        rec_ws_msg_t m = { 0 };
        rc = vj_want_object(&mc, o, "a WebSocket message");
        if (rc == 0) rc = vj_get_str(&mc, o, "dir", true, &dir);
        if (rc == 0 && strcmp(dir, "up") != 0 && strcmp(dir, "down") != 0)
            rc = vj_fail(&mc, MP_ERR_FORMAT, "dir", "expected \"up\" or \"down\"");
        if (rc == 0) rc = vj_get_uint(&mc, o, "op", true, 15, &op);
        if (rc == 0) rc = vj_get_int(&mc, o, "t_us", false, &m.t_us);
        if (rc == 0) rc = vj_get_bytes(&mc, o, "data", &m.data, &m.len);
        if (rc == 0) rc = vj_get_bool(&mc, o, "truncated", &m.truncated);
        if (rc == 0) rc = vj_get_uint(&mc, o, "close_code", false, 65535, &code);
        m.dir = dir && strcmp(dir, "up") == 0 ? REC_WS_UP : REC_WS_DOWN;
        m.opcode = (uint8_t)op;
        m.close_code = (uint16_t)code;
        free(dir);
        if (rc == 0 && rec_ws_add(x, &m) != 0)
            rc = vj_fail(&mc, MP_ERR_IO, NULL, "out of memory");
        free(m.data);
    }
    return rc;
}

json_t *view_exchange_to_json(const rec_exchange_t *x)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int rc = vj_set(o, "client", vj_str(x->client));
    rc |= vj_set(o, "conn", vj_uint(x->conn_id));
    if (x->stream_id)
        rc |= vj_set(o, "stream", vj_uint(x->stream_id));
    rc |= vj_set(o, "t_start_us", json_integer(x->t_start_us));
    if (x->t_first_byte_us)
        rc |= vj_set(o, "t_first_byte_us", json_integer(x->t_first_byte_us));
    if (x->t_end_us)
        rc |= vj_set(o, "t_end_us", json_integer(x->t_end_us));
    rc |= vj_set(o, "scheme", vj_str(x->scheme));
    rc |= vj_set(o, "authority", vj_str(x->authority));
    rc |= vj_set(o, "method", vj_str(x->method));
    rc |= vj_set(o, "target", vj_str(x->target));
    rc |= vj_set(o, "http_version", vj_str(x->http_version));
    rc |= vj_set(o, "req_headers", headers_to_json(&x->req_headers));
    if (x->req_body_len)
        rc |= vj_set(o, "req_body", vj_bytes(x->req_body, x->req_body_len));
    if (x->req_truncated)
        rc |= vj_set(o, "req_truncated", json_true());
    rc |= vj_set(o, "status", json_integer(x->status));
    rc |= vj_set(o, "resp_headers", headers_to_json(&x->resp_headers));
    if (x->resp_body_len)
        rc |= vj_set(o, "resp_body", vj_bytes(x->resp_body, x->resp_body_len));
    if (x->resp_truncated)
        rc |= vj_set(o, "resp_truncated", json_true());
    if (x->flags)
        rc |= vj_set(o, "flags", flags_to_json(x->flags));
    if (x->tunnel_bytes_up)
        rc |= vj_set(o, "tunnel_bytes_up", vj_uint(x->tunnel_bytes_up));
    if (x->tunnel_bytes_down)
        rc |= vj_set(o, "tunnel_bytes_down", vj_uint(x->tunnel_bytes_down));
    if (x->error)
        rc |= vj_set(o, "error", vj_str(x->error));
    if (x->resp_trailers.n)
        rc |= vj_set(o, "resp_trailers", headers_to_json(&x->resp_trailers));
    if (x->n_ws)
        rc |= vj_set(o, "ws", ws_to_json(x));
    if (rc == 0)
        return o;
    json_decref(o);
    return NULL;
}

int view_rec_header_from_json(const json_t *j, rec_header_t *out, mp_error_t *err)
{
    vj_ctx_t c = { .path = "header", .err = err };
    memset(out, 0, sizeof *out);
    int rc = vj_header_version(&c, j, REC_FORMAT, REC_VERSION_MAJOR, &out->version_major, &out->version_minor);
    if (rc == 0) rc = vj_get_int(&c, j, "created_us", true, &out->created_us);
    if (rc == 0) rc = vj_get_str(&c, j, "source", true, &out->source);
    if (rc == 0) rc = vj_get_str(&c, j, "tool", true, &out->tool);
    if (rc != 0)
        rec_header_fini(out);
    return rc;
}

/* The exchange at path (e.g. "exchanges[3]"); shared by the public entry. */
int view_exchange_from_json_at(const json_t *j, const char *path, rec_exchange_t *x, mp_error_t *err)
{
    vj_ctx_t c = { .err = err };
    snprintf(c.path, sizeof c.path, "%s", path);
    memset(x, 0, sizeof *x);
    uint64_t conn = 0, stream = 0, status = 0, up = 0, down = 0;
    int rc = vj_want_object(&c, j, "an exchange");
    if (rc == 0) rc = vj_get_str(&c, j, "client", true, &x->client);
    if (rc == 0) rc = vj_get_uint(&c, j, "conn", true, UINT64_MAX, &conn);
    if (rc == 0) rc = vj_get_uint(&c, j, "stream", false, UINT32_MAX, &stream);
    if (rc == 0) rc = vj_get_int(&c, j, "t_start_us", true, &x->t_start_us);
    if (rc == 0) rc = vj_get_int(&c, j, "t_first_byte_us", false, &x->t_first_byte_us);
    if (rc == 0) rc = vj_get_int(&c, j, "t_end_us", false, &x->t_end_us);
    if (rc == 0) rc = vj_get_str(&c, j, "scheme", true, &x->scheme);
    if (rc == 0) rc = vj_get_str(&c, j, "authority", true, &x->authority);
    if (rc == 0) rc = vj_get_str(&c, j, "method", true, &x->method);
    if (rc == 0) rc = vj_get_str(&c, j, "target", true, &x->target);
    if (rc == 0) rc = vj_get_str(&c, j, "http_version", true, &x->http_version);
    if (rc == 0) rc = headers_from_json(&c, j, "req_headers", &x->req_headers);
    if (rc == 0) rc = vj_get_bytes(&c, j, "req_body", &x->req_body, &x->req_body_len);
    if (rc == 0) rc = vj_get_bool(&c, j, "req_truncated", &x->req_truncated);
    if (rc == 0) rc = vj_get_uint(&c, j, "status", false, 999, &status);
    if (rc == 0) rc = headers_from_json(&c, j, "resp_headers", &x->resp_headers);
    if (rc == 0) rc = vj_get_bytes(&c, j, "resp_body", &x->resp_body, &x->resp_body_len);
    if (rc == 0) rc = vj_get_bool(&c, j, "resp_truncated", &x->resp_truncated);
    if (rc == 0) rc = flags_from_json(&c, j, &x->flags);
    if (rc == 0) rc = vj_get_uint(&c, j, "tunnel_bytes_up", false, UINT64_MAX, &up);
    if (rc == 0) rc = vj_get_uint(&c, j, "tunnel_bytes_down", false, UINT64_MAX, &down);
    if (rc == 0) rc = vj_get_str(&c, j, "error", false, &x->error);
    if (rc == 0) rc = headers_from_json(&c, j, "resp_trailers", &x->resp_trailers);
    if (rc == 0) rc = ws_from_json(&c, j, x);
    x->conn_id = conn;
    x->stream_id = (uint32_t)stream;
    x->status = (int)status;
    x->tunnel_bytes_up = up;
    x->tunnel_bytes_down = down;
    if (rc == 0) {
        mp_error_t verr;
        if (rec_exchange_validate(x, &verr) != 0) {
            /* "field 'scheme': what" reads "exchanges[1].scheme: what" here. */
            const char *f = strncmp(verr.msg, "field '", 7) == 0 ? verr.msg + 7 : NULL;
            const char *q = f ? strstr(f, "': ") : NULL;
            if (q)
                rc = mp_error_set(err, MP_ERR_INVALID, -1, -1, "%s.%.*s: %s", path, (int)(q - f), f, q + 3);
            else
                rc = mp_error_set(err, MP_ERR_INVALID, -1, -1, "%s: %s", path, verr.msg);
        }
    }
    if (rc != 0)
        rec_exchange_fini(x);
    return rc;
}

int view_exchange_from_json(const json_t *j, rec_exchange_t *out, mp_error_t *err)
{
    return view_exchange_from_json_at(j, "exchange", out, err);
}

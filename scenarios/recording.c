/* recording: the exchange model, its header lists and its validation
 * (recording.h). Encoding lives in rec_codec.c, files in rec_io.c. */
#include "recording.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mpread.h"
#include "scn_syntax.h"

void rec_header_fini(rec_header_t *h)
{
    if (!h)
        return;
    free(h->source);
    free(h->tool);
    memset(h, 0, sizeof *h);
}

void rec_headers_fini(rec_headers_t *hs)
{
    if (!hs)
        return;
    for (size_t i = 0; i < hs->n; i++) {
        free(hs->v[i].name);
        free(hs->v[i].value);
    }
    free(hs->v);
    hs->v = NULL;
    hs->n = 0;
}

void rec_exchange_fini(rec_exchange_t *x)
{
    if (!x)
        return;
    free(x->client);
    free(x->scheme);
    free(x->authority);
    free(x->method);
    free(x->target);
    free(x->http_version);
    rec_headers_fini(&x->req_headers);
    free(x->req_body);
    rec_headers_fini(&x->resp_headers);
    free(x->resp_body);
    free(x->error);
    rec_headers_fini(&x->resp_trailers);
    for (size_t i = 0; i < x->n_ws; i++)
        free(x->ws[i].data);
    free(x->ws);
    memset(x, 0, sizeof *x);
}

int rec_ws_add(rec_exchange_t *x, const rec_ws_msg_t *m)
{
    rec_ws_msg_t *v = realloc(x->ws, (x->n_ws + 1) * sizeof *v);
    if (!v)
        return -1;
    x->ws = v;
    v[x->n_ws] = *m;
    v[x->n_ws].data = NULL;
    if (m->len) {
        if (!(v[x->n_ws].data = malloc(m->len)))
            return -1;
        memcpy(v[x->n_ws].data, m->data, m->len);
    }
    x->n_ws++;
    return 0;
}

/* Appends and takes ownership of name and value (freed on failure). */
int rec_headers_take(rec_headers_t *hs, char *name, char *value)
{
    rec_hfield_t *v = realloc(hs->v, (hs->n + 1) * sizeof *v);
    if (!v) {
        free(name);
        free(value);
        return -1;
    }
    hs->v = v;
    hs->v[hs->n].name = name;
    hs->v[hs->n].value = value;
    hs->n++;
    return 0;
}

int rec_headers_add(rec_headers_t *hs, const char *name, const char *value)
{
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return -1;
    }
    return rec_headers_take(hs, n, v);
}

const char *rec_headers_get(const rec_headers_t *hs, const char *name)
{
    for (size_t i = 0; i < hs->n; i++)
        if (strcasecmp(hs->v[i].name, name) == 0)
            return hs->v[i].value;
    return NULL;
}

static int bad(mp_error_t *err, const char *field, const char *what)
{
    return mp_error_set(err, MP_ERR_INVALID, -1, -1, "field '%s': %s", field, what);
}

static int headers_validate(const rec_headers_t *hs, const char *field, bool entries, mp_error_t *err)
{
    if (hs->n && !hs->v)
        return bad(err, field, "count without entries");
    if (!entries)
        return 0;
    for (size_t i = 0; i < hs->n; i++) {
        const char *what = !syn_is_token(hs->v[i].name) ? "header name must be a non-empty token"
                           : !hs->v[i].value        ? "header value missing"
                                                    : NULL;
        if (what != NULL) { /* the field's name is only made for an error */
            char f[64];
            snprintf(f, sizeof f, "%s[%zu]", field, i);
            return bad(err, f, what);
        }
    }
    return 0;
}

static int validate(const rec_exchange_t *x, bool entries, mp_error_t *err);

int rec_exchange_validate(const rec_exchange_t *x, mp_error_t *err) { return validate(x, true, err); }

int rec_exchange_validate_built(const rec_exchange_t *x, mp_error_t *err) { return validate(x, false, err); }

static int validate(const rec_exchange_t *x, bool entries, mp_error_t *err)
{
    if (!x->client)
        return bad(err, "client", "missing");
    if (!x->scheme || (strcmp(x->scheme, "http") != 0 && strcmp(x->scheme, "https") != 0))
        return bad(err, "scheme", "expected \"http\" or \"https\"");
    if (!x->authority || !*x->authority)
        return bad(err, "authority", "missing or empty");
    if (!syn_is_token(x->method))
        return bad(err, "method", "must be a non-empty token such as GET");
    if (!x->target || !*x->target)
        return bad(err, "target", "missing or empty");
    if (!x->http_version || !*x->http_version)
        return bad(err, "http_version", "missing or empty");
    if (x->t_start_us < 0)
        return bad(err, "t_start_us", "must be >= 0");
    if (x->t_first_byte_us != 0 && x->t_first_byte_us < x->t_start_us)
        return bad(err, "t_first_byte_us", "earlier than t_start_us");
    if (x->t_end_us != 0 && x->t_end_us < x->t_start_us)
        return bad(err, "t_end_us", "earlier than t_start_us");
    if (x->status != 0 && (x->status < 100 || x->status > 999))
        return bad(err, "status", "must be 0 (no response) or 100..999");
    if (x->req_body_len && !x->req_body)
        return bad(err, "req_body", "length without bytes");
    if (x->resp_body_len && !x->resp_body)
        return bad(err, "resp_body", "length without bytes");
    int rc = headers_validate(&x->req_headers, "req_headers", entries, err);
    if (rc == 0)
        rc = headers_validate(&x->resp_headers, "resp_headers", entries, err);
    if (rc == 0)
        rc = headers_validate(&x->resp_trailers, "resp_trailers", entries, err);
    for (size_t i = 0; rc == 0 && i < x->n_ws; i++) {
        char f[32];
        snprintf(f, sizeof f, "ws[%zu]", i);
        const rec_ws_msg_t *m = &x->ws[i];
        if (m->dir > REC_WS_DOWN)
            rc = bad(err, f, "dir must be \"up\" or \"down\"");
        else if (m->opcode > 15)
            rc = bad(err, f, "opcode must be 0..15");
        else if (m->len && !m->data)
            rc = bad(err, f, "length without bytes");
    }
    return rc;
}

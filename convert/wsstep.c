/* wsstep: a recorded WebSocket session as a ws step (see wsstep.h). */
#include "wsstep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "normalise.h"
#include "pick.h"
#include "steps.h"

static bool is_data(const rec_ws_msg_t *m)
{
    return m->opcode == 1 || m->opcode == 2;
}

static bool has_braces(const uint8_t *d, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (d[i] == '{' && d[i + 1] == '{')
            return true;
    return false;
}

static int add_headers(const rec_exchange_t *x, scn_ws_t *w)
{
    if (x->req_headers.n && !(w->headers = calloc(x->req_headers.n, sizeof *w->headers)))
        return -1;
    for (size_t i = 0; i < x->req_headers.n; i++) {
        const rec_hfield_t *h = &x->req_headers.v[i];
        /* The connection writes the Upgrade, the key, the version and the
         * protocol; extensions (permessage-deflate) are not offered. */
        if (pick_header_dropped(h->name) || strncasecmp(h->name, "sec-websocket-", 14) == 0)
            continue;
        scn_kv_t *kv = &w->headers[w->n_headers];
        kv->name = strdup(h->name);
        kv->value = strdup(h->value);
        w->n_headers++;
        if (!kv->name || !kv->value)
            return -1;
    }
    return 0;
}

/* The subprotocol the server chose (one token), asked for again. */
static int add_subprotocol(const rec_exchange_t *x, scn_ws_t *w)
{
    const char *p = rec_headers_get(&x->resp_headers, "sec-websocket-protocol");
    if (!p)
        return 0;
    p += strspn(p, " \t");
    size_t n = strcspn(p, " \t,");
    if (n == 0)
        return 0;
    return (w->subprotocol = strndup(p, n)) ? 0 : -1;
}

scn_ws_t *wsstep_from_exchange(const rec_exchange_t *x, const conv_opts_t *o, wsstep_stats_t *st)
{
    scn_ws_t *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    bool tls = x->scheme && strcmp(x->scheme, "https") == 0;
    char path[512];
    norm_path(x->target, 0, path, sizeof path);
    if (!(w->name = strdup(path)) ||
        asprintf(&w->url, "%s://%s%s", tls ? "wss" : "ws", x->authority, x->target) < 0) {
        w->url = NULL;
        goto fail;
    }
    if (add_headers(x, w) < 0 || add_subprotocol(x, w) < 0)
        goto fail;
    size_t n_up = 0;
    for (size_t i = 0; i < x->n_ws; i++)
        n_up += x->ws[i].dir == REC_WS_UP && is_data(&x->ws[i]);
    if (n_up && !(w->msgs = calloc(n_up, sizeof *w->msgs)))
        goto fail;
    /* t: when the client's previous action ended (the 101, a message sent, or
     * the last server message it awaited). */
    int64_t t = 0, last = 0;
    scn_ws_msg_t *cur = NULL;
    for (size_t i = 0; i < x->n_ws; i++) {
        const rec_ws_msg_t *m = &x->ws[i];
        if (m->t_us > last)
            last = m->t_us;
        if (!is_data(m))
            continue;
        if (m->dir == REC_WS_DOWN) {
            if (cur) {
                cur->await_count++;
                t = m->t_us;
            }
            continue;
        }
        if (m->opcode == 1 && has_braces(m->data, m->len)) {
            st->braces++;
            cur = NULL;
            continue;
        }
        scn_ws_msg_t *nm = &w->msgs[w->n_msgs];
        if (asprintf(&nm->name, "msg %zu", w->n_msgs) < 0) {
            nm->name = NULL;
            goto fail;
        }
        w->n_msgs++;
        nm->binary = m->opcode == 2;
        if (m->len) {
            if (!(nm->data = malloc(m->len)))
                goto fail;
            memcpy(nm->data, m->data, m->len);
            nm->len = m->len;
        }
        nm->gap_us = steps_think(m->t_us > t ? (uint64_t)(m->t_us - t) : 0, o);
        t = m->t_us;
        cur = nm;
        st->messages++;
        st->cut += m->truncated;
    }
    /* The close: the last frame seen (the close itself when recorded), or the
     * end of the exchange. */
    int64_t end = x->t_end_us > x->t_start_us && x->t_first_byte_us > 0 ? x->t_end_us - x->t_first_byte_us : 0;
    if (last > end)
        end = last;
    w->close_gap_us = steps_think(end > t ? (uint64_t)(end - t) : 0, o);
    return w;
fail:
    scn_ws_free(w);
    return NULL;
}

/* wsstep: a recorded WebSocket session as a ws step (see wsstep.h). */
#include "wsstep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "draft.h"
#include "normalise.h"
#include "offer.h"
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

/* Replaces every whole-token occurrence of value in *data with repl. 0 or -1. */
static int replace_in(uint8_t **data, size_t *len, const char *value, const char *repl)
{
    size_t vl = strlen(value), rl = strlen(repl), n = 0;
    for (long p = 0; (p = draft_find((const char *)*data, *len, (size_t)p, value, vl)) >= 0; p += (long)vl)
        n++;
    if (n == 0)
        return 0;
    size_t nl = *len - n * vl + n * rl;
    uint8_t *out = malloc(nl ? nl : 1), *q = out;
    if (!out)
        return -1;
    size_t from = 0;
    for (long p; (p = draft_find((const char *)*data, *len, from, value, vl)) >= 0; from = (size_t)p + vl) {
        memcpy(q, *data + from, (size_t)p - from);
        q += (size_t)p - from;
        memcpy(q, repl, rl);
        q += rl;
    }
    memcpy(q, *data + from, *len - from);
    free(*data);
    *data = out;
    *len = nl;
    return 0;
}

static bool sends(const scn_ws_msg_t *m, const char *value)
{
    return !m->binary && m->len && draft_find((const char *)m->data, m->len, 0, value, strlen(value)) >= 0;
}

static bool var_taken(const scn_ws_t *w, const char *var)
{
    for (size_t i = 0; i < w->n_msgs; i++)
        for (size_t k = 0; k < w->msgs[i].n_extractors; k++)
            if (strcmp(w->msgs[i].extractors[k].var, var) == 0)
                return true;
    return false;
}

/* "ws_" + base made a variable name, unique in w. NULL on out of memory. */
static char *var_for(const scn_ws_t *w, const char *base)
{
    char name[64];
    int n = snprintf(name, sizeof name, "ws_%.40s", base && base[0] ? base : "value");
    for (int i = 3; i < n && i < (int)sizeof name; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
              (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
            name[i] = '_';
    char *v = strdup(name);
    for (int k = 2; v && var_taken(w, v); k++) {
        free(v);
        if (asprintf(&v, "%s_%d", name, k) < 0)
            v = NULL;
    }
    return v;
}

/* Correlation inside the session: a value the awaited server message of
 * message j offers (a JSON field, offer.h) that no client message up to j
 * sent and a later client text message sends becomes an extractor on
 * message j and a {{ws_<field>}} in the later messages, so each replayed
 * user sends back what its own server said (a session id, a ticket). */
static int correlate(scn_ws_t *w, const rec_ws_msg_t *const *awaited, wsstep_stats_t *st)
{
    for (size_t j = 0; j < w->n_msgs; j++) {
        const rec_ws_msg_t *aw = awaited[j];
        if (!aw || aw->opcode != 1)
            continue;
        rec_exchange_t fx = {.resp_body = aw->data, .resp_body_len = aw->len, .resp_truncated = aw->truncated};
        offer_list_t ol = {0};
        if (offer_collect(&fx, &ol) < 0)
            return -1;
        for (size_t i = 0; i < ol.n; i++) {
            const offer_t *of = &ol.v[i];
            if ((of->kind != SCN_EXT_JSON && of->kind != SCN_EXT_REGEX) || of->whole_url || !offer_worth(of->value))
                continue;
            bool known = false, used = false;
            for (size_t k = 0; k <= j && !known; k++)
                known = sends(&w->msgs[k], of->value);
            for (size_t k = j + 1; k < w->n_msgs && !used; k++)
                used = sends(&w->msgs[k], of->value);
            if (known || !used)
                continue;
            char *var = var_for(w, of->base), *repl = NULL;
            scn_ws_msg_t *m = &w->msgs[j];
            scn_extractor_t *e = var ? realloc(m->extractors, (m->n_extractors + 1) * sizeof *e) : NULL;
            if (e)
                m->extractors = e;
            if (!e || asprintf(&repl, "{{%s}}", var) < 0) {
                free(var);
                offer_list_fini(&ol);
                return -1;
            }
            e[m->n_extractors] = (scn_extractor_t){.var = var, .kind = of->kind, .expr = strdup(of->expr),
                                                    .group = of->group};
            m->n_extractors++;
            int rc = e[m->n_extractors - 1].expr ? 0 : -1;
            for (size_t k = j + 1; rc == 0 && k < w->n_msgs; k++)
                if (!w->msgs[k].binary)
                    rc = replace_in(&w->msgs[k].data, &w->msgs[k].len, of->value, repl);
            free(repl);
            if (rc < 0) {
                offer_list_fini(&ol);
                return -1;
            }
            st->correlated++;
        }
        offer_list_fini(&ol);
    }
    return 0;
}

scn_ws_t *wsstep_from_exchange(const rec_exchange_t *x, const conv_opts_t *o, wsstep_stats_t *st)
{
    const rec_ws_msg_t **awaited = NULL;
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
    awaited = calloc(n_up ? n_up : 1, sizeof *awaited);
    if (!awaited || (n_up && !(w->msgs = calloc(n_up, sizeof *w->msgs))))
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
                awaited[cur - w->msgs] = m;
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
    if (o->correlate && correlate(w, awaited, st) < 0)
        goto fail;
    free(awaited);
    return w;
fail:
    free(awaited);
    scn_ws_free(w);
    return NULL;
}

#include "steps.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "pick.h"

uint64_t steps_think(uint64_t gap_us, const conv_opts_t *o)
{
    switch (o->think) {
    case CONV_THINK_NONE:
        return 0;
    case CONV_THINK_SCALE:
        return (uint64_t)((double)gap_us * o->think_scale);
    case CONV_THINK_MAX:
        return gap_us < o->think_max_us ? gap_us : o->think_max_us;
    case CONV_THINK_KEEP:
    default:
        return gap_us;
    }
}

/* Sec-Fetch-Dest values of a page's subresources (not document, iframe,
 * frame, empty = fetch/XHR, report). */
static bool subresource_dest(const char *d)
{
    static const char *const dests[] = {"audio", "audioworklet", "embed", "font", "image", "manifest", "object",
                                        "paintworklet", "script", "sharedworker", "style", "track", "video",
                                        "worker", "xslt"};
    for (size_t i = 0; i < sizeof dests / sizeof *dests; i++)
        if (strcasecmp(d, dests[i]) == 0)
            return true;
    return false;
}

const char *steps_asset_page(const rec_exchange_t *x)
{
    const char *ref = rec_headers_get(&x->req_headers, "referer");
    if (!ref || !*ref)
        return NULL;
    const char *dest = rec_headers_get(&x->req_headers, "sec-fetch-dest");
    if (dest)
        return subresource_dest(dest) ? ref : NULL;
    return pick_is_static(x) ? ref : NULL;
}

static int64_t end_of(const rec_exchange_t *x)
{
    return x->t_end_us > x->t_start_us ? x->t_end_us : x->t_start_us;
}

int steps_plan(const rec_exchange_t *const *xs, size_t n, const conv_opts_t *o,
               step_plan_t **out, size_t *n_out)
{
    step_plan_t *p = calloc(n ? n : 1, sizeof *p);
    size_t k = 0;
    int64_t group_end = 0;
    const char *group_page = NULL;  /* the page whose assets the current group loads */
    if (!p)
        return -1;
    for (size_t i = 0; i < n; i++) {
        /* Started while the request before it was in flight: they overlap.
         * Or started soon after it while the group is still loading (a
         * browser's burst where that one request was quick). */
        bool overlap = k > 0 && xs[i]->t_start_us < end_of(xs[i - 1]);
        bool burst = k > 0 && xs[i]->t_start_us < group_end &&
                     xs[i]->t_start_us - xs[i - 1]->t_start_us <= (int64_t)o->parallel_window_us;
        /* Or an asset of the page the group is loading, asked for soon after:
         * over HTTP/1.1 a browser spreads a page's assets over six
         * connections, each asked for as one frees up, so they no longer
         * overlap one another; over h2 they are in flight at once. */
        const char *page = steps_asset_page(xs[i]);
        bool same_page = k > 0 && page && group_page && strcmp(page, group_page) == 0 &&
                         xs[i]->t_start_us - group_end <= (int64_t)o->asset_gap_us;
        bool join = overlap || burst || same_page;
        if (join) {
            p[k - 1].n++;
            p[k - 1].parallel = true;
        } else {
            if (k > 0) {
                int64_t gap = xs[i]->t_start_us - group_end;
                p[k - 1].think_us = steps_think(gap > 0 ? (uint64_t)gap : 0, o);
            }
            p[k++] = (step_plan_t){.first = i, .n = 1};
            group_end = 0;
            group_page = NULL;
        }
        if (!group_page)
            group_page = page;
        if (end_of(xs[i]) > group_end)
            group_end = end_of(xs[i]);
    }
    *out = p;
    *n_out = k;
    return 0;
}

static bool key_is_token(const char *key)
{
    return strcasestr(key, "token") || strcasestr(key, "jwt") || strcasestr(key, "session");
}

/* True when j holds, at any depth, a string under a token-like key. */
static bool json_has_token(const json_t *j, int depth)
{
    const char *key;
    json_t *v;
    size_t i;
    if (depth > 8)
        return false;
    if (json_is_object(j)) {
        json_object_foreach((json_t *)j, key, v) {
            if ((json_is_string(v) && key_is_token(key)) || json_has_token(v, depth + 1))
                return true;
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v)
            if (json_has_token(v, depth + 1))
                return true;
    }
    return false;
}

bool steps_is_login(const rec_exchange_t *x)
{
    if (strcasecmp(x->method, "POST") != 0 || x->status >= 400)
        return false;
    if (rec_headers_get(&x->resp_headers, "set-cookie"))
        return true;
    if (!x->resp_body_len)
        return false;
    json_t *j = json_loadb((const char *)x->resp_body, x->resp_body_len, 0, NULL);
    bool tok = j && json_has_token(j, 0);
    json_decref(j);
    return tok;
}

bool steps_is_logout(const rec_exchange_t *x)
{
    static const char *const words[] = {"logout", "log_out", "log-out", "signout", "sign_out", "sign-out"};
    const char *t = x->target;
    size_t plen = strcspn(t, "?#");
    /* One pass over the path, a word compared only where its first letter is
     * (asked for every request of every session; strcasestr per word was 5 %
     * of loading a big recording). No word holds '?' or '#', so a word that
     * starts in the path ends there. */
    for (size_t at = 0; at < plen; at++) {
        char ch = (char)tolower((unsigned char)t[at]);
        if (ch != 'l' && ch != 's')
            continue;
        for (size_t i = 0; i < sizeof words / sizeof *words; i++)
            if (words[i][0] == ch && strncasecmp(t + at, words[i], strlen(words[i])) == 0)
                return true;
    }
    return false;
}

step_sections_t steps_sections(const rec_exchange_t *const *xs, const step_plan_t *p, size_t n_steps)
{
    step_sections_t s = {.start_end = 0, .stop_begin = n_steps};
    for (size_t k = 0; k < n_steps && !s.start_end; k++)
        for (size_t i = p[k].first; i < p[k].first + p[k].n; i++)
            if (steps_is_login(xs[i])) {
                s.start_end = k + 1;
                break;
            }
    for (size_t k = s.start_end; k < n_steps && s.stop_begin == n_steps; k++)
        for (size_t i = p[k].first; i < p[k].first + p[k].n; i++)
            if (steps_is_logout(xs[i])) {
                s.stop_begin = k;
                break;
            }
    if (s.start_end >= s.stop_begin)
        s.start_end = 0;  /* nothing between login and logout: keep the login in the tasks */
    if (s.stop_begin <= s.start_end)
        s.stop_begin = n_steps;
    return s;
}

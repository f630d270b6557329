#include "pick.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct pick {
    const conv_opts_t *o;
    regex_t *paths;
    size_t n_paths;
};

pick_t *pick_new(const conv_opts_t *o, mp_error_t *err)
{
    pick_t *f = calloc(1, sizeof *f);
    if (!f)
        goto oom;
    f->o = o;
    if (o->n_exclude_paths && !(f->paths = calloc(o->n_exclude_paths, sizeof *f->paths)))
        goto oom;
    for (; f->n_paths < o->n_exclude_paths; f->n_paths++) {
        int rc = regcomp(&f->paths[f->n_paths], o->exclude_paths[f->n_paths], REG_EXTENDED | REG_NOSUB);
        if (rc) {
            char why[128];
            regerror(rc, &f->paths[f->n_paths], why, sizeof why);
            snprintf(err->msg, sizeof err->msg, "--exclude-path '%s': %s (expected a POSIX extended regex)",
                     o->exclude_paths[f->n_paths], why);
            pick_free(f);
            return NULL;
        }
    }
    return f;
oom:
    free(f);
    snprintf(err->msg, sizeof err->msg, "out of memory");
    return NULL;
}

void pick_free(pick_t *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_paths; i++)
        regfree(&f->paths[i]);
    free(f->paths);
    free(f);
}

char *pick_host(const char *authority, char *buf, size_t len)
{
    const char *a = authority ? authority : "";
    size_t n;
    if (a[0] == '[') {
        a++;
        n = strcspn(a, "]");
    } else {
        n = strcspn(a, ":");
    }
    snprintf(buf, len, "%.*s", (int)n, a);
    return buf;
}

/* pattern: a host ("api.example.com"), an authority with port, or a domain
 * suffix (".example.com" or "*.example.com"). */
static bool host_matches(const char *pattern, const char *authority)
{
    char host[256];
    pick_host(authority, host, sizeof host);
    if (strcasecmp(pattern, host) == 0 || strcasecmp(pattern, authority) == 0)
        return true;
    if (pattern[0] == '*')
        pattern++;
    if (pattern[0] != '.')
        return false;
    size_t hl = strlen(host), pl = strlen(pattern);
    return (hl > pl && strcasecmp(host + hl - pl, pattern) == 0) || strcasecmp(host, pattern + 1) == 0;
}

static bool any_host(const char *const *v, size_t n, const char *authority)
{
    for (size_t i = 0; i < n; i++)
        if (host_matches(v[i], authority))
            return true;
    return false;
}

bool pick_is_static(const rec_exchange_t *x)
{
    static const char *const types[] = {"image/", "font/", "text/css", "javascript", "ecmascript",
                                        "application/font", "application/x-font", "application/vnd.ms-fontobject"};
    static const char *const exts[] = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico", ".webp", ".avif",
                                       ".bmp", ".woff", ".woff2", ".ttf", ".otf", ".eot", ".css", ".js",
                                       ".mjs", ".map"};
    const char *ct = rec_headers_get(&x->resp_headers, "content-type");
    for (size_t i = 0; ct && i < sizeof types / sizeof *types; i++)
        if (strcasestr(ct, types[i]))
            return true;
    const char *t = x->target ? x->target : "";
    size_t plen = strcspn(t, "?#");
    for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
        size_t el = strlen(exts[i]);
        if (plen > el && strncasecmp(t + plen - el, exts[i], el) == 0)
            return true;
    }
    return false;
}

pick_verdict_t pick_check(const pick_t *f, const rec_exchange_t *x)
{
    const conv_opts_t *o = f->o;
    if ((x->flags & (REC_F_TUNNEL | REC_F_ERROR | REC_F_INCOMPLETE)) || x->status == 0 ||
        !x->method || strcasecmp(x->method, "CONNECT") == 0 || !x->authority || !x->target)
        return PICK_DROP_ERROR;
    /* A plain GET would stand for an upgraded connection: a WebSocket session
     * becomes a ws step, any other upgrade is counted, not converted. */
    if ((x->status == 101 || x->n_ws) && !pick_is_websocket(x))
        return PICK_DROP_UPGRADE;
    if (o->n_include_hosts && !any_host(o->include_hosts, o->n_include_hosts, x->authority))
        return PICK_DROP_HOST;
    if (any_host(o->exclude_hosts, o->n_exclude_hosts, x->authority))
        return PICK_DROP_HOST;
    for (size_t i = 0; i < f->n_paths; i++)
        if (regexec(&f->paths[i], x->target, 0, NULL, 0) == 0)
            return PICK_DROP_PATH;
    if (pick_is_websocket(x))
        return PICK_KEEP_WS;
    if (o->no_static && pick_is_static(x))
        return PICK_DROP_STATIC;
    return PICK_KEEP;
}

bool pick_is_websocket(const rec_exchange_t *x)
{
    /* The capture keeps no hop-by-hop header (Upgrade, Connection): the
     * handshake's own headers or the messages say it. */
    const char *up = rec_headers_get(&x->req_headers, "upgrade");
    return x->status == 101 && !(x->flags & REC_F_TUNNEL) &&
           ((up && strcasecmp(up, "websocket") == 0) || x->n_ws ||
            rec_headers_get(&x->req_headers, "sec-websocket-key") ||
            rec_headers_get(&x->resp_headers, "sec-websocket-accept"));
}

bool pick_header_dropped(const char *name)
{
    static const char *const hop[] = {"connection", "keep-alive", "transfer-encoding", "content-length",
                                      "host", "te", "trailer", "upgrade", "cookie", "http2-settings"};
    if (name[0] == ':' || strncasecmp(name, "proxy-", 6) == 0)
        return true;
    for (size_t i = 0; i < sizeof hop / sizeof *hop; i++)
        if (strcasecmp(name, hop[i]) == 0)
            return true;
    return false;
}

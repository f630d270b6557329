#include "fwd.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <http_parser.h>

/* true when the comma-separated token list has name in it. */
static bool list_has(const char *list, const char *name)
{
    size_t n = strlen(name);
    const char *p = list;
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *e = p;
        while (*e != '\0' && *e != ',')
            e++;
        const char *t = e;
        while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if ((size_t)(t - p) == n && strncasecmp(p, name, n) == 0)
            return true;
        p = e;
    }
    return false;
}

/* The fixed hop-by-hop names (RFC 9110 7.6.1): one switch on the length, then
 * at most two strcasecmp, since this runs for every recorded header (issue 20:
 * a loop of strcasecmp over the list was 10 % of --pcap's time). */
static bool fixed_hop(const char *name)
{
    switch (strlen(name)) {
    case 2: return strcasecmp(name, "TE") == 0;
    case 7: return strcasecmp(name, "Trailer") == 0 || strcasecmp(name, "Upgrade") == 0;
    case 10: return strcasecmp(name, "Connection") == 0 || strcasecmp(name, "Keep-Alive") == 0;
    case 16: return strcasecmp(name, "Proxy-Connection") == 0;
    case 17: return strcasecmp(name, "Transfer-Encoding") == 0;
    case 19: return strcasecmp(name, "Proxy-Authorization") == 0;
    default: return false;
    }
}

static bool is_connection(const char *name)
{
    return (name[0] | 0x20) == 'c' && strcasecmp(name, "Connection") == 0;
}

bool fwd_is_hop(const rec_headers_t *all, const char *name)
{
    if (fixed_hop(name))
        return true;
    for (size_t i = 0; all != NULL && i < all->n; i++)
        if (is_connection(all->v[i].name) && list_has(all->v[i].value, name))
            return true;
    return false;
}

bool fwd_names_others(const rec_headers_t *all)
{
    char tok[32];
    for (size_t i = 0; all != NULL && i < all->n; i++) {
        if (!is_connection(all->v[i].name))
            continue;
        for (const char *p = all->v[i].value; *p != '\0';) {
            while (*p == ' ' || *p == '\t' || *p == ',')
                p++;
            const char *e = p;
            while (*e != '\0' && *e != ',')
                e++;
            const char *t = e;
            while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
                t--;
            size_t n = (size_t)(t - p);
            if (n >= sizeof tok)
                return true;
            memcpy(tok, p, n);
            tok[n] = '\0';
            if (n > 0 && !fixed_hop(tok))
                return true;
            p = e;
        }
    }
    return false;
}

bool fwd_is_te_trailers(const char *name, const char *value)
{
    return strcasecmp(name, "te") == 0 && strcasecmp(value, "trailers") == 0;
}

/* Writes the end-to-end headers of h, skipping Host when skip_host and
 * Content-Length when the body is re-framed (a HEAD answer keeps it). */
static int put_headers(struct evbuffer *out, const rec_headers_t *h, bool skip_host,
                       enum fwd_framing f)
{
    for (size_t i = 0; i < h->n; i++) {
        const char *name = h->v[i].name;
        if (fwd_is_hop(h, name))
            continue;
        if (skip_host && strcasecmp(name, "Host") == 0)
            continue;
        if ((f == FWD_CHUNKED || f == FWD_CLOSE) && strcasecmp(name, "Content-Length") == 0)
            continue;
        if (evbuffer_add_printf(out, "%s: %s\r\n", name, h->v[i].value) < 0)
            return -1;
    }
    if (f == FWD_CHUNKED && evbuffer_add_printf(out, "Transfer-Encoding: chunked\r\n") < 0)
        return -1;
    return 0;
}

int fwd_request_head(struct evbuffer *out, const char *method, const char *target,
                     const char *host, const rec_headers_t *h, enum fwd_framing f)
{
    if (evbuffer_add_printf(out, "%s %s HTTP/1.1\r\n", method, target) < 0)
        return -1;
    if (host != NULL && evbuffer_add_printf(out, "Host: %s\r\n", host) < 0)
        return -1;
    if (put_headers(out, h, host != NULL, f) != 0)
        return -1;
    return evbuffer_add(out, "\r\n", 2);
}

int fwd_response_head(struct evbuffer *out, int status, const rec_headers_t *h,
                      enum fwd_framing f, bool close)
{
    if (evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", status,
                            http_status_str((enum http_status)status)) < 0)
        return -1;
    if (put_headers(out, h, false, f) != 0)
        return -1;
    if (close && evbuffer_add_printf(out, "Connection: close\r\n") < 0)
        return -1;
    return evbuffer_add(out, "\r\n", 2);
}

int fwd_body(struct evbuffer *out, enum fwd_framing f, const void *p, size_t n)
{
    if (n == 0 || f == FWD_NONE)
        return 0;
    if (f == FWD_CHUNKED && evbuffer_add_printf(out, "%zx\r\n", n) < 0)
        return -1;
    if (evbuffer_add(out, p, n) != 0)
        return -1;
    if (f == FWD_CHUNKED)
        return evbuffer_add(out, "\r\n", 2);
    return 0;
}

int fwd_body_end(struct evbuffer *out, enum fwd_framing f)
{
    return f == FWD_CHUNKED ? evbuffer_add(out, "0\r\n\r\n", 5) : 0;
}

enum fwd_framing fwd_framing_for(bool has_body, long long content_length, bool peer_http11)
{
    if (!has_body)
        return FWD_NONE;
    if (content_length >= 0)
        return FWD_LENGTH;
    return peer_http11 ? FWD_CHUNKED : FWD_CLOSE;
}

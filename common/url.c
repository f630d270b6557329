#include "url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* allow_zero: a listen address may ask the kernel for a free port. */
static int parse_port_z(const char *s, size_t n, unsigned short *port, int allow_zero)
{
    if (n == 0 || n > 5)
        return -1;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if ((v == 0 && !allow_zero) || v > 65535)
        return -1;
    *port = (unsigned short)v;
    return 0;
}

static int parse_port(const char *s, size_t n, unsigned short *port)
{
    return parse_port_z(s, n, port, 0);
}

int url_parse(const char *s, url_t *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof(*u));
    const char *p;
    if (strncasecmp(s, "http://", 7) == 0) {
        strcpy(u->scheme, "http");
        u->port = 80;
        p = s + 7;
    } else if (strncasecmp(s, "https://", 8) == 0) {
        strcpy(u->scheme, "https");
        u->port = 443;
        u->tls = true;
        p = s + 8;
    } else {
        snprintf(err, errlen, "'%s': expected a URL starting with http:// or https://", s);
        return -1;
    }
    const char *end = p + strcspn(p, "/?#");
    const char *at = memchr(p, '@', (size_t)(end - p));
    if (at) {
        /* Named for what it is (a colon before the '@' would otherwise read as
         * a bad port); the credentials are not echoed. */
        snprintf(err, errlen, "'%s://...@%.*s': credentials in the URL (userinfo, user:password@) "
                 "are not supported: send them in an Authorization header", u->scheme,
                 (int)(end - at - 1), at + 1);
        return -1;
    }
    const char *host = p, *hend;
    const char *portp = NULL;
    if (*p == '[') {
        const char *rb = memchr(p, ']', (size_t)(end - p));
        if (rb == NULL) {
            snprintf(err, errlen, "'%s': unterminated IPv6 address", s);
            return -1;
        }
        host = p + 1;
        hend = rb;
        u->ipv6 = true;
        if (rb + 1 < end) {
            if (rb[1] != ':') {
                snprintf(err, errlen, "'%s': expected ':' after ']'", s);
                return -1;
            }
            portp = rb + 2;
        }
    } else {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        hend = colon ? colon : end;
        if (colon)
            portp = colon + 1;
    }
    size_t hlen = (size_t)(hend - host);
    if (hlen == 0 || hlen >= sizeof(u->host)) {
        snprintf(err, errlen, "'%s': expected a host name", s);
        return -1;
    }
    memcpy(u->host, host, hlen);
    u->host[hlen] = '\0';
    if (portp && parse_port(portp, (size_t)(end - portp), &u->port) < 0) {
        snprintf(err, errlen, "'%s': port must be a number from 1 to 65535", s);
        return -1;
    }
    u->path = (*end == '/' || *end == '?') ? end : "/";
    return 0;
}

static int is_default_port(const url_t *u)
{
    return (u->tls && u->port == 443) || (!u->tls && u->port == 80);
}

size_t url_host_header(const url_t *u, char *buf, size_t len)
{
    const char *l = u->ipv6 ? "[" : "", *r = u->ipv6 ? "]" : "";
    int n = is_default_port(u) ? snprintf(buf, len, "%s%s%s", l, u->host, r)
                               : snprintf(buf, len, "%s%s%s:%u", l, u->host, r, u->port);
    return n < 0 ? 0 : (size_t)n >= len ? len - 1 : (size_t)n;
}

size_t url_origin(const url_t *u, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s://", u->scheme);
    if (n < 0 || (size_t)n >= len)
        return 0;
    return (size_t)n + url_host_header(u, buf + n, len - (size_t)n);
}

int url_parse_listen(const char *s, const char *default_host, char *host, size_t hostlen,
                     unsigned short *port, char *err, size_t errlen)
{
    const char *colon = strrchr(s, ':');
    const char *ps = colon ? colon + 1 : s;
    if (parse_port_z(ps, strlen(ps), port, 1) < 0) {
        snprintf(err, errlen, "'%s': expected [HOST]:PORT with a port from 0 (any free port) to 65535", s);
        return -1;
    }
    const char *h = s;
    size_t hl = colon ? (size_t)(colon - s) : 0;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0) {
        h = default_host;
        hl = strlen(default_host);
    }
    if (hl >= hostlen) {
        snprintf(err, errlen, "'%s': host too long", s);
        return -1;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    return 0;
}

/* RFC 3986 5.2.4 on path[0..n) (no query), written to out. Returns the length. */
static size_t remove_dots(const char *in, size_t n, char *out)
{
    size_t o = 0, i = 0;
    while (i < n) {
        const char *s = in + i;
        size_t left = n - i;
        if (left >= 3 && memcmp(s, "../", 3) == 0) {
            i += 3;
        } else if (left >= 2 && memcmp(s, "./", 2) == 0) {
            i += 2;
        } else if ((left >= 3 && memcmp(s, "/./", 3) == 0) || (left == 2 && memcmp(s, "/.", 2) == 0)) {
            i += 2;
            if (left == 2)
                out[o++] = '/';
            else
                continue;
        } else if ((left >= 4 && memcmp(s, "/../", 4) == 0) || (left == 3 && memcmp(s, "/..", 3) == 0)) {
            i += 3;
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
            if (left == 3)
                out[o++] = '/';
        } else if ((left == 1 && s[0] == '.') || (left == 2 && memcmp(s, "..", 2) == 0)) {
            i = n;
        } else {
            size_t k = s[0] == '/' ? 1 : 0;
            while (k < left && s[k] != '/')
                k++;
            memcpy(out + o, s, k);
            o += k;
            i += k;
        }
    }
    return o;
}

/* strcspn within s[0..n): ref is a slice of a response header, not a string. */
static size_t span(const char *s, size_t n, const char *stop)
{
    size_t i = 0;
    while (i < n && !strchr(stop, s[i]))
        i++;
    return i;
}

long url_resolve(const char *base, const char *ref, size_t ref_len, char *out, size_t outlen)
{
    url_t b;
    char err[8];
    if (url_parse(base, &b, err, sizeof err) != 0)
        return -1;
    size_t rl = ref_len;
    const char *hash = memchr(ref, '#', rl);
    if (hash)
        rl = (size_t)(hash - ref);
    /* Absolute: taken as is (only http and https are URLs this program can follow). */
    if (rl >= 7 && (strncasecmp(ref, "http://", 7) == 0 || (rl >= 8 && strncasecmp(ref, "https://", 8) == 0))) {
        if (rl >= outlen)
            return -1;
        memcpy(out, ref, rl);
        out[rl] = '\0';
        return (long)rl;
    }
    size_t colon = span(ref, rl, ":/?#");
    if (colon < rl && ref[colon] == ':')
        return -1; /* another scheme (mailto:, ftp:...) */
    int n;
    if (rl >= 2 && ref[0] == '/' && ref[1] == '/')
        n = snprintf(out, outlen, "%s:%.*s", b.scheme, (int)rl, ref);
    else {
        char origin[300];
        url_origin(&b, origin, sizeof origin);
        const char *bpath = b.path[0] == '/' ? b.path : "/";
        size_t bplen = strcspn(bpath, "?#");
        /* The merged path before dot removal, then its query. */
        size_t cap = bplen + rl + 2;
        char *merged = malloc(cap), *clean = malloc(cap + 1);
        if (!merged || !clean) {
            free(merged);
            free(clean);
            return -1;
        }
        size_t ml = 0;
        const char *query = "";
        size_t qlen = 0;
        if (rl == 0 || ref[0] == '?') {
            memcpy(merged, bpath, bplen);
            ml = bplen;
            query = rl ? ref : bpath + bplen;
            qlen = rl ? rl : strcspn(bpath + bplen, "#");
        } else {
            size_t rp = span(ref, rl, "?");
            if (ref[0] != '/') {
                size_t dir = bplen;
                while (dir > 0 && bpath[dir - 1] != '/')
                    dir--;
                memcpy(merged, bpath, dir);
                ml = dir;
            }
            memcpy(merged + ml, ref, rp);
            ml += rp;
            query = ref + rp;
            qlen = rl - rp;
        }
        size_t cl = remove_dots(merged, ml, clean);
        if (cl == 0 || clean[0] != '/') {
            memmove(clean + 1, clean, cl);
            clean[0] = '/';
            cl++;
        }
        n = snprintf(out, outlen, "%s%.*s%.*s", origin, (int)cl, clean, (int)qlen, query);
        free(merged);
        free(clean);
    }
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

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

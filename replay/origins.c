/* origins: the user's rules for where a run may send requests (see origins.h). */
#include "origins.h"

#include <fnmatch.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct map {
    char *from;         /* pattern (owned) */
    char to[300];       /* "scheme://host[:port]", or "host[:port]" (keeps the scheme) */
    bool to_scheme;
} map_t;

typedef struct pin {
    char host[256];
    unsigned short port;
    struct sockaddr_storage addr;
    socklen_t len;
} pin_t;

struct origins {
    map_t *maps;
    size_t n_maps;
    const char **allow, **only;
    size_t n_allow, n_only;
    pin_t *pins;
    size_t n_pins;
};

origins_t *origins_new(void)
{
    return calloc(1, sizeof(origins_t));
}

void origins_free(origins_t *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n_maps; i++)
        free(o->maps[i].from);
    free(o->maps);
    free(o->allow);
    free(o->only);
    free(o->pins);
    free(o);
}

static void *grow(void *v, size_t n, size_t size)
{
    return realloc(v, (n + 1) * size);
}

/* A pattern: optional scheme, then a non-empty glob without '/'. */
static bool pattern_ok(const char *p)
{
    if (strncasecmp(p, "http://", 7) == 0)
        p += 7;
    else if (strncasecmp(p, "https://", 8) == 0)
        p += 8;
    size_t n = strlen(p);
    if (n && p[n - 1] == '/')
        n--;
    return n > 0 && memchr(p, '/', n) == NULL && !strstr(p, "://");
}

bool origins_match(const char *pattern, const url_t *u)
{
    const char *p = pattern;
    if (strncasecmp(p, "http://", 7) == 0) {
        if (u->tls)
            return false;
        p += 7;
    } else if (strncasecmp(p, "https://", 8) == 0) {
        if (!u->tls)
            return false;
        p += 8;
    }
    char pat[310], host[300], hostport[310];
    /* "[v6]" is a literal address, not a glob bracket expression. */
    const char *rb = p[0] == '[' ? strchr(p, ']') : NULL;
    if (rb)
        snprintf(pat, sizeof pat, "\\[%.*s\\]%s", (int)(rb - p - 1), p + 1, rb + 1);
    else
        snprintf(pat, sizeof pat, "%s", p);
    size_t n = strlen(pat);
    if (n && pat[n - 1] == '/')
        pat[n - 1] = '\0';
    snprintf(host, sizeof host, u->ipv6 ? "[%s]" : "%s", u->host);
    snprintf(hostport, sizeof hostport, "%s:%u", host, u->port);
    return fnmatch(pat, host, FNM_CASEFOLD) == 0 || fnmatch(pat, hostport, FNM_CASEFOLD) == 0;
}

int origins_add_map(origins_t *o, const char *spec, char *err, size_t errlen)
{
    const char *eq = strchr(spec, '=');
    map_t m = {0};
    char from[300];
    if (!eq || (size_t)(eq - spec) >= sizeof from || !eq[1])
        goto bad;
    memcpy(from, spec, (size_t)(eq - spec));
    from[eq - spec] = '\0';
    if (!pattern_ok(from))
        goto bad;
    const char *to = eq + 1;
    m.to_scheme = strstr(to, "://") != NULL;
    char probe[320], perr[200];
    snprintf(probe, sizeof probe, "%s%s", m.to_scheme ? "" : "http://", to);
    url_t tu;
    size_t tl = strlen(to);
    if (tl >= sizeof m.to || url_parse(probe, &tu, perr, sizeof perr) != 0 ||
        strcmp(tu.path, "/") != 0)
        goto bad;
    if (strpbrk(tu.host, "*?["))
        goto bad;
    memcpy(m.to, to, tl + 1);
    if (tl && m.to[tl - 1] == '/')
        m.to[tl - 1] = '\0';
    map_t *v = grow(o->maps, o->n_maps, sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    o->maps = v;
    v[o->n_maps] = m;
    char *f = strdup(from);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    v[o->n_maps++].from = f;
    return 0;
bad:
    snprintf(err, errlen,
             "--map-host '%s': expected FROM=TO, FROM a host pattern ([http(s)://]HOST[:PORT], "
             "globs allowed) and TO an origin ([http(s)://]HOST[:PORT], e.g. http://127.0.0.1:8080)",
             spec);
    return -1;
}

static int add_pattern(const char ***v, size_t *n, const char *opt, const char *p, char *err,
                       size_t errlen)
{
    if (!pattern_ok(p)) {
        snprintf(err, errlen, "%s '%s': expected a host pattern: [http(s)://]HOST[:PORT], globs "
                 "allowed (e.g. '*.example.com', '127.0.0.1:8080')", opt, p);
        return -1;
    }
    const char **nv = grow(*v, *n, sizeof *nv);
    if (!nv) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *v = nv;
    nv[(*n)++] = p;
    return 0;
}

int origins_add_allow(origins_t *o, const char *pattern, char *err, size_t errlen)
{
    return add_pattern(&o->allow, &o->n_allow, "--allow-host", pattern, err, errlen);
}

int origins_add_only(origins_t *o, const char *pattern, char *err, size_t errlen)
{
    return add_pattern(&o->only, &o->n_only, "--only-host", pattern, err, errlen);
}

int origins_add_pin(origins_t *o, const char *spec, char *err, size_t errlen)
{
    pin_t p = {0};
    const char *c1 = strchr(spec, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    char port[8], addr[64];
    if (!c1 || !c2 || c1 == spec || (size_t)(c1 - spec) >= sizeof p.host ||
        (size_t)(c2 - c1 - 1) >= sizeof port || c2 == c1 + 1)
        goto bad;
    memcpy(p.host, spec, (size_t)(c1 - spec));
    memcpy(port, c1 + 1, (size_t)(c2 - c1 - 1));
    port[c2 - c1 - 1] = '\0';
    char *end;
    unsigned long pv = strtoul(port, &end, 10);
    if (*end || pv == 0 || pv > 65535 || port[0] < '0' || port[0] > '9')
        goto bad;
    p.port = (unsigned short)pv;
    const char *a = c2 + 1;
    size_t al = strlen(a);
    if (al >= 2 && a[0] == '[' && a[al - 1] == ']')
        a++, al -= 2;
    if (al == 0 || al >= sizeof addr)
        goto bad;
    memcpy(addr, a, al);
    addr[al] = '\0';
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(addr, port, &hints, &res) != 0 || !res)
        goto bad;
    memcpy(&p.addr, res->ai_addr, res->ai_addrlen);
    p.len = res->ai_addrlen;
    freeaddrinfo(res);
    pin_t *v = grow(o->pins, o->n_pins, sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    o->pins = v;
    v[o->n_pins++] = p;
    return 0;
bad:
    snprintf(err, errlen, "--resolve '%s': expected HOST:PORT:ADDR with a numeric address "
             "(e.g. shop.example.com:443:127.0.0.1)", spec);
    return -1;
}

origins_rule_t origins_route(const origins_t *o, const url_t *u, url_t *to)
{
    if (!o)
        return ORIGINS_REFUSE;
    for (size_t i = 0; i < o->n_maps; i++) {
        const map_t *m = &o->maps[i];
        if (!origins_match(m->from, u))
            continue;
        char text[320], err[200];
        snprintf(text, sizeof text, "%s%s%s", m->to_scheme ? "" : u->scheme,
                 m->to_scheme ? "" : "://", m->to);
        if (url_parse(text, to, err, sizeof err) != 0)
            continue; /* checked when added */
        to->path = "/";
        return ORIGINS_MAP;
    }
    for (size_t i = 0; i < o->n_allow; i++)
        if (origins_match(o->allow[i], u))
            return ORIGINS_ALLOW;
    for (size_t i = 0; i < o->n_only; i++)
        if (origins_match(o->only[i], u))
            return ORIGINS_ALLOW;
    return o->n_only ? ORIGINS_DROP : ORIGINS_REFUSE;
}

bool origins_pinned(const origins_t *o, const char *host, unsigned short port,
                    struct sockaddr_storage *addr, socklen_t *len)
{
    for (size_t i = 0; o && i < o->n_pins; i++) {
        if (o->pins[i].port != port || strcasecmp(o->pins[i].host, host) != 0)
            continue;
        memcpy(addr, &o->pins[i].addr, o->pins[i].len);
        *len = o->pins[i].len;
        return true;
    }
    return false;
}

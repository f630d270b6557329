#include "access.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cidr {
    int family;            /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    unsigned bits;
} cidr_t;

typedef struct port_range {
    unsigned lo, hi;
} port_range_t;

struct access {
    cidr_t *clients;
    size_t nclients;
    bool limit_clients;
    port_range_t *ports;
    size_t nports;
    bool any_port;
    char ports_text[256];
};

access_t *access_new(void)
{
    access_t *a = calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    char err[64];
    if (access_connect_ports(a, "80,443", err, sizeof err) != 0) {
        free(a);
        return NULL;
    }
    return a;
}

void access_free(access_t *a)
{
    if (a == NULL)
        return;
    free(a->clients);
    free(a->ports);
    free(a);
}

/* Calls item(a, start, len, err) for each non-empty element of a comma list. */
static int each_item(access_t *a, const char *list, const char *opt,
                     int (*item)(access_t *, const char *, char *, size_t), char *err, size_t errlen)
{
    const char *p = list;
    bool any = false;
    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        char one[128];
        if (n == 0 || n >= sizeof one) {
            snprintf(err, errlen, "%s '%s': %s", opt, list, n == 0 ? "empty item" : "item too long");
            return -1;
        }
        memcpy(one, p, n);
        one[n] = '\0';
        char why[128];
        if (item(a, one, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s '%s': '%s': %s", opt, list, one, why);
            return -1;
        }
        any = true;
        p += n;
        if (*p == ',')
            p++;
    }
    if (!any) {
        snprintf(err, errlen, "%s: expected a comma-separated list", opt);
        return -1;
    }
    return 0;
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
    if (*s < '0' || *s > '9')
        return -1;
    unsigned long v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > max)
            return -1;
    }
    *out = (unsigned)v;
    return 0;
}

static int add_cidr(access_t *a, const char *s, char *why, size_t wlen)
{
    char addr[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    cidr_t c = { 0 };
    if (n >= sizeof addr)
        goto bad;
    memcpy(addr, s, n);
    addr[n] = '\0';
    if (inet_pton(AF_INET, addr, c.addr) == 1)
        c.family = AF_INET;
    else if (inet_pton(AF_INET6, addr, c.addr) == 1)
        c.family = AF_INET6;
    else
        goto bad;
    unsigned max = c.family == AF_INET ? 32 : 128;
    c.bits = max;
    if (slash && parse_uint(slash + 1, max, &c.bits) != 0) {
        snprintf(why, wlen, "expected a prefix length from 0 to %u after '/'", max);
        return -1;
    }
    cidr_t *v = realloc(a->clients, (a->nclients + 1) * sizeof *v);
    if (v == NULL) {
        snprintf(why, wlen, "out of memory");
        return -1;
    }
    a->clients = v;
    v[a->nclients++] = c;
    return 0;
bad:
    snprintf(why, wlen, "expected an IPv4 or IPv6 address with an optional /BITS");
    return -1;
}

int access_allow_clients(access_t *a, const char *list, char *err, size_t errlen)
{
    a->limit_clients = true;
    return each_item(a, list, "--allow-clients", add_cidr, err, errlen);
}

bool access_limits_clients(const access_t *a) { return a->limit_clients; }

/* The address of sa as family and bytes; IPv4-mapped IPv6 becomes IPv4. */
static int addr_of(const struct sockaddr *sa, uint8_t out[16])
{
    if (sa->sa_family == AF_INET) {
        memcpy(out, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return AF_INET;
    }
    if (sa->sa_family != AF_INET6)
        return -1;
    const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(a6)) {
        memcpy(out, a6->s6_addr + 12, 4);
        return AF_INET;
    }
    memcpy(out, a6->s6_addr, 16);
    return AF_INET6;
}

static bool in_cidr(const cidr_t *c, int family, const uint8_t *addr)
{
    if (c->family != family)
        return false;
    unsigned full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->addr, addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (c->addr[full] & mask) == (addr[full] & mask);
}

bool access_client_ok(const access_t *a, const struct sockaddr *sa)
{
    if (!a->limit_clients)
        return true;
    uint8_t addr[16];
    int family = addr_of(sa, addr);
    for (size_t i = 0; i < a->nclients; i++)
        if (in_cidr(&a->clients[i], family, addr))
            return true;
    return false;
}

bool access_is_loopback(const struct sockaddr *sa)
{
    uint8_t addr[16];
    int family = addr_of(sa, addr);
    if (family == AF_INET)
        return addr[0] == 127;
    static const uint8_t one[16] = { [15] = 1 };
    return family == AF_INET6 && memcmp(addr, one, 16) == 0;
}

static int add_ports(access_t *a, const char *s, char *why, size_t wlen)
{
    if (strcmp(s, "any") == 0) {
        a->any_port = true;
        return 0;
    }
    char lo[16], *dash = strchr(s, '-');
    size_t n = dash ? (size_t)(dash - s) : strlen(s);
    port_range_t r;
    if (n >= sizeof lo)
        goto bad;
    memcpy(lo, s, n);
    lo[n] = '\0';
    if (parse_uint(lo, 65535, &r.lo) != 0 || r.lo == 0)
        goto bad;
    r.hi = r.lo;
    if (dash && (parse_uint(dash + 1, 65535, &r.hi) != 0 || r.hi < r.lo))
        goto bad;
    port_range_t *v = realloc(a->ports, (a->nports + 1) * sizeof *v);
    if (v == NULL) {
        snprintf(why, wlen, "out of memory");
        return -1;
    }
    a->ports = v;
    v[a->nports++] = r;
    return 0;
bad:
    snprintf(why, wlen, "expected a port from 1 to 65535, a range LOW-HIGH, or 'any'");
    return -1;
}

int access_connect_ports(access_t *a, const char *list, char *err, size_t errlen)
{
    a->nports = 0;
    a->any_port = false;
    if (each_item(a, list, "--connect-ports", add_ports, err, errlen) != 0)
        return -1;
    snprintf(a->ports_text, sizeof a->ports_text, "%s", list);
    return 0;
}

bool access_connect_ok(const access_t *a, const filter_t *f, const char *host, unsigned port)
{
    if (a->any_port)
        return true;
    for (size_t i = 0; i < a->nports; i++)
        if (port >= a->ports[i].lo && port <= a->ports[i].hi)
            return true;
    return f != NULL && filter_names_host(f, host);
}

const char *access_connect_ports_text(const access_t *a) { return a->ports_text; }

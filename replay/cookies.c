/* cookies: a per-user cookie jar after RFC 6265 sections 5.2 to 5.4. */
#include "cookies.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* A jar is bounded like a browser's per-site limit: a misbehaving server
 * cannot grow a user's memory without end. */
#define JAR_MAX 64
/* RFC 6265 6.1 asks for at least 4096 bytes per cookie; browsers stop there. */
#define COOKIE_MAX 4096
#define HOST_MAX 256
#define NO_EXPIRY INT64_MAX

typedef struct cookie {
    char *mem;          /* one block: name \0 value \0 domain \0 path \0 */
    size_t mem_len;
    const char *value, *domain, *path;
    size_t name_len, value_len, path_len;
    int64_t expires;    /* wall seconds; NO_EXPIRY for a session cookie */
    uint64_t created;   /* order of creation, for ties in the Cookie header */
    bool host_only, secure;
} cookie_t;

struct cookie_jar {
    cookie_t *v;        /* allocated on the first cookie */
    size_t n, cap;
    uint64_t clock;
};

cookie_jar_t *cookie_jar_new(void)
{
    return calloc(1, sizeof(cookie_jar_t));
}

static void cookie_drop(cookie_jar_t *j, size_t i)
{
    free(j->v[i].mem);
    j->v[i] = j->v[--j->n];
}

void cookie_jar_free(cookie_jar_t *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->n; i++)
        free(j->v[i].mem);
    free(j->v);
    free(j);
}

size_t cookie_jar_count(const cookie_jar_t *j)
{
    return j ? j->n : 0;
}

size_t cookie_jar_size(const cookie_jar_t *j)
{
    if (!j)
        return 0;
    size_t sz = sizeof(*j) + j->cap * sizeof(cookie_t);
    for (size_t i = 0; i < j->n; i++)
        sz += j->v[i].mem_len;
    return sz;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *len)
{
    while (*len && is_blank(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && is_blank((*s)[*len - 1]))
        (*len)--;
}

int cookie_parse_pair(const char *value, size_t len, const char **name, size_t *name_len,
                      const char **val, size_t *val_len)
{
    const char *semi = memchr(value, ';', len);
    size_t pair = semi ? (size_t)(semi - value) : len;
    const char *eq = memchr(value, '=', pair);
    if (!eq)
        return -1;
    *name = value;
    *name_len = (size_t)(eq - value);
    trim(name, name_len);
    *val = eq + 1;
    *val_len = (size_t)(value + pair - (eq + 1));
    trim(val, val_len);
    return *name_len ? 0 : -1;
}

/* Lower-cased host without port or trailing dot, into out[HOST_MAX]. */
static size_t host_norm(const char *host, char *out)
{
    size_t n = 0;
    const char *end = host + strlen(host);
    if (host[0] == '[') { /* [v6]:port keeps its brackets, drops the port */
        const char *close = strchr(host, ']');
        if (close)
            end = close + 1;
    } else {
        const char *colon = strchr(host, ':');
        if (colon && !strchr(colon + 1, ':'))
            end = colon;
    }
    if (end > host && end[-1] == '.')
        end--;
    for (const char *p = host; p < end && n < HOST_MAX - 1; p++)
        out[n++] = (char)tolower((unsigned char)*p);
    out[n] = '\0';
    return n;
}

static bool is_ip(const char *host)
{
    if (host[0] == '[' || strchr(host, ':'))
        return true;
    return host[strspn(host, "0123456789.")] == '\0';
}

/* RFC 6265 5.1.3: host equals domain, or ends with "." + domain and is a name. */
static bool domain_match(const char *host, const char *domain)
{
    size_t hl = strlen(host), dl = strlen(domain);
    if (hl == dl)
        return strcmp(host, domain) == 0;
    return hl > dl && host[hl - dl - 1] == '.' && strcmp(host + hl - dl, domain) == 0 && !is_ip(host);
}

/* Request path without query or fragment. */
static size_t path_len(const char *path)
{
    return path ? strcspn(path, "?#") : 0;
}

/* RFC 6265 5.1.4 default-path: the request path up to its last '/'. */
static size_t default_path(const char *path, const char **out)
{
    size_t len = path_len(path);
    *out = "/";
    if (len == 0 || path[0] != '/')
        return 1;
    size_t last = len;
    while (last > 0 && path[last - 1] != '/')
        last--;
    if (last <= 1)
        return 1;
    *out = path;
    return last - 1;
}

/* RFC 6265 5.1.4 path-match. */
static bool path_match(const char *req, size_t req_len, const cookie_t *c)
{
    if (req_len < c->path_len || memcmp(req, c->path, c->path_len) != 0)
        return false;
    return req_len == c->path_len || c->path[c->path_len - 1] == '/' || req[c->path_len] == '/';
}

/* Expires in the forms servers send (RFC 1123, RFC 850, asctime). -1 when unparsable. */
static int64_t parse_date(const char *s, size_t len)
{
    static const char *const formats[] = {
        "%a, %d %b %Y %H:%M:%S",
        "%a, %d-%b-%Y %H:%M:%S", /* also RFC 850's "Sunday, 06-Nov-94" (%a takes full names) */
        "%a %b %d %H:%M:%S %Y",
    };
    char buf[64];
    if (len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        struct tm tm = { 0 };
        const char *end = strptime(buf, formats[i], &tm);
        if (!end)
            continue;
        while (is_blank(*end))
            end++;
        if (*end && strcasecmp(end, "GMT") != 0 && strcasecmp(end, "UTC") != 0)
            continue;
        /* RFC 6265 5.1.1: two-digit years 70-99 are 19xx, 00-69 are 20xx. */
        int year = tm.tm_year + 1900;
        if (year >= 0 && year < 70)
            tm.tm_year = year + 100;
        else if (year >= 70 && year < 100)
            tm.tm_year = year;
        return (int64_t)timegm(&tm);
    }
    return -1;
}

static bool parse_max_age(const char *s, size_t len, int64_t now, int64_t *out)
{
    size_t i = (len && s[0] == '-') ? 1 : 0;
    if (i == len)
        return false;
    int64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (v < INT64_MAX / 20)
            v = v * 10 + (s[i] - '0');
    }
    if (s[0] == '-' || v == 0)
        *out = INT64_MIN; /* "expire now" even for a clock at zero */
    else
        *out = v > INT64_MAX - now ? NO_EXPIRY : now + v;
    return true;
}

typedef struct attrs {
    const char *domain, *path;
    size_t domain_len, path_len;
    int64_t expires, max_age;
    bool has_expires, has_max_age, secure;
} attrs_t;

static bool attr_is(const char *k, size_t kl, const char *name)
{
    return kl == strlen(name) && strncasecmp(k, name, kl) == 0;
}

/* The attributes after the first ';' (RFC 6265 5.2); the last of each wins. */
static void parse_attrs(const char *s, size_t len, int64_t now, attrs_t *a)
{
    const char *end = s + len;
    const char *p = memchr(s, ';', len);
    while (p && p < end) {
        p++;
        const char *next = memchr(p, ';', (size_t)(end - p));
        size_t av_len = (size_t)((next ? next : end) - p);
        const char *eq = memchr(p, '=', av_len);
        const char *k = p, *v = eq ? eq + 1 : p + av_len;
        size_t kl = (size_t)((eq ? eq : p + av_len) - p);
        size_t vl = (size_t)(p + av_len - v);
        trim(&k, &kl);
        trim(&v, &vl);
        if (attr_is(k, kl, "expires")) {
            int64_t t = parse_date(v, vl);
            if (t != -1) {
                a->expires = t;
                a->has_expires = true;
            }
        } else if (attr_is(k, kl, "max-age")) {
            if (parse_max_age(v, vl, now, &a->max_age))
                a->has_max_age = true;
        } else if (attr_is(k, kl, "domain")) {
            if (vl && v[0] == '.') {
                v++;
                vl--;
            }
            if (vl) {
                a->domain = v;
                a->domain_len = vl;
            }
        } else if (attr_is(k, kl, "path")) {
            a->path = vl && v[0] == '/' ? v : NULL; /* else the default path */
            a->path_len = a->path ? vl : 0;
        } else if (attr_is(k, kl, "secure")) {
            a->secure = true;
        }
        p = next;
    }
}

static int find_cookie(const cookie_jar_t *j, const char *name, size_t nl, const char *domain,
                       const char *path, size_t pl)
{
    for (size_t i = 0; i < j->n; i++) {
        const cookie_t *c = &j->v[i];
        if (c->name_len == nl && memcmp(c->mem, name, nl) == 0 && strcmp(c->domain, domain) == 0 &&
            c->path_len == pl && memcmp(c->path, path, pl) == 0)
            return (int)i;
    }
    return -1;
}

/* Room for one more cookie: expired ones go first, then the oldest. */
static int make_room(cookie_jar_t *j, int64_t now)
{
    for (size_t i = 0; i < j->n;) {
        if (j->v[i].expires <= now)
            cookie_drop(j, i);
        else
            i++;
    }
    if (j->n == JAR_MAX) {
        size_t oldest = 0;
        for (size_t i = 1; i < j->n; i++)
            if (j->v[i].created < j->v[oldest].created)
                oldest = i;
        cookie_drop(j, oldest);
    }
    if (j->n == j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 4;
        cookie_t *v = realloc(j->v, cap * sizeof(*v));
        if (!v)
            return -1;
        j->v = v;
        j->cap = cap;
    }
    return 0;
}

static char *put(char *dst, const char *src, size_t len)
{
    memcpy(dst, src, len);
    dst[len] = '\0';
    return dst + len + 1;
}

void cookie_jar_set(cookie_jar_t *j, const char *value, size_t len, const char *host,
                    const char *path, bool tls, int64_t now_s)
{
    const char *name, *val;
    size_t nl, vl;
    if (cookie_parse_pair(value, len, &name, &nl, &val, &vl) < 0 || nl + vl > COOKIE_MAX)
        return;
    attrs_t a = { 0 };
    parse_attrs(value, len, now_s, &a);
    /* RFC 6265bis 5.4 step 8: a plain-http response may not set Secure cookies. */
    if (a.secure && !tls)
        return;

    char hbuf[HOST_MAX], dbuf[HOST_MAX];
    host_norm(host, hbuf);
    const char *domain = hbuf;
    if (a.domain) {
        if (a.domain_len >= HOST_MAX)
            return;
        for (size_t i = 0; i < a.domain_len; i++)
            dbuf[i] = (char)tolower((unsigned char)a.domain[i]);
        dbuf[a.domain_len] = '\0';
        if (!domain_match(hbuf, dbuf))
            return; /* a server may not set cookies for another site */
        domain = dbuf;
    }
    const char *cpath = a.path;
    size_t pl = a.path_len;
    if (!cpath)
        pl = default_path(path, &cpath);

    int64_t expires = a.has_max_age ? a.max_age : a.has_expires ? a.expires : NO_EXPIRY;
    uint64_t created = j->clock++;
    int old = find_cookie(j, name, nl, domain, cpath, pl);
    if (old >= 0) {
        created = j->v[old].created; /* a replaced cookie keeps its place */
        cookie_drop(j, (size_t)old);
    }
    if (expires <= now_s)
        return; /* deletion */
    if (make_room(j, now_s) < 0)
        return;

    size_t dl = strlen(domain);
    size_t mem_len = nl + vl + dl + pl + 4;
    char *mem = malloc(mem_len);
    if (!mem)
        return;
    cookie_t *c = &j->v[j->n++];
    *c = (cookie_t){ .mem = mem, .mem_len = mem_len, .name_len = nl, .value_len = vl,
                     .path_len = pl, .expires = expires, .created = created,
                     .host_only = a.domain == NULL, .secure = a.secure };
    char *p = put(mem, name, nl);
    c->value = p;
    p = put(p, val, vl);
    c->domain = p;
    p = put(p, domain, dl);
    c->path = p;
    put(p, cpath, pl);
}

/* Appends s to buf at *at, cutting at cap, counting the full length. */
static void emit(char *buf, size_t cap, size_t *at, const char *s, size_t len)
{
    if (*at + 1 < cap) {
        size_t room = cap - 1 - *at;
        memcpy(buf + *at, s, len < room ? len : room);
    }
    *at += len;
}

size_t cookie_jar_header(const cookie_jar_t *j, const char *host, const char *path, bool tls,
                         int64_t now_s, char *buf, size_t cap)
{
    size_t out = 0;
    if (cap > 0)
        buf[0] = '\0';
    if (!j || j->n == 0)
        return 0;
    char hbuf[HOST_MAX];
    host_norm(host, hbuf);
    size_t rl = path_len(path);
    const char *req = rl ? path : "/";
    if (!rl)
        rl = 1;

    const cookie_t *pick[JAR_MAX];
    size_t n = 0;
    for (size_t i = 0; i < j->n; i++) {
        const cookie_t *c = &j->v[i];
        if (c->expires <= now_s || (c->secure && !tls))
            continue;
        if (c->host_only ? strcmp(hbuf, c->domain) != 0 : !domain_match(hbuf, c->domain))
            continue;
        if (!path_match(req, rl, c))
            continue;
        /* RFC 6265 5.4 step 2: longer paths first, then earlier creation. */
        size_t k = n++;
        while (k > 0 && (pick[k - 1]->path_len < c->path_len ||
                         (pick[k - 1]->path_len == c->path_len && pick[k - 1]->created > c->created))) {
            pick[k] = pick[k - 1];
            k--;
        }
        pick[k] = c;
    }
    for (size_t i = 0; i < n; i++) {
        if (i)
            emit(buf, cap, &out, "; ", 2);
        emit(buf, cap, &out, pick[i]->mem, pick[i]->name_len);
        emit(buf, cap, &out, "=", 1);
        emit(buf, cap, &out, pick[i]->value, pick[i]->value_len);
    }
    if (cap > 0)
        buf[out < cap ? out : cap - 1] = '\0';
    return out;
}

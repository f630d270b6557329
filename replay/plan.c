/* plan: compile a scenario once, before threads start (see plan.h). */
#include "plan.h"

#include "grpc.h"
#include "jsonpath.h"

#include "log.h"

#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Where in the scenario a compile error is, for messages. */
typedef struct where {
    const char *cls, *section;
    size_t step, req;
} where_t;

typedef struct compile {
    plan_t *p;
    const plan_opts_t *o;
    const char *base_dir;
    url_t host;           /* --host, parsed */
    int dflt_listing;     /* listing entry of relative URLs (hosts[0] or --host); -1: none */
    char *err;
    size_t errlen;
    where_t at;
} compile_t;

static int fail_at(compile_t *cc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail_at(compile_t *cc, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(cc->err, cc->errlen, "class '%s' %s step %zu request %zu: %s", cc->at.cls,
             cc->at.section, cc->at.step, cc->at.req, what);
    return -1;
}

bool plan_same_origin(const url_t *a, const url_t *b)
{
    return a->tls == b->tls && a->port == b->port && strcasecmp(a->host, b->host) == 0;
}

const char *plan_route_name(plan_route_t r)
{
    static const char *const names[] = {"unused", "named", "mapped", "allowed", "dropped", "refused"};
    return (unsigned)r < sizeof names / sizeof *names ? names[r] : "?";
}

static void origin_fill(plan_origin_t *o, const url_t *to, const url_t *from)
{
    memset(o, 0, sizeof *o);
    o->url = *to;
    o->url.path = "/";
    o->from = *from;
    o->from.path = "/";
    url_origin(&o->url, o->origin, sizeof o->origin);
    o->host_hdr_len = url_host_header(&o->url, o->host_hdr, sizeof o->host_hdr);
}

/* The address of o without a name lookup: --resolve, or a numeric host. */
static bool origin_addr_now(const origins_t *rules, plan_origin_t *o)
{
    if (origins_pinned(rules, o->url.host, o->url.port, &o->addr, &o->addr_len))
        return true;
    char port[8];
    snprintf(port, sizeof port, "%u", o->url.port);
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(o->url.host, port, &hints, &res) != 0 || !res)
        return false;
    memcpy(&o->addr, res->ai_addr, res->ai_addrlen);
    o->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    return true;
}

/* Blocking lookup: the main thread, before the run. */
static int origin_resolve(const origins_t *rules, plan_origin_t *o, char *err, size_t errlen)
{
    if (origin_addr_now(rules, o))
        return 0;
    char port[8];
    snprintf(port, sizeof port, "%u", o->url.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(o->url.host, port, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "%s: cannot resolve host '%s': %s (pin an address with --resolve "
                 "%s:%u:ADDR)", o->origin, o->url.host, gai_strerror(rc), o->url.host, o->url.port);
        return -1;
    }
    memcpy(&o->addr, res->ai_addr, res->ai_addrlen);
    o->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

int plan_origin_init(plan_origin_t *o, const char *url, char *err, size_t errlen)
{
    url_t u;
    if (url_parse(url, &u, err, errlen) != 0)
        return -1;
    origin_fill(o, &u, &u);
    return origin_resolve(NULL, o, err, errlen);
}

static int listing_find(const plan_t *p, const url_t *u)
{
    for (size_t i = 0; i < p->n_listing; i++)
        if (plan_same_origin(&p->listing[i].url, u))
            return (int)i;
    return -1;
}

int plan_origin_find(const plan_t *p, const url_t *u)
{
    int l = listing_find(p, u);
    if (l >= 0)
        return p->listing[l].index;
    for (size_t i = 0; i < p->n_origins; i++)
        if (plan_same_origin(&p->origins[i].url, u))
            return (int)i;
    return -1;
}

struct plan_seen {
    pthread_mutex_t mu;
    char (*names)[300];
    size_t n, cap;
};

/* Called once per thread and refused origin: rare, so a lock is fine. */
static void seen_add(struct plan_seen *s, const char *name)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    size_t i = 0;
    while (i < s->n && strcmp(s->names[i], name) != 0)
        i++;
    if (i == s->n && s->n < 1000) {
        if (s->n == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 8;
            char(*v)[300] = realloc(s->names, cap * sizeof *v);
            if (v)
                s->names = v, s->cap = cap;
        }
        if (s->n < s->cap)
            snprintf(s->names[s->n++], sizeof s->names[0], "%s", name);
    }
    pthread_mutex_unlock(&s->mu);
}

size_t plan_refused_at_run_time(const plan_t *p, char (*out)[300], size_t n)
{
    struct plan_seen *s = p->seen;
    if (!s)
        return 0;
    pthread_mutex_lock(&s->mu);
    size_t all = s->n;
    for (size_t i = 0; i < n && i < all; i++)
        memcpy(out[i], s->names[i], sizeof out[i]);
    pthread_mutex_unlock(&s->mu);
    return all;
}

int plan_origin_runtime(const plan_t *p, const url_t *u, plan_origin_t *o, char *err,
                        size_t errlen)
{
    url_t to;
    origins_rule_t rule = origins_route(p->rules, u, &to);
    origin_fill(o, rule == ORIGINS_MAP ? &to : u, u);
    if (rule == ORIGINS_REFUSE || rule == ORIGINS_DROP) {
        char name[300];
        url_origin(u, name, sizeof name);
        o->refused = true;
        seen_add(p->seen, name);
        snprintf(err, errlen, "%s: met at run time and not named by --host, --map-host, "
                 "--allow-host or --only-host: its requests fail as 'origin' and are not sent", name);
        return -1;
    }
    origin_addr_now(p->rules, o); /* else the connection looks the name up (evdns) */
    return 0;
}

void plan_origin_force(const plan_t *p, plan_origin_t *o)
{
    switch (p->force_proto) {
    case SCN_PROTO_H1:
        o->proto = SCN_PROTO_H1;
        break;
    case SCN_PROTO_H2:
        o->proto = o->url.tls ? SCN_PROTO_H2 : SCN_PROTO_H2C;
        break;
    case SCN_PROTO_H2C:
        if (!o->url.tls)
            o->proto = SCN_PROTO_H2C;
        break;
    default:
        break;
    }
}

void plan_force_proto(plan_t *p, scn_proto_t force)
{
    p->force_proto = force;
    for (size_t i = 0; i < p->n_origins; i++)
        plan_origin_force(p, &p->origins[i]);
}

/* ---- origins: a survey of the scenario, then a decision per origin */

/* The origin part of an absolute URL ("scheme://authority"), or 0 when url is
 * relative or its origin is a template. */
static size_t origin_len(const char *url)
{
    size_t ast;
    if (scn_url_is_asterisk(url, &ast))
        return ast; /* "http://h:1*": the origin before the asterisk-form */
    const char *sep = strstr(url, "://");
    if (url[0] == '/' || url[0] == '{' || !sep)
        return 0;
    const char *path = sep + 3 + strcspn(sep + 3, "/?#");
    size_t n = (size_t)(path - url);
    return memmem(url, n, "{{", 2) ? 0 : n;
}

/* Listing entry of origin text t[0..n) (parsed), added when new. -1 with err. */
static int listing_intern(compile_t *cc, const char *t, size_t n, char *err, size_t errlen)
{
    plan_t *p = cc->p;
    char text[300];
    if (n >= sizeof text) {
        snprintf(err, errlen, "origin too long");
        return -1;
    }
    memcpy(text, t, n);
    text[n] = '\0';
    url_t u;
    if (url_parse(text, &u, err, errlen) != 0)
        return -1;
    int i = listing_find(p, &u);
    if (i >= 0)
        return i;
    plan_listing_t *v = realloc(p->listing, (p->n_listing + 1) * sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->listing = v;
    plan_listing_t *l = &v[p->n_listing];
    memset(l, 0, sizeof *l);
    l->url = u;
    l->url.path = "/";
    url_origin(&l->url, l->origin, sizeof l->origin);
    l->index = -1;
    return (int)p->n_listing++;
}

char *plan_ws_http_url(const char *ws_url)
{
    char *u = NULL;
    if (strncmp(ws_url, "ws://", 5) == 0) {
        if (asprintf(&u, "http://%s", ws_url + 5) < 0)
            u = NULL;
    } else if (strncmp(ws_url, "wss://", 6) == 0) {
        if (asprintf(&u, "https://%s", ws_url + 6) < 0)
            u = NULL;
    } else {
        u = strdup(ws_url);
    }
    return u;
}

static int survey_steps(compile_t *cc, const scn_steps_t *in, const char *section)
{
    cc->at.section = section;
    for (size_t s = 0; s < in->n; s++) {
        cc->at.step = s;
        const scn_step_t *step = &in->v[s];
        char *ws_url = step->ws ? plan_ws_http_url(step->ws->url) : NULL;
        if (step->ws && !ws_url)
            return fail_at(cc, "out of memory");
        size_t n_urls = step->ws ? 1 : step->n_requests;
        for (size_t i = 0; i < n_urls; i++) {
            const char *url = ws_url ? ws_url : step->requests[i].url;
            cc->at.req = i;
            int l;
            size_t n = origin_len(url);
            if (url[0] == '/' || strcmp(url, "*") == 0) {
                if (cc->dflt_listing < 0) {
                    fail_at(cc, "url '%s' is relative but the scenario has no host: give --host", url);
                    free(ws_url);
                    return -1;
                }
                l = cc->dflt_listing;
            } else if (n) {
                char err[300];
                if ((l = listing_intern(cc, url, n, err, sizeof err)) < 0) {
                    fail_at(cc, "url: %s", err);
                    free(ws_url);
                    return -1;
                }
            } else if (url[0] == '{' || (strstr(url, "://") && !n)) {
                cc->p->n_runtime++; /* decided per request at run time */
                continue;
            } else {
                free(ws_url);
                return fail_at(cc, "url '%s': expected http(s)://..., a path starting with /, "
                               "or a {{template}}", url);
            }
            cc->p->listing[l].requests++;
        }
        free(ws_url);
    }
    return 0;
}

/* Adds the plan origin requests of listing entry l go to (to), or finds it. */
static int origin_add(compile_t *cc, const url_t *to, const url_t *from, scn_proto_t proto)
{
    plan_t *p = cc->p;
    for (size_t i = 0; i < p->n_origins; i++)
        if (plan_same_origin(&p->origins[i].url, to))
            return (int)i;
    plan_origin_t *v = realloc(p->origins, (p->n_origins + 1) * sizeof *v);
    if (!v) {
        snprintf(cc->err, cc->errlen, "out of memory");
        return -1;
    }
    p->origins = v;
    plan_origin_t *o = &v[p->n_origins];
    origin_fill(o, to, from);
    o->proto = proto;
    if (!cc->o->no_resolve && origin_resolve(cc->o->rules, o, cc->err, cc->errlen) != 0)
        return -1;
    if (cc->o->no_resolve)
        origin_addr_now(cc->o->rules, o);
    p->any_tls |= o->url.tls;
    return (int)p->n_origins++;
}

/* The proto the scenario gives origin u in hosts (AUTO when not listed). */
static scn_proto_t hosts_proto(const scn_scenario_t *s, const url_t *u)
{
    for (size_t i = 0; i < s->n_hosts; i++) {
        url_t h;
        char err[200];
        if (url_parse(s->hosts[i].base_url, &h, err, sizeof err) == 0 && plan_same_origin(&h, u))
            return s->hosts[i].proto;
    }
    return SCN_PROTO_AUTO;
}

static void print_listing(const plan_t *p, FILE *f)
{
    size_t used = 0;
    for (size_t i = 0; i < p->n_listing; i++)
        used += p->listing[i].route != PLAN_UNUSED;
    fprintf(f, "origins: %zu in the scenario (%zu with requests)", p->n_listing, used);
    if (p->n_runtime)
        fprintf(f, ", and %u request(s) whose origin a template decides at run time", p->n_runtime);
    fputc('\n', f);
    for (size_t i = 0; i < p->n_listing; i++) {
        const plan_listing_t *l = &p->listing[i];
        fprintf(f, "  %-40s %6u request(s)  %s", l->origin, l->requests, plan_route_name(l->route));
        if (l->index >= 0 && strcmp(p->origins[l->index].origin, l->origin) != 0)
            fprintf(f, " -> %s", p->origins[l->index].origin);
        if (l->route == PLAN_DROPPED)
            fputs(" (--only-host: not sent)", f);
        if (l->route == PLAN_REFUSED)
            fputs(" (named by no option)", f);
        if (l->route == PLAN_UNUSED)
            fputs(" (listed in hosts, no request goes there)", f);
        fputc('\n', f);
    }
}

static int refuse(compile_t *cc, size_t n_refused, size_t used)
{
    plan_t *p = cc->p;
    print_listing(p, cc->o->listing ? cc->o->listing : stderr);
    int n = snprintf(cc->err, cc->errlen, "%zu of %zu origins named by no option: ", n_refused, used);
    size_t k = 0;
    for (size_t i = 0; i < p->n_listing && n >= 0 && (size_t)n < cc->errlen; i++) {
        if (p->listing[i].route != PLAN_REFUSED)
            continue;
        if (k == 8 || (size_t)n + strlen(p->listing[i].origin) + 80 > cc->errlen / 2) {
            n += snprintf(cc->err + n, cc->errlen - (size_t)n, " and %zu more (listed above)",
                          n_refused - k);
            break;
        }
        n += snprintf(cc->err + n, cc->errlen - (size_t)n, "%s%s", k ? ", " : "", p->listing[i].origin);
        k++;
    }
    if (n >= 0 && (size_t)n < cc->errlen)
        snprintf(cc->err + n, cc->errlen - (size_t)n,
                 "; %smap them to a test server with --map-host FROM=TO, allow them as they are "
                 "with --allow-host PATTERN, or leave their requests out with --only-host PATTERN "
                 "(load never goes to a host the command line does not name)",
                 cc->o->host ? "" : "name the main one with --host URL, ");
    return -1;
}

/* What the run does with each origin the scenario names; origins[0] is the
 * default for relative URLs. No name is looked up before every origin passed. */
static int decide(compile_t *cc)
{
    plan_t *p = cc->p;
    size_t used = 0, n_refused = 0;
    /* The default origin is in use without requests of its own when --host
     * names it or templated URLs may expand to paths. */
    bool dflt_used = cc->o->host || p->n_runtime;
    for (size_t i = 0; i < p->n_listing; i++)
        used += p->listing[i].requests > 0 || ((int)i == cc->dflt_listing && dflt_used);
    for (size_t i = 0; i < p->n_listing; i++) {
        plan_listing_t *l = &p->listing[i];
        url_t to;
        if (l->requests == 0 && !((int)i == cc->dflt_listing && dflt_used)) {
            l->route = PLAN_UNUSED;
            continue;
        }
        if (cc->o->host && ((int)i == cc->dflt_listing || plan_same_origin(&l->url, &cc->host)))
            l->route = PLAN_NAMED;
        else switch (origins_route(cc->o->rules, &l->url, &to)) {
            case ORIGINS_MAP: l->route = PLAN_MAPPED; break;
            case ORIGINS_ALLOW: l->route = PLAN_ALLOWED; break;
            case ORIGINS_DROP: l->route = PLAN_DROPPED; break;
            default: l->route = !cc->o->host && used == 1 ? PLAN_NAMED : PLAN_REFUSED; break;
        }
        n_refused += l->route == PLAN_REFUSED;
    }
    if (n_refused)
        return refuse(cc, n_refused, used);
    /* The default origin first: relative URLs go to origins[0]. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < p->n_listing; i++) {
            plan_listing_t *l = &p->listing[i];
            if ((pass == 0) != ((int)i == cc->dflt_listing) || l->route == PLAN_UNUSED ||
                l->route == PLAN_DROPPED)
                continue;
            url_t to = l->url;
            scn_proto_t proto = hosts_proto(p->scn, &l->url);
            if (l->route == PLAN_NAMED && cc->o->host) {
                to = cc->host;
            } else if (l->route == PLAN_MAPPED) {
                origins_route(cc->o->rules, &l->url, &to);
                if (to.tls != l->url.tls)
                    proto = SCN_PROTO_AUTO; /* h2c or h2-over-TLS no longer fits */
            }
            if ((l->index = origin_add(cc, &to, &l->url, proto)) < 0)
                return -1;
            if ((int)i == cc->dflt_listing)
                p->dflt = l->index;
        }
    }
    if (cc->o->listing)
        print_listing(p, cc->o->listing);
    return 0;
}

static int compile_origins(compile_t *cc)
{
    plan_t *p = cc->p;
    const scn_scenario_t *s = p->scn;
    char err[300];
    cc->at = (where_t){.cls = "-", .section = "hosts"};
    cc->dflt_listing = -1;
    if (cc->o->host && url_parse(cc->o->host, &cc->host, err, sizeof err) != 0) {
        snprintf(cc->err, cc->errlen, "--host: %s", err);
        return -1;
    }
    for (size_t i = 0; i < s->n_hosts; i++) {
        int l = listing_intern(cc, s->hosts[i].base_url, strlen(s->hosts[i].base_url), err, sizeof err);
        if (l < 0) {
            snprintf(cc->err, cc->errlen, "hosts[%zu]: %s", i, err);
            return -1;
        }
        if (i == 0)
            cc->dflt_listing = l;
    }
    if (s->n_hosts == 0 && cc->o->host) {
        char text[300];
        url_origin(&cc->host, text, sizeof text);
        if ((cc->dflt_listing = listing_intern(cc, text, strlen(text), err, sizeof err)) < 0) {
            snprintf(cc->err, cc->errlen, "--host: %s", err);
            return -1;
        }
    }
    for (size_t c = 0; c < s->n_classes; c++) {
        cc->at = (where_t){.cls = s->classes[c].name};
        if (survey_steps(cc, &s->classes[c].on_start, "on_start") != 0 ||
            survey_steps(cc, &s->classes[c].tasks, "tasks") != 0 ||
            survey_steps(cc, &s->classes[c].on_stop, "on_stop") != 0)
            return -1;
    }
    return decide(cc);
}

static bool skipped_header(const char *name)
{
    /* The engine writes Host and the length itself; hop-by-hop headers belong
     * to the recorded connection, not to the request. */
    static const char *const skip[] = {"host", "content-length", "transfer-encoding",
                                       "connection", "keep-alive", "proxy-connection",
                                       "te", "upgrade", "trailer"};
    for (size_t i = 0; i < sizeof skip / sizeof *skip; i++)
        if (strcasecmp(name, skip[i]) == 0)
            return true;
    return false;
}

/* Appends to a heap string. */
typedef struct sb {
    char *p;
    size_t len, cap;
} sb_t;

static int sb_add(sb_t *b, const void *d, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np)
            return -1;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static int sb_str(sb_t *b, const char *s)
{
    return sb_add(b, s, strlen(s));
}

static tpl_t *compile_tpl(compile_t *cc, const char *field, const char *text, size_t len)
{
    char err[200];
    tpl_t *t = tpl_compile(cc->p->symtab, text, len, err, sizeof err);
    if (!t)
        fail_at(cc, "%s: %s", field, err);
    return t;
}

/* Splits the URL into an origin and a path template. Returns 0, 1 when the
 * request is left out (its origin is dropped), or -1. */
static int compile_url(compile_t *cc, plan_req_t *r, const char *url)
{
    plan_t *p = cc->p;
    size_t olen = origin_len(url);
    bool asterisk = scn_url_is_asterisk(url, &olen);
    if (url[0] == '/' || olen || asterisk) {
        const plan_listing_t *l = &p->listing[cc->dflt_listing >= 0 ? cc->dflt_listing : 0];
        if (olen) {
            url_t u;
            char text[300], err[300];
            snprintf(text, sizeof text, "%.*s", (int)olen, url);
            if (url_parse(text, &u, err, sizeof err) != 0 || listing_find(p, &u) < 0)
                return fail_at(cc, "url '%s': origin not surveyed", url);
            l = &p->listing[listing_find(p, &u)];
        }
        if (l->route == PLAN_DROPPED)
            return 1;
        r->origin = l->index;
        const char *path = url + olen;
        sb_t b = {0};
        /* the asterisk-form is sent as "*", never as a path */
        if ((*path != '/' && !asterisk && sb_str(&b, "/") != 0) || sb_str(&b, path) != 0) {
            free(b.p);
            return fail_at(cc, "out of memory");
        }
        r->url = compile_tpl(cc, "url", b.p, b.len);
        free(b.p);
        return r->url ? 0 : -1;
    }
    /* The origin is a template ("{{location}}", "https://{{api}}/x"): routed
     * per request at run time, under the same rules. */
    r->origin = -1;
    r->url = compile_tpl(cc, "url", url, strlen(url));
    return r->url ? 0 : -1;
}

/* The whole request when nothing is dynamic, so HTTP/1.1 sends it without copying. */
static int prebuild(plan_t *p, plan_req_t *r)
{
    size_t plen = 0, blen = 0;
    const char *path = tpl_literal(r->url, &plen);
    const char *body = r->body ? tpl_literal(r->body, &blen) : "";
    if (r->origin < 0 || !path || !body)
        return 0;
    for (size_t i = 0; i < r->n_hdrs; i++)
        if (!tpl_is_literal(r->hdrs[i].name) || !tpl_is_literal(r->hdrs[i].value))
            return 0;
    const plan_origin_t *o = &p->origins[r->origin];
    sb_t b = {0};
    char len[48] = "";
    if (r->has_body) /* only then: a printf for every request was 2 % of loading a big recording */
        snprintf(len, sizeof len, "Content-Length: %zu\r\n", blen);
    if (sb_str(&b, r->src->method) || sb_str(&b, " ") || sb_add(&b, path, plen) ||
        sb_str(&b, " HTTP/1.1\r\nHost: ") || sb_add(&b, o->host_hdr, o->host_hdr_len) ||
        sb_str(&b, "\r\n"))
        goto oom;
    for (size_t i = 0; i < r->n_hdrs; i++) {
        size_t nl, vl;
        const char *n = tpl_literal(r->hdrs[i].name, &nl), *v = tpl_literal(r->hdrs[i].value, &vl);
        if (sb_add(&b, n, nl) || sb_str(&b, ": ") || sb_add(&b, v, vl) || sb_str(&b, "\r\n"))
            goto oom;
    }
    if (r->has_body && sb_str(&b, len))
        goto oom;
    r->h1_head_len = b.len;
    if (sb_str(&b, "\r\n") || sb_add(&b, body, blen))
        goto oom;
    r->h1_bytes = b.p;
    r->h1_len = b.len;
    return 0;
oom:
    free(b.p);
    return -1;
}

/* Referer and Origin name the page's origin: they follow --host and
 * --map-host, so the test server sees its own origin there. */
static int add_header_value(compile_t *cc, sb_t *h, const char *name, const char *value)
{
    size_t n = origin_len(value);
    if (n && (strcasecmp(name, "referer") == 0 || strcasecmp(name, "origin") == 0)) {
        char text[300], err[200];
        url_t u;
        snprintf(text, sizeof text, "%.*s", (int)n, value);
        int i = url_parse(text, &u, err, sizeof err) == 0 ? plan_origin_find(cc->p, &u) : -1;
        if (i >= 0)
            return sb_str(h, cc->p->origins[i].origin) || sb_str(h, value + n);
    }
    return sb_str(h, value);
}

_Static_assert(offsetof(plan_req_t, h1_len) + sizeof(size_t) <= 64,
               "what every request reads stays in plan_req_t's first cache line");

/* n zeroed requests on a cache line boundary (see plan_req_t); NULL on out of memory. */
static plan_req_t *reqs_new(size_t n)
{
    size_t len = (n ? n : 1) * sizeof(plan_req_t);
    plan_req_t *r = aligned_alloc(64, (len + 63) / 64 * 64);
    return r ? memset(r, 0, len) : NULL;
}

void plan_req_hot(plan_req_t *r)
{
    const scn_request_t *src = r->src;
    r->method = src->method;
    r->method_len = (uint32_t)strlen(src->method);
    r->lit_url = r->url ? tpl_literal(r->url, &r->lit_url_len) : NULL;
    r->follow_redirects = src->follow_redirects;
    r->check_default = src->check.n_statuses == 0 && src->check.n_body_contains == 0;
    r->draws = (r->url && tpl_draws(r->url)) || (r->body && tpl_draws(r->body));
    for (size_t i = 0; i < r->n_hdrs; i++)
        r->draws = r->draws || tpl_draws(r->hdrs[i].name) || tpl_draws(r->hdrs[i].value);
}

/* Returns 0, 1 when the request is left out (--only-host), or -1. */
static int compile_req(compile_t *cc, plan_req_t *r, const scn_request_t *src)
{
    plan_t *p = cc->p;
    int rc = compile_url(cc, r, src->url);
    if (rc != 0)
        return rc;
    r->src = src;
    r->head = strcasecmp(src->method, "HEAD") == 0;
    r->has_body = src->body != NULL || strcasecmp(src->method, "POST") == 0 ||
                  strcasecmp(src->method, "PUT") == 0 || strcasecmp(src->method, "PATCH") == 0;
    r->needs_body = ext_needs_body(src) != 0;
    char *dflt = NULL;
    const char *name = src->name;
    if (!name)
        name = dflt = scn_default_name(src->method, src->url);
    if (!name)
        return fail_at(cc, "out of memory");
    int entry = stats_names_intern(p->names, src->method, name);
    free(dflt);
    if (entry < 0)
        return fail_at(cc, "out of memory");
    r->entry = (uint32_t)entry;

    if (src->n_headers && !(r->hdrs = calloc(src->n_headers, sizeof *r->hdrs)))
        return fail_at(cc, "out of memory");
    for (size_t i = 0; i < src->n_headers; i++) {
        if (skipped_header(src->headers[i].name) &&
            !(strcasecmp(src->headers[i].name, "te") == 0 &&
              strcasecmp(src->headers[i].value, "trailers") == 0))
            continue; /* te: trailers is a request's own (gRPC needs it) */
        if (strcasecmp(src->headers[i].name, "content-type") == 0 &&
            scn_grpc_content_type(src->headers[i].value, strlen(src->headers[i].value)))
            r->grpc = true;
        if (strcasecmp(src->headers[i].name, "te") == 0)
            r->has_te = true;
        plan_header_t *h = &r->hdrs[r->n_hdrs++];
        h->name = compile_tpl(cc, "headers", src->headers[i].name, strlen(src->headers[i].name));
        if (!h->name)
            return -1;
        sb_t v = {0};
        if (add_header_value(cc, &v, src->headers[i].name, src->headers[i].value)) {
            free(v.p);
            return fail_at(cc, "out of memory");
        }
        h->value = compile_tpl(cc, "headers", v.p ? v.p : "", v.len);
        free(v.p);
        if (!h->value)
            return -1;
    }
    if (src->body) {
        r->body = compile_tpl(cc, "body", (const char *)src->body, src->body_len);
        if (!r->body)
            return -1;
    }
    if (src->n_extractors) {
        r->ext = calloc(src->n_extractors, sizeof *r->ext);
        if (!r->ext)
            return fail_at(cc, "out of memory");
        for (size_t i = 0; i < src->n_extractors; i++) {
            char err[200];
            r->ext[i] = ext_compile(&src->extractors[i], p->symtab, err, sizeof err);
            if (!r->ext[i])
                return fail_at(cc, "extractor %zu: %s", i, err);
            r->n_ext++;
        }
    }
    if (prebuild(p, r) != 0)
        return fail_at(cc, "out of memory");
    plan_req_hot(r);
    return 0;
}

static void free_ws(plan_ws_t *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n_msgs; i++) {
        plan_ws_msg_t *m = &w->msgs[i];
        tpl_free(m->data);
        jpath_free(m->match);
        for (size_t e = 0; e < m->n_ext; e++)
            ext_free(m->ext[e]);
        free(m->ext);
    }
    free(w->msgs);
    free(w->hs_src.url);
    free(w->hs_src.name);
    free(w);
}

/* A WebSocket step: the handshake as reqs[0], each message's entry, payload
 * template, match rule and extractors. 0, 1 when left out (--only-host), -1. */
static int compile_ws(compile_t *cc, plan_step_t *ps, const scn_ws_t *src)
{
    plan_ws_t *w = ps->ws = calloc(1, sizeof *ps->ws);
    if (!w || !(ps->reqs = calloc(1, sizeof *ps->reqs)))
        return fail_at(cc, "out of memory");
    w->src = src;
    w->hs_src.method = (char *)"WS";
    w->hs_src.url = plan_ws_http_url(src->url);
    if (!w->hs_src.url || asprintf(&w->hs_src.name, "%s connect", src->name) < 0) {
        w->hs_src.name = NULL;
        return fail_at(cc, "out of memory");
    }
    w->hs_src.headers = src->headers;
    w->hs_src.n_headers = src->n_headers;
    ps->n = 1;
    int rc = compile_req(cc, &ps->reqs[0], &w->hs_src);
    if (rc != 0)
        return rc;
    ps->reqs[0].needs_body = false;
    if (src->n_msgs && !(w->msgs = calloc(src->n_msgs, sizeof *w->msgs)))
        return fail_at(cc, "out of memory");
    for (size_t i = 0; i < src->n_msgs; i++) {
        const scn_ws_msg_t *m = &src->msgs[i];
        plan_ws_msg_t *pm = &w->msgs[w->n_msgs++];
        pm->src = m;
        char *name = NULL;
        if (asprintf(&name, "%s %s", src->name, m->name) < 0)
            return fail_at(cc, "out of memory");
        int e = stats_names_intern(cc->p->names, "WS", name);
        free(name);
        if (e < 0)
            return fail_at(cc, "out of memory");
        pm->entry = (uint32_t)e;
        if (!m->binary && !(pm->data = compile_tpl(cc, "data", m->len ? (const char *)m->data : "", m->len)))
            return -1;
        char err[200];
        if (m->await_json && !(pm->match = jpath_compile(m->await_json, err, sizeof err)))
            return fail_at(cc, "message %zu: await.json: %s", i, err);
        if (m->n_extractors && !(pm->ext = calloc(m->n_extractors, sizeof *pm->ext)))
            return fail_at(cc, "out of memory");
        for (size_t k = 0; k < m->n_extractors; k++) {
            if (!(pm->ext[k] = ext_compile(&m->extractors[k], cc->p->symtab, err, sizeof err)))
                return fail_at(cc, "message %zu: extractor %zu: %s", i, k, err);
            pm->n_ext++;
        }
    }
    return 0;
}

/* plan_step_t.new_conn of a compiled section. */
static int mark_new_conns(compile_t *cc, plan_steps_t *steps)
{
    bool *seen = calloc(cc->p->n_origins ? cc->p->n_origins : 1, sizeof *seen);
    if (!seen)
        return fail_at(cc, "out of memory");
    for (size_t s = 0; s < steps->n; s++) {
        plan_step_t *ps = &steps->v[s];
        if (ps->lua || ps->ws)
            continue; /* connections of their own, never opened ahead */
        ps->new_conn = ps->parallel && ps->n > 1;
        for (size_t i = 0; i < ps->n; i++) {
            int o = ps->reqs[i].origin;
            if (o >= 0 && (size_t)o < cc->p->n_origins && !seen[o])
                seen[o] = ps->new_conn = true;
        }
    }
    free(seen);
    return 0;
}

static int compile_steps(compile_t *cc, plan_steps_t *out, const scn_steps_t *in,
                         const char *section)
{
    cc->at.section = section;
    if (in->n == 0)
        return 0;
    out->v = calloc(in->n, sizeof *out->v);
    if (!out->v)
        return fail_at(cc, "out of memory");
    out->n = in->n;
    for (size_t s = 0; s < in->n; s++) {
        const scn_step_t *st = &in->v[s];
        plan_step_t *ps = &out->v[s];
        cc->at.step = s;
        ps->parallel = st->parallel;
        ps->think_us = st->think_us;
        if (st->lua) {
            ps->lua = st->lua;
            ps->lua_src = calloc(1, sizeof *ps->lua_src);
            ps->reqs = reqs_new(1);
            if (!ps->lua_src || !ps->reqs)
                return fail_at(cc, "out of memory");
            ps->lua_src->name = st->lua;
            ps->lua_src->method = (char *)"LUA";
            ps->lua_src->url = (char *)"/";
            ps->n = 1;
            ps->reqs[0].src = ps->lua_src;
            ps->reqs[0].needs_body = true;
            ps->reqs[0].origin = -1; /* each user:request names its URL */
            ps->reqs[0].entry = stats_names_intern(cc->p->names, "LUA", st->lua);
            plan_req_hot(&ps->reqs[0]);
            continue;
        }
        if (st->ws) {
            cc->at.req = 0;
            int rc = compile_ws(cc, ps, st->ws);
            if (rc < 0)
                return -1;
            if (rc == 1) {
                /* Left out (--only-host): the step does nothing. */
                free_ws(ps->ws);
                ps->ws = NULL;
                ps->n = 0;
                memset(&ps->reqs[0], 0, sizeof ps->reqs[0]);
                cc->p->n_dropped++;
            }
            continue;
        }
        if (st->n_requests == 0)
            continue;
        ps->reqs = reqs_new(st->n_requests);
        if (!ps->reqs)
            return fail_at(cc, "out of memory");
        for (size_t i = 0; i < st->n_requests; i++) {
            cc->at.req = i;
            ps->n++; /* counted before compiling so plan_free sees partial work */
            int rc = compile_req(cc, &ps->reqs[ps->n - 1], &st->requests[i]);
            if (rc < 0)
                return -1;
            if (rc == 1) {
                /* Left out (--only-host): a later request that needs what it
                 * would have extracted renders the variable empty. */
                ps->n--;
                memset(&ps->reqs[ps->n], 0, sizeof ps->reqs[ps->n]);
                cc->p->n_dropped++;
                if (st->requests[i].n_extractors)
                    log_warn("class '%s' %s step %zu request %zu (%s): left out by --only-host, "
                             "its %zu extractor(s) will not run", cc->at.cls, section, s, i,
                             st->requests[i].url, st->requests[i].n_extractors);
            }
        }
    }
    return mark_new_conns(cc, out);
}

static int compile_vars(compile_t *cc)
{
    plan_t *p = cc->p;
    const scn_scenario_t *s = p->scn;
    if (s->n_vars) {
        p->init = calloc(s->n_vars, sizeof *p->init);
        if (!p->init)
            goto oom;
        for (size_t i = 0; i < s->n_vars; i++) {
            int sym = tpl_symtab_intern(p->symtab, s->vars[i].name, strlen(s->vars[i].name));
            if (sym < 0)
                goto oom;
            p->init[p->n_init++] = (plan_init_var_t){sym, s->vars[i].value};
        }
    }
    if (s->n_data) {
        p->csv = calloc(s->n_data, sizeof *p->csv);
        if (!p->csv)
            goto oom;
        for (size_t i = 0; i < s->n_data; i++) {
            p->csv[i] = csvdata_load(&s->data[i], cc->base_dir, p->symtab, cc->err, cc->errlen);
            if (!p->csv[i])
                return -1;
            p->n_csv++;
        }
    }
    return 0;
oom:
    snprintf(cc->err, cc->errlen, "out of memory");
    return -1;
}

plan_t *plan_compile(const scn_scenario_t *scn, const char *host, const char *base_dir,
                     char *err, size_t errlen)
{
    plan_opts_t o = {.host = host};
    return plan_compile_opts(scn, &o, base_dir, err, errlen);
}

/* A class whose tasks lost every request would loop without sending. */
static bool has_requests(const plan_steps_t *st)
{
    for (size_t i = 0; i < st->n; i++)
        if (st->v[i].n)
            return true;
    return false;
}

plan_t *plan_compile_opts(const scn_scenario_t *scn, const plan_opts_t *o, const char *base_dir,
                          char *err, size_t errlen)
{
    plan_t *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    compile_t cc = {.p = p, .o = o, .base_dir = base_dir ? base_dir : ".", .err = err,
                    .errlen = errlen, .dflt_listing = -1};
    p->scn = scn;
    p->rules = o->rules;
    p->dflt = -1;
    p->seen = calloc(1, sizeof *p->seen);
    if (p->seen)
        pthread_mutex_init(&p->seen->mu, NULL);
    p->symtab = tpl_symtab_new();
    p->names = stats_names_new();
    p->classes = calloc(scn->n_classes ? scn->n_classes : 1, sizeof *p->classes);
    p->weights = calloc(scn->n_classes ? scn->n_classes : 1, sizeof *p->weights);
    if (!p->symtab || !p->names || !p->classes || !p->weights) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (scn->n_classes == 0) {
        snprintf(err, errlen, "the scenario has no user class");
        goto fail;
    }
    if (compile_origins(&cc) != 0 || compile_vars(&cc) != 0)
        goto fail;
    for (size_t c = 0; c < scn->n_classes; c++) {
        const scn_class_t *sc = &scn->classes[c];
        plan_class_t *pc = &p->classes[c];
        p->n_classes = c + 1;
        pc->name = sc->name;
        pc->wait = sc->wait;
        p->weights[c] = sc->weight ? sc->weight : 1;
        cc.at = (where_t){.cls = sc->name};
        if (compile_steps(&cc, &pc->on_start, &sc->on_start, "on_start") != 0 ||
            compile_steps(&cc, &pc->tasks, &sc->tasks, "tasks") != 0 ||
            compile_steps(&cc, &pc->on_stop, &sc->on_stop, "on_stop") != 0)
            goto fail;
        if (pc->tasks.n == 0) {
            snprintf(err, errlen, "class '%s': no task steps", sc->name);
            goto fail;
        }
        if (!has_requests(&pc->tasks)) {
            snprintf(err, errlen, "class '%s': --only-host leaves none of its task requests", sc->name);
            goto fail;
        }
    }
    return p;
fail:
    plan_free(p);
    return NULL;
}

static void free_steps(plan_steps_t *st)
{
    for (size_t s = 0; s < st->n; s++) {
        for (size_t i = 0; i < st->v[s].n; i++) {
            plan_req_t *r = &st->v[s].reqs[i];
            tpl_free(r->url);
            for (size_t h = 0; h < r->n_hdrs; h++) {
                tpl_free(r->hdrs[h].name);
                tpl_free(r->hdrs[h].value);
            }
            free(r->hdrs);
            tpl_free(r->body);
            free(r->h1_bytes);
            for (size_t e = 0; e < r->n_ext; e++)
                ext_free(r->ext[e]);
            free(r->ext);
        }
        free(st->v[s].reqs);
        free(st->v[s].lua_src);
        free_ws(st->v[s].ws);
    }
    free(st->v);
}

void plan_free(plan_t *p)
{
    if (!p)
        return;
    for (size_t c = 0; c < p->n_classes; c++) {
        free_steps(&p->classes[c].on_start);
        free_steps(&p->classes[c].tasks);
        free_steps(&p->classes[c].on_stop);
    }
    for (size_t i = 0; i < p->n_csv; i++)
        csvdata_free(p->csv[i]);
    free(p->csv);
    free(p->init);
    free(p->classes);
    free(p->weights);
    free(p->origins);
    free(p->listing);
    if (p->seen) {
        pthread_mutex_destroy(&p->seen->mu);
        free(p->seen->names);
        free(p->seen);
    }
    stats_names_free(p->names);
    tpl_symtab_free(p->symtab);
    free(p);
}

/* plan: compile a scenario once, before threads start (see plan.h). */
#include "plan.h"

#include <netdb.h>
#include <stdarg.h>
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
    const char *base_dir;
    url_t host0;          /* the scenario's hosts[0], which --host replaces */
    bool have_host0;
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

int plan_origin_init(plan_origin_t *o, const char *url, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    if (url_parse(url, &o->url, err, errlen) != 0)
        return -1;
    o->url.path = "/";
    url_origin(&o->url, o->origin, sizeof o->origin);
    o->host_hdr_len = url_host_header(&o->url, o->host_hdr, sizeof o->host_hdr);

    char port[8];
    snprintf(port, sizeof port, "%u", o->url.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(o->url.host, port, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "%s: cannot resolve host '%s': %s", url, o->url.host,
                 gai_strerror(rc));
        return -1;
    }
    memcpy(&o->addr, res->ai_addr, res->ai_addrlen);
    o->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static bool same_origin(const url_t *a, const url_t *b)
{
    return a->tls == b->tls && a->port == b->port && strcasecmp(a->host, b->host) == 0;
}

int plan_origin_find(const plan_t *p, const url_t *u)
{
    for (size_t i = 0; i < p->n_origins; i++)
        if (same_origin(&p->origins[i].url, u))
            return (int)i;
    return -1;
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

/* Index of the origin of absolute URL text origin_url, added when new. */
static int origin_intern(compile_t *cc, const char *origin_url, scn_proto_t proto)
{
    plan_t *p = cc->p;
    plan_origin_t o;
    char err[300];
    if (plan_origin_init(&o, origin_url, err, sizeof err) != 0)
        return fail_at(cc, "url: %s", err), -2;
    if (cc->have_host0 && same_origin(&o.url, &cc->host0))
        return 0;
    int i = plan_origin_find(p, &o.url);
    if (i >= 0)
        return i;
    plan_origin_t *v = realloc(p->origins, (p->n_origins + 1) * sizeof *v);
    if (!v)
        return fail_at(cc, "out of memory"), -2;
    p->origins = v;
    o.proto = proto;
    p->origins[p->n_origins] = o;
    p->any_tls |= o.url.tls;
    return (int)p->n_origins++;
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

/* Splits the URL into an origin and a path template. */
static int compile_url(compile_t *cc, plan_req_t *r, const char *url, scn_proto_t proto)
{
    if (url[0] == '/') {
        if (cc->p->n_origins == 0)
            return fail_at(cc, "url '%s' is relative but the scenario has no host: give --host", url);
        r->origin = 0;
        r->url = compile_tpl(cc, "url", url, strlen(url));
        return r->url ? 0 : -1;
    }
    const char *sep = strstr(url, "://");
    if (!sep)
        return fail_at(cc, "url '%s': expected http(s)://... or a path starting with /", url);
    const char *path = sep + 3 + strcspn(sep + 3, "/?");
    size_t olen = (size_t)(path - url);
    if (memmem(url, olen, "{{", 2)) {
        /* The origin itself is a template: resolved per request. */
        r->origin = -1;
        r->url = compile_tpl(cc, "url", url, strlen(url));
        return r->url ? 0 : -1;
    }
    char origin[300];
    if (olen >= sizeof origin)
        return fail_at(cc, "url '%s': origin too long", url);
    memcpy(origin, url, olen);
    origin[olen] = '\0';
    int oi = origin_intern(cc, origin, proto);
    if (oi < 0)
        return -1;
    r->origin = oi;
    sb_t b = {0};
    if ((*path != '/' && sb_str(&b, "/") != 0) || sb_str(&b, path) != 0) {
        free(b.p);
        return fail_at(cc, "out of memory");
    }
    r->url = compile_tpl(cc, "url", b.p, b.len);
    free(b.p);
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
    char len[48];
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

static int compile_req(compile_t *cc, plan_req_t *r, const scn_request_t *src)
{
    plan_t *p = cc->p;
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
    r->entry = stats_names_intern(p->names, src->method, name);
    free(dflt);

    if (compile_url(cc, r, src->url, SCN_PROTO_AUTO) != 0)
        return -1;

    if (src->n_headers && !(r->hdrs = calloc(src->n_headers, sizeof *r->hdrs)))
        return fail_at(cc, "out of memory");
    for (size_t i = 0; i < src->n_headers; i++) {
        if (skipped_header(src->headers[i].name))
            continue;
        plan_header_t *h = &r->hdrs[r->n_hdrs++];
        h->name = compile_tpl(cc, "headers", src->headers[i].name, strlen(src->headers[i].name));
        if (!h->name)
            return -1;
        h->value = compile_tpl(cc, "headers", src->headers[i].value, strlen(src->headers[i].value));
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
        if (st->n_requests == 0)
            continue;
        ps->reqs = calloc(st->n_requests, sizeof *ps->reqs);
        if (!ps->reqs)
            return fail_at(cc, "out of memory");
        for (size_t i = 0; i < st->n_requests; i++) {
            cc->at.req = i;
            ps->n = i + 1; /* counted before compiling so plan_free sees partial work */
            if (compile_req(cc, &ps->reqs[i], &st->requests[i]) != 0)
                return -1;
        }
    }
    return 0;
}

static int compile_origins(compile_t *cc, const char *host)
{
    const scn_scenario_t *s = cc->p->scn;
    char err[300];
    cc->at = (where_t){.cls = "-", .section = "hosts"};
    if (s->n_hosts > 0) {
        if (url_parse(s->hosts[0].base_url, &cc->host0, err, sizeof err) != 0) {
            snprintf(cc->err, cc->errlen, "hosts[0]: %s", err);
            return -1;
        }
        cc->have_host0 = true;
    }
    const char *first = host ? host : s->n_hosts ? s->hosts[0].base_url : NULL;
    if (first) {
        cc->p->origins = calloc(1, sizeof *cc->p->origins);
        if (!cc->p->origins || plan_origin_init(&cc->p->origins[0], first, err, sizeof err) != 0) {
            snprintf(cc->err, cc->errlen, "%s: %s", host ? "--host" : "hosts[0]",
                     cc->p->origins ? err : "out of memory");
            return -1;
        }
        cc->p->origins[0].proto = s->n_hosts ? s->hosts[0].proto : SCN_PROTO_AUTO;
        cc->p->any_tls = cc->p->origins[0].url.tls;
        cc->p->n_origins = 1;
    }
    for (size_t i = 1; i < s->n_hosts; i++)
        if (origin_intern(cc, s->hosts[i].base_url, s->hosts[i].proto) < 0)
            return -1;
    return 0;
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
    plan_t *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    compile_t cc = {.p = p, .base_dir = base_dir ? base_dir : ".", .err = err, .errlen = errlen};
    p->scn = scn;
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
    if (compile_origins(&cc, host) != 0 || compile_vars(&cc) != 0)
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
    stats_names_free(p->names);
    tpl_symtab_free(p->symtab);
    free(p);
}

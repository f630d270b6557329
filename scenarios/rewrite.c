/* rewrite: rewrite and filter rules (see rewrite.h). */
#include "rewrite.h"

#include <ctype.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum fkind { F_METHOD, F_HOST, F_PATH, F_STATUS } fkind_t;

typedef struct frule {
    bool include;
    fkind_t kind;
    char *text;                   /* methods "GET,POST", a host glob, or the status spec */
    regex_t re;                   /* F_PATH */
    bool has_re;
} frule_t;

typedef struct prule {
    regex_t re;
    char *repl;
} prule_t;

struct rewrite {
    scn_kv_t *set;                /* --set-header, in order */
    size_t n_set;
    char **drop;
    size_t n_drop;
    prule_t *paths;
    size_t n_paths;
    frule_t *f;
    size_t n_f, n_include;
};

rewrite_t *rewrite_new(void) { return calloc(1, sizeof(rewrite_t)); }

void rewrite_free(rewrite_t *rw)
{
    if (!rw)
        return;
    for (size_t i = 0; i < rw->n_set; i++) {
        free(rw->set[i].name);
        free(rw->set[i].value);
    }
    free(rw->set);
    for (size_t i = 0; i < rw->n_drop; i++)
        free(rw->drop[i]);
    free(rw->drop);
    for (size_t i = 0; i < rw->n_paths; i++) {
        regfree(&rw->paths[i].re);
        free(rw->paths[i].repl);
    }
    free(rw->paths);
    for (size_t i = 0; i < rw->n_f; i++) {
        if (rw->f[i].has_re)
            regfree(&rw->f[i].re);
        free(rw->f[i].text);
    }
    free(rw->f);
    free(rw);
}

static bool token_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || strchr("!#$%&'*+-.^_`|~", s[i])))
            return false;
    return true;
}

static void *grow(void *v, size_t n, size_t size)
{
    return realloc(v, (n + 1) * size);
}

#define OOM()                                       \
    do {                                            \
        snprintf(err, errlen, "out of memory");     \
        return -1;                                  \
    } while (0)

int rewrite_set_header(rewrite_t *rw, const char *spec, char *err, size_t errlen)
{
    const char *colon = strchr(spec, ':');
    size_t nl = colon ? (size_t)(colon - spec) : 0;
    if (!colon || !token_ok(spec, nl)) {
        snprintf(err, errlen, "--set-header '%s': expected 'Name: value' (Name a header field name)", spec);
        return -1;
    }
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    if (strpbrk(v, "\r\n")) {
        snprintf(err, errlen, "--set-header '%s': the value holds a line break", spec);
        return -1;
    }
    scn_kv_t *s = grow(rw->set, rw->n_set, sizeof *s);
    if (!s)
        OOM();
    rw->set = s;
    s[rw->n_set] = (scn_kv_t){strndup(spec, nl), strdup(v)};
    if (!s[rw->n_set].name || !s[rw->n_set].value) {
        free(s[rw->n_set].name);
        free(s[rw->n_set].value);
        OOM();
    }
    rw->n_set++;
    return 0;
}

int rewrite_drop_header(rewrite_t *rw, const char *name, char *err, size_t errlen)
{
    if (!token_ok(name, strlen(name))) {
        snprintf(err, errlen, "--drop-header '%s': expected a header field name", name);
        return -1;
    }
    char **d = grow(rw->drop, rw->n_drop, sizeof *d);
    if (!d)
        OOM();
    rw->drop = d;
    if (!(d[rw->n_drop] = strdup(name)))
        OOM();
    rw->n_drop++;
    return 0;
}

int rewrite_path(rewrite_t *rw, const char *spec, char *err, size_t errlen)
{
    const char *arrow = strstr(spec, "=>");
    if (!arrow || arrow == spec) {
        snprintf(err, errlen, "--rewrite-path '%s': expected 'REGEX=>REPLACEMENT'", spec);
        return -1;
    }
    char *re = strndup(spec, (size_t)(arrow - spec));
    prule_t *p = grow(rw->paths, rw->n_paths, sizeof *p);
    if (!re || !p) {
        free(re);
        OOM();
    }
    rw->paths = p;
    int rc = regcomp(&p[rw->n_paths].re, re, REG_EXTENDED);
    if (rc != 0) {
        char m[200];
        regerror(rc, &p[rw->n_paths].re, m, sizeof m);
        snprintf(err, errlen, "--rewrite-path '%s': regular expression '%s': %s", spec, re, m);
        free(re);
        return -1;
    }
    free(re);
    if (!(p[rw->n_paths].repl = strdup(arrow + 2))) {
        regfree(&p[rw->n_paths].re);
        OOM();
    }
    rw->n_paths++;
    return 0;
}

/* status:SPEC is "2xx", "404" or a comma list of them. */
static bool status_spec_ok(const char *s)
{
    while (*s) {
        if (!isdigit((unsigned char)s[0]) || s[0] < '1' || s[0] > '5' || !s[1] || !s[2])
            return false;
        bool cls = (s[1] == 'x' || s[1] == 'X') && (s[2] == 'x' || s[2] == 'X');
        if (!cls && !(isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2])))
            return false;
        s += 3;
        if (*s == ',')
            s++;
        else if (*s)
            return false;
    }
    return true;
}

int rewrite_filter(rewrite_t *rw, bool include, const char *spec, char *err, size_t errlen)
{
    const char *opt = include ? "--include" : "--exclude";
    static const struct { const char *prefix; fkind_t kind; } kinds[] = {
        {"method:", F_METHOD}, {"host:", F_HOST}, {"path:", F_PATH}, {"status:", F_STATUS}};
    frule_t r = {.include = include};
    const char *v = NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0] && !v; i++)
        if (strncmp(spec, kinds[i].prefix, strlen(kinds[i].prefix)) == 0) {
            r.kind = kinds[i].kind;
            v = spec + strlen(kinds[i].prefix);
        }
    if (!v || !*v) {
        snprintf(err, errlen, "%s '%s': expected method:GET[,POST], host:GLOB, path:REGEX or "
                 "status:2xx[,404]", opt, spec);
        return -1;
    }
    if (r.kind == F_STATUS && !status_spec_ok(v)) {
        snprintf(err, errlen, "%s '%s': expected status classes or codes, e.g. status:5xx or "
                 "status:2xx,404", opt, spec);
        return -1;
    }
    if (r.kind == F_PATH) {
        int rc = regcomp(&r.re, v, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char m[200];
            regerror(rc, &r.re, m, sizeof m);
            snprintf(err, errlen, "%s '%s': regular expression: %s", opt, spec, m);
            return -1;
        }
        r.has_re = true;
    }
    frule_t *f = grow(rw->f, rw->n_f, sizeof *f);
    if (!f || !(r.text = strdup(v))) {
        if (r.has_re)
            regfree(&r.re);
        if (f)
            rw->f = f;
        OOM();
    }
    rw->f = f;
    f[rw->n_f++] = r;
    rw->n_include += include;
    return 0;
}

bool rewrite_any(const rewrite_t *rw)
{
    return rw && (rw->n_set || rw->n_drop || rw->n_paths || rw->n_f);
}

bool rewrite_has_filters(const rewrite_t *rw) { return rw && rw->n_f; }

bool rewrite_needs_status(const rewrite_t *rw)
{
    for (size_t i = 0; rw && i < rw->n_f; i++)
        if (rw->f[i].kind == F_STATUS)
            return true;
    return false;
}

static bool in_list(const char *list, const char *word, bool status_classes)
{
    size_t wl = strlen(word);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (status_classes && n == 3 && wl == 3 && p[0] == word[0] &&
            (p[1] == word[1] || p[1] == 'x' || p[1] == 'X') &&
            (p[2] == word[2] || p[2] == 'x' || p[2] == 'X'))
            return true;
        if (!status_classes && n == wl && strncasecmp(p, word, n) == 0)
            return true;
        p = e ? e + 1 : p + n;
    }
    return false;
}

static bool matches(const frule_t *r, const char *method, const char *host, const char *path,
                    int status)
{
    switch (r->kind) {
    case F_METHOD: return in_list(r->text, method, false);
    case F_HOST: {
        char h[300];
        snprintf(h, sizeof h, "%s", host);
        char *colon = strrchr(h, ':');
        bool m = fnmatch(r->text, host, FNM_CASEFOLD) == 0;
        if (!m && colon && h[0] != '[') {
            *colon = '\0';
            m = fnmatch(r->text, h, FNM_CASEFOLD) == 0;
        }
        return m;
    }
    case F_PATH: return regexec(&r->re, path, 0, NULL, 0) == 0;
    case F_STATUS: {
        if (status < 100 || status > 599)
            return false;
        char s[8];
        snprintf(s, sizeof s, "%d", status);
        return in_list(r->text, s, true);
    }
    }
    return false;
}

bool rewrite_keep(const rewrite_t *rw, const char *method, const char *host, const char *path,
                  int status)
{
    if (!rw)
        return true;
    bool inc = rw->n_include == 0;
    for (size_t i = 0; i < rw->n_f && !inc; i++)
        if (rw->f[i].include && matches(&rw->f[i], method, host, path, status))
            inc = true;
    if (!inc)
        return false;
    for (size_t i = 0; i < rw->n_f; i++)
        if (!rw->f[i].include && matches(&rw->f[i], method, host, path, status))
            return false;
    return true;
}

/* Where the path starts in a URL template: after "scheme://authority", or 0. */
static size_t path_at(const char *url, char *host, size_t hlen)
{
    host[0] = '\0';
    const char *sep = strstr(url, "://");
    if (!sep || strchr(url, '/') < sep)
        return 0;
    const char *a = sep + 3, *p = a + strcspn(a, "/?#");
    snprintf(host, hlen, "%.*s", (int)(p - a), a);
    return (size_t)(p - url);
}

/* The first match of p in s replaced; NULL when none (or out of memory). */
static char *subst(const prule_t *p, const char *s)
{
    regmatch_t m[10];
    if (regexec(&p->re, s, 10, m, 0) != 0)
        return NULL;
    size_t cap = strlen(s) + strlen(p->repl) * 4 + 16, n = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
#define PUT(src, len)                                                   \
    do {                                                                \
        size_t l_ = (len);                                              \
        if (n + l_ + 1 > cap) {                                         \
            cap = (n + l_ + 1) * 2;                                     \
            char *o_ = realloc(out, cap);                               \
            if (!o_) {                                                  \
                free(out);                                              \
                return NULL;                                            \
            }                                                           \
            out = o_;                                                   \
        }                                                               \
        memcpy(out + n, (src), l_);                                     \
        n += l_;                                                        \
    } while (0)
    PUT(s, (size_t)m[0].rm_so);
    for (const char *r = p->repl; *r; r++) {
        if (r[0] == '\\' && isdigit((unsigned char)r[1])) {
            int g = r[1] - '0';
            if (m[g].rm_so >= 0)
                PUT(s + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
            r++;
        } else if (r[0] == '\\' && r[1] == '\\') {
            PUT("\\", 1);
            r++;
        } else {
            PUT(r, 1);
        }
    }
    PUT(s + m[0].rm_eo, strlen(s + m[0].rm_eo));
#undef PUT
    out[n] = '\0';
    return out;
}

static int rewrite_request(const rewrite_t *rw, scn_request_t *r, rewrite_stats_t *st)
{
    /* headers: drop, then set (replace the first of the name, remove the others, or add) */
    size_t w = 0;
    for (size_t i = 0; i < r->n_headers; i++) {
        bool drop = false;
        for (size_t k = 0; k < rw->n_drop && !drop; k++)
            drop = strcasecmp(r->headers[i].name, rw->drop[k]) == 0;
        for (size_t k = 0; k < rw->n_set && !drop; k++)
            drop = strcasecmp(r->headers[i].name, rw->set[k].name) == 0;
        if (drop) {
            bool was_set = false;
            for (size_t k = 0; k < rw->n_set; k++)
                was_set |= strcasecmp(r->headers[i].name, rw->set[k].name) == 0;
            st->headers_dropped += !was_set;
            free(r->headers[i].name);
            free(r->headers[i].value);
            continue;
        }
        r->headers[w++] = r->headers[i];
    }
    r->n_headers = w;
    if (rw->n_set) {
        scn_kv_t *v = realloc(r->headers, (r->n_headers + rw->n_set) * sizeof *v);
        if (!v)
            return -1;
        r->headers = v;
        for (size_t k = 0; k < rw->n_set; k++) {
            scn_kv_t *kv = &r->headers[r->n_headers];
            kv->name = strdup(rw->set[k].name);
            kv->value = strdup(rw->set[k].value);
            if (!kv->name || !kv->value) {
                free(kv->name);
                free(kv->value);
                return -1;
            }
            r->n_headers++;
            st->headers_set++;
        }
    }
    char host[300];
    for (size_t k = 0; k < rw->n_paths; k++) {
        size_t at = path_at(r->url, host, sizeof host);
        char *np = subst(&rw->paths[k], r->url + at);
        if (!np)
            continue;
        char *url = malloc(at + strlen(np) + 1);
        if (!url) {
            free(np);
            return -1;
        }
        memcpy(url, r->url, at);
        strcpy(url + at, np);
        free(np);
        free(r->url);
        r->url = url;
        st->paths_rewritten++;
    }
    return 0;
}

static int filter_steps(const rewrite_t *rw, const scn_scenario_t *s, scn_steps_t *steps,
                        rewrite_stats_t *st)
{
    size_t ws = 0;
    for (size_t i = 0; i < steps->n; i++) {
        scn_step_t *sp = &steps->v[i];
        size_t w = 0;
        for (size_t k = 0; k < sp->n_requests; k++) {
            scn_request_t *r = &sp->requests[k];
            char host[300];
            size_t at = path_at(r->url, host, sizeof host);
            if (!host[0] && s->n_hosts)
                path_at(s->hosts[0].base_url, host, sizeof host);
            int status = r->check.n_statuses == 1 ? r->check.statuses[0] : 0;
            if (!rewrite_keep(rw, r->method, host, r->url + at, status)) {
                scn_request_fini(r);
                st->excluded++;
                continue;
            }
            sp->requests[w++] = *r;
        }
        sp->n_requests = w;
        sp->parallel = sp->parallel && w > 1;
        if (w == 0) {
            free(sp->requests);
            st->steps_removed++;
            continue;
        }
        steps->v[ws++] = *sp;
    }
    steps->n = ws;
    return 0;
}

bool rewrite_keep_exchange(void *arg, const rec_exchange_t *x)
{
    return rewrite_keep(arg, x->method, x->authority ? x->authority : "", x->target ? x->target : "/",
                        x->status);
}

int rewrite_scenario(const rewrite_t *rw, scn_scenario_t *s, bool filter, rewrite_stats_t *st,
                     char *err, size_t errlen)
{
    memset(st, 0, sizeof *st);
    for (size_t c = 0; c < s->n_classes; c++) {
        scn_class_t *cl = &s->classes[c];
        scn_steps_t *secs[] = {&cl->on_start, &cl->tasks, &cl->on_stop};
        for (size_t j = 0; j < 3; j++) {
            if (filter && rw->n_f)
                filter_steps(rw, s, secs[j], st);
            for (size_t i = 0; i < secs[j]->n; i++)
                for (size_t k = 0; k < secs[j]->v[i].n_requests; k++)
                    if (rewrite_request(rw, &secs[j]->v[i].requests[k], st) != 0)
                        OOM();
        }
        if (cl->tasks.n == 0) {
            snprintf(err, errlen, "class '%s': --include/--exclude left it no task step", cl->name);
            return -1;
        }
    }
    return 0;
}

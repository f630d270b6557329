#include "correlate.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "draft.h"
#include "offer.h"

/* Variable names: letters, digits and '_', starting with a letter, unique in
 * the session and never a generator's name. */
typedef struct names {
    char **v;
    size_t n;
} names_t;

static bool name_used(const names_t *ns, const char *s)
{
    static const char *const reserved[] = {"uuid", "now_ms", "random_int", "user_id"};
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (strcmp(s, reserved[i]) == 0)
            return true;
    for (size_t i = 0; i < ns->n; i++)
        if (strcmp(ns->v[i], s) == 0)
            return true;
    return false;
}

static char *name_make(names_t *ns, const char *base)
{
    char clean[64], name[80];
    size_t o = 0;
    if (!isalpha((unsigned char)base[0]))
        clean[o++] = 'v';
    for (const char *p = base; *p && o + 1 < sizeof clean; p++)
        clean[o++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_';
    clean[o] = '\0';
    snprintf(name, sizeof name, "%s", clean);
    for (int k = 2; name_used(ns, name) && k < 100000; k++)
        snprintf(name, sizeof name, "%s_%d", clean, k);
    char **v = realloc(ns->v, (ns->n + 1) * sizeof *v);
    if (!v)
        return NULL;
    ns->v = v;
    return (ns->v[ns->n] = strdup(name)) ? ns->v[ns->n++] : NULL;
}

static const char *kind_name(scn_ext_kind_t k)
{
    switch (k) {
    case SCN_EXT_HEADER: return "header";
    case SCN_EXT_COOKIE: return "cookie";
    case SCN_EXT_JSON: return "json";
    case SCN_EXT_REGEX: return "regex";
    }
    return "?";
}

/* True when request j goes to exactly the URL v (a redirect followed). */
static bool goes_to(const rec_exchange_t *x, const scn_request_t *r, const char *v)
{
    char origin[512];
    size_t ol = strlen(draft_origin(x, origin, sizeof origin));
    if (strcmp(r->url, v) == 0)
        return true;
    return r->url[0] == '/' && strncmp(v, origin, ol) == 0 && strcmp(v + ol, r->url) == 0;
}

/* How often request j sends k's value back. */
static size_t uses_of(const offer_t *k, const rec_exchange_t *x, const scn_request_t *r)
{
    if (k->whole_url)
        return goes_to(x, r, k->value);
    return draft_count(r, k->value);
}

static long use(const offer_t *k, const rec_exchange_t *x, scn_request_t *r, const char *tpl)
{
    if (!k->whole_url)
        return draft_replace(r, k->value, tpl);
    if (!goes_to(x, r, k->value))
        return 0;
    char *u = strdup(tpl);
    if (!u)
        return -1;
    free(r->url);
    r->url = u;
    return 1;
}

/* One candidate of response i: used later, unknown before? Then extract it. */
static int correlate_one(const offer_t *k, size_t i, const rec_exchange_t *const *xs, scn_request_t *reqs,
                         const size_t *step_of, size_t n, names_t *ns, const char *who, FILE *report,
                         size_t *made)
{
    size_t uses = 0;
    for (size_t j = 0; j < n; j++) {
        size_t c = uses_of(k, xs[j], &reqs[j]);
        if (c && step_of[j] <= step_of[i])
            return 0;  /* sent before the answer came: the client knew it */
        if (step_of[j] > step_of[i])
            uses += c;
    }
    if (!uses)
        return 0;
    char *var = name_make(ns, k->base), tpl[96];
    if (!var || draft_add_extractor(&reqs[i], var, k->kind, k->expr, k->group) < 0)
        return -1;
    snprintf(tpl, sizeof tpl, "{{%s}}", var);
    char firsts[256] = "";
    size_t fl = 0;
    for (size_t j = 0; j < n; j++) {
        if (step_of[j] <= step_of[i])
            continue;
        long r = use(k, xs[j], &reqs[j], tpl);
        if (r < 0)
            return -1;
        if (r > 0 && fl < sizeof firsts - 1)
            fl += (size_t)snprintf(firsts + fl, sizeof firsts - fl, "%s%s", fl ? ", " : "", reqs[j].name);
    }
    (*made)++;
    if (report)
        fprintf(report, "aiotest-convert: %s: {{%s}} <- %s %s of '%s'; sent back %zu time(s): %s\n",
                who, var, kind_name(k->kind), k->expr, reqs[i].name, uses, firsts);
    return 0;
}

int corr_run(const rec_exchange_t *const *xs, scn_request_t *reqs, const size_t *step_of, size_t n,
             const char *who, FILE *report, size_t *made)
{
    names_t ns = {0};
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        offer_list_t c;
        if (offer_collect(xs[i], &c) < 0) {
            rc = -1;
            break;
        }
        for (size_t k = 0; k < c.n && rc == 0; k++)
            rc = correlate_one(&c.v[k], i, xs, reqs, step_of, n, &ns, who, report, made);
        offer_list_fini(&c);
    }
    for (size_t i = 0; i < ns.n; i++)
        free(ns.v[i]);
    free(ns.v);
    return rc;
}

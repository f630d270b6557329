#include "correlate.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "draft.h"
#include "offer.h"
#include "strtab.h"

/* Variable names: letters, digits and '_', starting with a letter, unique in
 * the session and never a generator's name. used holds every name given;
 * next the next number to try per cleaned base ("token" -> 3 once token and
 * token_2 exist), so naming stays constant time however many share a base. */
typedef struct names {
    stab_t used;
    stab_t next;
} names_t;

static bool name_used(const names_t *ns, const char *s)
{
    static const char *const reserved[] = {"uuid", "now_ms", "random_int", "user_id"};
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (strcmp(s, reserved[i]) == 0)
            return true;
    return stab_get(&ns->used, s, strlen(s)) >= 0;
}

/* A fresh name from base into name (cap bytes). Returns 0 or -1. */
static int name_make(names_t *ns, const char *base, char *name, size_t cap)
{
    char clean[64];
    size_t o = 0;
    if (!isalpha((unsigned char)base[0]))
        clean[o++] = 'v';
    for (const char *p = base; *p && o + 1 < sizeof clean; p++)
        clean[o++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_';
    clean[o] = '\0';
    long k = stab_get(&ns->next, clean, o);
    if (k < 0) {
        k = 2;
        snprintf(name, cap, "%s", clean);
    } else {
        snprintf(name, cap, "%s_%ld", clean, k++);
    }
    while (name_used(ns, name))
        snprintf(name, cap, "%s_%ld", clean, k++);
    if (stab_set(&ns->next, clean, o, (size_t)k) < 0 || stab_put(&ns->used, name, strlen(name), 0) < 0)
        return -1;
    return 0;
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

/* ---- the index
 *
 * Searching every request for every offered value made correlation quadratic
 * in session length. Instead each distinct value is weighed once, at the first
 * response that offers it (a later response offering it again finds it either
 * known to the client already or replaced by then), and only in the requests
 * that can hold it: draft_find matches whole tokens, so every maximal run of
 * letters and digits in a value is a maximal run in any text holding it. The
 * index maps each run of the values to the requests holding that run (a
 * posting list); a value is searched in the shortest list of its runs. A
 * Location (whole_url) is looked up by URL instead. */

typedef struct plist {
    size_t *v;
    size_t n, cap;
} plist_t;

typedef struct cand {
    offer_t k;
    size_t resp;      /* the first response that offers it */
    size_t *lists;    /* posting lists of its runs (or of its URL) */
    size_t n_lists;
} cand_t;

typedef struct index {
    cand_t *c;
    size_t n, cap;
    stab_t values;    /* value -> cand */
    stab_t runs;      /* run of letters and digits -> posting list */
    stab_t urls;      /* Location value -> posting list */
    plist_t *pl;
    size_t n_pl, cap_pl;
} index_t;

static void index_fini(index_t *ix)
{
    for (size_t i = 0; i < ix->n; i++) {
        free(ix->c[i].k.value);
        free(ix->c[i].k.expr);
        free(ix->c[i].k.base);
        free(ix->c[i].lists);
    }
    free(ix->c);
    for (size_t i = 0; i < ix->n_pl; i++)
        free(ix->pl[i].v);
    free(ix->pl);
    stab_fini(&ix->values);
    stab_fini(&ix->runs);
    stab_fini(&ix->urls);
}

/* The posting list of key in t, made when new. Returns its index or -1. */
static long list_of(index_t *ix, stab_t *t, const char *key, size_t len)
{
    if (ix->n_pl == ix->cap_pl) {
        size_t cap = ix->cap_pl ? ix->cap_pl * 2 : 64;
        plist_t *v = realloc(ix->pl, cap * sizeof *v);
        if (!v)
            return -1;
        ix->pl = v;
        ix->cap_pl = cap;
    }
    long id = stab_put(t, key, len, ix->n_pl);
    if (id == (long)ix->n_pl)
        memset(&ix->pl[ix->n_pl++], 0, sizeof *ix->pl);
    return id;
}

static int list_add(plist_t *l, size_t j)
{
    if (l->n && l->v[l->n - 1] == j)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        size_t *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = j;
    return 0;
}

/* Length of the run of letters and digits at s[0..len) (0 when none there). */
static size_t run_len(const char *s, size_t len)
{
    size_t n = 0;
    while (n < len && isalnum((unsigned char)s[n]))
        n++;
    return n;
}

static int cand_add_list(cand_t *c, long id)
{
    size_t *v = realloc(c->lists, (c->n_lists + 1) * sizeof *v);
    if (!v)
        return -1;
    c->lists = v;
    c->lists[c->n_lists++] = (size_t)id;
    return 0;
}

/* Takes o (moved out of the list on success) as a candidate of response i
 * unless an earlier response offered the same value. */
static int index_offer(index_t *ix, offer_t *o, size_t i)
{
    size_t vlen = strlen(o->value);
    long at = stab_put(&ix->values, o->value, vlen, ix->n);
    if (at < 0)
        return -1;
    if ((size_t)at != ix->n)
        return 0;
    if (ix->n == ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 64;
        cand_t *v = realloc(ix->c, cap * sizeof *v);
        if (!v)
            return -1;
        ix->c = v;
        ix->cap = cap;
    }
    cand_t *c = &ix->c[ix->n++];
    *c = (cand_t){.k = *o, .resp = i};
    memset(o, 0, sizeof *o);
    if (c->k.whole_url) {
        long id = list_of(ix, &ix->urls, c->k.value, vlen);
        return id < 0 ? -1 : cand_add_list(c, id);
    }
    for (size_t p = 0; p < vlen;) {
        size_t r = run_len(c->k.value + p, vlen - p);
        if (!r) {
            p++;
            continue;
        }
        long id = list_of(ix, &ix->runs, c->k.value + p, r);
        if (id < 0 || cand_add_list(c, id) < 0)
            return -1;
        p += r;
    }
    return 0;
}

typedef struct scan {
    index_t *ix;
    size_t j;
    int rc;
} scan_t;

static void scan_text(const char *text, size_t len, void *ctx)
{
    scan_t *s = ctx;
    for (size_t p = 0; text && p < len && s->rc == 0;) {
        size_t r = run_len(text + p, len - p);
        if (!r) {
            p++;
            continue;
        }
        long id = stab_get(&s->ix->runs, text + p, r);
        if (id >= 0 && list_add(&s->ix->pl[id], s->j) < 0)
            s->rc = -1;
        p += r;
    }
}

/* Posting lists of request j: its runs, and its URL for Location values. */
static int index_request(index_t *ix, const rec_exchange_t *x, const scn_request_t *r, size_t j)
{
    scan_t s = {.ix = ix, .j = j};
    draft_each_text(r, scan_text, &s);
    if (s.rc < 0 || !ix->urls.n)
        return s.rc;
    long id = stab_get(&ix->urls, r->url, strlen(r->url));
    if (id >= 0 && list_add(&ix->pl[id], j) < 0)
        return -1;
    if (r->url[0] == '/') {
        char origin[512], *abs;
        if (asprintf(&abs, "%s%s", draft_origin(x, origin, sizeof origin), r->url) < 0)
            return -1;
        id = stab_get(&ix->urls, abs, strlen(abs));
        free(abs);
        if (id >= 0 && list_add(&ix->pl[id], j) < 0)
            return -1;
    }
    return 0;
}

/* The requests that may hold c's value: the shortest posting list of its runs. */
static const plist_t *cand_requests(const index_t *ix, const cand_t *c)
{
    const plist_t *best = NULL;
    for (size_t i = 0; i < c->n_lists; i++)
        if (!best || ix->pl[c->lists[i]].n < best->n)
            best = &ix->pl[c->lists[i]];
    return best;
}

typedef struct session {
    const rec_exchange_t *const *xs;
    scn_request_t *reqs;
    const size_t *step_of;
    const char *who;
    FILE *report;
    names_t ns;
    size_t made, checks;
} session_t;

/* One candidate: used later, unknown before? Then extract it. */
static int correlate_one(session_t *s, const cand_t *c, const plist_t *js)
{
    const offer_t *k = &c->k;
    size_t i = c->resp, uses = 0;
    for (size_t q = 0; q < js->n; q++) {
        size_t j = js->v[q], n = uses_of(k, s->xs[j], &s->reqs[j]);
        s->checks++;
        if (n && s->step_of[j] <= s->step_of[i])
            return 0;  /* sent before the answer came: the client knew it */
        if (s->step_of[j] > s->step_of[i])
            uses += n;
    }
    if (!uses)
        return 0;
    char var[96], tpl[112];
    if (name_make(&s->ns, k->base, var, sizeof var) < 0 ||
        draft_add_extractor(&s->reqs[i], var, k->kind, k->expr, k->group) < 0)
        return -1;
    snprintf(tpl, sizeof tpl, "{{%s}}", var);
    char firsts[256] = "";
    size_t fl = 0;
    for (size_t q = 0; q < js->n; q++) {
        size_t j = js->v[q];
        if (s->step_of[j] <= s->step_of[i])
            continue;
        long r = use(k, s->xs[j], &s->reqs[j], tpl);
        s->checks++;
        if (r < 0)
            return -1;
        if (r > 0 && fl < sizeof firsts - 1)
            fl += (size_t)snprintf(firsts + fl, sizeof firsts - fl, "%s%s", fl ? ", " : "", s->reqs[j].name);
    }
    s->made++;
    if (s->report)
        fprintf(s->report, "aiotest-convert: %s: {{%s}} <- %s %s of '%s'; sent back %zu time(s): %s\n",
                s->who, var, scn_ext_kind_name(k->kind), k->expr, s->reqs[i].name, uses, firsts);
    return 0;
}

static int build_index(index_t *ix, const rec_exchange_t *const *xs, const scn_request_t *reqs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        offer_list_t l;
        if (offer_collect(xs[i], &l) < 0)
            return -1;
        int rc = 0;
        for (size_t k = 0; k < l.n && rc == 0; k++)
            rc = index_offer(ix, &l.v[k], i);
        offer_list_fini(&l);
        if (rc < 0)
            return -1;
    }
    for (size_t j = 0; ix->n && j < n; j++)
        if (index_request(ix, xs[j], &reqs[j], j) < 0)
            return -1;
    return 0;
}

int corr_run(const rec_exchange_t *const *xs, scn_request_t *reqs, const size_t *step_of, size_t n,
             const char *who, FILE *report, size_t *made, size_t *checks)
{
    index_t ix = {0};
    session_t s = {.xs = xs, .reqs = reqs, .step_of = step_of, .who = who, .report = report};
    int rc = build_index(&ix, xs, reqs, n);
    for (size_t c = 0; c < ix.n && rc == 0; c++) {
        const plist_t *js = cand_requests(&ix, &ix.c[c]);
        if (js && js->n)
            rc = correlate_one(&s, &ix.c[c], js);
    }
    index_fini(&ix);
    stab_fini(&s.ns.used);
    stab_fini(&s.ns.next);
    *made += s.made;
    if (checks)
        *checks += s.checks;
    return rc;
}

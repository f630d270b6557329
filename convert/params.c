#include "params.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "draft.h"
#include "normalise.h"
#include "strtab.h"
#include "timeval.h"

void params_row_fini(params_row_t *row)
{
    for (size_t i = 0; i < row->n; i++) {
        free(row->names[i]);
        free(row->values ? row->values[i] : NULL);
    }
    free(row->names);
    free(row->values);
    memset(row, 0, sizeof *row);
}

/* One CSV record from fp into a growing field list. Returns the field count,
 * 0 at end of file, -1 on an unterminated quote or out of memory. */
static long csv_record(FILE *fp, char ***fields, long *line)
{
    char *buf = NULL;
    size_t len = 0, n = 0;
    FILE *f = open_memstream(&buf, &len);
    bool quoted = false, any = false;
    int ch;
    *fields = NULL;
    if (!f)
        return -1;
    for (;;) {
        ch = fgetc(fp);
        if (ch == EOF) {
            if (quoted)
                goto bad;
            break;
        }
        any = true;
        if (quoted) {
            if (ch == '"') {
                int next = fgetc(fp);
                if (next == '"') {
                    fputc('"', f);
                    continue;
                }
                quoted = false;
                if (next != EOF)
                    ungetc(next, fp);
                continue;
            }
            if (ch == '\n')
                (*line)++;
            fputc(ch, f);
        } else if (ch == '"') {
            quoted = true;
        } else if (ch == ',' || ch == '\n') {
            fputc('\0', f);
            n++;
            if (ch == '\n') {
                (*line)++;
                break;
            }
        } else if (ch != '\r') {
            fputc(ch, f);
        }
    }
    if (ch == EOF && any) {
        fputc('\0', f);
        n++;
    }
    fclose(f);
    if (n == 0) {
        free(buf);
        return 0;
    }
    *fields = calloc(n, sizeof **fields);
    if (!*fields) {
        free(buf);
        return -1;
    }
    const char *p = buf;
    for (size_t i = 0; i < n; i++) {
        (*fields)[i] = strdup(p);
        p += strlen(p) + 1;
    }
    free(buf);
    return (long)n;
bad:
    fclose(f);
    free(buf);
    return -1;
}

static void free_fields(char **f, long n)
{
    for (long i = 0; i < n; i++)
        free(f[i]);
    free(f);
}

static bool var_name_ok(const char *s)
{
    if (!isalpha((unsigned char)s[0]) && s[0] != '_')
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return false;
    return true;
}

int params_load_csv(const char *path, params_row_t *row, mp_error_t *err)
{
    memset(row, 0, sizeof *row);
    err->record = -1;
    err->offset = -1;
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(err->msg, sizeof err->msg, "--data %s: %s", path, strerror(errno));
        return MP_ERR_IO;
    }
    long line = 1, nh, nv = 0;
    char **head = NULL, **vals = NULL;
    int rc = MP_ERR_INVALID;
    if ((nh = csv_record(fp, &head, &line)) <= 0) {
        snprintf(err->msg, sizeof err->msg, "%s:1: expected a header row naming the columns", path);
        goto out;
    }
    for (long i = 0; i < nh; i++)
        if (!head[i] || !var_name_ok(head[i])) {
            snprintf(err->msg, sizeof err->msg, "%s:1: column %ld: expected a variable name "
                     "([A-Za-z_][A-Za-z0-9_]*), got \"%s\"", path, i + 1, head[i] ? head[i] : "");
            goto out;
        }
    long first = line;
    if ((nv = csv_record(fp, &vals, &line)) != nh) {
        snprintf(err->msg, sizeof err->msg, "%s:%ld: expected a data row of %ld columns, got %ld",
                 path, first, nh, nv < 0 ? 0 : nv);
        goto out;
    }
    row->names = head;
    row->values = vals;
    row->n = (size_t)nh;
    head = vals = NULL;
    rc = 0;
out:
    if (head)
        free_fields(head, nh);
    if (vals)
        free_fields(vals, nv);
    fclose(fp);
    return rc;
}

long params_apply_row(const params_row_t *row, scn_request_t *reqs, size_t n)
{
    long total = 0;
    for (size_t c = 0; c < row->n; c++) {
        char tpl[128];
        if (strlen(row->values[c]) < 3)
            continue;
        snprintf(tpl, sizeof tpl, "{{%s}}", row->names[c]);
        for (size_t i = 0; i < n; i++) {
            long r = draft_replace(&reqs[i], row->values[c], tpl);
            if (r < 0)
                return -1;
            total += r;
        }
    }
    return total;
}

/* ---- generators
 *
 * Each request's UUIDs and 13-digit numbers are found once; a table counts
 * the requests that send each UUID and marks the values some response holds,
 * so the whole pass is linear in the session's bytes (searching every request
 * and response for every value was quadratic, issue 21). */

typedef struct gvals {
    stab_t at;           /* value -> index in v */
    char **v;
    size_t *senders;     /* requests that send v[i] (UUIDs) */
    bool *answered;      /* a response holds v[i] (anywhere, as a substring) */
    size_t n, cap;
} gvals_t;

static void gvals_fini(gvals_t *g)
{
    stab_fini(&g->at);
    for (size_t i = 0; i < g->n; i++)
        free(g->v[i]);
    free(g->v);
    free(g->senders);
    free(g->answered);
    memset(g, 0, sizeof *g);
}

/* Index of p[0..len) in g, added when new; -1 on out of memory. */
static long gvals_add(gvals_t *g, const char *p, size_t len)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 64;
        char **v = realloc(g->v, cap * sizeof *v);
        if (v)
            g->v = v;
        size_t *s = realloc(g->senders, cap * sizeof *s);
        if (s)
            g->senders = s;
        bool *a = realloc(g->answered, cap * sizeof *a);
        if (a)
            g->answered = a;
        if (!v || !s || !a)
            return -1;
        g->cap = cap;
    }
    long at = stab_put(&g->at, p, len, g->n);
    if (at == (long)g->n) {
        if (!(g->v[g->n] = strndup(p, len)))
            return -1;
        g->senders[g->n] = 0;
        g->answered[g->n] = false;
        g->n++;
    }
    return at;
}

/* The values one request sends: indexes into uuids and stamps, each once. */
typedef struct sent {
    size_t *v;
    size_t n, cap;
} sent_t;

static int sent_add(sent_t *s, size_t id)
{
    for (size_t i = 0; i < s->n; i++)  /* a request sends a handful */
        if (s->v[i] == id)
            return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        size_t *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = id;
    return 0;
}

typedef struct gscan {
    gvals_t *uuids, *stamps;
    sent_t *su, *ss;
    int rc;
} gscan_t;

/* UUIDs and timestamps (timeval_match) standing alone in one text of a request. */
static void scan_text(const char *buf, size_t len, void *ctx)
{
    gscan_t *g = ctx;
    for (size_t i = 0; buf && i < len && g->rc == 0; i++) {
        if (i > 0 && isalnum((unsigned char)buf[i - 1]))
            continue;
        if (i + 36 <= len && norm_is_uuid(buf + i, 36) && (i + 36 == len || !isalnum((unsigned char)buf[i + 36]))) {
            long id = gvals_add(g->uuids, buf + i, 36);
            if (id < 0 || sent_add(g->su, (size_t)id) < 0)
                g->rc = -1;
            i += 35;
            continue;
        }
        size_t d = timeval_match(buf + i, len - i);
        if (d && (i + d == len || !isalnum((unsigned char)buf[i + d]))) {
            long id = gvals_add(g->stamps, buf + i, d);
            if (id < 0 || sent_add(g->ss, (size_t)id) < 0)
                g->rc = -1;
            i += d - 1;
        }
    }
}

/* Marks the values of uuids and stamps that occur anywhere in buf. */
static void mark_answered(const char *buf, size_t len, gvals_t *uuids, gvals_t *stamps)
{
    size_t digits = 0;
    for (size_t i = 0; buf && i < len; i++) {
        digits = isdigit((unsigned char)buf[i]) ? digits + 1 : 0;
        long id;
        /* a timestamp of any shape timeval knows: the 10- and 13-digit windows
         * ending here, and the whole number (fraction included) starting here */
        if (stamps->n && digits >= 10 && (id = stab_get(&stamps->at, buf + i - 9, 10)) >= 0)
            stamps->answered[id] = true;
        if (stamps->n && digits >= 13 && (id = stab_get(&stamps->at, buf + i - 12, 13)) >= 0)
            stamps->answered[id] = true;
        size_t d;
        if (stamps->n && digits == 1 && (d = timeval_match(buf + i, len - i)) != 10 && d != 13 && d &&
            (id = stab_get(&stamps->at, buf + i, d)) >= 0)
            stamps->answered[id] = true;
        if (uuids->n && i + 36 <= len && norm_is_uuid(buf + i, 36) && (id = stab_get(&uuids->at, buf + i, 36)) >= 0)
            uuids->answered[id] = true;
    }
}

int params_generators(const rec_exchange_t *const *xs, scn_request_t *reqs, size_t n,
                      const char *who, FILE *report, size_t *made)
{
    size_t n_uuid = 0, n_now = 0;
    gvals_t uuids = {0}, stamps = {0};
    sent_t *su = calloc(n ? n : 1, sizeof *su), *ss = calloc(n ? n : 1, sizeof *ss);
    int rc = su && ss ? 0 : -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        gscan_t g = {.uuids = &uuids, .stamps = &stamps, .su = &su[i], .ss = &ss[i]};
        draft_each_text(&reqs[i], scan_text, &g);
        rc = g.rc;
        for (size_t k = 0; rc == 0 && k < su[i].n; k++)
            uuids.senders[su[i].v[k]]++;
    }
    for (size_t i = 0; i < n && rc == 0 && (uuids.n || stamps.n); i++) {
        const rec_exchange_t *x = xs[i];
        mark_answered((const char *)x->resp_body, x->resp_body_len, &uuids, &stamps);
        for (size_t h = 0; h < x->resp_headers.n; h++)
            mark_answered(x->resp_headers.v[h].value, strlen(x->resp_headers.v[h].value), &uuids, &stamps);
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        for (size_t k = 0; rc == 0 && k < su[i].n; k++) {
            /* A UUID the client reuses later is an identity, not a fresh
             * value: only one-off UUIDs become {{uuid}}. */
            size_t id = su[i].v[k];
            if (uuids.senders[id] != 1 || uuids.answered[id])
                continue;
            long r = draft_replace(&reqs[i], uuids.v[id], "{{uuid}}");
            rc = r < 0 ? -1 : 0;
            n_uuid += r > 0;
        }
        const char **mine = malloc((ss[i].n ? ss[i].n : 1) * sizeof *mine);
        if (!mine) {
            rc = -1;
            break;
        }
        for (size_t k = 0; k < ss[i].n; k++)
            mine[k] = stamps.v[ss[i].v[k]];
        int64_t ref = timeval_reference(mine, ss[i].n, xs[i]->t_start_us);
        free(mine);
        for (size_t k = 0; rc == 0 && k < ss[i].n; k++) {
            size_t id = ss[i].v[k];
            char tpl[48];
            if (stamps.answered[id] ||
                !timeval_template(stamps.v[id], strlen(stamps.v[id]), ref, tpl, sizeof tpl))
                continue;
            long r = draft_replace(&reqs[i], stamps.v[id], tpl);
            rc = r < 0 ? -1 : 0;
            n_now += r > 0;
        }
    }
    for (size_t i = 0; i < n && su && ss; i++) {
        free(su[i].v);
        free(ss[i].v);
    }
    free(su);
    free(ss);
    gvals_fini(&uuids);
    gvals_fini(&stamps);
    if (rc < 0)
        return -1;
    *made += n_uuid + n_now;
    if (report && n_uuid)
        fprintf(report, "aiotest-convert: %s: %zu client-made UUID(s) -> {{uuid}}\n", who, n_uuid);
    if (report && n_now)
        fprintf(report, "aiotest-convert: %s: %zu timestamp(s) near the request time -> {{now_ms}}/{{now_s}} (offsets kept)\n", who, n_now);
    return 0;
}

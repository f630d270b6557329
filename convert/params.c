#include "params.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "draft.h"
#include "normalise.h"
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

/* ---- generators */

typedef struct strs {
    char **v;
    size_t n;
} strs_t;

static int strs_add(strs_t *s, const char *p, size_t len)
{
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->v[i]) == len && memcmp(s->v[i], p, len) == 0)
            return 0;
    char **v = realloc(s->v, (s->n + 1) * sizeof *v);
    if (!v)
        return -1;
    s->v = v;
    if (!(s->v[s->n] = strndup(p, len)))
        return -1;
    s->n++;
    return 0;
}

static void strs_fini(strs_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* UUIDs and timestamps (timeval_match) standing alone in buf. */
static int scan(const char *buf, size_t len, strs_t *uuids, strs_t *stamps)
{
    for (size_t i = 0; buf && i < len; i++) {
        if (i > 0 && isalnum((unsigned char)buf[i - 1]))
            continue;
        if (i + 36 <= len && norm_is_uuid(buf + i, 36) && (i + 36 == len || !isalnum((unsigned char)buf[i + 36]))) {
            if (strs_add(uuids, buf + i, 36) < 0)
                return -1;
            i += 35;
            continue;
        }
        size_t d = timeval_match(buf + i, len - i);
        if (d && (i + d == len || !isalnum((unsigned char)buf[i + d])) && strs_add(stamps, buf + i, d) < 0)
            return -1;
    }
    return 0;
}

static int scan_request(const scn_request_t *r, strs_t *uuids, strs_t *stamps)
{
    if (scan(r->url, strlen(r->url), uuids, stamps) < 0)
        return -1;
    for (size_t i = 0; i < r->n_headers; i++)
        if (scan(r->headers[i].value, strlen(r->headers[i].value), uuids, stamps) < 0)
            return -1;
    return scan((const char *)r->body, r->body_len, uuids, stamps);
}

static bool in_responses(const rec_exchange_t *const *xs, size_t n, const char *v)
{
    size_t vlen = strlen(v);
    for (size_t i = 0; i < n; i++) {
        if (xs[i]->resp_body && memmem(xs[i]->resp_body, xs[i]->resp_body_len, v, vlen))
            return true;
        for (size_t h = 0; h < xs[i]->resp_headers.n; h++)
            if (strstr(xs[i]->resp_headers.v[h].value, v))
                return true;
    }
    return false;
}

int params_generators(const rec_exchange_t *const *xs, scn_request_t *reqs, size_t n,
                      const char *who, FILE *report, size_t *made)
{
    size_t n_uuid = 0, n_now = 0;
    for (size_t i = 0; i < n; i++) {
        strs_t uuids = {0}, stamps = {0};
        int rc = scan_request(&reqs[i], &uuids, &stamps);
        for (size_t k = 0; rc == 0 && k < uuids.n; k++) {
            /* A UUID the client reuses later is an identity, not a fresh
             * value: only one-off UUIDs become {{uuid}}. */
            size_t users = 0;
            for (size_t j = 0; j < n; j++)
                users += draft_count(&reqs[j], uuids.v[k]) > 0;
            if (users != 1 || in_responses(xs, n, uuids.v[k]))
                continue;
            long r = draft_replace(&reqs[i], uuids.v[k], "{{uuid}}");
            rc = r < 0 ? -1 : 0;
            n_uuid += r > 0;
        }
        int64_t ref = timeval_reference((const char *const *)stamps.v, stamps.n, xs[i]->t_start_us);
        for (size_t k = 0; rc == 0 && k < stamps.n; k++) {
            char tpl[48];
            if (!timeval_template(stamps.v[k], strlen(stamps.v[k]), ref, tpl, sizeof tpl) ||
                in_responses(xs, n, stamps.v[k]))
                continue;
            long r = draft_replace(&reqs[i], stamps.v[k], tpl);
            rc = r < 0 ? -1 : 0;
            n_now += r > 0;
        }
        strs_fini(&uuids);
        strs_fini(&stamps);
        if (rc < 0)
            return -1;
    }
    *made += n_uuid + n_now;
    if (report && n_uuid)
        fprintf(report, "aiotest-convert: %s: %zu client-made UUID(s) -> {{uuid}}\n", who, n_uuid);
    if (report && n_now)
        fprintf(report, "aiotest-convert: %s: %zu timestamp(s) near the request time -> {{now_ms}}/{{now_s}} (offsets kept)\n", who, n_now);
    return 0;
}

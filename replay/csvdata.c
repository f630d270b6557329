/* csvdata: an RFC 4180 reader into one block of cells, bound to variables. */
#include "csvdata.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cell {
    size_t off, len;    /* slice of csvdata.text */
} cell_t;

struct csvdata {
    char *text;         /* unescaped cell bytes, back to back */
    cell_t *cells;      /* rows * cols, row-major */
    size_t rows, cols;
    size_t *var;        /* symbol index of each column */
};

/* The reader's state while one text is parsed. */
typedef struct reader {
    const char *name;
    const char *s;
    size_t len, i;
    size_t line;        /* 1-based line of s[i] */
    char *text;
    size_t text_len, text_cap;
    cell_t *cells;
    size_t n_cells, cells_cap;
    char *err;
    size_t errlen;
} reader_t;

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 16;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*p, nc * size);
    if (!np)
        return -1;
    *p = np;
    *cap = nc;
    return 0;
}

static int put_byte(reader_t *r, char c)
{
    if (grow((void **)&r->text, &r->text_cap, r->text_len + 1, 1) < 0)
        return -1;
    r->text[r->text_len++] = c;
    return 0;
}

static int put_cell(reader_t *r, size_t off)
{
    if (grow((void **)&r->cells, &r->cells_cap, r->n_cells + 1, sizeof(cell_t)) < 0)
        return -1;
    r->cells[r->n_cells++] = (cell_t){ off, r->text_len - off };
    return 0;
}

/* Length of the line break at s[i] ("\n" or "\r\n"), 0 when there is none. */
static size_t eol(const reader_t *r)
{
    if (r->i < r->len && r->s[r->i] == '\n')
        return 1;
    if (r->i + 1 < r->len && r->s[r->i] == '\r' && r->s[r->i + 1] == '\n')
        return 2;
    return 0;
}

static int oom(reader_t *r)
{
    snprintf(r->err, r->errlen, "%s: out of memory", r->name);
    return -1;
}

static int quoted_field(reader_t *r)
{
    size_t open_line = r->line;
    r->i++;
    for (;;) {
        if (r->i == r->len) {
            snprintf(r->err, r->errlen, "%s:%zu: unterminated quote: expected a closing \"",
                     r->name, open_line);
            return -1;
        }
        char c = r->s[r->i++];
        if (c == '"') {
            if (r->i < r->len && r->s[r->i] == '"')
                r->i++; /* "" is one quote */
            else
                break;
        } else if (c == '\n') {
            r->line++;
        }
        if (put_byte(r, c) < 0)
            return oom(r);
    }
    if (r->i < r->len && r->s[r->i] != ',' && !eol(r)) {
        snprintf(r->err, r->errlen, "%s:%zu: expected , or end of line after a closing quote",
                 r->name, r->line);
        return -1;
    }
    return 0;
}

static int plain_field(reader_t *r)
{
    while (r->i < r->len && r->s[r->i] != ',' && !eol(r))
        if (put_byte(r, r->s[r->i++]) < 0)
            return oom(r);
    return 0;
}

/* Reads one record into the cells. Returns 1 (a record of *n fields starting
 * on line *line), 0 at the end, -1 with err. Blank lines are skipped: a trailing newline or a spaced-out
 * file is not a row of empty values. */
static int read_record(reader_t *r, size_t *n, size_t *line)
{
    size_t br;
    while ((br = eol(r)) != 0) {
        r->i += br;
        r->line++;
    }
    if (r->i == r->len)
        return 0;
    *n = 0;
    *line = r->line;
    for (;;) {
        size_t off = r->text_len;
        int rc = r->i < r->len && r->s[r->i] == '"' ? quoted_field(r) : plain_field(r);
        if (rc < 0)
            return -1;
        if (put_cell(r, off) < 0)
            return oom(r);
        (*n)++;
        if (r->i < r->len && r->s[r->i] == ',') {
            r->i++;
            continue;
        }
        br = eol(r);
        r->i += br;
        if (br)
            r->line++;
        return 1;
    }
}

void csvdata_free(csvdata_t *c)
{
    if (!c)
        return;
    free(c->text);
    free(c->cells);
    free(c->var);
    free(c);
}

/* Interns the column variables, from d->vars or from the header row (the
 * first rec_len cells). */
static int bind_columns(reader_t *r, csvdata_t *c, const scn_data_t *d, tpl_symtab_t *st)
{
    c->var = calloc(c->cols, sizeof(size_t));
    if (!c->var)
        return oom(r);
    for (size_t k = 0; k < c->cols; k++) {
        const char *name = d->n_vars ? d->vars[k] : r->text + r->cells[k].off;
        size_t len = d->n_vars ? strlen(name) : r->cells[k].len;
        if (len == 0 || memchr(name, '\0', len)) {
            if (d->n_vars)
                snprintf(r->err, r->errlen, "%s: data source variable %zu has no name", r->name, k + 1);
            else
                snprintf(r->err, r->errlen, "%s:1: column %zu has no variable name", r->name, k + 1);
            return -1;
        }
        int idx = tpl_symtab_intern(st, name, len);
        if (idx < 0)
            return oom(r);
        for (size_t m = 0; m < k; m++) {
            if (c->var[m] == (size_t)idx) {
                snprintf(r->err, r->errlen, "%s:1: columns %zu and %zu are both bound to \"%.*s\"",
                         r->name, m + 1, k + 1, (int)len, name);
                return -1;
            }
        }
        c->var[k] = (size_t)idx;
    }
    return 0;
}

csvdata_t *csvdata_parse(const char *name, const char *text, size_t len, const scn_data_t *d,
                         tpl_symtab_t *st, char *err, size_t errlen)
{
    reader_t r = { .name = name, .s = text, .len = len, .line = 1, .err = err, .errlen = errlen };
    csvdata_t *c = calloc(1, sizeof(*c));
    if (!c) {
        oom(&r);
        goto fail;
    }
    if (r.len >= 3 && memcmp(r.s, "\xEF\xBB\xBF", 3) == 0)
        r.i = 3; /* a UTF-8 byte order mark, as spreadsheets write it */

    size_t n, first_line = 0, rec_line;
    int rc;
    while ((rc = read_record(&r, &n, &rec_line)) == 1) {
        if (c->cols == 0) {
            c->cols = n;
            first_line = rec_line;
            if (d->n_vars && d->n_vars != n) {
                snprintf(err, errlen, "%s:%zu: expected %zu columns (one per variable), found %zu",
                         name, rec_line, d->n_vars, n);
                goto fail;
            }
        } else if (n != c->cols) {
            snprintf(err, errlen, "%s:%zu: expected %zu columns (as in line %zu), found %zu",
                     name, rec_line, c->cols, first_line, n);
            goto fail;
        }
    }
    if (rc < 0)
        goto fail;
    if (!r.text && !(r.text = malloc(1))) { /* every cell empty: still a valid base */
        oom(&r);
        goto fail;
    }
    if (c->cols == 0) {
        snprintf(err, errlen, "%s:1: empty file: expected %s", name,
                 d->n_vars ? "rows of values" : "a header row naming the variables, then rows");
        goto fail;
    }
    if (bind_columns(&r, c, d, st) < 0)
        goto fail;
    size_t skip = d->n_vars ? 0 : c->cols;  /* the header row is not data */
    c->rows = (r.n_cells - skip) / c->cols;
    if (c->rows == 0) {
        snprintf(err, errlen, "%s:%zu: no data rows: expected at least one row after the header",
                 name, r.line);
        goto fail;
    }
    memmove(r.cells, r.cells + skip, (r.n_cells - skip) * sizeof(cell_t));
    c->cells = r.cells;
    c->text = r.text;
    return c;
fail:
    free(r.text);
    free(r.cells);
    csvdata_free(c);
    return NULL;
}

/* Reads a whole file into memory. Returns NULL with err. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 0, n = 0, got;
    do {
        if (grow((void **)&buf, &cap, n + 65536, 1) < 0) {
            snprintf(err, errlen, "%s: out of memory", path);
            goto fail;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
        goto fail;
    }
    fclose(f);
    *len = n;
    return buf;
fail:
    free(buf);
    fclose(f);
    return NULL;
}

csvdata_t *csvdata_load(const scn_data_t *d, const char *base_dir, tpl_symtab_t *st,
                        char *err, size_t errlen)
{
    if (!d->path || !*d->path) {
        snprintf(err, errlen, "data source: expected a CSV path");
        return NULL;
    }
    char *path = NULL;
    if (d->path[0] == '/' || !base_dir || !*base_dir)
        path = strdup(d->path);
    else if (asprintf(&path, "%s/%s", base_dir, d->path) < 0)
        path = NULL;
    if (!path) {
        snprintf(err, errlen, "%s: out of memory", d->path);
        return NULL;
    }
    csvdata_t *c = NULL;
    size_t len;
    char *text = read_file(path, &len, err, errlen);
    if (text)
        c = csvdata_parse(path, text, len, d, st, err, errlen);
    free(text);
    free(path);
    return c;
}

size_t csvdata_rows(const csvdata_t *c)
{
    return c->rows;
}

size_t csvdata_cols(const csvdata_t *c)
{
    return c->cols;
}

int csvdata_bind(const csvdata_t *c, size_t row, tpl_vars_t *vars)
{
    const cell_t *cells = c->cells + (row % c->rows) * c->cols;
    for (size_t k = 0; k < c->cols; k++)
        if (tpl_vars_set(vars, c->var[k], c->text + cells[k].off, cells[k].len) < 0)
            return -1;
    return 0;
}

/* csvdata: CSV data sources of a scenario (RFC 4180: quotes, "" escapes, CRLF),
 * bound to variables. User N takes row N modulo the row count (global user
 * numbering, so --segment keeps the assignment). Blank lines are skipped and a
 * UTF-8 byte order mark is ignored; every row has the first row's column count. */
#ifndef AIOTEST_CSVDATA_H
#define AIOTEST_CSVDATA_H

#include <stddef.h>

#include "scenario.h"
#include "template.h"

typedef struct csvdata csvdata_t;

/* Loads d->path (relative paths resolved against base_dir) and interns its
 * variables in st: d->vars name the columns, or the header row does when
 * d->n_vars == 0 (the header row is then not data). Returns NULL with err
 * "FILE:LINE: what was expected" (unterminated quote, wrong column count, no rows). */
csvdata_t *csvdata_load(const scn_data_t *d, const char *base_dir, tpl_symtab_t *st,
                        char *err, size_t errlen);
void csvdata_free(csvdata_t *c);
size_t csvdata_rows(const csvdata_t *c);
/* Sets the variables of row (row modulo the row count) in vars. Returns 0 or -1. */
int csvdata_bind(const csvdata_t *c, size_t row, tpl_vars_t *vars);

/* csvdata_load on text already in memory (len bytes, may hold NUL bytes);
 * name is the file name used in errors. */
csvdata_t *csvdata_parse(const char *name, const char *text, size_t len, const scn_data_t *d,
                         tpl_symtab_t *st, char *err, size_t errlen);

/* Number of columns (= variables bound by each row). */
size_t csvdata_cols(const csvdata_t *c);

#endif

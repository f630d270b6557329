/* params: parametrisation beyond correlation. Values a CSV data file binds
 * (--data: recorded literals equal to a column's first row become
 * {{column}}), and values the client made up: UUIDs that no response returned
 * become {{uuid}}, timestamps near the request time {{now_ms}}/{{now_s}} with
 * their offset (timeval.h). */
#ifndef AIOTEST_CONV_PARAMS_H
#define AIOTEST_CONV_PARAMS_H

#include <stddef.h>
#include <stdio.h>

#include "mp_error.h"
#include "recording.h"
#include "scenario.h"

typedef struct params_row {
    char **names;    /* header row: variable names */
    char **values;   /* first data row */
    size_t n;
} params_row_t;

/* Reads the header row and first data row of a CSV file (RFC 4180 quoting).
 * Column names must be variable names ([A-Za-z_][A-Za-z0-9_]*). Returns 0 or
 * MP_ERR_IO / MP_ERR_INVALID with err "FILE:LINE: ...". */
int params_load_csv(const char *path, params_row_t *row, mp_error_t *err);
void params_row_fini(params_row_t *row);

/* Replaces values of row (3 bytes or longer) in reqs[0..n) by {{name}}.
 * Returns the number of replacements, or -1 (out of memory). */
long params_apply_row(const params_row_t *row, scn_request_t *reqs, size_t n);

/* Client-made values of one session (xs[i] recorded as reqs[i]) become
 * generators. Adds to *made; report gets one line per kind. Returns 0 or -1. */
int params_generators(const rec_exchange_t *const *xs, scn_request_t *reqs, size_t n,
                      const char *who, FILE *report, size_t *made);

#endif

/* extract: what a response is checked for and what is taken from it.
 * Extractors (header, cookie, JSON path, regex) are compiled once at load and
 * applied per response into a user's variables; checks (status set, body
 * contains) turn a response into a counted failure.
 * A compiled ext_t is read-only and may be shared by threads; note that glibc
 * serialises regexec on one regex_t with a lock, so regex extractors used by
 * many threads at high rates are better compiled once per thread. */
#ifndef AIOTEST_EXTRACT_H
#define AIOTEST_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hc_msg.h"
#include "scenario.h"
#include "stats.h"
#include "template.h"

/* A response as the HTTP client hands it over (hc_msg.h): slices into its
 * buffers, valid only during the call; the body decoded and bounded by
 * --max-body. */
typedef hc_header_t resp_header_t;
typedef hc_resp_t resp_view_t;

typedef struct ext ext_t;

/* Compiles one extractor (regex compiled, JSON path parsed, variable interned
 * in st). Returns NULL with err naming what is wrong with expr. */
ext_t *ext_compile(const scn_extractor_t *e, tpl_symtab_t *st, char *err, size_t errlen);
void ext_free(ext_t *e);

/* Applies e to resp, setting the variable in vars. Returns 0 when a value (or
 * the default) was set, -1 when nothing matched and there is no default. */
int ext_apply(const ext_t *e, const resp_view_t *resp, tpl_vars_t *vars);

/* Applies n extractors in order, parsing a JSON body once for all of them
 * (prefer it to n calls of ext_apply). Returns how many found nothing and had
 * no default (0: all set). */
size_t ext_apply_all(ext_t *const *e, size_t n, const resp_view_t *resp, tpl_vars_t *vars);

/* Evaluates the checks on resp: STATS_OK, STATS_FAIL_HTTP (status not in the set;
 * with an empty set, status >= 400) or STATS_FAIL_CHECK (a body string missing). */
stats_fail_t check_eval(const scn_check_t *c, const resp_view_t *resp);

/* Whether the response body is needed at all for these extractors and checks
 * (lets the connection layer skip buffering bodies nobody reads). */
int ext_needs_body(const scn_request_t *r);

#endif

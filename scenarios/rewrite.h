/* rewrite: rewrite and filter rules of aiotest-replay and aiotest-convert
 * (docs/aiotest-replay.md, "Rewrite and filter"; one grammar, here), applied
 * once to a scenario (replay: before it is compiled, so the hot path pays
 * nothing for them; convert: before it is saved) and, for the filters, to a
 * recording's exchanges as the converter reads them:
 *   --set-header 'Name: value'   replaces every Name header (any case) by one, or adds it;
 *                                the value is a template ({{copy}}, {{user_id}} ...)
 *   --drop-header NAME           removes every NAME header
 *   --rewrite-path 'RE=>REPL'    POSIX extended RE on a request's path and query
 *                                (the URL after its origin), first match replaced by
 *                                REPL (\0-\9: the match and its groups)
 *   --include / --exclude SPEC   keep only requests matching an --include (when any),
 *                                then leave out those matching an --exclude. SPEC:
 *                                method:GET[,POST]  host:GLOB  path:RE  status:2xx|404
 * Rules run in that order: filters see the request as recorded (method, host,
 * path before any rewrite, status of the recorded response). */
#ifndef AIOTEST_REWRITE_H
#define AIOTEST_REWRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "recording.h"
#include "scenario.h"

typedef struct rewrite rewrite_t;

typedef struct rewrite_stats {
    size_t excluded;           /* requests left out by --include/--exclude */
    size_t steps_removed;      /* steps left with no request */
    size_t headers_set, headers_dropped, paths_rewritten;
} rewrite_stats_t;

/* NULL on out of memory. */
rewrite_t *rewrite_new(void);
void rewrite_free(rewrite_t *rw);
/* Each returns 0, or -1 with err naming the option and what was expected. */
int rewrite_set_header(rewrite_t *rw, const char *spec, char *err, size_t errlen);
int rewrite_drop_header(rewrite_t *rw, const char *name, char *err, size_t errlen);
int rewrite_path(rewrite_t *rw, const char *spec, char *err, size_t errlen);
int rewrite_filter(rewrite_t *rw, bool include, const char *spec, char *err, size_t errlen);

/* Whether any rule is given; whether a filter needs the recorded status. */
bool rewrite_any(const rewrite_t *rw);
bool rewrite_has_filters(const rewrite_t *rw);
bool rewrite_needs_status(const rewrite_t *rw);

/* Whether a request passes the filters. host: the URL's authority ("h:port"
 * or "h"); path: path and query; status: the recorded one, 0 when unknown
 * (a status rule then does not match). */
bool rewrite_keep(const rewrite_t *rw, const char *method, const char *host, const char *path,
                  int status);
/* rewrite_keep of a recorded exchange (method, authority, target, status), in
 * the form of the converter's keep callback (conv_opts_t.keep): arg is the
 * rewrite_t. */
bool rewrite_keep_exchange(void *arg, const rec_exchange_t *x);

/* Applies the rules to s in place: filters (when filter is true; each
 * request's status taken from its check's statuses when it has one, else
 * unknown), then headers and paths; steps left empty are removed. Returns 0,
 * or -1 with err (out of memory, or a class left with no task step: named). */
int rewrite_scenario(const rewrite_t *rw, scn_scenario_t *s, bool filter, rewrite_stats_t *st,
                     char *err, size_t errlen);

#endif

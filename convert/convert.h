/* convert: recordings and HAR files to a scenario (docs/aiotest-convert.md).
 *
 * The library behind aiotest-convert, also used by aiotest-replay to run a
 * recording directly. Pipeline: read every input (recording or HAR 1.2) ->
 * filters -> sessions (client key, --session-gap) -> user classes (normalised
 * request sequence, weight = sessions) -> steps (parallel groups, think times,
 * on_start/on_stop) -> correlation (extractors + {{variables}}) -> scenario. */
#ifndef AIOTEST_CONVERT_H
#define AIOTEST_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mp_error.h"
#include "opts.h"
#include "scenario.h"

/* What the conversion read and dropped (for the summary line and tests). */
typedef struct conv_stats {
    size_t read;             /* exchanges/entries read from all inputs */
    size_t skipped;          /* HAR entries that could not be read (each named on the report) */
    char skipped_at[160];    /* where: "x.har entry 3, 17; y.har entry 0", cut with "..." */
    size_t damaged;          /* recordings cut short (complete records before the cut used) */
    size_t dropped_error;    /* tunnel, error, incomplete or unanswered records */
    size_t dropped_host;     /* --include-host / --exclude-host */
    size_t dropped_path;     /* --exclude-path */
    size_t dropped_static;   /* --no-static */
    size_t kept;             /* read minus every drop */
    size_t sessions;
    size_t classes;
    size_t requests;         /* requests in the scenario (every class, every section) */
    size_t correlated;       /* extractors made */
    size_t generated;        /* client-made values templated ({{uuid}}, {{now_ms}}) */
    size_t data_values;      /* literals replaced by --data columns */
    size_t bodies_decoded;   /* response bodies whose Content-Encoding was undone (bodies.h) */
    size_t bodies_undecoded; /* left coded: an unknown coding or invalid bytes */
    size_t bodies_limited;   /* decoded past the limit: a prefix kept */
    char undecoded_names[160]; /* "compress 6, bad br 1" */
} conv_stats_t;

/* Converts the inputs (recordings and HAR files, mixed; the kind is read from
 * the content) into a new validated scenario. Returns 0 and *out (caller frees
 * with scn_free), or a negative MP_ERR_* code with err naming file, record or
 * entry and field (input errors), or the option at fault. stats may be NULL. */
int conv_to_scenario(const char *const *paths, size_t n, const conv_opts_t *o,
                     scn_scenario_t **out, conv_stats_t *stats, mp_error_t *err);

/* One summary line "N read; S skipped (x.har entry 3); dropped D (error E, host
 * H, path P, static S); K kept; ..." without a newline, into buf; when a response
 * body was coded it ends with "; B decoded" and, when some could not be, ", U
 * undecoded (compress 6)" and ", L cut at the decode limit". Returns buf. */
char *conv_stats_line(const conv_stats_t *s, char *buf, size_t len);

#endif

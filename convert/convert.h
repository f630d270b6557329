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
#include "recording.h"
#include "scenario.h"

/* Timed replay: when each session's steps started in the recording. Class c of the
 * scenario conv_to_timed returns is session c; all its steps are tasks (no on_start
 * or on_stop), and step k of it started step_us[c][k] µs after the recording's first
 * request. */
/* A recorded response, for replay's --diff (body decoded of its Content-Encoding
 * when it could be). */
typedef struct conv_recorded {
    int status;
    char *content_type;           /* the header's value, or NULL */
    uint8_t *body;
    size_t body_len;
    bool truncated;               /* the recording kept a prefix only */
} conv_recorded_t;

typedef struct conv_timeline {
    uint64_t **step_us;           /* [class][step], owned */
    conv_recorded_t **recorded;   /* [class][request], the session's requests in order
                                     (step by step, a step's requests in order) */
    size_t *n_recorded;           /* [class] */
    size_t *n_steps;              /* [class] */
    size_t n_classes;
    uint64_t length_us;           /* first request's start to the last response's end */
} conv_timeline_t;

void conv_timeline_fini(conv_timeline_t *tl);

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
    size_t dropped_upgrade;  /* 101 answers to other upgrades (h2c, tcp), and WebSocket
                              * sessions in a timed conversion (no ws step there) */
    size_t dropped_rule;     /* conv_opts_t.keep */
    size_t kept;             /* read minus every drop */
    size_t sessions;
    size_t classes;
    size_t requests;         /* requests in the scenario (every class, every section) */
    size_t ws_steps;         /* WebSocket sessions made ws steps (every class) */
    size_t ws_messages;      /* client messages in them */
    size_t ws_cut;           /* of them, recorded cut at --max-body (the prefix is sent) */
    size_t ws_braces;        /* text messages left out: they hold "{{" (no escape) */
    size_t ws_background;    /* of ws_steps, sessions that stayed open while later steps ran */
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

/* conv_to_scenario, and for replay's --diff the recorded responses of each class:
 * those of the session the class was drawn from (its representative), class c's
 * requests in order (on_start, tasks, on_stop; step by step, a step's requests in
 * order) answered rec->recorded[c][0 .. n_recorded[c]). Only recorded, n_recorded
 * and n_classes of rec are set (free with conv_timeline_fini); on error nothing. */
int conv_to_scenario_recorded(const char *const *paths, size_t n, const conv_opts_t *o,
                              scn_scenario_t **out, conv_timeline_t *rec, conv_stats_t *stats,
                              mp_error_t *err);

/* Like conv_to_scenario, but every session becomes its own class (weight 1, its
 * name "session N <client>") with its steps (parallel groups as recorded, correlation
 * and cookies as usual; no class merging, no on_start/on_stop sections), and tl
 * receives when each step started. Returns 0 or a negative MP_ERR_* code as
 * conv_to_scenario; tl is filled only on success (free with conv_timeline_fini). */
int conv_to_timed(const char *const *paths, size_t n, const conv_opts_t *o,
                  scn_scenario_t **out, conv_timeline_t *tl, conv_stats_t *stats, mp_error_t *err);

/* One summary line "N read; S skipped (x.har entry 3); dropped D (error E, host
 * H, path P, static S); K kept; ..." without a newline, into buf; when a response
 * body was coded it ends with "; B decoded" and, when some could not be, ", U
 * undecoded (compress 6)" and ", L cut at the decode limit". Returns buf. */
char *conv_stats_line(const conv_stats_t *s, char *buf, size_t len);

#endif

/* redact: what a recording must not hold in clear, applied to each exchange
 * just before a recorder (record.c for the proxy, pcap/pcaprec.c for passive
 * capture) writes it.
 *
 *  - Headers (--redact-header NAME, --redact-defaults): a request value
 *    becomes the variable {{secret.NAME}}, which the replay fills from
 *    --secrets; a response value becomes the marker <redacted> (Set-Cookie
 *    keeps its cookie name and attributes).
 *  - Bodies, both directions: a JSON path ($.password), a form field of an
 *    application/x-www-form-urlencoded request body or query, or a regex
 *    (its first group, else the whole match), replaced the same way.
 *  - A request value that an earlier written response holds (a login's
 *    token) is a derived value: it stays as recorded so that the converter's
 *    correlation takes it from the live response at replay. Masking it would
 *    hide nothing (the response is in the file) and would break the replay.
 *  - With --secrets-out FILE each replaced request value is kept there under
 *    its variable name: a JSON object, mode 0600, rewritten when one is added.
 *    The same name with different values gets _2, _3 ... suffixes. */
#ifndef CAPTURE_REDACT_H
#define CAPTURE_REDACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recording.h"

/* What a redacted response value becomes in the file. */
#define REDACT_MARK "<redacted>"

typedef struct redact redact_t;

typedef struct redact_stats {
    uint64_t clear;      /* exchanges written with Authorization, Cookie or Set-Cookie
                          * that no rule redacted */
    uint64_t replaced;   /* values replaced by a variable or the marker */
    uint64_t kept;       /* request values left as recorded: derived from a response */
    uint64_t unchecked;  /* bodies the JSON rules could not read (cut by --max-body,
                          * malformed) while looking like JSON, or values at a JSON
                          * path that are not strings: not redacted */
    uint64_t secrets;    /* distinct values in the secrets file */
    uint64_t write_errors; /* failed rewrites of the secrets file */
} redact_stats_t;

/* An empty rule set. NULL on out of memory. */
redact_t *redact_new(void);
void redact_free(redact_t *r);

/* --redact-header NAME (case-insensitive). 0 or -1 (out of memory). */
int redact_header(redact_t *r, const char *name);
/* Authorization, Cookie, Set-Cookie, Proxy-Authorization. */
int redact_defaults(redact_t *r);
/* --redact-body JSONPATH ("$.password"), --redact-form FIELD, --redact-regex
 * REGEX (POSIX ERE). Return 0, or -1 with err naming the rule and what was
 * expected. */
int redact_body(redact_t *r, const char *jsonpath, char *err, size_t errlen);
int redact_form(redact_t *r, const char *field, char *err, size_t errlen);
int redact_regex(redact_t *r, const char *regex, char *err, size_t errlen);
/* --secrets-out FILE: created at once (0600, "{}"), so a bad path fails
 * before the capture starts. 0, or -1 with err. */
int redact_secrets_out(redact_t *r, const char *path, char *err, size_t errlen);
/* true when any rule is set. */
bool redact_active(const redact_t *r);

/* Applies the rules to x in place (x is about to be written). r may be NULL
 * (no rules; exchanges with secrets in clear are not counted then). Returns
 * 0, or -1 when out of memory (x may then be partly redacted: do not write
 * it). */
int redact_exchange(redact_t *r, rec_exchange_t *x);

void redact_get_stats(const redact_t *r, redact_stats_t *s);

#endif

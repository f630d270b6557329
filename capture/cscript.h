/* cscript: aiotest-capture --script FILE, the Lua hook exchange(ex) run on
 * every exchange before it is written (after the filters, before the
 * redaction rules, so these still mask what the script leaves or adds).
 *
 * ex holds the exchange as it would be written (docs/scripting.md,
 * "Capture and convert hooks"); the hook may change its strings, headers and
 * bodies in place, or return false to drop it. One state, used by the
 * capture's one thread. An error in the hook (or a change that makes the
 * exchange invalid) leaves the exchange unwritten: a half-masked exchange is
 * worse than none; the first message is printed, every one counted. */
#ifndef CAPTURE_CSCRIPT_H
#define CAPTURE_CSCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "recording.h"

typedef struct cscr cscr_t;

/* Loads path (its top level runs once). NULL with err: "--script: FILE:LINE:
 * message", no function exchange, no Lua in this build. */
cscr_t *cscr_new(const char *path, char *err, size_t errlen);
void cscr_free(cscr_t *s);

typedef enum cscr_verdict { CSCR_KEEP = 0, CSCR_DROP, CSCR_ERROR } cscr_verdict_t;

/* Runs exchange(ex) on x: KEEP (x changed as the hook said, still valid),
 * DROP (it returned false) or ERROR (x unchanged, not to be written). */
cscr_verdict_t cscr_exchange(cscr_t *s, rec_exchange_t *x);

typedef struct cscr_stats {
    uint64_t seen, dropped, errors;
} cscr_stats_t;
void cscr_get_stats(const cscr_t *s, cscr_stats_t *st);

#endif

/* script: Lua hooks of aiotest-replay (--script FILE).
 *
 * One scr_t (one lua_State) per worker thread, made with the worker and freed
 * with it, used only by that thread: no lock anywhere. The main thread has one
 * more, which checks the file before the run (a syntax error is a usage error)
 * and calls done(summary) after it. Every state runs the file's top level and
 * setup(run) once (run.thread tells which state it is: 0..threads-1 for the
 * workers, -1 for the main thread's).
 *
 * Metrics: metric.counter(name [, labels]) and metric.histogram(name [,
 * labels [, bounds]]) return a handle (cached per state and label set) whose
 * :inc([n]) / :observe(v) add to this state's own slots in an smet_t
 * (smetric.h): no lock on the hot path, summed by the readers.
 *
 * Per-user state: a Lua table per user, made the first time a hook of that
 * user runs and dropped by scr_user_free; its fields are the script's own plus
 * id, class and vars (a view of the user's template variables: reading gives
 * the current value, writing sets it for later templates).
 *
 * Hooks that are not defined cost nothing: user.c asks scr_has() before it
 * builds anything. A hook that raises an error, or returns false, fails its
 * request as STATS_FAIL_SCRIPT with the message (file:line: ...); the first
 * message of each kind is printed on stderr, every one is counted. The run
 * goes on.
 *
 * Built without Lua (-Dlua=none): scr_new fails with "this build has no Lua". */
#ifndef AIOTEST_SCRIPT_H
#define AIOTEST_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "extract.h"
#include "hc_msg.h"
#include "smetric.h"
#include "stats.h"
#include "template.h"

typedef struct scr scr_t;

/* The request and header pair of the HTTP client (hc_msg.h), under the names
 * this module uses (one place to change when that layer renames them). */
typedef hc_req_t scr_req_t;
typedef hc_header_t scr_header_t;

typedef enum scr_hook {
    SCR_SETUP = 0, SCR_DONE, SCR_ON_START, SCR_ON_STOP, SCR_REQUEST, SCR_RESPONSE, SCR__COUNT
} scr_hook_t;

/* The user a hook runs for (user.c fills it; key identifies the user). */
typedef struct scr_user {
    const void *key;
    uint64_t id;
    const char *cls;
    tpl_vars_t *vars;
    const tpl_symtab_t *symtab;
    int *ref;                     /* where the user keeps its table's registry ref
                                     (0 before the first hook; NULL: not kept, found
                                     by key each time) */
} scr_user_t;

/* True when this build has Lua ("LuaJIT 2.1.0-beta3" / "Lua 5.4" in *name). */
bool scr_available(const char **name);

/* The script to run: cli (--script, as given) when set, else the scenario's
 * script field resolved against the scenario file's folder; NULL when neither
 * (or out of memory: *oom set). Free the result. */
char *scr_path(const char *cli, const char *scenario_file, const char *field, bool *oom);

/* Loads path into a new state and runs its top level. metrics (not owned,
 * may be NULL: metric.* then raise an error) receives the state's
 * metric.counter / metric.histogram updates in its slot array writer. NULL
 * with err "FILE:LINE: message" (syntax or runtime error at load, unreadable
 * file, no Lua in this build). */
scr_t *scr_new(const char *path, smet_t *metrics, unsigned writer, char *err, size_t errlen);
void scr_free(scr_t *s);
/* scr_new, then scr_setup(thread, threads): a worker's state in one call
 * (writer: thread, or threads for the main thread's thread -1). */
scr_t *scr_open(const char *path, int thread, unsigned threads, smet_t *metrics, char *err,
                size_t errlen);

/* Whether the script defines hook h (a global function of its name). */
bool scr_has(const scr_t *s, scr_hook_t h);

/* setup(run) with run = {thread = thread, threads = threads, script = path}.
 * 0, or -1 with err (the error it raised). Not defined: 0. */
int scr_setup(scr_t *s, int thread, unsigned threads, char *err, size_t errlen);

/* on_start(user) / on_stop(user). An error is printed once and counted in
 * scr_errors; the user goes on. */
void scr_user_start(scr_t *s, const scr_user_t *u);
void scr_user_stop(scr_t *s, const scr_user_t *u);
/* Drops u's table (no hook runs) and its ref (*u->ref = 0): a later hook of
 * the same key makes a new one. */
void scr_user_free(scr_t *s, const scr_user_t *u);
/* Bytes u's table took when it was made (fields the script adds later are
 * not in it); 0 when u has none. */
size_t scr_user_memory(scr_t *s, const void *key);
/* Bytes the Lua state holds now (all its users' tables together). */
size_t scr_memory(const scr_t *s);
/* Hook errors outside requests (on_start, on_stop) so far. */
uint64_t scr_errors(const scr_t *s);

/* request(user, req), req = {name, method, url, headers = {name = value},
 * body}: the hook may change method, url, headers and body; rv is then
 * rebuilt from them (its slices point into s, valid until the next call).
 * Returns 0 (sent, changed or not), or -STATS_FAIL_SCRIPT (returned false, or
 * an error, or a header or URL with CR/LF: not sent). */
int scr_request(scr_t *s, const scr_user_t *u, const char *name, scr_req_t *rv);

/* response(user, req, resp), req = {name, method, url}, resp = {status,
 * headers (lower-case names), body, header(name), json()} (valid during the
 * call only). Returns fail unchanged, or STATS_FAIL_SCRIPT when the hook
 * returned false (reason: its second value) or raised an error. */
stats_fail_t scr_response(scr_t *s, const scr_user_t *u, const char *name, const char *method,
                          const char *url, const resp_view_t *resp, stats_fail_t fail);

/* The reason of the last STATS_FAIL_SCRIPT that scr_request, scr_response or
 * scr_step_fill gave ("id != 123456", "FILE:LINE: message"): a string owned
 * by s that stays valid until scr_free (distinct reasons are kept once; past
 * 64 of them, "(other reasons)"). NULL before any. */
const char *scr_why(const scr_t *s);

/* ---- custom steps: a scenario step {"lua": "fn"} runs fn(user) as a
 * coroutine of u. user:request{method=, url=, headers=, body=} yields a
 * REQUEST (the user sends it and resumes the step with the response table);
 * user:sleep(seconds) yields a SLEEP (the user's timer resumes it). Nothing
 * blocks the event loop. */
typedef enum scr_step_kind {
    SCR_STEP_DONE = 0, SCR_STEP_REQUEST, SCR_STEP_SLEEP, SCR_STEP_ERROR, SCR_STEP_PARALLEL
} scr_step_kind_t;
typedef struct scr_step {
    scr_step_kind_t kind;
    uint64_t sleep_us;        /* SLEEP */
    size_t n;                 /* PARALLEL: requests (their URLs: scr_step_url) */
    const char *url;          /* REQUEST: a path or an absolute URL, NUL-terminated,
                               * valid until u's next step action */
    const char *error;        /* ERROR: "FILE:LINE: message", valid until the next call on s */
} scr_step_t;

/* Starts fn(user); *out says what the step wants next. */
void scr_step_begin(scr_t *s, const scr_user_t *u, const char *fn, scr_step_t *out);
/* Resumes u's step. After a REQUEST: resp (NULL when there was none) and its
 * fail category become user:request's result {status, headers, body, fail,
 * json()}; after a SLEEP: resp NULL and fail STATS_OK. */
void scr_step_resume(scr_t *s, const scr_user_t *u, const resp_view_t *resp, stats_fail_t fail,
                     scr_step_t *out);
/* user:parallel{{...}, {...}} yields PARALLEL: request i (0..n-1) has URL
 * scr_step_url(i) (valid like a REQUEST's url); each one's end goes to
 * scr_step_result, then scr_step_resume(NULL, STATS_OK) gives the step the
 * array of responses, in the order of the requests. */
const char *scr_step_url(scr_t *s, const scr_user_t *u, size_t i);
void scr_step_result(scr_t *s, const scr_user_t *u, size_t i, const resp_view_t *resp,
                     stats_fail_t fail);
/* rv, rendered for the step's request (authority, path, cookies), takes the
 * pending user:request's (idx -1) or user:parallel's request idx's method,
 * headers and body (slices into s, valid until the next call). 0, or
 * -STATS_FAIL_SCRIPT (bad method, header or body). */
int scr_step_fill(scr_t *s, const scr_user_t *u, int idx, scr_req_t *rv);
/* Drops u's step (the user stops in the middle of it). */
void scr_step_abort(scr_t *s, const scr_user_t *u);

/* done(summary) in the main thread's state: summary = {duration, requests,
 * failures, rps, failures_by = {category = n}, entries = {{method, name,
 * count, failures, rps, min_ms, avg_ms, p50_ms, p90_ms, p95_ms, p99_ms,
 * max_ms, failures_by}...}, exit_code = rc, metrics = the script's metrics
 * as the report's script_metrics}. Returns the integer it returned
 * (0..255), else rc. An error: printed, rc. */
int scr_done(scr_t *s, stats_t *total, const stats_names_t *names, double duration_s, int rc);

#endif

/* scenario: the aiotest-scenario file (docs/file-formats.md), a stream of
 * msgpack maps: one header (hosts, variables, data sources), then one map per
 * user class.
 *
 * Templates: url, header names/values and bodies may contain {{name}} (a
 * variable) or a generator ({{uuid}}, {{now_ms}}, {{random_int A B}},
 * {{user_id}}); the library stores them as text, the replay expands them.
 *
 * Ownership: every pointer is heap memory owned by the containing struct;
 * scn_free frees a whole scenario. */
#ifndef AIOTEST_SCENARIO_H
#define AIOTEST_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mp_error.h"

#define SCN_FORMAT "aiotest-scenario"
#define SCN_VERSION_MAJOR 1
#define SCN_VERSION_MINOR 1

typedef struct scn_kv {
    char *name;
    char *value;
} scn_kv_t;

typedef enum scn_proto {
    SCN_PROTO_AUTO = 0, /* http: HTTP/1.1; https: ALPN h2, else HTTP/1.1 */
    SCN_PROTO_H1 = 1,   /* HTTP/1.1 only */
    SCN_PROTO_H2 = 2,   /* h2 over TLS (ALPN) */
    SCN_PROTO_H2C = 3,  /* cleartext h2 with prior knowledge */
} scn_proto_t;

typedef struct scn_host {
    char *base_url;     /* origin "http(s)://host[:port]"; hosts[0] is the default host */
    scn_proto_t proto;
} scn_host_t;

typedef struct scn_data {
    char *path;         /* CSV file, relative to the scenario file's folder */
    char **vars;        /* variable for column i; n_vars == 0: the CSV's header row names them */
    size_t n_vars;
} scn_data_t;

typedef enum scn_ext_kind {
    SCN_EXT_HEADER = 0, /* expr: response header name (case-insensitive) */
    SCN_EXT_COOKIE = 1, /* expr: cookie name from Set-Cookie */
    SCN_EXT_JSON = 2,   /* expr: JSON path "$.a.b[0].c" on the body */
    SCN_EXT_REGEX = 3,  /* expr: POSIX extended regex on the body; group selects the capture */
} scn_ext_kind_t;

typedef struct scn_extractor {
    char *var;          /* variable set for this user */
    scn_ext_kind_t kind;
    char *expr;
    int group;          /* regex capture group (default 1); unused for others */
    char *default_value;/* used when nothing matches; NULL: no match fails the request ("extract") */
} scn_extractor_t;

typedef struct scn_check {
    int *statuses;      /* accepted statuses; n_statuses == 0: any status < 400 */
    size_t n_statuses;
    char **body_contains; /* every string must occur in the body */
    size_t n_body_contains;
} scn_check_t;

typedef struct scn_request {
    char *name;         /* stats key, e.g. "GET /api/item/{id}" */
    char *method;
    char *url;          /* template; absolute, or a path resolved against hosts[0] */
    scn_kv_t *headers;  /* templates, in order; no hop-by-hop or length headers */
    size_t n_headers;
    uint8_t *body;      /* template bytes, may be NULL */
    size_t body_len;
    scn_extractor_t *extractors;
    size_t n_extractors;
    scn_check_t check;
    bool follow_redirects; /* follow 301/302/303/307/308 within the step */
} scn_request_t;

/* One client message of a WebSocket step (scenario 1.1). */
typedef struct scn_ws_msg {
    char *name;          /* stats entry "WS <step name> <name>"; e.g. "msg 0" */
    bool binary;         /* a binary message (opcode 2); else text (opcode 1) */
    uint8_t *data;       /* template bytes, may be NULL */
    size_t len;
    uint64_t gap_us;     /* recorded pause before it is sent (after the connect,
                          * or the previous message and its await) */
    /* Await after sending: await_count server data messages, or, when a match
     * rule is set, the first server message that matches it (await_json's
     * value equals await_equals, or the message holds await_contains). The
     * latency "send -> awaited reply" is the message's stats entry. */
    uint32_t await_count;
    char *await_json;    /* JSON path; with await_equals */
    char *await_equals;
    char *await_contains;
    scn_extractor_t *extractors; /* json or regex kinds, on the awaited message */
    size_t n_extractors;
} scn_ws_msg_t;

/* A WebSocket session (scenario 1.1): connect (HTTP/1.1 Upgrade), the client
 * messages in order, then a close. */
typedef struct scn_ws {
    char *name;          /* stats entries "WS <name> connect", "WS <name> <msg name>" */
    char *url;           /* template: ws:// or wss:// URL */
    scn_kv_t *headers;   /* extra handshake headers (Origin, Authorization...) */
    size_t n_headers;
    char *subprotocol;   /* Sec-WebSocket-Protocol to ask for; NULL: none */
    scn_ws_msg_t *msgs;
    size_t n_msgs;
    uint64_t close_gap_us; /* recorded pause between the last message and the close */
    /* The session runs beside the steps that follow (the recording kept it open
     * while they ran): the user goes on after the step's think time, and the
     * phase (on_start, an iteration, on_stop) ends when the session ended too. */
    bool background;
} scn_ws_t;

typedef struct scn_step {
    scn_request_t *requests; /* one for a serial step, several for a parallel group */
    size_t n_requests;
    bool parallel;           /* requests start together */
    uint64_t think_us;       /* recorded pause after the step (used with SCN_WAIT_RECORDED) */
    char *lua;               /* a custom step: the Lua function that runs it (no requests); NULL: none */
    scn_ws_t *ws;            /* a WebSocket step (no requests); NULL: none */
} scn_step_t;

typedef enum scn_wait_kind {
    SCN_WAIT_RECORDED = 0, /* after each step, its recorded think_us */
    SCN_WAIT_NONE = 1,     /* no pause */
    SCN_WAIT_CONSTANT = 2, /* min_us after each task step */
    SCN_WAIT_BETWEEN = 3,  /* uniform in [min_us, max_us] after each task step */
} scn_wait_kind_t;

typedef struct scn_wait {
    scn_wait_kind_t kind;
    uint64_t min_us, max_us;
} scn_wait_t;

typedef struct scn_steps {
    scn_step_t *v;
    size_t n;
} scn_steps_t;

typedef struct scn_class {
    char *name;
    uint32_t weight;       /* >= 1 */
    scn_wait_t wait;
    scn_steps_t on_start;  /* once per user, before the first task */
    scn_steps_t tasks;     /* in order, looping; one pass is an iteration */
    scn_steps_t on_stop;   /* once, when the user is stopped */
} scn_class_t;

typedef struct scn_scenario {
    int version_major, version_minor;
    int64_t created_us;
    char *tool;
    char *script;          /* Lua hooks for aiotest-replay, relative to the scenario file; NULL: none */
    scn_host_t *hosts;
    size_t n_hosts;
    scn_kv_t *vars;        /* initial values of variables, for every user */
    size_t n_vars;
    scn_data_t *data;
    size_t n_data;
    scn_class_t *classes;
    size_t n_classes;
} scn_scenario_t;

/* Allocates an empty scenario of the current version. NULL on out of memory. */
scn_scenario_t *scn_new(void);
void scn_free(scn_scenario_t *s);
void scn_class_fini(scn_class_t *c);
void scn_steps_fini(scn_steps_t *st);
void scn_step_fini(scn_step_t *st);
void scn_request_fini(scn_request_t *r);
void scn_ws_free(scn_ws_t *w);

/* The spelling of enum values in both files ("auto", "h1", "h2", "h2c";
 * "header", "cookie", "json", "regex"; "recorded", "none", "constant",
 * "between"). _name returns NULL for a value out of range; _parse returns
 * the value or -1 for an unknown spelling. */
const char *scn_proto_name(scn_proto_t p);
const char *scn_ext_kind_name(scn_ext_kind_t k);

/* gRPC: a request (or response) is a gRPC call when its content-type is
 * "application/grpc", alone or followed by "+proto", "+json"... or
 * parameters (case-insensitive; "application/grpc-web" is not). Its body is
 * length-prefixed messages (never templated by the converter), it carries
 * te: trailers, and the replay judges it by grpc-status. */
bool scn_grpc_content_type(const char *v, size_t n);
/* Whether r's headers hold such a content-type. */
bool scn_request_is_grpc(const scn_request_t *r);
const char *scn_wait_kind_name(scn_wait_kind_t k);
int scn_proto_parse(const char *s);
int scn_ext_kind_parse(const char *s);
int scn_wait_kind_parse(const char *s);

/* Whether url is the asterisk-form request target of RFC 9112 3.2.4 (an
 * OPTIONS request about the server as a whole, not a resource): "*" for the
 * default host, or "http(s)://authority*" (the authority holding none of
 * "/?#{}*") for another. *origin_len is then the length of the origin before
 * the "*" (0 for the bare form). Only OPTIONS may use it (scn_validate). */
bool scn_url_is_asterisk(const char *url, size_t *origin_len);

/* The name a request gets when the file gives none: "METHOD url" (heap,
 * caller frees; NULL on out of memory). */
char *scn_default_name(const char *method, const char *url);

/* Checks the whole scenario against the spec: at least one class, weights >= 1,
 * every request has method and url, templates are well-formed ({{ }} balanced,
 * known generators), regexes compile, JSON paths parse, wait min <= max.
 * Returns 0 or MP_ERR_INVALID with err naming class, section, step, request, field;
 * err->record is then the file record holding the fault (0 header, i+1 class i). */
int scn_validate(const scn_scenario_t *s, mp_error_t *err);

/* Reads and validates a scenario file. Returns 0 and *out (caller frees with
 * scn_free), or negative with err (file, record index, offset, field).
 * A recording is refused with MP_ERR_KIND. */
int scn_load(const char *path, scn_scenario_t **out, mp_error_t *err);

/* Validates s (MP_ERR_INVALID, nothing written) then writes it to path (header
 * record then one record per class). Returns 0 or negative. */
int scn_save(const char *path, const scn_scenario_t *s, mp_error_t *err);

/* Which kind of file path is, from its header: MP_KIND_RECORDING,
 * MP_KIND_SCENARIO, or negative with err. */
enum { MP_KIND_RECORDING = 1, MP_KIND_SCENARIO = 2 };
int mp_file_kind(const char *path, mp_error_t *err);

#endif

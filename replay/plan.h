/* plan: a scenario compiled into the form the engine runs. Built once in the
 * main thread before workers start, then shared read-only by every thread:
 * origins resolved to socket addresses, URLs, headers and bodies compiled to
 * templates (or to the whole HTTP/1.1 request when nothing is dynamic),
 * extractors compiled, every (method, name) interned as a stats entry, CSV
 * files loaded, class weights in one array for shape_distribute. */
#ifndef AIOTEST_PLAN_H
#define AIOTEST_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "csvdata.h"
#include "extract.h"
#include "origins.h"
#include "scenario.h"
#include "stats.h"
#include "template.h"
#include "url.h"

typedef struct plan_origin {
    url_t url;                      /* where requests go (after --host, --map-host); path unused */
    char origin[300];               /* "scheme://host[:port]" of url */
    char host_hdr[300];             /* Host header value (and SNI host: url.host) */
    size_t host_hdr_len;
    struct sockaddr_storage addr;
    socklen_t addr_len;             /* 0: not resolved yet; the connection resolves it
                                     * without blocking (http/hc.c, evdns) and stores it here
                                     * (run-time origins only, owned by one thread) */
    scn_proto_t proto;
    url_t from;                     /* the origin as the scenario or a response named it */
    bool refused;                   /* run time: the rules do not allow it; its requests
                                     * fail as 'origin' and are never sent */
} plan_origin_t;

/* One request header as templates, kept as a pair so HTTP/2 gets pairs and
 * every expanded value is checked on its own. */
typedef struct plan_header {
    tpl_t *name;
    tpl_t *value;
} plan_header_t;

/* How the run treats one origin the scenario names. */
typedef enum plan_route {
    PLAN_UNUSED = 0,                /* listed in hosts, no request goes there */
    PLAN_NAMED,                     /* --host, or the scenario's only origin without --host */
    PLAN_MAPPED,                    /* --map-host */
    PLAN_ALLOWED,                   /* --allow-host or --only-host */
    PLAN_DROPPED,                   /* not matched by --only-host: its requests are left out */
    PLAN_REFUSED,                   /* named by no rule: the run does not start */
} plan_route_t;

/* One origin of the scenario, for the list shown before the run and the report. */
typedef struct plan_listing {
    char origin[300];               /* as the scenario writes it */
    url_t url;
    plan_route_t route;
    int index;                      /* plan origin its requests go to; -1 when none */
    uint32_t requests;              /* requests of the scenario that name it */
} plan_listing_t;

/* Compile options beyond the scenario. */
typedef struct plan_opts {
    const char *host;               /* --host, NULL: none */
    const origins_t *rules;         /* --map-host etc.; NULL: none (only named origins run) */
    bool no_resolve;                /* --check: leave names unresolved (no DNS lookups) */
    FILE *listing;                  /* where to print the list of origins; NULL: only on
                                     * refusal, to stderr */
} plan_opts_t;

/* The fields every request reads come first, in the first 64 bytes (plan
 * arrays of plan_req_t are 64-byte aligned): a timed replay uses each of its
 * many requests once, and every other cache line read is a cold miss
 * (bench/timed, bench/README.md). */
typedef struct plan_req {
    const scn_request_t *src;
    uint32_t entry;                 /* stats entry */
    bool head;                      /* HEAD request */
    bool has_body;                  /* send Content-Length */
    bool needs_body;                /* buffer the response body */
    bool grpc;                      /* content-type application/grpc: judged by grpc-status,
                                     * sent with te: trailers and grpc-timeout (user.c) */
    bool has_te;                    /* the scenario's headers hold te: trailers */
    /* Copies of src and its templates (plan_req_hot), so that starting and
     * finishing a request reads this line and h1_bytes only. */
    bool follow_redirects;          /* src->follow_redirects */
    bool check_default;             /* src->check holds no statuses and no body strings:
                                       a status < 400 passes */
    bool draws;                     /* render_draws: a template draws a generator */
    int origin;                     /* origin index; -1: the URL template names it */
    uint32_t method_len;
    const char *method;             /* src->method */
    const char *lit_url;            /* the URL template's text when literal, else NULL */
    /* Whole HTTP/1.1 request when method, URL, headers and body are literal.
     * h1_head_len: bytes before the blank line (where a Cookie header goes). */
    char *h1_bytes;
    size_t h1_len, h1_head_len;
    size_t lit_url_len;
    tpl_t *url;                     /* path template (origin >= 0) or whole URL (origin < 0) */
    plan_header_t *hdrs;            /* in order, without Host/length/hop-by-hop ones */
    size_t n_hdrs;
    tpl_t *body;                    /* NULL when none */
    ext_t **ext;
    size_t n_ext;
} plan_req_t;

/* A WebSocket step's client message, compiled. */
typedef struct plan_ws_msg {
    const scn_ws_msg_t *src;
    uint32_t entry;                 /* stats entry ("WS", "<step name> <message name>") */
    tpl_t *data;                    /* text payload template; NULL: binary, src->data as is */
    struct jpath *match;            /* src->await_json compiled; NULL: none */
    ext_t **ext;
    size_t n_ext;
} plan_ws_msg_t;

/* A WebSocket step (replay/wsrun.h runs it). Its handshake is the step's
 * reqs[0]: a GET to the ws URL's http(s) origin (routed by the origin rules
 * like any request), headers compiled, stats entry ("WS", "<name> connect"). */
typedef struct plan_ws {
    const scn_ws_t *src;
    scn_request_t hs_src;           /* reqs[0].src: method "WS", the http(s) URL */
    plan_ws_msg_t *msgs;
    size_t n_msgs;
} plan_ws_t;

typedef struct plan_step {
    plan_req_t *reqs;
    size_t n;
    bool parallel;
    uint64_t think_us;
    /* A custom step: the Lua function (the scenario's string) that runs it;
     * reqs[0] (n = 1) is what its user:request calls are sent and counted as
     * ("LUA", function), its src the plan's own (lua_src). NULL: none. */
    const char *lua;
    scn_request_t *lua_src;
    plan_ws_t *ws;                  /* a WebSocket step (reqs[0] its handshake); NULL: none */
    /* It may need a connection no earlier step of its section opened: a
     * parallel step (its HTTP/1.1 connections depend on run options), or one
     * with an origin no earlier step named. A timed replay's connect-ahead
     * (user.c) looks at the step's connections only then, or when one of
     * the user's connections closed. */
    bool new_conn;
} plan_step_t;

typedef struct plan_steps {
    plan_step_t *v;
    size_t n;
} plan_steps_t;

typedef struct plan_class {
    const char *name;
    scn_wait_t wait;
    plan_steps_t on_start, tasks, on_stop;
} plan_class_t;

typedef struct plan_init_var {
    int sym;
    const char *value;
} plan_init_var_t;

typedef struct plan {
    const scn_scenario_t *scn;      /* not owned; must outlive the plan */
    plan_origin_t *origins;         /* [0] is the default host (or --host) */
    size_t n_origins;
    int dflt;                       /* origin of relative URLs (run-time ones too); -1: none */
    plan_listing_t *listing;        /* the scenario's origins and what the run does with them */
    size_t n_listing;
    uint32_t n_runtime;             /* requests whose origin a template decides at run time */
    uint32_t n_dropped;             /* requests left out (--only-host) */
    const origins_t *rules;         /* not owned */
    struct plan_seen *seen;         /* origins refused at run time (any thread; locked) */
    plan_class_t *classes;
    size_t n_classes;
    uint32_t *weights;              /* per class, for shape_distribute */
    tpl_symtab_t *symtab;
    stats_names_t *names;
    csvdata_t **csv;
    size_t n_csv;
    plan_init_var_t *init;          /* the scenario's initial variable values */
    size_t n_init;
    bool any_tls;
    /* Run options that shape connections (set by main after compiling). */
    scn_proto_t force_proto;        /* --http1/--http2/--h2c; AUTO: as each origin says */
    uint32_t max_conns_per_host;    /* HTTP/1.1 connections per user and origin in a
                                     * parallel group (0 taken as 6) */
    size_t max_body;                /* --max-body (0 taken as PLAN_MAX_BODY_DEFAULT) */
    uint32_t pipeline;              /* --pipeline: HTTP/1.1 requests in flight per
                                     * connection in a parallel step (0, 1: off) */
} plan_t;

/* Body bytes kept per response when --max-body is not given. */
#define PLAN_MAX_BODY_DEFAULT (4u << 20)

/* The http(s) URL of a ws(s) URL ("ws://h/p" -> "http://h/p"; a template
 * is kept as is). Heap string, NULL on out of memory. */
char *plan_ws_http_url(const char *ws_url);

/* Compiles scn. host (may be NULL) replaces the origin of hosts[0] and of
 * relative URLs; base_dir resolves CSV paths. Returns NULL with err naming the
 * class, section, step and request at fault ("class 'shop' tasks step 2
 * request 0: url: ..."). The same as plan_compile_opts with only host set:
 * every origin other than --host (or the scenario's only one) is refused. */
plan_t *plan_compile(const scn_scenario_t *scn, const char *host, const char *base_dir,
                     char *err, size_t errlen);
/* Compiles scn under the origin rules of o (docs/aiotest-replay.md, "Origins"):
 * first lists every origin the scenario names with what the run does with it
 * (o->listing); when one is named by no rule, returns NULL with err naming
 * the refused origins and the options that would map, allow or drop them, and
 * resolves no name. Requests to dropped origins are left out of the plan.
 * o->rules must outlive the plan. */
plan_t *plan_compile_opts(const scn_scenario_t *scn, const plan_opts_t *o, const char *base_dir,
                          char *err, size_t errlen);
void plan_free(plan_t *p);
/* Fills r's copies (method ... draws) from r->src and its compiled templates;
 * plan_compile does it for every request, a hand-built plan_req_t (tests)
 * calls it once its templates are set. */
void plan_req_hot(plan_req_t *r);

/* Resolves an absolute URL's origin into o (blocking name lookup, for the
 * main thread and tests). Returns 0 or -1 with err. */
int plan_origin_init(plan_origin_t *o, const char *url, char *err, size_t errlen);
/* An origin met at run time (a templated URL, a redirect) that p does not
 * hold: routes u under p's rules into o. The name is not looked up here (the
 * connection does it without blocking) unless --resolve pins it or it is a
 * numeric address. Returns 0, or -1 with o->refused set and err saying why
 * (never blocks). */
int plan_origin_runtime(const plan_t *p, const url_t *u, plan_origin_t *o, char *err,
                        size_t errlen);
/* Origins plan_origin_runtime refused so far, for the report: copies up to n
 * "scheme://host[:port]" names into out (each 300 bytes). Returns how many
 * there are in all. Thread-safe. */
size_t plan_refused_at_run_time(const plan_t *p, char (*out)[300], size_t n);
/* Sets p->force_proto and applies it to every origin: --http1 gives H1;
 * --http2 gives H2 over TLS (ALPN h2 only) and H2C over plain TCP; --h2c gives
 * H2C to plain-TCP origins and leaves TLS ones alone. */
void plan_force_proto(plan_t *p, scn_proto_t force);
/* Applies p->force_proto to o (an origin met at run time). */
void plan_origin_force(const plan_t *p, plan_origin_t *o);
/* Index of the plan origin that requests to u go to: u as the scenario names
 * it (through --host or --map-host), or u as the target itself; -1 when none
 * (unknown, dropped or refused). */
int plan_origin_find(const plan_t *p, const url_t *u);
/* Whether a and b are the same origin (scheme, host, port). */
bool plan_same_origin(const url_t *a, const url_t *b);
/* Name of a route ("named", "mapped", ...), for the listing and the report. */
const char *plan_route_name(plan_route_t r);

#endif

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
#include <sys/socket.h>

#include "csvdata.h"
#include "extract.h"
#include "scenario.h"
#include "stats.h"
#include "template.h"
#include "url.h"

typedef struct plan_origin {
    url_t url;                      /* url.path unused */
    char origin[300];               /* "scheme://host[:port]" */
    char host_hdr[300];             /* Host header value */
    size_t host_hdr_len;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    scn_proto_t proto;
} plan_origin_t;

/* One request header as templates, kept as a pair so HTTP/2 gets pairs and
 * every expanded value is checked on its own. */
typedef struct plan_header {
    tpl_t *name;
    tpl_t *value;
} plan_header_t;

typedef struct plan_req {
    const scn_request_t *src;
    uint32_t entry;                 /* stats entry */
    bool head;                      /* HEAD request */
    bool has_body;                  /* send Content-Length */
    bool needs_body;                /* buffer the response body */
    int origin;                     /* origin index; -1: the URL template names it */
    tpl_t *url;                     /* path template (origin >= 0) or whole URL (origin < 0) */
    plan_header_t *hdrs;            /* in order, without Host/length/hop-by-hop ones */
    size_t n_hdrs;
    tpl_t *body;                    /* NULL when none */
    /* Whole HTTP/1.1 request when method, URL, headers and body are literal.
     * h1_head_len: bytes before the blank line (where a Cookie header goes). */
    char *h1_bytes;
    size_t h1_len, h1_head_len;
    ext_t **ext;
    size_t n_ext;
} plan_req_t;

typedef struct plan_step {
    plan_req_t *reqs;
    size_t n;
    bool parallel;
    uint64_t think_us;
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
} plan_t;

/* Compiles scn. host (may be NULL) replaces the origin of hosts[0] and of
 * relative URLs; base_dir resolves CSV paths. Returns NULL with err naming the
 * class, section, step and request at fault ("class 'shop' tasks step 2
 * request 0: url: ..."). */
plan_t *plan_compile(const scn_scenario_t *scn, const char *host, const char *base_dir,
                     char *err, size_t errlen);
void plan_free(plan_t *p);

/* Resolves an absolute URL's origin into o (blocking name lookup). Used at
 * compile time, and at run time for URLs that templates or redirects produce.
 * Returns 0 or -1 with err. */
int plan_origin_init(plan_origin_t *o, const char *url, char *err, size_t errlen);
/* Sets p->force_proto and applies it to every origin: --http1 gives H1;
 * --http2 gives H2 over TLS (ALPN h2 only) and H2C over plain TCP; --h2c gives
 * H2C to plain-TCP origins and leaves TLS ones alone. */
void plan_force_proto(plan_t *p, scn_proto_t force);
/* Applies p->force_proto to o (an origin met at run time). */
void plan_origin_force(const plan_t *p, plan_origin_t *o);
/* Index of the plan origin with the same scheme, host and port, or -1. */
int plan_origin_find(const plan_t *p, const url_t *u);

#endif

/* cli: the command line of aiotest-replay, parsed completely before anything
 * runs (docs/aiotest-replay.md). */
#ifndef AIOTEST_CLI_H
#define AIOTEST_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cli {
    const char *scenario;
    const char *shape_file;
    uint32_t users;
    double spawn_rate;          /* 0: all at once */
    uint64_t duration_us;       /* 0: until --iterations or a signal */
    bool users_set, rate_set, duration_set;
    uint64_t iterations;
    const char *host;
    unsigned threads;
    uint64_t timeout_us, connect_timeout_us, stop_timeout_us;
    double think_scale;
    uint32_t max_users;
    bool insecure;
    const char *ca_file;
    const char *secrets;        /* --secrets FILE: values of {{secret.*}} */
    const char *script;         /* --script FILE: Lua hooks (script.h) */
    int force_proto;            /* scn_proto_t: --http1, --http2, --h2c; 0 = per origin */
    uint32_t max_conns_per_host;
    uint32_t pipeline;              /* --pipeline D (1: off) */
    uint64_t max_body;          /* body bytes kept per response for checks and extractors */
    const char *report, *csv, *html, *metrics;
    uint64_t metrics_linger_us;
    const char *remote_write;   /* --remote-write URL: Prometheus remote write receiver */
    const char *run_id;         /* --run-id: label run= on remote-written series */
    const char *fail_on;
    bool fail_fast;
    const char *baseline;
    const char **tolerances;    /* --tolerance values, in order (verdict_cmp_new) */
    size_t n_tolerances;
    const char *compare;        /* --compare list; NULL: the default set */
    int exit_code_on_error;     /* without --fail-on: exit status when a request failed (1) */
    uint64_t seed;
    unsigned segment, segments;  /* --segment K/N (segments 1: the whole load) */
    int64_t start_at_us;        /* --start-at: wall clock µs, 0 = now */
    bool quiet;
    bool merge;
    const char **inputs;        /* --merge: the reports */
    size_t n_inputs;
    /* Origins (repeatable options, in command-line order; see origins.h). */
    const char **map_hosts, **allow_hosts, **only_hosts, **resolves;
    size_t n_map_hosts, n_allow_hosts, n_only_hosts, n_resolves;
    bool check;                 /* --check: load, compile and validate; send nothing */
    /* Timed replay (docs/aiotest-replay.md "Timed replay"). */
    bool timed;
    bool timed_by_connection;   /* --timed-by connection (default: session) */
    double speed;               /* --speed (1) */
    bool loop;
    uint32_t copies;            /* --copies (1) */
    uint64_t copies_spread_us;  /* --copies-spread (1 s) */
    double limit_rate;          /* --limit-rate: steps started per second; 0: no cap */
    uint64_t connect_ahead_us;  /* --connect-ahead (100 ms); 0: connect when due */
    bool timed_opts_set;        /* a timed-only option was given (needs --timed) */
    /* Rewrite and filter (replay/rewrite.h), repeatable, in command-line order. */
    const char **set_headers, **drop_headers, **rewrite_paths, **filters;
    size_t n_set_headers, n_drop_headers, n_rewrite_paths, n_filters;
    bool *filter_include;       /* per filters[i]: --include (true) or --exclude */
    /* --diff (replay/diff.h) */
    bool diff, diff_values;
    double diff_length_tolerance; /* fraction (default 0.1) */
    int argc;
    char **argv;
} cli_t;

enum { CLI_RUN = 0, CLI_EXIT_OK = 1, CLI_USAGE = 2 };

/* Parses argv into c. Returns CLI_RUN, CLI_EXIT_OK (--help/--version printed) or
 * CLI_USAGE (message printed on stderr). */
int cli_parse(cli_t *c, int argc, char **argv);
void cli_fini(cli_t *c);

#endif

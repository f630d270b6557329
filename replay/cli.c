/* cli: option parsing and --help of aiotest-replay. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "plan.h"
#include "scenario.h"
#include "script.h"
#include "timed.h"
#include "units.h"

static const char usage[] =
    "usage: aiotest-replay SCENARIO [options]\n"
    "       aiotest-replay --merge A.json B.json ... --report OUT.json\n"
    "\n"
    "SCENARIO is a scenario (.mp), its JSON view (.json) or a recording (converted\n"
    "with default settings).\n"
    "\n"
    "Load shape (closed model without --shape):\n"
    "  -u, --users N           users to run (default 1)\n"
    "  -r, --spawn-rate R      users started per second (default: all at once)\n"
    "  -t, --duration D        run length, e.g. 30s, 5m (default: until --iterations or Ctrl-C)\n"
    "      --shape FILE        stages file: '<duration> <users> <spawn-rate>' and\n"
    "                          'rate <duration> <iterations/s>' lines\n"
    "      --iterations N      each user runs its tasks N times, then on_stop, and ends\n"
    "      --max-users N       open model: most pooled users (default 10000)\n"
    "      --segment K/N       run share K (0..N-1) of N: users with number % N == K and\n"
    "                          1/N of the arrival rate, for N copies of the same run\n"
    "      --start-at TIME     wait until TIME (Unix seconds, or YYYY-MM-DDTHH:MM:SSZ) to start\n"
    "\n"
    "Timed replay (SCENARIO a recording; replaces -u/-r/--shape/--iterations):\n"
    "      --timed             every recorded session is one user sending its requests at\n"
    "                          their recorded offsets (latency counts from the offset; the\n"
    "                          summary shows the lag behind schedule)\n"
    "      --timed-by KEY      session (default: the capture's session key) or connection\n"
    "      --speed F           replay F times as fast: 2, 10x, 50% (default 1)\n"
    "      --loop              start again when the recording ends (until -t or Ctrl-C)\n"
    "      --copies N          N independent users per session ({{copy}} = 0..N-1)\n"
    "      --copies-spread D   copies' starts spread over D (default 1s)\n"
    "      --limit-rate R      start at most R steps per second (later ones wait; lag shows it)\n"
    "      --connect-ahead D   open a step's connection D before it is due, not in its\n"
    "                          latency (default 100ms; 0: when due, as recorded)\n"
    "\n"
    "Rewrite and filter (applied once, before the run):\n"
    "      --set-header 'N: V' replace every header N by 'N: V' (or add it); V is a template\n"
    "      --drop-header N     remove every header N\n"
    "      --rewrite-path 'RE=>REPL'  first match of RE in path+query replaced (\\1 = group)\n"
    "      --include SPEC      keep only requests matching one --include:\n"
    "                          method:GET[,POST]  host:GLOB  path:REGEX  status:2xx[,404]\n"
    "      --exclude SPEC      leave out requests matching SPEC (status: the recorded one)\n"
    "\n"
    "Response diff (the input a recording or HAR; --timed or a scenario run):\n"
    "      --diff              compare each response with the recorded one: status, content\n"
    "                          type, JSON shape (key paths and types), other bodies' length;\n"
    "                          mismatches counted as 'diff KIND' with examples; --fail-on diff<1%\n"
    "      --diff-values       JSON values must match too\n"
    "      --diff-length-tolerance P  non-JSON bodies: allowed length change (default 10%)\n"
    "\n"
    "Target and connections:\n"
    "      --host URL          replaces the scenario's first host (and relative URLs)\n"
    "      --map-host FROM=TO  send requests for origins matching FROM (host pattern,\n"
    "                          globs allowed) to origin TO; Host, SNI, Referer and Origin follow\n"
    "      --allow-host PAT    allow origins matching PAT ([http(s)://]HOST[:PORT], globs) as they are\n"
    "      --only-host PAT     leave out requests to origins no option names (counted per origin)\n"
    "      --resolve H:P:ADDR  connect to ADDR for host H, port P (no DNS lookup), as curl does\n"
    "                          (every origin must be --host, mapped or allowed, or the run stops\n"
    "                          with exit 2 before sending; without --host a scenario's only\n"
    "                          origin counts as named)\n"
    "      --check             load, compile and validate the scenario (and shape), print its\n"
    "                          origins, send nothing: exit 0 or 2\n"
    "      --threads N         worker threads (default: the number of cores)\n"
    "      --timeout D         per request (default 30s; 0 = none)\n"
    "      --connect-timeout D TCP connect + TLS handshake (default 5s)\n"
    "      --stop-timeout D    graceful stop bound for requests in flight and on_stop (default 10s)\n"
    "      --think-scale F     multiplies every wait and think time (default 1)\n"
    "      --insecure          do not verify TLS certificates\n"
    "      --ca FILE           trust the certificates in FILE (PEM) instead of the system store\n"
    "      --http1             HTTP/1.1 only (ALPN offers http/1.1 alone)\n"
    "      --http2             HTTP/2 only: ALPN h2 over TLS, prior knowledge (h2c) over http\n"
    "      --h2c               cleartext HTTP/2 with prior knowledge for http:// origins\n"
    "                          (default: HTTP/1.1 for http://, ALPN h2 then http/1.1 for https://)\n"
    "      --max-conns-per-host N  HTTP/1.1 connections per user and origin for a parallel\n"
    "                          step (default 6; on h2 a parallel step is streams of one)\n"
    "      --pipeline D        HTTP/1.1: a parallel step sends up to D requests on one\n"
    "                          connection before the first answer (pipelining; GET, HEAD,\n"
    "                          OPTIONS, TRACE, PUT, DELETE only; default 1 = off; h2 ignores it)\n"
    "      --max-body SIZE     response body bytes kept for checks and extractors, per response,\n"
    "                          as received and decoded (default 4MiB); the rest is read, counted\n"
    "                          and dropped\n"
    "      --seed N            random seed for generators and waits (default: from the clock)\n"
    "      --secrets FILE      values of the {{secret.*}} variables that capture's redaction\n"
    "                          left in the scenario (aiotest-capture --secrets-out FILE)\n"
    "      --script FILE       Lua hooks (setup, on_start, request, response, on_stop, done),\n"
    "                          one Lua state per thread; see docs/aiotest-replay.md \"Lua hooks\"\n"
    "\n"
    "Results:\n"
    "      --report FILE       JSON report (histograms included; input of --merge and --baseline)\n"
    "      --csv PREFIX        PREFIX_stats.csv, PREFIX_failures.csv, PREFIX_stats_history.csv\n"
    "      --html FILE         self-contained HTML report\n"
    "      --metrics ADDR:PORT serve Prometheus /metrics while running (':PORT' = 127.0.0.1)\n"
    "      --metrics-linger D  after the run, serve /metrics until it is scraped, at most D\n"
    "      --remote-write URL  push the metrics every second to a Prometheus remote write\n"
    "                          receiver (http://HOST:PORT/api/v1/write), flushed at exit\n"
    "      --run-id ID         label run=ID on the remote-written series\n"
    "      --fail-on SPEC      thresholds, e.g. 'p99<300ms,errors<1%': exit 1 when one fails\n"
    "                          (they then decide alone; failed requests count in errors)\n"
    "      --exit-code-on-error N  without --fail-on: exit status when any request failed\n"
    "                          (default 1; 0 keeps a run with failures green)\n"
    "      --fail-fast         with --fail-on: stop as soon as a threshold is lost\n"
    "      --baseline FILE     compare with an earlier report: exit 1 on a regression\n"
    "      --tolerance LIST    allowed regression against --baseline: '10%,2ms' (relative +\n"
    "                          floor), per metric 'p99=20%,5ms', 'errors=0.5pp', 'rps=5%';\n"
    "                          repeatable (default p50 10%,2ms; p95 10%,5ms; p99 20%,10ms;\n"
    "                          errors 10%,0.5pp; rps 10%)\n"
    "      --compare LIST      metrics compared with --baseline: p50 p90 p95 p99 p99.9 avg\n"
    "                          errors rps (default p50,p95,p99,errors,rps; rps only when\n"
    "                          both runs are paced: open model or think times)\n"
    "      --merge             combine the JSON reports given as arguments into --report\n"
    "  -q, --quiet             no live line and no summary table\n"
    "  -h, --help              this text\n"
    "  -V, --version           the version\n"
    "\n"
    "Exit status: 0 ok; 1 a threshold or the baseline failed, or (without --fail-on) a\n"
    "request failed (--exit-code-on-error); 1 whatever the options when no request\n"
    "succeeded (0 for a --segment given no user and no rate); 2 usage or input error.\n";

enum {
    O_SHAPE = 256, O_ITER, O_MAXU, O_HOST, O_THREADS, O_TIMEOUT, O_CTIMEOUT, O_STIMEOUT,
    O_THINK, O_INSECURE, O_CA, O_SEED, O_REPORT, O_CSV, O_HTML, O_METRICS, O_LINGER,
    O_FAILON, O_FAILFAST, O_BASELINE, O_TOL, O_MERGE, O_HTTP1, O_HTTP2, O_H2C, O_MAXCONNS, O_PIPELINE,
    O_SEGMENT, O_STARTAT, O_SECRETS, O_EXITERR, O_COMPARE, O_MAPHOST, O_ALLOWHOST, O_ONLYHOST,
    O_RESOLVE, O_CHECK, O_MAXBODY, O_RWRITE, O_RUNID, O_TIMED, O_TIMEDBY, O_SPEED, O_LOOP, O_COPIES,
    O_SPREAD, O_LIMITRATE, O_AHEAD, O_DIFF, O_DIFFVALUES, O_DIFFTOL, O_SETHDR, O_DROPHDR, O_REWPATH, O_INCLUDE,
    O_EXCLUDE, O_SCRIPT,
};

static const struct option longopts[] = {
    {"users", required_argument, NULL, 'u'},
    {"spawn-rate", required_argument, NULL, 'r'},
    {"duration", required_argument, NULL, 't'},
    {"shape", required_argument, NULL, O_SHAPE},
    {"iterations", required_argument, NULL, O_ITER},
    {"max-users", required_argument, NULL, O_MAXU},
    {"host", required_argument, NULL, O_HOST},
    {"map-host", required_argument, NULL, O_MAPHOST},
    {"allow-host", required_argument, NULL, O_ALLOWHOST},
    {"only-host", required_argument, NULL, O_ONLYHOST},
    {"resolve", required_argument, NULL, O_RESOLVE},
    {"check", no_argument, NULL, O_CHECK},
    {"timed", no_argument, NULL, O_TIMED},
    {"timed-by", required_argument, NULL, O_TIMEDBY},
    {"speed", required_argument, NULL, O_SPEED},
    {"loop", no_argument, NULL, O_LOOP},
    {"copies", required_argument, NULL, O_COPIES},
    {"copies-spread", required_argument, NULL, O_SPREAD},
    {"limit-rate", required_argument, NULL, O_LIMITRATE},
    {"connect-ahead", required_argument, NULL, O_AHEAD},
    {"set-header", required_argument, NULL, O_SETHDR},
    {"diff", no_argument, NULL, O_DIFF},
    {"diff-values", no_argument, NULL, O_DIFFVALUES},
    {"diff-length-tolerance", required_argument, NULL, O_DIFFTOL},
    {"drop-header", required_argument, NULL, O_DROPHDR},
    {"rewrite-path", required_argument, NULL, O_REWPATH},
    {"include", required_argument, NULL, O_INCLUDE},
    {"exclude", required_argument, NULL, O_EXCLUDE},
    {"threads", required_argument, NULL, O_THREADS},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"connect-timeout", required_argument, NULL, O_CTIMEOUT},
    {"stop-timeout", required_argument, NULL, O_STIMEOUT},
    {"think-scale", required_argument, NULL, O_THINK},
    {"insecure", no_argument, NULL, O_INSECURE},
    {"ca", required_argument, NULL, O_CA},
    {"http1", no_argument, NULL, O_HTTP1},
    {"http2", no_argument, NULL, O_HTTP2},
    {"h2c", no_argument, NULL, O_H2C},
    {"max-conns-per-host", required_argument, NULL, O_MAXCONNS},
    {"pipeline", required_argument, NULL, O_PIPELINE},
    {"max-body", required_argument, NULL, O_MAXBODY},
    {"seed", required_argument, NULL, O_SEED},
    {"secrets", required_argument, NULL, O_SECRETS},
    {"script", required_argument, NULL, O_SCRIPT},
    {"segment", required_argument, NULL, O_SEGMENT},
    {"start-at", required_argument, NULL, O_STARTAT},
    {"report", required_argument, NULL, O_REPORT},
    {"csv", required_argument, NULL, O_CSV},
    {"html", required_argument, NULL, O_HTML},
    {"metrics", required_argument, NULL, O_METRICS},
    {"metrics-linger", required_argument, NULL, O_LINGER},
    {"remote-write", required_argument, NULL, O_RWRITE},
    {"run-id", required_argument, NULL, O_RUNID},
    {"fail-on", required_argument, NULL, O_FAILON},
    {"fail-fast", no_argument, NULL, O_FAILFAST},
    {"exit-code-on-error", required_argument, NULL, O_EXITERR},
    {"baseline", required_argument, NULL, O_BASELINE},
    {"tolerance", required_argument, NULL, O_TOL},
    {"compare", required_argument, NULL, O_COMPARE},
    {"merge", no_argument, NULL, O_MERGE},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static int bad(const char *opt, const char *val, const char *expected)
{
    fprintf(stderr, "aiotest-replay: %s '%s': expected %s\n", opt, val, expected);
    return CLI_USAGE;
}

static int count_arg(const char *opt, const char *v, uint64_t max, uint64_t *out)
{
    if (units_parse_count(v, out) != 0 || *out > max)
        return bad(opt, v, "a whole number (e.g. 100, 2k)");
    return CLI_RUN;
}

static int dur_arg(const char *opt, const char *v, uint64_t *out)
{
    return units_parse_duration(v, out) == 0 ? CLI_RUN
                                             : bad(opt, v, "a duration (e.g. 500ms, 30s, 5m)");
}

static int segment_arg(cli_t *c, const char *v)
{
    unsigned k, n;
    char end;
    if (sscanf(v, "%u/%u%c", &k, &n, &end) != 2 || n == 0 || n > 100000 || k >= n)
        return bad("--segment", v, "K/N with 0 <= K < N (e.g. 0/4)");
    c->segment = k;
    c->segments = n;
    return CLI_RUN;
}

static int start_at_arg(cli_t *c, const char *v)
{
    struct tm tm = {0};
    const char *rest = strptime(v, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (rest && *rest == '\0') {
        c->start_at_us = (int64_t)timegm(&tm) * 1000000;
        return CLI_RUN;
    }
    double s;
    if (units_parse_double(v, &s) == 0 && s > 0) {
        c->start_at_us = (int64_t)(s * 1e6);
        return CLI_RUN;
    }
    return bad("--start-at", v, "Unix seconds or YYYY-MM-DDTHH:MM:SSZ");
}

static int one_opt(cli_t *c, int ch, const char *v)
{
    uint64_t n;
    int rc = CLI_RUN;
    switch (ch) {
    case 'u':
        if ((rc = count_arg("-u", v, 10000000, &n)) == CLI_RUN && n == 0)
            return bad("-u", v, "at least 1 user");
        if (rc == CLI_RUN)
            c->users = (uint32_t)n, c->users_set = true;
        return rc;
    case 'r':
        if (units_parse_double(v, &c->spawn_rate) != 0 || c->spawn_rate <= 0)
            return bad("-r", v, "users per second > 0");
        c->rate_set = true;
        return CLI_RUN;
    case 't':
        c->duration_set = true;
        return dur_arg("-t", v, &c->duration_us);
    case O_SHAPE: c->shape_file = v; return CLI_RUN;
    case O_ITER: return count_arg("--iterations", v, UINT32_MAX, &c->iterations);
    case O_MAXU:
        if ((rc = count_arg("--max-users", v, 10000000, &n)) == CLI_RUN)
            c->max_users = (uint32_t)n;
        if (rc == CLI_RUN && n == 0)
            return bad("--max-users", v, "at least 1");
        return rc;
    case O_HOST: c->host = v; return CLI_RUN;
    case O_MAPHOST: c->map_hosts[c->n_map_hosts++] = v; return CLI_RUN;
    case O_ALLOWHOST: c->allow_hosts[c->n_allow_hosts++] = v; return CLI_RUN;
    case O_ONLYHOST: c->only_hosts[c->n_only_hosts++] = v; return CLI_RUN;
    case O_RESOLVE: c->resolves[c->n_resolves++] = v; return CLI_RUN;
    case O_CHECK: c->check = true; return CLI_RUN;
    case O_TIMED: c->timed = true; return CLI_RUN;
    case O_DIFF: c->diff = true; return CLI_RUN;
    case O_DIFFVALUES: c->diff = c->diff_values = true; return CLI_RUN;
    case O_DIFFTOL: {
        char *end = NULL;
        double tol = strtod(v, &end);
        if (end != v && *end == '%')
            tol /= 100.0, end++;
        if (end == v || *end || !(tol >= 0) || tol > 100)
            return bad("--diff-length-tolerance", v, "a fraction or a percentage (0.1, 10%)");
        c->diff = true;
        c->diff_length_tolerance = tol;
        return CLI_RUN;
    }
    case O_SETHDR: c->set_headers[c->n_set_headers++] = v; return CLI_RUN;
    case O_DROPHDR: c->drop_headers[c->n_drop_headers++] = v; return CLI_RUN;
    case O_REWPATH: c->rewrite_paths[c->n_rewrite_paths++] = v; return CLI_RUN;
    case O_INCLUDE:
    case O_EXCLUDE:
        c->filter_include[c->n_filters] = ch == O_INCLUDE;
        c->filters[c->n_filters++] = v;
        return CLI_RUN;
    case O_TIMEDBY:
        c->timed_opts_set = true;
        if (strcmp(v, "connection") == 0)
            c->timed_by_connection = true;
        else if (strcmp(v, "session") == 0)
            c->timed_by_connection = false;
        else
            return bad("--timed-by", v, "session or connection");
        return CLI_RUN;
    case O_SPEED:
        c->timed_opts_set = true;
        return timed_parse_speed(v, &c->speed) == 0 ? CLI_RUN
                                                     : bad("--speed", v, "a factor > 0 (2, 10x, 50%)");
    case O_LOOP: c->loop = c->timed_opts_set = true; return CLI_RUN;
    case O_COPIES:
        c->timed_opts_set = true;
        if ((rc = count_arg("--copies", v, 1000000, &n)) == CLI_RUN && n == 0)
            return bad("--copies", v, "at least 1");
        c->copies = (uint32_t)n;
        return rc;
    case O_SPREAD: c->timed_opts_set = true; return dur_arg("--copies-spread", v, &c->copies_spread_us);
    case O_AHEAD: c->timed_opts_set = true; return dur_arg("--connect-ahead", v, &c->connect_ahead_us);
    case O_LIMITRATE:
        c->timed_opts_set = true;
        if (units_parse_double(v, &c->limit_rate) != 0 || !(c->limit_rate > 0))
            return bad("--limit-rate", v, "steps per second > 0");
        return CLI_RUN;
    case O_THREADS:
        if ((rc = count_arg("--threads", v, 1024, &n)) == CLI_RUN && n == 0)
            return bad("--threads", v, "1 to 1024");
        c->threads = (unsigned)n;
        return rc;
    case O_TIMEOUT: return dur_arg("--timeout", v, &c->timeout_us);
    case O_CTIMEOUT:
        if ((rc = dur_arg("--connect-timeout", v, &c->connect_timeout_us)) == CLI_RUN &&
            c->connect_timeout_us == 0)
            return bad("--connect-timeout", v, "a duration > 0");
        return rc;
    case O_STIMEOUT: return dur_arg("--stop-timeout", v, &c->stop_timeout_us);
    case O_THINK:
        return units_parse_double(v, &c->think_scale) == 0 ? CLI_RUN
                                                            : bad("--think-scale", v, "a number >= 0");
    case O_INSECURE: c->insecure = true; return CLI_RUN;
    case O_CA:
        if (access(v, R_OK) != 0)
            return bad("--ca", v, "a readable PEM file");
        c->ca_file = v;
        return CLI_RUN;
    case O_HTTP1:
    case O_HTTP2:
    case O_H2C: {
        int p = ch == O_HTTP1 ? SCN_PROTO_H1 : ch == O_HTTP2 ? SCN_PROTO_H2 : SCN_PROTO_H2C;
        if (c->force_proto && c->force_proto != p) {
            fprintf(stderr, "aiotest-replay: --http1, --http2 and --h2c exclude each other\n");
            return CLI_USAGE;
        }
        c->force_proto = p;
        return CLI_RUN;
    }
    case O_MAXCONNS:
        if ((rc = count_arg("--max-conns-per-host", v, 256, &n)) == CLI_RUN && n == 0)
            return bad("--max-conns-per-host", v, "1 to 256");
        c->max_conns_per_host = (uint32_t)n;
        return rc;
    case O_PIPELINE:
        if ((rc = count_arg("--pipeline", v, 256, &n)) == CLI_RUN && n == 0)
            return bad("--pipeline", v, "1 (off) to 256");
        c->pipeline = (uint32_t)n;
        return rc;
    case O_MAXBODY:
        if (units_parse_bytes(v, &c->max_body) != 0 || c->max_body == 0 || c->max_body > (1ull << 30))
            return bad("--max-body", v, "a size from 1 byte to 1GiB (e.g. 64KiB, 4MiB)");
        return CLI_RUN;
    case O_SEED: return count_arg("--seed", v, UINT64_MAX, &c->seed);
    case O_SCRIPT: c->script = v; return CLI_RUN;
    case O_SECRETS:
        if (access(v, R_OK) != 0)
            return bad("--secrets", v, "a readable file (aiotest-capture --secrets-out)");
        c->secrets = v;
        return CLI_RUN;
    case O_SEGMENT: return segment_arg(c, v);
    case O_STARTAT: return start_at_arg(c, v);
    case O_REPORT: c->report = v; return CLI_RUN;
    case O_CSV: c->csv = v; return CLI_RUN;
    case O_HTML: c->html = v; return CLI_RUN;
    case O_METRICS: c->metrics = v; return CLI_RUN;
    case O_LINGER: return dur_arg("--metrics-linger", v, &c->metrics_linger_us);
    case O_RWRITE:
        if (strncmp(v, "http://", 7) != 0)
            return bad("--remote-write", v, "an http:// URL (e.g. http://prometheus:9090/api/v1/write)");
        c->remote_write = v;
        return CLI_RUN;
    case O_RUNID:
        if (!*v || strlen(v) > 63)
            return bad("--run-id", v, "1 to 63 characters");
        c->run_id = v;
        return CLI_RUN;
    case O_FAILON: c->fail_on = v; return CLI_RUN;
    case O_FAILFAST: c->fail_fast = true; return CLI_RUN;
    case O_EXITERR:
        if (units_parse_count(v, &n) != 0 || n > 255)
            return bad("--exit-code-on-error", v, "an exit status 0 to 255");
        c->exit_code_on_error = (int)n;
        return CLI_RUN;
    case O_BASELINE: c->baseline = v; return CLI_RUN;
    case O_TOL: c->tolerances[c->n_tolerances++] = v; return CLI_RUN;
    case O_COMPARE: c->compare = v; return CLI_RUN;
    case O_MERGE: c->merge = true; return CLI_RUN;
    case 'q': c->quiet = true; return CLI_RUN;
    default: return CLI_USAGE;
    }
}

/* Combinations that parse but make no sense. */
static int check(cli_t *c)
{
    if (c->merge) {
        if (c->n_inputs < 1 || !c->report) {
            fprintf(stderr, "aiotest-replay: --merge needs one or more reports and --report OUT.json\n");
            return CLI_USAGE;
        }
        return CLI_RUN;
    }
    if (c->n_inputs != 1) {
        fprintf(stderr, "aiotest-replay: %s\n%s",
                c->n_inputs ? "expected one SCENARIO" : "missing SCENARIO", "try --help\n");
        return CLI_USAGE;
    }
    c->scenario = c->inputs[0];
    if (c->shape_file && (c->users_set || c->rate_set || c->duration_set)) {
        fprintf(stderr, "aiotest-replay: --shape replaces -u/-r/-t: give one or the other\n");
        return CLI_USAGE;
    }
    if (c->timed_opts_set && !c->timed) {
        fprintf(stderr, "aiotest-replay: --timed-by, --speed, --loop, --copies, --copies-spread, "
                "--limit-rate and --connect-ahead need --timed\n");
        return CLI_USAGE;
    }
    if (c->timed && (c->shape_file || c->users_set || c->rate_set || c->iterations)) {
        fprintf(stderr, "aiotest-replay: --timed replays the recording's own timing: --shape, -u, -r and "
                "--iterations do not apply (use --speed, --copies, --loop and -t)\n");
        return CLI_USAGE;
    }
    if (c->fail_fast && !c->fail_on) {
        fprintf(stderr, "aiotest-replay: --fail-fast needs --fail-on\n");
        return CLI_USAGE;
    }
    return CLI_RUN;
}

int cli_parse(cli_t *c, int argc, char **argv)
{
    memset(c, 0, sizeof *c);
    c->argc = argc;
    c->argv = argv;
    c->users = 1;
    c->timeout_us = 30000000;
    c->connect_timeout_us = 5000000;
    c->stop_timeout_us = 10000000;
    c->think_scale = 1.0;
    c->max_users = 10000;
    c->segments = 1;
    c->max_conns_per_host = 6;
    c->pipeline = 1;
    c->exit_code_on_error = 1;
    c->max_body = PLAN_MAX_BODY_DEFAULT;
    c->speed = 1.0;
    c->copies = 1;
    c->copies_spread_us = 1000000;
    c->connect_ahead_us = 100000;
    c->diff_length_tolerance = 0.1;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    c->threads = cores > 0 ? (unsigned)cores : 1;
    c->inputs = calloc((size_t)argc + 1, sizeof *c->inputs);
    c->tolerances = calloc((size_t)argc + 1, sizeof *c->tolerances);
    c->map_hosts = calloc((size_t)argc + 1, sizeof *c->map_hosts);
    c->allow_hosts = calloc((size_t)argc + 1, sizeof *c->allow_hosts);
    c->only_hosts = calloc((size_t)argc + 1, sizeof *c->only_hosts);
    c->resolves = calloc((size_t)argc + 1, sizeof *c->resolves);
    c->set_headers = calloc((size_t)argc + 1, sizeof *c->set_headers);
    c->drop_headers = calloc((size_t)argc + 1, sizeof *c->drop_headers);
    c->rewrite_paths = calloc((size_t)argc + 1, sizeof *c->rewrite_paths);
    c->filters = calloc((size_t)argc + 1, sizeof *c->filters);
    c->filter_include = calloc((size_t)argc + 1, sizeof *c->filter_include);
    if (!c->inputs || !c->tolerances || !c->map_hosts || !c->allow_hosts || !c->only_hosts || !c->resolves ||
        !c->set_headers || !c->drop_headers || !c->rewrite_paths || !c->filters || !c->filter_include)
        return CLI_USAGE;
    opterr = 0;
    optind = 1;
    for (;;) {
        int ch = getopt_long(argc, argv, ":u:r:t:qhV", longopts, NULL);
        if (ch == -1)
            break;
        if (ch == 'h') {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        }
        if (ch == 'V') {
            const char *lua;
            printf("aiotest-replay %s (Lua: %s)\n", AIOTEST_VERSION,
                   scr_available(&lua) ? lua : "none");
            return CLI_EXIT_OK;
        }
        if (ch == '?' || ch == ':') {
            fprintf(stderr, "aiotest-replay: %s '%s'\ntry --help\n",
                    ch == '?' ? "unknown option" : "missing value for", argv[optind - 1]);
            return CLI_USAGE;
        }
        int rc = one_opt(c, ch, optarg);
        if (rc != CLI_RUN)
            return rc;
    }
    for (int i = optind; i < argc; i++)
        c->inputs[c->n_inputs++] = argv[i];
    return check(c);
}

void cli_fini(cli_t *c)
{
    free(c->inputs);
    free(c->map_hosts);
    free(c->allow_hosts);
    free(c->only_hosts);
    free(c->resolves);
    free(c->set_headers);
    free(c->drop_headers);
    free(c->rewrite_paths);
    free(c->filters);
    free(c->filter_include);
    c->set_headers = c->drop_headers = c->rewrite_paths = c->filters = NULL;
    c->filter_include = NULL;
    c->inputs = NULL;
    free(c->tolerances);
    c->tolerances = NULL;
    c->map_hosts = c->allow_hosts = c->only_hosts = c->resolves = NULL;
}

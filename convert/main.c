/* aiotest-convert: recordings and HAR files to a scenario; --dump prints any
 * .mp file as JSON, --from-json turns an edited JSON view back into .mp. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convert.h"
#include "rewrite.h"
#include "cvscript.h"
#include "units.h"
#include "view.h"

static void usage(FILE *out)
{
    fputs("usage: aiotest-convert [options] INPUT... -o scenario.mp\n"
          "       aiotest-convert [options] INPUT... --json [-o scenario.json]\n"
          "       aiotest-convert --dump FILE.mp\n"
          "       aiotest-convert --from-json VIEW.json -o FILE.mp\n"
          "\n"
          "INPUT: aiotest recordings (.mp) and HAR 1.2 files, mixed freely.\n"
          "\n"
          "output:\n"
          "  -o, --output FILE        write the scenario (or the .mp of --from-json) to FILE\n"
          "      --json               write the scenario as its JSON text view (stdout without -o)\n"
          "      --dump FILE          print a recording or scenario file as JSON and exit\n"
          "      --from-json FILE     read an edited JSON view (recording or scenario) and write -o FILE\n"
          "  -q, --quiet              nothing on stderr but errors (no correlations, warnings, summary)\n"
          "sessions and classes:\n"
          "      --session-gap D      a pause of D (e.g. 30m) starts a new visit of the same client\n"
          "      --max-classes N      merge the rarest classes into the nearest until N remain\n"
          "steps:\n"
          "      --parallel-window D  a request starting within D of the one before, while the\n"
          "                           group is in flight, joins its parallel group, as does one\n"
          "                           overlapping the request before it (default 50ms)\n"
          "      --asset-gap D        a page's asset (Referer = the page; image, script, style,\n"
          "                           font...) starting within D after its group's last answer\n"
          "                           joins that group, across connections (default 500ms; 0: off)\n"
          "      --think MODE         keep | scale F | none | max D (recorded pauses; default keep)\n"
          "correlation and data:\n"
          "      --no-correlate       send every recorded value as recorded (no extractors, no generators)\n"
          "      --data FILE.csv      bind CSV columns to variables; recorded values equal to the\n"
          "                           first row become {{column}}\n"
          "filters:\n"
          "      --include-host H     only requests to host H (repeatable; .example.com = any subdomain)\n"
          "      --exclude-host H     no requests to host H (repeatable)\n"
          "      --exclude-path RE    no requests whose path and query match the POSIX regex (repeatable)\n"
          "      --no-static          no images, fonts, css or js (by content type and extension)\n"
          "rewrite and filter (aiotest-replay's rules, applied once here; the scenario keeps the result):\n"
          "      --set-header 'Name: value'  every request: replace the Name headers by one, or add it\n"
          "                           (the value a template: {{var}}, {{secret.x}}, {{user_id}})\n"
          "      --drop-header NAME   every request: remove the NAME headers\n"
          "      --rewrite-path 'RE=>REPL'  first match of the POSIX regex in path and query replaced\n"
          "                           (\\1..\\9 groups, \\0 the match)\n"
          "      --include SPEC       keep only requests matching one --include (repeatable). SPEC:\n"
          "                           method:GET[,POST]  host:GLOB  path:REGEX  status:2xx[,404]\n"
          "      --exclude SPEC       leave out requests matching SPEC (status: the recorded one)\n"
          "script:\n"
          "      --script FILE.lua    run the Lua function request(req, ctx) on each request of the\n"
          "                           drafted scenario: change it, or return false to leave it\n"
          "                           out (docs/scripting.md)\n"
          "  -h, --help               this help\n"
          "  -V, --version            the version\n"
          "\n"
          "exit status: 0 ok, 2 usage or input error\n", out);
}

typedef struct cli {
    conv_opts_t o;
    rewrite_t *rw;                      /* --set-header ... --exclude */
    const char *output, *dump, *from_json, *script;
    bool json, quiet;
    const char **inc, **exc, **xpaths;  /* argc entries each: no option repeats more often */
    const char *const *paths;           /* the inputs: argv after the options */
    size_t n_paths;
} cli_t;

static int bad(const char *fmt, const char *arg)
{
    fputs("aiotest-convert: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs(" (see --help)\n", stderr);
    return 2;
}

/* --think keep | none | scale F | max D ("scale=F" and "max=D" too). */
static int parse_think(conv_opts_t *o, const char *mode, int argc, char **argv)
{
    const char *arg = strpbrk(mode, "=:");
    size_t mlen = arg ? (size_t)(arg - mode) : strlen(mode);
    if (arg)
        arg++;
    if (mlen == 4 && strncmp(mode, "keep", 4) == 0 && !arg) {
        o->think = CONV_THINK_KEEP;
        return 0;
    }
    if (mlen == 4 && strncmp(mode, "none", 4) == 0 && !arg) {
        o->think = CONV_THINK_NONE;
        return 0;
    }
    bool scale = mlen == 5 && strncmp(mode, "scale", 5) == 0, max = mlen == 3 && strncmp(mode, "max", 3) == 0;
    if (!scale && !max)
        return bad("--think '%s': expected keep, scale F, none or max D", mode);
    if (!arg) {
        if (optind >= argc)
            return bad("--think %s: expected a value after it", mode);
        arg = argv[optind++];
    }
    if (scale) {
        o->think = CONV_THINK_SCALE;
        if (units_parse_double(arg, &o->think_scale) < 0)
            return bad("--think scale '%s': expected a non-negative number", arg);
    } else {
        o->think = CONV_THINK_MAX;
        if (units_parse_duration(arg, &o->think_max_us) < 0)
            return bad("--think max '%s': expected a duration (e.g. 2s, 500ms)", arg);
    }
    return 0;
}

enum { OPT_JSON = 256, OPT_DUMP, OPT_FROM_JSON, OPT_GAP, OPT_WINDOW, OPT_ASSETGAP, OPT_THINK, OPT_MAXCLS,
       OPT_NOCORR, OPT_DATA, OPT_INC, OPT_EXC, OPT_EXCPATH, OPT_NOSTATIC, OPT_SETHDR, OPT_DROPHDR,
       OPT_REPATH, OPT_INCLUDE, OPT_EXCLUDE, OPT_SCRIPT };

/* A rewrite rule of the command line into c->rw (the grammar is rewrite.h's). */
static int parse_rule(cli_t *c, int ch, const char *arg)
{
    char err[512];
    int rc = ch == OPT_SETHDR    ? rewrite_set_header(c->rw, arg, err, sizeof err)
             : ch == OPT_DROPHDR ? rewrite_drop_header(c->rw, arg, err, sizeof err)
             : ch == OPT_REPATH  ? rewrite_path(c->rw, arg, err, sizeof err)
                                 : rewrite_filter(c->rw, ch == OPT_INCLUDE, arg, err, sizeof err);
    return rc == 0 ? 0 : bad("%s", err);
}

/* Fills c from argv. Returns 0 to run, -1 when done (--help, --version), or
 * the exit code of a usage error (its message printed). */
static int parse(cli_t *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'}, {"json", no_argument, NULL, OPT_JSON},
        {"dump", required_argument, NULL, OPT_DUMP}, {"from-json", required_argument, NULL, OPT_FROM_JSON},
        {"quiet", no_argument, NULL, 'q'}, {"session-gap", required_argument, NULL, OPT_GAP},
        {"max-classes", required_argument, NULL, OPT_MAXCLS},
        {"parallel-window", required_argument, NULL, OPT_WINDOW}, {"think", required_argument, NULL, OPT_THINK},
        {"asset-gap", required_argument, NULL, OPT_ASSETGAP},
        {"no-correlate", no_argument, NULL, OPT_NOCORR}, {"data", required_argument, NULL, OPT_DATA},
        {"include-host", required_argument, NULL, OPT_INC}, {"exclude-host", required_argument, NULL, OPT_EXC},
        {"exclude-path", required_argument, NULL, OPT_EXCPATH}, {"no-static", no_argument, NULL, OPT_NOSTATIC},
        {"set-header", required_argument, NULL, OPT_SETHDR}, {"drop-header", required_argument, NULL, OPT_DROPHDR},
        {"rewrite-path", required_argument, NULL, OPT_REPATH}, {"include", required_argument, NULL, OPT_INCLUDE},
        {"exclude", required_argument, NULL, OPT_EXCLUDE},
        {"script", required_argument, NULL, OPT_SCRIPT},
        {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
    conv_opts_t *o = &c->o;
    uint64_t v;
    int ch, rc = 0;
    c->inc = calloc((size_t)argc, sizeof *c->inc);
    c->exc = calloc((size_t)argc, sizeof *c->exc);
    c->xpaths = calloc((size_t)argc, sizeof *c->xpaths);
    c->rw = rewrite_new();
    if (!c->inc || !c->exc || !c->xpaths || !c->rw)
        return bad("%s", "out of memory");
    o->include_hosts = c->inc;
    o->exclude_hosts = c->exc;
    o->exclude_paths = c->xpaths;
    while (rc == 0 && (ch = getopt_long(argc, argv, "o:qhV", opts, NULL)) != -1) {
        switch (ch) {
        case 'o': c->output = optarg; break;
        case OPT_JSON: c->json = true; break;
        case OPT_DUMP: c->dump = optarg; break;
        case OPT_FROM_JSON: c->from_json = optarg; break;
        case 'q': c->quiet = true; break;
        case OPT_GAP:
            if (units_parse_duration(optarg, &o->session_gap_us) < 0 || o->session_gap_us == 0)
                rc = bad("--session-gap '%s': expected a positive duration (e.g. 30m)", optarg);
            break;
        case OPT_WINDOW:
            if (units_parse_duration(optarg, &o->parallel_window_us) < 0)
                rc = bad("--parallel-window '%s': expected a duration (e.g. 50ms)", optarg);
            break;
        case OPT_ASSETGAP:
            if (units_parse_duration(optarg, &o->asset_gap_us) < 0)
                rc = bad("--asset-gap '%s': expected a duration (e.g. 500ms, 0 for off)", optarg);
            break;
        case OPT_THINK: rc = parse_think(o, optarg, argc, argv); break;
        case OPT_MAXCLS:
            if (units_parse_count(optarg, &v) < 0 || v == 0)
                rc = bad("--max-classes '%s': expected a positive number", optarg);
            o->max_classes = (size_t)v;
            break;
        case OPT_NOCORR: o->correlate = false; break;
        case OPT_DATA: o->data_csv = optarg; break;
        case OPT_INC: c->inc[o->n_include_hosts++] = optarg; break;
        case OPT_EXC: c->exc[o->n_exclude_hosts++] = optarg; break;
        case OPT_EXCPATH: c->xpaths[o->n_exclude_paths++] = optarg; break;
        case OPT_NOSTATIC: o->no_static = true; break;
        case OPT_SETHDR:
        case OPT_DROPHDR:
        case OPT_REPATH:
        case OPT_INCLUDE:
        case OPT_EXCLUDE: rc = parse_rule(c, ch, optarg); break;
        case OPT_SCRIPT: c->script = optarg; break;
        case 'h': usage(stdout); return -1;
        case 'V': printf("aiotest-convert %s\n", AIOTEST_VERSION); return -1;
        default: return 2;
        }
    }
    if (rc)
        return rc;
    c->paths = (const char *const *)argv + optind;
    c->n_paths = (size_t)(argc - optind);
    if (c->dump || c->from_json) {
        if (c->script)
            return bad("%s", "--script applies to a conversion, not to --dump or --from-json");
        if (c->n_paths)
            return bad("%s: no INPUT is read with --dump or --from-json", argv[optind]);
        if (c->from_json && !c->output)
            return bad("%s", "--from-json needs -o FILE.mp");
        if (rewrite_any(c->rw))
            return bad("%s", "rewrite and filter rules apply to a conversion, not to --dump or "
                       "--from-json (edit the view, or convert the recording with the rules)");
        return 0;
    }
    if (c->n_paths == 0)
        return bad("%s", "no INPUT (expected recordings or HAR files)");
    if (!c->output && !c->json)
        return bad("%s", "no output: give -o scenario.mp, or --json");
    c->o.report = c->quiet ? NULL : stderr;
    if (rewrite_has_filters(c->rw)) {
        c->o.keep = rewrite_keep_exchange;
        c->o.keep_arg = c->rw;
    }
    return 0;
}

/* The header and path rules on the converted scenario (the filters ran on the
 * exchanges as they were read: dropped_rule of st). 0, or 2 with the error said. */
static int apply_rules(const cli_t *c, scn_scenario_t *s, const conv_stats_t *cst)
{
    rewrite_stats_t st;
    char err[512];
    if (!rewrite_any(c->rw))
        return 0;
    if (rewrite_scenario(c->rw, s, false, &st, err, sizeof err) != 0) {
        fprintf(stderr, "aiotest-convert: %s\n", err);
        return 2;
    }
    if (!c->quiet)
        fprintf(stderr, "aiotest-convert: rewrite: %zu header(s) set, %zu dropped, %zu path(s) "
                "rewritten; %zu request(s) left out by --include/--exclude\n", st.headers_set,
                st.headers_dropped, st.paths_rewritten, cst->dropped_rule);
    return 0;
}

/* The JSON view of s, printed exactly as --dump prints the saved file (the
 * view's layout is the scenarios library's), through a temporary .mp. */
static int write_json(const scn_scenario_t *s, const char *path)
{
    char tmp[] = "/tmp/aiotest-convert-XXXXXX";
    mp_error_t err = {0};
    int fd = mkstemp(tmp), rc = 2;
    FILE *out = NULL;
    if (fd < 0) {
        fprintf(stderr, "aiotest-convert: %s: %s\n", tmp, strerror(errno));
        return 2;
    }
    close(fd);
    if (scn_save(tmp, s, &err) < 0)
        goto out;
    if (!(out = path ? fopen(path, "w") : stdout)) {
        snprintf(err.msg, sizeof err.msg, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (view_dump_file(tmp, out, &err) < 0)
        goto out;
    rc = 0;
out:
    if (out && path && fclose(out) != 0 && rc == 0) {
        snprintf(err.msg, sizeof err.msg, "%s: %s", path, strerror(errno));
        rc = 2;
    }
    if (rc)
        fprintf(stderr, "aiotest-convert: %s\n", err.msg);
    unlink(tmp);
    return rc;
}

/* What the command line asked for: dump, from-json or convert. Returns the exit code. */
static int run(const cli_t *c)
{
    mp_error_t err = {0};
    scn_scenario_t *s = NULL;
    conv_stats_t cst = {0};
    cvscr_t *script = NULL;
    int rc = 0;
    char serr[1024];
    /* Loaded (syntax: FILE:LINE) before the inputs are read. */
    if (c->script && !(script = cvscr_new(c->script, serr, sizeof serr))) {
        fprintf(stderr, "aiotest-convert: %s\n", serr);
        return 2;
    }
    if (c->dump)
        rc = view_dump_file(c->dump, stdout, &err);
    else if (c->from_json)
        rc = view_json_file_to_mp(c->from_json, c->output, &err);
    else if ((rc = conv_to_scenario(c->paths, c->n_paths, &c->o, &s, &cst, &err)) == 0) {
        /* The rules first, then the script: it sees (and may undo) what they did. */
        if (apply_rules(c, s, &cst) != 0)
            rc = MP_ERR_INVALID;                        /* it printed its own message */
        else if (script) {
            cvscr_stats_t st;
            if (cvscr_apply(script, s, &st, serr, sizeof serr) != 0) {
                fprintf(stderr, "aiotest-convert: --script %s: %s\n", c->script, serr);
                rc = MP_ERR_INVALID;
            } else if (!c->quiet)
                fprintf(stderr, "aiotest-convert: script: %llu requests seen, %llu left out by "
                        "request() (%llu steps left empty and removed)\n",
                        (unsigned long long)st.seen, (unsigned long long)st.dropped,
                        (unsigned long long)st.steps_dropped);
        }
        if (rc == 0)
            rc = c->json ? (write_json(s, c->output) ? MP_ERR_IO : 0) : scn_save(c->output, s, &err);
    }
    cvscr_free(script);
    scn_free(s);
    if (rc < 0 && err.msg[0])
        fprintf(stderr, "aiotest-convert: %s\n", err.msg);
    return rc < 0 ? 2 : 0;
}

int main(int argc, char **argv)
{
    cli_t c = {0};
    conv_opts_init(&c.o);
    int rc = parse(&c, argc, argv);
    if (rc == 0)
        rc = run(&c);
    free(c.inc);
    free(c.exc);
    free(c.xpaths);
    rewrite_free(c.rw);
    return rc < 0 ? 0 : rc;  /* parse: -1 after --help or --version */
}

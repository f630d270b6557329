/* aiotest-capture: records HTTP and HTTPS sessions through a proxy, or
 * passively from a pcap file or an interface, into an aiotest-recording file
 * (docs/aiotest-capture.md). main only reads the command line; proxy.c and
 * pcap/pcapsrc.c run the capture. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "ca.h"
#include "cscript.h"
#include "filter.h"
#include "log.h"
#include "pcapsrc.h"
#include "listener.h"
#include "redact.h"
#include "units.h"

static const char usage[] =
    "usage: aiotest-capture --proxy [HOST]:PORT -o FILE [options]\n"
    "       aiotest-capture --reverse URL --proxy [HOST]:PORT -o FILE [options]\n"
    "       aiotest-capture --pcap FILE -o FILE [options]\n"
    "       aiotest-capture -i IFACE [--filter BPF] [--duration D] -o FILE [options]\n"
    "       aiotest-capture --init-ca DIR\n"
    "\n"
    "Records HTTP exchanges passing through a proxy, or seen passively in a pcap\n"
    "file or on an interface, into an aiotest-recording file.\n"
    "\n"
    "mode:\n"
    "  --proxy [HOST]:PORT     listen address (default :8080; HOST defaults to 127.0.0.1;\n"
    "                          port 0 picks a free one, printed at start)\n"
    "  --allow-clients CIDRS   only these clients may connect (comma list, e.g.\n"
    "                          10.0.0.0/8,::1); required when HOST is not loopback\n"
    "  --connect-ports LIST    ports CONNECT may reach (default 80,443; ranges A-B,\n"
    "                          or any); hosts named by --include-host are always allowed\n"
    "  --reverse URL           reverse proxy in front of one service (http:// or https://);\n"
    "                          its cleartext listener takes HTTP/1.1 and h2c (prior knowledge)\n"
    "  --reverse-tls CERT,KEY  the reverse listener speaks TLS with this PEM certificate\n"
    "                          chain and key, ALPN h2 and http/1.1\n"
    "  --reverse-tls NAME      the same with a certificate for NAME from --ca DIR's CA\n"
    "  -o, --output FILE       the recording to write (required)\n"
    "\n"
    "passive capture (HTTP/1.x and HTTP/2 over TCP, TLS with a key log):\n"
    "  --pcap FILE             read a pcap or pcapng file\n"
    "  -i, --interface IFACE   capture live on IFACE (root or CAP_NET_RAW); stop with\n"
    "                          SIGINT/SIGTERM or --duration\n"
    "  --filter BPF            libpcap filter expression, e.g. 'tcp port 8080'\n"
    "  --duration D            live: stop after D\n"
    "  --buffer-size BYTES     live: kernel capture buffer (default 8MiB)\n"
    "  --session-forwarded     client key = the original client of X-Forwarded-For or\n"
    "                          Forwarded (behind a load balancer); --session-cookie and\n"
    "                          --session-header work here too\n"
    "  --keylog FILE           decrypt TLS 1.2/1.3 with an NSS key log (SSLKEYLOGFILE);\n"
    "                          live: re-read as it grows. Keys in a pcapng file's\n"
    "                          Decryption Secrets Blocks (editcap) are read without it\n"
    "\n"
    "TLS:\n"
    "  --init-ca DIR           create DIR/ca.pem and DIR/ca.key (0600), print how to trust it\n"
    "  --ca DIR                terminate CONNECT TLS with per-host certificates signed by\n"
    "                          DIR's CA (without it CONNECT is a blind, recorded tunnel)\n"
    "  --no-h2                 offer only http/1.1 to TLS clients (default: h2 too)\n"
    "  --no-upstream-h2        speak only HTTP/1.1 to https origins (default: h2 when\n"
    "                          the origin chooses it by ALPN)\n"
    "  --upstream-ca FILE      PEM bundle trusted for origins instead of the system store\n"
    "  --upstream-insecure     do not verify origin certificates\n"
    "  --upstream-timeout D    connect, TLS and response silence limit (default 30s)\n"
    "\n"
    "recording:\n"
    "  --max-body BYTES        recorded copy of each body is capped here (default 1MiB);\n"
    "                          bodies are always forwarded whole\n"
    "  --session-cookie NAME   client key = this cookie's session (hashed)\n"
    "  --session-header NAME   client key = this header's value (hashed)\n"
    "  --include-host PATTERN  record only these hosts (repeatable; *.example.com)\n"
    "  --exclude-host PATTERN  do not record these hosts (repeatable)\n"
    "  --exclude-path REGEX    do not record targets matching (repeatable, POSIX ERE)\n"
    "  --redact-defaults       redact Authorization, Cookie, Set-Cookie and\n"
    "                          Proxy-Authorization (recommended)\n"
    "  --redact-header NAME    a request header's value becomes {{secret.NAME}}, a\n"
    "                          response header's <redacted> (repeatable)\n"
    "  --redact-body JSONPATH  the same for a JSON body value, e.g. '$.password'\n"
    "  --redact-form FIELD     the same for a form field (urlencoded body or query)\n"
    "  --redact-regex REGEX    the same for what REGEX (POSIX ERE) matches in bodies\n"
    "                          (its first group when it has one)\n"
    "  --secrets-out FILE      keep the replaced request values there (JSON, 0600) for\n"
    "                          aiotest-replay --secrets FILE\n"
    "  --script FILE.lua       run the Lua function exchange(ex) on each exchange before\n"
    "                          it is written (after the filters, before the redaction):\n"
    "                          change ex, or return false to drop it (docs/scripting.md)\n"
    "\n"
    "running:\n"
    "  --drain-timeout D       on SIGINT/SIGTERM, wait this long for exchanges in flight (5s)\n"
    "  --stats-interval D      print the counter line every D (default: only at exit)\n"
    "  -v, --verbose           log each upstream failure, refused client or CONNECT, and\n"
    "                          failed client TLS handshake (SNI, alert)\n"
    "  -h, --help              this text\n"
    "  -V, --version           the version\n"
    "\n"
    "Durations take units (500ms, 5s, 1m); sizes take KiB/MiB suffixes.\n";

enum {
    OPT_PROXY = 256, OPT_KEYLOG, OPT_REVERSE, OPT_PCAP, OPT_INIT_CA, OPT_CA, OPT_NO_H2, OPT_NO_UP_H2, OPT_UP_CA,
    OPT_UP_INSECURE, OPT_UP_TIMEOUT, OPT_MAX_BODY, OPT_SESS_COOKIE, OPT_SESS_HEADER,
    OPT_INCLUDE, OPT_EXCLUDE, OPT_EXCLUDE_PATH, OPT_REDACT, OPT_DRAIN, OPT_STATS, OPT_FILTER,
    OPT_DURATION, OPT_BUFSIZE, OPT_ALLOW, OPT_CONNECT_PORTS, OPT_REDACT_DEFAULTS, OPT_REDACT_BODY,
    OPT_REDACT_FORM, OPT_REDACT_REGEX, OPT_SECRETS_OUT, OPT_REVERSE_TLS, OPT_SESS_FORWARDED,
    OPT_SCRIPT,
};

static const struct option longopts[] = {
    { "proxy", required_argument, NULL, OPT_PROXY },
    { "reverse", required_argument, NULL, OPT_REVERSE },
    { "reverse-tls", required_argument, NULL, OPT_REVERSE_TLS },
    { "output", required_argument, NULL, 'o' },
    { "pcap", required_argument, NULL, OPT_PCAP },
    { "filter", required_argument, NULL, OPT_FILTER },
    { "keylog", required_argument, NULL, OPT_KEYLOG },
    { "interface", required_argument, NULL, 'i' },
    { "duration", required_argument, NULL, OPT_DURATION },
    { "buffer-size", required_argument, NULL, OPT_BUFSIZE },
    { "init-ca", required_argument, NULL, OPT_INIT_CA },
    { "ca", required_argument, NULL, OPT_CA },
    { "no-h2", no_argument, NULL, OPT_NO_H2 },
    { "no-upstream-h2", no_argument, NULL, OPT_NO_UP_H2 },
    { "upstream-ca", required_argument, NULL, OPT_UP_CA },
    { "upstream-insecure", no_argument, NULL, OPT_UP_INSECURE },
    { "upstream-timeout", required_argument, NULL, OPT_UP_TIMEOUT },
    { "max-body", required_argument, NULL, OPT_MAX_BODY },
    { "session-cookie", required_argument, NULL, OPT_SESS_COOKIE },
    { "session-header", required_argument, NULL, OPT_SESS_HEADER },
    { "session-forwarded", no_argument, NULL, OPT_SESS_FORWARDED },
    { "include-host", required_argument, NULL, OPT_INCLUDE },
    { "exclude-host", required_argument, NULL, OPT_EXCLUDE },
    { "exclude-path", required_argument, NULL, OPT_EXCLUDE_PATH },
    { "redact-header", required_argument, NULL, OPT_REDACT },
    { "redact-defaults", no_argument, NULL, OPT_REDACT_DEFAULTS },
    { "redact-body", required_argument, NULL, OPT_REDACT_BODY },
    { "redact-form", required_argument, NULL, OPT_REDACT_FORM },
    { "redact-regex", required_argument, NULL, OPT_REDACT_REGEX },
    { "secrets-out", required_argument, NULL, OPT_SECRETS_OUT },
    { "script", required_argument, NULL, OPT_SCRIPT },
    { "allow-clients", required_argument, NULL, OPT_ALLOW },
    { "connect-ports", required_argument, NULL, OPT_CONNECT_PORTS },
    { "drain-timeout", required_argument, NULL, OPT_DRAIN },
    { "stats-interval", required_argument, NULL, OPT_STATS },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "aiotest-capture: %s%s%s\n(see aiotest-capture --help)\n", msg,
            arg ? ": " : "", arg ? arg : "");
    return 2;
}

static int init_ca(const char *dir)
{
    char err[512], spki[128];
    if (ca_init_dir(dir, err, sizeof err) != 0 || ca_spki_hash(dir, spki, sizeof spki, err, sizeof err) != 0) {
        fprintf(stderr, "aiotest-capture: --init-ca: %s\n", err);
        return 2;
    }
    printf("Created %s/ca.pem (certificate) and %s/ca.key (private key, mode 0600).\n"
           "Record HTTPS with: aiotest-capture --proxy :8080 --ca %s -o rec.mp\n"
           "Trust this CA in the client, only for the capture:\n"
           "  curl:      curl --cacert %s/ca.pem -x http://127.0.0.1:8080 https://...\n"
           "  chromium:  chromium --proxy-server=http://127.0.0.1:8080 \\\n"
           "               --proxy-bypass-list='<-loopback>' \\\n"
           "               --ignore-certificate-errors-spki-list=%s\n"
           "             (without --proxy-bypass-list='<-loopback>' Chromium sends localhost and\n"
           "             127.0.0.1 past the proxy, and nothing of a local app is recorded)\n"
           "  NSS db (Firefox, Chromium profiles):\n"
           "             certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n aiotest-capture -i %s/ca.pem\n"
           "  system:    cp %s/ca.pem /usr/local/share/ca-certificates/aiotest-capture.crt &&\n"
           "             update-ca-certificates   (remove it again after the capture)\n"
           "Keep ca.key secret: anyone with it can impersonate any site to clients that trust it.\n",
           dir, dir, dir, dir, spki, dir, dir);
    return 0;
}

static int duration(const char *opt, const char *s, uint64_t *us)
{
    if (units_parse_duration(s, us) != 0) {
        fprintf(stderr, "aiotest-capture: %s '%s': expected a duration such as 500ms, 5s or 1m\n", opt, s);
        return -1;
    }
    return 0;
}

/* What redaction did, after the counter line: values kept because a
 * response holds them and values it could not reach are said, never silent.
 * Passive capture's counter line is pcapsrc's, so the secrets-in-clear hint
 * is given here for it. */
static void redact_summary(const redact_t *r, bool passive, const char *secrets_out)
{
    redact_stats_t s;
    redact_get_stats(r, &s);
    if (passive && s.clear > 0)
        fprintf(stderr, "aiotest-capture: %llu exchanges carry Authorization/Cookie in clear: see --redact-defaults\n",
                (unsigned long long)s.clear);
    if (!redact_active(r))
        return;
    fprintf(stderr, "aiotest-capture: redaction: %llu values replaced", (unsigned long long)s.replaced);
    if (secrets_out)
        fprintf(stderr, ", %llu request values in %s%s", (unsigned long long)s.secrets, secrets_out,
                s.write_errors ? " (its last rewrite FAILED)" : "");
    if (s.kept)
        fprintf(stderr, ", %llu left as recorded because an earlier response holds them (the converter "
                "correlates them)", (unsigned long long)s.kept);
    if (s.unchecked)
        fprintf(stderr, ", %llu bodies or values NOT redacted by --redact-body (JSON cut by --max-body or "
                "malformed, or not a string)", (unsigned long long)s.unchecked);
    fputc('\n', stderr);
}

/* What --script did: every exchange it dropped or failed on is counted. */
static void script_summary(const cscr_t *s)
{
    if (!s)
        return;
    cscr_stats_t st;
    cscr_get_stats(s, &st);
    fprintf(stderr, "aiotest-capture: script: %llu exchanges seen, %llu dropped by exchange(), "
            "%llu NOT written because the hook failed on them (first error above)\n",
            (unsigned long long)st.seen, (unsigned long long)st.dropped,
            (unsigned long long)st.errors);
}

/* Passive capture takes the recording options the proxy's way, session keys
 * included (the same code, capture/session.c); the proxy-only ones make no
 * sense here and are refused. */
static int run_pcap(pcapsrc_opts_t *po, const proxy_config_t *cfg, const char *proxy, const char *reverse)
{
    if (po->file && po->iface)
        return usage_error("--pcap and -i exclude each other", NULL);
    if (proxy || reverse || cfg->ca_dir || cfg->reverse_tls)
        return usage_error("--pcap and -i exclude --proxy, --reverse, --reverse-tls and --ca", NULL);
    if (cfg->rec.session_cookie && cfg->rec.session_header)
        return usage_error("--session-cookie and --session-header exclude each other", NULL);
    if (po->file && po->duration_us)
        return usage_error("--duration applies to live capture (-i) only", NULL);
    po->rec.path = cfg->out_path;
    po->rec.max_body = cfg->rec.max_body;
    po->rec.filter = cfg->rec.filter;
    po->rec.redact = cfg->rec.redact;
    po->rec.script = cfg->rec.script;
    po->rec.session.cookie = cfg->rec.session_cookie;
    po->rec.session.header = cfg->rec.session_header;
    return pcapsrc_run(po);
}

int main(int argc, char **argv)
{
    proxy_config_t cfg = { .listen_port = 8080, .h2 = true, .upstream_h2 = true, .upstream_timeout_us = 30000000,
                           .drain_timeout_us = 5000000, .rec = { .max_body = 1024 * 1024 } };
    filter_t *filter = filter_new();
    redact_t *redact = redact_new();
    access_t *access = access_new();
    const char *secrets_out = NULL, *script_path = NULL;
    cscr_t *script = NULL;
    const char *proxy = NULL, *reverse = NULL;
    pcapsrc_opts_t po = { .buffer_size = 8 * 1024 * 1024, .max_flow = 4 * 1024 * 1024,
                          .max_total = 256 * 1024 * 1024 };
    char err[512];
    uint64_t v;
    int opt, rc = 2;
    snprintf(cfg.listen_host, sizeof cfg.listen_host, "127.0.0.1");
    log_init("aiotest-capture", LOG_INFO);
    if (filter == NULL || redact == NULL || access == NULL)
        return 2;
    cfg.rec.filter = filter;
    cfg.rec.redact = redact;
    cfg.access = access;
    opterr = 0; /* our own one-line message below */
    while ((opt = getopt_long(argc, argv, "o:i:vhV", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_PROXY: proxy = optarg; break;
        case OPT_REVERSE: reverse = optarg; break;
        case OPT_REVERSE_TLS: cfg.reverse_tls = optarg; break;
        case 'o': cfg.out_path = optarg; cfg.rec.path = optarg; break;
        case OPT_PCAP: po.file = optarg; break;
        case 'i': po.iface = optarg; break;
        case OPT_FILTER: po.filter = optarg; break;
        case OPT_KEYLOG: po.keylog = optarg; break;
        case OPT_DURATION:
            if (duration("--duration", optarg, &po.duration_us) != 0)
                goto out;
            break;
        case OPT_BUFSIZE:
            if (units_parse_bytes(optarg, &v) != 0 || v < 65536 || v > 1u << 30) {
                rc = usage_error("--buffer-size: expected a size from 64KiB to 1GiB", optarg);
                goto out;
            }
            po.buffer_size = (size_t)v;
            break;
        case OPT_INIT_CA: rc = init_ca(optarg); goto out;
        case OPT_CA: cfg.ca_dir = optarg; break;
        case OPT_NO_H2: cfg.h2 = false; break;
        case OPT_NO_UP_H2: cfg.upstream_h2 = false; break;
        case OPT_UP_CA: cfg.upstream_ca = optarg; break;
        case OPT_UP_INSECURE: cfg.upstream_insecure = true; break;
        case OPT_UP_TIMEOUT:
            if (duration("--upstream-timeout", optarg, &cfg.upstream_timeout_us) != 0)
                goto out;
            break;
        case OPT_DRAIN:
            if (duration("--drain-timeout", optarg, &cfg.drain_timeout_us) != 0)
                goto out;
            break;
        case OPT_STATS:
            if (duration("--stats-interval", optarg, &cfg.stats_interval_us) != 0)
                goto out;
            break;
        case OPT_MAX_BODY:
            if (units_parse_bytes(optarg, &v) != 0) {
                rc = usage_error("--max-body: expected a size such as 64KiB or 1MiB", optarg);
                goto out;
            }
            cfg.rec.max_body = (size_t)v;
            break;
        case OPT_SESS_COOKIE: cfg.rec.session_cookie = optarg; break;
        case OPT_SESS_HEADER: cfg.rec.session_header = optarg; break;
        case OPT_SESS_FORWARDED: po.rec.session.forwarded = true; break;
        case OPT_INCLUDE: filter_include_host(filter, optarg); break;
        case OPT_EXCLUDE: filter_exclude_host(filter, optarg); break;
        case OPT_REDACT:
        case OPT_REDACT_DEFAULTS:
            if ((opt == OPT_REDACT ? redact_header(redact, optarg) : redact_defaults(redact)) != 0) {
                rc = usage_error("out of memory", NULL);
                goto out;
            }
            break;
        case OPT_REDACT_BODY:
        case OPT_REDACT_FORM:
        case OPT_REDACT_REGEX:
            if ((opt == OPT_REDACT_BODY ? redact_body(redact, optarg, err, sizeof err)
                 : opt == OPT_REDACT_FORM ? redact_form(redact, optarg, err, sizeof err)
                 : redact_regex(redact, optarg, err, sizeof err)) != 0) {
                rc = usage_error(err, NULL);
                goto out;
            }
            break;
        case OPT_SECRETS_OUT: secrets_out = optarg; break;
        case OPT_SCRIPT: script_path = optarg; break;
        case OPT_ALLOW:
            if (access_allow_clients(access, optarg, err, sizeof err) != 0) {
                rc = usage_error(err, NULL);
                goto out;
            }
            break;
        case OPT_CONNECT_PORTS:
            if (access_connect_ports(access, optarg, err, sizeof err) != 0) {
                rc = usage_error(err, NULL);
                goto out;
            }
            break;
        case OPT_EXCLUDE_PATH:
            if (filter_exclude_path(filter, optarg, err, sizeof err) != 0) {
                rc = usage_error(err, NULL);
                goto out;
            }
            break;
        case 'v': log_init("aiotest-capture", LOG_DEBUG); break;
        case 'h': fputs(usage, stdout); rc = 0; goto out;
        case 'V': printf("aiotest-capture %s\n", AIOTEST_VERSION); rc = 0; goto out;
        default:
            rc = usage_error("unknown option or missing value", argv[optind - 1]);
            goto out;
        }
    }
    if (optind < argc) {
        rc = usage_error("unexpected argument", argv[optind]);
        goto out;
    }
    if (cfg.out_path == NULL) {
        rc = usage_error("-o FILE is required (the recording to write)", NULL);
        goto out;
    }
    if (secrets_out != NULL) {
        if (!redact_active(redact)) {
            rc = usage_error("--secrets-out needs a redaction rule (--redact-header, --redact-defaults, "
                             "--redact-body, --redact-form or --redact-regex)", NULL);
            goto out;
        }
        if (redact_secrets_out(redact, secrets_out, err, sizeof err) != 0) {
            rc = usage_error(err, NULL);
            goto out;
        }
    }
    /* Loaded (syntax: FILE:LINE, exit 2) before anything is captured. */
    if (script_path) {
        if (!(script = cscr_new(script_path, err, sizeof err))) {
            rc = usage_error(err, NULL);
            goto out;
        }
        cfg.rec.script = script;
    }
    if (po.file || po.iface) {
        rc = run_pcap(&po, &cfg, proxy, reverse);
        if (rc != 2) {
            script_summary(script);
            redact_summary(redact, true, secrets_out);
        }
        goto out;
    }
    if (po.filter || po.duration_us || po.rec.session.forwarded || po.keylog) {
        rc = usage_error("--filter, --duration, --session-forwarded and --keylog need --pcap or -i", NULL);
        goto out;
    }
    if (proxy && url_parse_listen(proxy, "127.0.0.1", cfg.listen_host, sizeof cfg.listen_host,
                                  &cfg.listen_port, err, sizeof err) != 0) {
        rc = usage_error("--proxy", err);
        goto out;
    }
    if (reverse) {
        if (url_parse(reverse, &cfg.reverse_url, err, sizeof err) != 0) {
            rc = usage_error("--reverse", err);
            goto out;
        }
        cfg.reverse = true;
    }
    if (cfg.reverse_tls && !cfg.reverse) {
        rc = usage_error("--reverse-tls needs --reverse URL", NULL);
        goto out;
    }
    if (cfg.rec.session_cookie && cfg.rec.session_header) {
        rc = usage_error("--session-cookie and --session-header exclude each other", NULL);
        goto out;
    }
    rc = listener_run(&cfg);
    if (rc != 2) {
        script_summary(script);
        redact_summary(redact, false, secrets_out);
    }
out:
    cscr_free(script);
    filter_free(filter);
    redact_free(redact);
    access_free(access);
    return rc;
}

/* aiotest-target: the demo shop server. main reads the options, starts the
 * server and waits for SIGINT or SIGTERM. */
#include "faults.h"
#include "server.h"
#include "web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define PROG "aiotest-target"
#define EXIT_USAGE 2
#define PEM_MAX (1024 * 1024)

static void usage(FILE *out)
{
    fprintf(out,
        "usage: " PROG " [options]\n"
        "A demo shop server (libmicrohttpd) for aiotest's demo and tests.\n"
        "\n"
        "  --port P             listen on port P (default 8080; 0: pick a free port)\n"
        "  --bind ADDR          numeric address to listen on (default 127.0.0.1; ::1 works)\n"
        "  --threads N          server threads (default: number of cores)\n"
        "  --delay-ms N|A-B     delay every /api/ and /checkout answer by N ms, or by a\n"
        "                       uniform random A..B ms (default 0); other requests are\n"
        "                       not held up\n"
        "  --fail-rate F        answer this fraction (0-1) of /api/ and /checkout requests\n"
        "                       with 500 (default 0)\n"
        "  --tls CERT KEY       serve HTTPS with this PEM certificate and key\n"
        "  --compress LIST      compress /api/ and /checkout answers for clients that\n"
        "                       accept it, with the first coding of LIST (gzip, br,\n"
        "                       zstd, deflate; comma-separated, in order of preference)\n"
        "                       the client's Accept-Encoding allows (default off)\n"
        "  --require-header 'N: V'  answer 403 to every request without header N equal\n"
        "                       to V (a staging gate, for rewrite tests)\n"
        "  --rename-field A=B   write the key A of every JSON answer as B (a changed\n"
        "                       API, for response-diff tests)\n"
        "  --max-conns N        open connections at most (default 20000)\n"
        "  --max-sessions N     logged-in sessions kept, oldest evicted (default 131072)\n"
        "  --quiet              no libmicrohttpd messages on stderr\n"
        "  --help               this text\n"
        "  --version            the version\n"
        "\n"
        "Prints \"listening on URL\" on stdout once it accepts connections; stops on\n"
        "SIGINT or SIGTERM. Endpoints and the runtime control API: docs/aiotest-target.md\n");
}

static _Noreturn void die_usage(const char *opt, const char *expected, const char *got)
{
    fprintf(stderr, PROG ": %s: expected %s, got '%s' (see --help)\n", opt, expected, got);
    exit(EXIT_USAGE);
}

static unsigned long parse_uint(const char *opt, const char *s, unsigned long lo,
                                unsigned long hi, const char *expected)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (*s < '0' || *s > '9' || errno || *end || v < lo || v > hi)
        die_usage(opt, expected, s);
    return v;
}

/* The whole file as a NUL-terminated string, or exits naming the option. */
static char *read_pem(const char *path, const char *what)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;
    if (!f) {
        fprintf(stderr, PROG ": --tls: cannot open %s '%s': %s\n", what, path, strerror(errno));
        exit(EXIT_USAGE);
    }
    buf = malloc(PEM_MAX + 1);
    if (buf)
        len = fread(buf, 1, PEM_MAX + 1, f);
    fclose(f);
    if (!buf || len == 0 || len > PEM_MAX) {
        fprintf(stderr, PROG ": --tls: %s '%s' is empty or larger than 1 MiB\n", what, path);
        exit(EXIT_USAGE);
    }
    buf[len] = '\0';
    return buf;
}

/* More connections than the default soft limit of 1024 descriptors. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

enum { OPT_PORT = 256, OPT_BIND, OPT_THREADS, OPT_DELAY, OPT_FAIL, OPT_TLS, OPT_MAXCONNS,
       OPT_MAXSESS, OPT_QUIET, OPT_COMPRESS, OPT_HELP, OPT_VERSION, OPT_REQUIRE, OPT_RENAME };

static void parse_args(int argc, char **argv, struct server_config *cfg, char **cert, char **key)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, OPT_PORT},
        {"bind", required_argument, NULL, OPT_BIND},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"delay-ms", required_argument, NULL, OPT_DELAY},
        {"fail-rate", required_argument, NULL, OPT_FAIL},
        {"tls", required_argument, NULL, OPT_TLS},
        {"max-conns", required_argument, NULL, OPT_MAXCONNS},
        {"max-sessions", required_argument, NULL, OPT_MAXSESS},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"compress", required_argument, NULL, OPT_COMPRESS},
        {"require-header", required_argument, NULL, OPT_REQUIRE},
        {"rename-field", required_argument, NULL, OPT_RENAME},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case OPT_PORT:
            cfg->port = (unsigned)parse_uint("--port", optarg, 0, 65535, "a port 0-65535");
            break;
        case OPT_BIND: {
            unsigned char addr[sizeof(struct in6_addr)];
            if (inet_pton(AF_INET, optarg, addr) != 1 && inet_pton(AF_INET6, optarg, addr) != 1)
                die_usage("--bind", "a numeric IPv4 or IPv6 address (127.0.0.1, ::1)", optarg);
            cfg->bind = optarg;
            break;
        }
        case OPT_THREADS:
            cfg->threads = (unsigned)parse_uint("--threads", optarg, 1, 1024, "a thread count 1-1024");
            break;
        case OPT_DELAY:
            if (faults_parse_delay(optarg, &cfg->delay_min_ms, &cfg->delay_max_ms) < 0)
                die_usage("--delay-ms", "milliseconds N or A-B with A <= B <= 3600000", optarg);
            break;
        case OPT_FAIL:
            if (faults_parse_rate(optarg, &cfg->fail_rate) < 0)
                die_usage("--fail-rate", "a fraction from 0 to 1", optarg);
            break;
        case OPT_TLS:
            /* Two arguments: getopt took CERT, KEY is the next word. */
            if (optind >= argc || argv[optind][0] == '-')
                die_usage("--tls", "two files CERT KEY", optarg);
            *cert = optarg;
            *key = argv[optind++];
            break;
        case OPT_MAXCONNS:
            cfg->max_conns = (unsigned)parse_uint("--max-conns", optarg, 1, 1000000,
                                                  "a connection count 1-1000000");
            break;
        case OPT_MAXSESS:
            cfg->max_sessions = parse_uint("--max-sessions", optarg, 1, 1u << 24,
                                           "a session count 1-16777216");
            break;
        case OPT_QUIET:
            cfg->quiet = true;
            break;
        case OPT_COMPRESS:
            if (compress_parse(optarg, &cfg->compress) < 0)
                die_usage("--compress", "codings from gzip,br,zstd,deflate (each once, comma-separated) or off",
                          optarg);
            break;
        case OPT_REQUIRE: {
            char *colon = strchr(optarg, ':');
            if (!colon || colon == optarg)
                die_usage("--require-header", "'Name: value'", optarg);
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ')
                v++;
            cfg->require_name = optarg;
            cfg->require_value = v;
            break;
        }
        case OPT_RENAME: {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || !eq[1])
                die_usage("--rename-field", "FROM=TO", optarg);
            *eq = '\0';
            web_set_rename(optarg, eq + 1);
            break;
        }
        case OPT_HELP:
            usage(stdout);
            exit(0);
        case OPT_VERSION:
            printf(PROG " " AIOTEST_VERSION "\n");
            exit(0);
        default:
            if (optopt)
                fprintf(stderr, PROG ": %s needs a value (see --help)\n", argv[optind - 1]);
            else
                fprintf(stderr, PROG ": unknown option '%s' (see --help)\n", argv[optind - 1]);
            exit(EXIT_USAGE);
        }
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument '%s' (see --help)\n", argv[optind]);
        exit(EXIT_USAGE);
    }
}

int main(int argc, char **argv)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    struct server_config cfg = {
        .bind = "127.0.0.1",
        .port = 8080,
        .threads = cores > 0 ? (unsigned)cores : 1,
        .max_conns = 20000,
        .max_sessions = 131072,
    };
    char *cert_path = NULL, *key_path = NULL, err[256];
    sigset_t stop;
    int sig, rc = 1;

    parse_args(argc, argv, &cfg, &cert_path, &key_path);
    char *cert = cert_path ? read_pem(cert_path, "certificate") : NULL;
    char *key = key_path ? read_pem(key_path, "key") : NULL;
    cfg.tls_cert_pem = cert;
    cfg.tls_key_pem = key;
    raise_fd_limit();

    /* Blocked before any thread starts, so only sigwait below sees them. */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    struct server *s = server_start(&cfg, err, sizeof(err));
    if (!s) {
        fprintf(stderr, PROG ": %s\n", err);
        goto out;
    }
    int v6 = strchr(cfg.bind, ':') != NULL;
    printf("listening on %s://%s%s%s:%u\n", cert ? "https" : "http", v6 ? "[" : "", cfg.bind,
           v6 ? "]" : "", server_port(s));
    fflush(stdout);
    sigwait(&stop, &sig);
    server_stop(s);
    rc = 0;
out:
    free(key);
    free(cert);
    return rc;
}

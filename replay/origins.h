/* origins: the user's rules for where a run may send requests
 * (docs/aiotest-replay.md, "Origins"): --map-host FROM=TO, --allow-host PATTERN,
 * --only-host PATTERN and --resolve HOST:PORT:ADDR. Built by main before the
 * plan is compiled, read-only afterwards and shared by every worker thread.
 *
 * A PATTERN is a glob (fnmatch, case-insensitive) on the host, or on
 * "host:port" when it holds a port ("[v6]" and "[v6]:port" for IPv6 hosts),
 * optionally after "http://" or "https://" to match one scheme only. */
#ifndef AIOTEST_ORIGINS_H
#define AIOTEST_ORIGINS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "url.h"

typedef struct origins origins_t;

typedef enum origins_rule {
    ORIGINS_REFUSE = 0, /* no rule names it */
    ORIGINS_MAP,        /* --map-host: send to another origin */
    ORIGINS_ALLOW,      /* --allow-host or --only-host: send as it is */
    ORIGINS_DROP,       /* --only-host given and not matching: do not send */
} origins_rule_t;

/* NULL on out of memory. */
origins_t *origins_new(void);
void origins_free(origins_t *o);

/* Each adds one command-line rule. Returns 0, or -1 with err naming the option
 * and what was expected. spec and pattern must outlive o. */
int origins_add_map(origins_t *o, const char *spec, char *err, size_t errlen);
int origins_add_allow(origins_t *o, const char *pattern, char *err, size_t errlen);
int origins_add_only(origins_t *o, const char *pattern, char *err, size_t errlen);
int origins_add_pin(origins_t *o, const char *spec, char *err, size_t errlen);

/* What the rules say about origin u (o may be NULL: no rules). The first
 * --map-host that matches wins, then --allow-host and --only-host; MAP fills
 * *to with the target origin (TO's scheme, host and port; a TO without scheme
 * keeps u's, without port takes the scheme's default). */
origins_rule_t origins_route(const origins_t *o, const url_t *u, url_t *to);

/* Whether pattern (same syntax as above) matches origin u. */
bool origins_match(const char *pattern, const url_t *u);

/* --resolve: copies the pinned address of host:port into addr (port set).
 * Returns false when none is pinned. */
bool origins_pinned(const origins_t *o, const char *host, unsigned short port,
                    struct sockaddr_storage *addr, socklen_t *len);

#endif

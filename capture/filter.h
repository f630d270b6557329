/* filter: which exchanges go into the recording (--include-host, --exclude-host,
 * --exclude-path). Filtered exchanges are still proxied; only the file leaves
 * them out. What is masked inside a recorded exchange is redact.h's job. */
#ifndef CAPTURE_FILTER_H
#define CAPTURE_FILTER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct filter filter_t;

filter_t *filter_new(void);
void filter_free(filter_t *f);

/* A host pattern: "example.com" matches that host only, "*.example.com" (or
 * ".example.com") every subdomain and the domain itself. Case-insensitive;
 * a port in the exchange's authority is ignored. Return 0 or -1 (memory). */
int filter_include_host(filter_t *f, const char *pattern);
int filter_exclude_host(filter_t *f, const char *pattern);
/* POSIX extended regex against the request target ("/path?query").
 * Returns 0, or -1 with a message in err naming the pattern. */
int filter_exclude_path(filter_t *f, const char *regex, char *err, size_t errlen);

/* true when an exchange to authority ("host[:port]") for target is recorded. */
bool filter_records(const filter_t *f, const char *authority, const char *target);
/* true when an --include-host pattern names host (a port in it is ignored)
 * and no --exclude-host pattern does: the user asked for this host. */
bool filter_names_host(const filter_t *f, const char *host);

#endif

/* filter: which exchanges go into the recording (--include-host, --exclude-host,
 * --exclude-path) and which header values are masked in it (--redact-header).
 * Filtered exchanges are still proxied; only the file leaves them out. */
#ifndef CAPTURE_FILTER_H
#define CAPTURE_FILTER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct filter filter_t;

/* The marker written instead of a redacted value. */
#define FILTER_REDACTED "<redacted>"

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
int filter_redact(filter_t *f, const char *header_name);

/* true when an exchange to authority ("host[:port]") for target is recorded. */
bool filter_records(const filter_t *f, const char *authority, const char *target);
/* true when the value of header name is masked in the file. */
bool filter_redacts(const filter_t *f, const char *name);

#endif

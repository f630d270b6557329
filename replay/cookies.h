/* cookies: a per-user cookie jar, RFC 6265 basics: Domain (host-only or
 * domain-match), Path (default-path and path-match), Expires / Max-Age,
 * Secure (https only), replacement by (name, domain, path). Allocated lazily:
 * a user that never receives a cookie holds no jar.
 * As browsers do (RFC 6265bis): a plain-http response cannot set a Secure
 * cookie, a cookie whose name and value exceed 4096 bytes is ignored, and a
 * jar keeps at most 64 cookies (expired ones, then the oldest, make room). host may carry a ":port", path a query; both are ignored.
 * cookie_jar_header, _count and _size accept a NULL jar (no cookie). */
#ifndef AIOTEST_COOKIES_H
#define AIOTEST_COOKIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cookie_jar cookie_jar_t;

cookie_jar_t *cookie_jar_new(void);
void cookie_jar_free(cookie_jar_t *j);

/* Stores one Set-Cookie header value received from host (request path path,
 * over TLS or not) at wall time now_s. Malformed cookies are ignored. */
void cookie_jar_set(cookie_jar_t *j, const char *value, size_t len, const char *host,
                    const char *path, bool tls, int64_t now_s);

/* Writes the Cookie header value ("a=1; b=2") for a request to host/path into
 * buf (NUL-terminated when cap > 0). Returns its full length (0 = no cookie). */
size_t cookie_jar_header(const cookie_jar_t *j, const char *host, const char *path, bool tls,
                         int64_t now_s, char *buf, size_t cap);

/* Number of cookies held, and bytes used (for the per-user memory budget). */
size_t cookie_jar_count(const cookie_jar_t *j);
size_t cookie_jar_size(const cookie_jar_t *j);

/* Splits the leading "name=value" of a Set-Cookie header value (up to the
 * first ';', blanks trimmed) into slices of value. Returns 0, or -1 when there
 * is no '=' or the name is empty (such a cookie is ignored). */
int cookie_parse_pair(const char *value, size_t len, const char **name, size_t *name_len,
                      const char **val, size_t *val_len);

#endif

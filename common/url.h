/* url: absolute http(s) URLs and origins, for requests, --host and the proxy. */
#ifndef AIOTEST_URL_H
#define AIOTEST_URL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct url {
    char scheme[8];      /* "http" or "https" */
    char host[256];      /* without brackets for IPv6 */
    unsigned short port; /* explicit or the scheme's default */
    bool tls;            /* scheme is https */
    bool ipv6;           /* host is an IPv6 literal (needs [] in Host) */
    const char *path;    /* points into the parsed string: "/..." with query; "/" if empty */
} url_t;

/* Parses "http://host[:port][/path?query]" or "https://...". u->path points into
 * s (s must outlive u). Returns 0, or -1 with a message in err (credentials,
 * "user:pw@host", are refused as userinfo, without echoing them). */
int url_parse(const char *s, url_t *u, char *err, size_t errlen);

/* Writes the Host header value ("host" or "host:port" when not the default port,
 * with [] around IPv6) into buf. Returns the length written. */
size_t url_host_header(const url_t *u, char *buf, size_t len);

/* Writes "scheme://host[:port]" into buf. Returns the length written. */
size_t url_origin(const url_t *u, char *buf, size_t len);

/* Resolves the reference ref[0..ref_len) (a Location value: absolute, "//host/p",
 * "/p", "p", "../p", "?q") against the absolute URL base, as RFC 3986 5.2 says
 * (dot segments removed, the fragment dropped), into out as an absolute URL.
 * Returns its length, or -1 when base is not an http(s) URL, ref names another
 * scheme, or out is too small. */
long url_resolve(const char *base, const char *ref, size_t ref_len, char *out, size_t outlen);

/* Parses "HOST:PORT", ":PORT" (host defaults to default_host) or "PORT" into
 * host/port, for listen addresses; port 0 asks for any free port. Returns 0 or
 * -1 with err. */
int url_parse_listen(const char *s, const char *default_host, char *host, size_t hostlen,
                     unsigned short *port, char *err, size_t errlen);

#endif

/* Fuzz target of common/url.c: any text is a URL or is refused with a message,
 * never a crash; a parsed URL's Host header and origin fit their buffers and
 * parse back to the same host and port. The listen-address form likewise. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    url_t u;
    char err[256] = "";
    if (url_parse(s, &u, err, sizeof err) == 0) {
        char origin[300], host[300];
        size_t n = url_origin(&u, origin, sizeof origin);
        if (n >= sizeof origin || strlen(origin) != n)
            abort();
        n = url_host_header(&u, host, sizeof host);
        if (n >= sizeof host || strlen(host) != n)
            abort();
        url_t back;
        if (url_parse(origin, &back, err, sizeof err) != 0 || back.port != u.port ||
            strcmp(back.host, u.host) != 0 || back.tls != u.tls)
            abort(); /* an origin we write must read back as the same origin */
    } else if (!err[0]) {
        abort();
    }
    char host[64];
    unsigned short port;
    err[0] = '\0';
    if (url_parse_listen(s, "127.0.0.1", host, sizeof host, &port, err, sizeof err) != 0 && !err[0])
        abort();
    free(s);
    return 0;
}

/* Fuzz target: Set-Cookie parsing. Each input line is one Set-Cookie value
 * received from a fixed host; the Cookie header built afterwards must end
 * where the length it reports says (or be cut at the buffer). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cookies.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cookie_jar_t *j = cookie_jar_new();
    const char *s = (const char *)data, *end = s + size;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = (size_t)((nl ? nl : end) - s);
        cookie_jar_set(j, s, len, "www.example.com", "/a/b/c", size % 2 == 0, 1700000000);
        s += len + 1;
    }
    char buf[64];
    size_t n = cookie_jar_header(j, "www.example.com", "/a/b/c/d", true, 1700000001, buf, sizeof(buf));
    if (buf[n < sizeof(buf) ? n : sizeof(buf) - 1] != '\0')
        abort();
    if (cookie_jar_count(j) > 0 && cookie_jar_size(j) == 0)
        abort();
    cookie_jar_free(j);
    return 0;
}

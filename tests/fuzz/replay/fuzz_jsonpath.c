/* Fuzz target: the JSON path parser. The first line is the path, the rest a
 * JSON document the path is looked up in. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : size;
    char *path = strndup((const char *)data, plen); /* stops at a NUL byte, like a C string field */
    if (!path)
        return 0;
    char err[200] = "";
    jpath_t *p = jpath_compile(path, err, sizeof(err));
    if (!p) {
        if (!err[0])
            abort();
        free(path);
        return 0;
    }
    json_t *doc = nl ? json_loadb((const char *)nl + 1, size - plen - 1, JSON_DECODE_ANY, NULL) : NULL;
    if (doc) {
        json_t *v = jpath_lookup(p, doc);
        if (v) {
            char scratch[JPATH_SCRATCH], *owned;
            size_t len;
            const char *t = jpath_text(v, scratch, &len, &owned);
            if (!t)
                abort();
            if (json_is_string(v)) {
                if (len != json_string_length(v))
                    abort();
            } else if (json_is_real(v)) { /* "1000" for 1e3: reads back as the same double */
                char tmp[JPATH_SCRATCH + 1];
                memcpy(tmp, t, len);
                tmp[len] = '\0';
                if (len >= JPATH_SCRATCH || strtod(tmp, NULL) != json_real_value(v))
                    abort();
            } else { /* any other value's text is JSON that reads back as the value */
                json_t *back = json_loadb(t, len, JSON_DECODE_ANY, NULL);
                if (!back || !json_equal(back, v))
                    abort();
                json_decref(back);
            }
            free(owned);
        }
        json_decref(doc);
    }
    jpath_free(p);
    free(path);
    return 0;
}

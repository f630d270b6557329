/* Unit tests of capture/pcap/pcaprec.c's tables: docs/file-formats.md (the
 * path is the first argument) lists every http_version passive capture
 * writes and every reason it gives an incomplete exchange, with N for a
 * number and … for a text in the reason's printf format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pcaprec.h"

static char *doc;

/* "capture gap of %llu bytes" -> "`capture gap of N bytes`" */
static void doc_form(const char *fmt, char *out, size_t len)
{
    size_t o = 0;
    out[o++] = '`';
    for (const char *p = fmt; *p && o + 4 < len; p++) {
        if (*p != '%') {
            out[o++] = *p;
            continue;
        }
        p++;
        while (*p == 'l')
            p++;
        const char *rep = *p == 's' ? "…" : "N";
        memcpy(out + o, rep, strlen(rep));
        o += strlen(rep);
    }
    out[o++] = '`';
    out[o] = '\0';
}

static void every_reason_is_listed(void **state)
{
    (void)state;
    int missing = 0;
    for (int i = 0; i < PCX_WHY_N; i++) {
        char want[512];
        assert_non_null(pcx_why_format[i]);
        doc_form(pcx_why_format[i], want, sizeof want);
        if (strstr(doc, want) == NULL) {
            fprintf(stderr, "docs/file-formats.md does not list %s\n", want);
            missing++;
        }
    }
    assert_int_equal(missing, 0);
}

static void every_http_version_is_listed(void **state)
{
    (void)state;
    int missing = 0;
    for (size_t i = 0; pcaprec_http_versions[i]; i++) {
        char want[64];
        snprintf(want, sizeof want, "`\"%s\"`", pcaprec_http_versions[i]);
        if (strstr(doc, want) == NULL) {
            fprintf(stderr, "docs/file-formats.md does not list %s\n", want);
            missing++;
        }
    }
    assert_int_equal(missing, 0);
}

static void reasons_format(void **state)
{
    (void)state;
    char buf[256];
    assert_string_equal(pcx_why(buf, sizeof buf, PCX_GAP_RESPONSE, 1448ull),
                        "capture gap of 1448 bytes in the response");
    assert_string_equal(pcx_why(buf, sizeof buf, PCX_H2_RESET_SERVER, 8u),
                        "HTTP/2 stream reset by the server (error code 8)");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s docs/file-formats.md\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 2;
    }
    doc = calloc(1, 1 << 20);
    size_t n = fread(doc, 1, (1 << 20) - 1, f);
    fclose(f);
    doc[n] = '\0';
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_reason_is_listed),
        cmocka_unit_test(every_http_version_is_listed),
        cmocka_unit_test(reasons_format),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(doc);
    return rc;
}

/* conv-mkrec: writes an aiotest recording from a tab-separated description on
 * stdin, so converter tests can state synthetic visits in a few lines:
 *   client  start_ms  end_ms  METHOD  URL  status  resp_content_type  resp_body  req_body
 *   resp_headers  req_headers
 * (trailing columns may be left out; "#" lines are comments; header columns
 * are "Name: value" pairs separated by "|"). Times are ms after a fixed
 * epoch. Usage: conv-mkrec OUT.mp < visits.tsv */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recording.h"

#define COLS 11

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

/* "http://host:port/path" into scheme, authority and target. */
static int split_url(const char *url, rec_exchange_t *x)
{
    const char *sep = strstr(url, "://");
    if (!sep)
        return -1;
    const char *auth = sep + 3, *path = auth + strcspn(auth, "/");
    x->scheme = strndup(url, (size_t)(sep - url));
    x->authority = strndup(auth, (size_t)(path - auth));
    x->target = strdup(*path ? path : "/");
    return 0;
}

/* "A: 1|B: 2" into hs. */
static void add_headers(rec_headers_t *hs, char *spec)
{
    for (char *f = spec; f && *f;) {
        char *next = strchr(f, '|');
        if (next)
            *next++ = '\0';
        char *colon = strchr(f, ':');
        if (colon) {
            *colon = '\0';
            rec_headers_add(hs, f, colon + 1 + (colon[1] == ' '));
        }
        f = next;
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: conv-mkrec OUT.mp < visits.tsv\n");
        return 2;
    }
    rec_header_t h = {.version_major = REC_VERSION_MAJOR, .version_minor = REC_VERSION_MINOR,
                      .created_us = 1700000000000000LL, .source = "proxy", .tool = "conv-mkrec"};
    mp_error_t err = {0};
    rec_writer_t *w = rec_writer_open(argv[1], &h, false, &err);
    if (!w) {
        fprintf(stderr, "conv-mkrec: %s\n", err.msg);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    uint64_t conn = 0;
    int rc = 0;
    while (rc == 0 && getline(&line, &cap, stdin) > 0) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        char *col[COLS] = {0}, *p = line;
        for (int i = 0; i < COLS && p; i++) {
            col[i] = p;
            p = strchr(p, '\t');
            if (p)
                *p++ = '\0';
        }
        rec_exchange_t x = {0};
        if (!col[5] || split_url(col[4], &x) < 0) {
            fprintf(stderr, "conv-mkrec: stdin:%ld: expected client, start, end, method, URL, status\n", lineno);
            rc = 1;
            break;
        }
        x.client = strdup(col[0]);
        x.conn_id = ++conn;
        x.t_start_us = 1700000000000000LL + atoll(col[1]) * 1000;
        x.t_first_byte_us = x.t_end_us = 1700000000000000LL + atoll(col[2]) * 1000;
        x.method = strdup(col[3]);
        x.http_version = strdup("HTTP/1.1");
        x.status = atoi(col[5]);
        rec_headers_add(&x.req_headers, "Host", x.authority);
        if (col[6] && *col[6])
            rec_headers_add(&x.resp_headers, "Content-Type", col[6]);
        if ((x.resp_body = (uint8_t *)dup_or_null(col[7])))
            x.resp_body_len = strlen(col[7]);
        if ((x.req_body = (uint8_t *)dup_or_null(col[8])))
            x.req_body_len = strlen(col[8]);
        if (col[9])
            add_headers(&x.resp_headers, col[9]);
        if (col[10])
            add_headers(&x.req_headers, col[10]);
        if (rec_writer_write(w, &x, &err) < 0) {
            fprintf(stderr, "conv-mkrec: stdin:%ld: %s\n", lineno, err.msg);
            rc = 1;
        }
        rec_exchange_fini(&x);
    }
    free(line);
    if (rec_writer_close(w) < 0 && rc == 0)
        rc = 1;
    return rc;
}

/* Synthetic exchanges for the converter's unit tests. */
#ifndef AIOTEST_TEST_CONV_FIXTURE_H
#define AIOTEST_TEST_CONV_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "recording.h"

/* An exchange METHOD http://shop.test TARGET from start to end (ms), with
 * status, a response body and a Content-Type. */
static inline void fx_make(rec_exchange_t *x, const char *method, const char *target, int start_ms,
                           int end_ms, int status, const char *ctype, const char *resp_body)
{
    memset(x, 0, sizeof *x);
    x->client = strdup("127.0.0.1");
    x->scheme = strdup("http");
    x->authority = strdup("shop.test");
    x->method = strdup(method);
    x->target = strdup(target);
    x->http_version = strdup("HTTP/1.1");
    x->t_start_us = 1700000000000000LL + start_ms * 1000LL;
    x->t_first_byte_us = x->t_end_us = 1700000000000000LL + end_ms * 1000LL;
    x->status = status;
    if (ctype)
        rec_headers_add(&x->resp_headers, "Content-Type", ctype);
    if (resp_body) {
        x->resp_body_len = strlen(resp_body);
        x->resp_body = (uint8_t *)strdup(resp_body);
    }
}

static inline void fx_req_body(rec_exchange_t *x, const char *body)
{
    free(x->req_body);
    x->req_body_len = strlen(body);
    x->req_body = (uint8_t *)strdup(body);
}

#endif

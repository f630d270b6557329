/* bodies: see bodies.h. */
#include "bodies.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bodydec.h"

/* Adds one to the count of name in the "name n, name n" list. */
static void name_count(bodies_stats_t *st, const char *name)
{
    char out[sizeof st->names] = "";
    size_t o = 0;
    bool found = false;
    const char *p = st->names;
    while (*p) {
        const char *end = strstr(p, ", ");
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *sp = memrchr(p, ' ', len);
        size_t nlen = sp ? (size_t)(sp - p) : len;
        unsigned long n = sp ? strtoul(sp + 1, NULL, 10) : 0;
        if (nlen == strlen(name) && strncmp(p, name, nlen) == 0) {
            n++;
            found = true;
        }
        o += (size_t)snprintf(out + o, o < sizeof out ? sizeof out - o : 0, "%s%.*s %lu", o ? ", " : "",
                              (int)nlen, p, n);
        p += len + (end ? 2 : 0);
    }
    if (!found)
        snprintf(out + o, o < sizeof out ? sizeof out - o : 0, "%s%s 1", o ? ", " : "", name);
    snprintf(st->names, sizeof st->names, "%s", out);
}

static int decode_one(bodydec_t *d, rec_exchange_t *x, bodies_stats_t *st)
{
    const char *enc = rec_headers_get(&x->resp_headers, "content-encoding");
    if (!enc || !x->resp_body_len)
        return 0;
    const uint8_t *out;
    size_t len;
    bodydec_result_t r = bodydec_run(d, enc, strlen(enc), x->resp_body, x->resp_body_len, BODIES_MAX_DECODED,
                                     &out, &len);
    char name[64];
    switch (r) {
    case BODYDEC_IDENTITY:
        return 0;
    case BODYDEC_NOMEM:
        return -1;
    case BODYDEC_UNSUPPORTED:
    case BODYDEC_CORRUPT:
        snprintf(name, sizeof name, "%s%s", r == BODYDEC_CORRUPT ? "bad " : "", bodydec_coding(d));
        st->undecoded++;
        name_count(st, name);
        return 0;
    case BODYDEC_LIMIT:
        st->limited++;
        x->resp_truncated = true;
        break;
    case BODYDEC_TRUNCATED:
        x->resp_truncated = true;  /* a prefix: offer.c does not parse it as JSON */
        break;
    case BODYDEC_OK:
        break;
    }
    uint8_t *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, out, len);
    copy[len] = '\0';
    free(x->resp_body);
    x->resp_body = copy;
    x->resp_body_len = len;
    st->decoded++;
    return 0;
}

int bodies_decode(xset_t *xs, const bool *keep, bodies_stats_t *st)
{
    bodydec_t d;
    bodydec_init(&d);
    int rc = 0;
    for (size_t i = 0; i < xs->n && rc == 0; i++)
        if ((!keep || keep[i]) && strcmp(xs->v[i].unit, "record") == 0)
            rc = decode_one(&d, &xs->v[i].x, st);
    bodydec_fini(&d);
    return rc;
}

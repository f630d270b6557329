/* bodydec: undoes an HTTP Content-Encoding (RFC 9110 8.4) so a body can be
 * read for meaning (correlation, extractors, checks). gzip and x-gzip, deflate
 * (zlib-wrapped, or raw as some servers send it), br, zstd and identity, also
 * stacked ("gzip, br": applied in that order, so undone from the right).
 *
 * The output is bounded by a caller's limit, against decompression bombs: at
 * the limit decoding stops and the first `max_out` bytes are kept
 * (BODYDEC_LIMIT). A coding it does not know, or bytes that are not valid for
 * it, give an explicit result naming the coding, never garbage passed on as a
 * body. A bodydec_t is one thread's reusable pair of buffers. */
#ifndef AIOTEST_BODYDEC_H
#define AIOTEST_BODYDEC_H

#include <stddef.h>
#include <stdint.h>

typedef enum bodydec_result {
    BODYDEC_IDENTITY = 0,  /* no content coding: *out is the input itself */
    BODYDEC_OK,            /* *out is the whole decoded body */
    BODYDEC_LIMIT,         /* decoded body longer than max_out: *out is its first max_out bytes
                            * (of a stack, a prefix of at most max_out: the later stages
                            * decoded only the first max_out bytes of an earlier one) */
    BODYDEC_TRUNCATED,     /* the coded input ends mid-stream: *out is what it decoded to */
    BODYDEC_CORRUPT,       /* the input is not valid for the coding bodydec_coding() names */
    BODYDEC_UNSUPPORTED,   /* a coding this decoder does not know (named by bodydec_coding()) */
    BODYDEC_NOMEM,
} bodydec_result_t;

typedef struct bodydec {
    uint8_t *buf[2];       /* output of alternate stages */
    size_t cap[2];
    char coding[32];       /* the coding of the last non-OK result, lower case */
    void *zstd;            /* ZSTD_DCtx, made on first use, reused */
} bodydec_t;

void bodydec_init(bodydec_t *d);
void bodydec_fini(bodydec_t *d);

/* Decodes in[0..in_len) coded as the Content-Encoding value enc (enc_len
 * bytes; NULL and 0 for none). Sets *out and *out_len: the input itself for
 * BODYDEC_IDENTITY, else a buffer of d valid until the next call (a NUL byte
 * follows it, not counted). For LIMIT and TRUNCATED *out holds the decoded
 * prefix; for CORRUPT, UNSUPPORTED and NOMEM it is the input as given.
 * max_out bounds every stage's output. Never fails otherwise. */
bodydec_result_t bodydec_run(bodydec_t *d, const char *enc, size_t enc_len, const uint8_t *in,
                             size_t in_len, size_t max_out, const uint8_t **out, size_t *out_len);

/* The coding the last result names ("br", "compress") for LIMIT, TRUNCATED,
 * CORRUPT and UNSUPPORTED; "" otherwise. Valid until the next call. */
const char *bodydec_coding(const bodydec_t *d);

/* "identity", "ok", "limit", "truncated", "corrupt", "unsupported", "nomem". */
const char *bodydec_result_name(bodydec_result_t r);

/* Whether enc (a Content-Encoding value) names a coding other than identity. */
int bodydec_is_coded(const char *enc, size_t enc_len);

#endif

/* offer: the values one response offers to later requests, each with how the
 * replay finds it again in a fresh answer: Set-Cookie (cookie extractor), every
 * string and integer of a JSON body (JSON path), hidden form inputs (regex),
 * Location and other non-descriptive headers (header extractor). */
#ifndef AIOTEST_CONV_OFFER_H
#define AIOTEST_CONV_OFFER_H

#include <stdbool.h>
#include <stddef.h>

#include "recording.h"
#include "scenario.h"

/* A value and how the replay finds it again. */
typedef struct offer {
    char *value;
    scn_ext_kind_t kind;
    char *expr;        /* header/cookie name, JSON path or regex */
    int group;         /* regex group */
    char *base;        /* variable name it suggests ("token", "csrf") */
    bool whole_url;    /* a Location: only a later request to exactly that URL uses it */
} offer_t;

typedef struct offer_list {
    offer_t *v;
    size_t n;
} offer_list_t;

/* Every value x's response offers (each value once: its first place),
 * longest first. Returns 0 or -1 (out of memory; out is then empty). */
int offer_collect(const rec_exchange_t *x, offer_list_t *out);
void offer_list_fini(offer_list_t *c);

/* True for a value worth correlating: long enough to be an id or a token
 * (>= 6 bytes, or >= 4 with a digit), with a letter or digit, no blanks, no
 * "{{" or "}}" (a template once replaced), not true/false/null. */
bool offer_worth(const char *v);

#endif

/* jsonpath: the small JSON path subset of replay's extractors and capture's
 * --redact-body (in scenarios/ so both programs share one grammar), parsed
 * once and looked up per body: "$" then any of ".key", "['key']", "[\"key\"]",
 * "[N]" (array index, negative counts from the end). "$" may be left out
 * ("a.b[0]" is "$.a.b[0]"). */
#ifndef AIOTEST_JSONPATH_H
#define AIOTEST_JSONPATH_H

#include <stddef.h>

#include <jansson.h>

typedef struct jpath jpath_t;

/* Parses expr (NUL-terminated). Returns NULL with err naming the byte offset
 * and what was expected. */
jpath_t *jpath_compile(const char *expr, char *err, size_t errlen);
void jpath_free(jpath_t *p);

/* The value at p in root (borrowed from root), or NULL when a step is missing. */
json_t *jpath_lookup(const jpath_t *p, json_t *root);

/* The text of a found value: strings unquoted (the bytes inside v); numbers,
 * booleans and null as JSON text (in scratch, which needs JPATH_SCRATCH bytes;
 * reals in the shortest form that reads back: 0.1, 1000 for 1e3); objects and
 * arrays as compact JSON in *owned (heap, caller frees; NULL otherwise).
 * Sets *len; NULL on out of memory. */
#define JPATH_SCRATCH 32
const char *jpath_text(const json_t *v, char *scratch, size_t *len, char **owned);

#endif

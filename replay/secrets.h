/* secrets: values of the {{secret.*}} variables that aiotest-capture's
 * redaction put into a recording in place of credentials, read from the file
 * its --secrets-out wrote (aiotest-replay --secrets FILE, a JSON object of
 * strings) and seeded into every user as initial variables. */
#ifndef AIOTEST_SECRETS_H
#define AIOTEST_SECRETS_H

#include <stddef.h>

#include "plan.h"

typedef struct secrets secrets_t;

/* Reads path: one JSON object whose members are strings. NULL with err
 * naming the file, line:column or member and what was expected. */
secrets_t *secrets_load(const char *path, char *err, size_t errlen);
void secrets_free(secrets_t *s);

/* Adds s's values (s may be NULL) to p's initial variables, after the
 * scenario's own, and checks that every secret.* variable the plan uses has
 * a value: an empty credential would fail each request for a reason no
 * report could name. Values stay owned by s, which must outlive p.
 * Returns 0, or -1 with err naming the variables without a value. */
int secrets_seed(const secrets_t *s, plan_t *p, char *err, size_t errlen);

#endif

#include "secrets.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "template.h"

struct secrets {
    json_t *obj;    /* the file's object; values are borrowed from it */
};

secrets_t *secrets_load(const char *path, char *err, size_t errlen)
{
    json_error_t je;
    json_t *o = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (o == NULL) {
        if (je.line > 0)
            snprintf(err, errlen, "--secrets %s:%d:%d: %s", path, je.line, je.column, je.text);
        else
            snprintf(err, errlen, "--secrets %s: %s", path, je.text);
        return NULL;
    }
    if (!json_is_object(o)) {
        snprintf(err, errlen, "--secrets %s: expected a JSON object {\"secret.NAME\": \"value\", ...}", path);
        json_decref(o);
        return NULL;
    }
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        if (!json_is_string(v)) {
            snprintf(err, errlen, "--secrets %s: member \"%s\": expected a string", path, k);
            json_decref(o);
            return NULL;
        }
    }
    secrets_t *s = malloc(sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        json_decref(o);
        return NULL;
    }
    s->obj = o;
    return s;
}

void secrets_free(secrets_t *s)
{
    if (s == NULL)
        return;
    json_decref(s->obj);
    free(s);
}

static bool has_init(const plan_t *p, int sym)
{
    for (size_t i = 0; i < p->n_init; i++)
        if (p->init[i].sym == sym)
            return true;
    return false;
}

int secrets_seed(const secrets_t *s, plan_t *p, char *err, size_t errlen)
{
    if (s != NULL) {
        size_t n = json_object_size(s->obj);
        plan_init_var_t *v = realloc(p->init, (p->n_init + n + 1) * sizeof *v);
        if (v == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        p->init = v;
        const char *k;
        json_t *val;
        json_object_foreach(s->obj, k, val) {
            /* A secret the scenario does not use (correlation supplied it) is left out. */
            int sym = tpl_symtab_find(p->symtab, k);
            if (sym >= 0)
                p->init[p->n_init++] = (plan_init_var_t){sym, json_string_value(val)};
        }
    }
    size_t off = 0, missing = 0;
    err[0] = '\0';
    for (size_t i = 0; i < tpl_symtab_count(p->symtab); i++) {
        const char *name = tpl_symtab_name(p->symtab, i);
        if (strncmp(name, "secret.", 7) != 0 || has_init(p, (int)i))
            continue;
        if (missing++ == 0)
            off = (size_t)snprintf(err, errlen, "the scenario uses {{%s}}", name);
        else if (off < errlen)
            off += (size_t)snprintf(err + off, errlen - off, ", {{%s}}", name);
    }
    if (missing > 0) {
        if (off < errlen)
            snprintf(err + off, errlen - off, " (redacted at capture) and %s: give the file of "
                     "aiotest-capture --secrets-out with --secrets FILE",
                     s ? "--secrets gives no value for it" : "no --secrets was given");
        return -1;
    }
    return 0;
}

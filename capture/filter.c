#include "filter.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct strlist {
    char **v;
    size_t n;
} strlist_t;

struct filter {
    strlist_t include, exclude;
    regex_t *paths;
    size_t npaths;
};

static int strlist_add(strlist_t *l, const char *s)
{
    char **v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (v == NULL)
        return -1;
    l->v = v;
    if ((v[l->n] = strdup(s)) == NULL)
        return -1;
    l->n++;
    return 0;
}

static void strlist_fini(strlist_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

filter_t *filter_new(void)
{
    return calloc(1, sizeof(filter_t));
}

void filter_free(filter_t *f)
{
    if (f == NULL)
        return;
    strlist_fini(&f->include);
    strlist_fini(&f->exclude);
    for (size_t i = 0; i < f->npaths; i++)
        regfree(&f->paths[i]);
    free(f->paths);
    free(f);
}

int filter_include_host(filter_t *f, const char *pattern) { return strlist_add(&f->include, pattern); }
int filter_exclude_host(filter_t *f, const char *pattern) { return strlist_add(&f->exclude, pattern); }

int filter_exclude_path(filter_t *f, const char *regex, char *err, size_t errlen)
{
    regex_t *v = realloc(f->paths, (f->npaths + 1) * sizeof *v);
    if (v == NULL)
        return -1;
    f->paths = v;
    int rc = regcomp(&v[f->npaths], regex, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char why[128];
        regerror(rc, &v[f->npaths], why, sizeof why);
        snprintf(err, errlen, "--exclude-path '%s': %s", regex, why);
        return -1;
    }
    f->npaths++;
    return 0;
}

/* host is the authority without its port ("[::1]:8080" -> "::1"). */
static void host_of(const char *authority, char *host, size_t len)
{
    const char *start = authority, *end;
    if (*start == '[') {
        start++;
        end = strchr(start, ']');
    } else {
        end = strrchr(start, ':');
    }
    if (end == NULL)
        end = start + strlen(start);
    size_t n = (size_t)(end - start) < len - 1 ? (size_t)(end - start) : len - 1;
    memcpy(host, start, n);
    host[n] = '\0';
}

static bool host_matches(const char *pattern, const char *host)
{
    if (pattern[0] == '*' && pattern[1] == '.')
        pattern++;
    if (pattern[0] != '.')
        return strcasecmp(pattern, host) == 0;
    size_t pl = strlen(pattern), hl = strlen(host);
    if (strcasecmp(pattern + 1, host) == 0)
        return true;
    return hl > pl && strcasecmp(host + hl - pl, pattern) == 0;
}

static bool any_host(const strlist_t *l, const char *host)
{
    for (size_t i = 0; i < l->n; i++)
        if (host_matches(l->v[i], host))
            return true;
    return false;
}

bool filter_records(const filter_t *f, const char *authority, const char *target)
{
    char host[256];
    host_of(authority ? authority : "", host, sizeof host);
    if (f->include.n > 0 && !any_host(&f->include, host))
        return false;
    if (any_host(&f->exclude, host))
        return false;
    for (size_t i = 0; target != NULL && i < f->npaths; i++)
        if (regexec(&f->paths[i], target, 0, NULL, 0) == 0)
            return false;
    return true;
}

bool filter_names_host(const filter_t *f, const char *host)
{
    char h[256];
    host_of(host ? host : "", h, sizeof h);
    return any_host(&f->include, h) && !any_host(&f->exclude, h);
}

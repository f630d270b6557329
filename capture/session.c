#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>

/* "session:" and 16 hex digits of the value's SHA-256: groups a user's
 * exchanges without putting the secret itself into the file. */
static char *session_key(const char *value, size_t n)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    if (EVP_Digest(value, n, md, &mdlen, EVP_sha256(), NULL) != 1)
        return NULL;
    char *k = malloc(8 + 16 + 1);
    if (k == NULL)
        return NULL;
    memcpy(k, "session:", 8);
    for (int i = 0; i < 8; i++)
        sprintf(k + 8 + 2 * i, "%02x", md[i]);
    return k;
}

/* Value of cookie name in a "a=1; b=2" list, as a slice; NULL when absent. */
static const char *cookie_in(const char *list, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    const char *p = list;
    while (p != NULL && *p != '\0') {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        if (end == NULL)
            end = p + strlen(p);
        if ((size_t)(end - p) > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            *len = (size_t)(end - p) - nl - 1;
            return p + nl + 1;
        }
        p = *end ? end + 1 : end;
    }
    return NULL;
}

char *session_from_request(const session_opts_t *o, const rec_headers_t *h)
{
    for (size_t i = 0; h != NULL && i < h->n; i++) {
        const char *name = h->v[i].name, *v = h->v[i].value;
        if (o->header && strcasecmp(name, o->header) == 0)
            return session_key(v, strlen(v));
        size_t len;
        const char *c;
        if (o->cookie && strcasecmp(name, "Cookie") == 0 && (c = cookie_in(v, o->cookie, &len)) != NULL)
            return session_key(c, len);
    }
    return NULL;
}

char *session_from_response(const session_opts_t *o, const rec_headers_t *h)
{
    if (o->cookie == NULL || h == NULL)
        return NULL;
    size_t nl = strlen(o->cookie);
    for (size_t i = 0; i < h->n; i++) {
        const char *v = h->v[i].value;
        if (strcasecmp(h->v[i].name, "Set-Cookie") != 0 || strncmp(v, o->cookie, nl) != 0 || v[nl] != '=')
            continue;
        const char *end = strchr(v + nl + 1, ';');
        size_t len = end ? (size_t)(end - v - nl - 1) : strlen(v + nl + 1);
        if (len > 0)
            return session_key(v + nl + 1, len);
    }
    return NULL;
}

/* A node of Forwarded's for= (or an X-Forwarded-For element) as an address:
 * "[2001:db8::1]:4711" -> 2001:db8::1, "192.0.2.1:80" -> 192.0.2.1. */
static char *node_address(const char *p, size_t n)
{
    while (n > 0 && (*p == ' ' || *p == '\t' || *p == '"')) {
        p++;
        n--;
    }
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '"'))
        n--;
    if (n > 0 && *p == '[') {
        const char *close = memchr(p, ']', n);
        if (close != NULL)
            n = (size_t)(close - p - 1), p++;
    } else {
        const char *colon = memchr(p, ':', n);
        if (colon != NULL && memchr(colon + 1, ':', n - (size_t)(colon + 1 - p)) == NULL)
            n = (size_t)(colon - p); /* one colon: IPv4 with a port */
    }
    return n > 0 ? strndup(p, n) : NULL;
}

char *session_forwarded_for(const session_opts_t *o, const rec_headers_t *h)
{
    if (!o->forwarded || h == NULL)
        return NULL;
    /* Forwarded (the standard) wins over X-Forwarded-For when both came */
    for (size_t i = 0; i < h->n; i++) {
        if (strcasecmp(h->v[i].name, "Forwarded") != 0)
            continue;
        const char *v = h->v[i].value;
        size_t elem = strcspn(v, ","); /* the first element: the original client */
        for (const char *p = v; p < v + elem;) {
            while (*p == ' ' || *p == ';')
                p++;
            size_t pair = strcspn(p, ";,");
            if (pair > 4 && strncasecmp(p, "for=", 4) == 0)
                return node_address(p + 4, pair - 4);
            p += pair;
        }
    }
    for (size_t i = 0; i < h->n; i++)
        if (strcasecmp(h->v[i].name, "X-Forwarded-For") == 0)
            return node_address(h->v[i].value, strcspn(h->v[i].value, ","));
    return NULL;
}

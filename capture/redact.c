#include "redact.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>

#include "jsonpath.h"
#include "log.h"

/* A derived value is looked up by the 64-bit hash of its token; the index
 * stops growing at this many entries (it only decides what stays in clear
 * because a response already holds it, so a full index masks more, never less). */
#define INDEX_MAX_ENTRIES (1u << 21)
/* Shorter tokens are too common to be a response's secret. */
#define TOKEN_MIN 8

typedef struct rule {
    char base[64];        /* variable name after "secret." */
    char *text;           /* header name, form field, or the rule as given */
    jpath_t *path;        /* JSON rules */
    regex_t re;           /* regex rules */
    bool has_re;
} rule_t;

typedef struct rules {
    rule_t *v;
    size_t n;
} rules_t;

typedef struct secret {
    char *name;           /* "secret.password_2" */
    const char *base;     /* borrowed from its rule */
    char *value;
    size_t len;
} secret_t;

struct redact {
    rules_t headers, json, forms, regexes;
    secret_t *secrets;
    size_t nsecrets;
    char *secrets_path;
    uint64_t *index;      /* open addressing; 0 = empty */
    size_t index_cap, index_n;
    redact_stats_t st;
};

redact_t *redact_new(void)
{
    return calloc(1, sizeof(redact_t));
}

static void rules_fini(rules_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].text);
        jpath_free(l->v[i].path);
        if (l->v[i].has_re)
            regfree(&l->v[i].re);
    }
    free(l->v);
}

void redact_free(redact_t *r)
{
    if (r == NULL)
        return;
    rules_fini(&r->headers);
    rules_fini(&r->json);
    rules_fini(&r->forms);
    rules_fini(&r->regexes);
    for (size_t i = 0; i < r->nsecrets; i++) {
        free(r->secrets[i].name);
        free(r->secrets[i].value);
    }
    free(r->secrets);
    free(r->secrets_path);
    free(r->index);
    free(r);
}

bool redact_active(const redact_t *r)
{
    return r != NULL && (r->headers.n || r->json.n || r->forms.n || r->regexes.n);
}

/* Variable names are letters, digits, '_' and '-' (template.h): anything
 * else becomes '_', letters lower case. */
static void set_base(rule_t *rl, const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < sizeof rl->base; i++) {
        unsigned char c = (unsigned char)s[i];
        rl->base[k++] = isalnum(c) || c == '-' || c == '_' ? (char)tolower(c) : '_';
    }
    rl->base[k] = '\0';
}

static rule_t *rule_add(rules_t *l, const char *text)
{
    rule_t *v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (v == NULL)
        return NULL;
    l->v = v;
    rule_t *rl = memset(&v[l->n], 0, sizeof *rl);
    if ((rl->text = strdup(text)) == NULL)
        return NULL;
    l->n++;
    return rl;
}

static const rule_t *header_rule(const redact_t *r, const char *name)
{
    for (size_t i = 0; i < r->headers.n; i++)
        if (strcasecmp(r->headers.v[i].text, name) == 0)
            return &r->headers.v[i];
    return NULL;
}

int redact_header(redact_t *r, const char *name)
{
    if (header_rule(r, name) != NULL)
        return 0;
    rule_t *rl = rule_add(&r->headers, name);
    if (rl == NULL)
        return -1;
    set_base(rl, name, strlen(name));
    return 0;
}

int redact_defaults(redact_t *r)
{
    static const char *const names[] = { "Authorization", "Cookie", "Set-Cookie", "Proxy-Authorization" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (redact_header(r, names[i]) != 0)
            return -1;
    return 0;
}

int redact_body(redact_t *r, const char *jsonpath, char *err, size_t errlen)
{
    char why[200];
    jpath_t *p = jpath_compile(jsonpath, why, sizeof why);
    if (p == NULL) {
        snprintf(err, errlen, "--redact-body '%s': %s", jsonpath, why);
        return -1;
    }
    rule_t *rl = rule_add(&r->json, jsonpath);
    if (rl == NULL) {
        jpath_free(p);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rl->path = p;
    /* The variable is named after the last key: $.user.password -> password. */
    size_t end = strlen(jsonpath);
    while (end > 0 && !(isalnum((unsigned char)jsonpath[end - 1]) || jsonpath[end - 1] == '_' ||
                        jsonpath[end - 1] == '-'))
        end--;
    size_t start = end;
    while (start > 0 && (isalnum((unsigned char)jsonpath[start - 1]) || jsonpath[start - 1] == '_' ||
                         jsonpath[start - 1] == '-'))
        start--;
    if (end > start)
        set_base(rl, jsonpath + start, end - start);
    else
        snprintf(rl->base, sizeof rl->base, "json");
    return 0;
}

int redact_form(redact_t *r, const char *field, char *err, size_t errlen)
{
    if (*field == '\0' || strpbrk(field, "&=") != NULL) {
        snprintf(err, errlen, "--redact-form '%s': expected a form field name (no '&' or '=')", field);
        return -1;
    }
    rule_t *rl = rule_add(&r->forms, field);
    if (rl == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    set_base(rl, field, strlen(field));
    return 0;
}

int redact_regex(redact_t *r, const char *regex, char *err, size_t errlen)
{
    regex_t re;
    int rc = regcomp(&re, regex, REG_EXTENDED);
    if (rc != 0) {
        char why[128];
        regerror(rc, &re, why, sizeof why);
        snprintf(err, errlen, "--redact-regex '%s': %s", regex, why);
        return -1;
    }
    rule_t *rl = rule_add(&r->regexes, regex);
    if (rl == NULL) {
        regfree(&re);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rl->re = re;
    rl->has_re = true;
    snprintf(rl->base, sizeof rl->base, "regex%zu", r->regexes.n);
    return 0;
}

/* ---- the secrets file */

/* Writes path.tmp (0600) and renames it over path, so a reader never sees
 * half a file and a killed capture leaves the last whole one. */
static int secrets_write(const redact_t *r, char *err, size_t errlen)
{
    json_t *o = json_object();
    for (size_t i = 0; o != NULL && i < r->nsecrets; i++)
        json_object_set_new(o, r->secrets[i].name, json_stringn(r->secrets[i].value, r->secrets[i].len));
    size_t plen = strlen(r->secrets_path);
    char *tmp = malloc(plen + 5);
    int fd = -1, rc = -1;
    if (o == NULL || tmp == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    memcpy(tmp, r->secrets_path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || fchmod(fd, 0600) != 0 || json_dumpfd(o, fd, JSON_INDENT(2) | JSON_SORT_KEYS) != 0 ||
        write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    if (close(fd) != 0 || rename(tmp, r->secrets_path) != 0) {
        fd = -1;
        snprintf(err, errlen, "%s: %s", r->secrets_path, strerror(errno));
        goto out;
    }
    fd = -1;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc != 0 && tmp != NULL)
        unlink(tmp);
    free(tmp);
    json_decref(o);
    return rc;
}

int redact_secrets_out(redact_t *r, const char *path, char *err, size_t errlen)
{
    free(r->secrets_path);
    if ((r->secrets_path = strdup(path)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char why[300];
    if (secrets_write(r, why, sizeof why) != 0) {
        snprintf(err, errlen, "--secrets-out: %s", why);
        return -1;
    }
    return 0;
}

/* The variable that stands for value under rule rl: the same value keeps
 * its name; a new one is added (and the file rewritten). NULL on out of memory. */
static const char *secret_for(redact_t *r, const rule_t *rl, const char *value, size_t len)
{
    unsigned same_base = 0;
    for (size_t i = 0; i < r->nsecrets; i++) {
        secret_t *s = &r->secrets[i];
        if (strcmp(s->base, rl->base) != 0)
            continue;
        if (s->len == len && memcmp(s->value, value, len) == 0)
            return s->name;
        same_base++;
    }
    secret_t *v = realloc(r->secrets, (r->nsecrets + 1) * sizeof *v);
    if (v == NULL)
        return NULL;
    r->secrets = v;
    secret_t *s = &v[r->nsecrets];
    char name[96];
    if (same_base == 0)
        snprintf(name, sizeof name, "secret.%s", rl->base);
    else
        snprintf(name, sizeof name, "secret.%s_%u", rl->base, same_base + 1);
    s->base = rl->base;
    s->len = len;
    s->name = strdup(name);
    s->value = malloc(len + 1);
    if (s->name == NULL || s->value == NULL) {
        free(s->name);
        free(s->value);
        return NULL;
    }
    memcpy(s->value, value, len);
    s->value[len] = '\0';
    r->nsecrets++;
    r->st.secrets++;
    if (r->secrets_path != NULL) {
        char err[400];
        if (secrets_write(r, err, sizeof err) != 0) {
            if (r->st.write_errors++ == 0)
                log_error("--secrets-out: %s", err);
        }
    }
    return s->name;
}

/* ---- the index of tokens that written responses hold */

static bool token_char(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
}

static uint64_t hash_token(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ull;
    }
    return h ? h : 1;
}

static bool index_has(const redact_t *r, uint64_t h)
{
    if (r->index_cap == 0)
        return false;
    for (size_t i = h & (r->index_cap - 1);; i = (i + 1) & (r->index_cap - 1)) {
        if (r->index[i] == h)
            return true;
        if (r->index[i] == 0)
            return false;
    }
}

static void index_put(redact_t *r, uint64_t h)
{
    if (r->index_n * 2 >= r->index_cap) {
        if (r->index_cap >= 2 * (size_t)INDEX_MAX_ENTRIES)
            return;
        size_t cap = r->index_cap ? r->index_cap * 2 : 4096;
        uint64_t *v = calloc(cap, sizeof *v);
        if (v == NULL)
            return;
        for (size_t i = 0; i < r->index_cap; i++) {
            if (r->index[i] == 0)
                continue;
            size_t j = r->index[i] & (cap - 1);
            while (v[j] != 0)
                j = (j + 1) & (cap - 1);
            v[j] = r->index[i];
        }
        free(r->index);
        r->index = v;
        r->index_cap = cap;
    }
    size_t i = h & (r->index_cap - 1);
    while (r->index[i] != 0 && r->index[i] != h)
        i = (i + 1) & (r->index_cap - 1);
    if (r->index[i] == 0) {
        r->index[i] = h;
        r->index_n++;
    }
}

static void index_text(redact_t *r, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && !token_char((unsigned char)p[i]))
            i++;
        size_t s = i;
        while (i < n && token_char((unsigned char)p[i]))
            i++;
        if (i - s >= TOKEN_MIN)
            index_put(r, hash_token(p + s, i - s));
    }
}

/* A request value is derived when its token (the value, or what follows its
 * scheme word as in "Bearer TOKEN") is one a written response held. */
static bool derived(const redact_t *r, const char *v, size_t n)
{
    const char *sp = memchr(v, ' ', n);
    if (sp != NULL) {
        n -= (size_t)(sp + 1 - v);
        v = sp + 1;
    }
    if (n < TOKEN_MIN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!token_char((unsigned char)v[i]))
            return false;
    return index_has(r, hash_token(v, n));
}

/* ---- replacing */

/* What replaces value: the request side's variable ("{{secret.x}}", or the
 * value itself when derived: *keep), the response side's marker. Written into
 * out (cap bytes). -1 on out of memory. */
static int replacement(redact_t *r, const rule_t *rl, bool request, const char *value, size_t len,
                       char *out, size_t cap, bool *keep)
{
    *keep = false;
    if (!request) {
        snprintf(out, cap, "%s", REDACT_MARK);
        r->st.replaced++;
        return 0;
    }
    if (len >= 4 && memcmp(value, "{{", 2) == 0 && memcmp(value + len - 2, "}}", 2) == 0) {
        *keep = true; /* already a variable (a rule matched twice) */
        return 0;
    }
    if (derived(r, value, len)) {
        *keep = true;
        r->st.kept++;
        return 0;
    }
    const char *name = secret_for(r, rl, value, len);
    if (name == NULL)
        return -1;
    snprintf(out, cap, "{{%s}}", name);
    r->st.replaced++;
    return 0;
}

/* Set-Cookie: only the value of the cookie is masked; its name and
 * attributes say which cookie a login sets. */
static char *mask_set_cookie(const char *v)
{
    const char *eq = strchr(v, '='), *semi = strchr(v, ';');
    if (eq == NULL || (semi != NULL && semi < eq))
        return strdup(REDACT_MARK);
    const char *rest = semi ? semi : v + strlen(v);
    size_t head = (size_t)(eq + 1 - v), tail = strlen(rest);
    char *s = malloc(head + sizeof REDACT_MARK + tail);
    if (s == NULL)
        return NULL;
    memcpy(s, v, head);
    memcpy(s + head, REDACT_MARK, sizeof REDACT_MARK - 1);
    memcpy(s + head + sizeof REDACT_MARK - 1, rest, tail + 1);
    return s;
}

static int redact_headers(redact_t *r, rec_headers_t *h, bool request)
{
    for (size_t i = 0; i < h->n; i++) {
        const rule_t *rl = header_rule(r, h->v[i].name);
        if (rl == NULL)
            continue;
        char *nv;
        if (!request && strcasecmp(h->v[i].name, "Set-Cookie") == 0) {
            nv = mask_set_cookie(h->v[i].value);
            r->st.replaced++;
        } else {
            char out[128];
            bool keep;
            const char *v = h->v[i].value;
            /* A Cookie header is never derived-kept: the replay's cookie jar
             * sends the live cookies, and the recorded line is not replayed. */
            bool cookie = strcasecmp(h->v[i].name, "Cookie") == 0;
            if (cookie) {
                keep = false;
                const char *name = secret_for(r, rl, v, strlen(v));
                if (name == NULL)
                    return -1;
                snprintf(out, sizeof out, "{{%s}}", name);
                r->st.replaced++;
            } else if (replacement(r, rl, request, v, strlen(v), out, sizeof out, &keep) != 0) {
                return -1;
            }
            if (keep)
                continue;
            nv = strdup(out);
        }
        if (nv == NULL)
            return -1;
        free(h->v[i].value);
        h->v[i].value = nv;
    }
    return 0;
}

/* A growing byte string for rebuilt bodies. */
typedef struct sbuf {
    char *p;
    size_t n, cap;
    bool oom;
} sbuf_t;

static void sb_add(sbuf_t *b, const void *p, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (q == NULL) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = '\0';
}

/* Replaces the body's bytes with b's (taking them). */
static void body_take(uint8_t **body, size_t *len, sbuf_t *b)
{
    free(*body);
    *body = (uint8_t *)b->p;
    *len = b->n;
    b->p = NULL;
}

static bool looks_like_json(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && isspace(p[i]))
        i++;
    return i < n && (p[i] == '{' || p[i] == '[');
}

static int redact_json(redact_t *r, uint8_t **body, size_t *len, bool request)
{
    if (r->json.n == 0 || *len == 0 || !looks_like_json(*body, *len))
        return 0;
    json_t *root = json_loadb((const char *)*body, *len, JSON_ALLOW_NUL, NULL);
    if (root == NULL) {
        r->st.unchecked++;
        return 0;
    }
    bool changed = false;
    for (size_t i = 0; i < r->json.n; i++) {
        json_t *v = jpath_lookup(r->json.v[i].path, root);
        if (v == NULL)
            continue;
        if (!json_is_string(v)) {
            r->st.unchecked++;
            continue;
        }
        char out[128];
        bool keep;
        if (replacement(r, &r->json.v[i], request, json_string_value(v), json_string_length(v), out,
                        sizeof out, &keep) != 0) {
            json_decref(root);
            return -1;
        }
        if (!keep) {
            json_string_set(v, out);
            changed = true;
        }
    }
    if (changed) {
        char *s = json_dumps(root, JSON_ENCODE_ANY);
        if (s == NULL) {
            json_decref(root);
            return -1;
        }
        free(*body);
        *body = (uint8_t *)s;
        *len = strlen(s);
    }
    json_decref(root);
    return 0;
}

/* key=value pairs separated by '&': the values of the named fields replaced.
 * Returns 1 when something changed (b holds the new text), 0, -1 on memory. */
static int redact_pairs(redact_t *r, const char *p, size_t n, bool request, sbuf_t *b)
{
    bool changed = false;
    size_t i = 0;
    while (i <= n) {
        size_t s = i;
        while (i < n && p[i] != '&')
            i++;
        const char *eq = memchr(p + s, '=', i - s);
        const rule_t *rl = NULL;
        for (size_t k = 0; eq != NULL && k < r->forms.n; k++) {
            size_t kl = strlen(r->forms.v[k].text);
            if ((size_t)(eq - (p + s)) == kl && memcmp(p + s, r->forms.v[k].text, kl) == 0)
                rl = &r->forms.v[k];
        }
        char out[128];
        bool keep = true;
        if (rl != NULL && replacement(r, rl, request, eq + 1, (size_t)(p + i - eq - 1), out, sizeof out, &keep) != 0)
            return -1;
        if (!keep) {
            sb_add(b, p + s, (size_t)(eq + 1 - (p + s)));
            sb_add(b, out, strlen(out));
            changed = true;
        } else {
            sb_add(b, p + s, i - s);
        }
        if (i < n)
            sb_add(b, "&", 1);
        i++;
    }
    if (b->oom)
        return -1;
    return changed ? 1 : 0;
}

static bool is_form(const rec_headers_t *h)
{
    const char *ct = rec_headers_get(h, "Content-Type");
    return ct != NULL && strcasestr(ct, "application/x-www-form-urlencoded") != NULL;
}

static int redact_form_body(redact_t *r, uint8_t **body, size_t *len, const rec_headers_t *h, bool request)
{
    if (r->forms.n == 0 || *len == 0 || !is_form(h) || memchr(*body, '\0', *len) != NULL)
        return 0;
    sbuf_t b = { 0 };
    int rc = redact_pairs(r, (const char *)*body, *len, request, &b);
    if (rc == 1)
        body_take(body, len, &b);
    free(b.p);
    return rc < 0 ? -1 : 0;
}

static int redact_query(redact_t *r, char **target)
{
    char *q = strchr(*target, '?');
    if (r->forms.n == 0 || q == NULL)
        return 0;
    sbuf_t b = { 0 };
    sb_add(&b, *target, (size_t)(q + 1 - *target));
    int rc = redact_pairs(r, q + 1, strlen(q + 1), true, &b);
    if (rc == 1) {
        free(*target);
        *target = b.p;
        b.p = NULL;
    }
    free(b.p);
    return rc < 0 ? -1 : 0;
}

static int redact_regexes(redact_t *r, uint8_t **body, size_t *len, bool request)
{
    if (r->regexes.n == 0 || *len == 0)
        return 0;
    for (size_t k = 0; k < r->regexes.n; k++) {
        const rule_t *rl = &r->regexes.v[k];
        sbuf_t b = { 0 };
        const char *p = (const char *)*body;
        size_t at = 0;
        bool changed = false;
        regmatch_t m[2];
        while (at < *len) {
            /* REG_STARTEND: the body may hold NUL bytes and has no terminator. */
            m[0].rm_so = (regoff_t)at;
            m[0].rm_eo = (regoff_t)*len;
            if (regexec(&rl->re, p, 2, m, REG_STARTEND | (at > 0 ? REG_NOTBOL : 0)) != 0)
                break;
            regmatch_t g = m[1].rm_so >= 0 ? m[1] : m[0];
            if (m[0].rm_eo == m[0].rm_so) { /* empty match: step over one byte */
                sb_add(&b, p + at, 1);
                at = (size_t)m[0].rm_eo + 1;
                continue;
            }
            char out[128];
            bool keep;
            if (replacement(r, rl, request, p + g.rm_so, (size_t)(g.rm_eo - g.rm_so), out, sizeof out, &keep) != 0) {
                free(b.p);
                return -1;
            }
            sb_add(&b, p + at, (size_t)g.rm_so - at);
            if (keep)
                sb_add(&b, p + g.rm_so, (size_t)(g.rm_eo - g.rm_so));
            else
                sb_add(&b, out, strlen(out));
            sb_add(&b, p + g.rm_eo, (size_t)(m[0].rm_eo - g.rm_eo));
            changed = changed || !keep;
            at = (size_t)m[0].rm_eo;
        }
        if (changed && at < *len)
            sb_add(&b, p + at, *len - at);
        if (b.oom) {
            free(b.p);
            return -1;
        }
        if (changed)
            body_take(body, len, &b);
        free(b.p);
    }
    return 0;
}

static bool secret_header(const char *name, bool request)
{
    if (request)
        return strcasecmp(name, "Authorization") == 0 || strcasecmp(name, "Cookie") == 0 ||
               strcasecmp(name, "Proxy-Authorization") == 0;
    return strcasecmp(name, "Set-Cookie") == 0;
}

/* true when x carries a secret header that no rule covers. */
static bool in_clear(const redact_t *r, const rec_exchange_t *x)
{
    for (size_t i = 0; i < x->req_headers.n; i++)
        if (secret_header(x->req_headers.v[i].name, true) && (r == NULL || !header_rule(r, x->req_headers.v[i].name)))
            return true;
    for (size_t i = 0; i < x->resp_headers.n; i++)
        if (secret_header(x->resp_headers.v[i].name, false) && (r == NULL || !header_rule(r, x->resp_headers.v[i].name)))
            return true;
    return false;
}

/* A body rewritten by a rule no longer has its recorded Content-Length. */
static int fix_length(rec_headers_t *h, size_t before, size_t after)
{
    if (before == after)
        return 0;
    for (size_t i = 0; i < h->n; i++) {
        if (strcasecmp(h->v[i].name, "Content-Length") != 0)
            continue;
        char n[24];
        snprintf(n, sizeof n, "%zu", after);
        char *v = strdup(n);
        if (v == NULL)
            return -1;
        free(h->v[i].value);
        h->v[i].value = v;
    }
    return 0;
}

int redact_exchange(redact_t *r, rec_exchange_t *x)
{
    if (r == NULL)
        return 0;
    if (in_clear(r, x))
        r->st.clear++;
    if (!redact_active(r))
        return 0;
    size_t req_len = x->req_body_len, resp_len = x->resp_body_len;
    if (redact_headers(r, &x->req_headers, true) != 0 || redact_headers(r, &x->resp_headers, false) != 0 ||
        redact_query(r, &x->target) != 0 ||
        redact_json(r, &x->req_body, &x->req_body_len, true) != 0 ||
        redact_form_body(r, &x->req_body, &x->req_body_len, &x->req_headers, true) != 0 ||
        redact_regexes(r, &x->req_body, &x->req_body_len, true) != 0 ||
        redact_json(r, &x->resp_body, &x->resp_body_len, false) != 0 ||
        redact_form_body(r, &x->resp_body, &x->resp_body_len, &x->resp_headers, false) != 0 ||
        redact_regexes(r, &x->resp_body, &x->resp_body_len, false) != 0)
        return -1;
    if ((!x->req_truncated && fix_length(&x->req_headers, req_len, x->req_body_len) != 0) ||
        (!x->resp_truncated && fix_length(&x->resp_headers, resp_len, x->resp_body_len) != 0))
        return -1;
    /* What this response leaves in the file, later requests may send back. */
    for (size_t i = 0; i < x->resp_headers.n; i++)
        index_text(r, x->resp_headers.v[i].value, strlen(x->resp_headers.v[i].value));
    if (x->resp_body_len > 0)
        index_text(r, (const char *)x->resp_body, x->resp_body_len);
    return 0;
}

void redact_get_stats(const redact_t *r, redact_stats_t *s)
{
    if (r == NULL)
        memset(s, 0, sizeof *s);
    else
        *s = r->st;
}

/* shape: stages.conf and where the load should be at a given moment. */
#include "shape.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"

#define SHAPE_EXPECTED "expected '<duration> <users> <spawn-rate>' or 'rate <duration> <iterations/s> [<to iterations/s>]'"
#define MAX_WORDS 4

/* Splits line in place into up to MAX_WORDS words; returns the count, or
 * MAX_WORDS + 1 when there are more (words[MAX_WORDS] is the first extra). */
static int split_words(char *line, char **words)
{
    int n = 0;
    for (char *tok = strtok(line, " \t\r"); tok != NULL; tok = strtok(NULL, " \t\r")) {
        words[n++] = tok;
        if (n == MAX_WORDS + 1)
            return n;
    }
    return n;
}

/* Ranges: a person's numbers, far from where a double or the scheduler's
 * integer µs lose precision or overflow (a rate of 1e-15 once overflowed the
 * interval cast and started thousands of iterations). */
#define MAX_DURATION_US (744ull * 3600 * 1000000) /* 31 days */
#define MAX_USERS 10000000u
#define MIN_RATE 0.001
#define MAX_RATE 1e7
#define MAX_SPAWN_RATE 1e6

/* A number as a person writes it: digits, an optional fraction and exponent,
 * then a unit of letters. strtod alone would also take hex (0x10, 0x1p3), a
 * sign (+5, -0), inf and nan. */
static bool plain_number(const char *s)
{
    const char *p = s;
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        digits++;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            digits++;
    if (digits == 0)
        return false;
    if ((*p == 'e' || *p == 'E') && (p[1] == '-' || p[1] == '+' || (p[1] >= '0' && p[1] <= '9'))) {
        p += p[1] == '-' || p[1] == '+' ? 2 : 1;
        if (!(*p >= '0' && *p <= '9'))
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    /* The unit: letters only ("0x10" ends up here with "x10"). */
    for (; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            return false;
    return true;
}

static bool parse_duration(const char *s, uint64_t *us)
{
    return plain_number(s) && units_parse_duration(s, us) == 0 && *us > 0 && *us <= MAX_DURATION_US;
}

/* An arrival rate: 0, or MIN_RATE..MAX_RATE. */
static bool parse_rate(const char *s, double *rate)
{
    return plain_number(s) && units_parse_double(s, rate) == 0 &&
           (*rate == 0 || (*rate >= MIN_RATE && *rate <= MAX_RATE));
}

/* Fills st from the words of one line. Returns 0, or -1 with the reason in
 * why and the index of the word at fault in bad. */
static int parse_stage(char **w, int n, shape_stage_t *st, const char **why, int *bad)
{
    uint64_t users;
    memset(st, 0, sizeof(*st));
    *why = SHAPE_EXPECTED;
    *bad = n > MAX_WORDS ? MAX_WORDS : 0;
    if ((n == 3 || n == 4) && strcmp(w[0], "rate") == 0) {
        st->kind = SHAPE_RATE;
        *bad = 1;
        if (!parse_duration(w[1], &st->duration_us)) {
            *why = "expected a duration > 0 after 'rate' (e.g. 30s, 5m, 1h; at most 744h)";
            return -1;
        }
        *bad = 2;
        if (!parse_rate(w[2], &st->rate)) {
            *why = "expected iterations/s of 0 or from 0.001 to 10000000 after the duration";
            return -1;
        }
        st->rate_to = st->rate;
        *bad = 3;
        if (n == 4 && !parse_rate(w[3], &st->rate_to)) {
            *why = "expected the iterations/s to ramp to, 0 or from 0.001 to 10000000, after "
                   "the first rate";
            return -1;
        }
        return 0;
    }
    if (n == 4 && strcmp(w[0], "rate") != 0)
        *bad = 3;
    if (n != 3)
        return -1;
    st->kind = SHAPE_USERS;
    *bad = 0;
    if (!parse_duration(w[0], &st->duration_us)) {
        *why = "expected a duration > 0 first (e.g. 30s, 5m, 1h; at most 744h)";
        return -1;
    }
    *bad = 1;
    if (!plain_number(w[1]) || units_parse_count(w[1], &users) < 0 || users > MAX_USERS) {
        *why = "expected a user count (e.g. 100, 2k; at most 10M) after the duration";
        return -1;
    }
    st->users = (uint32_t)users;
    *bad = 2;
    if (!plain_number(w[2]) || units_parse_double(w[2], &st->spawn_rate) < 0 ||
        st->spawn_rate < MIN_RATE || st->spawn_rate > MAX_SPAWN_RATE) {
        *why = "expected a spawn rate from 0.001 to 1000000 (users/s) after the user count";
        return -1;
    }
    return 0;
}

int shape_parse(const char *text, const char *name, shape_t *out, char *err, size_t errlen)
{
    char *copy = strdup(text);
    shape_stage_t *stages = NULL;
    size_t n = 0, cap = 0;
    int lineno = 0;
    memset(out, 0, sizeof(*out));
    if (copy == NULL) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    char *save = NULL, *start = copy;
    if (strncmp(start, "\xEF\xBB\xBF", 3) == 0)
        start += 3; /* a UTF-8 byte order mark from a Windows editor */
    /* strtok_r on "\n" would skip empty lines and lose the line numbers. */
    for (char *line = start; line != NULL; line = save) {
        save = strchr(line, '\n');
        if (save != NULL)
            *save++ = '\0';
        else if (*line == '\0')
            break; /* after the final newline: no line */
        lineno++;
        char *hash = strchr(line, '#');
        if (hash != NULL)
            *hash = '\0';
        char *words[MAX_WORDS + 1];
        int nw = split_words(line, words);
        if (nw == 0)
            continue;
        shape_stage_t st;
        const char *why;
        int bad;
        if (parse_stage(words, nw, &st, &why, &bad) < 0) {
            snprintf(err, errlen, "%s:%d:%d: %s", name, lineno, (int)(words[bad] - line) + 1, why);
            goto fail;
        }
        st.line = lineno;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            shape_stage_t *s2 = realloc(stages, cap * sizeof(*s2));
            if (s2 == NULL) {
                snprintf(err, errlen, "%s: out of memory", name);
                goto fail;
            }
            stages = s2;
        }
        stages[n++] = st;
    }
    if (n == 0) {
        snprintf(err, errlen, "%s:%d:1: no stages; %s", name, lineno > 0 ? lineno : 1, SHAPE_EXPECTED);
        goto fail;
    }
    free(copy);
    out->stages = stages;
    out->n = n;
    return 0;
fail:
    free(copy);
    free(stages);
    return -1;
}

int shape_load(const char *path, shape_t *out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0;
    int rc = -1;
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    FILE *mem = open_memstream(&buf, &len);
    if (mem == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto close_file;
    }
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        fwrite(chunk, 1, got, mem);
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
        fclose(mem);
        goto free_buf;
    }
    fclose(mem);
    if (memchr(buf, '\0', len) != NULL) {
        snprintf(err, errlen, "%s: not a text file (contains NUL bytes)", path);
        goto free_buf;
    }
    rc = shape_parse(buf, path, out, err, errlen);
free_buf:
    free(buf);
close_file:
    fclose(f);
    return rc;
}

void shape_single(shape_t *out, uint32_t users, double spawn_rate, uint64_t duration_us)
{
    out->stages = calloc(1, sizeof(*out->stages));
    out->n = out->stages ? 1 : 0;
    if (out->stages != NULL)
        *out->stages = (shape_stage_t){.kind = SHAPE_USERS, .duration_us = duration_us,
                                       .users = users, .spawn_rate = spawn_rate};
}

void shape_fini(shape_t *s)
{
    free(s->stages);
    s->stages = NULL;
    s->n = 0;
}

uint64_t shape_total_us(const shape_t *s)
{
    uint64_t t = 0;
    for (size_t i = 0; i < s->n; i++)
        t += s->stages[i].duration_us;
    return t;
}

/* Users after ramping from 'from' toward st's target for t_us. A spawn rate of
 * 0 (from shape_single) means at once. */
static uint32_t ramp(uint32_t from, const shape_stage_t *st, uint64_t t_us)
{
    if (st->spawn_rate <= 0 || from == st->users)
        return st->users;
    /* The epsilon keeps 0.3 users/s x 10 s from flooring to 2. */
    double moved = floor(st->spawn_rate * (double)t_us / 1e6 + 1e-9);
    uint32_t gap = from < st->users ? st->users - from : from - st->users;
    if (moved >= gap)
        return st->users;
    return from < st->users ? from + (uint32_t)moved : from - (uint32_t)moved;
}

shape_point_t shape_at(const shape_t *s, uint64_t t_us)
{
    shape_point_t p = {.stage = s->n};
    uint32_t users = 0; /* closed users at the start of the current stage */
    uint64_t start = 0;
    for (size_t i = 0; i < s->n; i++) {
        const shape_stage_t *st = &s->stages[i];
        /* A zero duration (shape_single without -t) lasts until the run is stopped. */
        bool inside = st->duration_us == 0 || t_us < start + st->duration_us;
        if (inside) {
            p.stage = i;
            p.kind = st->kind;
            if (st->kind == SHAPE_RATE) {
                /* A ramp moves linearly from rate to rate_to over the stage. */
                double f = st->duration_us ? (double)(t_us - start) / (double)st->duration_us : 0;
                p.rate = st->rate + (st->rate_to - st->rate) * f;
            } else {
                p.users = ramp(users, st, t_us - start);
                p.target = st->users;
            }
            return p;
        }
        /* Open stages run no closed users: the next closed stage ramps from 0. */
        users = st->kind == SHAPE_USERS ? ramp(users, st, st->duration_us) : 0;
        start += st->duration_us;
    }
    return p;
}

/* Orders classes by remainder, largest first, ties to the earlier class:
 * true when (ra, a) comes before (rb, b). */
static bool rem_before(uint64_t ra, size_t a, uint64_t rb, size_t b)
{
    return ra > rb || (ra == rb && a < b);
}

void shape_distribute(const uint32_t *weights, size_t n_classes, uint32_t total, uint32_t *out)
{
    uint64_t sum = 0;
    if (n_classes == 0)
        return;
    for (size_t i = 0; i < n_classes; i++)
        sum += weights[i];
    /* All weights 0: treat them as equal. */
    uint64_t div = sum ? sum : n_classes;
#define WEIGHT(i) (sum ? (uint64_t)weights[i] : 1u)
    uint64_t given = 0;
    for (size_t i = 0; i < n_classes; i++) {
        out[i] = (uint32_t)((uint64_t)total * WEIGHT(i) / div);
        given += out[i];
    }
    /* Largest remainder: fewer than n_classes users are left; they go one each
     * to the classes in remainder order, walked without sorting. */
    size_t prev = n_classes;
    uint64_t prev_rem = 0;
    for (; given < total; given++) {
        size_t best = n_classes;
        uint64_t best_rem = 0;
        for (size_t i = 0; i < n_classes; i++) {
            uint64_t rem = (uint64_t)total * WEIGHT(i) % div;
            if (prev != n_classes && !rem_before(prev_rem, prev, rem, i))
                continue;
            if (best == n_classes || rem_before(rem, i, best_rem, best)) {
                best = i;
                best_rem = rem;
            }
        }
        out[best]++;
        prev = best;
        prev_rem = best_rem;
    }
#undef WEIGHT
}

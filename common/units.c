#include "units.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct unit {
    const char *suffix;
    double scale;
};

/* Longest suffixes first, so "ms" is not read as "m" + garbage. */
static const struct unit duration_units[] = {
    {"us", 1}, {"ms", 1e3}, {"s", 1e6}, {"m", 60e6}, {"h", 3600e6}, {"", 1e6}, {NULL, 0},
};
static const struct unit count_units[] = {
    {"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"", 1}, {NULL, 0},
};
static const struct unit byte_units[] = {
    {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0},
    {"k", 1024.0}, {"K", 1024.0}, {"M", 1048576.0}, {"G", 1073741824.0},
    {"B", 1}, {"", 1}, {NULL, 0},
};

static int parse_scaled(const char *s, const struct unit *table, double *out)
{
    if (s == NULL || *s == '\0')
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || !isfinite(v) || v < 0)
        return -1;
    for (const struct unit *u = table; u->suffix != NULL; u++) {
        if (strcmp(end, u->suffix) == 0) {
            *out = v * u->scale;
            return 0;
        }
    }
    return -1;
}

int units_parse_duration(const char *s, uint64_t *us)
{
    double v;
    if (parse_scaled(s, duration_units, &v) < 0 || v > 1e15)
        return -1;
    *us = (uint64_t)llround(v);
    return 0;
}

int units_parse_count(const char *s, uint64_t *n)
{
    double v;
    if (parse_scaled(s, count_units, &v) < 0 || v > 1e15 || v != floor(v))
        return -1;
    *n = (uint64_t)v;
    return 0;
}

int units_parse_double(const char *s, double *v)
{
    static const struct unit none[] = {{"", 1}, {NULL, 0}};
    return parse_scaled(s, none, v);
}

int units_parse_bytes(const char *s, uint64_t *bytes)
{
    double v;
    if (parse_scaled(s, byte_units, &v) < 0 || v > 1e18)
        return -1;
    *bytes = (uint64_t)llround(v);
    return 0;
}

char *units_fmt_duration(uint64_t us, char *buf, size_t len)
{
    if (us < 1000)
        snprintf(buf, len, "%uus", (unsigned)us);
    else if (us < 1000000)
        snprintf(buf, len, "%.2fms", us / 1e3);
    else if (us < 60000000)
        snprintf(buf, len, "%.2fs", us / 1e6);
    else
        snprintf(buf, len, "%.1fm", us / 60e6);
    return buf;
}

/* timeval: client timestamps -> time templates with their offset (timeval.h). */
#include "timeval.h"

#include <stdio.h>
#include <string.h>

static size_t digits(const char *s, size_t len)
{
    size_t d = 0;
    while (d < len && s[d] >= '0' && s[d] <= '9')
        d++;
    return d;
}

size_t timeval_match(const char *s, size_t len)
{
    size_t d = digits(s, len);
    if (d == 13)
        return 13;
    if (d != 10)
        return 0;
    if (len > 11 && s[10] == '.') {
        size_t f = digits(s + 11, len - 11);
        if (f >= 1 && f <= 9)
            return 11 + f;
        if (f > 9)
            return 0; /* a longer decimal: not a clock reading */
    }
    return 10;
}

static bool well_formed(const char *text, size_t len)
{
    return timeval_match(text, len) == len && len > 0;
}

int64_t timeval_us(const char *text, size_t len)
{
    int64_t whole = 0;
    size_t int_len = len == 13 ? 13 : 10;
    for (size_t i = 0; i < int_len && i < len; i++)
        whole = whole * 10 + (text[i] - '0');
    int64_t v = len == 13 ? whole * 1000 : whole * 1000000;
    if (len > 11 && text[10] == '.')
        for (size_t i = 11, scale = 100000; i < len && i < 17; i++, scale /= 10)
            v += (int64_t)(text[i] - '0') * (int64_t)scale;
    return v;
}

int64_t timeval_reference(const char *const *stamps, size_t n, int64_t at_us)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(stamps[i]);
        if (!well_formed(stamps[i], len))
            continue;
        int64_t d = timeval_us(stamps[i], len) - at_us;
        if (d > -(int64_t)TIMEVAL_NOW_S * 1000000 && d < (int64_t)TIMEVAL_NOW_S * 1000000)
            return timeval_us(stamps[i], len);
    }
    return at_us;
}

bool timeval_template(const char *text, size_t len, int64_t ref_us, char *out, size_t cap)
{
    if (!well_formed(text, len))
        return false;
    int64_t off_us = timeval_us(text, len) - ref_us;
    if (off_us > (int64_t)TIMEVAL_WINDOW_S * 1000000 || off_us < -(int64_t)TIMEVAL_WINDOW_S * 1000000)
        return false;
    /* Offsets are the user's intent ("an hour ago"), rounded to the second;
     * within TIMEVAL_NOW_S they are the client's clock and delay: now. */
    int64_t off_s = (off_us >= 0 ? off_us + 500000 : off_us - 500000) / 1000000;
    if (off_s > -TIMEVAL_NOW_S && off_s < TIMEVAL_NOW_S)
        off_s = 0;
    unsigned frac = len > 11 && len != 13 ? (unsigned)(len - 11) : 0;
    char gen[24];
    if (len == 13)
        snprintf(gen, sizeof gen, "now_ms");
    else if (frac)
        snprintf(gen, sizeof gen, "now_s.%u", frac);
    else
        snprintf(gen, sizeof gen, "now_s");
    int n;
    if (off_s == 0)
        n = snprintf(out, cap, "{{%s}}", gen);
    else if (len == 13)
        n = snprintf(out, cap, "{{%s %+lld}}", gen, (long long)off_s * 1000);
    else
        n = snprintf(out, cap, "{{%s %+lld}}", gen, (long long)off_s);
    return n > 0 && (size_t)n < cap;
}

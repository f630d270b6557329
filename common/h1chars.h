/* h1chars: the character rules of an HTTP/1 head, for the readers that take a
 * simple whole message without http_parser (http/hc_h1.c for responses,
 * capture/h1msg.c for both directions; issue 20). Inline: they run for every
 * byte of every head. */
#ifndef AIOTEST_H1CHARS_H
#define AIOTEST_H1CHARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* RFC 9110 tchar: 0-9 a-z A-Z !#$%&'*+-.^_`|~ */
static const uint32_t h1c_tchar_bits[8] = {0, 0x03ff6cfau, 0xc7fffffeu, 0x57ffffffu, 0, 0, 0, 0};
/* what an origin-form target may hold here: RFC 3986 pchar, '/' and '?' */
static const uint32_t h1c_target_bits[8] = {0, 0xaffffff2u, 0x87ffffffu, 0x47fffffeu, 0, 0, 0, 0};

static inline bool h1c_in(const uint32_t *set, unsigned char c) { return (set[c >> 5] >> (c & 31)) & 1u; }

/* true when p[0..n) is a non-empty token */
static inline bool h1c_token(const char *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!h1c_in(h1c_tchar_bits, (unsigned char)p[i]))
            return false;
    return true;
}

/* true when p[0..n) holds only target characters */
static inline bool h1c_target(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!h1c_in(h1c_target_bits, (unsigned char)p[i]))
            return false;
    return true;
}

/* true when no byte of v is a control character other than HT (what
 * http_parser refuses in a field value; obs-text is allowed). Eight bytes at
 * a time: a word with no byte below 0x20 and none 0x7f passes at once (the
 * test may flag a clean word, never miss one), a flagged word is looked at
 * byte by byte. */
static inline bool h1c_plain_value(const char *v, size_t n)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, v + i, 8);
        uint64_t d = w ^ 0x7f * ones;
        if (!(((w - 0x20 * ones) & ~w & highs) | ((d - ones) & ~d & highs)))
            continue;
        for (size_t j = i; j < i + 8; j++)
            if (((unsigned char)v[j] < 0x20 && v[j] != '\t') || v[j] == 0x7f)
                return false;
    }
    for (; i < n; i++)
        if (((unsigned char)v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f)
            return false;
    return true;
}

#endif

/* jmend: makes the strings of a JSON text readable by jansson without
 * losing the file: raw control characters inside strings are escaped
 * (\u00XX, the same character), invalid UTF-8 and lone UTF-16 surrogate
 * escapes (Python's surrogateescape writes "\udcff") become U+FFFD. Text
 * outside strings is left alone, so syntax errors stay errors. */
#ifndef AIOTEST_CONV_JMEND_H
#define AIOTEST_CONV_JMEND_H

#include <stddef.h>

typedef struct jmend {
    char *text;            /* the mended copy (NULL when nothing needed mending) */
    size_t len;
    size_t fixed;          /* characters escaped or replaced */
    size_t first_at;       /* byte offset in the input of the first of them */
    char first_what[64];   /* what it was: "control character 0x01", "invalid UTF-8 byte 0xff", ... */
    size_t *map_out, *map_in, n_map, cap_map;  /* offsets after each change, for jmend_input_offset */
} jmend_t;

/* Mends in[0..len) into m (zeroed here). Returns 0, or -1 on out of memory
 * (m then for jmend_fini). */
int jmend_text(const char *in, size_t len, jmend_t *m);

/* The input offset of offset off of the mended text. */
size_t jmend_input_offset(const jmend_t *m, size_t off);

void jmend_fini(jmend_t *m);

#endif

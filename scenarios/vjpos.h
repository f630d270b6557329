/* vjpos: where a JSON path ("classes[1].tasks[0].url") sits in the text of a
 * JSON document, so an error found in the parsed tree can name the line and
 * column a person edits. jansson keeps no positions once parsed; this walks
 * the text again (it is known to be valid JSON) for the one path asked.
 * Internal to scenarios/. */
#ifndef AIOTEST_VJPOS_H
#define AIOTEST_VJPOS_H

#include <stddef.h>

/* Finds the value at path in text; when the path goes deeper than the
 * document, the deepest value found. Sets *line and *col (1-based) and
 * returns 0, or -1 when text is not a JSON value or path is malformed. */
int vjpos_find(const char *text, size_t len, const char *path, int *line, int *col);

#endif

/* vjprint: prints the JSON view: stable key order (the order of insertion),
 * two-space indentation, and short objects and arrays kept on one line so a
 * view is compact and diffs line by line. Internal to scenarios/. */
#ifndef AIOTEST_VJPRINT_H
#define AIOTEST_VJPRINT_H

#include <stdio.h>

#include <jansson.h>

/* Prints v as JSON for people: one member per line, indented by two spaces
 * a level, but an object or array that fits in the line width stays on one
 * line ({"method": "GET", "url": "/"}, ["Accept", "*\/\*"]). indent is the
 * column of v; the first line is not indented. Returns 0 or -1 (write error
 * or out of memory). */
int vj_print(FILE *out, const json_t *v, int indent);

#endif

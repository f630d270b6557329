/* classes: sessions with the same normalised request sequence form one user
 * class, weighted by how many sessions it has. With a class limit, the rarest
 * classes merge into the nearest (edit distance over request sequences). */
#ifndef AIOTEST_CONV_CLASSES_H
#define AIOTEST_CONV_CLASSES_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"
#include "xset.h"

typedef struct cls {
    size_t rep;        /* index of the representative session (the first seen) */
    uint32_t weight;   /* sessions in the class (after merges) */
    char **seq;        /* normalised request keys of the representative */
    size_t n_seq;
    char *name;        /* readable, unique among the classes */
} cls_t;

typedef struct cls_list {
    cls_t *v;          /* heaviest first */
    size_t n;
} cls_list_t;

/* Groups sessions into classes; max_classes 0 means no limit. Returns 0 or
 * -1 (out of memory). */
int cls_build(const xset_t *xs, const sess_list_t *ss, size_t max_classes, cls_list_t *out);
void cls_list_fini(cls_list_t *l);

/* Edit distance between two key sequences (insert, delete, replace = 1). */
size_t cls_distance(char *const *a, size_t na, char *const *b, size_t nb);

#endif

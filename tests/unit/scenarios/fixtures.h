/* fixtures: sample recordings and scenarios with every field set, equality
 * assertions, and temporary files, shared by the scenarios/ unit tests. */
#ifndef AIOTEST_TEST_FIXTURES_H
#define AIOTEST_TEST_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

#include "recording.h"
#include "scenario.h"

/* Fills x with exchange number i (every field set, bodies with bytes that are
 * not UTF-8 when i is odd). */
void fx_exchange(int i, rec_exchange_t *x);
void fx_rec_header(rec_header_t *h);
void fx_assert_exchange_equal(const rec_exchange_t *a, const rec_exchange_t *b);
void fx_assert_rec_header_equal(const rec_header_t *a, const rec_header_t *b);

/* A scenario using every field and every enum value. */
scn_scenario_t *fx_scenario(void);
void fx_assert_scenario_equal(const scn_scenario_t *a, const scn_scenario_t *b);

/* A fresh temporary path (file not created) with the given suffix; caller frees. */
char *fx_tmp(const char *suffix);
void fx_write(const char *path, const void *data, size_t n);
/* Whole file; caller frees. */
uint8_t *fx_read(const char *path, size_t *n);

#endif

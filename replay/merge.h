/* merge: the run-describing parts of --segment reports that are not statistics
 * (the statistics merge in stats.h), combined as one process running the whole
 * load would have written them: "user_samples" summed at each instant,
 * "classes" with summed starts and the peak of the summed samples. */
#ifndef AIOTEST_MERGE_H
#define AIOTEST_MERGE_H

#include <stddef.h>
#include <jansson.h>

/* The "user_samples" arrays of n reports whose runs started offset_s[i] >= 0
 * seconds after the earliest, as one array: a sample every 0.2 s since the
 * earliest start (every 2 s after the first 3000, as a run thins them), each the
 * sum over the inputs of their latest sample at that instant (0 before an input's
 * first one): users, target, rate and per_class element by element. A report
 * without samples adds nothing. New reference; NULL on out of memory. */
json_t *merge_user_samples(const json_t *const *reports, const double *offset_s, size_t n);

/* The "classes" arrays of n reports as one, by class name in the order first
 * seen: weight of the first, users_started summed, users_peak the highest of
 * the summed per_class samples (samples as merge_user_samples made) and of the
 * inputs' peaks. New reference (empty array when no report has classes); NULL on
 * out of memory. */
json_t *merge_classes(const json_t *const *reports, size_t n, const json_t *samples);

/* The "script_metrics" arrays (Lua metric.*, smetric.h) of n reports as one:
 * metrics matched by name, series by their labels; counters' values, refused
 * counts, histograms' count, sum and buckets added. New reference; an empty
 * array when no report has any. NULL with err (a name that is a counter in one
 * report and a histogram in another, or histograms with other bucket bounds:
 * reports of different scripts), or out of memory. */
json_t *merge_script_metrics(const json_t *const *reports, size_t n, char *err, size_t errlen);

#endif

/* report: files written at the end of a run from the merged stats.
 * JSON: stats_report_json (stats.h). CSV and HTML here. */
#ifndef AIOTEST_REPORT_H
#define AIOTEST_REPORT_H

#include <jansson.h>

#include "stats.h"

/* Writes PREFIX_stats.csv, PREFIX_failures.csv and PREFIX_stats_history.csv
 * (columns as Locust's CSV files). Returns 0 or -1 with err. */
int report_write_csv(const char *prefix, stats_t *total, const stats_names_t *names,
                     const stats_history_t *history, double duration_s, char *err, size_t errlen);

/* Writes one self-contained HTML file (no network fetches) from a JSON report
 * (as made by stats_report_json): summary table, and inline SVG charts of RPS and
 * users over time, latency percentiles over time, the latency histogram and the
 * failures by category. Returns 0 or -1 with err. */
int report_write_html(const char *path, const json_t *report, char *err, size_t errlen);

#endif

/* view: the JSON text view of both files (jansson). Round-trips exactly:
 * .mp -> JSON -> .mp gives equal content. Bodies are JSON strings when they are
 * valid UTF-8, else {"base64": "..."} (docs/file-formats.md, "JSON view"). */
#ifndef AIOTEST_VIEW_H
#define AIOTEST_VIEW_H

#include <stdio.h>
#include <jansson.h>

#include "mp_error.h"
#include "recording.h"
#include "scenario.h"

/* New references; NULL on out of memory. */
json_t *view_rec_header_to_json(const rec_header_t *h);
json_t *view_exchange_to_json(const rec_exchange_t *x);
json_t *view_scenario_to_json(const scn_scenario_t *s);

/* Fill *out from JSON (caller owns). Return 0 or negative with err naming the
 * JSON path of the bad field (e.g. "classes[1].tasks[0].requests[2].url"). */
int view_rec_header_from_json(const json_t *j, rec_header_t *out, mp_error_t *err);
int view_exchange_from_json(const json_t *j, rec_exchange_t *out, mp_error_t *err);
int view_scenario_from_json(const json_t *j, scn_scenario_t **out, mp_error_t *err);
/* As view_exchange_from_json, with path naming the exchange in messages
 * (e.g. "exchanges[3]"). */
int view_exchange_from_json_at(const json_t *j, const char *path, rec_exchange_t *out, mp_error_t *err);

/* Prints any .mp file (recording or scenario) as JSON to out: a scenario as one
 * object; a recording as {"header": {...}, "exchanges": [...]} streamed record
 * by record. Returns 0 or negative with err. */
int view_dump_file(const char *path, FILE *out, mp_error_t *err);

/* Reads a JSON view file (as written by view_dump_file or edited by hand) and
 * writes the matching .mp file. Errors name the JSON line and column. */
int view_json_file_to_mp(const char *json_path, const char *mp_path, mp_error_t *err);

/* Loads a scenario from a JSON view file (with validation; line numbers in errors). */
int view_scenario_load_json(const char *json_path, scn_scenario_t **out, mp_error_t *err);

#endif

/* control: the endpoints for tests and benchmarks rather than shoppers. None of
 * them is delayed or failed on purpose, and only /health is counted. */
#ifndef TARGET_CONTROL_H
#define TARGET_CONTROL_H

#include "web.h"

/* GET /health -> 200 "ok" */
unsigned control_health(const struct web_req *req, struct MHD_Response **resp);
/* GET /stats -> the counters as JSON */
unsigned control_stats(const struct web_req *req, struct MHD_Response **resp);
/* POST /stats/reset -> zeroes the counters */
unsigned control_stats_reset(const struct web_req *req, struct MHD_Response **resp);
/* POST /_control?delay_ms=A-B&fail_rate=F -> changes the faults, answers the
 * settings now in force; 400 naming the argument when one is malformed (then
 * nothing changes). */
unsigned control_set(const struct web_req *req, struct MHD_Response **resp);

#endif

/* wsstep: a recorded WebSocket session (an exchange answered 101 with its
 * messages, recording 1.1) as a scenario ws step (scenario 1.1): the handshake's
 * URL, headers and subprotocol; each client data message with its recorded
 * gap, awaiting the count of server data messages that followed it before the
 * client's next one; the gap before the close. Control frames are the
 * connection's (pings answered by the replay), not the scenario's. With
 * correlation on (conv_opts_t.correlate), a value an awaited server message
 * offers that a later client message sends back becomes an extractor and a
 * {{ws_<field>}} template. */
#ifndef AIOTEST_CONV_WSSTEP_H
#define AIOTEST_CONV_WSSTEP_H

#include <stdbool.h>
#include <stddef.h>

#include "opts.h"
#include "recording.h"
#include "scenario.h"

/* What could not be carried over as recorded (counted on the summary line). */
typedef struct wsstep_stats {
    size_t messages;     /* client messages in the steps */
    size_t cut;          /* of them, recorded cut at --max-body: the prefix is sent */
    size_t braces;       /* text messages left out: they hold "{{", which the
                          * replay would read as a template (there is no escape) */
    size_t correlated;   /* extractors made (a server value sent back later) */
    size_t background;   /* steps made background (convert.c: later steps ran while open) */
} wsstep_stats_t;

/* The ws step of x (pick_is_websocket), gaps under o's --think rule. Returns a
 * new scn_ws_t (caller frees with scn_ws_free) or NULL on out of memory. */
scn_ws_t *wsstep_from_exchange(const rec_exchange_t *x, const conv_opts_t *o, wsstep_stats_t *st);

#endif

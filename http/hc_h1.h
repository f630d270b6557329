/* hc_h1: the HTTP/1.1 client protocol of the connection table (hc.h).
 * One exchange at a time per connection (keep-alive), unless the target asks
 * for pipelining (hc_target_t.pipeline = D > 1): then up to D exchanges are in
 * flight, answered in order (RFC 9112 9.3.2). Only idempotent requests are
 * pipelined (GET, HEAD, OPTIONS, TRACE, PUT, DELETE; body given whole; not an
 * upgrade); any other request waits until the connection is empty and nothing
 * goes behind it until it ended. Pipelined requests of one burst of submits
 * leave in one write (hc_conn_write_soon). When the pipeline breaks (the
 * server closes after k responses, "Connection: close" in one, a cancel of an
 * exchange with others in flight, a streaming caller refusing a response), the
 * exchanges behind that got no byte fail with HC_FAIL_RESET and retryable set
 * (hc_xch_t), for the caller to resend; hc_xch_t.pipelined tells which went
 * behind another. Without pipelining the request is written straight from the
 * rendered or prebuilt bytes; the
 * response is parsed with http_parser (content-length, chunked,
 * close-delimited; HEAD, 1xx, 204 and 304 without body). Header bytes are
 * kept in one buffer and handed over as slices; the body is buffered only
 * when the exchange asks for it, or streamed to env->on_body; trailers of a
 * chunked body are kept apart (hc_resp_t.trailers). */
#ifndef AIOTEST_HC_H1_H
#define AIOTEST_HC_H1_H

#include "hc_proto.h"

extern const hc_proto_t hc_h1_proto;

#endif

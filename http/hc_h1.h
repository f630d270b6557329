/* hc_h1: the HTTP/1.1 client protocol of the connection table (hc.h).
 * One exchange at a time per connection (keep-alive, no pipelining): the
 * request is written straight from the rendered or prebuilt bytes; the
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

/* http1: the HTTP/1.1 client protocol of the connection table (conn.h).
 * One exchange at a time per connection (keep-alive, no pipelining): the
 * request is written straight from the rendered or prebuilt bytes; the
 * response is parsed with http_parser (content-length, chunked,
 * close-delimited; HEAD, 1xx, 204 and 304 without body). Header bytes are
 * kept in one buffer and handed over as slices; the body is buffered only
 * when the exchange asks for it (extractors, checks). */
#ifndef AIOTEST_HTTP1_H
#define AIOTEST_HTTP1_H

#include "conn.h"

extern const conn_proto_t h1_proto;

#endif

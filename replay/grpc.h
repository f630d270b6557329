/* grpc: gRPC semantics on top of an HTTP/2 exchange. A gRPC call's outcome is
 * its grpc-status (a trailer, or a header of a trailers-only response), not
 * its HTTP status: HTTP 200 with grpc-status 14 is a failed call.
 * Status codes as in grpc's doc/statuscodes.md: 0 OK .. 16 UNAUTHENTICATED. */
#ifndef AIOTEST_GRPC_H
#define AIOTEST_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Codes 0..16, then two of ours: no grpc-status on a gRPC response, and a
 * value that is not one of the 17 codes. */
enum {
    GRPC_STATUS_MISSING = 17,
    GRPC_STATUS_BAD = 18,
    GRPC_STATUS__COUNT = 19
};

/* "OK", "CANCELLED", ..., "UNAUTHENTICATED", "MISSING", "BAD"; "BAD" for
 * anything out of range. */
const char *grpc_status_name(int code);
/* Inverse of grpc_status_name; -1 when unknown. */
int grpc_status_from_name(const char *name);

/* A grpc-status value: 0..16, or GRPC_STATUS_BAD (not one decimal code). */
int grpc_status_parse(const char *v, size_t n);

/* Writes a grpc-timeout value for a deadline of us microseconds into buf
 * (at most 8 digits and a unit, RFC-like "TimeoutValue TimeoutUnit": "7000m",
 * "3600S"; rounded up so the server's deadline is never shorter). Returns
 * its length, 0 when us is 0 (no deadline: send no header). */
size_t grpc_timeout_format(uint64_t us, char buf[16]);

#endif

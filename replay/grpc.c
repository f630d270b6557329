/* grpc: status codes, content-type and grpc-timeout (grpc.h). */
#include "grpc.h"

#include <stdio.h>
#include <string.h>

static const char *const names[GRPC_STATUS__COUNT] = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
    "UNAUTHENTICATED", "MISSING", "BAD",
};

const char *grpc_status_name(int code)
{
    return code >= 0 && code < GRPC_STATUS__COUNT ? names[code] : names[GRPC_STATUS_BAD];
}

int grpc_status_from_name(const char *name)
{
    for (int i = 0; i < GRPC_STATUS__COUNT; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

int grpc_status_parse(const char *v, size_t n)
{
    if (n == 0 || n > 2)
        return GRPC_STATUS_BAD;
    int code = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return GRPC_STATUS_BAD;
        code = code * 10 + (v[i] - '0');
    }
    return code <= 16 ? code : GRPC_STATUS_BAD;
}

size_t grpc_timeout_format(uint64_t us, char buf[16])
{
    /* The finest unit whose value fits in 8 digits, rounded up. */
    static const struct { char unit; uint64_t us; } units[] = {
        {'u', 1}, {'m', 1000}, {'S', 1000000}, {'M', 60000000}, {'H', 3600000000ull},
    };
    if (us == 0)
        return 0;
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        uint64_t v = us / units[i].us + (us % units[i].us != 0);
        if (v <= 99999999)
            return (size_t)snprintf(buf, 16, "%llu%c", (unsigned long long)v, units[i].unit);
    }
    return (size_t)snprintf(buf, 16, "99999999H");
}

#include "h2io.h"

int h2io_feed(nghttp2_session *ng, struct evbuffer *in, const bool *dead)
{
    while (!*dead && evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        ssize_t n = nghttp2_session_mem_recv(ng, v.iov_base, v.iov_len);
        if (n < 0)
            return (int)n;
        evbuffer_drain(in, (size_t)n);
    }
    return 0;
}

int h2io_send(nghttp2_session *ng, struct evbuffer *out, const bool *dead)
{
    while (!*dead && evbuffer_get_length(out) < H2IO_OUT_HIGH) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(ng, &data);
        if (n <= 0)
            return (int)n;
        evbuffer_add(out, data, (size_t)n);
    }
    return 0;
}

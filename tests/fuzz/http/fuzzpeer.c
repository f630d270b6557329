/* fuzzpeer: see fuzzpeer.h. */
#include "fuzzpeer.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#define MAX_XCH 4
#define MAX_PEERS 8             /* connections accepted per run (h2 reconnects after GOAWAY) */
#define MAX_ITER 100000         /* loop iterations per run before calling it a hang */
#define FUZZ_MAX_BODY 4096      /* small, so that the cut path runs too */

typedef struct peer {
    int fd;
    struct event *ev;
    size_t off;                 /* bytes of pre + data sent */
    bool shut;                  /* sending side closed */
    /* h2 gate: data waits until the client's stream has shown wait_headers
     * HEADERS frames (every exchange became a stream), so that the input
     * meets streams that exist rather than idle ones. */
    bool gated;
    size_t skip;                /* client bytes to skip: magic, frame payload */
    uint8_t fh[9];              /* a client frame header being read */
    size_t fh_len;
    int n_headers;
} peer_t;

static struct {
    struct event_base *base;
    hc_env_t env;
    int lfd;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    /* this run */
    const uint8_t *pre, *data;
    size_t pre_len, size;
    peer_t peers[MAX_PEERS];
    int n_peers;
    hc_xch_t xch[MAX_XCH];
    int done[MAX_XCH];
    int n_done;
    int wait_headers;           /* h2: client HEADERS frames before data (0: none) */
    uint16_t pipeline;          /* HTTP/1.1 pipelining depth (fuzzpeer_pipeline) */
    bool verbose;               /* FUZZPEER_VERBOSE set: each outcome on stderr */
} g;

static void fail(const char *what)
{
    fprintf(stderr, "fuzzpeer: %s\n", what);
    abort();
}

static int render(hc_xch_t *x, hc_req_t *rv)
{
    (void)x;
    *rv = (hc_req_t){.method = "GET", .method_len = 3, .path = "/", .path_len = 1,
                     .authority = "t", .authority_len = 1};
    return 0;
}

static bool has_encoding(const hc_resp_t *r)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (r->headers[i].name_len == 16 && strncasecmp(r->headers[i].name, "content-encoding", 16) == 0)
            return true;
    return false;
}

static void on_done(hc_xch_t *x, const hc_resp_t *resp, hc_fail_t f)
{
    ptrdiff_t i = x - g.xch;
    if (i < 0 || i >= MAX_XCH)
        fail("on_done for an exchange never submitted");
    if (++g.done[i] != 1)
        fail("on_done called twice for one exchange");
    g.n_done++;
    if (g.verbose)
        fprintf(stderr, "fuzzpeer: exchange %d: %s status %d body %zu\n", (int)i, hc_fail_name(f),
                resp ? resp->status : 0, resp ? resp->body_len : 0);
    if ((unsigned)f >= HC_FAIL__COUNT)
        fail("failure code out of range");
    /* the peer always answers and closes: waiting out a timer is a hang */
    if (f == HC_FAIL_TIMEOUT)
        fail("an exchange timed out: a hang");
    if (f == HC_OK && !resp)
        fail("success without a response");
    if (!resp)
        return;
    if (f == HC_OK && (resp->status < 100 || resp->status > 999)) {
        fprintf(stderr, "fuzzpeer: status %d\n", resp->status);
        fail("success with a status outside 100..999");
    }
    if (resp->body_len > g.env.max_body)
        fail("body longer than max_body");
    if (resp->body_len && !resp->body)
        fail("body length without a body");
    if (resp->body_len > g.pre_len + g.size && !has_encoding(resp))
        fail("body longer than the bytes the peer sent");
    /* touch every slice: ASan sees one that points outside its buffer */
    volatile char sink = 0;
    for (size_t k = 0; k < resp->n_headers; k++) {
        if (resp->headers[k].name_len)
            sink ^= resp->headers[k].name[resp->headers[k].name_len - 1];
        if (resp->headers[k].value_len)
            sink ^= resp->headers[k].value[resp->headers[k].value_len - 1];
    }
    for (size_t k = 0; k < resp->n_trailers; k++) {
        if (resp->trailers[k].name_len)
            sink ^= resp->trailers[k].name[resp->trailers[k].name_len - 1];
        if (resp->trailers[k].value_len)
            sink ^= resp->trailers[k].value[resp->trailers[k].value_len - 1];
    }
    if (resp->body_len)
        sink ^= resp->body[0] ^ resp->body[resp->body_len - 1];
    (void)sink;
}

static void on_interim(hc_xch_t *x, const hc_resp_t *resp)
{
    (void)x;
    if (resp->status < 100 || resp->status > 199)
        fail("interim head with a status outside 1xx");
}

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    g.verbose = getenv("FUZZPEER_VERBOSE") != NULL;
    g.base = event_base_new();
    if (!g.base || hc_env_init(&g.env, g.base) != 0)
        fail("setup");
    g.env.render = render;
    g.env.on_done = on_done;
    g.env.on_interim = on_interim;
    /* backstops only: the peer always closes, so a run ends without them */
    g.env.connect_timeout_us = 5000000;
    g.env.first_byte_timeout_us = 5000000;
    g.env.body_timeout_us = 5000000;
    g.env.max_body = FUZZ_MAX_BODY;
    g.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_un *sun = (struct sockaddr_un *)&g.addr;
    sun->sun_family = AF_UNIX;
    /* abstract name: nothing in the file system, unique per process */
    int n = snprintf(sun->sun_path + 1, sizeof sun->sun_path - 1, "aiotest-fuzzhc-%ld", (long)getpid());
    g.addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    if (g.lfd < 0 || bind(g.lfd, (struct sockaddr *)&g.addr, g.addr_len) != 0 || listen(g.lfd, 16) != 0)
        fail("listener");
}

static void peer_cb(evutil_socket_t fd, short what, void *arg);

static void peer_close(peer_t *p)
{
    if (p->ev)
        event_free(p->ev);
    if (p->fd >= 0)
        close(p->fd);
    p->ev = NULL;
    p->fd = -1;
}

/* Counts the client's HEADERS frames in bytes it sent (h2 gate). */
static void peer_scan(peer_t *p, const uint8_t *d, size_t n)
{
    while (n) {
        if (p->skip) {
            size_t k = n < p->skip ? n : p->skip;
            p->skip -= k, d += k, n -= k;
            continue;
        }
        p->fh[p->fh_len++] = *d++, n--;
        if (p->fh_len < 9)
            continue;
        p->fh_len = 0;
        p->skip = ((size_t)p->fh[0] << 16) | ((size_t)p->fh[1] << 8) | p->fh[2];
        if (p->fh[3] == 1 && ++p->n_headers >= g.wait_headers)
            p->gated = false;
    }
}

/* Sends what the gate allows as the socket takes it; once all of it went,
 * closes the sending side. Leaves the event armed for writing only while
 * there is something to send. */
static void peer_send(peer_t *p)
{
    size_t total = g.pre_len + g.size, limit = p->gated ? g.pre_len : total;
    while (p->off < limit) {
        const uint8_t *d = p->off < g.pre_len ? g.pre + p->off : g.data + (p->off - g.pre_len);
        size_t n = p->off < g.pre_len ? g.pre_len - p->off : total - p->off;
        ssize_t w = send(p->fd, d, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return; /* still armed for writing */
            peer_close(p);  /* the client closed */
            return;
        }
        p->off += (size_t)w;
    }
    if (p->off == total && !p->shut) {
        shutdown(p->fd, SHUT_WR);
        p->shut = true;
    }
    event_del(p->ev);
    event_assign(p->ev, g.base, p->fd, EV_READ | EV_PERSIST, peer_cb, p);
    event_add(p->ev, NULL);
}

/* Reads the request bytes (dropped, scanned for the h2 gate); writes. */
static void peer_cb(evutil_socket_t fd, short what, void *arg)
{
    peer_t *p = arg;
    if (what & EV_READ) {
        uint8_t buf[4096];
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
            peer_close(p);
            return;
        }
        if (r > 0 && p->gated) {
            peer_scan(p, buf, (size_t)r);
            if (!p->gated) {
                event_del(p->ev);
                event_assign(p->ev, g.base, fd, EV_READ | EV_WRITE | EV_PERSIST, peer_cb, p);
                event_add(p->ev, NULL);
                return;
            }
        }
    }
    if ((what & EV_WRITE) && !p->shut)
        peer_send(p);
}

static void accept_all(void)
{
    for (;;) {
        int fd = accept4(g.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (g.n_peers == MAX_PEERS) {
            close(fd);  /* a reconnect storm: the client sees a reset */
            continue;
        }
        peer_t *p = &g.peers[g.n_peers++];
        /* only the first connection waits: a reconnect carries fewer streams */
        *p = (peer_t){.fd = fd, .gated = g.wait_headers > 0 && g.n_peers == 1, .skip = 24};
        p->ev = event_new(g.base, fd, EV_READ | EV_WRITE | EV_PERSIST, peer_cb, p);
        if (!p->ev || event_add(p->ev, NULL) != 0)
            fail("peer event");
    }
}

static void listen_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    accept_all();
}

void fuzzpeer_pipeline(uint16_t depth)
{
    g.pipeline = depth;
}

void fuzzpeer_run(hc_want_t want, int n_xch, int wait_headers, const uint8_t *pre,
                  size_t pre_len, const uint8_t *data, size_t size)
{
    if (!g.base)
        setup();
    g.pre = pre, g.pre_len = pre_len, g.data = data, g.size = size;
    g.n_peers = 0;
    g.n_done = 0;
    g.wait_headers = wait_headers;
    memset(g.xch, 0, sizeof g.xch);
    memset(g.done, 0, sizeof g.done);

    hc_target_t t = {.host = "fuzz", .port = 80, .want = want, .name = "http://fuzz",
                     .addr = &g.addr, .addr_len = &g.addr_len, .pipeline = g.pipeline};
    hc_conn_t *c = hc_conn_new(&g.env, &t);
    if (!c)
        fail("hc_conn_new");
    struct event *lev = event_new(g.base, g.lfd, EV_READ | EV_PERSIST, listen_cb, NULL);
    event_add(lev, NULL);
    for (int i = 0; i < n_xch; i++) {
        g.xch[i].want_body = true;
        hc_conn_submit(c, &g.xch[i]);
    }
    accept_all();
    int iter = 0;
    while (g.n_done < n_xch) {
        if (++iter > MAX_ITER)
            fail("exchanges did not end: a hang");
        event_base_loop(g.base, EVLOOP_ONCE);
    }
    /* a few more turns: a late second on_done would show here */
    for (int i = 0; i < 4; i++)
        event_base_loop(g.base, EVLOOP_NONBLOCK);
    hc_conn_free(c);
    event_free(lev);
    for (int i = 0; i < g.n_peers; i++)
        peer_close(&g.peers[i]);
    accept_all();  /* connections the client made and dropped meanwhile */
    for (int i = 0; i < g.n_peers; i++)
        peer_close(&g.peers[i]);
    g.n_peers = 0;
    for (int i = 0; i < n_xch; i++)
        if (g.done[i] != 1)
            fail("an exchange did not end exactly once");
}

/* loopsrv: a canned HTTP server on 127.0.0.1 for the replay unit tests, run on
 * an event_base of the test (the test's own, or a thread's with srv_thread).
 * Answers each request (up to its blank line; a Content-Length body is
 * skipped) with the next canned answer, repeating the last one; keeps every
 * request in log and every request line in lines. Any number of connections. */
#ifndef AIOTEST_TEST_LOOPSRV_H
#define AIOTEST_TEST_LOOPSRV_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

typedef struct canned {
    const char *bytes;
    bool close_after;
} canned_t;

typedef struct later_write {
    int fd;
    const char *p;
    size_t n;
} later_write_t;

static void srv_write_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    later_write_t *l = arg;
    if (write(l->fd, l->p, l->n) < 0) {
        /* the client went: nothing to do */
    }
    free(l);
}

typedef struct sconn {
    struct server *s;
    int fd;
    struct event *ev;
    char req[8192];
    size_t req_len;
    struct sconn *next;
} sconn_t;

typedef struct server {
    struct event_base *base;
    int lfd;
    unsigned short port;
    struct event *lev;
    const canned_t *answers;
    size_t n_answers, next;
    int accepts;
    sconn_t *conns;
    char last_req[8192];
    char log[65536];    /* every request, head and body, one after the other */
    size_t log_len;
    int requests;
    char lines[4096];   /* "METHOD TARGET|METHOD TARGET..." */
    pthread_t th;
    bool threaded;
    volatile int stop;   /* srv_thread: read by the server thread at least every 10 ms */
    struct event *tick;
    size_t split_at;     /* > 0: answers go out as that many bytes, the rest 30 ms later
                          * (two reads for the client) */
} server_t;

static void sconn_close(sconn_t *c)
{
    if (c->fd < 0)
        return;
    event_free(c->ev);
    close(c->fd);
    c->fd = -1;
}

/* One complete request at the start of c->req: logged, answered, consumed. */
static bool srv_answer(sconn_t *c)
{
    server_t *s = c->s;
    char *end = strstr(c->req, "\r\n\r\n");
    if (!end || s->n_answers == 0)
        return false;
    size_t head = (size_t)(end + 4 - c->req), body = 0;
    const char *cl = strcasestr(c->req, "\r\nContent-Length:");
    if (cl && cl < end)
        body = (size_t)strtoul(cl + 17, NULL, 10);
    if (c->req_len < head + body)
        return false;
    memcpy(s->last_req, c->req, head + body);
    s->last_req[head + body] = '\0';
    if (s->log_len + head + body < sizeof s->log) {
        memcpy(s->log + s->log_len, c->req, head + body);
        s->log_len += head + body;
        s->log[s->log_len] = '\0';
    }
    s->requests++;
    const char *sp = strstr(c->req, " HTTP/1.1\r\n");
    size_t ln = strlen(s->lines);
    if (sp && sp < end && ln + 256 < sizeof s->lines)
        snprintf(s->lines + ln, sizeof s->lines - ln, "%s%.*s", ln ? "|" : "", (int)(sp - c->req),
                 c->req);
    memmove(c->req, c->req + head + body, c->req_len - head - body + 1);
    c->req_len -= head + body;
    const canned_t *a = &s->answers[s->next < s->n_answers ? s->next++ : s->n_answers - 1];
    size_t len = strlen(a->bytes);
    if (s->split_at > 0 && s->split_at < len) {
        later_write_t *l = malloc(sizeof *l);
        if (!l || write(c->fd, a->bytes, s->split_at) < 0) {
            free(l);
            sconn_close(c);
            return false;
        }
        *l = (later_write_t){c->fd, a->bytes + s->split_at, len - s->split_at};
        struct timeval later = {0, 30000};
        event_base_once(s->base, -1, EV_TIMEOUT, srv_write_later, l, &later);
        return true;
    }
    if (write(c->fd, a->bytes, len) < 0 || a->close_after) {
        sconn_close(c);
        return false;
    }
    return true;
}

static void srv_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    sconn_t *c = arg;
    ssize_t n = read(fd, c->req + c->req_len, sizeof c->req - c->req_len - 1);
    if (n <= 0) {
        sconn_close(c);
        return;
    }
    c->req_len += (size_t)n;
    c->req[c->req_len] = '\0';
    while (c->fd >= 0 && srv_answer(c))
        ;
}

static void srv_accept(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    server_t *s = arg;
    int cfd = accept(fd, NULL, NULL);
    if (cfd < 0)
        return;
    sconn_t *c = calloc(1, sizeof *c);
    s->accepts++;
    c->s = s;
    c->fd = cfd;
    c->ev = event_new(s->base, cfd, EV_READ | EV_PERSIST, srv_read, c);
    event_add(c->ev, NULL);
    c->next = s->conns;
    s->conns = c;
}

static void srv_start(server_t *s, struct event_base *base, const canned_t *a, size_t n)
{
    memset(s, 0, sizeof *s);
    s->base = base;
    s->answers = a;
    s->n_answers = n;
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof sin;
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&sin, sizeof sin), 0);
    assert_int_equal(listen(s->lfd, 128), 0);
    getsockname(s->lfd, (struct sockaddr *)&sin, &l);
    s->port = ntohs(sin.sin_port);
    s->lev = event_new(base, s->lfd, EV_READ | EV_PERSIST, srv_accept, s);
    event_add(s->lev, NULL);
}

__attribute__((unused)) static void srv_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

__attribute__((unused)) static void *srv_main(void *arg)
{
    server_t *s = arg;
    /* The base is not thread-safe (no evthread): a tick lets the loop see stop. */
    while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE))
        event_base_loop(s->base, EVLOOP_ONCE);
    return NULL;
}

/* Serves from a thread of its own, on a base of its own, until srv_stop. */
__attribute__((unused)) static void srv_thread(server_t *s, const canned_t *a, size_t n)
{
    srv_start(s, event_base_new(), a, n);
    s->threaded = true;
    struct timeval tv = {0, 10000};
    s->tick = event_new(s->base, -1, EV_PERSIST, srv_tick, s);
    event_add(s->tick, &tv);
    assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_stop(server_t *s)
{
    if (s->threaded) {
        __atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
        pthread_join(s->th, NULL);
        event_free(s->tick);
    }
    while (s->conns) {
        sconn_t *c = s->conns;
        s->conns = c->next;
        sconn_close(c);
        free(c);
    }
    event_free(s->lev);
    close(s->lfd);
    if (s->threaded)
        event_base_free(s->base);
}

#endif

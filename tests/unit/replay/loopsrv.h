/* loopsrv: a canned HTTP server on 127.0.0.1 for the replay unit tests, run on
 * the test's own event_base. Answers each request (up to its blank line; a
 * Content-Length body is skipped) with the next canned answer, repeating the
 * last one; keeps every request head in log. */
#ifndef AIOTEST_TEST_LOOPSRV_H
#define AIOTEST_TEST_LOOPSRV_H

#include <netinet/in.h>
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

typedef struct server {
    struct event_base *base;
    int lfd;
    unsigned short port;
    struct event *lev;
    const canned_t *answers;
    size_t n_answers, next;
    int accepts;
    int cfd;
    struct event *cev;
    char req[8192];
    size_t req_len;
    char last_req[8192];
    char log[65536];    /* every request, head and body, one after the other */
    size_t log_len;
    int requests;
    char lines[4096];   /* "METHOD TARGET|METHOD TARGET..." */
} server_t;

static void srv_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    server_t *s = arg;
    ssize_t n = read(fd, s->req + s->req_len, sizeof s->req - s->req_len - 1);
    if (n <= 0) {
        event_free(s->cev);
        s->cev = NULL;
        close(fd);
        return;
    }
    s->req_len += (size_t)n;
    s->req[s->req_len] = '\0';
    char *end = strstr(s->req, "\r\n\r\n");
    if (!end || s->n_answers == 0)
        return;
    size_t head = (size_t)(end + 4 - s->req), body = 0;
    const char *cl = strcasestr(s->req, "\r\nContent-Length:");
    if (cl && cl < end)
        body = (size_t)strtoul(cl + 17, NULL, 10);
    if (s->req_len < head + body)
        return;
    memcpy(s->last_req, s->req, head + body);
    s->last_req[head + body] = '\0';
    if (s->log_len + head + body < sizeof s->log) {
        memcpy(s->log + s->log_len, s->req, head + body);
        s->log_len += head + body;
        s->log[s->log_len] = '\0';
    }
    s->requests++;
    const char *sp = strstr(s->req, " HTTP/1.1\r\n");
    size_t ln = strlen(s->lines);
    if (sp && sp < end)
        snprintf(s->lines + ln, sizeof s->lines - ln, "%s%.*s", ln ? "|" : "", (int)(sp - s->req),
                 s->req);
    memmove(s->req, s->req + head + body, s->req_len - head - body);
    s->req_len -= head + body;
    const canned_t *a = &s->answers[s->next < s->n_answers ? s->next++ : s->n_answers - 1];
    if (write(fd, a->bytes, strlen(a->bytes)) < 0)
        return;
    if (a->close_after) {
        event_free(s->cev);
        s->cev = NULL;
        close(fd);
    }
}

static void srv_accept(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    server_t *s = arg;
    int c = accept(fd, NULL, NULL);
    if (c < 0)
        return;
    s->accepts++;
    if (s->cev) {
        event_free(s->cev);
        close(s->cfd);
    }
    s->cfd = c;
    s->req_len = 0;
    s->cev = event_new(s->base, c, EV_READ | EV_PERSIST, srv_read, s);
    event_add(s->cev, NULL);
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
    assert_int_equal(listen(s->lfd, 16), 0);
    getsockname(s->lfd, (struct sockaddr *)&sin, &l);
    s->port = ntohs(sin.sin_port);
    s->lev = event_new(base, s->lfd, EV_READ | EV_PERSIST, srv_accept, s);
    event_add(s->lev, NULL);
}

static void srv_stop(server_t *s)
{
    if (s->cev) {
        event_free(s->cev);
        close(s->cfd);
    }
    event_free(s->lev);
    close(s->lfd);
}

#endif

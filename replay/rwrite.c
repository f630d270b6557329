/* rwrite: Prometheus remote write 1.0 sender (see rwrite.h). One POST per
 * batch over a fresh connection (one a second: no pooling needed), blocking I/O
 * with timeouts on the sender thread, so the load threads never wait for it. */
#include "rwrite.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <snappy-c.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "remote.pb-c.h"
#include "url.h"

#define QUEUE_MAX 120
#define IO_TIMEOUT_S 5
#define BACKOFF_MIN_US 250000
#define BACKOFF_MAX_US 5000000

typedef struct batch {
    char *page;
    size_t len;
    int64_t ts_ms;
    struct batch *next;
} batch_t;

struct rwrite {
    char *url_str;
    url_t url;
    char host_hdr[300];
    char **labels; /* n_labels pairs */
    size_t n_labels;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    batch_t *head, *tail; /* guarded by lock */
    size_t queued;
    bool stopping;
    uint64_t deadline_us;
    int64_t last_ts_ms; /* main thread: timestamps strictly increase */
    rwrite_stats_t st;
};

/* ---- encoding */

typedef struct series {
    Prometheus__TimeSeries ts;
    Prometheus__Sample sample, *samples[1];
    Prometheus__Label *labels;
    Prometheus__Label **label_ptrs;
} series_t;

static int label_cmp(const void *a, const void *b)
{
    const Prometheus__Label *x = *(Prometheus__Label *const *)a, *y = *(Prometheus__Label *const *)b;
    return strcmp(x->name, y->name);
}

/* Unescapes a label value in place from s (after the opening quote); returns the
 * character after the closing quote, NULL when unterminated. */
static char *read_value(char *s, char **value)
{
    char *w = s;
    *value = s;
    for (; *s && *s != '"'; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            *w++ = *s == 'n' ? '\n' : *s;
        } else {
            *w++ = *s;
        }
    }
    if (*s != '"')
        return NULL;
    *w = '\0';
    return s + 1;
}

/* Parses one sample line in place into se (labels point into line). */
static int parse_line(char *line, series_t *se, const char *const *extra, size_t n_extra)
{
    size_t cap = 8 + n_extra, n = 0;
    se->labels = calloc(cap, sizeof *se->labels);
    se->label_ptrs = calloc(cap, sizeof *se->label_ptrs);
    if (!se->labels || !se->label_ptrs)
        return -1;
    char *p = line + strcspn(line, "{ ");
    char stop = *p;
    if (p == line || !stop)
        return -1;
    *p++ = '\0';
    prometheus__label__init(&se->labels[n]);
    se->labels[n].name = "__name__";
    se->labels[n++].value = line;
    if (stop == '{') {
        while (*p && *p != '}') {
            char *eq = strchr(p, '=');
            if (!eq || eq[1] != '"')
                return -1;
            *eq = '\0';
            if (n + n_extra + 1 >= cap) {
                cap *= 2;
                Prometheus__Label *l = realloc(se->labels, cap * sizeof *l);
                if (!l)
                    return -1;
                se->labels = l;
                Prometheus__Label **lp = realloc(se->label_ptrs, cap * sizeof *lp);
                if (!lp)
                    return -1;
                se->label_ptrs = lp;
            }
            prometheus__label__init(&se->labels[n]);
            se->labels[n].name = p;
            p = read_value(eq + 2, &se->labels[n].value);
            n++;
            if (!p)
                return -1;
            if (*p == ',')
                p++;
        }
        if (*p != '}')
            return -1;
        p++;
    }
    char *end;
    double v = strtod(p, &end);
    if (end == p)
        return -1;
    for (size_t i = 0; i < n_extra; i++) {
        bool have = false;
        for (size_t j = 0; j < n && !have; j++)
            have = strcmp(se->labels[j].name, extra[2 * i]) == 0;
        if (have)
            continue;
        prometheus__label__init(&se->labels[n]);
        se->labels[n].name = (char *)extra[2 * i];
        se->labels[n++].value = (char *)extra[2 * i + 1];
    }
    for (size_t i = 0; i < n; i++)
        se->label_ptrs[i] = &se->labels[i];
    qsort(se->label_ptrs, n, sizeof *se->label_ptrs, label_cmp);
    prometheus__time_series__init(&se->ts);
    prometheus__sample__init(&se->sample);
    se->sample.value = v;
    se->samples[0] = &se->sample;
    se->ts.n_labels = n;
    se->ts.labels = se->label_ptrs;
    se->ts.n_samples = 1;
    se->ts.samples = se->samples;
    return 0;
}

int rwrite_encode(const char *page, size_t len, const char *const *labels, size_t n,
                  int64_t ts_ms, uint8_t **out, size_t *outlen, size_t *samples, char *err,
                  size_t errlen)
{
    int rc = -1;
    char *buf = malloc(len + 1);
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += page[i] == '\n';
    series_t *se = calloc(lines, sizeof *se);
    Prometheus__TimeSeries **tsp = calloc(lines, sizeof *tsp);
    uint8_t *pb = NULL;
    size_t ns = 0;
    *out = NULL;
    if (!buf || !se || !tsp) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    memcpy(buf, page, len);
    buf[len] = '\0';
    size_t lineno = 0;
    for (char *line = buf, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if (parse_line(line, &se[ns], labels, n) != 0) {
            snprintf(err, errlen, "metrics page line %zu: expected NAME{LABELS} VALUE", lineno);
            ns++; /* freed below */
            goto out;
        }
        se[ns].sample.timestamp = ts_ms;
        tsp[ns] = &se[ns].ts;
        ns++;
    }
    Prometheus__WriteRequest wr = PROMETHEUS__WRITE_REQUEST__INIT;
    wr.n_timeseries = ns;
    wr.timeseries = tsp;
    size_t pblen = prometheus__write_request__get_packed_size(&wr);
    pb = malloc(pblen ? pblen : 1);
    size_t zlen = snappy_max_compressed_length(pblen);
    *out = malloc(zlen);
    if (!pb || !*out) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    prometheus__write_request__pack(&wr, pb);
    if (snappy_compress((const char *)pb, pblen, (char *)*out, &zlen) != SNAPPY_OK) {
        snprintf(err, errlen, "snappy compression failed");
        goto out;
    }
    *outlen = zlen;
    *samples = ns;
    rc = 0;
out:
    if (rc != 0) {
        free(*out);
        *out = NULL;
    }
    for (size_t i = 0; se && i < ns; i++) {
        free(se[i].labels);
        free(se[i].label_ptrs);
    }
    free(pb);
    free(tsp);
    free(se);
    free(buf);
    return rc;
}

/* ---- sending */

static int write_all(int fd, const void *p, size_t len)
{
    const char *c = p;
    while (len > 0) {
        ssize_t k = send(fd, c, len, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        c += k;
        len -= (size_t)k;
    }
    return 0;
}

/* One POST; returns the HTTP status, or -1 with err (connection-level failure). */
static int post(rwrite_t *w, const uint8_t *body, size_t len, char *err, size_t errlen)
{
    char port[8];
    snprintf(port, sizeof port, "%u", w->url.port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai = NULL;
    int rc = getaddrinfo(w->url.host, port, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", w->url.host, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {IO_TIMEOUT_S, 0};
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        snprintf(err, errlen, "cannot connect to %s port %s: %s", w->url.host, port,
                 strerror(errno));
        freeaddrinfo(ai);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    freeaddrinfo(ai);
    char head[1024];
    int hl = snprintf(head, sizeof head,
                      "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: aiotest-replay/" AIOTEST_VERSION
                      "\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\n"
                      "X-Prometheus-Remote-Write-Version: 0.1.0\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n",
                      w->url.path, w->host_hdr, len);
    int status = -1;
    char resp[256];
    size_t got = 0;
    if (hl < 0 || (size_t)hl >= sizeof head || write_all(fd, head, (size_t)hl) != 0 ||
        write_all(fd, body, len) != 0) {
        snprintf(err, errlen, "cannot send to %s: %s", w->url_str, strerror(errno));
        goto out;
    }
    while (got < sizeof resp - 1 && !memchr(resp, '\n', got)) {
        ssize_t k = recv(fd, resp + got, sizeof resp - 1 - got, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    resp[got] = '\0';
    if (sscanf(resp, "HTTP/1.%*c %d", &status) != 1) {
        snprintf(err, errlen, "%s: no HTTP status in the answer", w->url_str);
        status = -1;
    } else if (status / 100 != 2) {
        /* The first line of the body names the cause (Prometheus: "out of order sample"). */
        char *body_start = strstr(resp, "\r\n\r\n");
        snprintf(err, errlen, "%s: HTTP %d%s%.80s", w->url_str, status, body_start ? ": " : "",
                 body_start ? body_start + 4 : "");
        char *nl = strchr(err, '\n');
        if (nl)
            *nl = '\0';
    }
out:
    close(fd);
    return status;
}

/* Waits on the condition until us from now or the stop deadline, whichever is first. */
static void wait_us(rwrite_t *w, uint64_t us)
{
    uint64_t until = clk_mono_us() + us;
    if (w->stopping && w->deadline_us < until)
        until = w->deadline_us;
    struct timespec ts = {(time_t)(until / 1000000), (long)(until % 1000000) * 1000};
    pthread_cond_timedwait(&w->wake, &w->lock, &ts);
}

static void *sender(void *arg)
{
    rwrite_t *w = arg;
    uint64_t backoff = BACKOFF_MIN_US;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->wake, &w->lock);
        if (!w->head || (w->stopping && clk_mono_us() >= w->deadline_us))
            break;
        batch_t *b = w->head;
        pthread_mutex_unlock(&w->lock);
        uint8_t *body = NULL;
        size_t len = 0, samples = 0;
        char err[512] = "";
        int status = rwrite_encode(b->page, b->len, (const char *const *)w->labels, w->n_labels,
                                   b->ts_ms, &body, &len, &samples, err, sizeof err) == 0
                         ? post(w, body, len, err, sizeof err)
                         : 400; /* unreadable page: sending it again would not help */
        free(body);
        pthread_mutex_lock(&w->lock);
        bool done = status / 100 == 2 || (status / 100 == 4 && status != 429);
        if (status / 100 == 2) {
            w->st.sent++;
            w->st.samples += samples;
        } else if (done) {
            w->st.rejected++;
        } else {
            w->st.retries++;
        }
        if (err[0])
            snprintf(w->st.last_error, sizeof w->st.last_error, "%s", err);
        if (done) {
            /* b may have been dropped by a full queue while unlocked */
            if (w->head == b) {
                w->head = b->next;
                if (!w->head)
                    w->tail = NULL;
                w->queued--;
                free(b->page);
                free(b);
            }
            backoff = BACKOFF_MIN_US;
        } else {
            wait_us(w, backoff);
            backoff = backoff * 2 > BACKOFF_MAX_US ? BACKOFF_MAX_US : backoff * 2;
        }
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

rwrite_t *rwrite_start(const char *url, const char *const *labels, size_t n, char *err,
                       size_t errlen)
{
    rwrite_t *w = calloc(1, sizeof *w);
    if (!w || !(w->url_str = strdup(url)) || !(w->labels = calloc(2 * n + 1, sizeof *w->labels))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (url_parse(w->url_str, &w->url, err, errlen) != 0)
        goto fail;
    if (w->url.tls) {
        snprintf(err, errlen, "https is not supported yet: give an http:// URL (e.g. through "
                              "a TLS-terminating proxy)");
        goto fail;
    }
    url_host_header(&w->url, w->host_hdr, sizeof w->host_hdr);
    for (size_t i = 0; i < 2 * n; i++)
        if (!(w->labels[i] = strdup(labels[i]))) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    w->n_labels = n;
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&w->thread, NULL, sender, w) != 0) {
        snprintf(err, errlen, "cannot start the remote write thread");
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        goto fail;
    }
    return w;
fail:
    if (w) {
        for (size_t i = 0; w->labels && i < 2 * n; i++)
            free(w->labels[i]);
        free(w->labels);
        free(w->url_str);
        free(w);
    }
    return NULL;
}

void rwrite_push(rwrite_t *w, char *page, size_t len, int64_t ts_ms)
{
    batch_t *b = malloc(sizeof *b);
    if (!b) {
        free(page);
        return;
    }
    /* Two pages within one millisecond (the last periodic one and the final
     * one) would be a duplicate sample with another value: refused (400). */
    if (ts_ms <= w->last_ts_ms)
        ts_ms = w->last_ts_ms + 1;
    w->last_ts_ms = ts_ms;
    *b = (batch_t){page, len, ts_ms, NULL};
    pthread_mutex_lock(&w->lock);
    if (w->queued >= QUEUE_MAX && w->head && w->head->next) {
        /* Keep the newest: counters are cumulative, so a later batch holds the
         * dropped one's counts. The head may be in flight: drop the one after it. */
        batch_t *d = w->head->next;
        w->head->next = d->next;
        if (w->tail == d)
            w->tail = w->head;
        w->queued--;
        w->st.dropped++;
        free(d->page);
        free(d);
    }
    if (w->tail)
        w->tail->next = b;
    else
        w->head = b;
    w->tail = b;
    w->queued++;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

void rwrite_stop(rwrite_t *w, uint64_t timeout_us, rwrite_stats_t *st)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    w->deadline_us = clk_mono_us() + timeout_us;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    for (batch_t *b = w->head, *next; b; b = next) {
        next = b->next;
        w->st.dropped++;
        free(b->page);
        free(b);
    }
    if (st)
        *st = w->st;
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    for (size_t i = 0; i < 2 * w->n_labels; i++)
        free(w->labels[i]);
    free(w->labels);
    free(w->url_str);
    free(w);
}

/* web: what a handler of the demo shop sees of a request, and the helpers that
 * build its response. Kept apart from server.c so the endpoint modules (shop,
 * assets, control) do not depend on how requests are dispatched or delayed. */
#ifndef TARGET_WEB_H
#define TARGET_WEB_H

#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>

struct app;

struct web_req {
    struct MHD_Connection *conn;
    const char *method; /* "GET", "POST", ...; HEAD is routed as GET */
    const char *path;   /* without the query string */
    const char *body;   /* request body, NUL-terminated (empty when none) */
    size_t body_len;
    struct app *app;
};

/* A handler fills *resp with a new response and returns its HTTP status. *resp
 * NULL (out of memory) makes the server close the connection. */
typedef unsigned (*web_handler)(const struct web_req *req, struct MHD_Response **resp);

/* Response builders: a new response the caller queues and destroys, or NULL
 * when out of memory. */

/* JSON body; takes the reference to v (NULL is accepted and gives NULL). */
struct MHD_Response *web_json(json_t *v);
/* --rename-field FROM=TO: every JSON answer's object keys FROM are written as TO
 * (at any depth), so a test can play a server whose answers changed shape. Set
 * once before serving; the strings must outlive the server. */
void web_set_rename(const char *from, const char *to);
/* {"error": msg} */
struct MHD_Response *web_error(const char *msg);
/* Bytes that outlive the response (static data), with this Content-Type. */
struct MHD_Response *web_static(const void *data, size_t len, const char *type);
/* Bytes malloc'd by the caller; the response frees them. Coded with this
 * thread's web_set_coding (Content-Encoding added) when one is set. web_json
 * and web_error build through it. */
struct MHD_Response *web_owned(char *data, size_t len, const char *type);

/* The content coding (compress_coding_t) of the dynamic bodies built on this
 * thread from now on: server.c sets it before a handler that answers a client
 * accepting it and clears it (COMPRESS_NONE) after, so handlers need not know.
 * libmicrohttpd runs a handler on one thread from start to end. */
void web_set_coding(int coding);

/* Request lookups; the strings belong to MHD and live as long as the request. */

/* A query argument, or NULL. */
const char *web_arg(const struct web_req *req, const char *name);
/* A header, or NULL. */
const char *web_header(const struct web_req *req, const char *name);
/* A cookie, or NULL. */
const char *web_cookie(const struct web_req *req, const char *name);
/* The token of "Authorization: Bearer <token>", or NULL. */
const char *web_bearer(const struct web_req *req);
/* Whether the Content-Type's media type is type (parameters ignored). */
int web_is_type(const struct web_req *req, const char *type);

/* Finds name=value in an application/x-www-form-urlencoded body and decodes the
 * value into out (size > 0). Returns 0, or -1 when absent or longer than out. */
int web_form_field(const char *body, size_t len, const char *name, char *out, size_t size);

/* Copies in into out (size > 0) as valid UTF-8, as JSON strings need: each byte
 * that does not start a valid sequence becomes '?', and a sequence that does not
 * fit is left out whole. Returns out. */
char *web_utf8_clean(const char *in, char *out, size_t size);

#endif

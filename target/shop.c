#include "shop.h"

#include "app.h"
#include "sessions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOWNLOAD_MAX (1ull << 30)
#define DOWNLOAD_BLOCK (64 * 1024)
#define QTY_MAX 1000

/* Sets *resp to an {"error"} response and returns status: the common exit. */
static unsigned fail(struct MHD_Response **resp, unsigned status, const char *msg)
{
    *resp = web_error(msg);
    if (*resp && status == MHD_HTTP_UNAUTHORIZED &&
        MHD_add_response_header(*resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer") != MHD_YES) {
        MHD_destroy_response(*resp);
        *resp = NULL;
    }
    return status;
}

/* Parses the body as a JSON object; NULL when it is not one. */
static json_t *body_object(const struct web_req *req)
{
    json_t *v = json_loadb(req->body, req->body_len, 0, NULL);
    if (v && !json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

static int add_cookie(struct MHD_Response *r, const char *sid)
{
    char cookie[SESSIONS_KEY_LEN + 64];
    if (sid)
        snprintf(cookie, sizeof(cookie), "session=%s; Path=/; HttpOnly", sid);
    else
        snprintf(cookie, sizeof(cookie), "session=; Path=/; HttpOnly; Max-Age=0");
    return MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie) == MHD_YES ? 0 : -1;
}

unsigned shop_login(const struct web_req *req, struct MHD_Response **resp)
{
    char token[SESSIONS_KEY_LEN + 1], sid[SESSIONS_KEY_LEN + 1];
    json_t *body = body_object(req);
    const char *user = json_string_value(json_object_get(body, "user"));
    const char *password = json_string_value(json_object_get(body, "password"));
    unsigned status = MHD_HTTP_BAD_REQUEST;

    if (!body)
        *resp = web_error("body must be a JSON object {\"user\", \"password\"}");
    else if (!user || !*user || !password)
        *resp = web_error("\"user\" (non-empty string) and \"password\" (string) are required");
    else if (sessions_login(req->app->sessions, user, token, sid) != SESSIONS_OK)
        *resp = web_error("\"user\" is too long");
    else {
        status = MHD_HTTP_OK;
        *resp = web_json(json_pack("{ssss}", "token", token, "user", user));
        if (*resp && add_cookie(*resp, sid) < 0) {
            MHD_destroy_response(*resp);
            *resp = NULL;
        }
    }
    json_decref(body);
    return status;
}

/* FNV-1a: the search results must depend on q alone, across runs. */
static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

unsigned shop_search(const struct web_req *req, struct MHD_Response **resp)
{
    char q[256], head[64];
    web_utf8_clean(web_arg(req, "q") ? web_arg(req, "q") : "", q, sizeof(q));
    web_utf8_clean(q, head, sizeof(head));
    uint64_t h = hash_str(q);
    unsigned n = *q ? (unsigned)(h % 5) + 1 : 0;
    json_t *results = json_array();
    for (unsigned i = 0; results && i < n; i++) {
        uint64_t k = h ^ (0x9e3779b97f4a7c15ull * (i + 1));
        char name[96];
        snprintf(name, sizeof(name), "%s #%u", head, i + 1);
        json_array_append_new(results, json_pack("{sIsssI}", "id", (json_int_t)(k % 10000 + 1),
                                                 "name", name, "price_cents",
                                                 (json_int_t)(k / 10000 % 10000 + 99)));
    }
    *resp = web_json(json_pack("{sssIso}", "q", q, "count", (json_int_t)n, "results", results));
    return MHD_HTTP_OK;
}

unsigned shop_profile(const struct web_req *req, struct MHD_Response **resp)
{
    struct sessions_view v;
    if (sessions_by_token(req->app->sessions, web_bearer(req), &v) != SESSIONS_OK)
        return fail(resp, MHD_HTTP_UNAUTHORIZED, "a valid \"Authorization: Bearer <token>\" is required");
    char email[SESSIONS_USER_MAX + 16];
    snprintf(email, sizeof(email), "%s@example.com", v.user);
    *resp = web_json(json_pack("{sssssI}", "user", v.user, "email", email, "cart_items",
                               (json_int_t)v.n_lines));
    return MHD_HTTP_OK;
}

static json_t *cart_json(const struct sessions_view *v)
{
    json_t *items = json_array();
    json_int_t count = 0;
    for (unsigned i = 0; items && i < v->n_lines; i++) {
        json_array_append_new(items, json_pack("{sIsI}", "item", (json_int_t)v->lines[i].item,
                                               "qty", (json_int_t)v->lines[i].qty));
        count += v->lines[i].qty;
    }
    return json_pack("{sosI}", "items", items, "count", count);
}

unsigned shop_cart(const struct web_req *req, struct MHD_Response **resp)
{
    struct sessions_view v;
    const char *sid = web_cookie(req, "session");
    json_t *body = NULL;
    unsigned status;

    /* An unknown session is refused before the body is looked at. */
    if (sessions_by_sid(req->app->sessions, sid, &v) != SESSIONS_OK)
        return fail(resp, MHD_HTTP_UNAUTHORIZED, "the session cookie of a login is required");
    body = body_object(req);
    json_t *item = json_object_get(body, "item"), *qty = json_object_get(body, "qty");
    json_int_t i = json_integer_value(item), q = qty ? json_integer_value(qty) : 1;
    if (!json_is_integer(item) || i < 0 || i > UINT32_MAX || (qty && !json_is_integer(qty)) ||
        q < 1 || q > QTY_MAX) {
        status = fail(resp, MHD_HTTP_BAD_REQUEST,
                      "body must be {\"item\": id >= 0, \"qty\": 1-1000}");
        goto out;
    }
    switch (sessions_cart_add(req->app->sessions, sid, (uint32_t)i, (uint32_t)q, &v)) {
    case SESSIONS_OK:
        status = MHD_HTTP_OK;
        *resp = web_json(cart_json(&v));
        break;
    case SESSIONS_EFULL:
        status = fail(resp, MHD_HTTP_CONFLICT, "the cart is full");
        break;
    default:
        status = fail(resp, MHD_HTTP_UNAUTHORIZED, "the session cookie of a login is required");
        break;
    }
out:
    json_decref(body);
    return status;
}

unsigned shop_checkout(const struct web_req *req, struct MHD_Response **resp)
{
    static const char page[] =
        "<!DOCTYPE html>\n"
        "<html lang=\"en\">\n"
        "<head><meta charset=\"utf-8\"><title>checkout</title>"
        "<link rel=\"stylesheet\" href=\"/static/style.css\"></head>\n"
        "<body>\n"
        "<h1>checkout</h1>\n"
        "<form method=\"post\" action=\"/api/order\">\n"
        "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n"
        "<button type=\"submit\">place order</button>\n"
        "</form>\n"
        "</body>\n"
        "</html>\n";
    char csrf[SESSIONS_KEY_LEN + 1];
    if (sessions_checkout(req->app->sessions, web_cookie(req, "session"), csrf) != SESSIONS_OK)
        return fail(resp, MHD_HTTP_UNAUTHORIZED, "the session cookie of a login is required");
    char *html = NULL;
    int len = asprintf(&html, page, csrf);
    *resp = len < 0 ? NULL : web_owned(html, (size_t)len, "text/html; charset=utf-8");
    return MHD_HTTP_OK;
}

/* The CSRF value of an order: the X-CSRF-Token header, else the csrf field of a
 * form or JSON body. Copied into out; "" when absent. */
static void order_csrf(const struct web_req *req, char *out, size_t size)
{
    const char *h = web_header(req, "X-CSRF-Token");
    out[0] = '\0';
    if (h) {
        snprintf(out, size, "%s", h);
    } else if (web_is_type(req, "application/x-www-form-urlencoded")) {
        if (web_form_field(req->body, req->body_len, "csrf", out, size) < 0)
            out[0] = '\0';
    } else {
        json_t *body = body_object(req);
        const char *v = json_string_value(json_object_get(body, "csrf"));
        if (v)
            snprintf(out, size, "%s", v);
        json_decref(body);
    }
}

unsigned shop_order(const struct web_req *req, struct MHD_Response **resp)
{
    char csrf[SESSIONS_KEY_LEN + 2]; /* one more: a longer value must not fit and match */
    uint64_t id;
    order_csrf(req, csrf, sizeof(csrf));
    switch (sessions_order(req->app->sessions, web_cookie(req, "session"), csrf, &id)) {
    case SESSIONS_OK:
        *resp = web_json(json_pack("{sI}", "order", (json_int_t)id));
        return MHD_HTTP_OK;
    case SESSIONS_ECSRF:
        return fail(resp, MHD_HTTP_FORBIDDEN, "csrf must be the value of this session's latest checkout");
    default:
        return fail(resp, MHD_HTTP_FORBIDDEN, "the session cookie of a login is required");
    }
}

/* The id of /api/item/<id>: 1 to 9 digits; -1 otherwise. */
static long item_id(const char *path)
{
    const char *s = path + strlen("/api/item/");
    size_t n = strspn(s, "0123456789");
    if (n == 0 || n > 9 || s[n])
        return -1;
    return strtol(s, NULL, 10);
}

unsigned shop_item(const struct web_req *req, struct MHD_Response **resp)
{
    long id = item_id(req->path);
    if (id < 0)
        return fail(resp, MHD_HTTP_NOT_FOUND, "no such item: the id must be a number");
    /* Formatted directly rather than through jansson: load tests hit this one. */
    uint64_t h = (uint64_t)id * 0x9e3779b97f4a7c15ull;
    char *json = NULL;
    int len = asprintf(&json, "{\"id\":%ld,\"name\":\"Item %ld\",\"price_cents\":%u,\"stock\":%u}",
                       id, id, (unsigned)((h >> 40) % 10000 + 99), (unsigned)((h >> 20) % 100));
    *resp = len < 0 ? NULL : web_owned(json, (size_t)len, "application/json");
    return MHD_HTTP_OK;
}

unsigned shop_logout(const struct web_req *req, struct MHD_Response **resp)
{
    if (sessions_logout(req->app->sessions, web_bearer(req), web_cookie(req, "session")) !=
        SESSIONS_OK)
        return fail(resp, MHD_HTTP_UNAUTHORIZED, "a valid token or session cookie is required");
    *resp = web_json(json_pack("{sb}", "ok", 1));
    if (*resp && add_cookie(*resp, NULL) < 0) {
        MHD_destroy_response(*resp);
        *resp = NULL;
    }
    return MHD_HTTP_OK;
}

/* The body of /download: its content does not matter, only that it is made on
 * demand, block by block, so a 1 GiB answer costs no memory. */
static ssize_t download_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    (void)pos;
    memset(buf, 'x', max);
    return (ssize_t)max;
}

unsigned shop_download(const struct web_req *req, struct MHD_Response **resp)
{
    const char *arg = web_arg(req, "bytes");
    char *end;
    errno = 0;
    unsigned long long n = arg && *arg >= '0' && *arg <= '9' ? strtoull(arg, &end, 10) : 0;
    if (!arg || *arg < '0' || *arg > '9' || errno || *end || n > DOWNLOAD_MAX)
        return fail(resp, MHD_HTTP_BAD_REQUEST, "bytes must be a number from 0 to 1073741824");
    *resp = MHD_create_response_from_callback(n, DOWNLOAD_BLOCK, download_read, NULL, NULL);
    if (*resp && MHD_add_response_header(*resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                         "application/octet-stream") != MHD_YES) {
        MHD_destroy_response(*resp);
        *resp = NULL;
    }
    return MHD_HTTP_OK;
}

unsigned shop_redirect(const struct web_req *req, struct MHD_Response **resp)
{
    const char *to = web_arg(req, "to"), *form = web_arg(req, "form"), *st = web_arg(req, "status");
    if (!form)
        form = "abs";
    unsigned status = st ? (unsigned)atoi(st) : MHD_HTTP_FOUND;
    if (!to || to[0] != '/' || to[1] == '/' || strlen(to) > 1024 || strpbrk(to, "\r\n"))
        return fail(resp, MHD_HTTP_BAD_REQUEST, "to must be a path on this server (/...)");
    if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308)
        return fail(resp, MHD_HTTP_BAD_REQUEST, "status must be 301, 302, 303, 307 or 308");
    char loc[1400];
    if (strcmp(form, "abs") == 0) {
        const char *host = web_header(req, MHD_HTTP_HEADER_HOST);
        const union MHD_ConnectionInfo *tls =
            MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_PROTOCOL);
        if (!host || strlen(host) > 300 || strpbrk(host, "/\r\n"))
            return fail(resp, MHD_HTTP_BAD_REQUEST, "an absolute redirect needs a Host header");
        snprintf(loc, sizeof loc, "%s://%s%s", tls ? "https" : "http", host, to);
    } else if (strcmp(form, "root") == 0) {
        snprintf(loc, sizeof loc, "%s", to);
    } else if (strcmp(form, "rel") == 0) {
        /* One "../" per directory of the request path below the root. */
        size_t n = 0, off = 0;
        for (const char *p = req->path + 1; *p; p++)
            n += *p == '/';
        loc[0] = '\0';
        for (size_t i = 0; i < n && off + 3 < sizeof loc; i++)
            off += (size_t)snprintf(loc + off, sizeof loc - off, "../");
        snprintf(loc + off, sizeof loc - off, "%s", to + 1);
    } else {
        return fail(resp, MHD_HTTP_BAD_REQUEST, "form must be abs, root or rel");
    }
    *resp = web_json(json_pack("{ss}", "location", loc));
    if (*resp && MHD_add_response_header(*resp, MHD_HTTP_HEADER_LOCATION, loc) != MHD_YES) {
        MHD_destroy_response(*resp);
        *resp = NULL;
    }
    return status;
}

/* cscript: the capture's exchange(ex) hook (see cscript.h). */
#include "cscript.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "luart.h"

#ifndef AIOTEST_HAVE_LUA

cscr_t *cscr_new(const char *path, char *err, size_t errlen)
{
    snprintf(err, errlen, "--script %s: this build has no Lua (built with -Dlua=none, or neither "
             "LuaJIT nor Lua 5.4 was found)", path);
    return NULL;
}
void cscr_free(cscr_t *s) { (void)s; }
cscr_verdict_t cscr_exchange(cscr_t *s, rec_exchange_t *x)
{
    (void)s, (void)x;
    return CSCR_ERROR;
}
void cscr_get_stats(const cscr_t *s, cscr_stats_t *st)
{
    (void)s;
    *st = (cscr_stats_t){0};
}

#else

#include <lauxlib.h>
#include <lua.h>

#if LUA_VERSION_NUM < 502
#define lua_rawlen lua_objlen
#endif

/* lrt_say_once kind of this hook (replay's hooks use 0..5). */
#define SAY_EXCHANGE 16

struct cscr {
    lua_State *L;
    int fn;           /* registry ref of exchange */
    cscr_stats_t st;
};

cscr_t *cscr_new(const char *path, char *err, size_t errlen)
{
    cscr_t *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "--script %s: out of memory", path);
        return NULL;
    }
    if (!(s->L = lrt_new(err, errlen)) || lrt_load(s->L, path, err, errlen) != 0) {
        cscr_free(s);
        return NULL;
    }
    lua_getglobal(s->L, "exchange");
    if (!lua_isfunction(s->L, -1)) {
        snprintf(err, errlen, "--script %s: defines no function exchange(ex)", path);
        cscr_free(s);
        return NULL;
    }
    s->fn = luaL_ref(s->L, LUA_REGISTRYINDEX);
    return s;
}

void cscr_free(cscr_t *s)
{
    if (!s)
        return;
    if (s->L)
        lua_close(s->L);
    free(s);
}

void cscr_get_stats(const cscr_t *s, cscr_stats_t *st) { *st = s->st; }

/* ---- exchange -> Lua */

static void set_str(lua_State *L, const char *k, const char *v)
{
    if (!v)
        return;
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

static void set_num(lua_State *L, const char *k, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

static void set_bool(lua_State *L, const char *k, bool v)
{
    lua_pushboolean(L, v);
    lua_setfield(L, -2, k);
}

static void push_headers(lua_State *L, const rec_headers_t *h)
{
    lua_createtable(L, (int)h->n, 0);
    for (size_t i = 0; i < h->n; i++) {
        lua_createtable(L, 2, 0);
        lua_pushstring(L, h->v[i].name);
        lua_rawseti(L, -2, 1);
        lua_pushstring(L, h->v[i].value);
        lua_rawseti(L, -2, 2);
        lua_rawseti(L, -2, (int)i + 1);
    }
}

static void push_side(lua_State *L, const rec_headers_t *h, const uint8_t *body, size_t len,
                      bool truncated)
{
    lua_createtable(L, 0, 4);
    push_headers(L, h);
    lua_setfield(L, -2, "headers");
    lua_pushlstring(L, body ? (const char *)body : "", body ? len : 0);
    lua_setfield(L, -2, "body");
    set_bool(L, "truncated", truncated);
}

static void push_exchange(lua_State *L, const rec_exchange_t *x)
{
    lua_createtable(L, 0, 20);
    set_str(L, "client", x->client);
    set_num(L, "conn_id", (double)x->conn_id);
    set_num(L, "stream_id", x->stream_id);
    set_num(L, "t_start_us", (double)x->t_start_us);
    set_num(L, "t_first_byte_us", (double)x->t_first_byte_us);
    set_num(L, "t_end_us", (double)x->t_end_us);
    set_str(L, "scheme", x->scheme);
    set_str(L, "authority", x->authority);
    set_str(L, "method", x->method);
    set_str(L, "target", x->target);
    set_str(L, "http_version", x->http_version);
    set_num(L, "status", x->status);
    set_str(L, "error", x->error);
    set_bool(L, "tls", x->flags & REC_F_TLS);
    set_bool(L, "h2", x->flags & REC_F_H2);
    set_bool(L, "incomplete", x->flags & REC_F_INCOMPLETE);
    set_bool(L, "tunnel", x->flags & REC_F_TUNNEL);
    push_side(L, &x->req_headers, x->req_body, x->req_body_len, x->req_truncated);
    lua_setfield(L, -2, "request");
    push_side(L, &x->resp_headers, x->resp_body, x->resp_body_len, x->resp_truncated);
    push_headers(L, &x->resp_trailers);
    lua_setfield(L, -2, "trailers");
    lua_setfield(L, -2, "response");
}

/* ---- Lua -> exchange: the fields the hook may change, into nx (owned
 * copies); NULL, or what is wrong. */

static const char *get_str(lua_State *L, int t, const char *k, char **out)
{
    lua_getfield(L, t, k);
    const char *why = NULL;
    if (lua_type(L, -1) != LUA_TSTRING) {
        why = k;
    } else {
        size_t n;
        const char *v = lua_tolstring(L, -1, &n);
        if (strlen(v) != n)
            why = k; /* a NUL inside: not writable as a string */
        else if (!(*out = strdup(v)))
            why = "out of memory";
    }
    lua_pop(L, 1);
    return why;
}

static const char *get_headers(lua_State *L, int t, const char *k, rec_headers_t *out)
{
    lua_getfield(L, t, k);
    const char *why = NULL;
    if (!lua_istable(L, -1)) {
        why = k;
        goto out;
    }
    size_t n = lua_rawlen(L, -1);
    for (size_t i = 1; i <= n && !why; i++) {
        lua_rawgeti(L, -1, (int)i);
        const char *name = NULL, *value = NULL;
        if (lua_istable(L, -1)) {
            lua_rawgeti(L, -1, 1);
            lua_rawgeti(L, -2, 2);
            name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
            value = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
            if (!name || !value)
                why = k;
            else if (rec_headers_add(out, name, value) != 0)
                why = "out of memory";
            lua_pop(L, 2);
        } else {
            why = k;
        }
        lua_pop(L, 1);
    }
out:
    lua_pop(L, 1);
    return why;
}

static const char *get_body(lua_State *L, int t, uint8_t **out, size_t *len)
{
    lua_getfield(L, t, "body");
    const char *why = NULL;
    size_t n = 0;
    const char *p = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
    if (!p && !lua_isnil(L, -1))
        why = "body";
    else if (p && n && !(*out = malloc(n)))
        why = "out of memory";
    else if (p && n)
        memcpy(*out, p, n);
    *len = *out ? n : 0;
    lua_pop(L, 1);
    return why;
}

static void side_fini(rec_headers_t *h, uint8_t **body)
{
    rec_headers_fini(h);
    free(*body);
    *body = NULL;
}

/* Reads ex (at idx) into nx, a copy of x whose changeable fields are new. */
static const char *read_back(lua_State *L, int ex, const rec_exchange_t *x, rec_exchange_t *nx)
{
    *nx = *x;
    nx->client = nx->scheme = nx->authority = nx->method = nx->target = nx->http_version = NULL;
    nx->req_headers = nx->resp_headers = nx->resp_trailers = (rec_headers_t){0};
    nx->req_body = nx->resp_body = NULL;
    nx->req_body_len = nx->resp_body_len = 0;
    const char *why = NULL;
    if (!why) why = get_str(L, ex, "client", &nx->client);
    if (!why) why = get_str(L, ex, "scheme", &nx->scheme);
    if (!why) why = get_str(L, ex, "authority", &nx->authority);
    if (!why) why = get_str(L, ex, "method", &nx->method);
    if (!why) why = get_str(L, ex, "target", &nx->target);
    if (!why) why = get_str(L, ex, "http_version", &nx->http_version);
    if (!why) {
        lua_getfield(L, ex, "status");
        if (lua_type(L, -1) != LUA_TNUMBER)
            why = "status";
        else
            nx->status = (int)lua_tointeger(L, -1);
        lua_pop(L, 1);
    }
    for (int side = 0; side < 2 && !why; side++) {
        lua_getfield(L, ex, side ? "response" : "request");
        int t = lua_gettop(L);
        if (!lua_istable(L, t))
            why = side ? "response" : "request";
        else if (side == 0) {
            why = get_headers(L, t, "headers", &nx->req_headers);
            if (!why)
                why = get_body(L, t, &nx->req_body, &nx->req_body_len);
        } else {
            why = get_headers(L, t, "headers", &nx->resp_headers);
            if (!why)
                why = get_headers(L, t, "trailers", &nx->resp_trailers);
            if (!why)
                why = get_body(L, t, &nx->resp_body, &nx->resp_body_len);
        }
        lua_pop(L, 1);
    }
    return why;
}

/* Frees what read_back allocated in nx. */
static void nx_fini(rec_exchange_t *nx)
{
    free(nx->client);
    free(nx->scheme);
    free(nx->authority);
    free(nx->method);
    free(nx->target);
    free(nx->http_version);
    side_fini(&nx->req_headers, &nx->req_body);
    side_fini(&nx->resp_headers, &nx->resp_body);
    rec_headers_fini(&nx->resp_trailers);
}

cscr_verdict_t cscr_exchange(cscr_t *s, rec_exchange_t *x)
{
    lua_State *L = s->L;
    int top = lua_gettop(L);
    s->st.seen++;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->fn);
    push_exchange(L, x);
    lua_pushvalue(L, -1);
    lua_insert(L, top + 1); /* ex, kept under the call */
    lrt_limit(L);
    cscr_verdict_t v = CSCR_KEEP;
    char msg[1024];
    if (lrt_call(L, 1, 1) != 0) {
        snprintf(msg, sizeof msg, "%.1000s", lua_tostring(L, -1));
        v = CSCR_ERROR;
    } else if (lua_isboolean(L, -1) && !lua_toboolean(L, -1)) {
        v = CSCR_DROP;
    } else {
        rec_exchange_t nx;
        const char *why = read_back(L, top + 1, x, &nx);
        mp_error_t e;
        if (why) {
            snprintf(msg, sizeof msg, "exchange %.40s %.300s: ex.%s must be %s", x->method, x->target, why,
                     strcmp(why, "out of memory") == 0 ? "allocated"
                     : strstr(why, "headers") || strcmp(why, "trailers") == 0
                         ? "an array of {name, value} strings"
                         : strcmp(why, "status") == 0 ? "a number" : "a string without NUL");
            nx_fini(&nx);
            v = CSCR_ERROR;
        } else if (rec_exchange_validate(&nx, &e) != 0) {
            snprintf(msg, sizeof msg, "exchange %.40s %.300s: after the hook: %.512s", x->method, x->target, e.msg);
            nx_fini(&nx);
            v = CSCR_ERROR;
        } else {
            /* The old values of the fields the hook could change go; the rest
             * (ws, error, flags, times) was copied as it is. */
            rec_exchange_t old = *x;
            *x = nx;
            nx_fini(&old);
        }
    }
    lua_settop(L, top);
    if (v == CSCR_DROP)
        s->st.dropped++;
    if (v == CSCR_ERROR) {
        s->st.errors++;
        lrt_say_once(SAY_EXCHANGE, "exchange (not written)", msg);
    }
    return v;
}

#endif

/* cvscript: the converter's request(req, ctx) hook (see cvscript.h). */
#include "cvscript.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "luart.h"

#ifndef AIOTEST_HAVE_LUA

cvscr_t *cvscr_new(const char *path, char *err, size_t errlen)
{
    snprintf(err, errlen, "--script %s: this build has no Lua (built with -Dlua=none, or neither "
             "LuaJIT nor Lua 5.4 was found)", path);
    return NULL;
}
void cvscr_free(cvscr_t *c) { (void)c; }
int cvscr_apply(cvscr_t *c, scn_scenario_t *s, cvscr_stats_t *st, char *err, size_t errlen)
{
    (void)c, (void)s, (void)st;
    snprintf(err, errlen, "this build has no Lua");
    return -1;
}

#else

#include <lauxlib.h>
#include <lua.h>

#if LUA_VERSION_NUM < 502
#define lua_rawlen lua_objlen
#endif

struct cvscr {
    lua_State *L;
    int fn;
};

cvscr_t *cvscr_new(const char *path, char *err, size_t errlen)
{
    cvscr_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "--script %s: out of memory", path);
        return NULL;
    }
    if (!(c->L = lrt_new(err, errlen)) || lrt_load(c->L, path, err, errlen) != 0) {
        cvscr_free(c);
        return NULL;
    }
    lua_getglobal(c->L, "request");
    if (!lua_isfunction(c->L, -1)) {
        snprintf(err, errlen, "--script %s: defines no function request(req, ctx)", path);
        cvscr_free(c);
        return NULL;
    }
    c->fn = luaL_ref(c->L, LUA_REGISTRYINDEX);
    return c;
}

void cvscr_free(cvscr_t *c)
{
    if (!c)
        return;
    if (c->L)
        lua_close(c->L);
    free(c);
}

static void push_request(lua_State *L, const scn_request_t *r)
{
    lua_createtable(L, 0, 6);
    lua_pushstring(L, r->name ? r->name : "");
    lua_setfield(L, -2, "name");
    lua_pushstring(L, r->method);
    lua_setfield(L, -2, "method");
    lua_pushstring(L, r->url);
    lua_setfield(L, -2, "url");
    lua_createtable(L, (int)r->n_headers, 0);
    for (size_t i = 0; i < r->n_headers; i++) {
        lua_createtable(L, 2, 0);
        lua_pushstring(L, r->headers[i].name);
        lua_rawseti(L, -2, 1);
        lua_pushstring(L, r->headers[i].value);
        lua_rawseti(L, -2, 2);
        lua_rawseti(L, -2, (int)i + 1);
    }
    lua_setfield(L, -2, "headers");
    if (r->body) {
        lua_pushlstring(L, (const char *)r->body, r->body_len);
        lua_setfield(L, -2, "body");
    }
    lua_pushboolean(L, r->follow_redirects);
    lua_setfield(L, -2, "follow_redirects");
    lua_pushinteger(L, (lua_Integer)r->n_extractors);
    lua_setfield(L, -2, "extractors");
}

/* A string field without NUL, copied; NULL (why set) otherwise. */
static char *str_field(lua_State *L, int t, const char *k, const char **why)
{
    lua_getfield(L, t, k);
    size_t n;
    const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
    char *out = v && strlen(v) == n ? strdup(v) : NULL;
    lua_pop(L, 1);
    if (!out)
        *why = k;
    return out;
}

/* Reads req (at t) into r, replacing the fields the hook may change. NULL,
 * or the field that is wrong. */
static const char *read_back(lua_State *L, int t, scn_request_t *r)
{
    const char *why = NULL;
    char *name = str_field(L, t, "name", &why), *method = str_field(L, t, "method", &why),
         *url = str_field(L, t, "url", &why);
    scn_kv_t *h = NULL;
    size_t nh = 0;
    uint8_t *body = NULL;
    size_t blen = 0;
    bool has_body = false;
    lua_getfield(L, t, "headers");
    if (!why && lua_istable(L, -1)) {
        size_t n = lua_rawlen(L, -1);
        h = calloc(n ? n : 1, sizeof *h);
        if (!h)
            why = "headers";
        for (size_t i = 1; i <= n && !why; i++) {
            lua_rawgeti(L, -1, (int)i);
            if (lua_istable(L, -1)) {
                lua_rawgeti(L, -1, 1);
                lua_rawgeti(L, -2, 2);
                if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
                    h[nh].name = strdup(lua_tostring(L, -2));
                    h[nh].value = strdup(lua_tostring(L, -1));
                    if (!h[nh].name || !h[nh].value)
                        why = "headers";
                    nh++;
                } else {
                    why = "headers";
                }
                lua_pop(L, 2);
            } else {
                why = "headers";
            }
            lua_pop(L, 1);
        }
    } else if (!why) {
        why = "headers";
    }
    lua_pop(L, 1);
    lua_getfield(L, t, "body");
    if (!why && lua_type(L, -1) == LUA_TSTRING) {
        const char *p = lua_tolstring(L, -1, &blen);
        has_body = true;
        if (blen && !(body = malloc(blen)))
            why = "body";
        else if (blen)
            memcpy(body, p, blen);
    } else if (!why && !lua_isnil(L, -1)) {
        why = "body";
    }
    lua_pop(L, 1);
    lua_getfield(L, t, "follow_redirects");
    bool follow = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (why) {
        free(name);
        free(method);
        free(url);
        for (size_t i = 0; i < nh; i++) {
            free(h[i].name);
            free(h[i].value);
        }
        free(h);
        free(body);
        return why;
    }
    free(r->name);
    free(r->method);
    free(r->url);
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    free(r->body);
    r->name = name;
    r->method = method;
    r->url = url;
    r->headers = h;
    r->n_headers = nh;
    r->body = has_body && !body ? (uint8_t *)strdup("") : body; /* an empty body stays a body */
    r->body_len = blen;
    r->follow_redirects = follow;
    return NULL;
}

/* Runs the hook on the requests of one step list; drops what it says. */
static int apply_steps(cvscr_t *c, const scn_class_t *cls, const char *phase, scn_steps_t *steps,
                       cvscr_stats_t *st, char *err, size_t errlen)
{
    lua_State *L = c->L;
    for (size_t i = 0; i < steps->n; i++) {
        scn_step_t *step = &steps->v[i];
        for (size_t j = 0; j < step->n_requests; j++) {
            scn_request_t *r = &step->requests[j];
            int top = lua_gettop(L);
            st->seen++;
            lua_rawgeti(L, LUA_REGISTRYINDEX, c->fn);
            push_request(L, r);
            lua_pushvalue(L, -1);
            lua_insert(L, top + 1);
            lua_createtable(L, 0, 5);
            lua_pushstring(L, cls->name);
            lua_setfield(L, -2, "class");
            lua_pushstring(L, phase);
            lua_setfield(L, -2, "phase");
            lua_pushinteger(L, (lua_Integer)i + 1);
            lua_setfield(L, -2, "step");
            lua_pushinteger(L, (lua_Integer)j + 1);
            lua_setfield(L, -2, "index");
            lua_pushboolean(L, step->parallel);
            lua_setfield(L, -2, "parallel");
            lrt_limit(L);
            const char *why = NULL;
            bool drop = false;
            if (lrt_call(L, 2, 1) != 0)
                why = lua_tostring(L, -1);
            else if (lua_isboolean(L, -1) && !lua_toboolean(L, -1))
                drop = true;
            else if ((why = read_back(L, top + 1, r)) != NULL) {
                snprintf(err, errlen, "class '%s' %s step %zu request %zu (%s %s): req.%s must be %s",
                         cls->name, phase, i + 1, j + 1, r->method, r->url, why,
                         strcmp(why, "headers") == 0 ? "an array of {name, value} strings"
                         : strcmp(why, "body") == 0 ? "a string or nil" : "a string without NUL");
                lua_settop(L, top);
                return -1;
            }
            if (why) {
                snprintf(err, errlen, "class '%s' %s step %zu request %zu (%s %s): %s", cls->name,
                         phase, i + 1, j + 1, r->method, r->url, why);
                lua_settop(L, top);
                return -1;
            }
            lua_settop(L, top);
            if (drop) {
                scn_request_fini(r);
                memmove(r, r + 1, (step->n_requests - j - 1) * sizeof *r);
                step->n_requests--;
                j--;
                st->dropped++;
            }
        }
        if (step->n_requests == 0 && !step->lua) {
            scn_step_fini(step);
            memmove(step, step + 1, (steps->n - i - 1) * sizeof *step);
            steps->n--;
            i--;
            st->steps_dropped++;
        }
    }
    return 0;
}

int cvscr_apply(cvscr_t *c, scn_scenario_t *s, cvscr_stats_t *st, char *err, size_t errlen)
{
    *st = (cvscr_stats_t){0};
    for (size_t k = 0; k < s->n_classes; k++) {
        scn_class_t *cls = &s->classes[k];
        if (apply_steps(c, cls, "on_start", &cls->on_start, st, err, errlen) != 0 ||
            apply_steps(c, cls, "tasks", &cls->tasks, st, err, errlen) != 0 ||
            apply_steps(c, cls, "on_stop", &cls->on_stop, st, err, errlen) != 0)
            return -1;
    }
    mp_error_t e;
    if (scn_validate(s, &e) != 0) {
        snprintf(err, errlen, "the scenario after the hook: %s", e.msg);
        return -1;
    }
    return 0;
}

#endif

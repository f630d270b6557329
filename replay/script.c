/* script: Lua hooks (see script.h). */
#include "script.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "luart.h"

char *scr_path(const char *cli, const char *scenario_file, const char *field, bool *oom)
{
    *oom = false;
    if (!cli && !field)
        return NULL;
    char *p = NULL;
    if (cli || field[0] == '/') {
        p = strdup(cli ? cli : field);
    } else {
        const char *slash = strrchr(scenario_file, '/');
        int dl = slash ? (int)(slash - scenario_file) : 1;
        if (asprintf(&p, "%.*s/%s", dl, slash ? scenario_file : ".", field) < 0)
            p = NULL;
    }
    *oom = p == NULL;
    return p;
}

#ifndef AIOTEST_HAVE_LUA

bool scr_available(const char **name)
{
    if (name)
        *name = NULL;
    return false;
}
scr_t *scr_new(const char *path, smet_t *metrics, unsigned writer, char *err, size_t errlen)
{
    (void)metrics, (void)writer;
    snprintf(err, errlen, "--script %s: this build has no Lua (built with -Dlua=none, or "
             "neither LuaJIT nor Lua 5.4 was found)", path);
    return NULL;
}
void scr_free(scr_t *s) { (void)s; }
scr_t *scr_open(const char *path, int thread, unsigned threads, smet_t *metrics, char *err,
                size_t errlen)
{
    (void)thread, (void)threads;
    return scr_new(path, metrics, 0, err, errlen);
}
bool scr_has(const scr_t *s, scr_hook_t h) { (void)s, (void)h; return false; }
int scr_setup(scr_t *s, int thread, unsigned threads, char *err, size_t errlen)
{
    (void)s, (void)thread, (void)threads, (void)err, (void)errlen;
    return 0;
}
void scr_user_start(scr_t *s, const scr_user_t *u) { (void)s, (void)u; }
void scr_user_stop(scr_t *s, const scr_user_t *u) { (void)s, (void)u; }
void scr_user_free(scr_t *s, const scr_user_t *u) { (void)s, (void)u; }
size_t scr_memory(const scr_t *s) { (void)s; return 0; }
size_t scr_user_memory(scr_t *s, const void *key) { (void)s, (void)key; return 0; }
uint64_t scr_errors(const scr_t *s) { (void)s; return 0; }
int scr_request(scr_t *s, const scr_user_t *u, const char *name, scr_req_t *rv)
{
    (void)s, (void)u, (void)name, (void)rv;
    return 0;
}
stats_fail_t scr_response(scr_t *s, const scr_user_t *u, const char *name, const char *method,
                          const char *url, const resp_view_t *resp, stats_fail_t fail)
{
    (void)s, (void)u, (void)name, (void)method, (void)url, (void)resp;
    return fail;
}
int scr_done(scr_t *s, stats_t *total, const stats_names_t *names, double duration_s, int rc)
{
    (void)s, (void)total, (void)names, (void)duration_s;
    return rc;
}
void scr_step_begin(scr_t *s, const scr_user_t *u, const char *fn, scr_step_t *out)
{
    (void)s, (void)u, (void)fn;
    *out = (scr_step_t){.kind = SCR_STEP_ERROR, .error = "this build has no Lua"};
}
void scr_step_resume(scr_t *s, const scr_user_t *u, const resp_view_t *resp, stats_fail_t fail,
                     scr_step_t *out)
{
    (void)s, (void)u, (void)resp, (void)fail;
    *out = (scr_step_t){.kind = SCR_STEP_ERROR, .error = "this build has no Lua"};
}
int scr_step_fill(scr_t *s, const scr_user_t *u, int idx, scr_req_t *rv)
{
    (void)s, (void)u, (void)idx, (void)rv;
    return -STATS_FAIL_SCRIPT;
}
const char *scr_step_url(scr_t *s, const scr_user_t *u, size_t i)
{
    (void)s, (void)u, (void)i;
    return NULL;
}
void scr_step_result(scr_t *s, const scr_user_t *u, size_t i, const resp_view_t *resp,
                     stats_fail_t fail)
{
    (void)s, (void)u, (void)i, (void)resp, (void)fail;
}
void scr_step_abort(scr_t *s, const scr_user_t *u) { (void)s, (void)u; }
const char *scr_why(const scr_t *s) { (void)s; return NULL; }

#else

#include <jansson.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "hist.h"

#if LUA_VERSION_NUM < 502
#define lua_rawlen lua_objlen
#endif

static const char *const hook_names[SCR__COUNT] = {
    "setup", "done", "on_start", "on_stop", "request", "response",
};

/* The field names of req (set_k, get_k below). */
enum key { K_NAME = 0, K_METHOD, K_URL, K_BODY, K_HEADERS };
static const char *const key_names[] = {"name", "method", "url", "body", "headers"};

struct scr {
    lua_State *L;
    char *path;
    int ref[SCR__COUNT];          /* the hook functions (LUA_NOREF: not defined) */
    int users;                    /* registry ref: key (light userdata) -> user table */
    int resp;                     /* registry ref: the one resp userdata, reused */
    int reqt;                     /* registry ref: response()'s req table, reused */
    void *resp_ud;                /* the resp userdata (resp_check) */
    int reqq;                     /* registry ref: the metatable of request()'s req */
    int key[K_HEADERS + 1];       /* registry refs: the field names of req (enum key) */
    const scr_req_t *cur_rv;      /* during request(): the request (reqt_index) */
    const char *cur_name;         /* during request(): its stats name */
    unsigned req_read, req_set;   /* during request(): fields read / set (1 << enum key) */
    const char *cur_resp_name;    /* during response(): req's fields (respq_index) */
    const char *cur_resp_method, *cur_resp_url;
    int mcache;                   /* registry ref: series key -> metric handle */
    smet_t *metrics;              /* not owned; NULL: metric.* unavailable */
    smet_slot_t *slots;           /* this state's own slots in metrics */
    uint64_t errors;
    lua_State *running;           /* the step coroutine being resumed, NULL: none */
    scr_step_kind_t yielded;      /* what user:request / user:sleep asked for */
    uint64_t sleep_us;
    size_t n_par;
    char errbuf[400];
    char *whys[64];               /* distinct failure reasons, kept until scr_free */
    size_t n_whys;
    const char *why;              /* the last one */
    /* request(): the rebuilt request (rv's slices point here) */
    char *buf;
    size_t buf_len, buf_cap;
    scr_header_t *hdrs;
    size_t hdrs_cap;
};

/* Keys of the vars view's hidden fields (addresses, never strings). */
static char key_vars, key_symtab, key_co, key_pend, key_res, key_mem, key_ref;

typedef struct resp_ud {
    const resp_view_t *r;
} resp_ud_t;

#define RESP_MT "aiotest.resp"
#define VARS_MT "aiotest.vars"
#define USER_MT "aiotest.user"
#define RESPT_MT "aiotest.resp_table"

static int l_user_request(lua_State *L);
static int l_user_parallel(lua_State *L);
static void push_result(lua_State *co, const resp_view_t *resp, stats_fail_t fail);
static int l_user_sleep(lua_State *L);
static int respt_json(lua_State *L);
static int reqt_index(lua_State *L);
static int reqt_newindex(lua_State *L);
static int respq_index(lua_State *L);
static int respq_newindex(lua_State *L);

static void say_once(scr_hook_t h, const char *msg) { lrt_say_once((unsigned)h, hook_names[h], msg); }

bool scr_available(const char **name) { return lrt_available(name); }

/* ---- resp userdata: valid during one response() call */

/* The state's one resp userdata (its address in the state, upvalue 1 of
 * these functions: a pointer compare instead of luaL_checkudata's metatable
 * lookup by name, twice per resp:header()). */
static const resp_view_t *resp_check(lua_State *L)
{
    const scr_t *s = lua_touserdata(L, lua_upvalueindex(1));
    resp_ud_t *ud = lua_touserdata(L, 1);
    if (!ud || ud != s->resp_ud)
        luaL_error(L, "bad argument #1: resp expected");
    if (!ud->r)
        luaL_error(L, "resp used after its response() call returned");
    return ud->r;
}

static int resp_json(lua_State *L)
{
    const resp_view_t *r = resp_check(L);
    json_error_t je;
    json_t *j = json_loadb(r->body ? r->body : "", r->body_len, JSON_DECODE_ANY, &je);
    if (!j) {
        lua_pushnil(L);
        lua_pushfstring(L, "body is not JSON: %s (line %d)", je.text, je.line);
        return 2;
    }
    lrt_push_json(L, j);
    json_decref(j);
    return 1;
}

static int resp_header(lua_State *L)
{
    const resp_view_t *r = resp_check(L);
    size_t nl;
    const char *n = luaL_checklstring(L, 2, &nl);
    for (size_t i = 0; i < r->n_headers; i++)
        if (r->headers[i].name_len == nl && strncasecmp(r->headers[i].name, n, nl) == 0) {
            lua_pushlstring(L, r->headers[i].value, r->headers[i].value_len);
            return 1;
        }
    lua_pushnil(L);
    return 1;
}

/* Whether the key k (n bytes) is lit (a literal). */
#define KEY_IS(k, n, lit) ((n) == sizeof(lit) - 1 && memcmp((k), (lit), sizeof(lit) - 1) == 0)

static int resp_index(lua_State *L)
{
    const resp_view_t *r = resp_check(L);
    size_t kn;
    const char *k = luaL_checklstring(L, 2, &kn);
    if (KEY_IS(k, kn, "status")) {
        lua_pushinteger(L, r->status);
    } else if (KEY_IS(k, kn, "body")) {
        lua_pushlstring(L, r->body ? r->body : "", r->body ? r->body_len : 0);
    } else if (KEY_IS(k, kn, "headers")) {
        lua_createtable(L, 0, (int)r->n_headers);
        char name[256];
        for (size_t i = 0; i < r->n_headers; i++) {
            size_t n = r->headers[i].name_len < sizeof name ? r->headers[i].name_len
                                                            : sizeof name - 1;
            for (size_t k2 = 0; k2 < n; k2++) {
                char ch = r->headers[i].name[k2];
                name[k2] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
            }
            lua_pushlstring(L, name, n);
            lua_pushlstring(L, r->headers[i].value, r->headers[i].value_len);
            lua_rawset(L, -3);
        }
    } else if (KEY_IS(k, kn, "json")) {
        lua_pushvalue(L, lua_upvalueindex(2));
    } else if (KEY_IS(k, kn, "header")) {
        lua_pushvalue(L, lua_upvalueindex(3));
    } else if (KEY_IS(k, kn, "body_cut")) {
        lua_pushboolean(L, r->body_cut);
    } else {
        lua_pushnil(L);
    }
    return 1;
}

/* ---- vars view: the user's template variables */

static int vars_index(lua_State *L)
{
    lua_pushlightuserdata(L, &key_vars);
    lua_rawget(L, 1);
    tpl_vars_t *v = lua_touserdata(L, -1);
    lua_pushlightuserdata(L, &key_symtab);
    lua_rawget(L, 1);
    const tpl_symtab_t *st = lua_touserdata(L, -1);
    const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
    int sym = v && st && k ? tpl_symtab_find(st, k) : -1;
    size_t len = 0;
    const char *val = sym >= 0 ? tpl_vars_get(v, (size_t)sym, &len) : NULL;
    if (val)
        lua_pushlstring(L, val, len);
    else
        lua_pushnil(L);
    return 1;
}

static int vars_newindex(lua_State *L)
{
    lua_pushlightuserdata(L, &key_vars);
    lua_rawget(L, 1);
    tpl_vars_t *v = lua_touserdata(L, -1);
    lua_pushlightuserdata(L, &key_symtab);
    lua_rawget(L, 1);
    const tpl_symtab_t *st = lua_touserdata(L, -1);
    lua_pop(L, 2);
    const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
    int sym = v && st && k ? tpl_symtab_find(st, k) : -1;
    if (sym < 0) {
        /* A name no template uses: kept in Lua only. */
        lua_rawset(L, 1);
        return 0;
    }
    size_t len;
    const char *val = lua_isnil(L, 3) ? "" : lua_tolstring(L, 3, &len);
    if (lua_isnil(L, 3))
        len = 0;
    if (!val)
        return luaL_error(L, "user.vars.%s: a string or number is wanted", k);
    if (tpl_vars_set(v, (size_t)sym, val, len) != 0)
        return luaL_error(L, "user.vars.%s: out of memory", k);
    return 0;
}

/* Pushes u's table, made on first use. A user that keeps a ref (u->ref)
 * finds it by one registry index, twice per request with both hooks,
 * instead of a lookup by key in the users table. */
static void push_user(scr_t *s, const scr_user_t *u)
{
    lua_State *L = s->L;
    if (u->ref && *u->ref > 0) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, *u->ref);
        return;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->users);
    lua_pushlightuserdata(L, (void *)u->key);
    lua_rawget(L, -2);
    if (!lua_isnil(L, -1)) {
        lua_remove(L, -2);
        return;
    }
    lua_pop(L, 1);
    size_t before = (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024u + (size_t)lua_gc(L, LUA_GCCOUNTB, 0);
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, (lua_Integer)u->id);
    lua_setfield(L, -2, "id");
    lua_pushstring(L, u->cls ? u->cls : "");
    lua_setfield(L, -2, "class");
    lua_createtable(L, 0, 2);
    lua_pushlightuserdata(L, &key_vars);
    lua_pushlightuserdata(L, u->vars);
    lua_rawset(L, -3);
    lua_pushlightuserdata(L, &key_symtab);
    lua_pushlightuserdata(L, (void *)u->symtab);
    lua_rawset(L, -3);
    luaL_getmetatable(L, VARS_MT);
    lua_setmetatable(L, -2);
    lua_setfield(L, -2, "vars");
    luaL_getmetatable(L, USER_MT);
    lua_setmetatable(L, -2);
    size_t after = (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024u + (size_t)lua_gc(L, LUA_GCCOUNTB, 0);
    lua_pushlightuserdata(L, &key_mem);
    lua_pushinteger(L, (lua_Integer)(after > before ? after - before : 0));
    lua_rawset(L, -3);
    lua_pushlightuserdata(L, (void *)u->key);
    lua_pushvalue(L, -2);
    lua_rawset(L, -4);
    lua_remove(L, -2);
    if (u->ref) {
        lua_pushvalue(L, -1);
        *u->ref = luaL_ref(L, LUA_REGISTRYINDEX);
        /* kept in the table too: scr_user_free drops it from there */
        lua_pushlightuserdata(L, &key_ref);
        lua_pushinteger(L, *u->ref);
        lua_rawset(L, -3);
    }
}

void scr_user_free(scr_t *s, const scr_user_t *u)
{
    if (!s)
        return;
    const void *key = u->key;
    if (u->ref)
        *u->ref = 0;
    lua_State *L = s->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->users);
    lua_pushlightuserdata(L, (void *)key);
    lua_rawget(L, -2);
    if (lua_istable(L, -1)) {
        lua_pushlightuserdata(L, &key_ref);
        lua_rawget(L, -2);
        int ref = (int)lua_tointeger(L, -1);
        lua_pop(L, 1);
        if (ref > 0)
            luaL_unref(L, LUA_REGISTRYINDEX, ref);
        /* A script that kept the table must not reach the freed variables. */
        lua_getfield(L, -1, "vars");
        if (lua_istable(L, -1)) {
            lua_pushlightuserdata(L, &key_vars);
            lua_pushnil(L);
            lua_rawset(L, -3);
        }
        lua_pop(L, 1);
        lua_pushlightuserdata(L, (void *)key);
        lua_pushnil(L);
        lua_rawset(L, -4);
    }
    lua_pop(L, 2);
}

/* ---- metric.counter / metric.histogram (smetric.h) */

#define METRIC_MT "aiotest.metric"

typedef struct metric_ud {
    smet_handle_t h;
    smet_slot_t *slots;
} metric_ud_t;

static int metric_inc(lua_State *L)
{
    metric_ud_t *m = luaL_checkudata(L, 1, METRIC_MT);
    lua_Number n = luaL_optnumber(L, 2, 1);
    if (m->h.kind != SMET_COUNTER)
        return luaL_error(L, "metric: inc on a histogram (use observe)");
    if (!(n >= 0 && n <= 1e300))
        return luaL_error(L, "counter:inc: n must be a finite number >= 0");
    smet_inc(m->slots, &m->h, n);
    return 0;
}

static int metric_observe(lua_State *L)
{
    metric_ud_t *m = luaL_checkudata(L, 1, METRIC_MT);
    lua_Number v = luaL_checknumber(L, 2);
    if (m->h.kind != SMET_HISTOGRAM)
        return luaL_error(L, "metric: observe on a counter (use inc)");
    if (!(v >= -1e300 && v <= 1e300))
        return luaL_error(L, "histogram:observe: v must be a finite number");
    smet_observe(m->slots, &m->h, v);
    return 0;
}

static atomic_flag said_refused = ATOMIC_FLAG_INIT;

/* metric.counter(name [, labels]) / metric.histogram(name [, labels [, bounds]]):
 * the handle of that series, from the state's cache or registered. */
static int metric_get(lua_State *L, smet_kind_t kind)
{
    scr_t *s = lua_touserdata(L, lua_upvalueindex(1));
    const char *what = kind == SMET_COUNTER ? "metric.counter" : "metric.histogram";
    size_t nn;
    const char *name = luaL_checklstring(L, 1, &nn);
    if (!s->metrics)
        return luaL_error(L, "%s: no metrics in this program", what);
    smet_label_t lab[SMET_LABELS_MAX];
    size_t nl = 0;
    double bounds[SMET_BUCKETS_MAX];
    size_t nb = 0;
    luaL_Buffer key;
    luaL_checkstack(L, 2 * SMET_LABELS_MAX + 20, what);
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_pushnil(L);
        while (lua_next(L, 2)) {
            if (nl == SMET_LABELS_MAX)
                return luaL_error(L, "%s %s: at most %d labels", what, name, SMET_LABELS_MAX);
            if (lua_type(L, -2) != LUA_TSTRING ||
                (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER &&
                 lua_type(L, -1) != LUA_TBOOLEAN))
                return luaL_error(L, "%s %s: labels are {name = string or number}", what, name);
            /* Copies of name and value kept on the stack below the iteration
             * key (the value as a string; the script's table is not changed). */
            lua_pushvalue(L, -2);
            lua_insert(L, -3);
            if (lua_type(L, -1) == LUA_TBOOLEAN)
                lua_pushstring(L, lua_toboolean(L, -1) ? "true" : "false");
            else
                lua_pushstring(L, lua_tostring(L, -1));
            lua_replace(L, -2);
            lua_insert(L, -2);
            lab[nl].name = lua_tostring(L, -3);
            lab[nl].value = lua_tostring(L, -2);
            nl++;
        }
    }
    if (kind == SMET_HISTOGRAM && !lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        size_t n = lua_rawlen(L, 3);
        if (n == 0 || n > SMET_BUCKETS_MAX)
            return luaL_error(L, "%s %s: 1 to %d bucket bounds", what, name, SMET_BUCKETS_MAX);
        for (size_t i = 0; i < n; i++) {
            lua_rawgeti(L, 3, (int)i + 1);
            if (lua_type(L, -1) != LUA_TNUMBER)
                return luaL_error(L, "%s %s: bucket bounds are numbers", what, name);
            bounds[nb++] = lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
    }
    /* The cache key: kind, name, the labels sorted, the bounds. */
    for (size_t i = 1; i < nl; i++)
        for (size_t j = i; j > 0 && strcmp(lab[j - 1].name, lab[j].name) > 0; j--) {
            smet_label_t t = lab[j];
            lab[j] = lab[j - 1];
            lab[j - 1] = t;
        }
    luaL_buffinit(L, &key);
    luaL_addchar(&key, kind == SMET_COUNTER ? 'c' : 'h');
    luaL_addlstring(&key, name, nn);
    for (size_t i = 0; i < nl; i++) {
        luaL_addchar(&key, '\0');
        luaL_addstring(&key, lab[i].name);
        luaL_addchar(&key, '\1');
        luaL_addstring(&key, lab[i].value);
    }
    if (nb) {
        luaL_addchar(&key, '\2');
        luaL_addlstring(&key, (const char *)bounds, nb * sizeof *bounds);
    }
    luaL_pushresult(&key);
    int k = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->mcache);
    lua_pushvalue(L, k);
    lua_rawget(L, -2);
    if (!lua_isnil(L, -1))
        return 1;
    lua_pop(L, 1);
    metric_ud_t *ud = lua_newuserdata(L, sizeof *ud);
    ud->slots = s->slots;
    char err[300];
    int rc = smet_series(s->metrics, kind, name, lab, nl, nb ? bounds : NULL, nb, &ud->h, err,
                         sizeof err);
    if (rc < 0)
        return luaL_error(L, "%s: %s", what, err);
    if (rc > 0 && !atomic_flag_test_and_set(&said_refused))
        log_warn("script: %s: %s (further refusals are counted without this message)", what, err);
    luaL_getmetatable(L, METRIC_MT);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, k);
    lua_pushvalue(L, -2);
    lua_rawset(L, -4);
    return 1;
}

static int l_metric_counter(lua_State *L) { return metric_get(L, SMET_COUNTER); }
static int l_metric_histogram(lua_State *L) { return metric_get(L, SMET_HISTOGRAM); }

/* The global table metric, its handles' metatable and the state's cache. */
static void open_metric(scr_t *s)
{
    lua_State *L = s->L;
    luaL_newmetatable(L, METRIC_MT);
    lua_newtable(L);
    lua_pushcfunction(L, metric_inc);
    lua_setfield(L, -2, "inc");
    lua_pushcfunction(L, metric_observe);
    lua_setfield(L, -2, "observe");
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    lua_newtable(L);
    s->mcache = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_createtable(L, 0, 2);
    lua_pushlightuserdata(L, s);
    lua_pushcclosure(L, l_metric_counter, 1);
    lua_setfield(L, -2, "counter");
    lua_pushlightuserdata(L, s);
    lua_pushcclosure(L, l_metric_histogram, 1);
    lua_setfield(L, -2, "histogram");
    lua_setglobal(L, "metric");
}

/* ---- state */

/* Arms the instruction limit (LRT_INSN_LIMIT) for one call on L. */
static void limit(lua_State *L) { lrt_limit(L); }

/* A protected call under the state's handler (luart.h): 0, or -1 with the
 * message on top of the stack. */
static int call(lua_State *L, int nargs, int nres) { return lrt_call(L, nargs, nres); }

static void resolve_hooks(scr_t *s)
{
    lua_State *L = s->L;
    for (int h = 0; h < SCR__COUNT; h++) {
        if (s->ref[h] != LUA_NOREF)
            luaL_unref(L, LUA_REGISTRYINDEX, s->ref[h]);
        lua_getglobal(L, hook_names[h]);
        s->ref[h] = lua_isfunction(L, -1) ? luaL_ref(L, LUA_REGISTRYINDEX) : (lua_pop(L, 1), LUA_NOREF);
    }
}

scr_t *scr_new(const char *path, smet_t *metrics, unsigned writer, char *err, size_t errlen)
{
    scr_t *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        snprintf(err, errlen, "--script %s: out of memory", path);
        scr_free(s);
        return NULL;
    }
    if (!(s->L = lrt_new(err, errlen))) {
        scr_free(s);
        return NULL;
    }
    for (int h = 0; h < SCR__COUNT; h++)
        s->ref[h] = LUA_NOREF;
    lua_State *L = s->L;
    luaL_newmetatable(L, RESP_MT);
    lua_pushlightuserdata(L, s);
    lua_pushlightuserdata(L, s);
    lua_pushcclosure(L, resp_json, 1);
    lua_pushlightuserdata(L, s);
    lua_pushcclosure(L, resp_header, 1);
    /* resp.json / resp.header without a closure per use */
    lua_pushcclosure(L, resp_index, 3);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_newmetatable(L, VARS_MT);
    lua_pushcfunction(L, vars_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, vars_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pop(L, 1);
    luaL_newmetatable(L, USER_MT);
    lua_newtable(L);
    lua_pushlightuserdata(L, s);
    lua_pushcclosure(L, l_user_request, 1);
    lua_setfield(L, -2, "request");
    lua_pushlightuserdata(L, s);
    lua_pushcclosure(L, l_user_sleep, 1);
    lua_setfield(L, -2, "sleep");
    lua_pushlightuserdata(L, s);
    lua_pushcclosure(L, l_user_parallel, 1);
    lua_setfield(L, -2, "parallel");
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_newmetatable(L, RESPT_MT);
    lua_newtable(L);
    lua_pushcfunction(L, respt_json);
    lua_setfield(L, -2, "json");
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    lua_newtable(L);
    s->users = luaL_ref(L, LUA_REGISTRYINDEX);
    resp_ud_t *ud = lua_newuserdata(L, sizeof *ud);
    ud->r = NULL;
    s->resp_ud = ud;
    luaL_getmetatable(L, RESP_MT);
    lua_setmetatable(L, -2);
    s->resp = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_createtable(L, 0, 0);
    lua_createtable(L, 0, 2);
    lua_pushlightuserdata(L, s);
    lua_pushcclosure(L, respq_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, respq_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
    s->reqt = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_createtable(L, 0, 2);
    lua_pushlightuserdata(L, s);
    lua_pushcclosure(L, reqt_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushlightuserdata(L, s);
    lua_pushcclosure(L, reqt_newindex, 1);
    lua_setfield(L, -2, "__newindex");
    s->reqq = luaL_ref(L, LUA_REGISTRYINDEX);
    for (int k = 0; k < (int)(sizeof s->key / sizeof *s->key); k++) {
        lua_pushstring(L, key_names[k]);
        s->key[k] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    s->metrics = metrics;
    s->slots = metrics ? smet_slots(metrics, writer) : NULL;
    open_metric(s);
    if (lrt_load(L, path, err, errlen) != 0) {
        scr_free(s);
        return NULL;
    }
    resolve_hooks(s);
    return s;
}

void scr_free(scr_t *s)
{
    if (!s)
        return;
    if (s->L)
        lua_close(s->L);
    for (size_t i = 0; i < s->n_whys; i++)
        free(s->whys[i]);
    free(s->path);
    free(s->buf);
    free(s->hdrs);
    free(s);
}

/* Sets s->why to text, kept once. */
static void set_why(scr_t *s, const char *text)
{
    for (size_t i = 0; i < s->n_whys; i++)
        if (strcmp(s->whys[i], text) == 0) {
            s->why = s->whys[i];
            return;
        }
    char *c = s->n_whys < sizeof s->whys / sizeof *s->whys ? strdup(text) : NULL;
    if (!c) {
        s->why = "(other reasons)";
        return;
    }
    s->whys[s->n_whys++] = c;
    s->why = c;
}

const char *scr_why(const scr_t *s) { return s ? s->why : NULL; }

bool scr_has(const scr_t *s, scr_hook_t h)
{
    return s && (unsigned)h < SCR__COUNT && s->ref[h] != LUA_NOREF;
}

size_t scr_memory(const scr_t *s)
{
    if (!s)
        return 0;
    return (size_t)lua_gc(s->L, LUA_GCCOUNT, 0) * 1024u + (size_t)lua_gc(s->L, LUA_GCCOUNTB, 0);
}

uint64_t scr_errors(const scr_t *s) { return s ? s->errors : 0; }

size_t scr_user_memory(scr_t *s, const void *key)
{
    if (!s)
        return 0;
    lua_State *L = s->L;
    int top = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->users);
    lua_pushlightuserdata(L, (void *)key);
    lua_rawget(L, -2);
    size_t n = 0;
    if (lua_istable(L, -1)) {
        lua_pushlightuserdata(L, &key_mem);
        lua_rawget(L, -2);
        n = (size_t)lua_tointeger(L, -1);
    }
    lua_settop(L, top);
    return n;
}

int scr_setup(scr_t *s, int thread, unsigned threads, char *err, size_t errlen)
{
    if (!scr_has(s, SCR_SETUP))
        return 0;
    lua_State *L = s->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->ref[SCR_SETUP]);
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, thread);
    lua_setfield(L, -2, "thread");
    lua_pushinteger(L, (lua_Integer)threads);
    lua_setfield(L, -2, "threads");
    lua_pushstring(L, s->path);
    lua_setfield(L, -2, "script");
    if (call(L, 1, 0) != 0) {
        snprintf(err, errlen, "--script: setup: %s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    resolve_hooks(s); /* setup may define hooks */
    return 0;
}

static void user_hook(scr_t *s, scr_hook_t h, const scr_user_t *u)
{
    if (!scr_has(s, h))
        return;
    lua_State *L = s->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->ref[h]);
    push_user(s, u);
    limit(L);
    if (call(L, 1, 0) != 0) {
        s->errors++;
        say_once(h, lua_tostring(L, -1));
        lua_pop(L, 1);
    }
}

void scr_user_start(scr_t *s, const scr_user_t *u) { user_hook(s, SCR_ON_START, u); }
void scr_user_stop(scr_t *s, const scr_user_t *u) { user_hook(s, SCR_ON_STOP, u); }

scr_t *scr_open(const char *path, int thread, unsigned threads, smet_t *metrics, char *err,
                size_t errlen)
{
    scr_t *s = scr_new(path, metrics, thread < 0 ? threads : (unsigned)thread, err, errlen);
    if (s && scr_setup(s, thread, threads, err, errlen) != 0) {
        scr_free(s);
        return NULL;
    }
    return s;
}

/* ---- request */

static bool clean(const char *p, size_t n, bool target)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\r' || c == '\n' || c == 0 || (target && (c <= ' ' || c == 0x7f)))
            return false;
    }
    return true;
}

/* RFC 9110 tchar: visible ASCII but the separators ()<>@,;:\"/[]?={},
 * as two bit masks (a lookup per byte; this runs for every header a
 * request hook sends). */
static bool token(const char *p, size_t n)
{
    static const uint64_t lo = 0x03ff6cfa00000000ull, hi = 0x57ffffffc7fffffeull;
    if (!n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 128 || !((c < 64 ? lo >> c : hi >> (c - 64)) & 1))
            return false;
    }
    return true;
}

/* Appends to s->buf; returns the offset, or (size_t)-1 out of memory. */
static size_t put(scr_t *s, const char *p, size_t n)
{
    if (s->buf_len + n + 1 > s->buf_cap) {
        size_t cap = s->buf_cap ? s->buf_cap : 1024;
        while (cap < s->buf_len + n + 1)
            cap *= 2;
        char *b = realloc(s->buf, cap);
        if (!b)
            return (size_t)-1;
        s->buf = b;
        s->buf_cap = cap;
    }
    size_t off = s->buf_len;
    if (n)
        memcpy(s->buf + off, p, n);
    s->buf[off + n] = '\0';
    s->buf_len += n + 1;
    return off;
}

static int hdr_slot(scr_t *s, size_t n)
{
    if (n < s->hdrs_cap)
        return 0;
    size_t cap = s->hdrs_cap ? s->hdrs_cap * 2 : 16;
    scr_header_t *h = realloc(s->hdrs, cap * sizeof *h);
    if (!h)
        return -1;
    s->hdrs = h;
    s->hdrs_cap = cap;
    return 0;
}

/* Appends header k with the value on top of L's stack (left there). NULL, or
 * what is wrong. */
static const char *emit_header(scr_t *s, lua_State *L, size_t *nh, const char *k, size_t kn)
{
    size_t vn;
    const char *v = lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER
                        ? lua_tolstring(L, -1, &vn) : NULL;
    if (!v)
        return "req.headers: values must be strings";
    if (!token(k, kn) || !clean(v, vn, false))
        return "req.headers: a name is not a token or a value holds CR, LF or NUL";
    if (hdr_slot(s, *nh) != 0)
        return "out of memory";
    size_t ko = put(s, k, kn), vo = put(s, v, vn);
    if (ko == (size_t)-1 || vo == (size_t)-1)
        return "out of memory";
    /* offsets now; turned into pointers by rebuild */
    s->hdrs[(*nh)++] = (scr_header_t){(const char *)(uintptr_t)ko, kn, (const char *)(uintptr_t)vo, vn};
    return NULL;
}

/* The field names of req, interned once per state: the hot path reads them
 * with rawget and a key from the registry instead of lua_getfield, which
 * hashes and looks up the name string every time. */

/* Pushes t[k] (raw); t an absolute index. */
static void get_k(scr_t *s, int t, enum key k)
{
    lua_rawgeti(s->L, LUA_REGISTRYINDEX, s->key[k]);
    lua_rawget(s->L, t);
}

/* Reads the fields of req (at idx) that use names (1 << enum key) back
 * into rv; the others stay as they are. NULL, or what is wrong. */
static const char *rebuild(scr_t *s, int idx, scr_req_t *rv, unsigned use)
{
    bool keep_headers = !(use & (1u << K_HEADERS));
    bool changed = !keep_headers;
    lua_State *L = s->L;
    /* Offsets first (the buffer may move), pointers at the end. */
    size_t offs[4][2]; /* method, url, body: offset, length */
    s->buf_len = 0;
    static const enum key fields[] = {K_METHOD, K_URL, K_BODY};
    for (int i = 0; i < 3; i++) {
        if (!(use & (1u << fields[i])) || (i == 2 && rv->body_streamed)) {
            offs[i][0] = (size_t)-3; /* left as it is */
            continue;
        }
        get_k(s, idx, fields[i]);
        size_t n = 0;
        const char *p = lua_isnil(L, -1) ? NULL : lua_tolstring(L, -1, &n);
        if (!p && i < 2) {
            lua_pop(L, 1);
            return i == 0 ? "req.method must be a string" : "req.url must be a string";
        }
        if (i == 0 && !token(p, n)) {
            lua_pop(L, 1);
            return "req.method is not an HTTP token";
        }
        if (i == 1 && (n == 0 || p[0] != '/' || !clean(p, n, true))) {
            lua_pop(L, 1);
            return "req.url must be an origin-form path ('/...') without spaces or control bytes";
        }
        /* What the hook left as it was stays where it is (no copy). */
        const char *cur = i == 0 ? rv->method : i == 1 ? rv->path : rv->body;
        size_t curn = i == 0 ? rv->method_len : i == 1 ? rv->path_len : rv->body_len;
        bool cur_set = i < 2 || rv->body || rv->has_body;
        if (p && cur_set && n == curn && (n == 0 || (cur && memcmp(p, cur, n) == 0))) {
            offs[i][0] = (size_t)-3;
            lua_pop(L, 1);
            continue;
        }
        offs[i][0] = p ? put(s, p, n) : (size_t)-2;
        offs[i][1] = n;
        changed = true;
        lua_pop(L, 1);
        if (offs[i][0] == (size_t)-1)
            return "out of memory";
    }
    size_t nh = 0;
    if (keep_headers)
        lua_pushnil(L);
    else
        get_k(s, idx, K_HEADERS); /* raw: request()'s __index would make it again */
    if (lua_istable(L, -1)) {
        int ht = lua_gettop(L);
        /* The request's own headers in their order (a name given twice
         * once, with the table's value), then the names the hook added. */
        const scr_header_t *orig = rv->hdrs;
        size_t norig = rv->n_hdrs;
        for (size_t i = 0; i < norig; i++) {
            bool dup = false;
            for (size_t j = 0; j < i && !dup; j++)
                dup = orig[j].name_len == orig[i].name_len &&
                      memcmp(orig[j].name, orig[i].name, orig[i].name_len) == 0;
            if (dup)
                continue;
            lua_pushlstring(L, orig[i].name, orig[i].name_len);
            lua_rawget(L, ht);
            const char *why = lua_isnil(L, -1) ? NULL : emit_header(s, L, &nh, orig[i].name, orig[i].name_len);
            lua_pop(L, 1);
            if (why) {
                lua_pop(L, 1);
                return why;
            }
        }
        lua_pushnil(L);
        while (lua_next(L, ht)) {
            if (lua_type(L, -2) != LUA_TSTRING) {
                lua_pop(L, 3);
                return "req.headers: names must be strings";
            }
            size_t kn;
            const char *k = lua_tolstring(L, -2, &kn);
            bool known = false;
            for (size_t i = 0; i < norig && !known; i++)
                known = orig[i].name_len == kn && memcmp(orig[i].name, k, kn) == 0;
            const char *why = known ? NULL : emit_header(s, L, &nh, k, kn);
            if (why) {
                lua_pop(L, 3);
                return why;
            }
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    for (size_t i = 0; i < nh; i++) {
        s->hdrs[i].name = s->buf + (uintptr_t)s->hdrs[i].name;
        s->hdrs[i].value = s->buf + (uintptr_t)s->hdrs[i].value;
    }
    if (keep_headers) {
        nh = rv->n_hdrs;
    } else {
        rv->hdrs = s->hdrs;
    }
    if (!changed)
        return NULL; /* set to what they were: the prebuilt bytes still hold */
    if (offs[0][0] != (size_t)-3) {
        rv->method = s->buf + offs[0][0];
        rv->method_len = offs[0][1];
    }
    if (offs[1][0] != (size_t)-3) {
        rv->path = s->buf + offs[1][0];
        rv->path_len = offs[1][1];
    }
    rv->n_hdrs = nh;
    rv->head = rv->method_len == 4 && strncasecmp(rv->method, "HEAD", 4) == 0;
    if (offs[2][0] == (size_t)-3) {
        /* Unchanged, or a streamed body (it follows the request piece by
         * piece: not the hook's). */
    } else if (offs[2][0] == (size_t)-2) {
        rv->body = NULL;
        rv->body_len = 0;
        rv->has_body = false;
    } else {
        rv->body = s->buf + offs[2][0];
        rv->body_len = offs[2][1];
        rv->has_body = true;
    }
    rv->h1_bytes = NULL; /* no longer the prebuilt request */
    rv->h1_len = rv->h1_head_len = 0;
    return NULL;
}

/* The req table of request(): its fields are made when the hook reads
 * them (__index), and __newindex notes which ones it sets, so a hook that
 * reads or changes little costs little: nothing is built for a field never
 * read, and a request nothing was changed in keeps its prebuilt bytes.
 * s->cur_rv is the request during the call (NULL after: a kept req reads
 * nil). A field read is stored in the table (later reads are plain), so
 * "changed" is: set through __newindex, or read and now different. */
static int key_of(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TSTRING)
        return -1;
    size_t n;
    const char *k = lua_tolstring(L, idx, &n);
    switch (n) {
    case 3: return KEY_IS(k, n, "url") ? K_URL : -1;
    case 4: return KEY_IS(k, n, "name") ? K_NAME : KEY_IS(k, n, "body") ? K_BODY : -1;
    case 6: return KEY_IS(k, n, "method") ? K_METHOD : -1;
    case 7: return KEY_IS(k, n, "headers") ? K_HEADERS : -1;
    default: return -1;
    }
}

/* Pushes the current value of field k of the request (nil when none). */
static void push_orig(scr_t *s, int k)
{
    lua_State *L = s->L;
    const scr_req_t *rv = s->cur_rv;
    switch (k) {
    case K_NAME: lua_pushstring(L, s->cur_name); return;
    case K_METHOD: lua_pushlstring(L, rv->method, rv->method_len); return;
    case K_URL: lua_pushlstring(L, rv->path, rv->path_len); return;
    case K_BODY:
        if (!rv->body_streamed && (rv->body || rv->has_body))
            lua_pushlstring(L, rv->body ? rv->body : "", rv->body_len);
        else
            lua_pushnil(L);
        return;
    default: break;
    }
    /* Room for a few more: a hook that adds a header does not make the table
     * grow (a rehash) on the spot. */
    lua_createtable(L, 0, (int)rv->n_hdrs + 4);
    for (size_t i = 0; i < rv->n_hdrs; i++) {
        lua_pushlstring(L, rv->hdrs[i].name, rv->hdrs[i].name_len);
        lua_pushvalue(L, -1);
        lua_rawget(L, -3);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            lua_pushlstring(L, rv->hdrs[i].value, rv->hdrs[i].value_len);
        } else {
            /* A name given twice is one field with the values joined
             * (RFC 9110 5.3), so the table loses nothing. */
            lua_pushliteral(L, ", ");
            lua_pushlstring(L, rv->hdrs[i].value, rv->hdrs[i].value_len);
            lua_concat(L, 3);
        }
        lua_rawset(L, -3);
    }
}

static int reqt_index(lua_State *L)
{
    scr_t *s = lua_touserdata(L, lua_upvalueindex(1));
    int k = s->cur_rv ? key_of(L, 2) : -1;
    if (k < 0)
        return 0;
    push_orig(s, k);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1); /* later reads find it */
    s->req_read |= 1u << k;
    return 1;
}

static int reqt_newindex(lua_State *L)
{
    scr_t *s = lua_touserdata(L, lua_upvalueindex(1));
    int k = s->cur_rv ? key_of(L, 2) : -1;
    if (k >= 0)
        s->req_set |= 1u << k;
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 0;
}

/* Whether field k of the table at idx is still the request's value. */
static bool same_field(scr_t *s, int idx, int k)
{
    lua_State *L = s->L;
    const scr_req_t *rv = s->cur_rv;
    get_k(s, idx, (enum key)k);
    size_t ln = 0;
    const char *lp = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &ln) : NULL;
    const char *p = k == K_METHOD ? rv->method : k == K_URL ? rv->path : rv->body;
    size_t n = k == K_METHOD ? rv->method_len : k == K_URL ? rv->path_len : rv->body_len;
    bool set = k != K_BODY || rv->body || rv->has_body;
    bool same = set ? lp && ln == n && (n == 0 || memcmp(lp, p, n) == 0) : lua_isnil(L, -1);
    lua_pop(L, 1);
    return same;
}

int scr_request(scr_t *s, const scr_user_t *u, const char *name, scr_req_t *rv)
{
    if (!scr_has(s, SCR_REQUEST))
        return 0;
    lua_State *L = s->L;
    int top = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->ref[SCR_REQUEST]);
    push_user(s, u);
    /* A new, empty table a call (a field the script adds must not reach the
     * next request); its metatable makes the fields when they are read. */
    lua_createtable(L, 0, 2);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->reqq);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_insert(L, top + 1); /* a copy of req, kept under the call */
    int req = top + 1;
    int rc = 0;
    s->cur_rv = rv;
    s->cur_name = name;
    s->req_read = s->req_set = 0;
    limit(L);
    if (call(L, 2, 1) != 0) {
        s->errors++;
        say_once(SCR_REQUEST, lua_tostring(L, -1));
        set_why(s, lua_tostring(L, -1));
        rc = -STATS_FAIL_SCRIPT;
    } else if (lua_isboolean(L, -1) && !lua_toboolean(L, -1)) {
        set_why(s, "not sent: request hook returned false");
        rc = -STATS_FAIL_SCRIPT; /* skipped by the hook */
    } else {
        /* Fields to take from the table: set, or read and changed since;
         * headers whenever the table of them was made or replaced. */
        unsigned use = s->req_set | (s->req_read & (1u << K_HEADERS));
        for (int k = K_METHOD; k <= K_BODY; k++)
            if ((s->req_read & ~use & (1u << k)) && !same_field(s, req, k))
                use |= 1u << k;
        use &= ~(1u << K_NAME);
        if (rv->body_streamed)
            use &= ~(1u << K_BODY); /* a streamed body is not the hook's */
        const char *why = use ? rebuild(s, req, rv, use) : NULL;
        if (why) {
            s->errors++;
            say_once(SCR_REQUEST, why);
            set_why(s, why);
            rc = -STATS_FAIL_SCRIPT;
        }
    }
    s->cur_rv = NULL;
    lua_settop(L, top);
    return rc;
}

/* response()'s req: read only, its three fields given by __index from the
 * response being judged (nothing is built for a hook that does not read
 * them); the one table is reused, so writes are refused. */
static int respq_index(lua_State *L)
{
    scr_t *s = lua_touserdata(L, lua_upvalueindex(1));
    int k = s->cur_resp_name ? key_of(L, 2) : -1;
    if (k == K_NAME)
        lua_pushstring(L, s->cur_resp_name);
    else if (k == K_METHOD)
        lua_pushstring(L, s->cur_resp_method);
    else if (k == K_URL)
        lua_pushstring(L, s->cur_resp_url);
    else
        lua_pushnil(L);
    return 1;
}

static int respq_newindex(lua_State *L)
{
    return luaL_error(L, "response(): req is read only (keep your own values in user)");
}

stats_fail_t scr_response(scr_t *s, const scr_user_t *u, const char *name, const char *method,
                          const char *url, const resp_view_t *resp, stats_fail_t fail)
{
    if (!scr_has(s, SCR_RESPONSE))
        return fail;
    lua_State *L = s->L;
    int top = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->ref[SCR_RESPONSE]);
    push_user(s, u);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->reqt); /* valid during the call, like resp */
    s->cur_resp_name = name;
    s->cur_resp_method = method;
    s->cur_resp_url = url ? url : "";
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->resp);
    resp_ud_t *ud = lua_touserdata(L, -1);
    ud->r = resp;
    limit(L);
    if (call(L, 3, 2) != 0) {
        s->errors++;
        say_once(SCR_RESPONSE, lua_tostring(L, -1));
        set_why(s, lua_tostring(L, -1));
        fail = STATS_FAIL_SCRIPT;
    } else if (lua_isboolean(L, -2) && !lua_toboolean(L, -2)) {
        set_why(s, lua_isstring(L, -1) ? lua_tostring(L, -1) : "response hook returned false");
        static atomic_flag said_false = ATOMIC_FLAG_INIT;
        if (!atomic_flag_test_and_set(&said_false))
            log_warn("script: response failed '%s': %s (counted as category script; further "
                     "ones are counted without this message)", name,
                     lua_isstring(L, -1) ? lua_tostring(L, -1) : "no reason given");
        fail = STATS_FAIL_SCRIPT;
    }
    ud->r = NULL;
    s->cur_resp_name = NULL;
    lua_settop(L, top);
    return fail;
}

/* ---- custom steps */

static scr_t *step_owner(lua_State *L)
{
    scr_t *s = lua_touserdata(L, lua_upvalueindex(1));
    if (!s || s->running != L)
        luaL_error(L, "user:request and user:sleep run only inside a custom step ({\"lua\": ...})");
    return s;
}

/* Checks the request table at idx (url a string, method a string, default GET). */
static void check_req(lua_State *L, int idx, const char *what)
{
    if (!lua_istable(L, idx))
        luaL_error(L, "%s: a request table {method=, url=, headers=, body=} is wanted", what);
    lua_getfield(L, idx, "url");
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "%s: url must be a string (a path or http(s)://...)", what);
    lua_getfield(L, idx, "method");
    if (lua_isnil(L, -1)) {
        lua_pushstring(L, "GET");
        lua_setfield(L, idx, "method");
    } else if (lua_type(L, -1) != LUA_TSTRING) {
        luaL_error(L, "%s: method must be a string", what);
    }
    lua_pop(L, 2);
}

static int l_user_parallel(lua_State *L)
{
    scr_t *s = step_owner(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    size_t n = lua_rawlen(L, 2);
    if (n == 0 || n > 64)
        return luaL_error(L, "user:parallel: 1 to 64 request tables are wanted, got %d", (int)n);
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, 2, (int)i);
        check_req(L, lua_gettop(L), "user:parallel");
        lua_pop(L, 1);
    }
    lua_pushlightuserdata(L, &key_pend);
    lua_pushvalue(L, 2);
    lua_rawset(L, 1);
    lua_pushlightuserdata(L, &key_res);
    lua_createtable(L, (int)n, 0);
    lua_rawset(L, 1);
    s->yielded = SCR_STEP_PARALLEL;
    s->n_par = n;
    return lua_yield(L, 0);
}

static int l_user_request(lua_State *L)
{
    scr_t *s = step_owner(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    check_req(L, 2, "user:request");
    lua_pushlightuserdata(L, &key_pend);
    lua_pushvalue(L, 2);
    lua_rawset(L, 1);
    s->yielded = SCR_STEP_REQUEST;
    return lua_yield(L, 0);
}

static int l_user_sleep(lua_State *L)
{
    scr_t *s = step_owner(L);
    lua_Number sec = luaL_checknumber(L, 2);
    if (!(sec >= 0 && sec <= 86400))
        return luaL_error(L, "user:sleep: seconds must be between 0 and 86400");
    s->yielded = SCR_STEP_SLEEP;
    s->sleep_us = (uint64_t)(sec * 1e6);
    return lua_yield(L, 0);
}

static int respt_json(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "body");
    size_t n = 0;
    const char *b = lua_tolstring(L, -1, &n);
    json_error_t je;
    json_t *j = json_loadb(b ? b : "", b ? n : 0, JSON_DECODE_ANY, &je);
    if (!j) {
        lua_pushnil(L);
        lua_pushfstring(L, "body is not JSON: %s (line %d)", je.text, je.line);
        return 2;
    }
    lrt_push_json(L, j);
    json_decref(j);
    return 1;
}

static void step_clear(lua_State *L, int user)
{
    lua_pushlightuserdata(L, &key_co);
    lua_pushnil(L);
    lua_rawset(L, user);
    lua_pushlightuserdata(L, &key_pend);
    lua_pushnil(L);
    lua_rawset(L, user);
    lua_pushlightuserdata(L, &key_res);
    lua_pushnil(L);
    lua_rawset(L, user);
}

static int co_resume(lua_State *co, lua_State *from, int nargs)
{
#if LUA_VERSION_NUM >= 504
    int nres;
    return lua_resume(co, from, nargs, &nres);
#else
    (void)from;
    return lua_resume(co, nargs);
#endif
}

/* Resumes co (nargs on its stack); the user's table is at user on s->L. */
static void step_run(scr_t *s, int user, lua_State *co, int nargs, scr_step_t *out)
{
    lua_State *L = s->L;
    s->running = co;
    s->yielded = SCR_STEP_DONE;
    limit(co);
    int rc = co_resume(co, L, nargs);
    s->running = NULL;
    *out = (scr_step_t){.kind = SCR_STEP_DONE};
    if (rc == LUA_YIELD && s->yielded == SCR_STEP_REQUEST) {
        lua_pushlightuserdata(L, &key_pend);
        lua_rawget(L, user);
        lua_getfield(L, -1, "url");
        out->kind = SCR_STEP_REQUEST;
        out->url = lua_tostring(L, -1); /* a string of the pending table: stays put */
        lua_pop(L, 2);
    } else if (rc == LUA_YIELD && s->yielded == SCR_STEP_PARALLEL) {
        out->kind = SCR_STEP_PARALLEL;
        out->n = s->n_par;
    } else if (rc == LUA_YIELD && s->yielded == SCR_STEP_SLEEP) {
        out->kind = SCR_STEP_SLEEP;
        out->sleep_us = s->sleep_us;
    } else if (rc == LUA_YIELD) {
        snprintf(s->errbuf, sizeof s->errbuf, "a custom step yielded outside user:request/user:sleep");
        out->kind = SCR_STEP_ERROR;
    } else if (rc != 0) {
        const char *m = lua_tostring(co, -1);
        snprintf(s->errbuf, sizeof s->errbuf, "%s", m ? m : "error object is not a string");
        out->kind = SCR_STEP_ERROR;
    }
    if (out->kind == SCR_STEP_ERROR) {
        s->errors++;
        out->error = s->errbuf;
    }
    if (out->kind == SCR_STEP_DONE || out->kind == SCR_STEP_ERROR)
        step_clear(L, user);
    else
        lua_settop(co, 0);
}

void scr_step_begin(scr_t *s, const scr_user_t *u, const char *fn, scr_step_t *out)
{
    lua_State *L = s->L;
    int top = lua_gettop(L);
    push_user(s, u);
    int user = lua_gettop(L);
    lua_getglobal(L, fn);
    if (!lua_isfunction(L, -1)) {
        snprintf(s->errbuf, sizeof s->errbuf, "custom step: the script defines no function '%s'", fn);
        s->errors++;
        *out = (scr_step_t){.kind = SCR_STEP_ERROR, .error = s->errbuf};
        lua_settop(L, top);
        return;
    }
    lua_State *co = lua_newthread(L);
    lua_pushlightuserdata(L, &key_co);
    lua_pushvalue(L, -2);
    lua_rawset(L, user); /* keeps the coroutine alive while it waits */
    lua_pushvalue(L, user + 1);
    lua_pushvalue(L, user);
    lua_xmove(L, co, 2);
    step_run(s, user, co, 1, out);
    lua_settop(L, top);
}

void scr_step_resume(scr_t *s, const scr_user_t *u, const resp_view_t *resp, stats_fail_t fail,
                     scr_step_t *out)
{
    lua_State *L = s->L;
    int top = lua_gettop(L);
    push_user(s, u);
    int user = lua_gettop(L);
    lua_pushlightuserdata(L, &key_co);
    lua_rawget(L, user);
    lua_State *co = lua_tothread(L, -1);
    if (!co) {
        snprintf(s->errbuf, sizeof s->errbuf, "custom step: no step to resume");
        *out = (scr_step_t){.kind = SCR_STEP_ERROR, .error = s->errbuf};
        lua_settop(L, top);
        return;
    }
    int nargs = 0;
    lua_pushlightuserdata(L, &key_res);
    lua_rawget(L, user);
    if (lua_istable(L, -1)) {
        /* after user:parallel: the responses, in order */
        nargs = 1;
        lua_pushlightuserdata(L, &key_res);
        lua_pushnil(L);
        lua_rawset(L, user);
        lua_xmove(L, co, 1);
    } else if (resp || fail != STATS_OK) {
        lua_pop(L, 1);
        nargs = 1;
        push_result(co, resp, fail);
    } else {
        lua_pop(L, 1);
    }
    step_run(s, user, co, nargs, out);
    lua_settop(L, top);
}

static void push_result(lua_State *co, const resp_view_t *resp, stats_fail_t fail)
{
    {
        lua_createtable(co, 0, 5);
        lua_pushinteger(co, resp ? resp->status : 0);
        lua_setfield(co, -2, "status");
        if (fail != STATS_OK) {
            lua_pushstring(co, stats_fail_name(fail));
            lua_setfield(co, -2, "fail");
        }
        if (resp) {
            lua_pushlstring(co, resp->body ? resp->body : "", resp->body ? resp->body_len : 0);
            lua_setfield(co, -2, "body");
            lua_createtable(co, 0, (int)resp->n_headers);
            for (size_t i = 0; i < resp->n_headers; i++) {
                char name[256];
                size_t n = resp->headers[i].name_len < sizeof name ? resp->headers[i].name_len
                                                                   : sizeof name - 1;
                for (size_t k = 0; k < n; k++) {
                    char ch = resp->headers[i].name[k];
                    name[k] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
                }
                lua_pushlstring(co, name, n);
                lua_pushlstring(co, resp->headers[i].value, resp->headers[i].value_len);
                lua_rawset(co, -3);
            }
            lua_setfield(co, -2, "headers");
        }
        luaL_getmetatable(co, RESPT_MT);
        lua_setmetatable(co, -2);
    }
}

void scr_step_result(scr_t *s, const scr_user_t *u, size_t i, const resp_view_t *resp,
                     stats_fail_t fail)
{
    lua_State *L = s->L;
    int top = lua_gettop(L);
    push_user(s, u);
    lua_pushlightuserdata(L, &key_res);
    lua_rawget(L, -2);
    if (lua_istable(L, -1)) {
        push_result(L, resp, fail);
        lua_rawseti(L, -2, (int)i + 1);
    }
    lua_settop(L, top);
}

const char *scr_step_url(scr_t *s, const scr_user_t *u, size_t i)
{
    lua_State *L = s->L;
    int top = lua_gettop(L);
    push_user(s, u);
    lua_pushlightuserdata(L, &key_pend);
    lua_rawget(L, -2);
    const char *url = NULL;
    if (lua_istable(L, -1)) {
        lua_rawgeti(L, -1, (int)i + 1);
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "url");
            url = lua_tostring(L, -1); /* checked a string: held by the pending table */
        }
    }
    lua_settop(L, top);
    return url;
}

int scr_step_fill(scr_t *s, const scr_user_t *u, int idx, scr_req_t *rv)
{
    lua_State *L = s->L;
    int top = lua_gettop(L);
    push_user(s, u);
    lua_pushlightuserdata(L, &key_pend);
    lua_rawget(L, -2);
    if (idx >= 0 && lua_istable(L, -1))
        lua_rawgeti(L, -1, idx + 1);
    /* The step's table is the request: method, body and headers as it says
     * (absent: none); the URL was rendered from its url already. */
    unsigned use = 1u << K_METHOD | 1u << K_BODY | 1u << K_HEADERS;
    const char *why = lua_istable(L, -1) ? rebuild(s, lua_gettop(L), rv, use) : "no request pending";
    lua_settop(L, top);
    if (why) {
        s->errors++;
        say_once(SCR_REQUEST, why);
        set_why(s, why);
        return -STATS_FAIL_SCRIPT;
    }
    return 0;
}

void scr_step_abort(scr_t *s, const scr_user_t *u)
{
    lua_State *L = s->L;
    int top = lua_gettop(L);
    push_user(s, u);
    step_clear(L, lua_gettop(L));
    lua_settop(L, top);
}

/* ---- done */

static void set_num(lua_State *L, const char *k, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

static void push_entry(lua_State *L, const stats_entry_t *e, double dur)
{
    set_num(L, "count", (double)e->count);
    set_num(L, "failures", (double)e->failures);
    set_num(L, "rps", dur > 0 ? (double)e->count / dur : 0);
    const hist_t *h = e->latency;
    if (h && hist_count(h)) {
        set_num(L, "min_ms", (double)hist_min(h) / 1000.0);
        set_num(L, "avg_ms", hist_mean(h) / 1000.0);
        set_num(L, "p50_ms", (double)hist_percentile(h, 50) / 1000.0);
        set_num(L, "p90_ms", (double)hist_percentile(h, 90) / 1000.0);
        set_num(L, "p95_ms", (double)hist_percentile(h, 95) / 1000.0);
        set_num(L, "p99_ms", (double)hist_percentile(h, 99) / 1000.0);
        set_num(L, "max_ms", (double)hist_max(h) / 1000.0);
    }
    lua_newtable(L);
    for (int c = 1; c < STATS_FAIL__COUNT; c++)
        if (e->fail[c]) {
            lua_pushnumber(L, (double)e->fail[c]);
            lua_setfield(L, -2, stats_fail_name((stats_fail_t)c));
        }
    lua_setfield(L, -2, "failures_by");
}

int scr_done(scr_t *s, stats_t *total, const stats_names_t *names, double duration_s, int rc)
{
    if (!scr_has(s, SCR_DONE))
        return rc;
    lua_State *L = s->L;
    int top = lua_gettop(L);
    lrt_unlimit(L); /* done may take its time */
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->ref[SCR_DONE]);
    lua_newtable(L);
    set_num(L, "duration", duration_s);
    set_num(L, "exit_code", rc);
    const stats_entry_t *t = stats_total(total);
    push_entry(L, t, duration_s);
    lua_getfield(L, -1, "count");
    lua_setfield(L, -2, "requests");
    lua_newtable(L);
    for (size_t i = 0; i < stats_entries(total); i++) {
        lua_newtable(L);
        lua_pushstring(L, stats_names_method(names, (uint32_t)i));
        lua_setfield(L, -2, "method");
        lua_pushstring(L, stats_names_name(names, (uint32_t)i));
        lua_setfield(L, -2, "name");
        push_entry(L, stats_entry(total, (uint32_t)i), duration_s);
        lua_rawseti(L, -2, (int)i + 1);
    }
    lua_setfield(L, -2, "entries");
    if (s->metrics) {
        /* The script's metrics summed over every state, as in the report. */
        json_t *j = smet_json(s->metrics);
        if (j) {
            lrt_push_json(L, j);
            lua_setfield(L, -2, "metrics");
            json_decref(j);
        }
    }
    if (call(L, 1, 1) != 0) {
        log_warn("script: done: %s", lua_tostring(L, -1));
    } else if (lua_type(L, -1) == LUA_TNUMBER) {
        lua_Number n = lua_tonumber(L, -1);
        if (n >= 0 && n <= 255 && n == (lua_Number)(int)n)
            rc = (int)n;
        else
            log_warn("script: done returned %g: an exit code is an integer 0..255; kept %d", n, rc);
    }
    lua_settop(L, top);
    return rc;
}

#endif

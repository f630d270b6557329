/* luart: the Lua runtime shared by the --script hooks (see luart.h). */
#include "luart.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

#define SAY_KINDS 32
static atomic_flag said[SAY_KINDS];

void lrt_say_once(unsigned kind, const char *what, const char *msg)
{
    if (kind < SAY_KINDS && atomic_flag_test_and_set(&said[kind]))
        return;
    log_warn("script: %s: %s (counted; further errors of this kind are counted without this "
             "message)", what, msg);
}

#ifndef AIOTEST_HAVE_LUA

bool lrt_available(const char **name)
{
    if (name)
        *name = NULL;
    return false;
}
lua_State *lrt_new(char *err, size_t errlen)
{
    snprintf(err, errlen, "this build has no Lua (built with -Dlua=none, or neither LuaJIT nor "
             "Lua 5.4 was found)");
    return NULL;
}
int lrt_load(lua_State *L, const char *path, char *err, size_t errlen)
{
    (void)L;
    snprintf(err, errlen, "--script %s: this build has no Lua", path);
    return -1;
}
void lrt_limit(lua_State *L) { (void)L; }
void lrt_unlimit(lua_State *L) { (void)L; }
int lrt_call(lua_State *L, int nargs, int nres)
{
    (void)L, (void)nargs, (void)nres;
    return -1;
}
void lrt_push_json(lua_State *L, const json_t *j) { (void)L, (void)j; }

#else

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#ifdef LUA_JITLIBNAME
#include <luajit.h>
#endif
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "clock.h"

bool lrt_available(const char **name)
{
    if (name) {
#ifdef LUAJIT_VERSION
        *name = LUAJIT_VERSION;
#else
        *name = LUA_RELEASE;
#endif
    }
    return true;
}

/* ---- JSON -> Lua */

static void push_json(lua_State *L, const json_t *j, int depth)
{
    if (depth > 64) {
        lua_pushnil(L);
        return;
    }
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        lua_createtable(L, 0, (int)json_object_size(j));
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)j, k, v) {
            push_json(L, v, depth + 1);
            lua_setfield(L, -2, k);
        }
        return;
    }
    case JSON_ARRAY: {
        lua_createtable(L, (int)json_array_size(j), 0);
        for (size_t i = 0; i < json_array_size(j); i++) {
            push_json(L, json_array_get(j, i), depth + 1);
            lua_rawseti(L, -2, (int)i + 1);
        }
        return;
    }
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(j), json_string_length(j));
        return;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(j));
        return;
    case JSON_REAL:
        lua_pushnumber(L, json_real_value(j));
        return;
    case JSON_TRUE:
        lua_pushboolean(L, 1);
        return;
    case JSON_FALSE:
        lua_pushboolean(L, 0);
        return;
    default:
        lua_pushnil(L);
        return;
    }
}

void lrt_push_json(lua_State *L, const json_t *j) { push_json(L, j, 0); }

/* ---- aiotest.*: helpers a script cannot write in plain Lua at speed */

/* aiotest.hmac(digest, key, data): the raw MAC (OpenSSL HMAC; digest
 * "sha256", "sha1", "sha512", ...). */
static int l_hmac(lua_State *L)
{
    const char *alg = luaL_checkstring(L, 1);
    size_t kn, dn;
    const char *key = luaL_checklstring(L, 2, &kn);
    const char *data = luaL_checklstring(L, 3, &dn);
    const EVP_MD *md = EVP_get_digestbyname(alg);
    if (!md)
        return luaL_error(L, "aiotest.hmac: unknown digest '%s' (sha256, sha1, sha512, ...)", alg);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!HMAC(md, key, (int)kn, (const unsigned char *)data, dn, mac, &n))
        return luaL_error(L, "aiotest.hmac: OpenSSL failed");
    lua_pushlstring(L, (const char *)mac, n);
    return 1;
}

/* aiotest.hash(digest, data): the raw digest. */
static int l_hash(lua_State *L)
{
    const char *alg = luaL_checkstring(L, 1);
    size_t dn;
    const char *data = luaL_checklstring(L, 2, &dn);
    const EVP_MD *md = EVP_get_digestbyname(alg);
    if (!md)
        return luaL_error(L, "aiotest.hash: unknown digest '%s' (sha256, sha1, md5, ...)", alg);
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_Digest(data, dn, out, &n, md, NULL))
        return luaL_error(L, "aiotest.hash: OpenSSL failed");
    lua_pushlstring(L, (const char *)out, n);
    return 1;
}

/* aiotest.hex(s): lower-case hex of the bytes. */
static int l_hex(lua_State *L)
{
    size_t n;
    const unsigned char *p = (const unsigned char *)luaL_checklstring(L, 1, &n);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t i = 0; i < n; i++) {
        luaL_addchar(&b, "0123456789abcdef"[p[i] >> 4]);
        luaL_addchar(&b, "0123456789abcdef"[p[i] & 15]);
    }
    luaL_pushresult(&b);
    return 1;
}

/* aiotest.base64(s): standard base64 with padding. */
static int l_base64(lua_State *L)
{
    size_t n;
    const unsigned char *p = (const unsigned char *)luaL_checklstring(L, 1, &n);
    if (n > 64u << 20)
        return luaL_error(L, "aiotest.base64: at most 64 MiB");
    size_t cap = 4 * ((n + 2) / 3) + 1;
    unsigned char *out = lua_newuserdata(L, cap); /* freed by the GC, even on an error */
    int len = EVP_EncodeBlock(out, p, (int)n);
    lua_pushlstring(L, (const char *)out, (size_t)len);
    return 1;
}

/* aiotest.now(): seconds on the monotonic clock (for expiry times). */
static int l_now(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)clk_mono_ns() / 1e9);
    return 1;
}

static void open_helpers(lua_State *L)
{
    static const luaL_Reg fns[] = {{"hmac", l_hmac}, {"hash", l_hash}, {"hex", l_hex},
                                   {"base64", l_base64}, {"now", l_now}, {NULL, NULL}};
    lua_newtable(L);
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
    lua_setglobal(L, "aiotest");
}

/* ---- state, calls, limit */

static int handler(lua_State *L)
{
    /* Keep the message as Lua made it (it names file:line); a non-string error
     * value gets a type name. */
    if (!lua_isstring(L, 1))
        lua_pushfstring(L, "error object is a %s value", luaL_typename(L, 1));
    return 1;
}

lua_State *lrt_new(char *err, size_t errlen)
{
    lua_State *L = luaL_newstate();
    if (!L) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    lua_pushcfunction(L, handler); /* stays at index 1: lrt_call */
    luaL_openlibs(L);
#ifdef LUA_JITLIBNAME
    luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
#endif
    open_helpers(L);
    return L;
}

int lrt_load(lua_State *L, const char *path, char *err, size_t errlen)
{
    /* The message is "FILE:LINE: what" for a syntax error, "cannot open FILE"
     * for an unreadable one. Text only: LuaJIT and Lua do not verify
     * precompiled bytecode, and a malformed chunk can crash the interpreter. */
    int rc = luaL_loadfilex(L, path, "t");
    if (rc != 0 && strstr(lua_tostring(L, -1), "mode")) {
        /* LuaJIT: "attempt to load chunk with wrong mode", no file named */
        snprintf(err, errlen, "--script: %s: precompiled (binary) chunks are refused: give the Lua "
                 "source", path);
        lua_pop(L, 1);
        return -1;
    }
    if (rc != 0 || lrt_call(L, 0, 0) != 0) {
        snprintf(err, errlen, "--script: %s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

static void insn_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    luaL_error(L, "cut after %d Lua instructions (a hook must return; use user:sleep to wait)",
               LRT_INSN_LIMIT);
}

void lrt_limit(lua_State *L) { lua_sethook(L, insn_hook, LUA_MASKCOUNT, LRT_INSN_LIMIT); }
void lrt_unlimit(lua_State *L) { lua_sethook(L, NULL, 0, 0); }

int lrt_call(lua_State *L, int nargs, int nres)
{
    return lua_pcall(L, nargs, nres, 1) == 0 ? 0 : -1;
}

#endif

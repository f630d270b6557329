/* Tests of common/luart.c: load errors name FILE:LINE; the instruction limit
 * cuts a loop and the state stays usable; JSON arrives as Lua values; the
 * aiotest.* helpers against published vectors (RFC 4231 case 2, FIPS 180-2
 * "abc", RFC 4648). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "luart.h"

#ifdef AIOTEST_HAVE_LUA
#include <lauxlib.h>
#include <lua.h>

static char *write_lua(const char *text)
{
    char *path = strdup("/tmp/aiotest-luart-XXXXXX.lua");
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

/* Loads text in a new state; NULL with err when it fails. */
static lua_State *load(const char *text, char *err, size_t errlen, char **path)
{
    lua_State *L = lrt_new(err, errlen);
    assert_non_null(L);
    *path = write_lua(text);
    if (lrt_load(L, *path, err, errlen) != 0) {
        lua_close(L);
        return NULL;
    }
    return L;
}

static void test_load_errors(void **state)
{
    (void)state;
    char err[512], *path, want[300];
    assert_null(load("x = 1\nfunction f(\n", err, sizeof err, &path));
    snprintf(want, sizeof want, "--script: %s:3:", path);
    if (!strstr(err, want))
        fail_msg("'%s' does not name %s", err, want);
    unlink(path);
    free(path);
    assert_null(load("local a = 1\nerror('no')\n", err, sizeof err, &path));
    snprintf(want, sizeof want, "%s:2: no", path);
    assert_non_null(strstr(err, want));
    unlink(path);
    free(path);
    lua_State *L = lrt_new(err, sizeof err);
    assert_int_equal(lrt_load(L, "/nonexistent/x.lua", err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot open"));
    /* Bytecode (here the bytes LuaJIT's and Lua's chunks begin with, then
     * noise) is refused before it is looked at. */
    char *bc = write_lua("\x1bLJ\x02\x00\x12\xff\xff\xff\x7f junk");
    assert_int_equal(lrt_load(L, bc, err, sizeof err), -1);
    assert_non_null(strstr(err, "binary"));
    unlink(bc);
    free(bc);
    lua_close(L);
}

static void test_limit_and_json(void **state)
{
    (void)state;
    char err[512], *path;
    lua_State *L = load("function spin() while true do end end\n"
                        "function check(t) return t.a[2] == 'x' and t.b.c == true and t.n == nil "
                        "and t.f == 1.5 end\n", err, sizeof err, &path);
    if (!L)
        fail_msg("%s", err);
    lua_getglobal(L, "spin");
    lrt_limit(L);
    assert_int_equal(lrt_call(L, 0, 0), -1);
    assert_non_null(strstr(lua_tostring(L, -1), "cut after"));
    lua_pop(L, 1);
    json_t *j = json_loads("{\"a\": [1, \"x\"], \"b\": {\"c\": true}, \"n\": null, \"f\": 1.5}", 0, NULL);
    lua_getglobal(L, "check");
    lrt_push_json(L, j);
    json_decref(j);
    lrt_limit(L);
    assert_int_equal(lrt_call(L, 1, 1), 0);
    assert_true(lua_toboolean(L, -1));
    lua_pop(L, 1);
    assert_int_equal(lua_gettop(L), 1); /* the handler, at index 1 */
    lua_close(L);
    unlink(path);
    free(path);
}

static void test_helpers(void **state)
{
    (void)state;
    char err[512], *path;
    lua_State *L = load(
        "local function eq(a, b) if a ~= b then error(tostring(a) .. ' ~= ' .. tostring(b)) end end\n"
        "eq(aiotest.hex(aiotest.hmac('sha256', 'Jefe', 'what do ya want for nothing?')),\n"
        "   '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843')\n"
        "eq(aiotest.hex(aiotest.hash('sha256', 'abc')),\n"
        "   'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')\n"
        "eq(aiotest.base64('foobar'), 'Zm9vYmFy') eq(aiotest.base64('fo'), 'Zm8=')\n"
        "eq(aiotest.base64(''), '') eq(aiotest.hex('\\0\\255'), '00ff')\n"
        "local t = aiotest.now() if not (t > 0 and aiotest.now() >= t) then error('now') end\n"
        "local ok, e = pcall(aiotest.hmac, 'nope', 'k', 'd')\n"
        "if ok or not e:find('unknown digest') then error('bad digest accepted') end\n",
        err, sizeof err, &path);
    if (!L)
        fail_msg("%s", err);
    lua_close(L);
    unlink(path);
    free(path);
}
#endif

int main(void)
{
#ifdef AIOTEST_HAVE_LUA
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_errors), cmocka_unit_test(test_limit_and_json),
        cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
#else
    char err[128];
    assert_false(lrt_available(NULL));
    assert_null(lrt_new(err, sizeof err));
    return 77;
#endif
}

/* luart: the Lua runtime the programs' --script hooks share (replay's
 * script.c, capture's cscript.c, convert's cvscript.c): a state with the
 * standard libraries and the aiotest.* helpers, a file loaded with errors
 * that name FILE:LINE, protected calls under an instruction limit, JSON to
 * Lua values. Each program keeps its own hooks and objects.
 *
 * A state made by lrt_new keeps its error handler at stack index 1 for its
 * whole life (lrt_call uses it without making a closure per call): callers
 * leave index 1 alone.
 *
 * Built without Lua (-Dlua=none) the header still compiles; lrt_available
 * says false and lrt_new fails with "this build has no Lua". */
#ifndef AIOTEST_LUART_H
#define AIOTEST_LUART_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

typedef struct lua_State lua_State;

/* True when this build has Lua ("LuaJIT 2.1.0-beta3" / "Lua 5.4.x" in *name,
 * NULL when not). */
bool lrt_available(const char **name);

/* A new state: standard libraries, aiotest.hmac/hash/hex/base64/now, and
 * with LuaJIT the JIT compiler off (compiled traces never run count hooks,
 * so the instruction limit could not cut a loop). NULL with err (out of
 * memory, no Lua in this build). Close with lua_close. */
lua_State *lrt_new(char *err, size_t errlen);

/* Loads path (Lua source; precompiled bytecode is refused: it is not
 * verified) and runs its top level (no limit). 0, or -1 with err
 * "--script: FILE:LINE: message" (syntax, runtime error, "cannot open FILE"). */
int lrt_load(lua_State *L, const char *path, char *err, size_t errlen);

/* A hook call that runs this many VM instructions is cut with an error. */
#define LRT_INSN_LIMIT 10000000

/* Arms the instruction limit for one call on L (a fresh count each time);
 * lrt_unlimit removes it. */
void lrt_limit(lua_State *L);
void lrt_unlimit(lua_State *L);

/* lua_pcall under the state's handler: 0, or -1 with the message (a string
 * naming FILE:LINE) on top of the stack. */
int lrt_call(lua_State *L, int nargs, int nres);

/* Pushes j as Lua values (objects -> tables, arrays -> 1-based tables, null
 * -> nil); deeper than 64 levels -> nil. */
void lrt_push_json(lua_State *L, const json_t *j);

/* The first message of each of up to 32 kinds (any small integer the
 * caller picks) per process is printed with log_warn as "script: WHAT: MSG
 * (counted; ...)"; later ones are only counted by the caller. */
void lrt_say_once(unsigned kind, const char *what, const char *msg);

#endif

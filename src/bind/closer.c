/* core.closer(f, ...): a to-be-closed value that calls f(...) when its
 * scope ends, however it ends. The library puts state back with it (the
 * precision, layer modes, the gradient tape) and promises that this
 * happens even when Ctrl-C raises an error at any instruction.
 *
 * A Lua function as __close cannot keep that promise: the host raises an
 * interrupt from a hook, and the hook runs on the close function's own
 * call, before its first line. So the closing function here is this C
 * function; the host asks cnn_closer_holds_interrupt before it raises and,
 * while a cleanup runs or is being called, keeps the interrupt for the
 * first instruction after it. */
#include "bind.h"
#include "closer.h"

#define CLOSER_MT "cnn.Closer"

/* Cleanups running now, nested ones included. Only the main thread runs
 * Lua, so a plain counter does. */
static int cleanups_running = 0;

/* __close(self, err): calls self[1](self[2], ..., self[n]). An error in the
 * cleanup is raised after the count is put back. */
static int closer_close(lua_State *L)
{
    lua_Integer n;
    int status;
    lua_getfield(L, 1, "n");
    n = lua_tointeger(L, -1);
    lua_pop(L, 1);
    luaL_checkstack(L, (int)n, "closer: too many arguments");
    for (lua_Integer i = 1; i <= n; i++)
        lua_rawgeti(L, 1, i);
    cleanups_running++;
    status = lua_pcall(L, (int)n - 1, 0, 0);
    cleanups_running--;
    if (status != LUA_OK)
        return lua_error(L);
    return 0;
}

/* closer(f, ...) -> a value for a `<close>` variable that calls f(...)
 * when the variable goes out of scope. */
static int closer_new(lua_State *L)
{
    int n = lua_gettop(L);
    if (lua_type(L, 1) != LUA_TFUNCTION)
        return luaL_error(L, "closer: f must be a function, got %s", luaL_typename(L, 1));
    lua_createtable(L, n, 1);
    for (int i = 1; i <= n; i++) {
        lua_pushvalue(L, i);
        lua_rawseti(L, -2, i);
    }
    lua_pushinteger(L, n);
    lua_setfield(L, -2, "n");
    luaL_setmetatable(L, CLOSER_MT);
    return 1;
}

int cnn_closer_holds_interrupt(lua_State *L, lua_Debug *ar)
{
    int calling;
    if (cleanups_running > 0)
        return 1;
    if (!lua_getinfo(L, "f", ar))
        return 0;
    calling = lua_tocfunction(L, -1) == closer_close;
    lua_pop(L, 1);
    return calling;
}

static const luaL_Reg closer_funcs[] = {
    {"closer", closer_new},
    {NULL, NULL},
};

void cnn_open_closer(lua_State *L)
{
    luaL_newmetatable(L, CLOSER_MT);
    lua_pushcfunction(L, closer_close);
    lua_setfield(L, -2, "__close");
    lua_pushliteral(L, "closer");
    lua_setfield(L, -2, "__name");
    lua_pop(L, 1);
    cnn_register(L, closer_funcs);
}

/* The job of processes (cnn.core.distributed_*): rank, size, barrier,
 * reductions and broadcasts of tensors and numbers, and the bucketed
 * gradient reduction of data-parallel training. MPI itself stays in
 * src/core/distributed.c; a process started without a launcher is rank
 * 0 of 1 and these calls change nothing. */
#include "bind.h"

#include "distributed.h"
#include "random.h"

#include <stdlib.h>
#include <string.h>

/* The reduction named at 'arg' ("sum" when absent). */
static cnn_reduce_op check_op(lua_State *L, int arg, const char *fname)
{
    cnn_reduce_op op = CNN_REDUCE_OP_SUM;
    if (lua_isnoneornil(L, arg))
        return op;
    const char *name = lua_type(L, arg) == LUA_TSTRING ? lua_tostring(L, arg) : NULL;
    if (name == NULL || !cnn_reduce_op_parse(name, &op))
        luaL_error(L, "%s: op must be \"sum\", \"mean\", \"max\" or \"min\", got %s",
                   fname, name != NULL ? name : luaL_typename(L, arg));
    return op;
}

static int check_root(lua_State *L, int arg, const char *fname)
{
    lua_Integer root = lua_isnoneornil(L, arg) ? 0 : luaL_checkinteger(L, arg);
    int size = cnn_distributed_size();
    if (root < 0 || root >= size)
        luaL_error(L, "%s: root must be a rank from 0 to %d, got %I", fname, size - 1,
                   (LUAI_UACINT)root);
    return (int)root;
}

static int dist_rank(lua_State *L)
{
    lua_pushinteger(L, cnn_distributed_rank());
    return 1;
}

static int dist_size(lua_State *L)
{
    lua_pushinteger(L, cnn_distributed_size());
    return 1;
}

/* distributed_support() -> compiled (boolean), launcher (string or nil),
 * joined (boolean) */
static int dist_support(lua_State *L)
{
    const char *launcher = cnn_distributed_launcher();
    lua_pushboolean(L, cnn_distributed_compiled());
    if (launcher != NULL)
        lua_pushstring(L, launcher);
    else
        lua_pushnil(L);
    lua_pushboolean(L, cnn_distributed_joined());
    return 3;
}

static int dist_barrier(lua_State *L)
{
    CNN_CHECK_STATUS(L, "distributed_barrier", cnn_distributed_barrier());
    return 0;
}

/* distributed_allreduce(t [, op]) -> t, reduced in place */
static int dist_allreduce(lua_State *L)
{
    cnn_tensor *t = cnn_check_tensor(L, 1);
    cnn_reduce_op op = check_op(L, 2, "distributed_allreduce");
    CNN_CHECK_STATUS(L, "distributed_allreduce", cnn_distributed_allreduce(t, op));
    lua_settop(L, 1);
    return 1;
}

/* distributed_allreduce_number(x [, op]) -> the reduced number */
static int dist_allreduce_number(lua_State *L)
{
    double v = luaL_checknumber(L, 1);
    cnn_reduce_op op = check_op(L, 2, "distributed_allreduce_number");
    CNN_CHECK_STATUS(L, "distributed_allreduce_number",
                     cnn_distributed_allreduce_doubles(&v, 1, op));
    lua_pushnumber(L, v);
    return 1;
}

/* distributed_broadcast(t [, root]) -> t, root's values in place */
static int dist_broadcast(lua_State *L)
{
    cnn_tensor *t = cnn_check_tensor(L, 1);
    int root = check_root(L, 2, "distributed_broadcast");
    CNN_CHECK_STATUS(L, "distributed_broadcast", cnn_distributed_broadcast(t, root));
    lua_settop(L, 1);
    return 1;
}

/* distributed_broadcast_rng([root]): every process's random generator
 * takes root's state. */
static int dist_broadcast_rng(lua_State *L)
{
    int root = check_root(L, 1, "distributed_broadcast_rng");
    uint64_t state[2];
    cnn_rng_get_state(&state[0], &state[1]);
    CNN_CHECK_STATUS(L, "distributed_broadcast_rng",
                     cnn_distributed_broadcast_u64(state, 2, root));
    cnn_rng_set_state(state[0], state[1]);
    return 0;
}

/* distributed_allreduce_bucket(tensors, scale, extras) -> sums of the
 * extras. tensors: an array of Float32 tensors, each replaced in place by
 * the sum over the job of scale·t; extras: an array of numbers summed
 * unscaled in the same call. */
static int dist_allreduce_bucket(lua_State *L)
{
    const char *fname = "distributed_allreduce_bucket";
    luaL_checktype(L, 1, LUA_TTABLE);
    float scale = (float)luaL_checknumber(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    int n = cnn_rawlen(L, 1), nextras = cnn_rawlen(L, 3);
    size_t tensors_bytes = (size_t)(n > 0 ? n : 1) * sizeof(cnn_tensor *);
    /* freed by Lua's collector whatever happens below */
    char *block = lua_newuserdatauv(
        L, tensors_bytes + (size_t)(nextras > 0 ? nextras : 1) * sizeof(float), 0);
    cnn_tensor **ts = (cnn_tensor **)block;
    float *extras = (float *)(block + tensors_bytes);
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, 1, i + 1);
        ts[i] = cnn_to_tensor(L, lua_gettop(L));
        if (ts[i] == NULL)
            luaL_error(L, "%s: entry %d must be a tensor, got %s", fname, i + 1,
                       luaL_typename(L, -1));
        lua_pop(L, 1); /* the table keeps the tensor alive */
    }
    for (int i = 0; i < nextras; i++) {
        lua_rawgeti(L, 3, i + 1);
        if (!lua_isnumber(L, -1))
            luaL_error(L, "%s: extra %d must be a number, got %s", fname, i + 1,
                       luaL_typename(L, -1));
        extras[i] = (float)lua_tonumber(L, -1);
        lua_pop(L, 1);
    }
    CNN_CHECK_STATUS(L, fname,
                     cnn_distributed_allreduce_bucket(ts, n, scale, extras, nextras));
    lua_createtable(L, nextras, 0);
    for (int i = 0; i < nextras; i++) {
        lua_pushnumber(L, extras[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* distributed_stats() -> {seconds=, calls=, bytes=} of the reductions and
 * broadcasts so far */
static int dist_stats(lua_State *L)
{
    cnn_distributed_stats s = cnn_distributed_get_stats();
    lua_createtable(L, 0, 3);
    lua_pushnumber(L, s.seconds);
    lua_setfield(L, -2, "seconds");
    lua_pushinteger(L, s.calls);
    lua_setfield(L, -2, "calls");
    lua_pushinteger(L, s.bytes);
    lua_setfield(L, -2, "bytes");
    return 1;
}

static const luaL_Reg distributed_funcs[] = {
    {"distributed_rank", dist_rank},
    {"distributed_size", dist_size},
    {"distributed_support", dist_support},
    {"distributed_barrier", dist_barrier},
    {"distributed_allreduce", dist_allreduce},
    {"distributed_allreduce_number", dist_allreduce_number},
    {"distributed_broadcast", dist_broadcast},
    {"distributed_broadcast_rng", dist_broadcast_rng},
    {"distributed_allreduce_bucket", dist_allreduce_bucket},
    {"distributed_stats", dist_stats},
    {NULL, NULL},
};

void cnn_open_distributed(lua_State *L) { cnn_register(L, distributed_funcs); }

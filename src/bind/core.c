/* luaopen_cnn_core: the module table of cnn.core, assembled family by
 * family, plus process-wide settings and counters. */
#include "bind.h"

#include "context.h"
#include "conv.h"
#include "tensor.h"
#include "thread_count.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

/* stats().kinds: an array of {name=, seconds=, executions=}, one per kind
 * of primitive, in a fixed order; times grow only while profiling. */
static void push_profile_rows(lua_State *L, const cnn_stats *s)
{
    lua_createtable(L, CNN_PROFILE_COUNT, 0);
    for (int k = 0; k < CNN_PROFILE_COUNT; k++) {
        lua_createtable(L, 0, 3);
        lua_pushstring(L, cnn_profile_kind_name(k));
        lua_setfield(L, -2, "name");
        lua_pushnumber(L, s->seconds[k]);
        lua_setfield(L, -2, "seconds");
        lua_pushinteger(L, s->executions[k]);
        lua_setfield(L, -2, "executions");
        lua_rawseti(L, -2, k + 1);
    }
}

static int core_stats(lua_State *L)
{
    const cnn_stats *s = cnn_global_stats();
    lua_createtable(L, 0, 10);
    lua_pushinteger(L, s->primitives_created);
    lua_setfield(L, -2, "primitives_created");
    lua_pushinteger(L, s->primitives_evicted);
    lua_setfield(L, -2, "primitives_evicted");
    lua_pushinteger(L, s->primitive_executions);
    lua_setfield(L, -2, "primitive_executions");
    lua_pushinteger(L, s->reorders);
    lua_setfield(L, -2, "reorders");
    lua_pushinteger(L, s->tensor_allocations);
    lua_setfield(L, -2, "tensor_allocations");
    lua_pushinteger(L, s->tensor_bytes_allocated);
    lua_setfield(L, -2, "tensor_bytes_allocated");
    lua_pushinteger(L, cnn_storage_system_allocations());
    lua_setfield(L, -2, "system_allocations");
    lua_pushinteger(L, cnn_storage_system_bytes());
    lua_setfield(L, -2, "system_bytes_allocated");
    lua_pushinteger(L, (lua_Integer)cnn_storage_cache_limit());
    lua_setfield(L, -2, "cache_limit_bytes");
    push_profile_rows(L, s);
    lua_setfield(L, -2, "kinds");
    return 1;
}

/* profiling([on]) -> whether primitive executions are timed (and sets it
 * first when given a boolean). */
static int core_profiling(lua_State *L)
{
    cnn_stats *s = cnn_global_stats();
    int was = s->profiling;
    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TBOOLEAN);
        s->profiling = lua_toboolean(L, 1);
    }
    lua_pushboolean(L, was);
    return 1;
}

/* threads([n]) -> the most threads, the threads the next ops run on and
 * the cores other processes kept busy at the last look; threads(n) sets
 * the most first. */
static int core_threads(lua_State *L)
{
    if (!lua_isnoneornil(L, 1)) {
        lua_Integer n = luaL_checkinteger(L, 1);
        luaL_argcheck(L, n >= 1 && n <= 4096, 1, "thread count must be 1 to 4096");
        cnn_set_num_threads((int)n);
    }
    lua_pushinteger(L, cnn_threads_most());
    lua_pushinteger(L, cnn_threads_now());
    lua_pushnumber(L, cnn_threads_others_busy());
    return 3;
}

/* adaptive_threads([on]) -> whether the thread count follows the other
 * processes' load (and sets it first when given a boolean). */
static int core_adaptive_threads(lua_State *L)
{
    bool was = cnn_threads_adaptive();
    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TBOOLEAN);
        cnn_threads_set_adaptive(lua_toboolean(L, 1));
    }
    lua_pushboolean(L, was);
    return 1;
}

/* The precision a name stands for; -1 for a name that is none. */
static int precision_of(const char *name)
{
    if (!strcmp(name, cnn_precision_name(CNN_PRECISION_FP32)))
        return CNN_PRECISION_FP32;
    if (!strcmp(name, cnn_precision_name(CNN_PRECISION_BF16)))
        return CNN_PRECISION_BF16;
    return -1;
}

/* precision_supported(name): whether this CPU runs convolutions in that
 * precision (bf16 needs AVX-512); false for an unknown name. */
static int core_precision_supported(lua_State *L)
{
    int p = precision_of(luaL_checkstring(L, 1));
    lua_pushboolean(L, p >= 0 && cnn_conv2d_precision_supported((cnn_precision)p));
    return 1;
}

/* precision() returns the compute precision ("fp32" or "bf16");
 * precision(name) sets it first. cnn.precision checks the name for the
 * user; this refuses anything else all the same. */
static int core_precision(lua_State *L)
{
    if (!lua_isnoneornil(L, 1)) {
        const char *name = luaL_checkstring(L, 1);
        int p = precision_of(name);
        if (p >= 0)
            cnn_set_precision((cnn_precision)p);
        else
            return luaL_error(L,
                              "precision: unknown precision \"%s\" (valid: \"fp32\", "
                              "\"bf16\")",
                              name);
    }
    lua_pushstring(L, cnn_precision_name(cnn_get_precision()));
    return 1;
}

static int core_dnnl_version(lua_State *L)
{
    const dnnl_version_t *v = dnnl_version();
    lua_pushfstring(L, "%d.%d.%d", v->major, v->minor, v->patch);
    return 1;
}

/* isatty(fd): whether a file descriptor is a terminal (progress bars). */
static int core_isatty(lua_State *L)
{
    lua_Integer fd = luaL_checkinteger(L, 1);
    luaL_argcheck(L, fd >= 0 && fd <= 1048576, 1, "file descriptor out of range");
    lua_pushboolean(L, isatty((int)fd) == 1);
    return 1;
}

/* monotime(): seconds on a monotonic wall clock; os.clock counts CPU time
 * of all threads, which runs faster than the wall under OpenMP. */
static int core_monotime(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)cnn_seconds());
    return 1;
}

static const luaL_Reg core_funcs[] = {
    {"isatty", core_isatty},
    {"monotime", core_monotime},
    {"stats", core_stats},
    {"profiling", core_profiling},
    {"threads", core_threads},
    {"adaptive_threads", core_adaptive_threads},
    {"precision", core_precision},
    {"precision_supported", core_precision_supported},
    {"dnnl_version", core_dnnl_version},
    {NULL, NULL},
};

int luaopen_cnn_core(lua_State *L)
{
    lua_newtable(L);
    cnn_register(L, core_funcs);
    cnn_open_tensor_object(L);
    cnn_open_tensor(L);
    cnn_open_math(L);
    cnn_open_display(L);
    cnn_open_nn(L);
    cnn_open_activation(L);
    cnn_open_sampling(L);
    cnn_open_data(L);
    cnn_open_optim(L);
    cnn_open_rearrange(L);
    cnn_open_figure(L);
    cnn_open_augment(L);
    cnn_open_image(L);
    cnn_open_quantized(L);
    cnn_open_distributed(L);
    cnn_open_closer(L);
    cnn_open_tensor_indexing(L); /* last: replaces the __index table */
    return 1;
}

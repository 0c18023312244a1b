/* Tensor construction, sizes, views and element access. */
#include "bind.h"

/* Element type from an optional trailing string argument. */
static cnn_dtype opt_dtype(lua_State *L, int arg)
{
    static const char *const names[] = {"float32", "int32", NULL};
    return (cnn_dtype)luaL_checkoption(L, arg, "float32", names);
}

/* Sizes from stack index 1 on, stopping at a trailing type name. */
static int sizes_and_dtype(lua_State *L, int64_t *size, cnn_dtype *dtype)
{
    int top = lua_gettop(L);
    *dtype = CNN_FLOAT32;
    if (top >= 1 && lua_type(L, top) == LUA_TSTRING) {
        *dtype = opt_dtype(L, top);
        lua_pop(L, 1);
    }
    return cnn_check_sizes(L, 1, size);
}

static int tensor_zeros(lua_State *L)
{
    int64_t size[CNN_MAX_DIMS];
    cnn_dtype dtype;
    int ndims = sizes_and_dtype(L, size, &dtype);
    cnn_push_new_tensor(L, dtype, ndims, size);
    return 1;
}

static int tensor_ones(lua_State *L)
{
    int64_t size[CNN_MAX_DIMS];
    cnn_dtype dtype;
    int ndims = sizes_and_dtype(L, size, &dtype);
    cnn_tensor *t = cnn_push_new_tensor(L, dtype, ndims, size);
    cnn_tensor_fill(t, 1.0);
    return 1;
}

/* t:size() returns all sizes as a table; t:size(d) the size of dimension
 * d (dimensions past the last have size 1, as in Julia). */
static int tensor_size(lua_State *L)
{
    cnn_tensor *t = cnn_check_tensor(L, 1);
    if (lua_isnoneornil(L, 2)) {
        lua_createtable(L, t->ndims, 0);
        for (int d = 0; d < t->ndims; d++) {
            lua_pushinteger(L, t->size[d]);
            lua_rawseti(L, -2, d + 1);
        }
        return 1;
    }
    lua_Integer d = luaL_checkinteger(L, 2);
    luaL_argcheck(L, d >= 1, 2, "dimension must be at least 1");
    lua_pushinteger(L, d <= t->ndims ? t->size[d - 1] : 1);
    return 1;
}

static int tensor_ndims(lua_State *L)
{
    lua_pushinteger(L, cnn_check_tensor(L, 1)->ndims);
    return 1;
}

static int tensor_numel(lua_State *L)
{
    lua_pushinteger(L, cnn_tensor_numel(cnn_check_tensor(L, 1)));
    return 1;
}

static int tensor_dtype(lua_State *L)
{
    lua_pushstring(L, cnn_dtype_name(cnn_check_tensor(L, 1)->dtype));
    return 1;
}

static const luaL_Reg tensor_funcs[] = {
    {"zeros", tensor_zeros},
    {"ones", tensor_ones},
    {"size", tensor_size},
    {"ndims", tensor_ndims},
    {"numel", tensor_numel},
    {"dtype", tensor_dtype},
    {NULL, NULL},
};

/* Registered both as module functions (core.size(t)) and as methods
 * (t:size()). */
void cnn_open_tensor(lua_State *L)
{
    cnn_register(L, tensor_funcs);
    luaL_getmetatable(L, CNN_TENSOR_MT);
    lua_getfield(L, -1, "__index");
    for (const luaL_Reg *r = tensor_funcs + 2; r->name; r++) {
        lua_pushcfunction(L, r->func);
        lua_setfield(L, -2, r->name);
    }
    lua_pop(L, 2);
}

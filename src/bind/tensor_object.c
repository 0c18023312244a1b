/* The tensor and storage userdata: creation, checks, freeing, GC. */
#include "bind.h"

#include <string.h>

#include "dnnl_context.h"

static int storage_gc(lua_State *L)
{
    cnn_storage *s = luaL_checkudata(L, 1, CNN_STORAGE_MT);
    cnn_storage_free(s);
    return 0;
}

/* Creates the storage userdata empty first, so a failed allocation leaves
 * nothing for __gc to trip over. */
static cnn_storage *push_storage(lua_State *L, size_t bytes)
{
    cnn_storage *s = lua_newuserdatauv(L, sizeof *s, 0);
    s->data = NULL;
    s->bytes = 0;
    luaL_setmetatable(L, CNN_STORAGE_MT);
    CNN_CHECK_STATUS(L, "tensor", cnn_storage_alloc(s, bytes));
    cnn_stats *st = cnn_global_stats();
    st->tensor_allocations++;
    st->tensor_bytes_allocated += (int64_t)bytes;
    if (bytes >= 1024)
        lua_gc(L, LUA_GCSTEP, (int)(bytes / 1024 > 1 << 20 ? 1 << 20 : bytes / 1024));
    return s;
}

cnn_tensor *cnn_to_tensor(lua_State *L, int arg)
{
    return luaL_testudata(L, arg, CNN_TENSOR_MT);
}

cnn_tensor *cnn_check_tensor(lua_State *L, int arg)
{
    cnn_tensor *t = luaL_checkudata(L, arg, CNN_TENSOR_MT);
    if (!cnn_tensor_data(t))
        luaL_error(L, "attempt to use a freed tensor");
    return t;
}

cnn_tensor *cnn_check_tensor_type(lua_State *L, int arg, cnn_dtype dtype)
{
    cnn_tensor *t = cnn_check_tensor(L, arg);
    if (t->dtype != dtype) {
        const char *msg = lua_pushfstring(L, "%s tensor expected, got %s",
                                          cnn_dtype_name(dtype),
                                          cnn_dtype_name(t->dtype));
        luaL_argerror(L, arg, msg);
    }
    return t;
}

static cnn_tensor *push_tensor_header(lua_State *L)
{
    cnn_tensor *t = lua_newuserdatauv(L, sizeof *t, 1);
    memset(t, 0, sizeof *t);
    luaL_setmetatable(L, CNN_TENSOR_MT);
    return t;
}

cnn_tensor *cnn_push_new_tensor(lua_State *L, cnn_dtype dtype, int ndims,
                                const int64_t *size)
{
    cnn_tensor shape;
    CNN_CHECK_STATUS(L, "tensor", cnn_tensor_init(&shape, dtype, ndims, size));
    cnn_tensor *t = push_tensor_header(L);
    *t = shape;
    cnn_storage *s = push_storage(L, cnn_tensor_bytes(&shape));
    t->storage = s;
    lua_setiuservalue(L, -2, 1);
    return t;
}

cnn_tensor *cnn_push_tensor_like(lua_State *L, const cnn_tensor *like)
{
    return cnn_push_new_tensor(L, like->dtype, like->ndims, like->size);
}

cnn_tensor *cnn_push_view(lua_State *L, int parent)
{
    parent = lua_absindex(L, parent);
    cnn_tensor *p = cnn_check_tensor(L, parent);
    cnn_tensor *t = push_tensor_header(L);
    *t = *p;
    lua_getiuservalue(L, parent, 1);
    lua_setiuservalue(L, -2, 1);
    return t;
}

const char *cnn_push_shape(lua_State *L, const cnn_tensor *t)
{
    char buf[256];
    return lua_pushstring(L, cnn_shape_string(t, buf, sizeof buf));
}

int cnn_check_sizes(lua_State *L, int first, int64_t *size)
{
    int ndims = 0;
    if (lua_istable(L, first)) {
        ndims = (int)luaL_len(L, first);
        luaL_argcheck(L, ndims <= CNN_MAX_DIMS, first, "too many dimensions");
        for (int d = 0; d < ndims; d++) {
            lua_geti(L, first, d + 1);
            int isint;
            lua_Integer v = lua_tointegerx(L, -1, &isint);
            if (!isint || v < 0)
                luaL_argerror(L, first, "sizes must be non-negative integers");
            size[d] = v;
            lua_pop(L, 1);
        }
        return ndims;
    }
    int top = lua_gettop(L);
    luaL_argcheck(L, top - first + 1 <= CNN_MAX_DIMS, first, "too many dimensions");
    for (int i = first; i <= top; i++) {
        lua_Integer v = luaL_checkinteger(L, i);
        luaL_argcheck(L, v >= 0, i, "size must be non-negative");
        size[ndims++] = v;
    }
    return ndims;
}

int cnn_raise_status(lua_State *L, const char *fname, cnn_status status)
{
    (void)status;
    return luaL_error(L, "%s: %s", fname, cnn_error_message());
}

void cnn_register(lua_State *L, const luaL_Reg *funcs)
{
    luaL_setfuncs(L, funcs, 0);
}

/* t:free(): releases the bytes now; every view of the storage then raises
 * "attempt to use a freed tensor". Safe to call twice. */
static int tensor_free(lua_State *L)
{
    luaL_checkudata(L, 1, CNN_TENSOR_MT);
    lua_getiuservalue(L, 1, 1);
    cnn_storage *s = luaL_testudata(L, -1, CNN_STORAGE_MT);
    if (s)
        cnn_storage_free(s);
    return 0;
}

void cnn_open_tensor_object(lua_State *L)
{
    if (luaL_newmetatable(L, CNN_STORAGE_MT)) {
        lua_pushcfunction(L, storage_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    /* The Tensor metatable: methods live in its __index table, which the
     * family openers and the Lua layer fill. */
    if (luaL_newmetatable(L, CNN_TENSOR_MT)) {
        lua_newtable(L);
        lua_setfield(L, -2, "__index");
    }
    lua_getfield(L, -1, "__index");
    lua_pushcfunction(L, tensor_free);
    lua_setfield(L, -2, "free");
    lua_pop(L, 2);
    /* core.Tensor is the metatable, so Lua code can add methods and
     * metamethods (the autodiff-aware operators live in Lua). */
    luaL_getmetatable(L, CNN_TENSOR_MT);
    lua_setfield(L, -2, "Tensor");
}

/* Copies that rearrange tensors (rearrange.h): cat, flip, pad_constant,
 * repeat_ and repeat_backward. Dimensions and lists arrive 1-based and as
 * Lua tables; cnn's differentiable ops check them first and name the
 * user's function. */
#include "bind.h"

#include "rearrange.h"

/* The integers of the list at 'arg' (at most 'max'); returns the count. */
static int check_list(lua_State *L, int arg, int64_t *out, int max)
{
    luaL_checktype(L, arg, LUA_TTABLE);
    int n = cnn_rawlen(L, arg);
    luaL_argcheck(L, n <= max, arg, "too many entries");
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, arg, i + 1);
        int isint;
        lua_Integer v = lua_tointegerx(L, -1, &isint);
        if (!isint)
            luaL_argerror(L, arg, "integers expected");
        out[i] = v;
        lua_pop(L, 1);
    }
    return n;
}

/* cat(dim, x1, x2, ...) -> the tensors one after another along dim */
static int rearrange_cat(lua_State *L)
{
    lua_Integer dim = luaL_checkinteger(L, 1);
    int n = lua_gettop(L) - 1;
    luaL_argcheck(L, dim >= 1 && dim <= CNN_MAX_DIMS, 1, "dimension out of range");
    luaL_argcheck(L, n >= 1, 2, "tensor expected");
    const cnn_tensor **xs = lua_newuserdatauv(L, (size_t)n * sizeof *xs, 0);
    for (int i = 0; i < n; i++)
        xs[i] = cnn_check_tensor(L, i + 2);
    int ndims;
    int64_t size[CNN_MAX_DIMS];
    CNN_CHECK_STATUS(L, "cat", cnn_cat_sizes(xs, n, (int)dim - 1, &ndims, size));
    cnn_tensor *y = cnn_push_tensor_uninit(L, xs[0]->dtype, ndims, size);
    CNN_CHECK_STATUS(L, "cat", cnn_cat(y, xs, n, (int)dim - 1));
    return 1;
}

/* flip(x, {d1, d2, ...}) -> x reversed along those dimensions */
static int rearrange_flip(lua_State *L)
{
    cnn_tensor *x = cnn_check_tensor(L, 1);
    int64_t dims[32];
    int n = check_list(L, 2, dims, 32);
    unsigned mask = 0;
    for (int i = 0; i < n; i++) {
        luaL_argcheck(L, dims[i] >= 1 && dims[i] <= 32, 2, "dimension out of range");
        mask |= 1u << (dims[i] - 1);
    }
    cnn_tensor *y = cnn_push_tensor_uninit(L, x->dtype, x->ndims, x->size);
    CNN_CHECK_STATUS(L, "flip", cnn_flip(y, x, mask));
    return 1;
}

/* pad_constant(x, lo, hi [, value]) -> x padded with value (0) */
static int rearrange_pad_constant(lua_State *L)
{
    cnn_tensor *x = cnn_check_tensor(L, 1);
    int64_t lo[CNN_MAX_DIMS], hi[CNN_MAX_DIMS];
    int nlo = check_list(L, 2, lo, CNN_MAX_DIMS),
        nhi = check_list(L, 3, hi, CNN_MAX_DIMS);
    double value = luaL_optnumber(L, 4, 0);
    luaL_argcheck(L, nlo == x->ndims, 2, "one pad per dimension expected");
    luaL_argcheck(L, nhi == x->ndims, 3, "one pad per dimension expected");
    int ndims;
    int64_t size[CNN_MAX_DIMS];
    CNN_CHECK_STATUS(L, "pad_constant", cnn_pad_sizes(x, lo, hi, &ndims, size));
    cnn_tensor *y = cnn_push_tensor_uninit(L, x->dtype, ndims, size);
    CNN_CHECK_STATUS(L, "pad_constant", cnn_pad_constant(y, x, lo, hi, value));
    return 1;
}

/* repeat_(x, {c1, c2, ...}) -> x tiled c_d times along dimension d */
static int rearrange_repeat(lua_State *L)
{
    cnn_tensor *x = cnn_check_tensor(L, 1);
    int64_t counts[CNN_MAX_DIMS];
    int n = check_list(L, 2, counts, CNN_MAX_DIMS);
    int ndims;
    int64_t size[CNN_MAX_DIMS];
    CNN_CHECK_STATUS(L, "repeat_", cnn_repeat_sizes(x, counts, n, &ndims, size));
    cnn_tensor *y = cnn_push_tensor_uninit(L, x->dtype, ndims, size);
    CNN_CHECK_STATUS(L, "repeat_", cnn_repeat(y, x, counts, n));
    return 1;
}

/* repeat_backward(gy, sizes, {c1, c2, ...}) -> gx of the sizes of x */
static int rearrange_repeat_backward(lua_State *L)
{
    cnn_tensor *gy = cnn_check_tensor(L, 1);
    int64_t size[CNN_MAX_DIMS], counts[CNN_MAX_DIMS];
    luaL_checktype(L, 2, LUA_TTABLE);
    int ndims = cnn_check_sizes(L, 2, size);
    int n = check_list(L, 3, counts, CNN_MAX_DIMS);
    cnn_tensor *gx = cnn_push_tensor_uninit(L, CNN_FLOAT32, ndims, size);
    CNN_CHECK_STATUS(L, "repeat_backward", cnn_repeat_backward(gx, gy, counts, n));
    return 1;
}

static const luaL_Reg rearrange_funcs[] = {
    {"cat", rearrange_cat},
    {"flip", rearrange_flip},
    {"pad_constant", rearrange_pad_constant},
    {"repeat_", rearrange_repeat},
    {"repeat_backward", rearrange_repeat_backward},
    {NULL, NULL},
};

void cnn_open_rearrange(lua_State *L) { cnn_register(L, rearrange_funcs); }

/* Elementwise algebra, reductions and matrix products (cnn.core). */
#include "bind.h"

#include <math.h>

#include "broadcast.h"
#include "matmul.h"
#include "reduce.h"

/* A Lua number as a 0-dim tensor living on the C stack: a Lua integer
 * that fits is Int32 (so Int32 tensors stay Int32), anything else Float32. */
typedef struct scalar_arg {
    cnn_tensor t;
    cnn_storage storage;
    union {
        float f;
        int32_t i;
    } value;
} scalar_arg;

static const cnn_tensor *scalar_tensor(lua_State *L, int arg, scalar_arg *s)
{
    lua_Integer v = lua_tointeger(L, arg);
    bool integer = lua_isinteger(L, arg) && v >= INT32_MIN && v <= INT32_MAX;
    if (integer)
        s->value.i = (int32_t)v;
    else
        s->value.f = (float)lua_tonumber(L, arg);
    s->storage.data = &s->value;
    s->storage.bytes = sizeof s->value;
    cnn_tensor_init(&s->t, integer ? CNN_INT32 : CNN_FLOAT32, 0, NULL);
    s->t.storage = &s->storage;
    return &s->t;
}

static const cnn_tensor *check_operand(lua_State *L, int arg, scalar_arg *s,
                                       const char *fname)
{
    if (cnn_to_tensor(L, arg))
        return cnn_check_tensor(L, arg);
    if (lua_type(L, arg) == LUA_TNUMBER)
        return scalar_tensor(L, arg, s);
    luaL_error(L, "%s: expected a tensor or a number as argument %d, got %s", fname, arg,
               luaL_typename(L, arg));
    return NULL;
}

/* Optional output tensor at 'arg': pushed (as the result) if given. */
static cnn_tensor *opt_out(lua_State *L, int arg)
{
    if (lua_isnoneornil(L, arg))
        return NULL;
    cnn_tensor *out = cnn_check_tensor(L, arg);
    lua_pushvalue(L, arg);
    return out;
}

/* Two numbers give a number, as in Julia (2 .- 1 == 1). */
static int binary_numbers(lua_State *L, cnn_binary_op op, const char *fname,
                          const cnn_tensor *a, const cnn_tensor *b)
{
    scalar_arg result;
    lua_pushinteger(L, 0);
    scalar_tensor(L, -1, &result);
    lua_pop(L, 1);
    result.t.dtype = cnn_binary_result_dtype(op, a->dtype, b->dtype);
    CNN_CHECK_STATUS(L, fname, cnn_binary(op, a, b, &result.t));
    if (result.t.dtype == CNN_INT32)
        lua_pushinteger(L, result.value.i);
    else
        lua_pushnumber(L, result.value.f);
    return 1;
}

/* a op b of two tensors in one blocked layout, in that layout (no
 * conversion to plain); false if they are not such a pair. */
static bool binary_in_layout(lua_State *L, cnn_binary_op op, const char *fname)
{
    cnn_tensor *a = luaL_testudata(L, 1, CNN_TENSOR_MT);
    cnn_tensor *b = luaL_testudata(L, 2, CNN_TENSOR_MT);
    if (!a || !b || !lua_isnoneornil(L, 3) || !cnn_binary_keeps_layout(op, a, b))
        return false;
    cnn_tensor *out = cnn_push_tensor_in_layout(L, a->ndims, a->size, &a->layout);
    CNN_CHECK_STATUS(L, fname, cnn_binary_in_layout(op, a, b, out));
    return true;
}

static int binary(lua_State *L, cnn_binary_op op, const char *fname, bool with_out)
{
    if (binary_in_layout(L, op, fname))
        return 1;
    scalar_arg sa, sb;
    const cnn_tensor *a = check_operand(L, 1, &sa, fname);
    const cnn_tensor *b = check_operand(L, 2, &sb, fname);
    cnn_tensor *out = with_out ? opt_out(L, 3) : NULL;
    if (!out && a->ndims == 0 && b->ndims == 0 && !cnn_to_tensor(L, 1) &&
        !cnn_to_tensor(L, 2))
        return binary_numbers(L, op, fname, a, b);
    if (!out) {
        int ndims;
        int64_t size[CNN_MAX_DIMS];
        CNN_CHECK_STATUS(L, fname, cnn_broadcast_sizes(a, b, &ndims, size));
        out = cnn_push_tensor_uninit(L, cnn_binary_result_dtype(op, a->dtype, b->dtype),
                                     ndims, size);
    }
    CNN_CHECK_STATUS(L, fname, cnn_binary(op, a, b, out));
    return 1;
}

#define BINARY_FUNCTION(NAME, OP)                                                        \
    static int math_##NAME(lua_State *L) { return binary(L, OP, #NAME, true); }

BINARY_FUNCTION(add, CNN_BINARY_ADD)
BINARY_FUNCTION(sub, CNN_BINARY_SUB)
BINARY_FUNCTION(mul, CNN_BINARY_MUL)
BINARY_FUNCTION(div, CNN_BINARY_DIV)
BINARY_FUNCTION(pow, CNN_BINARY_POW)
BINARY_FUNCTION(max, CNN_BINARY_MAX)
BINARY_FUNCTION(min, CNN_BINARY_MIN)
BINARY_FUNCTION(eq, CNN_BINARY_EQ)
BINARY_FUNCTION(ne, CNN_BINARY_NE)
BINARY_FUNCTION(lt, CNN_BINARY_LT)
BINARY_FUNCTION(le, CNN_BINARY_LE)
BINARY_FUNCTION(gt, CNN_BINARY_GT)
BINARY_FUNCTION(ge, CNN_BINARY_GE)

/* Operators broadcast like Julia's dotted ones, and their errors say so
 * (".*: sizes 3×4 and 4×5 do not broadcast" tells a Julia user that * is
 * elementwise here; matmul is the product). */
static int meta_add(lua_State *L) { return binary(L, CNN_BINARY_ADD, ".+", false); }
static int meta_sub(lua_State *L) { return binary(L, CNN_BINARY_SUB, ".-", false); }
static int meta_mul(lua_State *L) { return binary(L, CNN_BINARY_MUL, ".*", false); }
static int meta_div(lua_State *L) { return binary(L, CNN_BINARY_DIV, "./", false); }
static int meta_pow(lua_State *L) { return binary(L, CNN_BINARY_POW, ".^", false); }

static int unary(lua_State *L, cnn_unary_op op, const char *fname, bool with_out)
{
    cnn_tensor *x = cnn_check_tensor(L, 1);
    cnn_tensor *out = with_out ? opt_out(L, 2) : NULL;
    if (!out)
        out = cnn_push_tensor_uninit(L, cnn_unary_result_dtype(op, x->dtype), x->ndims,
                                     x->size);
    CNN_CHECK_STATUS(L, fname, cnn_unary(op, x, out));
    return 1;
}

#define UNARY_FUNCTION(NAME, OP)                                                         \
    static int math_##NAME(lua_State *L) { return unary(L, OP, #NAME, true); }

UNARY_FUNCTION(neg, CNN_UNARY_NEG)
UNARY_FUNCTION(exp, CNN_UNARY_EXP)
UNARY_FUNCTION(log, CNN_UNARY_LOG)
UNARY_FUNCTION(sqrt, CNN_UNARY_SQRT)
UNARY_FUNCTION(abs, CNN_UNARY_ABS)
UNARY_FUNCTION(relu, CNN_UNARY_RELU)
UNARY_FUNCTION(sigmoid, CNN_UNARY_SIGMOID)
UNARY_FUNCTION(tanh, CNN_UNARY_TANH)

/* Lua passes the operand of a unary minus twice: the second is no out. */
static int meta_unm(lua_State *L) { return unary(L, CNN_UNARY_NEG, "-", false); }

/* A 1-based dimension argument, as a 0-based int (dimensions past the last
 * all behave alike, so large ones are clamped). */
static int check_dim(lua_State *L, int arg)
{
    lua_Integer d = luaL_checkinteger(L, arg);
    luaL_argcheck(L, d >= 1, arg, "dimension must be at least 1");
    return d > CNN_MAX_DIMS ? CNN_MAX_DIMS : (int)d - 1;
}

static int reduce(lua_State *L, cnn_reduce_op op, const char *fname)
{
    cnn_tensor *t = cnn_check_tensor(L, 1);
    if (lua_isnoneornil(L, 2)) {
        double v;
        CNN_CHECK_STATUS(L, fname, cnn_reduce_all(op, t, &v));
        if (cnn_reduce_result_dtype(op, t->dtype) == CNN_INT32)
            lua_pushinteger(L, (lua_Integer)v);
        else
            lua_pushnumber(L, v);
        return 1;
    }
    int dim = check_dim(L, 2), ndims;
    int64_t size[CNN_MAX_DIMS];
    cnn_reduce_dim_sizes(t, dim, &ndims, size);
    cnn_tensor *out =
        cnn_push_new_tensor(L, cnn_reduce_result_dtype(op, t->dtype), ndims, size);
    CNN_CHECK_STATUS(L, fname, cnn_reduce_dim(op, t, dim, out));
    return 1;
}

static int math_sum(lua_State *L) { return reduce(L, CNN_REDUCE_SUM, "sum"); }
static int math_mean(lua_State *L) { return reduce(L, CNN_REDUCE_MEAN, "mean"); }
static int math_maximum(lua_State *L) { return reduce(L, CNN_REDUCE_MAXIMUM, "maximum"); }
static int math_minimum(lua_State *L) { return reduce(L, CNN_REDUCE_MINIMUM, "minimum"); }

static int argreduce(lua_State *L, cnn_arg_op op, const char *fname)
{
    cnn_tensor *t = cnn_check_tensor(L, 1);
    if (lua_isnoneornil(L, 2)) {
        int64_t index;
        CNN_CHECK_STATUS(L, fname, cnn_argreduce_all(op, t, &index));
        lua_pushinteger(L, index + 1);
        return 1;
    }
    int dim = check_dim(L, 2), ndims;
    int64_t size[CNN_MAX_DIMS];
    cnn_reduce_dim_sizes(t, dim, &ndims, size);
    cnn_tensor *out = cnn_push_new_tensor(L, CNN_INT32, ndims, size);
    CNN_CHECK_STATUS(L, fname, cnn_argreduce_dim(op, t, dim, 1, out));
    return 1;
}

static int math_argmax(lua_State *L) { return argreduce(L, CNN_ARGMAX, "argmax"); }
static int math_argmin(lua_State *L) { return argreduce(L, CNN_ARGMIN, "argmin"); }

/* sum_to(t, sizes): t summed down to sizes, the reverse of broadcasting. */
static int math_sum_to(lua_State *L)
{
    cnn_tensor *t = cnn_check_tensor(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    int64_t size[CNN_MAX_DIMS];
    int ndims = cnn_check_sizes(L, 2, size);
    cnn_tensor *out = cnn_push_new_tensor(L, t->dtype, ndims, size);
    CNN_CHECK_STATUS(L, "sum_to", cnn_sum_to(t, out));
    return 1;
}

static int math_matmul(lua_State *L)
{
    cnn_tensor *a = cnn_check_tensor(L, 1), *b = cnn_check_tensor(L, 2);
    int ndims;
    int64_t size[2];
    CNN_CHECK_STATUS(L, "matmul", cnn_matmul_sizes(a, b, &ndims, size));
    cnn_tensor *out = cnn_push_tensor_uninit(L, CNN_FLOAT32, ndims, size);
    CNN_CHECK_STATUS(L, "matmul", cnn_matmul(a, b, out));
    return 1;
}

static int math_transpose(lua_State *L)
{
    cnn_tensor *a = cnn_check_tensor(L, 1);
    int ndims;
    int64_t size[2];
    CNN_CHECK_STATUS(L, "transpose", cnn_transpose_sizes(a, &ndims, size));
    cnn_tensor *out = cnn_push_tensor_uninit(L, a->dtype, ndims, size);
    CNN_CHECK_STATUS(L, "transpose", cnn_transpose(a, out));
    return 1;
}

/* isapprox(a, b [, rtol [, atol]]): Julia's defaults, rtol = sqrt(eps(Float32))
 * unless an atol > 0 is given, then 0. */
static int math_isapprox(lua_State *L)
{
    cnn_tensor *a = cnn_check_tensor(L, 1), *b = cnn_check_tensor(L, 2);
    double atol = luaL_optnumber(L, 4, 0.0);
    double rtol =
        lua_isnoneornil(L, 3) ? (atol > 0 ? 0.0 : sqrt(0x1p-23)) : luaL_checknumber(L, 3);
    bool result;
    CNN_CHECK_STATUS(L, "isapprox", cnn_isapprox(a, b, rtol, atol, &result));
    lua_pushboolean(L, result);
    return 1;
}

/* a == b: Lua calls this only for two userdata that are not the same. */
static int meta_eq(lua_State *L)
{
    if (!cnn_to_tensor(L, 1) || !cnn_to_tensor(L, 2)) {
        lua_pushboolean(L, 0);
        return 1;
    }
    lua_pushboolean(L, cnn_tensor_equal(cnn_check_tensor(L, 1), cnn_check_tensor(L, 2)));
    return 1;
}

/* Module functions, also methods (x:sum(2), a:matmul(b), x:exp()). */
static const luaL_Reg math_funcs[] = {
    {"add", math_add},
    {"sub", math_sub},
    {"mul", math_mul},
    {"div", math_div},
    {"pow", math_pow},
    {"max", math_max},
    {"min", math_min},
    {"eq", math_eq},
    {"ne", math_ne},
    {"lt", math_lt},
    {"le", math_le},
    {"gt", math_gt},
    {"ge", math_ge},
    {"neg", math_neg},
    {"exp", math_exp},
    {"log", math_log},
    {"sqrt", math_sqrt},
    {"abs", math_abs},
    {"relu", math_relu},
    {"sigmoid", math_sigmoid},
    {"tanh", math_tanh},
    {"sum", math_sum},
    {"mean", math_mean},
    {"maximum", math_maximum},
    {"minimum", math_minimum},
    {"argmax", math_argmax},
    {"argmin", math_argmin},
    {"sum_to", math_sum_to},
    {"matmul", math_matmul},
    {"transpose", math_transpose},
    {"isapprox", math_isapprox},
    {NULL, NULL},
};

static const luaL_Reg math_metamethods[] = {
    {"__add", meta_add}, {"__sub", meta_sub}, {"__mul", meta_mul}, {"__div", meta_div},
    {"__pow", meta_pow}, {"__unm", meta_unm}, {"__eq", meta_eq},   {NULL, NULL},
};

void cnn_open_math(lua_State *L)
{
    cnn_register(L, math_funcs);
    cnn_register_methods(L, math_funcs);
    luaL_getmetatable(L, CNN_TENSOR_MT);
    luaL_setfuncs(L, math_metamethods, 0);
    lua_pop(L, 1);
}

/* Tensor construction, sizes, views and element access. */
#include "bind.h"

#include <string.h>

#include "random.h"

/* =========================== argument helpers =========================== */

/* "3×4 tensor", "4-element tensor" or "0-dim tensor", for messages. */
static const char *describe(const cnn_tensor *t, char *buf, size_t len)
{
    char shape[200];
    if (t->ndims == 1)
        snprintf(buf, len, "%lld-element tensor", (long long)t->size[0]);
    else
        snprintf(buf, len, "%s tensor", cnn_shape_string(t, shape, sizeof shape));
    return buf;
}

/* "fname: " or nothing, so t[i] errors carry no function name. */
static const char *prefix(lua_State *L, const char *fname)
{
    return fname ? lua_pushfstring(L, "%s: ", fname) : "";
}

/* Checks a 1-based index along dimension 'dim' (0-based) and returns it
 * 0-based. */
static int64_t check_index(lua_State *L, const cnn_tensor *t, int dim, lua_Integer i,
                           const char *fname)
{
    if (i < 1 || i > t->size[dim]) {
        char what[256];
        luaL_error(L, "%sindex %I out of range 1:%I for dimension %d of %s",
                   prefix(L, fname), i, (lua_Integer)t->size[dim], dim + 1,
                   describe(t, what, sizeof what));
    }
    return i - 1;
}

/* A 1-based dimension argument, returned 0-based. */
static int check_dim(lua_State *L, const cnn_tensor *t, int arg, const char *fname)
{
    lua_Integer d = luaL_checkinteger(L, arg);
    if (d < 1 || d > t->ndims) {
        char what[256];
        luaL_error(L, "%s: dimension %I out of range 1:%d for %s", fname, d, t->ndims,
                   describe(t, what, sizeof what));
    }
    return (int)d - 1;
}

static lua_Integer to_index(lua_State *L, int idx, const char *fname)
{
    int isint;
    lua_Integer i = lua_tointegerx(L, idx, &isint);
    if (!isint)
        luaL_error(L, "%sindex must be an integer, got %s", prefix(L, fname),
                   lua_type(L, idx) == LUA_TNUMBER ? lua_tostring(L, idx)
                                                   : luaL_typename(L, idx));
    return i;
}

/* Offset of the element named by 'n' 1-based indices, read by 'get' (a
 * callback so they can come from the stack or from a table). One index on
 * a tensor of several dimensions is a linear index, as in Julia. */
typedef lua_Integer (*index_reader)(lua_State *L, int where, int k, const char *fname);

static lua_Integer index_from_stack(lua_State *L, int where, int k, const char *fname)
{
    return to_index(L, where + k, fname);
}

static lua_Integer index_from_table(lua_State *L, int where, int k, const char *fname)
{
    lua_rawgeti(L, where, k + 1);
    lua_Integer i = to_index(L, -1, fname);
    lua_pop(L, 1);
    return i;
}

static int64_t element_offset(lua_State *L, const cnn_tensor *t, int where, int n,
                              index_reader get, const char *fname)
{
    char what[256];
    if (n == 1 && t->ndims != 1) {
        lua_Integer k = get(L, where, 0, fname), numel = cnn_tensor_numel(t);
        if (k < 1 || k > numel)
            luaL_error(L, "%sindex %I out of range 1:%I for %s", prefix(L, fname), k,
                       numel, describe(t, what, sizeof what));
        return cnn_tensor_linear_offset(t, k - 1);
    }
    if (n != t->ndims)
        luaL_error(L, "%s%d indices for a %s (expected %d)", prefix(L, fname), n,
                   describe(t, what, sizeof what), t->ndims);
    int64_t off = 0;
    for (int d = 0; d < n; d++)
        off += check_index(L, t, d, get(L, where, d, fname), fname) * t->stride[d];
    return off;
}

static void push_element(lua_State *L, const cnn_tensor *t, int64_t offset)
{
    double v = cnn_tensor_get(t, offset);
    if (t->dtype == CNN_INT32)
        lua_pushinteger(L, (lua_Integer)v);
    else
        lua_pushnumber(L, v);
}

/* ============================ Int32 elements ============================= */

#define INT32_RANGE "whole numbers from -2147483648 to 2147483647"

/* The number at 'idx' as an element of a tensor of 'dtype'. An Int32 tensor
 * takes only the whole numbers it holds: anything else (2^40, 2.5, NaN,
 * inf) is an error naming the value, never a saturated or truncated
 * element. */
static double element_value(lua_State *L, int idx, cnn_dtype dtype, const char *fname)
{
    double v = lua_tonumber(L, idx);
    if (dtype != CNN_INT32)
        return v;
    lua_Integer i = lua_tointeger(L, idx);
    bool fits =
        lua_isinteger(L, idx) ? i >= INT32_MIN && i <= INT32_MAX : cnn_int32_holds(v);
    if (!fits)
        luaL_error(L, "%s%s does not fit in an Int32 tensor (" INT32_RANGE ")",
                   prefix(L, fname), luaL_tolstring(L, idx, NULL));
    return v;
}

/* A Float32 tensor goes into an Int32 one (a conversion, a copy, an
 * assignment) only if every element is a whole number an Int32 holds;
 * else the error names the first that is not. */
static void check_int32_source(lua_State *L, cnn_dtype to, const cnn_tensor *src,
                               const char *fname)
{
    if (to != CNN_INT32 || src->dtype == CNN_INT32)
        return;
    int64_t k = cnn_tensor_find_non_int32(src);
    if (k < 0)
        return;
    char what[256];
    double v = cnn_tensor_get(src, cnn_tensor_linear_offset(src, k));
    luaL_error(L,
               "%s: element %I of the Float32 %s is %f, which does not fit in an "
               "Int32 tensor (" INT32_RANGE ")",
               fname, (lua_Integer)k + 1, describe(src, what, sizeof what),
               (lua_Number)v);
}

/* Element type from an optional trailing string argument. */
static cnn_dtype opt_dtype(lua_State *L, int arg)
{
    static const char *const names[] = {"float32", "int32", NULL};
    return (cnn_dtype)luaL_checkoption(L, arg, "float32", names);
}

/* Sizes from stack index 'first' on, stopping at a trailing type name. */
static int sizes_and_dtype(lua_State *L, int first, int64_t *size, cnn_dtype *dtype)
{
    int top = lua_gettop(L);
    *dtype = CNN_FLOAT32;
    if (top >= first && lua_type(L, top) == LUA_TSTRING) {
        *dtype = opt_dtype(L, top);
        lua_pop(L, 1);
    }
    if (lua_istable(L, first) && lua_gettop(L) > first)
        luaL_argerror(L, first + 1, "nothing expected after the sizes table");
    return cnn_check_sizes(L, first, size);
}

static cnn_tensor *push_clone(lua_State *L, int idx, cnn_dtype dtype, const char *fname);

/* Copies the tensor or number at 'src' into the tensor at 'dst', with
 * broadcasting. A source sharing the destination's storage is copied out
 * first, so overlapping views behave as if read before written. */
static void assign(lua_State *L, int dst_idx, int src_idx, const char *fname)
{
    cnn_tensor *dst = cnn_check_tensor(L, dst_idx);
    if (lua_type(L, src_idx) == LUA_TNUMBER) {
        cnn_tensor_fill(dst, element_value(L, src_idx, dst->dtype, fname));
        return;
    }
    cnn_tensor *src = cnn_to_tensor(L, src_idx);
    if (!src)
        luaL_error(L, "%s: cannot assign a %s to a tensor", fname,
                   luaL_typename(L, src_idx));
    src = cnn_check_tensor(L, src_idx);
    check_int32_source(L, dst->dtype, src, fname);
    cnn_tensor from = *src;
    CNN_CHECK_STATUS(L, fname, cnn_tensor_broadcast_to(&from, dst->ndims, dst->size));
    if (from.storage == dst->storage) {
        from = *push_clone(L, src_idx, src->dtype, fname);
        CNN_CHECK_STATUS(L, fname, cnn_tensor_broadcast_to(&from, dst->ndims, dst->size));
        CNN_CHECK_STATUS(L, fname, cnn_tensor_copy(dst, &from));
        lua_pop(L, 1);
        return;
    }
    CNN_CHECK_STATUS(L, fname, cnn_tensor_copy(dst, &from));
}

/* ============================ construction ============================== */

static int tensor_zeros(lua_State *L)
{
    int64_t size[CNN_MAX_DIMS];
    cnn_dtype dtype;
    int ndims = sizes_and_dtype(L, 1, size, &dtype);
    cnn_push_new_tensor(L, dtype, ndims, size);
    return 1;
}

static int tensor_ones(lua_State *L)
{
    int64_t size[CNN_MAX_DIMS];
    cnn_dtype dtype;
    int ndims = sizes_and_dtype(L, 1, size, &dtype);
    cnn_tensor *t = cnn_push_tensor_uninit(L, dtype, ndims, size);
    cnn_tensor_fill(t, 1.0);
    return 1;
}

/* fill(value, sizes... [, dtype]) makes a new tensor; fill(t, value) sets
 * every element of t in place and returns t. */
static int tensor_fill(lua_State *L)
{
    if (cnn_to_tensor(L, 1)) {
        luaL_checknumber(L, 2);
        assign(L, 1, 2, "fill");
        lua_settop(L, 1);
        return 1;
    }
    luaL_checknumber(L, 1);
    int64_t size[CNN_MAX_DIMS];
    cnn_dtype dtype;
    int ndims = sizes_and_dtype(L, 2, size, &dtype);
    double value = element_value(L, 1, dtype, "fill");
    cnn_tensor *t = cnn_push_tensor_uninit(L, dtype, ndims, size);
    cnn_tensor_fill(t, value);
    return 1;
}

static int tensor_rand(lua_State *L)
{
    int64_t size[CNN_MAX_DIMS];
    int ndims = cnn_check_sizes(L, 1, size);
    cnn_rng_uniform(cnn_push_tensor_uninit(L, CNN_FLOAT32, ndims, size));
    return 1;
}

static int tensor_randn(lua_State *L)
{
    int64_t size[CNN_MAX_DIMS];
    int ndims = cnn_check_sizes(L, 1, size);
    cnn_rng_normal(cnn_push_tensor_uninit(L, CNN_FLOAT32, ndims, size));
    return 1;
}

static int tensor_seed(lua_State *L)
{
    cnn_rng_seed((uint64_t)luaL_checkinteger(L, 1));
    return 0;
}

/* rngstate() → seed, counter: the generator's state as two integers (the
 * 64 bits of each, read as signed). */
static int tensor_rngstate(lua_State *L)
{
    uint64_t seed, counter;
    cnn_rng_get_state(&seed, &counter);
    lua_pushinteger(L, (lua_Integer)seed);
    lua_pushinteger(L, (lua_Integer)counter);
    return 2;
}

/* setrngstate(seed, counter): restores what rngstate gave. */
static int tensor_setrngstate(lua_State *L)
{
    uint64_t seed = (uint64_t)luaL_checkinteger(L, 1);
    cnn_rng_set_state(seed, (uint64_t)luaL_checkinteger(L, 2));
    return 0;
}

static int tensor_range(lua_State *L)
{
    double first = luaL_checknumber(L, 1), last = luaL_checknumber(L, 2);
    double step = luaL_optnumber(L, 3, 1.0);
    int64_t n;
    CNN_CHECK_STATUS(L, "range", cnn_range_length(first, last, step, &n));
    cnn_tensor_fill_range(cnn_push_new_tensor(L, CNN_FLOAT32, 1, &n), first, step);
    return 1;
}

/* ------------------- tensor(nested table) and totable ------------------- */

/* "[2][3]" for the path of 1-based indices idx[0..depth). */
static const char *path_string(lua_State *L, const int64_t *idx, int depth)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int d = 0; d < depth; d++) {
        lua_pushfstring(L, "[%I]", (lua_Integer)idx[d] + 1);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    return lua_tostring(L, -1);
}

/* Sizes from the first entry at each depth: {{1,2,3},{4,5,6}} is 2×3. */
static int nested_sizes(lua_State *L, int idx, int64_t *size)
{
    int ndims = 0;
    lua_pushvalue(L, idx);
    while (lua_istable(L, -1)) {
        if (ndims == CNN_MAX_DIMS)
            luaL_error(L, "tensor: nested deeper than %d levels", CNN_MAX_DIMS);
        size[ndims++] = (int64_t)lua_rawlen(L, -1);
        if (size[ndims - 1] == 0)
            break;
        lua_rawgeti(L, -1, 1);
        lua_remove(L, -2);
    }
    lua_pop(L, 1);
    return ndims;
}

/* Copies the nested table on top of the stack, at depth 'depth', into t;
 * idx holds the indices of the enclosing tables. */
static void fill_from_table(lua_State *L, cnn_tensor *t, int depth, int64_t *idx)
{
    if (!lua_istable(L, -1)) {
        const char *type = luaL_typename(L, -1);
        luaL_error(L, "tensor: expected a table at %s, got %s",
                   path_string(L, idx, depth), type);
    }
    int64_t n = (int64_t)lua_rawlen(L, -1);
    if (n != t->size[depth])
        luaL_error(L, "tensor: ragged nested table: %s has %I entries, expected %I",
                   path_string(L, idx, depth), (lua_Integer)n,
                   (lua_Integer)t->size[depth]);
    luaL_checkstack(L, 2, "tensor: nested too deeply");
    for (idx[depth] = 0; idx[depth] < n; idx[depth]++) {
        lua_rawgeti(L, -1, idx[depth] + 1);
        if (depth + 1 < t->ndims) {
            fill_from_table(L, t, depth + 1, idx);
        } else {
            if (lua_type(L, -1) != LUA_TNUMBER) {
                const char *type = luaL_typename(L, -1);
                luaL_error(L, "tensor: expected a number at %s, got %s",
                           path_string(L, idx, depth + 1), type);
            }
            cnn_tensor_set(t, cnn_tensor_offset_of(t, idx),
                           element_value(L, -1, t->dtype, "tensor"));
        }
        lua_pop(L, 1);
    }
}

static int tensor_from_table(lua_State *L)
{
    cnn_dtype dtype = opt_dtype(L, 2);
    int64_t size[CNN_MAX_DIMS], idx[CNN_MAX_DIMS];
    if (lua_type(L, 1) == LUA_TNUMBER) {
        double v = element_value(L, 1, dtype, "tensor");
        cnn_tensor *t = cnn_push_new_tensor(L, dtype, 0, size);
        cnn_tensor_set(t, 0, v);
        return 1;
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    int ndims = nested_sizes(L, 1, size);
    cnn_tensor *t = cnn_push_new_tensor(L, dtype, ndims, size);
    lua_pushvalue(L, 1);
    fill_from_table(L, t, 0, idx);
    lua_pop(L, 1);
    return 1;
}

static void push_nested(lua_State *L, const cnn_tensor *t, int depth, int64_t offset)
{
    luaL_checkstack(L, 2, "totable: nested too deeply");
    lua_createtable(L, (int)t->size[depth], 0);
    for (int64_t i = 0; i < t->size[depth]; i++) {
        int64_t off = offset + i * t->stride[depth];
        if (depth + 1 < t->ndims)
            push_nested(L, t, depth + 1, off);
        else
            push_element(L, t, off);
        lua_rawseti(L, -2, i + 1);
    }
}

/* The inverse of tensor(): outer index = dimension 1; a 0-dim tensor gives
 * its number. */
static int tensor_totable(lua_State *L)
{
    cnn_tensor *t = cnn_check_tensor(L, 1);
    if (t->ndims == 0)
        push_element(L, t, 0);
    else
        push_nested(L, t, 0, 0);
    return 1;
}

/* ============================== queries ================================= */

/* t:size() returns all sizes as a table; t:size(d) the size of dimension
 * d (dimensions past the last have size 1, as in Julia). */
static int tensor_size(lua_State *L)
{
    cnn_tensor *t = cnn_check_tensor_any(L, 1);
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
    lua_pushinteger(L, cnn_check_tensor_any(L, 1)->ndims);
    return 1;
}

static int tensor_numel(lua_State *L)
{
    lua_pushinteger(L, cnn_tensor_numel(cnn_check_tensor_any(L, 1)));
    return 1;
}

static int tensor_dtype(lua_State *L)
{
    lua_pushstring(L, cnn_dtype_name(cnn_check_tensor_any(L, 1)->dtype));
    return 1;
}

static int tensor_is_contiguous(lua_State *L)
{
    lua_pushboolean(L, cnn_tensor_is_contiguous(cnn_check_tensor_any(L, 1)));
    return 1;
}

/* ========================= views and copies ============================= */

static int tensor_select(lua_State *L)
{
    cnn_tensor *t = cnn_check_tensor(L, 1);
    int dim = check_dim(L, t, 2, "select");
    int64_t i = check_index(L, t, dim, luaL_checkinteger(L, 3), "select");
    cnn_tensor_select(cnn_push_view(L, 1), dim, i);
    return 1;
}

/* A view of first..last (1-based, inclusive) of dimension 'dim'; last =
 * first - 1 gives an empty view, as Julia's a[3:2]. */
static int push_range_view(lua_State *L, int dim, lua_Integer first, lua_Integer last,
                           const char *fname)
{
    cnn_tensor *t = cnn_check_tensor(L, 1);
    if (first < 1 || last > t->size[dim] || last < first - 1) {
        char what[256];
        luaL_error(L, "%s: range %I:%I out of bounds 1:%I for dimension %d of %s", fname,
                   first, last, (lua_Integer)t->size[dim], dim + 1,
                   describe(t, what, sizeof what));
    }
    cnn_tensor_narrow(cnn_push_view(L, 1), dim, first - 1, last - first + 1);
    return 1;
}

static int tensor_slice(lua_State *L)
{
    int dim = check_dim(L, cnn_check_tensor(L, 1), 2, "slice");
    lua_Integer first = luaL_checkinteger(L, 3), last = luaL_checkinteger(L, 4);
    return push_range_view(L, dim, first, last, "slice");
}

static int tensor_narrow(lua_State *L)
{
    int dim = check_dim(L, cnn_check_tensor(L, 1), 2, "narrow");
    lua_Integer first = luaL_checkinteger(L, 3), len = luaL_checkinteger(L, 4);
    luaL_argcheck(L, len >= 0, 4, "length must be non-negative");
    luaL_argcheck(L, first <= LUA_MAXINTEGER - len, 3, "range too large");
    return push_range_view(L, dim, first, first + len - 1, "narrow");
}

static cnn_tensor *push_clone(lua_State *L, int idx, cnn_dtype dtype, const char *fname)
{
    cnn_tensor *src = cnn_check_tensor(L, idx);
    check_int32_source(L, dtype, src, fname);
    cnn_tensor *t = cnn_push_tensor_uninit(L, dtype, src->ndims, src->size);
    CNN_CHECK_STATUS(L, fname, cnn_tensor_copy(t, src));
    return t;
}

static int tensor_clone(lua_State *L)
{
    push_clone(L, 1, cnn_check_tensor(L, 1)->dtype, "clone");
    return 1;
}

static int tensor_float(lua_State *L)
{
    push_clone(L, 1, CNN_FLOAT32, "float");
    return 1;
}

/* Int32 from Float32 takes whole numbers only, as Julia's Int32.(x). */
static int tensor_int(lua_State *L)
{
    push_clone(L, 1, CNN_INT32, "int");
    return 1;
}

/* A tensor in a blocked layout is whole and dense: contiguous() keeps it
 * as it is, for the layer kernels that take it so. */
static int tensor_contiguous(lua_State *L)
{
    cnn_tensor *t = cnn_check_tensor_any(L, 1);
    if (t->blocked || cnn_tensor_is_contiguous(t))
        lua_settop(L, 1);
    else
        push_clone(L, 1, t->dtype, "contiguous");
    return 1;
}

/* Sizes for reshape: integers or one table, where one may be -1. */
static int reshape_sizes(lua_State *L, int64_t *size)
{
    bool table = lua_istable(L, 2);
    int n = table ? cnn_rawlen(L, 2) : lua_gettop(L) - 1;
    luaL_argcheck(L, n <= CNN_MAX_DIMS, 2, "too many dimensions");
    for (int d = 0; d < n; d++) {
        if (table) {
            lua_rawgeti(L, 2, d + 1);
            int isint;
            size[d] = lua_tointegerx(L, -1, &isint);
            luaL_argcheck(L, isint, 2, "sizes must be integers");
            lua_pop(L, 1);
        } else {
            size[d] = luaL_checkinteger(L, d + 2);
        }
    }
    return n;
}

/* A view when t is contiguous, else a contiguous copy with the new sizes. */
static int tensor_reshape(lua_State *L)
{
    cnn_tensor *t = cnn_check_tensor(L, 1);
    int64_t size[CNN_MAX_DIMS];
    int ndims = reshape_sizes(L, size);
    CNN_CHECK_STATUS(L, "reshape", cnn_reshape_sizes(t, ndims, size));
    cnn_tensor *r = cnn_tensor_is_contiguous(t) ? cnn_push_view(L, 1)
                                                : push_clone(L, 1, t->dtype, "reshape");
    cnn_tensor_view_as(r, ndims, size);
    return 1;
}

/* dst:copy(src) copies src, of exactly the sizes of dst, into dst; returns
 * dst. Sizes that differ are refused rather than broadcast: fill(dst, v)
 * sets every element to one number. */
static int tensor_copy(lua_State *L)
{
    cnn_tensor *dst = cnn_check_tensor(L, 1);
    cnn_tensor *src = cnn_check_tensor(L, 2);
    if (!cnn_tensor_same_size(dst, src)) {
        char from[200], to[200];
        luaL_error(
            L,
            "copy: the source is %s but the destination is %s; copy takes a source "
            "of the same sizes (fill(dst, v) sets every element to one number)",
            cnn_shape_string(src, from, sizeof from),
            cnn_shape_string(dst, to, sizeof to));
    }
    assign(L, 1, 2, "copy");
    lua_settop(L, 1);
    return 1;
}

/* ============================ elements ================================== */

static int tensor_get(lua_State *L)
{
    cnn_tensor *t = cnn_check_tensor(L, 1);
    push_element(L, t,
                 element_offset(L, t, 2, lua_gettop(L) - 1, index_from_stack, "get"));
    return 1;
}

/* t:set(i, j, ..., value) */
static int tensor_set(lua_State *L)
{
    cnn_tensor *t = cnn_check_tensor(L, 1);
    int top = lua_gettop(L);
    luaL_checknumber(L, top);
    double v = element_value(L, top, t->dtype, "set");
    cnn_tensor_set(t, element_offset(L, t, 2, top - 2, index_from_stack, "set"), v);
    lua_settop(L, 1);
    return 1;
}

static int tensor_item(lua_State *L)
{
    cnn_tensor *t = cnn_check_tensor(L, 1);
    if (cnn_tensor_numel(t) != 1) {
        char what[256];
        luaL_error(L, "item: expected a 1-element tensor, got a %s",
                   describe(t, what, sizeof what));
    }
    push_element(L, t, 0);
    return 1;
}

/* ======================= indexing metamethods =========================== */

/* t[i]: a view selecting index i of the last dimension, or for a vector
 * the number itself. */
static void push_last_dim_select(lua_State *L, lua_Integer i)
{
    cnn_tensor *t = cnn_check_tensor(L, 1);
    if (t->ndims == 0)
        luaL_error(L, "cannot index a 0-dim tensor (use item())");
    int dim = t->ndims - 1;
    int64_t i0 = check_index(L, t, dim, i, NULL);
    if (t->ndims == 1)
        push_element(L, t, i0 * t->stride[0]);
    else
        cnn_tensor_select(cnn_push_view(L, 1), dim, i0);
}

/* __index: methods by name (upvalue 1 is the methods table), t[i] and
 * t[{i, j, ...}]. */
static int tensor_index(lua_State *L)
{
    switch (lua_type(L, 2)) {
    case LUA_TSTRING:
        lua_pushvalue(L, 2);
        lua_rawget(L, lua_upvalueindex(1));
        return 1;
    case LUA_TNUMBER: push_last_dim_select(L, to_index(L, 2, NULL)); return 1;
    case LUA_TTABLE: {
        cnn_tensor *t = cnn_check_tensor(L, 1);
        int n = cnn_rawlen(L, 2);
        push_element(L, t, element_offset(L, t, 2, n, index_from_table, NULL));
        return 1;
    }
    default: return luaL_error(L, "cannot index a tensor with a %s", luaL_typename(L, 2));
    }
}

/* __newindex: t[i] = v (v a number or a tensor broadcast to the selected
 * part) and t[{i, j, ...}] = number. */
static int tensor_newindex(lua_State *L)
{
    cnn_tensor *t = cnn_check_tensor(L, 1);
    char what[256];
    switch (lua_type(L, 2)) {
    case LUA_TNUMBER: {
        lua_Integer i = to_index(L, 2, NULL);
        if (t->ndims == 0)
            luaL_error(L, "cannot index a 0-dim tensor (use fill())");
        int dim = t->ndims - 1;
        int64_t i0 = check_index(L, t, dim, i, NULL);
        cnn_tensor_select(cnn_push_view(L, 1), dim, i0);
        assign(L, 4, 3, "setindex");
        return 0;
    }
    case LUA_TTABLE: {
        int n = cnn_rawlen(L, 2);
        int64_t off = element_offset(L, t, 2, n, index_from_table, NULL);
        cnn_tensor *v = cnn_to_tensor(L, 3);
        if (v && cnn_check_tensor(L, 3) && cnn_tensor_numel(v) == 1) {
            check_int32_source(L, t->dtype, v, "setindex");
            cnn_tensor_set(t, off, cnn_tensor_get(v, 0));
            return 0;
        }
        if (lua_type(L, 3) != LUA_TNUMBER)
            luaL_error(L, "cannot assign a %s to an element of a %s",
                       v ? "tensor of several elements" : luaL_typename(L, 3),
                       describe(t, what, sizeof what));
        cnn_tensor_set(t, off, element_value(L, 3, t->dtype, "setindex"));
        return 0;
    }
    default:
        return luaL_error(L,
                          "cannot set field %s of a tensor (methods go in "
                          "cnn.core.Tensor.methods)",
                          lua_type(L, 2) == LUA_TSTRING
                              ? lua_pushfstring(L, "'%s'", lua_tostring(L, 2))
                              : luaL_typename(L, 2));
    }
}

static int tensor_len(lua_State *L)
{
    lua_pushinteger(L, cnn_tensor_numel(cnn_check_tensor_any(L, 1)));
    return 1;
}

/* ============================ registration ============================== */

static const luaL_Reg constructors[] = {
    {"zeros", tensor_zeros},
    {"ones", tensor_ones},
    {"fill", tensor_fill},
    {"rand", tensor_rand},
    {"randn", tensor_randn},
    {"seed", tensor_seed},
    {"rngstate", tensor_rngstate},
    {"setrngstate", tensor_setrngstate},
    {"tensor", tensor_from_table},
    {"range", tensor_range},
    {NULL, NULL},
};

/* Registered both as module functions (core.size(t)) and as methods
 * (t:size()). */
static const luaL_Reg methods[] = {
    {"size", tensor_size},
    {"ndims", tensor_ndims},
    {"numel", tensor_numel},
    {"dtype", tensor_dtype},
    {"reshape", tensor_reshape},
    {"select", tensor_select},
    {"slice", tensor_slice},
    {"narrow", tensor_narrow},
    {"get", tensor_get},
    {"set", tensor_set},
    {"copy", tensor_copy},
    {"clone", tensor_clone},
    {"contiguous", tensor_contiguous},
    {"is_contiguous", tensor_is_contiguous},
    {"totable", tensor_totable},
    {"item", tensor_item},
    {"float", tensor_float},
    {"int", tensor_int},
    {"fill", tensor_fill},
    {NULL, NULL},
};

void cnn_open_tensor(lua_State *L)
{
    cnn_register(L, constructors);
    cnn_register(L, methods);
    cnn_register_methods(L, methods);
}

void cnn_open_tensor_indexing(lua_State *L)
{
    luaL_getmetatable(L, CNN_TENSOR_MT);
    lua_getfield(L, -1, "methods");
    lua_pushcclosure(L, tensor_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, tensor_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, tensor_len);
    lua_setfield(L, -2, "__len");
    lua_pop(L, 1);
}

/* Data: IDX and safetensors files, one-hot labels, batch gathering and
 * permutations. Buffers the C core allocates are boxed in userdata with a
 * __gc before anything can raise, so an error never leaks them. */
#include "bind.h"

#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "idx.h"
#include "safetensors.h"

#define IDX_BOX_MT         "cnn.IdxBox"
#define SAFETENSORS_BOX_MT "cnn.SafetensorsBox"

static int idx_box_gc(lua_State *L)
{
    cnn_idx_free(luaL_checkudata(L, 1, IDX_BOX_MT));
    return 0;
}

static int safetensors_box_gc(lua_State *L)
{
    cnn_safetensors_free(luaL_checkudata(L, 1, SAFETENSORS_BOX_MT));
    return 0;
}

static void *push_box(lua_State *L, size_t size, const char *mt)
{
    void *box = lua_newuserdatauv(L, size, 0);
    memset(box, 0, size);
    luaL_setmetatable(L, mt);
    return box;
}

/* ===== IDX ===== */

static void idx_options(lua_State *L, int arg, double *scale, cnn_dtype *dtype)
{
    *scale = 1.0;
    *dtype = CNN_FLOAT32;
    if (lua_isnoneornil(L, arg))
        return;
    luaL_checktype(L, arg, LUA_TTABLE);
    lua_pushliteral(L, "dtype");
    lua_rawget(L, arg);
    if (!lua_isnil(L, -1)) {
        static const char *const names[] = {"float32", "int32", NULL};
        *dtype = (cnn_dtype)luaL_checkoption(L, -1, NULL, names);
    }
    lua_pushliteral(L, "scale");
    lua_rawget(L, arg);
    if (!lua_isnil(L, -1)) {
        int isnum;
        *scale = lua_tonumberx(L, -1, &isnum);
        luaL_argcheck(L, isnum, arg, "scale must be a number");
        luaL_argcheck(L, *dtype == CNN_FLOAT32 || *scale == 1.0, arg,
                      "scale applies to float32 output only");
    }
    lua_pop(L, 2);
}

/* read_idx(path [, {scale = s, dtype = "float32"|"int32"}]) → tensor with
 * the file's dimensions reversed (60000×28×28 bytes → 28×28×60000), and the
 * file's element type ("ubyte", "float32", ...) for callers that expect
 * one. */
static int data_read_idx(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    double scale;
    cnn_dtype dtype;
    idx_options(L, 2, &scale, &dtype);
    cnn_idx *idx = push_box(L, sizeof *idx, IDX_BOX_MT);
    CNN_CHECK_STATUS(L, "read_idx", cnn_idx_read(path, idx));
    const char *type = cnn_idx_type_name(idx->type);
    if (dtype == CNN_INT32 &&
        (idx->type == CNN_IDX_FLOAT32 || idx->type == CNN_IDX_FLOAT64))
        luaL_error(L, "read_idx: %s holds %s data; dtype = \"int32\" needs integer data",
                   path, type);
    int64_t size[CNN_MAX_DIMS];
    cnn_idx_tensor_sizes(idx, size);
    cnn_tensor *t = cnn_push_tensor_uninit(L, dtype, idx->ndims, size);
    CNN_CHECK_STATUS(L, "read_idx", cnn_idx_to_tensor(idx, scale, t));
    cnn_idx_free(idx);
    lua_pushstring(L, type);
    return 2;
}

/* ===== safetensors ===== */

/* The string at stack index 'idx'; raises if it holds a NUL byte, which
 * the C side would take for its end and silently cut the text short. */
static const char *check_no_nul(lua_State *L, int idx, const char *what)
{
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    if (strlen(s) != len)
        luaL_error(L, "%s: %s cannot contain a NUL byte ('%s' is followed by one)",
                   cnn_function_name(L), what, s);
    return s;
}

static const char *check_path(lua_State *L, int arg)
{
    luaL_checkstring(L, arg);
    return check_no_nul(L, arg, "a path");
}

/* The tensors of the table at 'arg' (the core writes them in name order);
 * the array is a userdata left on the stack. Names stay valid while the
 * table lives. */
static cnn_named_tensor *check_named_tensors(lua_State *L, int arg, int *count)
{
    luaL_checktype(L, arg, LUA_TTABLE);
    int n = 0;
    for (lua_pushnil(L); lua_next(L, arg); lua_pop(L, 1))
        n++;
    cnn_named_tensor *items =
        lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *items, 0);
    int i = 0;
    for (lua_pushnil(L); lua_next(L, arg); lua_pop(L, 1)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "save_safetensors: tensor names must be strings");
        const char *name = check_no_nul(L, -2, "a tensor name");
        if (strcmp(name, "__metadata__") == 0)
            luaL_error(L, "save_safetensors: the name __metadata__ is reserved");
        cnn_tensor *t = cnn_to_tensor(L, -1);
        if (!t)
            luaL_error(L, "save_safetensors: '%s' is not a tensor", name);
        /* a finalizer run by the allocation above may have added entries */
        if (i == n)
            luaL_error(L, "save_safetensors: the table changed while it was read");
        items[i++] = (cnn_named_tensor){name, t};
    }
    *count = i;
    return items;
}

/* Metadata keys and values (strings) of the optional table at 'arg'. */
static int check_metadata(lua_State *L, int arg, const char ***keys, const char ***values)
{
    int n = 0;
    if (!lua_isnoneornil(L, arg)) {
        luaL_checktype(L, arg, LUA_TTABLE);
        for (lua_pushnil(L); lua_next(L, arg); lua_pop(L, 1))
            n++;
    }
    *keys = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof(char *), 0);
    *values = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof(char *), 0);
    int i = 0;
    for (lua_pushnil(L); n && lua_next(L, arg); lua_pop(L, 1)) {
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "save_safetensors: metadata keys and values must be strings");
        if (i == n)
            luaL_error(L, "save_safetensors: the metadata changed while it was read");
        (*keys)[i] = check_no_nul(L, -2, "a metadata key");
        (*values)[i++] = check_no_nul(L, -1, "a metadata value");
    }
    return i;
}

/* save_safetensors(path, {name = tensor, ...} [, {key = "value"}]) */
static int data_save_safetensors(lua_State *L)
{
    const char *path = check_path(L, 1);
    lua_settop(L, 3); /* the arrays below go above the arguments */
    int count;
    cnn_named_tensor *items = check_named_tensors(L, 2, &count);
    const char **keys, **values;
    int meta = check_metadata(L, 3, &keys, &values);
    CNN_CHECK_STATUS(L, "save_safetensors",
                     cnn_safetensors_write(path, items, count, keys, values, meta));
    return 0;
}

static void push_metadata(lua_State *L, const cnn_safetensors *st)
{
    lua_createtable(L, 0, st->meta_count);
    for (int i = 0; i < st->meta_count; i++) {
        lua_pushstring(L, st->meta_values[i]);
        lua_setfield(L, -2, st->meta_keys[i]);
    }
}

/* The options of load_safetensors: {finite = true} refuses NaN and
 * infinite Float32 values. Any other key is a mistake worth an error. */
static bool check_load_options(lua_State *L, int arg)
{
    bool finite = false;
    if (lua_isnoneornil(L, arg))
        return finite;
    luaL_checktype(L, arg, LUA_TTABLE);
    for (lua_pushnil(L); lua_next(L, arg); lua_pop(L, 1)) {
        if (lua_type(L, -2) != LUA_TSTRING || strcmp(lua_tostring(L, -2), "finite") != 0)
            luaL_error(L, "load_safetensors: unknown option %s (the option is finite)",
                       luaL_tolstring(L, -2, NULL));
        luaL_argcheck(L, lua_isboolean(L, -1), arg, "finite must be true or false");
        finite = lua_toboolean(L, -1);
    }
    return finite;
}

/* load_safetensors(path [, {finite = true}]) → {name = tensor, ...},
 * {key = "value", ...} */
static int data_load_safetensors(lua_State *L)
{
    const char *path = check_path(L, 1);
    bool finite = check_load_options(L, 2);
    cnn_safetensors *st = push_box(L, sizeof *st, SAFETENSORS_BOX_MT);
    CNN_CHECK_STATUS(L, "load_safetensors", cnn_safetensors_read(path, st));
    if (finite)
        CNN_CHECK_STATUS(L, "load_safetensors", cnn_safetensors_check_finite(st, path));
    lua_createtable(L, 0, st->count);
    for (int i = 0; i < st->count; i++) {
        const cnn_safetensor_entry *e = &st->entries[i];
        cnn_tensor *t = cnn_push_tensor_uninit(L, e->dtype, e->ndims, e->size);
        CNN_CHECK_STATUS(L, "load_safetensors", cnn_safetensors_copy(st, i, t));
        lua_setfield(L, -2, e->name);
    }
    push_metadata(L, st);
    cnn_safetensors_free(st);
    return 2;
}

/* ===== labels ===== */

/* An Int32 tensor from the argument: an Int32 tensor itself, or a new
 * 1-D tensor from a table of integers. Pushes it and returns it. */
static cnn_tensor *check_int_list(lua_State *L, int arg, const char *fname,
                                  const char *what)
{
    cnn_tensor *t = cnn_to_tensor(L, arg);
    if (t) {
        t = cnn_check_tensor(L, arg);
        if (t->dtype != CNN_INT32)
            luaL_error(L, "%s: %s must be Int32 (got a %s tensor)", fname, what,
                       cnn_dtype_name(t->dtype));
        lua_pushvalue(L, arg);
        return t;
    }
    if (!lua_istable(L, arg))
        luaL_error(L, "%s: %s must be an Int32 tensor or a table of integers", fname,
                   what);
    int64_t n = cnn_rawlen(L, arg);
    t = cnn_push_new_tensor(L, CNN_INT32, 1, &n);
    int32_t *dst = cnn_tensor_i32(t);
    for (int64_t i = 0; i < n; i++) {
        lua_rawgeti(L, arg, i + 1);
        int isint;
        lua_Integer v = lua_tointegerx(L, -1, &isint);
        if (!isint || v < INT32_MIN || v > INT32_MAX)
            luaL_error(L, "%s: %s entry %I is not a 32-bit integer", fname, what,
                       (lua_Integer)(i + 1));
        dst[i] = (int32_t)v;
        lua_pop(L, 1);
    }
    return t;
}

/* The label set as a contiguous array (a copy if the tensor is strided). */
static const int32_t *labelset_values(lua_State *L, cnn_tensor *set, int64_t *k)
{
    *k = cnn_tensor_numel(set);
    if (cnn_tensor_is_contiguous(set))
        return cnn_tensor_i32(set);
    cnn_tensor *copy = cnn_push_tensor_like(L, set);
    CNN_CHECK_STATUS(L, "labelset", cnn_tensor_copy(copy, set));
    return cnn_tensor_i32(copy);
}

/* onehotbatch(labels, labelset) → Float32 k×(labels' sizes) */
static int data_onehotbatch(lua_State *L)
{
    cnn_tensor *labels = check_int_list(L, 1, "onehotbatch", "labels");
    cnn_tensor *set = check_int_list(L, 2, "onehotbatch", "the label set");
    int64_t k;
    const int32_t *values = labelset_values(L, set, &k);
    if (k == 0)
        luaL_error(L, "onehotbatch: the label set is empty");
    luaL_argcheck(L, labels->ndims < CNN_MAX_DIMS, 1, "too many dimensions");
    int64_t size[CNN_MAX_DIMS];
    size[0] = k;
    for (int d = 0; d < labels->ndims; d++)
        size[d + 1] = labels->size[d];
    cnn_tensor *out = cnn_push_new_tensor(L, CNN_FLOAT32, labels->ndims + 1, size);
    CNN_CHECK_STATUS(L, "onehotbatch", cnn_onehotbatch(labels, values, k, out));
    return 1;
}

/* onecold(y [, labelset]) → Int32 tensor of y's sizes without the first
 * (a number when y is a vector). */
static int data_onecold(lua_State *L)
{
    cnn_tensor *y = cnn_check_tensor_type(L, 1, CNN_FLOAT32);
    luaL_argcheck(L, y->ndims >= 1, 1, "needs at least 1 dimension");
    const int32_t *values = NULL;
    if (!lua_isnoneornil(L, 2)) {
        cnn_tensor *set = check_int_list(L, 2, "onecold", "the label set");
        int64_t k;
        values = labelset_values(L, set, &k);
        if (k != y->size[0]) {
            cnn_push_shape(L, y);
            luaL_error(L, "onecold: the label set has %I entries, y has %I classes (%s)",
                       (lua_Integer)k, (lua_Integer)y->size[0], lua_tostring(L, -1));
        }
    }
    int ndims = y->ndims > 1 ? y->ndims - 1 : 1;
    int64_t size[CNN_MAX_DIMS] = {1};
    for (int d = 1; d < y->ndims; d++)
        size[d - 1] = y->size[d];
    cnn_tensor *out = cnn_push_new_tensor(L, CNN_INT32, ndims, size);
    CNN_CHECK_STATUS(L, "onecold", cnn_onecold(y, values, out));
    if (y->ndims == 1)
        lua_pushinteger(L, cnn_tensor_i32(out)[0]);
    return 1;
}

/* ===== batches ===== */

/* gather(src, indices [, out [, first, count]]) → out: the slices of src
 * along its last dimension at indices[first .. first+count-1] (1-based;
 * default: all indices). */
static int data_gather(lua_State *L)
{
    cnn_tensor *src = cnn_check_tensor(L, 1);
    cnn_tensor *idx = cnn_check_tensor_type(L, 2, CNN_INT32);
    luaL_argcheck(L, idx->ndims == 1, 2, "indices must be a 1-D tensor");
    luaL_argcheck(L, src->ndims >= 1, 1, "needs at least 1 dimension");
    lua_Integer n = idx->size[0];
    lua_Integer first = luaL_optinteger(L, 4, 1);
    luaL_argcheck(L, first >= 1 && first <= n + 1, 4, "first position out of range");
    lua_Integer count = luaL_optinteger(L, 5, n - first + 1);
    luaL_argcheck(L, count >= 0 && count <= n - first + 1, 5, "count out of range");
    cnn_tensor *out;
    if (lua_isnoneornil(L, 3)) {
        int64_t size[CNN_MAX_DIMS];
        memcpy(size, src->size, sizeof size);
        size[src->ndims - 1] = count;
        out = cnn_push_tensor_uninit(L, src->dtype, src->ndims, size);
    } else {
        out = cnn_check_tensor(L, 3);
        lua_pushvalue(L, 3);
    }
    CNN_CHECK_STATUS(L, "gather", cnn_gather(src, idx, first - 1, count, 1, out));
    return 1;
}

/* permutation(n [, seed]) → Int32 tensor of 1..n, shuffled from 'seed'
 * when one is given. */
static int data_permutation(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 0 && n <= INT32_MAX, 1, "size out of range");
    bool shuffle = !lua_isnoneornil(L, 2);
    uint64_t seed = shuffle ? (uint64_t)luaL_checkinteger(L, 2) : 0;
    int64_t size = n;
    cnn_tensor *t = cnn_push_new_tensor(L, CNN_INT32, 1, &size);
    CNN_CHECK_STATUS(L, "permutation",
                     cnn_permutation(cnn_tensor_i32(t), n, seed, shuffle));
    return 1;
}

static const luaL_Reg data_funcs[] = {
    {"read_idx", data_read_idx},
    {"save_safetensors", data_save_safetensors},
    {"load_safetensors", data_load_safetensors},
    {"onehotbatch", data_onehotbatch},
    {"onecold", data_onecold},
    {"gather", data_gather},
    {"permutation", data_permutation},
    {NULL, NULL},
};

void cnn_open_data(lua_State *L)
{
    if (luaL_newmetatable(L, IDX_BOX_MT)) {
        lua_pushcfunction(L, idx_box_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, SAFETENSORS_BOX_MT)) {
        lua_pushcfunction(L, safetensors_box_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    cnn_register(L, data_funcs);
}

/* The tensor and storage userdata: creation, checks, freeing, GC. */
#include "bind.h"

#include <limits.h>
#include <string.h>

#include "context.h"
#include "exec.h"

/* Tensor bytes live outside Lua's heap, where the collector cannot see
 * them: a loop dropping 1 MiB tensors grows Lua's heap by a few hundred
 * bytes per tensor and would hold gigabytes before a cycle ran. So the
 * bytes are counted here, and once the bytes allocated since the last full
 * collection exceed a quarter of the bytes alive after it (at least
 * MIN_COLLECT_BYTES), a full collection runs: external memory peaks near
 * 1.25 times the live amount. Much of what is alive is data that stays
 * (MNIST's 190 MB of images); the rest turns over every training step, and
 * its freed blocks go to the storage cache for the next step to take. The
 * sooner they are freed, the less fresh memory the first steps fault in
 * (on a virtual machine about 2 ms per MB: with the threshold at the whole
 * live amount, LeNet's first 7 steps took 45 ms each instead of 5). A full
 * collection of the small Lua heap of a training loop takes about 0.3 ms;
 * of a big one, it takes about 2 ms per MB (46 MB after the specs of the
 * test suite, 90 ms), so the threshold is also at least HEAP_FACTOR times
 * the Lua heap: a collection then costs about a quarter of a millisecond
 * per MB of tensors allocated, whatever the heap. (At 64 MiB, the
 * suite's bf16 training spec spent 16 of its 19 s collecting.) */
#define MIN_COLLECT_BYTES ((size_t)64 << 20)
#define HEAP_FACTOR       8

/* Whether the table on top holds 'func' (at 'func') under a string key;
 * if so, leaves that key on top above the table. */
static bool find_key_of(lua_State *L, int func)
{
    for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1)) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_rawequal(L, -1, func)) {
            lua_pop(L, 1);
            return true;
        }
    }
    return false;
}

/* Looks the running function up in cnn.core and in core.Tensor (for the
 * metamethods); pushes its name or nothing. */
static bool push_module_name(lua_State *L, int func)
{
    bool found = false;
    int top = lua_gettop(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, "cnn.core") == LUA_TTABLE) {
        found = find_key_of(L, func);
        if (!found && lua_getfield(L, -1, "Tensor") == LUA_TTABLE)
            found = find_key_of(L, func);
    }
    if (found) {
        lua_replace(L, top + 1);
        lua_settop(L, top + 1);
    } else {
        lua_settop(L, top);
    }
    return found;
}

const char *cnn_function_name(lua_State *L)
{
    lua_Debug ar;
    if (!lua_getstack(L, 0, &ar) || !lua_getinfo(L, "nf", &ar))
        return lua_pushstring(L, "cnn.core");
    int func = lua_gettop(L);
    if (!push_module_name(L, func))
        lua_pushstring(L, ar.name ? ar.name : "cnn.core");
    lua_remove(L, func);
    return lua_tostring(L, -1);
}

/* "zeros: tensor", naming the binding that makes a tensor, for failures
 * to make it. */
static const char *making_tensor(lua_State *L)
{
    return lua_pushfstring(L, "%s: tensor", cnn_function_name(L));
}

static size_t live_bytes; /* allocated and not yet freed */
static size_t allocated_since_collect;
static size_t live_after_collect;
static size_t heap_after_collect; /* Lua's own heap, in bytes */

static void release_storage(cnn_storage *s)
{
    live_bytes -= s->bytes < live_bytes ? s->bytes : live_bytes;
    cnn_storage_free(s);
}

static int storage_gc(lua_State *L)
{
    release_storage(luaL_checkudata(L, 1, CNN_STORAGE_MT));
    return 0;
}

static void collect_full(lua_State *L)
{
    lua_gc(L, LUA_GCCOLLECT);
    allocated_since_collect = 0;
    live_after_collect = live_bytes;
    heap_after_collect =
        (size_t)lua_gc(L, LUA_GCCOUNT) * 1024 + (size_t)lua_gc(L, LUA_GCCOUNTB);
}

static size_t larger(size_t a, size_t b) { return a > b ? a : b; }

static void collect_if_due(lua_State *L, size_t bytes)
{
    size_t threshold = larger(larger(MIN_COLLECT_BYTES, live_after_collect / 4),
                              HEAP_FACTOR * heap_after_collect);
    if (allocated_since_collect + bytes > threshold)
        collect_full(L);
}

/* collect_turnover() -> whether it collected: a full collection now if
 * the tensor bytes allocated since the last one are more than HEAP_FACTOR
 * times the Lua heap, that is when it costs what a due collection costs
 * per MB, but without waiting for MIN_COLLECT_BYTES. For a loop whose
 * passes each leave their tensors behind (a big batch taken a slice at a
 * time): the blocks of one pass then serve the next, where waiting would
 * fault in fresh memory for several passes first. */
static int tensor_collect_turnover(lua_State *L)
{
    bool due = allocated_since_collect > HEAP_FACTOR * heap_after_collect;
    if (due)
        collect_full(L);
    lua_pushboolean(L, due);
    return 1;
}

static void count_allocation(size_t bytes)
{
    allocated_since_collect += bytes;
    live_bytes += bytes;
    cnn_stats *st = cnn_global_stats();
    st->tensor_allocations++;
    st->tensor_bytes_allocated += (int64_t)bytes;
}

/* Creates the storage userdata empty first, so a failed allocation leaves
 * nothing for __gc to trip over. When memory runs out, unreachable tensors
 * may still hold plenty: collect them and try once more. */
static cnn_storage *push_storage(lua_State *L, size_t bytes, bool zeroed)
{
    cnn_storage *s = lua_newuserdatauv(L, sizeof *s, 0);
    s->data = NULL;
    s->bytes = 0;
    luaL_setmetatable(L, CNN_STORAGE_MT);
    collect_if_due(L, bytes);
    cnn_status (*alloc)(cnn_storage *, size_t) =
        zeroed ? cnn_storage_alloc : cnn_storage_alloc_uninit;
    if (alloc(s, bytes) != CNN_OK) {
        collect_full(L);
        cnn_storage_cache_clear();
        CNN_CHECK_STATUS(L, making_tensor(L), alloc(s, bytes));
    }
    count_allocation(bytes);
    return s;
}

/* A blocked tensor (see tensor.h) becomes plain in place: its elements are
 * reordered into a new storage, which replaces the old as its user value.
 * Only whole tensors are blocked and views are made of plain ones, so no
 * other tensor shares the old storage. */
static void make_plain(lua_State *L, int arg, cnn_tensor *t)
{
    if (!t->blocked || !cnn_tensor_data(t))
        return;
    arg = lua_absindex(L, arg);
    cnn_tensor plain;
    CNN_CHECK_STATUS(L, making_tensor(L),
                     cnn_tensor_init(&plain, t->dtype, t->ndims, t->size));
    plain.storage = push_storage(L, cnn_tensor_bytes(&plain), false);
    CNN_CHECK_STATUS(L, making_tensor(L), cnn_tensor_unblock(t, &plain));
    *t = plain;
    lua_setiuservalue(L, arg, 1);
}

cnn_tensor *cnn_to_tensor(lua_State *L, int arg)
{
    cnn_tensor *t = luaL_testudata(L, arg, CNN_TENSOR_MT);
    if (t)
        make_plain(L, arg, t);
    return t;
}

cnn_tensor *cnn_check_tensor_any(lua_State *L, int arg)
{
    cnn_tensor *t = luaL_checkudata(L, arg, CNN_TENSOR_MT);
    if (!cnn_tensor_data(t))
        luaL_argerror(L, arg, "attempt to use a freed tensor");
    return t;
}

cnn_tensor *cnn_check_tensor(lua_State *L, int arg)
{
    cnn_tensor *t = cnn_check_tensor_any(L, arg);
    make_plain(L, arg, t);
    return t;
}

cnn_tensor *cnn_check_tensor_type(lua_State *L, int arg, cnn_dtype dtype)
{
    cnn_tensor *t = cnn_check_tensor(L, arg);
    if (t->dtype != dtype) {
        const char *msg =
            lua_pushfstring(L, "%s tensor expected, got %s", cnn_dtype_name(dtype),
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

static cnn_tensor *push_tensor(lua_State *L, cnn_dtype dtype, int ndims,
                               const int64_t *size, bool zeroed)
{
    cnn_tensor shape;
    CNN_CHECK_STATUS(L, making_tensor(L), cnn_tensor_init(&shape, dtype, ndims, size));
    cnn_tensor *t = push_tensor_header(L);
    *t = shape;
    cnn_storage *s = push_storage(L, cnn_tensor_bytes(&shape), zeroed);
    t->storage = s;
    lua_setiuservalue(L, -2, 1);
    return t;
}

cnn_tensor *cnn_push_new_tensor(lua_State *L, cnn_dtype dtype, int ndims,
                                const int64_t *size)
{
    return push_tensor(L, dtype, ndims, size, true);
}

cnn_tensor *cnn_push_tensor_uninit(lua_State *L, cnn_dtype dtype, int ndims,
                                   const int64_t *size)
{
    return push_tensor(L, dtype, ndims, size, false);
}

cnn_tensor *cnn_push_tensor_in_layout(lua_State *L, int ndims, const int64_t *size,
                                      const dnnl_memory_desc_t *md)
{
    if (cnn_md_is_plain(md, ndims, size))
        return push_tensor(L, CNN_FLOAT32, ndims, size, false);
    cnn_tensor shape;
    CNN_CHECK_STATUS(L, making_tensor(L),
                     cnn_tensor_init(&shape, CNN_FLOAT32, ndims, size));
    size_t bytes = dnnl_memory_desc_get_size(md);
    if (md->ndims != ndims || md->data_type != dnnl_f32 ||
        bytes < cnn_tensor_bytes(&shape))
        luaL_error(L, "%s: a layout that does not fit the sizes", cnn_function_name(L));
    cnn_tensor *t = push_tensor_header(L);
    *t = shape;
    t->blocked = true;
    t->layout = *md;
    /* oneDNN expects the padding of a blocked layout to be zero, and
     * writes the zeros itself whenever a buffer is handed to a primitive
     * (dnnl_memory_set_data_handle and dnnl_memory_create zero the padding,
     * at each call); the core's own kernels that write a blocked tensor
     * whole (relu, binary ops in layout, max pooling) keep the zeros of
     * their inputs. So the buffer is not cleared here: for LeNet's six
     * channels in blocks of 16, clearing cost a quarter of the step. */
    t->storage = push_storage(L, bytes, false);
    lua_setiuservalue(L, -2, 1);
    return t;
}

cnn_tensor *cnn_push_plan_output(lua_State *L, const cnn_plan_output *out)
{
    if (out->blocked)
        return cnn_push_tensor_in_layout(L, out->ndims, out->size, &out->layout);
    return cnn_push_tensor_uninit(L, CNN_FLOAT32, out->ndims, out->size);
}

cnn_tensor *cnn_push_tensor_like(lua_State *L, const cnn_tensor *like)
{
    return cnn_push_new_tensor(L, like->dtype, like->ndims, like->size);
}

cnn_tensor *cnn_push_uninit_like(lua_State *L, const cnn_tensor *like)
{
    return push_tensor(L, like->dtype, like->ndims, like->size, false);
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

int cnn_rawlen(lua_State *L, int idx)
{
    size_t len = lua_rawlen(L, idx);
    return len > INT_MAX ? INT_MAX : (int)len;
}

int cnn_check_sizes(lua_State *L, int first, int64_t *size)
{
    int ndims = 0;
    if (lua_istable(L, first)) {
        ndims = cnn_rawlen(L, first);
        luaL_argcheck(L, ndims <= CNN_MAX_DIMS, first, "too many dimensions");
        for (int d = 0; d < ndims; d++) {
            lua_rawgeti(L, first, d + 1);
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

void cnn_register(lua_State *L, const luaL_Reg *funcs) { luaL_setfuncs(L, funcs, 0); }

/* t:free(): releases the bytes now; every view of the storage then raises
 * "attempt to use a freed tensor". Safe to call twice. */
static int tensor_free(lua_State *L)
{
    luaL_checkudata(L, 1, CNN_TENSOR_MT);
    lua_getiuservalue(L, 1, 1);
    cnn_storage *s = luaL_testudata(L, -1, CNN_STORAGE_MT);
    if (s)
        release_storage(s);
    return 0;
}

void cnn_register_methods(lua_State *L, const luaL_Reg *funcs)
{
    luaL_getmetatable(L, CNN_TENSOR_MT);
    lua_getfield(L, -1, "methods");
    luaL_setfuncs(L, funcs, 0);
    lua_pop(L, 2);
}

/* t:isfreed(): whether t's bytes were released. It raises nothing, so a
 * check of its argument needs no pcall (which would also swallow an
 * interrupt). */
static int tensor_isfreed(lua_State *L)
{
    cnn_tensor *t = luaL_checkudata(L, 1, CNN_TENSOR_MT);
    lua_pushboolean(L, cnn_tensor_data(t) == NULL);
    return 1;
}

static const luaL_Reg object_funcs[] = {
    {"free", tensor_free},
    {"isfreed", tensor_isfreed},
    {NULL, NULL},
};

static const luaL_Reg collector_funcs[] = {
    {"collect_turnover", tensor_collect_turnover},
    {NULL, NULL},
};

void cnn_open_tensor_object(lua_State *L)
{
    if (luaL_newmetatable(L, CNN_STORAGE_MT)) {
        lua_pushcfunction(L, storage_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    /* Until cnn_open_tensor_indexing runs, __index is the methods table
     * itself (see bind.h). */
    if (luaL_newmetatable(L, CNN_TENSOR_MT)) {
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, "methods");
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, tensor_free);
        lua_setfield(L, -2, "__close");
    }
    lua_pop(L, 1);
    cnn_register(L, object_funcs);
    cnn_register_methods(L, object_funcs);
    cnn_register(L, collector_funcs);
    /* core.Tensor is the metatable, so Lua code can add methods and
     * metamethods (the autodiff-aware operators live in Lua). */
    luaL_getmetatable(L, CNN_TENSOR_MT);
    lua_setfield(L, -2, "Tensor");
}

/* The Float32 tensor at 'arg' for a kernel that takes oneDNN's blocked
 * layouts (convolution, pooling, eltwise), replaced on the stack by a
 * contiguous copy if it is a view with gaps. */
cnn_tensor *cnn_check_layout_input(lua_State *L, int arg)
{
    cnn_tensor *t = cnn_check_tensor_any(L, arg);
    if (t->dtype != CNN_FLOAT32)
        luaL_argerror(L, arg,
                      lua_pushfstring(L, "Float32 tensor expected, got %s",
                                      cnn_dtype_name(t->dtype)));
    if (t->blocked || cnn_tensor_is_contiguous(t))
        return t;
    cnn_tensor *c = cnn_push_uninit_like(L, t);
    CNN_CHECK_STATUS(L, cnn_function_name(L), cnn_tensor_copy(c, t));
    lua_replace(L, arg);
    return c;
}

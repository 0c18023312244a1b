/* The kernels that pick or spread pixels and columns, forward and
 * backward: resampling (upsampling), adaptive pooling and embedding
 * lookups.
 *
 * As in nn.c, each binding reads its Lua arguments, plans the op, pushes
 * the results and runs the plan. */
#include "bind.h"

#include <string.h>

#include "adaptive_pool.h"
#include "embedding.h"
#include "resample.h"

/* A plain contiguous Float32 tensor, for the embedding lookups. Resampling
 * and adaptive pooling take a tensor a layer kernel left blocked as it is
 * (cnn_check_layout_input): the primitive, or a reorder into a scratch
 * buffer, reads it without a new tensor. */
static cnn_tensor *check_input(lua_State *L, int arg)
{
    cnn_check_tensor(L, arg);
    return cnn_check_layout_input(L, arg);
}

/* A table of two positive integers {W, H}. */
static void check_pair(lua_State *L, int arg, const char *fname, const char *what,
                       int64_t out[2])
{
    luaL_checktype(L, arg, LUA_TTABLE);
    bool ok = cnn_rawlen(L, arg) == 2;
    for (int i = 0; ok && i < 2; i++) {
        lua_rawgeti(L, arg, i + 1);
        int isint;
        lua_Integer v = lua_tointegerx(L, -1, &isint);
        ok = isint && v >= 1;
        out[i] = v;
        lua_pop(L, 1);
    }
    if (!ok)
        luaL_error(L, "%s: %s must be a table of 2 positive integers {W, H}", fname,
                   what);
}

static cnn_resample_kind check_resample_kind(lua_State *L, int arg)
{
    static const char *const kinds[] = {"nearest", "bilinear", NULL};
    return luaL_checkoption(L, arg, NULL, kinds) == 0 ? CNN_RESAMPLE_NEAREST
                                                      : CNN_RESAMPLE_BILINEAR;
}

/* resample(mode, x, {W', H'}) -> y */
static int sampling_resample(lua_State *L)
{
    cnn_resample_params p;
    memset(&p, 0, sizeof p);
    p.kind = check_resample_kind(L, 1);
    cnn_tensor *x = cnn_check_layout_input(L, 2);
    check_pair(L, 3, "resample", "size", p.out);
    cnn_resample_plan plan;
    CNN_CHECK_STATUS(L, "resample", cnn_resample_plan_forward(&plan, &p, x));
    cnn_tensor *y = cnn_push_plan_output(L, &plan.out);
    CNN_CHECK_STATUS(L, "resample", cnn_resample_run_forward(&plan, x, y));
    return 1;
}

/* resample_backward(mode, gy, x_sizes) -> gx */
static int sampling_resample_backward(lua_State *L)
{
    const char *fname = "resample_backward";
    cnn_resample_params p;
    memset(&p, 0, sizeof p);
    p.kind = check_resample_kind(L, 1);
    cnn_tensor *gy = cnn_check_layout_input(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    int64_t x[CNN_MAX_DIMS];
    int ndims = cnn_check_sizes(L, 3, x);
    p.out[0] = gy->ndims == 4 ? gy->size[0] : 0;
    p.out[1] = gy->ndims == 4 ? gy->size[1] : 0;
    cnn_resample_plan plan;
    CNN_CHECK_STATUS(L, fname, cnn_resample_plan_backward(&plan, &p, gy, ndims, x));
    cnn_tensor *gx = cnn_push_plan_output(L, &plan.out);
    CNN_CHECK_STATUS(L, fname, cnn_resample_run_backward(&plan, gy, gx));
    return 1;
}

static cnn_pool_kind check_pool_kind(lua_State *L, int arg)
{
    static const char *const kinds[] = {"max", "mean", NULL};
    return luaL_checkoption(L, arg, NULL, kinds) == 0 ? CNN_POOL_MAX : CNN_POOL_MEAN;
}

/* adaptive_pool2d(kind, x, {W', H'}) -> y */
static int sampling_adaptive_pool2d(lua_State *L)
{
    const char *fname = "adaptive_pool2d";
    cnn_adaptive_pool_params p;
    memset(&p, 0, sizeof p);
    p.kind = check_pool_kind(L, 1);
    cnn_tensor *x = cnn_check_layout_input(L, 2);
    check_pair(L, 3, fname, "size", p.out);
    cnn_adaptive_pool_plan plan;
    CNN_CHECK_STATUS(L, fname, cnn_adaptive_pool_plan_forward(&plan, &p, x));
    cnn_tensor *y = cnn_push_plan_output(L, &plan.out);
    CNN_CHECK_STATUS(L, fname, cnn_adaptive_pool_run_forward(&plan, x, y));
    return 1;
}

/* adaptive_pool2d_backward(kind, gy, x) -> gx */
static int sampling_adaptive_pool2d_backward(lua_State *L)
{
    const char *fname = "adaptive_pool2d_backward";
    cnn_adaptive_pool_params p;
    memset(&p, 0, sizeof p);
    p.kind = check_pool_kind(L, 1);
    cnn_tensor *gy = cnn_check_layout_input(L, 2), *x = cnn_check_layout_input(L, 3);
    p.out[0] = gy->ndims == 4 ? gy->size[0] : 0;
    p.out[1] = gy->ndims == 4 ? gy->size[1] : 0;
    cnn_adaptive_pool_plan plan;
    CNN_CHECK_STATUS(L, fname, cnn_adaptive_pool_plan_backward(&plan, &p, gy, x));
    cnn_tensor *gx = cnn_push_plan_output(L, &plan.out);
    CNN_CHECK_STATUS(L, fname, cnn_adaptive_pool_run_backward(&plan, gy, x, gx));
    return 1;
}

/* embedding(w, indices) -> y */
static int sampling_embedding(lua_State *L)
{
    cnn_tensor *w = check_input(L, 1);
    cnn_tensor *idx = cnn_check_tensor_type(L, 2, CNN_INT32);
    CNN_CHECK_STATUS(L, "embedding", cnn_embedding_check(w, idx));
    cnn_plan_output out;
    cnn_embedding_output_size(w, idx, &out);
    cnn_tensor *y = cnn_push_plan_output(L, &out);
    CNN_CHECK_STATUS(L, "embedding", cnn_embedding_forward(w, idx, y));
    return 1;
}

/* embedding_backward(gy, indices, w_sizes) -> gw */
static int sampling_embedding_backward(lua_State *L)
{
    const char *fname = "embedding_backward";
    cnn_tensor *gy = check_input(L, 1);
    cnn_tensor *idx = cnn_check_tensor_type(L, 2, CNN_INT32);
    luaL_checktype(L, 3, LUA_TTABLE);
    int64_t w[CNN_MAX_DIMS];
    int ndims = cnn_check_sizes(L, 3, w);
    cnn_tensor *gw = cnn_push_tensor_uninit(L, CNN_FLOAT32, ndims, w);
    CNN_CHECK_STATUS(L, fname, cnn_embedding_backward(gy, idx, gw));
    return 1;
}

static const luaL_Reg sampling_funcs[] = {
    {"resample", sampling_resample},
    {"resample_backward", sampling_resample_backward},
    {"adaptive_pool2d", sampling_adaptive_pool2d},
    {"adaptive_pool2d_backward", sampling_adaptive_pool2d_backward},
    {"embedding", sampling_embedding},
    {"embedding_backward", sampling_embedding_backward},
    {NULL, NULL},
};

void cnn_open_sampling(lua_State *L) { cnn_register(L, sampling_funcs); }

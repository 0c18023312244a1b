/* Layer kernels, forward and backward: convolution, transposed
 * convolution, pooling, dense, softmax, batch, layer and group
 * normalisation (activations: activation.c).
 *
 * Each binding reads its Lua arguments, plans the op (the plan checks the
 * operands and says how to allocate the results), pushes the results and
 * runs the plan: after the plan only oneDNN itself can fail. Inputs that
 * are views with gaps are copied to contiguous tensors first (oneDNN reads
 * plain dense memory). */
#include "bind.h"

#include <string.h>

#include "batchnorm.h"
#include "conv.h"
#include "deconv.h"
#include "dense.h"
#include "groupnorm.h"
#include "layer_opts.h"
#include "layernorm.h"
#include "pool.h"
#include "softmax.h"

#define CNN_POOL_WORKSPACE_MT "cnn.PoolWorkspace"

/* The same for the other kernels, which take plain tensors only. */
static cnn_tensor *check_input(lua_State *L, int arg)
{
    cnn_check_tensor(L, arg);
    return cnn_check_layout_input(L, arg);
}

static cnn_tensor *opt_input(lua_State *L, int arg)
{
    return lua_isnoneornil(L, arg) ? NULL : check_input(L, arg);
}

/* A tensor updated in place must be the caller's own memory. */
static cnn_tensor *check_inplace(lua_State *L, int arg, const char *fname)
{
    cnn_tensor *t = cnn_check_tensor_type(L, arg, CNN_FLOAT32);
    if (!cnn_tensor_is_contiguous(t))
        luaL_error(L, "%s: argument #%d is updated in place and must be contiguous",
                   fname, arg);
    return t;
}

/* A sizes table argument (e.g. the forward input's sizes). */
static int check_sizes_table(lua_State *L, int arg, int64_t *size)
{
    luaL_checktype(L, arg, LUA_TTABLE);
    return cnn_check_sizes(L, arg, size);
}

/* A trailing `training` argument: true unless given as false, when no
 * backward will follow and oneDNN's inference forward runs. */
static bool opt_training(lua_State *L, int arg)
{
    return lua_isnoneornil(L, arg) || lua_toboolean(L, arg);
}

/* conv2d(x, w, b|nil, opts [, training]) -> y */
static int nn_conv2d(lua_State *L)
{
    cnn_tensor *x = cnn_check_layout_input(L, 1), *w = check_input(L, 2);
    cnn_tensor *b = opt_input(L, 3);
    cnn_conv2d_params p = cnn_conv_opts(L, 4, "conv2d");
    p.inference = !opt_training(L, 5);
    cnn_conv2d_plan plan;
    CNN_CHECK_STATUS(L, "conv2d", cnn_conv2d_plan_forward(&plan, &p, x, w, b));
    cnn_tensor *y = cnn_push_plan_output(L, &plan.out[0]);
    CNN_CHECK_STATUS(L, "conv2d", cnn_conv2d_run_forward(&plan, x, w, b, y));
    return 1;
}

/* conv2d_backward_data(gy, w, x_sizes, opts) -> gx */
static int nn_conv2d_backward_data(lua_State *L)
{
    const char *fname = "conv2d_backward_data";
    cnn_tensor *gy = cnn_check_layout_input(L, 1), *w = check_input(L, 2);
    int64_t x[CNN_MAX_DIMS];
    int ndims = check_sizes_table(L, 3, x);
    cnn_conv2d_params p = cnn_conv_opts(L, 4, fname);
    cnn_conv2d_plan plan;
    CNN_CHECK_STATUS(L, fname, cnn_conv2d_plan_backward_data(&plan, &p, gy, w, ndims, x));
    cnn_tensor *gx = cnn_push_plan_output(L, &plan.out[0]);
    CNN_CHECK_STATUS(L, fname, cnn_conv2d_run_backward_data(&plan, gy, w, gx));
    return 1;
}

/* conv2d_backward_weights(gy, x, w_sizes, opts, with_bias) -> gw, gb|nil */
static int nn_conv2d_backward_weights(lua_State *L)
{
    const char *fname = "conv2d_backward_weights";
    cnn_tensor *gy = cnn_check_layout_input(L, 1), *x = cnn_check_layout_input(L, 2);
    int64_t w[CNN_MAX_DIMS];
    int ndims = check_sizes_table(L, 3, w);
    cnn_conv2d_params p = cnn_conv_opts(L, 4, fname);
    bool with_bias = lua_toboolean(L, 5);
    cnn_conv2d_plan plan;
    CNN_CHECK_STATUS(
        L, fname,
        cnn_conv2d_plan_backward_weights(&plan, &p, gy, x, ndims, w, with_bias));
    cnn_tensor *gw = cnn_push_plan_output(L, &plan.out[0]);
    cnn_tensor *gb = NULL;
    if (with_bias)
        gb = cnn_push_plan_output(L, &plan.out[1]);
    else
        lua_pushnil(L);
    CNN_CHECK_STATUS(L, fname, cnn_conv2d_run_backward_weights(&plan, gy, x, gw, gb));
    return 2;
}

/* A transposed convolution's options: the convolution's and `outpad`. */
static cnn_deconv2d_params decnn_conv_opts(lua_State *L, int opts, const char *fname)
{
    cnn_conv2d_params c = cnn_conv_opts(L, opts, fname);
    cnn_deconv2d_params p = cnn_deconv2d_default_params();
    memcpy(p.stride, c.stride, sizeof p.stride);
    memcpy(p.pad, c.pad, sizeof p.pad);
    memcpy(p.dilation, c.dilation, sizeof p.dilation);
    p.groups = c.groups;
    if (c.activation != CNN_CONV_IDENTITY && c.activation != CNN_CONV_RELU)
        luaL_error(L, "%s: activation must be \"relu\" or nil, got %s", fname,
                   c.activation == CNN_CONV_TANH ? "tanh" : "sigmoid");
    p.relu = c.activation == CNN_CONV_RELU;
    cnn_opt_ints(L, opts, fname, "outpad", 2, 0, p.outpad);
    return p;
}

/* deconv2d(x, w, b|nil, opts [, training]) -> y */
static int nn_deconv2d(lua_State *L)
{
    cnn_tensor *x = cnn_check_layout_input(L, 1), *w = check_input(L, 2);
    cnn_tensor *b = opt_input(L, 3);
    cnn_deconv2d_params p = decnn_conv_opts(L, 4, "deconv2d");
    p.inference = !opt_training(L, 5);
    cnn_deconv2d_plan plan;
    CNN_CHECK_STATUS(L, "deconv2d", cnn_deconv2d_plan_forward(&plan, &p, x, w, b));
    cnn_tensor *y = cnn_push_plan_output(L, &plan.out[0]);
    CNN_CHECK_STATUS(L, "deconv2d", cnn_deconv2d_run_forward(&plan, x, w, b, y));
    return 1;
}

/* deconv2d_backward_data(gy, w, x_sizes, opts) -> gx */
static int nn_deconv2d_backward_data(lua_State *L)
{
    const char *fname = "deconv2d_backward_data";
    cnn_tensor *gy = cnn_check_layout_input(L, 1), *w = check_input(L, 2);
    int64_t x[CNN_MAX_DIMS];
    int ndims = check_sizes_table(L, 3, x);
    cnn_deconv2d_params p = decnn_conv_opts(L, 4, fname);
    cnn_deconv2d_plan plan;
    CNN_CHECK_STATUS(L, fname,
                     cnn_deconv2d_plan_backward_data(&plan, &p, gy, w, ndims, x));
    cnn_tensor *gx = cnn_push_plan_output(L, &plan.out[0]);
    CNN_CHECK_STATUS(L, fname, cnn_deconv2d_run_backward_data(&plan, gy, w, gx));
    return 1;
}

/* deconv2d_backward_weights(gy, x, w_sizes, opts, with_bias) -> gw, gb|nil */
static int nn_deconv2d_backward_weights(lua_State *L)
{
    const char *fname = "deconv2d_backward_weights";
    cnn_tensor *gy = cnn_check_layout_input(L, 1), *x = cnn_check_layout_input(L, 2);
    int64_t w[CNN_MAX_DIMS];
    int ndims = check_sizes_table(L, 3, w);
    cnn_deconv2d_params p = decnn_conv_opts(L, 4, fname);
    bool with_bias = lua_toboolean(L, 5);
    cnn_deconv2d_plan plan;
    CNN_CHECK_STATUS(
        L, fname,
        cnn_deconv2d_plan_backward_weights(&plan, &p, gy, x, ndims, w, with_bias));
    cnn_tensor *gw = cnn_push_plan_output(L, &plan.out[0]);
    cnn_tensor *gb = NULL;
    if (with_bias)
        gb = cnn_push_plan_output(L, &plan.out[1]);
    else
        lua_pushnil(L);
    CNN_CHECK_STATUS(L, fname, cnn_deconv2d_run_backward_weights(&plan, gy, x, gw, gb));
    return 2;
}

static int workspace_gc(lua_State *L)
{
    cnn_pool_workspace *ws = luaL_checkudata(L, 1, CNN_POOL_WORKSPACE_MT);
    cnn_pool_workspace_free(ws);
    return 0;
}

static int workspace_tostring(lua_State *L)
{
    cnn_pool_workspace *ws = luaL_checkudata(L, 1, CNN_POOL_WORKSPACE_MT);
    char xs[128];
    cnn_tensor shape;
    if (cnn_tensor_init(&shape, CNN_FLOAT32, 4, ws->x) != CNN_OK)
        return luaL_error(L, "corrupt workspace");
    lua_pushfstring(L, "PoolWorkspace(max %d×%d window over %s, %I bytes)",
                    (int)ws->params.window[0], (int)ws->params.window[1],
                    cnn_shape_string(&shape, xs, sizeof xs), (lua_Integer)ws->bytes);
    return 1;
}

/* The userdata starts empty so that __gc is safe whatever fails later. */
static cnn_pool_workspace *push_workspace(lua_State *L)
{
    cnn_pool_workspace *ws = lua_newuserdatauv(L, sizeof *ws, 0);
    memset(ws, 0, sizeof *ws);
    luaL_setmetatable(L, CNN_POOL_WORKSPACE_MT);
    return ws;
}

/* pool2d(kind, x, opts [, training]) -> y, ws (ws is nil for mean pooling
 * and when not training) */
static int nn_pool2d(lua_State *L)
{
    cnn_pool_kind kind = cnn_check_pool_kind(L, 1);
    cnn_tensor *x = cnn_check_layout_input(L, 2);
    cnn_pool2d_params p = cnn_pool_opts(L, kind, 3, "pool2d");
    p.inference = !opt_training(L, 4);
    cnn_pool2d_plan plan;
    CNN_CHECK_STATUS(L, "pool2d", cnn_pool2d_plan_forward(&plan, &p, x));
    cnn_tensor *out = cnn_push_plan_output(L, &plan.out);
    cnn_pool_workspace *ws = NULL;
    if (kind == CNN_POOL_MAX && !p.inference)
        ws = push_workspace(L);
    else
        lua_pushnil(L);
    CNN_CHECK_STATUS(L, "pool2d", cnn_pool2d_run_forward(&plan, x, out, ws));
    if (ws && ws->bytes >= 1024)
        lua_gc(L, LUA_GCSTEP,
               (int)(ws->bytes / 1024 > 1 << 20 ? 1 << 20 : ws->bytes / 1024));
    return 2;
}

/* The type of a value for messages: a userdata's metatable __name if any. */
static const char *type_name(lua_State *L, int arg)
{
    if (luaL_getmetafield(L, arg, "__name") == LUA_TSTRING)
        return lua_tostring(L, -1);
    return luaL_typename(L, arg);
}

/* pool2d_backward(kind, gy, x_sizes, ws|nil, opts) -> gx */
static int nn_pool2d_backward(lua_State *L)
{
    const char *fname = "pool2d_backward";
    cnn_pool_kind kind = cnn_check_pool_kind(L, 1);
    cnn_tensor *gy = cnn_check_layout_input(L, 2);
    int64_t x[CNN_MAX_DIMS];
    int ndims = check_sizes_table(L, 3, x);
    cnn_pool_workspace *ws = luaL_testudata(L, 4, CNN_POOL_WORKSPACE_MT);
    if (kind == CNN_POOL_MAX && !ws)
        return luaL_error(L,
                          "%s: max pooling needs the workspace returned by pool2d "
                          "(argument #4 is %s)",
                          fname, type_name(L, 4));
    cnn_pool2d_params p = cnn_pool_opts(L, kind, 5, fname);
    cnn_pool2d_plan plan;
    CNN_CHECK_STATUS(L, fname, cnn_pool2d_plan_backward(&plan, &p, gy, ndims, x, ws));
    cnn_tensor *gx = cnn_push_plan_output(L, &plan.out);
    CNN_CHECK_STATUS(L, fname, cnn_pool2d_run_backward(&plan, gy, ws, gx));
    return 1;
}

/* dense(x, w, b|nil) -> y */
static int nn_dense(lua_State *L)
{
    cnn_tensor *x = check_input(L, 1), *w = check_input(L, 2);
    cnn_tensor *b = opt_input(L, 3);
    cnn_dense_plan plan;
    CNN_CHECK_STATUS(L, "dense", cnn_dense_plan_forward(&plan, x, w, b));
    cnn_tensor *y = cnn_push_plan_output(L, &plan.out[0]);
    CNN_CHECK_STATUS(L, "dense", cnn_dense_run_forward(&plan, x, w, b, y));
    return 1;
}

/* dense_backward_data(gy, w) -> gx */
static int nn_dense_backward_data(lua_State *L)
{
    const char *fname = "dense_backward_data";
    cnn_tensor *gy = check_input(L, 1), *w = check_input(L, 2);
    cnn_dense_plan plan;
    CNN_CHECK_STATUS(L, fname, cnn_dense_plan_backward_data(&plan, gy, w));
    cnn_tensor *gx = cnn_push_plan_output(L, &plan.out[0]);
    CNN_CHECK_STATUS(L, fname, cnn_dense_run_backward_data(&plan, gy, w, gx));
    return 1;
}

/* dense_backward_weights(gy, x, with_bias) -> gw, gb|nil */
static int nn_dense_backward_weights(lua_State *L)
{
    const char *fname = "dense_backward_weights";
    cnn_tensor *gy = check_input(L, 1), *x = check_input(L, 2);
    bool with_bias = lua_toboolean(L, 3);
    cnn_dense_plan plan;
    CNN_CHECK_STATUS(L, fname, cnn_dense_plan_backward_weights(&plan, gy, x, with_bias));
    cnn_tensor *gw = cnn_push_plan_output(L, &plan.out[0]);
    cnn_tensor *gb = NULL;
    if (with_bias)
        gb = cnn_push_plan_output(L, &plan.out[1]);
    else
        lua_pushnil(L);
    CNN_CHECK_STATUS(L, fname, cnn_dense_run_backward_weights(&plan, gy, x, gw, gb));
    return 2;
}

/* softmax(x, log) -> y */
static int nn_softmax(lua_State *L)
{
    cnn_tensor *x = check_input(L, 1);
    bool log = lua_toboolean(L, 2);
    const char *fname = log ? "logsoftmax" : "softmax";
    cnn_softmax_plan plan;
    CNN_CHECK_STATUS(L, fname, cnn_softmax_plan_forward(&plan, x, log));
    cnn_tensor *y = cnn_push_plan_output(L, &plan.out);
    CNN_CHECK_STATUS(L, fname, cnn_softmax_run_forward(&plan, x, y));
    return 1;
}

/* softmax_backward(gy, y, log) -> gx */
static int nn_softmax_backward(lua_State *L)
{
    cnn_tensor *gy = check_input(L, 1), *y = check_input(L, 2);
    bool log = lua_toboolean(L, 3);
    const char *fname = log ? "logsoftmax_backward" : "softmax_backward";
    cnn_softmax_plan plan;
    CNN_CHECK_STATUS(L, fname, cnn_softmax_plan_backward(&plan, gy, y, log));
    cnn_tensor *gx = cnn_push_plan_output(L, &plan.out);
    CNN_CHECK_STATUS(L, fname, cnn_softmax_run_backward(&plan, gy, y, gx));
    return 1;
}

/* batchnorm(x, gamma, beta, running_mean, running_var, training, momentum,
 * eps) -> y, saved_mean, saved_var (training) or y (inference) */
static int nn_batchnorm(lua_State *L)
{
    const char *fname = "batchnorm";
    cnn_tensor *x = cnn_check_layout_input(L, 1); /* blocked stays blocked */
    cnn_tensor *gamma = check_input(L, 2), *beta = check_input(L, 3);
    cnn_tensor *rmean = check_inplace(L, 4, fname), *rvar = check_inplace(L, 5, fname);
    bool training = lua_toboolean(L, 6);
    float momentum = (float)luaL_optnumber(L, 7, 0.1);
    float eps = (float)luaL_optnumber(L, 8, 1e-5);
    cnn_batchnorm_plan plan;
    CNN_CHECK_STATUS(L, fname,
                     cnn_batchnorm_plan_forward(&plan, x, gamma, beta, rmean, rvar,
                                                training, momentum, eps));
    cnn_tensor *y = cnn_push_plan_output(L, &plan.out[0]);
    cnn_tensor *mean = NULL, *var = NULL;
    if (training) {
        mean = cnn_push_plan_output(L, &plan.out[1]);
        var = cnn_push_plan_output(L, &plan.out[2]);
    }
    CNN_CHECK_STATUS(
        L, fname,
        cnn_batchnorm_run_forward(&plan, x, gamma, beta, rmean, rvar, y, mean, var));
    return training ? 3 : 1;
}

/* batchnorm_backward(gy, x, gamma, saved_mean, saved_var, eps)
 * -> gx, ggamma, gbeta */
static int nn_batchnorm_backward(lua_State *L)
{
    const char *fname = "batchnorm_backward";
    cnn_tensor *gy = cnn_check_layout_input(L, 1), *x = cnn_check_layout_input(L, 2);
    cnn_tensor *gamma = check_input(L, 3);
    cnn_tensor *mean = check_input(L, 4), *var = check_input(L, 5);
    float eps = (float)luaL_optnumber(L, 6, 1e-5);
    cnn_batchnorm_plan plan;
    CNN_CHECK_STATUS(L, fname,
                     cnn_batchnorm_plan_backward(&plan, gy, x, gamma, mean, var, eps));
    cnn_tensor *gx = cnn_push_plan_output(L, &plan.out[0]);
    cnn_tensor *ggamma = cnn_push_plan_output(L, &plan.out[1]);
    cnn_tensor *gbeta = cnn_push_plan_output(L, &plan.out[2]);
    CNN_CHECK_STATUS(
        L, fname,
        cnn_batchnorm_run_backward(&plan, gy, x, gamma, mean, var, gx, ggamma, gbeta));
    return 3;
}

/* An input of the layer normalisation, which reads plain tensors only: a
 * blocked one is converted in place, a view with gaps copied. */
static cnn_tensor *plain_input(lua_State *L, int arg)
{
    cnn_check_tensor_type(L, arg, CNN_FLOAT32);
    return cnn_check_layout_input(L, arg);
}

static cnn_tensor *opt_plain_input(lua_State *L, int arg)
{
    return lua_isnoneornil(L, arg) ? NULL : plain_input(L, arg);
}

/* The count of leading dimensions normalised together. */
static int check_dims(lua_State *L, int arg, const char *fname, const cnn_tensor *x)
{
    lua_Integer d = luaL_checkinteger(L, arg);
    if (d < 1 || d > x->ndims)
        luaL_error(L, "%s: dims must be from 1 to the input's %d dimensions, got %I",
                   fname, x->ndims, d);
    return (int)d;
}

/* layernorm(x, dims, gamma, beta, eps) -> y, mean, var: the first dims
 * sizes of x normalised together (gamma and beta nil, or both of those
 * sizes); mean and var one per normalised column. */
static int nn_layernorm(lua_State *L)
{
    const char *fname = "layernorm";
    cnn_tensor *x = plain_input(L, 1);
    int dims = check_dims(L, 2, fname, x);
    cnn_tensor *gamma = opt_plain_input(L, 3), *beta = opt_plain_input(L, 4);
    float eps = (float)luaL_optnumber(L, 5, 1e-5);
    cnn_layernorm_plan plan;
    CNN_CHECK_STATUS(L, fname,
                     cnn_layernorm_plan_forward(&plan, x, dims, gamma, beta, eps));
    cnn_tensor *y = cnn_push_plan_output(L, &plan.out[0]);
    cnn_tensor *mean = cnn_push_plan_output(L, &plan.out[1]);
    cnn_tensor *var = cnn_push_plan_output(L, &plan.out[2]);
    CNN_CHECK_STATUS(L, fname,
                     cnn_layernorm_run_forward(&plan, x, gamma, beta, y, mean, var));
    return 3;
}

/* layernorm_backward(gy, x, dims, gamma, mean, var, eps) -> gx, and with
 * gamma ggamma and gbeta */
static int nn_layernorm_backward(lua_State *L)
{
    const char *fname = "layernorm_backward";
    cnn_tensor *gy = plain_input(L, 1), *x = plain_input(L, 2);
    int dims = check_dims(L, 3, fname, x);
    cnn_tensor *gamma = opt_plain_input(L, 4);
    cnn_tensor *mean = plain_input(L, 5), *var = plain_input(L, 6);
    float eps = (float)luaL_optnumber(L, 7, 1e-5);
    cnn_layernorm_plan plan;
    CNN_CHECK_STATUS(
        L, fname, cnn_layernorm_plan_backward(&plan, gy, x, dims, gamma, mean, var, eps));
    cnn_tensor *gx = cnn_push_plan_output(L, &plan.out[0]);
    cnn_tensor *ggamma = NULL, *gbeta = NULL;
    if (gamma) {
        ggamma = cnn_push_plan_output(L, &plan.out[1]);
        gbeta = cnn_push_plan_output(L, &plan.out[2]);
    }
    CNN_CHECK_STATUS(
        L, fname,
        cnn_layernorm_run_backward(&plan, gy, x, gamma, mean, var, gx, ggamma, gbeta));
    return gamma ? 3 : 1;
}

/* groupnorm(x, groups, gamma, beta, eps) -> y, mean, var: the channels
 * of each sample of x in `groups` groups, each normalised on its own, then
 * gamma and beta per channel (both nil, or both vectors of C); mean and
 * var one per group and sample. */
static int nn_groupnorm(lua_State *L)
{
    const char *fname = "groupnorm";
    cnn_tensor *x = plain_input(L, 1);
    lua_Integer groups = luaL_checkinteger(L, 2);
    cnn_tensor *gamma = opt_plain_input(L, 3), *beta = opt_plain_input(L, 4);
    float eps = (float)luaL_optnumber(L, 5, 1e-5);
    cnn_groupnorm_plan plan;
    CNN_CHECK_STATUS(L, fname,
                     cnn_groupnorm_plan_forward(&plan, x, groups, gamma, beta, eps));
    cnn_tensor *y = cnn_push_plan_output(L, &plan.out[0]);
    cnn_tensor *mean = cnn_push_plan_output(L, &plan.out[1]);
    cnn_tensor *var = cnn_push_plan_output(L, &plan.out[2]);
    CNN_CHECK_STATUS(L, fname,
                     cnn_groupnorm_run_forward(&plan, x, gamma, beta, y, mean, var));
    return 3;
}

/* groupnorm_backward(gy, x, groups, gamma, mean, var, eps) -> gx, and
 * with gamma ggamma and gbeta */
static int nn_groupnorm_backward(lua_State *L)
{
    const char *fname = "groupnorm_backward";
    cnn_tensor *gy = plain_input(L, 1), *x = plain_input(L, 2);
    lua_Integer groups = luaL_checkinteger(L, 3);
    cnn_tensor *gamma = opt_plain_input(L, 4);
    cnn_tensor *mean = plain_input(L, 5), *var = plain_input(L, 6);
    float eps = (float)luaL_optnumber(L, 7, 1e-5);
    cnn_groupnorm_plan plan;
    CNN_CHECK_STATUS(
        L, fname,
        cnn_groupnorm_plan_backward(&plan, gy, x, groups, gamma, mean, var, eps));
    cnn_tensor *gx = cnn_push_plan_output(L, &plan.out[0]);
    cnn_tensor *ggamma = NULL, *gbeta = NULL;
    if (gamma) {
        ggamma = cnn_push_plan_output(L, &plan.out[1]);
        gbeta = cnn_push_plan_output(L, &plan.out[2]);
    }
    CNN_CHECK_STATUS(
        L, fname,
        cnn_groupnorm_run_backward(&plan, gy, x, gamma, mean, var, gx, ggamma, gbeta));
    return gamma ? 3 : 1;
}

/* layout(t) -> "blocked" while a layer kernel's result is still in the
 * oneDNN layout the kernel chose, else "plain" (tests and the curious). */
static int nn_layout(lua_State *L)
{
    cnn_tensor *t = luaL_checkudata(L, 1, CNN_TENSOR_MT);
    lua_pushstring(L, t->blocked ? "blocked" : "plain");
    return 1;
}

static const luaL_Reg nn_funcs[] = {
    {"layout", nn_layout},
    {"conv2d", nn_conv2d},
    {"conv2d_backward_data", nn_conv2d_backward_data},
    {"conv2d_backward_weights", nn_conv2d_backward_weights},
    {"deconv2d", nn_deconv2d},
    {"deconv2d_backward_data", nn_deconv2d_backward_data},
    {"deconv2d_backward_weights", nn_deconv2d_backward_weights},
    {"pool2d", nn_pool2d},
    {"pool2d_backward", nn_pool2d_backward},
    {"dense", nn_dense},
    {"dense_backward_data", nn_dense_backward_data},
    {"dense_backward_weights", nn_dense_backward_weights},
    {"softmax", nn_softmax},
    {"softmax_backward", nn_softmax_backward},
    {"batchnorm", nn_batchnorm},
    {"batchnorm_backward", nn_batchnorm_backward},
    {"layernorm", nn_layernorm},
    {"layernorm_backward", nn_layernorm_backward},
    {"groupnorm", nn_groupnorm},
    {"groupnorm_backward", nn_groupnorm_backward},
    {NULL, NULL},
};

void cnn_open_nn(lua_State *L)
{
    if (luaL_newmetatable(L, CNN_POOL_WORKSPACE_MT)) {
        lua_pushcfunction(L, workspace_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, workspace_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
    cnn_register(L, nn_funcs);
}

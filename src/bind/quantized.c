/* The quantized network (quantized.h) as a userdata, built layer by layer
 * by cnn.quantize (lua/cnn/quantize.lua), and the quantile of magnitudes
 * that calibrates it:
 *
 *   qnet_new(input_ndims, max, nonnegative) -> net
 *   qnet_conv(net, name, w, b|nil, opts, max, nonnegative)
 *   qnet_pool(net, name, "max"|"mean", opts)
 *   qnet_flatten(net, name)
 *   qnet_dense(net, name, w, b|nil, relu, max|nil, nonnegative)
 *   qnet_softmax(net, name)
 *   qnet_forward(net, x) -> y
 *   qnet_info(net) -> layers, plans
 *   abs_quantile(x, p) -> q, min */
#include <string.h>

#include "bind.h"
#include "layer_opts.h"
#include "quantized.h"

#define CNN_QNET_MT "cnn.QuantizedNet"

typedef struct qnet_box {
    cnn_qnet *net;
} qnet_box;

static cnn_qnet *check_net(lua_State *L, int arg)
{
    qnet_box *box = luaL_checkudata(L, arg, CNN_QNET_MT);
    if (!box->net)
        luaL_argerror(L, arg, "an empty quantized network");
    return box->net;
}

static int qnet_gc(lua_State *L)
{
    qnet_box *box = luaL_checkudata(L, 1, CNN_QNET_MT);
    cnn_qnet_free(box->net);
    box->net = NULL;
    return 0;
}

static int qnet_tostring(lua_State *L)
{
    qnet_box *box = luaL_checkudata(L, 1, CNN_QNET_MT);
    if (box->net)
        lua_pushfstring(L, "QuantizedNet(%d layers)", cnn_qnet_layer_count(box->net));
    else
        lua_pushliteral(L, "QuantizedNet(freed)");
    return 1;
}

/* A range from a max (a number > 0) and a nonnegative flag at arg. */
static cnn_qrange check_range(lua_State *L, int arg)
{
    cnn_qrange r;
    r.max = (float)luaL_checknumber(L, arg);
    r.nonnegative = lua_toboolean(L, arg + 1);
    return r;
}

/* The weight and bias: plain contiguous Float32 (copies of views). */
static cnn_tensor *check_plain(lua_State *L, int arg)
{
    cnn_check_tensor(L, arg);
    return cnn_check_layout_input(L, arg);
}

static int qnet_new(lua_State *L)
{
    int ndims = (int)luaL_checkinteger(L, 1);
    cnn_qrange input = check_range(L, 2);
    qnet_box *box = lua_newuserdatauv(L, sizeof *box, 0);
    box->net = NULL;
    luaL_setmetatable(L, CNN_QNET_MT);
    CNN_CHECK_STATUS(L, "qnet_new", cnn_qnet_create(ndims, input, &box->net));
    return 1;
}

static int qnet_conv(lua_State *L)
{
    cnn_qnet *net = check_net(L, 1);
    const char *name = luaL_checkstring(L, 2);
    cnn_tensor *w = check_plain(L, 3);
    cnn_tensor *b = lua_isnoneornil(L, 4) ? NULL : check_plain(L, 4);
    cnn_conv2d_params p = cnn_conv_opts(L, 5, "qnet_conv");
    cnn_qrange out = check_range(L, 6);
    CNN_CHECK_STATUS(L, "qnet_conv", cnn_qnet_add_conv(net, name, &p, w, b, out));
    return 0;
}

static int qnet_pool(lua_State *L)
{
    cnn_qnet *net = check_net(L, 1);
    const char *name = luaL_checkstring(L, 2);
    cnn_pool_kind kind = cnn_check_pool_kind(L, 3);
    cnn_pool2d_params p = cnn_pool_opts(L, kind, 4, "qnet_pool");
    CNN_CHECK_STATUS(L, "qnet_pool", cnn_qnet_add_pool(net, name, &p));
    return 0;
}

static int qnet_flatten(lua_State *L)
{
    cnn_qnet *net = check_net(L, 1);
    CNN_CHECK_STATUS(L, "qnet_flatten",
                     cnn_qnet_add_flatten(net, luaL_checkstring(L, 2)));
    return 0;
}

static int qnet_dense(lua_State *L)
{
    cnn_qnet *net = check_net(L, 1);
    const char *name = luaL_checkstring(L, 2);
    cnn_tensor *w = check_plain(L, 3);
    cnn_tensor *b = lua_isnoneornil(L, 4) ? NULL : check_plain(L, 4);
    bool relu = lua_toboolean(L, 5);
    cnn_qrange out;
    bool f32 = lua_isnoneornil(L, 6);
    if (!f32)
        out = check_range(L, 6);
    CNN_CHECK_STATUS(L, "qnet_dense",
                     cnn_qnet_add_dense(net, name, w, b, relu, f32 ? NULL : &out));
    return 0;
}

static int qnet_softmax(lua_State *L)
{
    cnn_qnet *net = check_net(L, 1);
    CNN_CHECK_STATUS(L, "qnet_softmax",
                     cnn_qnet_add_softmax(net, luaL_checkstring(L, 2)));
    return 0;
}

static int qnet_forward(lua_State *L)
{
    cnn_qnet *net = check_net(L, 1);
    cnn_check_tensor(L, 2); /* plain: a blocked tensor is converted */
    cnn_tensor *x = cnn_check_layout_input(L, 2);
    cnn_qnet_plan plan;
    CNN_CHECK_STATUS(L, "qnet_forward", cnn_qnet_plan_forward(&plan, net, x));
    cnn_tensor *y = cnn_push_plan_output(L, &plan.out[0]);
    CNN_CHECK_STATUS(L, "qnet_forward", cnn_qnet_run_forward(&plan, x, y));
    return 1;
}

static int qnet_info(lua_State *L)
{
    cnn_qnet *net = check_net(L, 1);
    lua_pushinteger(L, cnn_qnet_layer_count(net));
    lua_pushinteger(L, cnn_qnet_plan_count(net));
    return 2;
}

static int abs_quantile(lua_State *L)
{
    cnn_check_tensor(L, 1);
    cnn_tensor *x = cnn_check_layout_input(L, 1);
    double p = luaL_checknumber(L, 2), q, min;
    CNN_CHECK_STATUS(L, "abs_quantile", cnn_abs_quantile(x, p, &q, &min));
    lua_pushnumber(L, q);
    lua_pushnumber(L, min);
    return 2;
}

static const luaL_Reg quantized_funcs[] = {
    {"qnet_new", qnet_new},         {"qnet_conv", qnet_conv},
    {"qnet_pool", qnet_pool},       {"qnet_flatten", qnet_flatten},
    {"qnet_dense", qnet_dense},     {"qnet_softmax", qnet_softmax},
    {"qnet_forward", qnet_forward}, {"qnet_info", qnet_info},
    {"abs_quantile", abs_quantile}, {NULL, NULL},
};

void cnn_open_quantized(lua_State *L)
{
    if (luaL_newmetatable(L, CNN_QNET_MT)) {
        lua_pushcfunction(L, qnet_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, qnet_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
    cnn_register(L, quantized_funcs);
}

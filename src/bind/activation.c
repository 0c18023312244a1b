/* The oneDNN eltwise functions: eltwise(kind, x, alpha, beta) for any of
 * them by name, and a function of its own for each row of 'named' below.
 * Every binding plans the op (the plan checks the operands), allocates the
 * result as the plan says and runs the plan on it. */
#include "bind.h"

#include <math.h>

#include "activation.h"

static cnn_activation check_kind(lua_State *L, int arg)
{
    static const char *names[CNN_ACTIVATION_COUNT + 1];
    if (!names[0])
        for (int k = 0; k < CNN_ACTIVATION_COUNT; k++)
            names[k] = cnn_activation_name((cnn_activation)k);
    return (cnn_activation)luaL_checkoption(L, arg, NULL, names);
}

/* f(x) for the tensor at x_arg, pushed. */
static int push_forward(lua_State *L, const char *fname, cnn_activation kind, int x_arg,
                        float alpha, float beta)
{
    cnn_tensor *x = cnn_check_layout_input(L, x_arg);
    cnn_activation_plan plan;
    CNN_CHECK_STATUS(L, fname, cnn_activation_plan_forward(&plan, kind, alpha, beta, x));
    cnn_tensor *y = cnn_push_plan_output(L, &plan.out);
    CNN_CHECK_STATUS(L, fname, cnn_activation_run_forward(&plan, x, y));
    return 1;
}

/* f'(data) * gy for the tensors at gy_arg and gy_arg + 1, pushed. */
static int push_backward(lua_State *L, const char *fname, cnn_activation kind, int gy_arg,
                         float alpha, float beta)
{
    cnn_tensor *gy = cnn_check_layout_input(L, gy_arg);
    cnn_tensor *data = cnn_check_layout_input(L, gy_arg + 1);
    cnn_activation_plan plan;
    CNN_CHECK_STATUS(L, fname,
                     cnn_activation_plan_backward(&plan, kind, alpha, beta, gy, data));
    cnn_tensor *gx = cnn_push_plan_output(L, &plan.out);
    CNN_CHECK_STATUS(L, fname, cnn_activation_run_backward(&plan, gy, data, gx));
    return 1;
}

/* eltwise(kind, x, alpha, beta) -> y */
static int eltwise(lua_State *L)
{
    cnn_activation kind = check_kind(L, 1);
    float alpha = (float)luaL_optnumber(L, 3, 0), beta = (float)luaL_optnumber(L, 4, 0);
    return push_forward(L, "eltwise", kind, 2, alpha, beta);
}

/* eltwise_backward(kind, gy, data, alpha, beta) -> gx */
static int eltwise_backward(lua_State *L)
{
    cnn_activation kind = check_kind(L, 1);
    float alpha = (float)luaL_optnumber(L, 4, 0), beta = (float)luaL_optnumber(L, 5, 0);
    return push_backward(L, "eltwise_backward", kind, 2, alpha, beta);
}

/* eltwise_uses_dst(kind) -> whether the backward takes the forward output */
static int eltwise_uses_dst(lua_State *L)
{
    lua_pushboolean(L, cnn_activation_backward_uses_dst(check_kind(L, 1)));
    return 1;
}

/* A function of its own: name(x [, alpha, beta]) -> y and
 * backward(gy, data [, alpha, beta]) -> gx, data being x or y as
 * eltwise_uses_dst says. */
typedef struct named_activation {
    const char *name, *backward;
    cnn_activation kind;
    double alpha, beta; /* defaults */
    bool range;         /* alpha and beta bound an interval: alpha <= beta */
} named_activation;

static const named_activation named[] = {
    {"hardtanh", "hardtanh_backward", CNN_ACTIVATION_HARDTANH, -1, 1, true},
};

/* The two parameters at arg and arg + 1, checked. */
static void check_params(lua_State *L, const named_activation *a, int arg,
                         const char *fname, float *alpha, float *beta)
{
    double lo = luaL_optnumber(L, arg, a->alpha),
           hi = luaL_optnumber(L, arg + 1, a->beta);
    if (isnan(lo) || isnan(hi) || (a->range && lo > hi))
        luaL_error(L, "%s: bounds must be numbers with lo <= hi, got %f and %f", fname,
                   lo, hi);
    *alpha = (float)lo;
    *beta = (float)hi;
}

static int named_forward(lua_State *L)
{
    const named_activation *a = lua_touserdata(L, lua_upvalueindex(1));
    float alpha, beta;
    check_params(L, a, 2, a->name, &alpha, &beta);
    return push_forward(L, a->name, a->kind, 1, alpha, beta);
}

static int named_backward(lua_State *L)
{
    const named_activation *a = lua_touserdata(L, lua_upvalueindex(1));
    float alpha, beta;
    check_params(L, a, 3, a->backward, &alpha, &beta);
    return push_backward(L, a->backward, a->kind, 1, alpha, beta);
}

static const luaL_Reg activation_funcs[] = {
    {"eltwise", eltwise},
    {"eltwise_backward", eltwise_backward},
    {"eltwise_uses_dst", eltwise_uses_dst},
    {NULL, NULL},
};

void cnn_open_activation(lua_State *L)
{
    cnn_register(L, activation_funcs);
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        lua_pushlightuserdata(L, (void *)&named[i]);
        lua_pushcclosure(L, named_forward, 1);
        lua_setfield(L, -2, named[i].name);
        lua_pushlightuserdata(L, (void *)&named[i]);
        lua_pushcclosure(L, named_backward, 1);
        lua_setfield(L, -2, named[i].backward);
    }
}

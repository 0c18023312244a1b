/* Optimiser updates (cnn.core.*_step): each updates a parameter and its
 * state tensors in place in one fused pass and returns the parameter. */
#include "bind.h"

#include "optimizer.h"

static cnn_tensor *check_param(lua_State *L, int arg)
{
    return cnn_check_tensor_type(L, arg, CNN_FLOAT32);
}

/* descent_step(p, g, eta) */
static int optim_descent_step(lua_State *L)
{
    cnn_tensor *p = check_param(L, 1);
    cnn_tensor *g = cnn_check_tensor(L, 2);
    double eta = luaL_checknumber(L, 3);
    CNN_CHECK_STATUS(L, "descent_step", cnn_descent_step(p, g, eta));
    lua_settop(L, 1);
    return 1;
}

typedef cnn_status (*velocity_fn)(cnn_tensor *p, const cnn_tensor *g, cnn_tensor *v,
                                  double eta, double rho);

/* fname(p, g, v, eta, rho) */
static int velocity_step(lua_State *L, const char *fname, velocity_fn step)
{
    cnn_tensor *p = check_param(L, 1);
    cnn_tensor *g = cnn_check_tensor(L, 2);
    cnn_tensor *v = cnn_check_tensor(L, 3);
    double eta = luaL_checknumber(L, 4), rho = luaL_checknumber(L, 5);
    CNN_CHECK_STATUS(L, fname, step(p, g, v, eta, rho));
    lua_settop(L, 1);
    return 1;
}

static int optim_momentum_step(lua_State *L)
{
    return velocity_step(L, "momentum_step", cnn_momentum_step);
}

static int optim_nesterov_step(lua_State *L)
{
    return velocity_step(L, "nesterov_step", cnn_nesterov_step);
}

/* rmsprop_step(p, g, acc, eta, rho, eps) */
static int optim_rmsprop_step(lua_State *L)
{
    cnn_tensor *p = check_param(L, 1);
    cnn_tensor *g = cnn_check_tensor(L, 2);
    cnn_tensor *acc = cnn_check_tensor(L, 3);
    double eta = luaL_checknumber(L, 4), rho = luaL_checknumber(L, 5);
    double eps = luaL_checknumber(L, 6);
    CNN_CHECK_STATUS(L, "rmsprop_step", cnn_rmsprop_step(p, g, acc, eta, rho, eps));
    lua_settop(L, 1);
    return 1;
}

/* Reads eta, b1, b2, eps, t from stack index 'first' on. */
static cnn_adam_config check_adam_config(lua_State *L, int first)
{
    cnn_adam_config c;
    c.eta = luaL_checknumber(L, first);
    c.beta1 = luaL_checknumber(L, first + 1);
    c.beta2 = luaL_checknumber(L, first + 2);
    c.eps = luaL_checknumber(L, first + 3);
    c.step = luaL_checkinteger(L, first + 4);
    c.decay = 0;
    return c;
}

static int adam_like_step(lua_State *L, const char *fname, bool with_decay)
{
    cnn_tensor *p = check_param(L, 1);
    cnn_tensor *g = cnn_check_tensor(L, 2);
    cnn_tensor *m = cnn_check_tensor(L, 3);
    cnn_tensor *v = cnn_check_tensor(L, 4);
    cnn_adam_config c = check_adam_config(L, 5);
    if (with_decay)
        c.decay = luaL_checknumber(L, 10);
    CNN_CHECK_STATUS(L, fname, cnn_adam_step(p, g, m, v, &c));
    lua_settop(L, 1);
    return 1;
}

/* adam_step(p, g, m, v, eta, b1, b2, eps, t) */
static int optim_adam_step(lua_State *L) { return adam_like_step(L, "adam_step", false); }

/* adamw_step(p, g, m, v, eta, b1, b2, eps, t, decay) */
static int optim_adamw_step(lua_State *L)
{
    return adam_like_step(L, "adamw_step", true);
}

static const luaL_Reg optim_funcs[] = {
    {"descent_step", optim_descent_step},
    {"momentum_step", optim_momentum_step},
    {"nesterov_step", optim_nesterov_step},
    {"rmsprop_step", optim_rmsprop_step},
    {"adam_step", optim_adam_step},
    {"adamw_step", optim_adamw_step},
    {NULL, NULL},
};

void cnn_open_optim(lua_State *L) { cnn_register(L, optim_funcs); }

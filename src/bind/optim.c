/* Optimiser updates (cnn.core.*_step): each updates a parameter and its
 * state tensors in place in one fused pass and returns the parameter.
 *
 * Each takes, as an optional last argument, the gradient transforms of an
 * OptimiserChain that come before the rule: a flat list {"clamp", δ,
 * "scale", s, "decay", λ, ...} applied in order (grad_transform.h). */
#include "bind.h"

#include <string.h>

#include "optimizer.h"
#include "optimizer_rules.h"

/* Reads the transforms list at 'arg' (none or nil: returns NULL). */
static const cnn_grad_transforms *
check_transforms(lua_State *L, int arg, const char *fname, cnn_grad_transforms *t)
{
    if (lua_isnoneornil(L, arg))
        return NULL;
    luaL_checktype(L, arg, LUA_TTABLE);
    const lua_Integer len = (lua_Integer)lua_rawlen(L, arg);
    if (len % 2 != 0 || len / 2 > CNN_GRAD_TRANSFORMS_MAX)
        luaL_error(
            L,
            "%s: the gradient transforms must be at most %d pairs {op, value}, got %d "
            "entries",
            fname, CNN_GRAD_TRANSFORMS_MAX, (int)len);
    t->n = (int)(len / 2);
    for (int k = 0; k < t->n; k++) {
        lua_rawgeti(L, arg, 2 * k + 1);
        const char *op = lua_tostring(L, -1);
        lua_rawgeti(L, arg, 2 * k + 2);
        if (!lua_isnumber(L, -1) || !op)
            luaL_error(L, "%s: gradient transform %d must be an op name and a number",
                       fname, k + 1);
        t->a[k] = (float)lua_tonumber(L, -1);
        if (strcmp(op, "clamp") == 0)
            t->op[k] = CNN_GRAD_CLAMP;
        else if (strcmp(op, "scale") == 0)
            t->op[k] = CNN_GRAD_SCALE;
        else if (strcmp(op, "decay") == 0)
            t->op[k] = CNN_GRAD_DECAY;
        else
            luaL_error(L, "%s: gradient transform %d is '%s'; valid: clamp, scale, decay",
                       fname, k + 1, op);
        lua_pop(L, 2);
    }
    return t;
}

static cnn_tensor *check_param(lua_State *L, int arg)
{
    return cnn_check_tensor_type(L, arg, CNN_FLOAT32);
}

/* descent_step(p, g, eta [, pre]) */
static int optim_descent_step(lua_State *L)
{
    cnn_tensor *p = check_param(L, 1);
    cnn_tensor *g = cnn_check_tensor(L, 2);
    double eta = luaL_checknumber(L, 3);
    cnn_grad_transforms t;
    const cnn_grad_transforms *pre = check_transforms(L, 4, "descent_step", &t);
    CNN_CHECK_STATUS(L, "descent_step", cnn_descent_step(p, g, eta, pre));
    lua_settop(L, 1);
    return 1;
}

typedef cnn_status (*velocity_fn)(cnn_tensor *p, const cnn_tensor *g, cnn_tensor *v,
                                  double eta, double rho, const cnn_grad_transforms *pre);

/* fname(p, g, v, eta, rho [, pre]) */
static int velocity_step(lua_State *L, const char *fname, velocity_fn step)
{
    cnn_tensor *p = check_param(L, 1);
    cnn_tensor *g = cnn_check_tensor(L, 2);
    cnn_tensor *v = cnn_check_tensor(L, 3);
    double eta = luaL_checknumber(L, 4), rho = luaL_checknumber(L, 5);
    cnn_grad_transforms t;
    const cnn_grad_transforms *pre = check_transforms(L, 6, fname, &t);
    CNN_CHECK_STATUS(L, fname, step(p, g, v, eta, rho, pre));
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

/* rmsprop_step(p, g, acc, eta, rho, eps [, pre]) */
static int optim_rmsprop_step(lua_State *L)
{
    cnn_tensor *p = check_param(L, 1);
    cnn_tensor *g = cnn_check_tensor(L, 2);
    cnn_tensor *acc = cnn_check_tensor(L, 3);
    double eta = luaL_checknumber(L, 4), rho = luaL_checknumber(L, 5);
    double eps = luaL_checknumber(L, 6);
    cnn_grad_transforms t;
    const cnn_grad_transforms *pre = check_transforms(L, 7, "rmsprop_step", &t);
    CNN_CHECK_STATUS(L, "rmsprop_step", cnn_rmsprop_step(p, g, acc, eta, rho, eps, pre));
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
    c.pre = NULL;
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
    cnn_grad_transforms t;
    c.pre = check_transforms(L, with_decay ? 11 : 10, fname, &t);
    CNN_CHECK_STATUS(L, fname, cnn_adam_step(p, g, m, v, &c));
    lua_settop(L, 1);
    return 1;
}

/* adam_step(p, g, m, v, eta, b1, b2, eps, t [, pre]) */
static int optim_adam_step(lua_State *L) { return adam_like_step(L, "adam_step", false); }

/* adamw_step(p, g, m, v, eta, b1, b2, eps, t, decay [, pre]) */
static int optim_adamw_step(lua_State *L)
{
    return adam_like_step(L, "adamw_step", true);
}

/* rule_step(name, p, g, {state...}, eta, b1, b2, eps, rho, t [, pre]): one
 * step of the rule named ("adagrad", ... see optimizer_rules.h). */
static int optim_rule_step(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    cnn_rule_config c = {.rule = CNN_RULE_COUNT};
    for (int r = 0; r < CNN_RULE_COUNT; r++)
        if (strcmp(name, cnn_rule_name((cnn_rule)r)) == 0)
            c.rule = (cnn_rule)r;
    if (c.rule == CNN_RULE_COUNT)
        return luaL_error(L, "rule_step: unknown rule '%s'", name);
    cnn_tensor *p = check_param(L, 2);
    cnn_tensor *g = cnn_check_tensor(L, 3);
    luaL_checktype(L, 4, LUA_TTABLE);
    const int k = cnn_rule_state_count(c.rule);
    if ((int)lua_rawlen(L, 4) != k)
        return luaL_error(L, "rule_step: %s keeps %d state tensors, got %d", name, k,
                          (int)lua_rawlen(L, 4));
    cnn_tensor *state[3] = {NULL, NULL, NULL};
    for (int i = 0; i < k; i++) {
        lua_rawgeti(L, 4, i + 1);
        state[i] = cnn_check_tensor(L, -1);
        lua_pop(L, 1); /* the state table keeps it alive */
    }
    c.eta = luaL_checknumber(L, 5);
    c.beta1 = luaL_checknumber(L, 6);
    c.beta2 = luaL_checknumber(L, 7);
    c.eps = luaL_checknumber(L, 8);
    c.rho = luaL_checknumber(L, 9);
    c.step = luaL_checkinteger(L, 10);
    cnn_grad_transforms t;
    c.pre = check_transforms(L, 11, "rule_step", &t);
    CNN_CHECK_STATUS(L, "rule_step", cnn_rule_step(p, g, state, &c));
    lua_settop(L, 2);
    return 1;
}

/* grad_norm(p, g, norm_p [, pre]): the norm_p-norm of g after pre. */
static int optim_grad_norm(lua_State *L)
{
    cnn_tensor *p = check_param(L, 1);
    cnn_tensor *g = cnn_check_tensor(L, 2);
    double np = luaL_checknumber(L, 3);
    cnn_grad_transforms t;
    const cnn_grad_transforms *pre = check_transforms(L, 4, "grad_norm", &t);
    double norm = 0;
    CNN_CHECK_STATUS(L, "grad_norm", cnn_grad_norm(p, g, pre, np, &norm));
    lua_pushnumber(L, norm);
    return 1;
}

static const luaL_Reg optim_funcs[] = {
    {"rule_step", optim_rule_step},
    {"grad_norm", optim_grad_norm},
    {"descent_step", optim_descent_step},
    {"momentum_step", optim_momentum_step},
    {"nesterov_step", optim_nesterov_step},
    {"rmsprop_step", optim_rmsprop_step},
    {"adam_step", optim_adam_step},
    {"adamw_step", optim_adamw_step},
    {NULL, NULL},
};

void cnn_open_optim(lua_State *L) { cnn_register(L, optim_funcs); }

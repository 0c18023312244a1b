/* Reading the options tables of the layer kernels (stride, pad, dilation,
 * groups, activation; a pool's window and count_include_pad), shared by
 * the kernels' bindings (nn.c) and the quantized network's (quantized.c). */
#include "layer_opts.h"

#include <string.h>

/* Reads an integer field that may be a number (all entries) or a table of
 * 'n' integers, or of 'alt' integers each used for two entries (pads given
 * per dimension). Leaves 'out' untouched if the field is absent. */
void cnn_opt_ints(lua_State *L, int opts, const char *fname, const char *field, int n,
                  int alt, int64_t *out)
{
    if (lua_isnoneornil(L, opts))
        return;
    lua_pushstring(L, field);
    int type = lua_rawget(L, opts);
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    int isint;
    lua_Integer v = lua_tointegerx(L, -1, &isint);
    if (isint) {
        for (int i = 0; i < n; i++)
            out[i] = v;
        lua_pop(L, 1);
        return;
    }
    lua_Integer len = type == LUA_TTABLE ? cnn_rawlen(L, -1) : -1;
    if (len != n && (alt == 0 || len != alt)) {
        if (alt)
            luaL_error(L, "%s: %s must be an integer or a table of %d or %d integers",
                       fname, field, alt, n);
        luaL_error(L, "%s: %s must be an integer or a table of %d integers", fname, field,
                   n);
    }
    for (int i = 0; i < len; i++) {
        lua_rawgeti(L, -1, i + 1);
        v = lua_tointegerx(L, -1, &isint);
        if (!isint)
            luaL_error(L, "%s: %s must contain integers", fname, field);
        if (len == n)
            out[i] = v;
        else
            out[2 * i] = out[2 * i + 1] = v;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

static void check_opts_table(lua_State *L, int opts)
{
    if (!lua_isnoneornil(L, opts))
        luaL_checktype(L, opts, LUA_TTABLE);
}

/* The `groups` option: absent (one group) or an integer >= 1. */
static int64_t opt_groups(lua_State *L, int opts, const char *fname)
{
    lua_pushliteral(L, "groups");
    if (lua_rawget(L, opts) == LUA_TNIL) {
        lua_pop(L, 1);
        return 1;
    }
    int isint = 0;
    bool number = lua_type(L, -1) == LUA_TNUMBER;
    lua_Integer g = number ? lua_tointegerx(L, -1, &isint) : 0;
    if (!isint || g < 1)
        luaL_error(L, "%s: groups must be an integer at least 1, got %s", fname,
                   number ? lua_tostring(L, -1) : luaL_typename(L, -1));
    lua_pop(L, 1);
    return g;
}

cnn_conv2d_params cnn_conv_opts(lua_State *L, int opts, const char *fname)
{
    cnn_conv2d_params p = cnn_conv2d_default_params();
    check_opts_table(L, opts);
    cnn_opt_ints(L, opts, fname, "stride", 2, 0, p.stride);
    cnn_opt_ints(L, opts, fname, "pad", 4, 2, p.pad);
    cnn_opt_ints(L, opts, fname, "dilation", 2, 0, p.dilation);
    if (lua_isnoneornil(L, opts))
        return p;
    p.groups = opt_groups(L, opts, fname);
    static const struct {
        const char *name;
        cnn_conv_activation kind;
    } fusable[] = {
        {"relu", CNN_CONV_RELU}, {"tanh", CNN_CONV_TANH}, {"sigmoid", CNN_CONV_SIGMOID}};
    lua_pushliteral(L, "activation");
    lua_rawget(L, opts);
    const char *name = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    bool found = false;
    for (size_t i = 0; name && i < sizeof fusable / sizeof fusable[0]; i++)
        if (!strcmp(name, fusable[i].name)) {
            p.activation = fusable[i].kind;
            found = true;
        }
    if (!found && !lua_isnil(L, -1) && !(lua_isboolean(L, -1) && !lua_toboolean(L, -1)))
        luaL_error(
            L, "%s: activation must be \"relu\", \"tanh\", \"sigmoid\" or nil, got %s",
            fname, name ? name : luaL_typename(L, -1));
    lua_pop(L, 1);
    return p;
}

cnn_pool_kind cnn_check_pool_kind(lua_State *L, int arg)
{
    static const char *const kinds[] = {"max", "mean", NULL};
    return luaL_checkoption(L, arg, NULL, kinds) == 0 ? CNN_POOL_MAX : CNN_POOL_MEAN;
}

cnn_pool2d_params cnn_pool_opts(lua_State *L, cnn_pool_kind kind, int opts,
                                const char *fname)
{
    luaL_checktype(L, opts, LUA_TTABLE);
    cnn_pool2d_params p = cnn_pool2d_default_params(kind, 0, 0);
    lua_pushliteral(L, "window");
    if (lua_rawget(L, opts) == LUA_TNIL)
        luaL_error(L, "%s: opts.window is required", fname);
    lua_pop(L, 1);
    cnn_opt_ints(L, opts, fname, "window", 2, 0, p.window);
    memcpy(p.stride, p.window, sizeof p.stride);
    cnn_opt_ints(L, opts, fname, "stride", 2, 0, p.stride);
    cnn_opt_ints(L, opts, fname, "pad", 4, 2, p.pad);
    lua_pushliteral(L, "count_include_pad");
    int type = lua_rawget(L, opts);
    if (type != LUA_TNIL && type != LUA_TBOOLEAN)
        luaL_error(L, "%s: count_include_pad must be true or false, got %s", fname,
                   luaL_typename(L, -1));
    p.exclude_padding = type == LUA_TBOOLEAN && !lua_toboolean(L, -1);
    lua_pop(L, 1);
    return p;
}

/* Data augmentation of image batches: the kernels of cnn.RandomCrop,
 * cnn.RandomFlip, cnn.RandomShift and cnn.Normalize. Each takes the input
 * batch and the output to write (which the Lua transforms keep and reuse)
 * and returns the output. */
#include "bind.h"

#include <stdlib.h>

#include "augment.h"

/* augment_crop(x, pad, y) → y: a random crop of y's size of every sample
 * of x padded with pad zeros on each side. */
static int augment_crop(lua_State *L)
{
    cnn_tensor *x = cnn_check_tensor(L, 1);
    lua_Integer pad = luaL_checkinteger(L, 2);
    cnn_tensor *y = cnn_check_tensor(L, 3);
    luaL_argcheck(L, x != y, 3, "the output must differ from the input");
    CNN_CHECK_STATUS(L, "augment_crop", cnn_augment_crop(x, pad, y));
    lua_pushvalue(L, 3);
    return 1;
}

/* augment_flip(x, p, y) → y: every sample mirrored along W with
 * probability p (y may be x). */
static int augment_flip(lua_State *L)
{
    cnn_tensor *x = cnn_check_tensor(L, 1);
    lua_Number p = luaL_checknumber(L, 2);
    cnn_check_tensor(L, 3);
    CNN_CHECK_STATUS(L, "augment_flip", cnn_augment_flip(x, p, cnn_check_tensor(L, 3)));
    lua_pushvalue(L, 3);
    return 1;
}

/* The numbers of a Lua array, in a buffer boxed on the stack. */
static float *check_floats(lua_State *L, int arg, int64_t *count)
{
    luaL_checktype(L, arg, LUA_TTABLE);
    int n = cnn_rawlen(L, arg);
    float *v = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof *v, 0);
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, arg, i);
        int isnum;
        v[i - 1] = (float)lua_tonumberx(L, -1, &isnum);
        if (!isnum)
            luaL_argerror(L, arg, "expected a list of numbers");
        lua_pop(L, 1);
    }
    *count = n;
    return v;
}

/* augment_normalize(x, mean, std, y) → y: (x - mean[c]) / std[c] per
 * channel c, mean and std lists of C numbers (y may be x). */
static int augment_normalize(lua_State *L)
{
    cnn_tensor *x = cnn_check_tensor(L, 1);
    int64_t nm, ns;
    float *mean = check_floats(L, 2, &nm);
    float *std = check_floats(L, 3, &ns);
    cnn_tensor *y = cnn_check_tensor(L, 4);
    luaL_argcheck(L, nm == ns, 3, "mean and std must have the same length");
    CNN_CHECK_STATUS(L, "augment_normalize", cnn_augment_normalize(x, mean, std, nm, y));
    lua_pushvalue(L, 4);
    return 1;
}

static const luaL_Reg augment_funcs[] = {
    {"augment_crop", augment_crop},
    {"augment_flip", augment_flip},
    {"augment_normalize", augment_normalize},
    {NULL, NULL},
};

void cnn_open_augment(lua_State *L) { cnn_register(L, augment_funcs); }

/* tostring(t): the display built by the core (display.c), pushed as a
 * string. */
#include "bind.h"

#include "display.h"

#define TERMINAL_WIDTH  80
#define TERMINAL_HEIGHT 24

/* Works on freed tensors too (they show their header and "(freed)"), so
 * printing never raises. */
static int tensor_tostring(lua_State *L)
{
    cnn_tensor *t = luaL_checkudata(L, 1, CNN_TENSOR_MT);
    cnn_to_tensor(L, 1); /* a blocked tensor is shown after becoming plain */
    cnn_text text = {0};
    cnn_status status = cnn_tensor_display(t, TERMINAL_WIDTH, TERMINAL_HEIGHT, &text);
    if (status != CNN_OK) {
        cnn_text_free(&text);
        return cnn_raise_status(L, "tostring", status);
    }
    lua_pushlstring(L, text.data ? text.data : "", text.len);
    cnn_text_free(&text);
    return 1;
}

static const luaL_Reg display_funcs[] = {
    {"tostring", tensor_tostring},
    {NULL, NULL},
};

void cnn_open_display(lua_State *L)
{
    cnn_register(L, display_funcs);
    luaL_getmetatable(L, CNN_TENSOR_MT);
    lua_pushcfunction(L, tensor_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
}

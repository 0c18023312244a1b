#include "bind.h"

void cnn_open_math(lua_State *L)
{
    (void)L;
}

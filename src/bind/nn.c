#include "bind.h"

void cnn_open_nn(lua_State *L)
{
    (void)L;
}

#include "bind.h"

void cnn_open_display(lua_State *L)
{
    (void)L;
}

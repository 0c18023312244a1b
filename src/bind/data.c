#include "bind.h"

void cnn_open_data(lua_State *L)
{
    (void)L;
}

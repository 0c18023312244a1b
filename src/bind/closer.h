/* Cleanups that a Ctrl-C cannot cut short (closer.c). */
#ifndef CNN_CLOSER_H
#define CNN_CLOSER_H

#include <lua.h>

/* Whether the hook event 'ar' is inside a closer's cleanup: the call of
 * the closing function itself, or anything it runs. The host's interrupt
 * hook waits while this holds, so that a cleanup the library promised
 * ("however f ends") always runs to its end. */
int cnn_closer_holds_interrupt(lua_State *L, lua_Debug *ar);

#endif

/* The interactive prompt of cnnlua. */
#ifndef CNNLUA_REPL_H
#define CNNLUA_REPL_H

#include <lua.h>

/* Reads, runs and prints chunks from stdin until end of input. On a
 * terminal it edits lines with readline and keeps ~/.cnnlua_history;
 * otherwise it reads plain lines, so `cnnlua -i < file` works. */
void repl_run(lua_State *L);

#endif

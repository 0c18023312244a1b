/* What the cnnlua program (cnnlua.c) offers the REPL (repl.c): one way to
 * run a chunk and one way to report its failure, so a script, a -e string
 * and a line typed at the prompt behave alike. */
#ifndef CNNLUA_HOST_H
#define CNNLUA_HOST_H

#include <lua.h>

#define CNNLUA_PROGNAME "cnnlua"

/* Calls the function below 'narg' arguments on the stack, like lua_pcall,
 * but with a traceback on error and with Ctrl-C raising "interrupted!"
 * while the call runs. */
int host_docall(lua_State *L, int narg, int nres);

/* Whether a second Ctrl-C while one chunk runs ends the program, as in
 * lua.c (the default: the way out of a C call that never returns), or only
 * interrupts again (at the prompt, where the session must survive). */
void host_set_repeat_interrupt_ends(int ends);

/* If 'status' is an error, prints "cnnlua: <message>" to stderr and pops
 * the message. Returns 'status'. */
int host_report(lua_State *L, int status);

#endif

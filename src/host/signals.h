/* How the cnnlua program takes signals (signals.c, threads.c).
 *
 * oneDNN's JIT kernels (its sgemm among them) use rsp as a general
 * register, so a signal frame that the kernel builds on the interrupted
 * thread's stack can land in the middle of a heap block. Hence two rules:
 * every handler the host installs runs on an alternate stack, which only
 * the main thread has; and every other thread blocks SIGINT from the
 * moment it starts, so that Ctrl-C is always delivered to the main thread
 * and always on that stack. */
#ifndef CNNLUA_SIGNALS_H
#define CNNLUA_SIGNALS_H

#include <signal.h>

/* Gives the calling thread, which must be the main thread, its alternate
 * signal stack. Returns 0, or -1 with errno set when it cannot. */
int signals_init(void);

/* sigaction(sig) with 'handler' (or SIG_DFL) run on the alternate stack;
 * the action it replaces goes to 'previous' unless that is NULL.
 * Async-signal-safe, so a handler may step aside with it. */
void signals_catch(int sig, void (*handler)(int), struct sigaction *previous);

#endif

/* How many OpenMP threads the ops use, and how that follows the machine's
 * load.
 *
 * The user sets the most threads (cnn_threads_set_most; OpenMP's default,
 * OMP_NUM_THREADS or the core count, until then). While adapting is on
 * (the default; CNNLUA_ADAPT_THREADS=0 or cnn_threads_set_adaptive(false)
 * turns it off), cnn_threads_adapt() looks, at most every quarter of a
 * second, at how busy the CPUs this process may run on were since the last
 * look, without this process's own time, and runs the next ops on the most
 * threads less the cores other processes kept busy (at least one). OpenMP
 * threads wait for each other at every barrier: with one thread more than
 * the cores left free, a step waits for a descheduled thread again and
 * again and runs many times slower, where one thread fewer runs in
 * proportion. */
#ifndef CNN_THREAD_COUNT_H
#define CNN_THREAD_COUNT_H

#include <stdbool.h>

int cnn_threads_most(void);
void cnn_threads_set_most(int n);
bool cnn_threads_adaptive(void);
void cnn_threads_set_adaptive(bool on);

/* Threads the next ops run on (OpenMP's current count). */
int cnn_threads_now(void);

/* Cores other processes kept busy over the last look, as adapting saw
 * them (0 before the first look). */
double cnn_threads_others_busy(void);

/* Called before each op: every quarter of a second or more, measures the
 * other processes' load and sets OpenMP's count. Cheap otherwise (one
 * clock read). */
void cnn_threads_adapt(void);

#endif

/* How the OpenMP threads of the cnnlua program wait between parallel
 * regions: passively (asleep) unless the user chose otherwise. */
#ifndef CNNLUA_WAITPOLICY_H
#define CNNLUA_WAITPOLICY_H

/* The default of libgomp is to spin for a while after each parallel
 * region before sleeping, which on a machine shared with other busy
 * processes takes their cores and slows everyone, this program first.
 * libgomp reads its environment once, when it is loaded, before main:
 * so, when neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set, this sets
 * OMP_WAIT_POLICY=passive and executes the program again with the same
 * arguments. Returns only when nothing needs doing or the new
 * execution could not start (the program then runs as it was). */
void host_wait_policy(char **argv);

#endif

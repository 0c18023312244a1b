/* The main thread's alternate signal stack, and handlers that run on it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <signal.h>
#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>

#include "signals.h"

/* Far more than our handlers need, so that a sanitizer's report of a
 * crash, which runs on the same stack, fits too. */
#define MIN_ALT_STACK (256 * 1024)

static size_t alt_stack_size(void)
{
    long wanted = sysconf(_SC_SIGSTKSZ);
    if (wanted < 0 || (size_t)wanted * 4 < MIN_ALT_STACK)
        return MIN_ALT_STACK;
    return (size_t)wanted * 4;
}

/* A mapping of its own rather than the heap: no JIT kernel's misused rsp
 * can point into it, and it lives as long as the process. */
int signals_init(void)
{
    stack_t ss;
    size_t size = alt_stack_size();
    void *base =
        mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        return -1;
    ss.ss_sp = base;
    ss.ss_size = size;
    ss.ss_flags = 0;
    if (sigaltstack(&ss, NULL) != 0) {
        munmap(base, size);
        return -1;
    }
    return 0;
}

void signals_catch(int sig, void (*handler)(int), struct sigaction *previous)
{
    struct sigaction sa;
    sa.sa_handler = handler;
    sa.sa_flags = SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, previous);
}

/* Every thread started in the cnnlua program blocks SIGINT from birth.
 *
 * A new thread inherits the signal mask of the thread that creates it, and
 * OpenMP's threads are created by the main thread, which must take SIGINT.
 * Blocking SIGINT once, before the pool exists, is not enough: libgomp
 * lets the threads of its pool beyond a team's size exit when a smaller
 * team runs (oneDNN often asks for fewer threads than the maximum, and
 * cnn.core.threads changes the maximum), and creates new ones, from the
 * main thread, when a larger team runs again. So the program defines
 * pthread_create itself; the executable comes first in the dynamic
 * linker's search, so libgomp's calls (and any other library's) reach
 * this definition, which blocks SIGINT around the
 * real call, then restores the caller's mask. Threads that a worker
 * starts inherit the worker's mask, SIGINT blocked too. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

/* The definition this one hides: libc's, or a sanitizer's in front of it. */
static create_fn next_create(void)
{
    static _Atomic(create_fn) next;
    create_fn f = atomic_load(&next);
    if (f == NULL) {
        /* POSIX's way of turning dlsym's object pointer into a function */
        *(void **)&f = dlsym(RTLD_NEXT, "pthread_create");
        atomic_store(&next, f);
    }
    return f;
}

int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                   void *arg)
{
    create_fn create = next_create();
    sigset_t sigint, previous;
    int err;
    if (create == NULL)
        return EAGAIN;
    sigemptyset(&sigint);
    sigaddset(&sigint, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigint, &previous);
    err = create(thread, attr, start, arg);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    return err;
}

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "thread_count.h"

#include <omp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOOK_EVERY_SECONDS 0.25

static int most;       /* 0 until first asked: OpenMP's own count then */
static int adapt = -1; /* -1 until first asked: CNNLUA_ADAPT_THREADS then */
static double others_busy;

static struct {
    bool valid;
    double wall, own_cpu, all_busy; /* seconds */
} last;

static double clock_seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int cnn_threads_most(void)
{
    if (most == 0)
        most = omp_get_max_threads();
    return most;
}

void cnn_threads_set_most(int n)
{
    if (n < 1)
        return;
    most = n;
    omp_set_num_threads(n);
    last.valid = false;
}

bool cnn_threads_adaptive(void)
{
    if (adapt < 0) {
        const char *e = getenv("CNNLUA_ADAPT_THREADS");
        adapt = !(e && strcmp(e, "0") == 0);
    }
    return adapt;
}

void cnn_threads_set_adaptive(bool on)
{
    adapt = on;
    last.valid = false;
    if (!on)
        omp_set_num_threads(cnn_threads_most());
}

int cnn_threads_now(void) { return omp_get_max_threads(); }

double cnn_threads_others_busy(void) { return others_busy; }

/* Busy seconds of the CPUs this process may run on, from /proc/stat
 * (user, nice, system, irq, softirq and steal ticks); -1 if unreadable. */
static double busy_seconds_of_allowed_cpus(void)
{
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return -1;
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    char line[512];
    unsigned long long ticks = 0;
    bool any = false;
    while (fgets(line, sizeof line, f)) {
        int cpu;
        unsigned long long user, nice, system, idle, iowait, irq, softirq, steal;
        if (strncmp(line, "cpu", 3) != 0 || line[3] < '0' || line[3] > '9')
            continue;
        if (sscanf(line + 3, "%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &user,
                   &nice, &system, &idle, &iowait, &irq, &softirq, &steal) != 9)
            continue;
        if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &allowed))
            continue;
        ticks += user + nice + system + irq + softirq + steal;
        any = true;
    }
    fclose(f);
    long hz = sysconf(_SC_CLK_TCK);
    return any && hz > 0 ? (double)ticks / (double)hz : -1;
}

void cnn_threads_adapt(void)
{
    if (!cnn_threads_adaptive() || cnn_threads_most() < 2)
        return;
    double wall = clock_seconds(CLOCK_MONOTONIC);
    if (last.valid && wall - last.wall < LOOK_EVERY_SECONDS)
        return;
    double own = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
    double all = busy_seconds_of_allowed_cpus();
    if (all < 0)
        return;
    if (last.valid) {
        double others = (all - last.all_busy - (own - last.own_cpu)) / (wall - last.wall);
        others_busy = others > 0 ? others : 0;
        int want = cnn_threads_most() - (int)(others_busy + 0.5);
        if (want < 1)
            want = 1;
        if (want != omp_get_max_threads())
            omp_set_num_threads(want);
    }
    last.valid = true;
    last.wall = wall;
    last.own_cpu = own;
    last.all_busy = all;
}

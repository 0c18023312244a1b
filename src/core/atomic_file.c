#include "atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TEMP_INFIX  ".tmp."
#define TEMP_RANDOM 6 /* characters, as mkstemp's XXXXXX */

static const char temp_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

static cnn_status out_of_memory(const char *path)
{
    return cnn_fail(CNN_ERR_NOMEM, "%s: out of memory", path);
}

/* ===== the target ===== */

/* The directory part of 'file' ("." for a bare name), in new memory. */
static char *directory_of(const char *file)
{
    const char *slash = strrchr(file, '/');
    if (!slash)
        return strdup(".");
    return slash == file ? strdup("/") : strndup(file, (size_t)(slash - file));
}

static const char *base_of(const char *file)
{
    const char *slash = strrchr(file, '/');
    return slash ? slash + 1 : file;
}

/* The file that writing 'path' replaces: where a symbolic link points (a
 * dangling link is itself replaced), else path. *mode gets the permission
 * bits of an existing file, -1 when there is none yet. */
static cnn_status resolve_target(const char *path, char **target, int *mode)
{
    *mode = -1;
    *target = NULL;
    if (path[0] == '\0')
        return cnn_fail(CNN_ERR_ARG, "the path is empty");
    if (path[strlen(path) - 1] == '/')
        return cnn_fail(CNN_ERR_ARG, "%s names a directory (it ends with '/')", path);
    struct stat sb;
    char *resolved = NULL;
    if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode))
        resolved = realpath(path, NULL);
    *target = resolved ? resolved : strdup(path);
    if (!*target)
        return out_of_memory(path);
    if (stat(*target, &sb) != 0)
        return errno == ENOENT ? CNN_OK
                               : cnn_fail(CNN_ERR_IO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return cnn_fail(CNN_ERR_ARG, "%s is a directory", path);
    if (!S_ISREG(sb.st_mode))
        return cnn_fail(CNN_ERR_ARG, "%s exists and is not a regular file", path);
    *mode = (int)(sb.st_mode & 07777);
    return CNN_OK;
}

/* ===== temporary files left by writers that died ===== */

/* Whether 'name' is base + ".tmp." + six characters of the alphabet. */
static bool is_temp_of(const char *name, const char *base)
{
    size_t n = strlen(base), k = strlen(TEMP_INFIX);
    if (strncmp(name, base, n) != 0 || strncmp(name + n, TEMP_INFIX, k) != 0)
        return false;
    const char *rest = name + n + k;
    return strlen(rest) == TEMP_RANDOM && strspn(rest, temp_alphabet) == TEMP_RANDOM;
}

/* A live writer holds the lock on its temporary file until it renames it,
 * so a lock we can take belongs to nobody: a writer killed mid-write. */
static void remove_if_abandoned(int dir, const char *name)
{
    int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0)
        unlinkat(dir, name, 0);
    close(fd);
}

static void remove_abandoned_temps(const char *target)
{
    char *dir = directory_of(target);
    DIR *d = dir ? opendir(dir) : NULL;
    free(dir);
    if (!d)
        return; /* creating the temporary file reports what is wrong */
    const char *base = base_of(target);
    for (struct dirent *e; (e = readdir(d));)
        if (is_temp_of(e->d_name, base))
            remove_if_abandoned(dirfd(d), e->d_name);
    closedir(d);
}

/* ===== creating the temporary file ===== */

static uint64_t random_bits(void)
{
    static _Atomic uint64_t counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30 ^
                 (uint64_t)getpid() << 40 ^
                 atomic_fetch_add(&counter, 1) * 0x9E3779B97F4A7C15u;
    x ^= x >> 30; /* splitmix64's finaliser spreads every input bit */
    x *= 0xBF58476D1CE4E5B9u;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBu;
    return x ^ x >> 31;
}

static void temp_name(char *name, size_t cap, const char *target)
{
    char suffix[TEMP_RANDOM + 1];
    uint64_t bits = random_bits();
    for (int i = 0; i < TEMP_RANDOM; i++, bits /= sizeof temp_alphabet - 1)
        suffix[i] = temp_alphabet[bits % (sizeof temp_alphabet - 1)];
    suffix[TEMP_RANDOM] = '\0';
    snprintf(name, cap, "%s%s%s", target, TEMP_INFIX, suffix);
}

/* Locks a just-created temporary file. Another writer's cleanup may have
 * removed it before the lock was taken: then false, and the caller tries
 * another name. A file system without flock gets no protection. */
static bool lock_new_temp(int fd, const char *name)
{
    int r;
    while ((r = flock(fd, LOCK_EX)) != 0 && errno == EINTR)
        ;
    if (r != 0)
        return true;
    struct stat mine, named;
    return fstat(fd, &mine) == 0 && stat(name, &named) == 0 &&
           mine.st_ino == named.st_ino && mine.st_dev == named.st_dev;
}

static cnn_status cannot_create(const cnn_atomic_file *f, int err)
{
    char *dir = directory_of(f->target);
    cnn_status s = cnn_fail(CNN_ERR_IO, "%s: cannot create a file in %s: %s", f->path,
                            dir ? dir : "its directory", strerror(err));
    free(dir);
    return s;
}

/* Mode 0666 so that the umask (and a default ACL) decide, as for any file. */
static cnn_status create_locked_temp(cnn_atomic_file *f)
{
    size_t cap = strlen(f->target) + strlen(TEMP_INFIX) + TEMP_RANDOM + 1;
    char *name = malloc(cap);
    if (!name)
        return out_of_memory(f->path);
    for (int attempt = 0; attempt < 100; attempt++) {
        temp_name(name, cap, f->target);
        int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EEXIST)
            continue;
        if (fd < 0) {
            int err = errno;
            free(name);
            return cannot_create(f, err);
        }
        if (lock_new_temp(fd, name)) {
            f->temp = name;
            f->fd = fd;
            return CNN_OK;
        }
        close(fd);
    }
    free(name);
    return cnn_fail(CNN_ERR_IO,
                    "%s: cannot create a temporary file: every name tried exists",
                    f->path);
}

cnn_status cnn_atomic_open(cnn_atomic_file *f, const char *path)
{
    *f = (cnn_atomic_file){.path = path, .fd = -1};
    int mode;
    cnn_status s = resolve_target(path, &f->target, &mode);
    if (s == CNN_OK) {
        remove_abandoned_temps(f->target);
        s = create_locked_temp(f);
    }
    if (s == CNN_OK && mode >= 0 && fchmod(f->fd, (mode_t)mode) != 0)
        s = cnn_fail(CNN_ERR_IO, "%s: cannot keep the file's permissions: %s", path,
                     strerror(errno));
    if (s != CNN_OK)
        cnn_atomic_abort(f);
    return s;
}

/* ===== writing and replacing ===== */

cnn_status cnn_atomic_write(cnn_atomic_file *f, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t k = write(f->fd, p, n < ((size_t)1 << 30) ? n : (size_t)1 << 30);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return cnn_fail(CNN_ERR_IO, "%s: write error: %s", f->path,
                            k < 0 ? strerror(errno) : "nothing written");
        p += k;
        n -= (size_t)k;
    }
    return CNN_OK;
}

/* So that the rename itself survives a power cut. Some file systems cannot
 * sync a directory; the file's own data is synced already, so that is not
 * an error. */
static void sync_directory_of(const char *file)
{
    char *dir = directory_of(file);
    int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    free(dir);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* The rename comes before the close: closing drops the lock, and an
 * unlocked temporary file may be taken for an abandoned one. A failing
 * close is not reported: fsync has already written the data. */
cnn_status cnn_atomic_commit(cnn_atomic_file *f)
{
    cnn_status s = CNN_OK;
    if (fsync(f->fd) != 0)
        s = cnn_fail(CNN_ERR_IO, "%s: cannot sync the file to disk: %s", f->path,
                     strerror(errno));
    else if (rename(f->temp, f->target) != 0)
        s = cnn_fail(CNN_ERR_IO, "%s: cannot replace the file: %s", f->path,
                     strerror(errno));
    if (s == CNN_OK) {
        free(f->temp);
        f->temp = NULL;
        sync_directory_of(f->target);
    }
    cnn_atomic_abort(f);
    return s;
}

/* The unlink comes before the close, while the lock still says the file
 * is in use. */
void cnn_atomic_abort(cnn_atomic_file *f)
{
    if (f->temp)
        unlink(f->temp);
    if (f->fd >= 0)
        close(f->fd);
    free(f->temp);
    free(f->target);
    f->temp = f->target = NULL;
    f->fd = -1;
}

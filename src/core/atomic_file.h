/* Files replaced atomically: the new contents go to a temporary file
 * beside the target ("<target>.tmp.XXXXXX", in the same directory so that
 * the rename is atomic), are synced, and the temporary file is renamed over
 * the target. Readers see the old file or the new one, never half of one.
 *
 * - Every failure removes the temporary file.
 * - A writer holds an exclusive flock on its temporary file, so a later
 *   write to the same target can tell the temporary files of a killed
 *   writer (unlocked) from those of a live one, and removes the former.
 * - An existing target keeps its permission bits; a new file gets
 *   0666 & ~umask, as any other file the process creates.
 * - A symbolic link is followed: the file it names is replaced and the link
 *   stays. */
#ifndef CNN_ATOMIC_FILE_H
#define CNN_ATOMIC_FILE_H

#include <stddef.h>

#include "status.h"

typedef struct cnn_atomic_file {
    const char *path; /* as the caller named it, for messages */
    char *target;     /* the file replaced: path, or where its link points */
    char *temp;       /* NULL when there is no temporary file to remove */
    int fd;
} cnn_atomic_file;

/* Creates the temporary file for replacing 'path'. Refuses an empty path, a
 * directory and anything else that is not a regular file. On failure
 * nothing is left to release or remove. */
cnn_status cnn_atomic_open(cnn_atomic_file *f, const char *path);

/* Appends n bytes (retrying short and interrupted writes). */
cnn_status cnn_atomic_write(cnn_atomic_file *f, const void *buf, size_t n);

/* Syncs, closes and renames the temporary file over the target. Whatever
 * the outcome, f is released and no temporary file remains. */
cnn_status cnn_atomic_commit(cnn_atomic_file *f);

/* Closes and removes the temporary file (after a failed write). */
void cnn_atomic_abort(cnn_atomic_file *f);

#endif

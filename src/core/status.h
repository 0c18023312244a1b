/* Status codes and the last error message of the C core.
 *
 * The core never calls Lua: a failing function returns a status and leaves
 * a message here, and the binding turns both into a Lua error. */
#ifndef CNN_STATUS_H
#define CNN_STATUS_H

typedef enum cnn_status {
    CNN_OK = 0,
    CNN_ERR_NOMEM,  /* allocation failed */
    CNN_ERR_SHAPE,  /* sizes that do not fit together */
    CNN_ERR_ARG,    /* an argument out of its range */
    CNN_ERR_DNNL,   /* oneDNN returned an error */
    CNN_ERR_IO,     /* a file could not be read or written */
    CNN_ERR_FORMAT, /* a file's contents are not what its format says */
} cnn_status;

/* Records a printf-style message and returns 'status', so that a failure is
 * one line: return cnn_fail(CNN_ERR_SHAPE, "...", ...); */
cnn_status cnn_fail(cnn_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The message of the last failure (empty if none). */
const char *cnn_error_message(void);

#endif

/* Running a cached primitive on the public, plain tensors.
 *
 * Tensors are plain (nchw, oihw, nc, ...). A primitive may want another
 * layout for an argument (a convolution created with format `any` picks a
 * blocked one): the helper compares what the primitive descriptor asks for
 * with the tensor's own layout and, when they differ, goes through a cached
 * scratch buffer and a cached reorder primitive. Every op passes its
 * arguments through here, so keeping activations blocked between layers
 * later is a change in this file, not in every op.
 *
 * Calls chain without checking: the first failure sticks in e->status and
 * later calls do nothing; cnn_exec_finish runs the primitive if all went
 * well and returns the status. Memory objects belong to the primitive and
 * are re-pointed at the next execution's data (context.h). */
#ifndef CNN_EXEC_H
#define CNN_EXEC_H

#include <oneapi/dnnl/dnnl.h>

#include "context.h"
#include "memory_desc.h"
#include "tensor.h"

#define CNN_EXEC_MAX_ARGS CNN_SCRATCH_SLOTS

typedef struct cnn_exec_output {
    cnn_primitive *reorder; /* scratch -> user, or NULL */
    dnnl_memory_t from, to;
} cnn_exec_pending;

typedef struct cnn_exec {
    const char *op;
    const cnn_primitive *primitive;
    cnn_status status;
    int nargs;
    dnnl_exec_arg_t args[CNN_EXEC_MAX_ARGS];
    int nmems; /* memory objects taken from the primitive's slots */
    int nouts;
    cnn_exec_pending outs[CNN_EXEC_MAX_ARGS];
} cnn_exec;

/* Copies a Float32 tensor (in its own layout) into 'data', a buffer in
 * layout 'to' of the same sizes (a reorder). */
cnn_status cnn_tensor_reorder(const cnn_tensor *t, const dnnl_memory_desc_t *to,
                              void *data, const char *op);
/* Copies a blocked tensor into a plain one of the same sizes (a reorder). */
cnn_status cnn_tensor_unblock(const cnn_tensor *blocked, cnn_tensor *plain);

void cnn_exec_begin(cnn_exec *e, const cnn_primitive *p, const char *op);
/* An argument the primitive reads: 'user' describes the tensor's layout. */
void cnn_exec_input(cnn_exec *e, int arg, const cnn_tensor *t,
                    const dnnl_memory_desc_t *user);
/* An argument the primitive writes. */
void cnn_exec_output(cnn_exec *e, int arg, cnn_tensor *t, const dnnl_memory_desc_t *user);
/* The same for a tensor in its own layout (cnn_md_of_layout). */
void cnn_exec_plain_input(cnn_exec *e, int arg, const cnn_tensor *t);
void cnn_exec_plain_output(cnn_exec *e, int arg, cnn_tensor *t);
/* A buffer used in the primitive's own layout (a workspace). */
void cnn_exec_buffer(cnn_exec *e, int arg, void *data);
cnn_status cnn_exec_finish(cnn_exec *e);

/* The primitive's descriptor for an execution argument (zero md if the
 * primitive does not take it). */
const dnnl_memory_desc_t *cnn_exec_arg_md(const cnn_primitive *p, int arg);

#endif

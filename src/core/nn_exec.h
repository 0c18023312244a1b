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
 * are re-pointed at the next execution's data (dnnl_context.h). */
#ifndef CNN_NN_EXEC_H
#define CNN_NN_EXEC_H

#include <oneapi/dnnl/dnnl.h>

#include "dnnl_context.h"
#include "tensor.h"

#define CNN_EXEC_MAX_ARGS 12

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

/* A plain descriptor: dims in oneDNN order (slowest first) with the dense
 * row-major tag of that rank (a, ab, abc, ...). */
void cnn_md_plain(dnnl_memory_desc_t *md, int ndims, const int64_t *dims);
/* The plain descriptor of a contiguous tensor: its sizes reversed. */
void cnn_md_of_tensor(dnnl_memory_desc_t *md, const cnn_tensor *t);
/* The descriptor of the tensor's own layout: its blocked layout if it has
 * one, else the plain descriptor. */
void cnn_md_of_layout(dnnl_memory_desc_t *md, const cnn_tensor *t);
/* Whether md is the plain layout of a Float32 tensor of these sizes. */
bool cnn_md_is_plain(const dnnl_memory_desc_t *md, int ndims, const int64_t *size);
/* Copies a Float32 tensor (in its own layout) into 'data', a buffer in
 * layout 'to' of the same sizes (a reorder). */
cnn_status cnn_tensor_reorder(const cnn_tensor *t, const dnnl_memory_desc_t *to,
                              void *data, const char *op);
/* Copies a blocked tensor into a plain one of the same sizes (a reorder). */
cnn_status cnn_tensor_unblock(const cnn_tensor *blocked, cnn_tensor *plain);
/* A descriptor that lets the primitive choose the layout. */
void cnn_md_any(dnnl_memory_desc_t *md, int ndims, const int64_t *dims);

void cnn_exec_begin(cnn_exec *e, const cnn_primitive *p, const char *op);
/* An argument the primitive reads: 'user' describes the tensor's layout. */
void cnn_exec_input(cnn_exec *e, int arg, const cnn_tensor *t,
                    const dnnl_memory_desc_t *user);
/* An argument the primitive writes. */
void cnn_exec_output(cnn_exec *e, int arg, cnn_tensor *t,
                     const dnnl_memory_desc_t *user);
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

/* Shared by the layer kernels: sizes as "28×28×1×128" from an array. */
const char *cnn_sizes_string(const int64_t *size, int ndims, char *buf,
                             size_t len);

/* Spatial parameters of a sliding window (convolution or pooling), per
 * dimension in tensor order: index 0 is W, 1 is H. */
typedef struct cnn_window {
    int64_t kernel[2];
    int64_t stride[2];   /* >= 1 */
    int64_t pad[4];      /* w_lo, w_hi, h_lo, h_hi; >= 0 */
    int64_t dilation[2]; /* >= 1; 1 = none */
} cnn_window;

/* Checks strides, pads and dilations and computes the output W and H:
 * out = floor((in + lo + hi - dilation*(k-1) - 1) / stride) + 1.
 * A window larger than the padded input fails naming both. */
cnn_status cnn_window_output(const cnn_window *w, const int64_t in[2],
                             int64_t out[2]);

/* oneDNN's spatial arrays (H first) for a window. */
void cnn_window_dnnl(const cnn_window *w, dnnl_dims_t strides,
                     dnnl_dims_t kernel, dnnl_dims_t dilates,
                     dnnl_dims_t pad_l, dnnl_dims_t pad_r);

/* Fails unless t is a contiguous Float32 tensor with 'ndims' dimensions
 * ('ndims' 0: any). 'what' names it ("input", "weight"). */
cnn_status cnn_check_operand(const cnn_tensor *t, const char *what, int ndims,
                             const char *layout);

/* What a primitive fuses after its op. */
enum {
    CNN_FUSE_NONE = 0,
    CNN_FUSE_RELU = 1,          /* max(x, 0): fast, but turns NaN into 0 */
    CNN_FUSE_RELU_KEEP_NAN = 2, /* relu that keeps NaN, a little slower */
};

/* Creates a primitive descriptor for an op descriptor, with a relu fused
 * as a post-op when asked (a CNN_FUSE_ value), and 'hint' (a forward pd,
 * or NULL) for backward ops. */
cnn_status cnn_pd_create(const void *op_desc, int fuse,
                         const_dnnl_primitive_desc_t hint, const char *op,
                         dnnl_primitive_desc_t *pd);

/* Zeroes the outputs of an op with nothing to compute (an empty batch). */
void cnn_zero_outputs(cnn_tensor *a, cnn_tensor *b, cnn_tensor *c);

/* 2-D max and mean pooling on oneDNN, forward and backward.
 *
 * Input W×H×C×N (nchw), output W'×H'×C×N. Mean pooling counts padding by
 * default, as Flux and PyTorch do (oneDNN's pooling_avg_include_padding);
 * with exclude_padding it divides by the window's pixels inside the image
 * only (PyTorch's count_include_pad=False, oneDNN's
 * pooling_avg_exclude_padding). Max pooling runs the core's own kernels,
 * which keep NaN (pool_max.h), and keeps a workspace (where each maximum
 * was) from the forward for the backward. In bf16 precision (context.h)
 * the max pooling forward runs oneDNN's primitive instead, 2.5 to 4 times
 * faster on the MNIST notebook's layers and without the promise to keep
 * NaN, when its workspace is the kernels' (the same positions in the same
 * layout, which the plan checks): the backward is the core's kernel
 * whichever forward filled the workspace. */
#ifndef CNN_POOL_H
#define CNN_POOL_H

#include <stdbool.h>

#include "context.h"
#include "plan.h"
#include "tensor.h"

typedef enum cnn_pool_kind {
    CNN_POOL_MAX = 0,
    CNN_POOL_MEAN = 1,
} cnn_pool_kind;

typedef struct cnn_pool2d_params {
    cnn_pool_kind kind;
    int64_t window[2]; /* W, H */
    int64_t stride[2];
    int64_t pad[4];       /* w_lo, w_hi, h_lo, h_hi; each smaller than the window */
    bool inference;       /* no backward follows: no workspace is kept */
    bool exclude_padding; /* mean pooling: divide by the pixels inside only */
} cnn_pool2d_params;

/* The workspace of one max pooling forward. It remembers the forward's
 * parameters and input sizes, so a backward can refuse a workspace that
 * belongs to another call. Start from all zeros; free with
 * cnn_pool_workspace_free. */
typedef struct cnn_pool_workspace {
    void *data; /* NULL until a forward fills it */
    size_t bytes;
    cnn_pool2d_params params;
    int64_t x[4];
    dnnl_memory_desc_t src; /* the forward input's layout */
    dnnl_memory_desc_t dst; /* the forward output's layout */
} cnn_pool_workspace;

void cnn_pool_workspace_free(cnn_pool_workspace *ws);

/* Window of w×h, stride = window, no padding (Flux's MaxPool defaults). */
cnn_pool2d_params cnn_pool2d_default_params(cnn_pool_kind kind, int64_t w, int64_t h);

/* Checks the parameters and input sizes and gives the output sizes. */
cnn_status cnn_pool2d_output_size(const cnn_pool2d_params *p, int x_ndims,
                                  const int64_t *x, int64_t y[4]);

/* Checks a backward's operands: gy must have the forward output's sizes,
 * and max pooling needs the workspace of a forward with the same input
 * sizes and parameters. */
cnn_status cnn_pool2d_check_backward(const cnn_pool2d_params *p, const cnn_tensor *gy,
                                     int x_ndims, const int64_t *x,
                                     const cnn_pool_workspace *ws);

/* A planned pooling: the checked sizes, the result (y, in the layout
 * oneDNN's pooling gives for x's; gx in the forward input's) and the
 * primitive to run: mean pooling's, max pooling's forward in bf16
 * precision, else NULL (the core's max pooling kernels). */
typedef struct cnn_pool2d_plan {
    cnn_pool2d_params params;
    int64_t x[4];
    cnn_primitive *primitive;
    cnn_plan_output out;
} cnn_pool2d_plan;

cnn_status cnn_pool2d_plan_forward(cnn_pool2d_plan *plan, const cnn_pool2d_params *p,
                                   const cnn_tensor *x);
/* ws as for cnn_pool2d_forward. */
cnn_status cnn_pool2d_run_forward(const cnn_pool2d_plan *plan, const cnn_tensor *x,
                                  cnn_tensor *y, cnn_pool_workspace *ws);
cnn_status cnn_pool2d_plan_backward(cnn_pool2d_plan *plan, const cnn_pool2d_params *p,
                                    const cnn_tensor *gy, int x_ndims, const int64_t *x,
                                    const cnn_pool_workspace *ws);
cnn_status cnn_pool2d_run_backward(const cnn_pool2d_plan *plan, const cnn_tensor *gy,
                                   const cnn_pool_workspace *ws, cnn_tensor *gx);

/* Plan and run in one call, on results the caller has. */
/* y = pool(x). For max pooling in training ws receives the workspace (its
 * old buffer, if any, is released); otherwise ws may be NULL. */
cnn_status cnn_pool2d_forward(const cnn_pool2d_params *p, const cnn_tensor *x,
                              cnn_tensor *y, cnn_pool_workspace *ws);

cnn_status cnn_pool2d_backward(const cnn_pool2d_params *p, const cnn_tensor *gy,
                               const cnn_pool_workspace *ws, cnn_tensor *gx);

#endif

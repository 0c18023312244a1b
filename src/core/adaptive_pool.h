/* 2-D adaptive max and mean pooling, forward and backward, in C: Flux's
 * AdaptiveMaxPool and AdaptiveMeanPool with PyTorch's windows.
 *
 * Input W×H×C×N (plain, or a layer kernel's blocked layout, read through
 * a plain copy in a scratch buffer), output W'×H'×C×N for the output sizes the caller
 * gives. Output pixel i along a dimension of input size I and output size
 * O pools the inputs floor(i·I/O) to ceil((i+1)·I/O) − 1 (0-based), so
 * windows may differ in size and overlap by one. A maximum is the first
 * largest element of its window, a NaN if the window holds one (as
 * PyTorch); its gradient goes to that element only. A mean divides by its
 * window's size.
 *
 * When the output sizes divide the input's, these are plain pooling with
 * window and stride I/O; the layers then run oneDNN's pooling (pool.h)
 * instead, and this kernel covers the other sizes. */
#ifndef CNN_ADAPTIVE_POOL_H
#define CNN_ADAPTIVE_POOL_H

#include "plan.h"
#include "pool.h"
#include "tensor.h"

typedef struct cnn_adaptive_pool_params {
    cnn_pool_kind kind;
    int64_t out[2]; /* W', H' */
} cnn_adaptive_pool_params;

/* Checks the parameters and input sizes and gives the output sizes. */
cnn_status cnn_adaptive_pool_output_size(const cnn_adaptive_pool_params *p, int x_ndims,
                                         const int64_t *x, int64_t y[4]);

/* A planned adaptive pooling: the checked sizes and the result (y, or gx
 * in x's sizes), plain. */
typedef struct cnn_adaptive_pool_plan {
    cnn_adaptive_pool_params params;
    int64_t x[4], y[4];
    cnn_plan_output out;
} cnn_adaptive_pool_plan;

cnn_status cnn_adaptive_pool_plan_forward(cnn_adaptive_pool_plan *plan,
                                          const cnn_adaptive_pool_params *p,
                                          const cnn_tensor *x);
cnn_status cnn_adaptive_pool_run_forward(const cnn_adaptive_pool_plan *plan,
                                         const cnn_tensor *x, cnn_tensor *y);
/* gy has the forward output's sizes; max pooling reads the forward input
 * x again to find each window's maximum (mean pooling takes x NULL). */
cnn_status cnn_adaptive_pool_plan_backward(cnn_adaptive_pool_plan *plan,
                                           const cnn_adaptive_pool_params *p,
                                           const cnn_tensor *gy, const cnn_tensor *x);
cnn_status cnn_adaptive_pool_run_backward(const cnn_adaptive_pool_plan *plan,
                                          const cnn_tensor *gy, const cnn_tensor *x,
                                          cnn_tensor *gx);

#endif

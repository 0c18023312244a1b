/* Fully connected layer (oneDNN inner product), forward and backward.
 *
 * Layouts as Flux: input in×N (or a vector of length in, N = 1), weight
 * out×in, bias out, output out×N (a vector for a vector input). In memory
 * these are oneDNN's nc source, io weights and nc destination. */
#ifndef CNN_DENSE_H
#define CNN_DENSE_H

#include <stdbool.h>

#include "context.h"
#include "plan.h"
#include "tensor.h"

/* Checks operands and gives the output's sizes (ndims of x). */
cnn_status cnn_dense_check_forward(const cnn_tensor *x, const cnn_tensor *w,
                                   const cnn_tensor *b, int *y_ndims, int64_t y[2]);
/* gy must be what the forward of an x with x_ndims/x sizes gave; here only
 * gy against w. */
cnn_status cnn_dense_check_backward_data(const cnn_tensor *gy, const cnn_tensor *w,
                                         int *x_ndims, int64_t x[2]);
cnn_status cnn_dense_check_backward_weights(const cnn_tensor *gy, const cnn_tensor *x);

/* A planned dense op: the checked sizes, the primitive and the results'
 * sizes (y; gx; gw and gb), all plain. */
typedef struct cnn_dense_plan {
    int64_t in, out_features, batch;
    bool bias;
    bool empty;       /* no elements: results are zeroed */
    bool featureless; /* no input features, yet outputs and a bias: fails */
    cnn_primitive *primitive;
    cnn_plan_output out[2];
} cnn_dense_plan;

cnn_status cnn_dense_plan_forward(cnn_dense_plan *plan, const cnn_tensor *x,
                                  const cnn_tensor *w, const cnn_tensor *b);
cnn_status cnn_dense_run_forward(const cnn_dense_plan *plan, const cnn_tensor *x,
                                 const cnn_tensor *w, const cnn_tensor *b, cnn_tensor *y);
cnn_status cnn_dense_plan_backward_data(cnn_dense_plan *plan, const cnn_tensor *gy,
                                        const cnn_tensor *w);
cnn_status cnn_dense_run_backward_data(const cnn_dense_plan *plan, const cnn_tensor *gy,
                                       const cnn_tensor *w, cnn_tensor *gx);
cnn_status cnn_dense_plan_backward_weights(cnn_dense_plan *plan, const cnn_tensor *gy,
                                           const cnn_tensor *x, bool bias);
cnn_status cnn_dense_run_backward_weights(const cnn_dense_plan *plan,
                                          const cnn_tensor *gy, const cnn_tensor *x,
                                          cnn_tensor *gw, cnn_tensor *gb);

/* Plan and run in one call, on results the caller has. */
/* y = w * x .+ b ; b may be NULL. */
cnn_status cnn_dense_forward(const cnn_tensor *x, const cnn_tensor *w,
                             const cnn_tensor *b, cnn_tensor *y);
/* gx = w' * gy */
cnn_status cnn_dense_backward_data(const cnn_tensor *gy, const cnn_tensor *w,
                                   cnn_tensor *gx);
/* gw = gy * x' (out×in), gb = sum of gy over the batch unless NULL. */
cnn_status cnn_dense_backward_weights(const cnn_tensor *gy, const cnn_tensor *x,
                                      cnn_tensor *gw, cnn_tensor *gb);

#endif

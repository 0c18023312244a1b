/* Softmax and log-softmax over the first (fastest) dimension, as Flux's
 * softmax(x; dims=1) on classes×N, forward and backward (oneDNN softmax
 * v2, accurate or log). */
#ifndef CNN_SOFTMAX_H
#define CNN_SOFTMAX_H

#include <stdbool.h>

#include "context.h"
#include "plan.h"
#include "tensor.h"

cnn_status cnn_softmax_check(const cnn_tensor *x);

/* A planned softmax: its matrix layout, the primitive (NULL for no
 * elements) and the result (the sizes of x, or of y for the backward). */
typedef struct cnn_softmax_plan {
    bool log;
    dnnl_memory_desc_t md;
    cnn_primitive *primitive;
    cnn_plan_output out;
} cnn_softmax_plan;

cnn_status cnn_softmax_plan_forward(cnn_softmax_plan *plan, const cnn_tensor *x,
                                    bool log);
cnn_status cnn_softmax_run_forward(const cnn_softmax_plan *plan, const cnn_tensor *x,
                                   cnn_tensor *y);
cnn_status cnn_softmax_plan_backward(cnn_softmax_plan *plan, const cnn_tensor *gy,
                                     const cnn_tensor *y, bool log);
cnn_status cnn_softmax_run_backward(const cnn_softmax_plan *plan, const cnn_tensor *gy,
                                    const cnn_tensor *y, cnn_tensor *gx);

/* Plan and run in one call, on results the caller has. */
/* y and x have the same sizes (y may be x). */
cnn_status cnn_softmax_forward(const cnn_tensor *x, bool log, cnn_tensor *y);
/* gx from the forward's output y and gy (gx may be gy). */
cnn_status cnn_softmax_backward(const cnn_tensor *gy, const cnn_tensor *y, bool log,
                                cnn_tensor *gx);

#endif

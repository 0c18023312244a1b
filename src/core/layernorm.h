/* Layer normalisation on oneDNN, forward and backward.
 *
 * The first `dims` sizes of x are normalised together: x is seen as a
 * cols×rows matrix (cols the product of those sizes, rows that of the
 * others), and each column of cols consecutive elements is normalised by
 * its own mean and (biased) variance: y = (x - mean) / sqrt(var + eps),
 * then gamma .* y .+ beta element by element when gamma and beta are
 * given (of the normalised sizes). In oneDNN's terms the tensor is a
 * rows×cols matrix normalised over its last, innermost dimension, which
 * is what its layer normalisation does.
 *
 * Flux's LayerNorm(d) on a d×N input is dims 1; LayerNorm((w, h, c)) on
 * W×H×C×N is dims 3. GroupNorm and InstanceNorm are the same op on a
 * reshaped input (lua/cnn/layers/GroupNorm.lua): the channels of a group
 * of a sample are consecutive in W×H×C×N. */
#ifndef CNN_LAYERNORM_H
#define CNN_LAYERNORM_H

#include <stdbool.h>

#include "context.h"
#include "plan.h"
#include "tensor.h"

/* A planned layer normalisation: layouts, the primitive (NULL for no
 * elements) and the results: y (x's sizes), the saved mean and variance
 * (rows); or gx, ggamma and gbeta (gamma's sizes, when affine). */
typedef struct cnn_layernorm_plan {
    bool affine;
    float eps;
    int64_t rows, cols;
    dnnl_memory_desc_t md, smd, vmd; /* data, statistics, gamma and beta */
    cnn_primitive *primitive;
    cnn_plan_output out[3];
} cnn_layernorm_plan;

/* The rules: dims in [1, ndims of x]; gamma and beta both NULL or both of
 * the first dims sizes of x; eps > 0. */
cnn_status cnn_layernorm_plan_forward(cnn_layernorm_plan *plan, const cnn_tensor *x,
                                      int dims, const cnn_tensor *gamma,
                                      const cnn_tensor *beta, float eps);
cnn_status cnn_layernorm_run_forward(const cnn_layernorm_plan *plan, const cnn_tensor *x,
                                     const cnn_tensor *gamma, const cnn_tensor *beta,
                                     cnn_tensor *y, cnn_tensor *mean, cnn_tensor *var);
/* The same rules, and gy of x's sizes, mean and var of rows elements. */
cnn_status cnn_layernorm_plan_backward(cnn_layernorm_plan *plan, const cnn_tensor *gy,
                                       const cnn_tensor *x, int dims,
                                       const cnn_tensor *gamma, const cnn_tensor *mean,
                                       const cnn_tensor *var, float eps);
/* ggamma and gbeta are written only when the plan is affine. */
cnn_status cnn_layernorm_run_backward(const cnn_layernorm_plan *plan,
                                      const cnn_tensor *gy, const cnn_tensor *x,
                                      const cnn_tensor *gamma, const cnn_tensor *mean,
                                      const cnn_tensor *var, cnn_tensor *gx,
                                      cnn_tensor *ggamma, cnn_tensor *gbeta);

/* The plan of a unit that normalises its own view of a tensor (group
 * normalisation): the columns of a plain cols×rows matrix (rows×cols in
 * oneDNN's words), with no gamma and beta, forward or backward, named
 * `name` in errors. Its `out` is left empty: the caller knows its results;
 * run it on tensors of rows·cols elements with NULL gamma and beta. The
 * backward may run in place (gx the same tensor as gy). */
cnn_status cnn_layernorm_plan_matrix(cnn_layernorm_plan *plan, int64_t rows, int64_t cols,
                                     float eps, bool backward, const char *name);

/* Plan and run in one call, on results the caller has. */
cnn_status cnn_layernorm_forward(const cnn_tensor *x, int dims, const cnn_tensor *gamma,
                                 const cnn_tensor *beta, float eps, cnn_tensor *y,
                                 cnn_tensor *mean, cnn_tensor *var);
cnn_status cnn_layernorm_backward(const cnn_tensor *gy, const cnn_tensor *x, int dims,
                                  const cnn_tensor *gamma, const cnn_tensor *mean,
                                  const cnn_tensor *var, float eps, cnn_tensor *gx,
                                  cnn_tensor *ggamma, cnn_tensor *gbeta);

#endif

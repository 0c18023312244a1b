/* Batch normalisation on oneDNN, forward (training and inference) and
 * backward, with Flux's running statistics.
 *
 * The channel dimension is the second-to-last of a tensor with 3 to 5
 * dimensions (C of W×H×C×N) and the first of a features×N matrix; in
 * oneDNN's terms that is always dims[1]. gamma, beta and the statistics
 * are vectors of the channel count. */
#ifndef CNN_BATCHNORM_H
#define CNN_BATCHNORM_H

#include <stdbool.h>

#include "context.h"
#include "plan.h"
#include "tensor.h"

/* The channel count of x (which must have 2 to 5 dimensions). */
cnn_status cnn_batchnorm_channels(const cnn_tensor *x, int64_t *channels);

/* Checks x and that each of the vectors (NULL ones skipped) has the
 * channel count. */
cnn_status cnn_batchnorm_check(const cnn_tensor *x, const cnn_tensor *gamma,
                               const cnn_tensor *beta, const cnn_tensor *mean,
                               const cnn_tensor *var);

/* A planned batch normalisation: layouts, the primitive (NULL for no
 * elements) and the results: y (x's sizes), saved mean and variance (the
 * channel count); or gx, ggamma and gbeta. */
typedef struct cnn_batchnorm_plan {
    bool training;
    float momentum, eps;
    int64_t channels, count; /* count: values per channel */
    dnnl_memory_desc_t md, vmd;
    cnn_primitive *primitive;
    cnn_plan_output out[3];
} cnn_batchnorm_plan;

/* The forward's rules: operands of one channel count, eps > 0, momentum in
 * [0, 1], and in training more than one value per channel. */
cnn_status cnn_batchnorm_plan_forward(cnn_batchnorm_plan *plan, const cnn_tensor *x,
                                      const cnn_tensor *gamma, const cnn_tensor *beta,
                                      const cnn_tensor *running_mean,
                                      const cnn_tensor *running_var, bool training,
                                      float momentum, float eps);
cnn_status cnn_batchnorm_run_forward(const cnn_batchnorm_plan *plan, const cnn_tensor *x,
                                     const cnn_tensor *gamma, const cnn_tensor *beta,
                                     cnn_tensor *running_mean, cnn_tensor *running_var,
                                     cnn_tensor *y, cnn_tensor *saved_mean,
                                     cnn_tensor *saved_var);
cnn_status cnn_batchnorm_plan_backward(cnn_batchnorm_plan *plan, const cnn_tensor *gy,
                                       const cnn_tensor *x, const cnn_tensor *gamma,
                                       const cnn_tensor *saved_mean,
                                       const cnn_tensor *saved_var, float eps);
cnn_status cnn_batchnorm_run_backward(const cnn_batchnorm_plan *plan,
                                      const cnn_tensor *gy, const cnn_tensor *x,
                                      const cnn_tensor *gamma,
                                      const cnn_tensor *saved_mean,
                                      const cnn_tensor *saved_var, cnn_tensor *gx,
                                      cnn_tensor *ggamma, cnn_tensor *gbeta);

/* Plan and run in one call, on results the caller has.
 * Training: normalises with the batch statistics, writes them (variance
 * biased, as used) to saved_mean and saved_var, and updates the running
 * statistics in place as Flux does: r = (1 - momentum) r + momentum batch,
 * the running variance taking the unbiased batch variance.
 * Inference: normalises with the running statistics; saved_* may be NULL. */
cnn_status cnn_batchnorm_forward(const cnn_tensor *x, const cnn_tensor *gamma,
                                 const cnn_tensor *beta, cnn_tensor *running_mean,
                                 cnn_tensor *running_var, bool training, float momentum,
                                 float eps, cnn_tensor *y, cnn_tensor *saved_mean,
                                 cnn_tensor *saved_var);

/* Gradients of a training forward from its saved statistics. */
cnn_status cnn_batchnorm_backward(const cnn_tensor *gy, const cnn_tensor *x,
                                  const cnn_tensor *gamma, const cnn_tensor *saved_mean,
                                  const cnn_tensor *saved_var, float eps, cnn_tensor *gx,
                                  cnn_tensor *ggamma, cnn_tensor *gbeta);

#endif

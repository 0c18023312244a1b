/* Group normalisation (Flux's GroupNorm; InstanceNorm is one group per
 * channel), forward and backward.
 *
 * x has 2 to CNN_MAX_DIMS dimensions, the channels C the second-to-last
 * (C of W×H×C×N, of C×N) and the samples N the last; the C channels of
 * each sample split into `groups` groups of C/groups consecutive channels,
 * and each group of each sample is normalised by its own mean and
 * (biased) variance: x̂ = (x - mean) / sqrt(var + eps), then
 * y = gamma[c] x̂ + beta[c] with gamma and beta per channel when given.
 *
 * A group of a sample is W·H·C/G consecutive elements, so x is a
 * (W·H·C/G)×(G·N) matrix with a group in each column: the normalisation
 * is layer normalisation's (layernorm.h) of that matrix, on oneDNN. Its
 * scale and shift are per element of a column, which per-channel gamma
 * and beta are not; so they are applied here, in place on the normalised
 * result, and their backward recomputes x̂ from x and the saved
 * statistics rather than keeping it. A step allocates y, the statistics
 * and the gradients, nothing more. */
#ifndef CNN_GROUPNORM_H
#define CNN_GROUPNORM_H

#include <stdbool.h>

#include "layernorm.h"

/* A planned group normalisation: the layer normalisation of the view, and
 * the results: y (x's sizes), mean and var (G·N, sample-major); or gx,
 * ggamma and gbeta (C). */
typedef struct cnn_groupnorm_plan {
    cnn_layernorm_plan norm;
    bool affine;
    int64_t spatial, channels, groups, batch; /* spatial: W·H (1 for C×N) */
    cnn_plan_output out[3];
} cnn_groupnorm_plan;

/* The rules: x of at least 2 dimensions, groups dividing its channels,
 * gamma and beta both NULL or both vectors of the channel count, eps > 0. */
cnn_status cnn_groupnorm_plan_forward(cnn_groupnorm_plan *plan, const cnn_tensor *x,
                                      int64_t groups, const cnn_tensor *gamma,
                                      const cnn_tensor *beta, float eps);
cnn_status cnn_groupnorm_run_forward(const cnn_groupnorm_plan *plan, const cnn_tensor *x,
                                     const cnn_tensor *gamma, const cnn_tensor *beta,
                                     cnn_tensor *y, cnn_tensor *mean, cnn_tensor *var);
/* The same rules, gy of x's sizes, mean and var of G·N elements. */
cnn_status cnn_groupnorm_plan_backward(cnn_groupnorm_plan *plan, const cnn_tensor *gy,
                                       const cnn_tensor *x, int64_t groups,
                                       const cnn_tensor *gamma, const cnn_tensor *mean,
                                       const cnn_tensor *var, float eps);
/* ggamma and gbeta are written only when the plan is affine. */
cnn_status cnn_groupnorm_run_backward(const cnn_groupnorm_plan *plan,
                                      const cnn_tensor *gy, const cnn_tensor *x,
                                      const cnn_tensor *gamma, const cnn_tensor *mean,
                                      const cnn_tensor *var, cnn_tensor *gx,
                                      cnn_tensor *ggamma, cnn_tensor *gbeta);

#endif

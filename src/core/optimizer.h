/* In-place optimiser updates: one fused, OpenMP-parallel pass over a
 * parameter, its gradient and its state per step, with no temporaries.
 *
 * The formulas are Flux's (optimisers.jl), written as what is subtracted
 * from the parameter:
 *   descent   p -= eta g
 *   momentum  v = rho v - eta g;  p += v
 *   nesterov  d = rho^2 v - (1 + rho) eta g;  v = rho v - eta g;  p += d
 *   rmsprop   a = rho a + (1 - rho) g^2;  p -= eta g / (sqrt(a) + eps)
 *   adam      m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 *             p -= eta m^ / (sqrt(v^) + eps), with m^ = m / (1 - b1^t) and
 *             v^ = v / (1 - b2^t) (the PyTorch form: eps added to sqrt(v^))
 *   adamw     the adam step, then p -= decay p (Flux's AdamW =
 *             Optimiser(ADAM, WeightDecay(decay)): decay is not scaled by eta)
 *
 * Every tensor must be float32 and contiguous, and the gradient and state
 * tensors must have the parameter's sizes; otherwise CNN_ERR_SHAPE or
 * CNN_ERR_ARG with a message naming the argument and both shapes
 * ("gradient 3×4 does not match parameter 3×3").
 *
 * Each takes the gradient transforms that come before it in an
 * OptimiserChain (grad_transform.h), applied to each gradient element as it
 * is read; NULL for none. */
#ifndef CNN_OPTIMIZER_H
#define CNN_OPTIMIZER_H

#include "grad_transform.h"
#include "tensor.h"

typedef struct cnn_adam_config {
    double eta, beta1, beta2, eps;
    double decay;                   /* 0 for plain adam */
    int64_t step;                   /* t, counted from 1 */
    const cnn_grad_transforms *pre; /* NULL for none */
} cnn_adam_config;

cnn_status cnn_descent_step(cnn_tensor *p, const cnn_tensor *g, double eta,
                            const cnn_grad_transforms *pre);
cnn_status cnn_momentum_step(cnn_tensor *p, const cnn_tensor *g, cnn_tensor *v,
                             double eta, double rho, const cnn_grad_transforms *pre);
cnn_status cnn_nesterov_step(cnn_tensor *p, const cnn_tensor *g, cnn_tensor *v,
                             double eta, double rho, const cnn_grad_transforms *pre);
cnn_status cnn_rmsprop_step(cnn_tensor *p, const cnn_tensor *g, cnn_tensor *acc,
                            double eta, double rho, double eps,
                            const cnn_grad_transforms *pre);
cnn_status cnn_adam_step(cnn_tensor *p, const cnn_tensor *g, cnn_tensor *m, cnn_tensor *v,
                         const cnn_adam_config *config);

#endif

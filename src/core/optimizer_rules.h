/* The further rules of Optimisers.jl, each one fused, OpenMP-parallel pass
 * over a parameter, its gradient and its state per step, the chain's
 * gradient transforms (grad_transform.h) applied as the gradient is read.
 *
 * Formulas (Optimisers.jl's rules.jl), g the transformed gradient, t the
 * step counted from 1, b1 = beta1, b2 = beta2:
 *   adagrad   a += g²;  p -= eta g / (√a + eps)          (a starts at eps)
 *   adadelta  a = rho a + (1-rho) g²;  d = g √(D + eps) / √(a + eps);
 *             D = rho D + (1-rho) d²;  p -= d           (no learning rate)
 *   amsgrad   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g²;  h = max(h, v);
 *             p -= eta m / (√h + eps)       (m, v, h start at eps; no bias
 *             correction)
 *   nadam     m, v as adam;  p -= eta (b1 m / (1 - b1^(t+1)) + (1-b1) g /
 *             (1 - b1^t)) / (√(b2 v / (1 - b2^t)) + eps)
 *   radam     m, v as adam;  r∞ = 2/(1-b2) - 1;  r = r∞ - 2t b2^t/(1-b2^t);
 *             if r > 4: p -= eta k m / (1-b1^t) / (√(v / (1-b2^t)) + eps),
 *             k = √((r-4)(r-2)r∞ / ((r∞-4)(r∞-2)r)); else p -= eta m/(1-b1^t)
 *   adamax    m as adam;  u = max(b2 u, |g|);  p -= eta/(1-b1^t) m/(u + eps)
 *   adabelief m as adam;  s = b2 s + (1-b2)(g - m)² + eps;
 *             p -= eta m/(1-b1^t) / (√(s/(1-b2^t)) + eps)
 *   lion      p -= eta sign(b1 m + (1-b1) g);  m = b2 m + (1-b2) g (the paper's)
 *
 * The state tensors, in order, are those named above (adagrad a; adadelta
 * a, D; amsgrad m, v, h; nadam, radam m, v; adamax m, u; adabelief m, s;
 * lion m), float32, contiguous, of the parameter's sizes. */
#ifndef CNN_OPTIMIZER_RULES_H
#define CNN_OPTIMIZER_RULES_H

#include "grad_transform.h"
#include "tensor.h"

typedef enum cnn_rule {
    CNN_RULE_ADAGRAD,
    CNN_RULE_ADADELTA,
    CNN_RULE_AMSGRAD,
    CNN_RULE_NADAM,
    CNN_RULE_RADAM,
    CNN_RULE_ADAMAX,
    CNN_RULE_ADABELIEF,
    CNN_RULE_LION,
    CNN_RULE_COUNT
} cnn_rule;

typedef struct cnn_rule_config {
    cnn_rule rule;
    double eta, beta1, beta2, eps, rho;
    int64_t step;                   /* t, counted from 1 */
    const cnn_grad_transforms *pre; /* NULL for none */
} cnn_rule_config;

/* The number of state tensors of a rule, and its name ("adagrad", ...). */
int cnn_rule_state_count(cnn_rule rule);
const char *cnn_rule_name(cnn_rule rule);

/* One step of c->rule on p with gradient g and its cnn_rule_state_count
 * state tensors. */
cnn_status cnn_rule_step(cnn_tensor *p, const cnn_tensor *g, cnn_tensor *const *state,
                         const cnn_rule_config *c);

#endif

/* Gradient transforms applied inside an optimiser's fused pass: the
 * clipping and decay rules of an OptimiserChain (Optimisers.jl's ClipGrad,
 * ClipNorm, WeightDecay) that come before its rule, in their order, on
 * each element of the gradient as it is read, so that no transformed copy
 * of the gradient is made.
 *
 *   CNN_GRAD_CLAMP  g = clamp(g, -a, a)          (ClipGrad(a))
 *   CNN_GRAD_SCALE  g = a g                      (ClipNorm, a = min(1, ω/‖g‖))
 *   CNN_GRAD_DECAY  g = g + a x, x the parameter (WeightDecay(a))
 *
 * ClipNorm's factor needs the norm of the gradient as transformed so far:
 * cnn_grad_norm is that one reduction pass. */
#ifndef CNN_GRAD_TRANSFORM_H
#define CNN_GRAD_TRANSFORM_H

#include "tensor.h"

#define CNN_GRAD_TRANSFORMS_MAX 16

typedef enum cnn_grad_op { CNN_GRAD_CLAMP, CNN_GRAD_SCALE, CNN_GRAD_DECAY } cnn_grad_op;

typedef struct cnn_grad_transforms {
    int n;
    cnn_grad_op op[CNN_GRAD_TRANSFORMS_MAX];
    float a[CNN_GRAD_TRANSFORMS_MAX];
} cnn_grad_transforms;

/* The gradient element g of parameter element x after the transforms
 * (none when t is NULL). */
static inline float cnn_grad_apply(const cnn_grad_transforms *t, float g, float x)
{
    if (!t)
        return g;
    for (int k = 0; k < t->n; k++) {
        const float a = t->a[k];
        switch (t->op[k]) {
        case CNN_GRAD_CLAMP: /* two selects, no branch; NaN stays NaN */
            g = g > a ? a : g;
            g = g < -a ? -a : g;
            break;
        case CNN_GRAD_SCALE: g *= a; break;
        case CNN_GRAD_DECAY: g += a * x; break;
        }
    }
    return g;
}

/* Optimisers' element-wise passes run over blocks of this many elements:
 * the gradient's block is transformed (cnn_grad_block) one transform at a
 * time, then the rule's update runs over it, both on whole vectors. */
#define CNN_GRAD_BLOCK 1024

/* The number of blocks of n elements, and the end of block b. */
static inline int64_t cnn_grad_blocks(int64_t n)
{
    return (n + CNN_GRAD_BLOCK - 1) / CNN_GRAD_BLOCK;
}

static inline int64_t cnn_grad_block_end(int64_t n, int64_t b)
{
    const int64_t end = (b + 1) * CNN_GRAD_BLOCK;
    return end < n ? end : n;
}

/* Gradient elements [i0, end) of gradient g of parameter x after the
 * transforms t: g + i0 itself when there are none, else 'buf' (of
 * CNN_GRAD_BLOCK floats) holding them. */
const float *cnn_grad_block(const cnn_grad_transforms *t, const float *g, const float *x,
                            int64_t i0, int64_t end, float *buf);

/* Checks the transforms' values (clamp and decay >= 0, scale finite and
 * >= 0, at most CNN_GRAD_TRANSFORMS_MAX). */
cnn_status cnn_grad_transforms_check(const cnn_grad_transforms *t);

/* The p-norm (p > 0, or inf) of gradient g of parameter x after the
 * transforms t (may be NULL), in double: (Σ|g|^p)^(1/p), max |g| for inf. */
cnn_status cnn_grad_norm(const cnn_tensor *x, const cnn_tensor *g,
                         const cnn_grad_transforms *t, double p, double *norm);

#endif

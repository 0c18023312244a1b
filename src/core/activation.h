/* Elementwise activations and unary maths on oneDNN's eltwise primitive,
 * forward and backward. Tensors must be contiguous; the shape does not
 * matter, only the element count.
 *
 * A new oneDNN eltwise function is a row here (the kind) and one in the
 * table of activation.c (its oneDNN algorithms); the bindings list it by
 * name. */
#ifndef CNN_ACTIVATION_H
#define CNN_ACTIVATION_H

#include <stdbool.h>

#include "context.h"
#include "plan.h"
#include "tensor.h"

typedef enum cnn_activation {
    CNN_ACTIVATION_RELU, /* alpha: slope for x < 0 (0 = relu, 0.01 = leakyrelu) */
    CNN_ACTIVATION_ELU,  /* alpha */
    CNN_ACTIVATION_SIGMOID,
    CNN_ACTIVATION_TANH,
    CNN_ACTIVATION_GELU, /* tanh approximation, as Flux's gelu */
    CNN_ACTIVATION_SOFTPLUS,
    CNN_ACTIVATION_EXP,
    CNN_ACTIVATION_LOG,
    CNN_ACTIVATION_SQRT,
    CNN_ACTIVATION_ABS,
    CNN_ACTIVATION_SQUARE,
    CNN_ACTIVATION_LINEAR,   /* alpha * x + beta */
    CNN_ACTIVATION_POW,      /* alpha * x ^ beta */
    CNN_ACTIVATION_HARDTANH, /* clamp(x, alpha, beta); gradient 1 inside */
    CNN_ACTIVATION_SWISH,    /* x * sigmoid(alpha * x) (alpha = 1: Flux's swish) */
    CNN_ACTIVATION_MISH,     /* x * tanh(softplus(x)) */
    CNN_ACTIVATION_COUNT
} cnn_activation;

/* "relu", "elu", ... ; NULL for an unknown kind. */
const char *cnn_activation_name(cnn_activation kind);

/* A planned activation: the checked operands' layout and the primitive
 * (NULL when none runs: no elements, or relu's own kernel). */
typedef struct cnn_activation_plan {
    cnn_activation kind;
    float alpha, beta;
    dnnl_memory_desc_t md; /* the op's layout: flat, or a blocked operand's */
    cnn_primitive *primitive;
    cnn_plan_output out; /* dst, or diff_src */
} cnn_activation_plan;

/* Plans dst = f(src), dst the sizes (and layout) of src. */
cnn_status cnn_activation_plan_forward(cnn_activation_plan *plan, cnn_activation kind,
                                       float alpha, float beta, const cnn_tensor *src);
/* Plans diff_src = f'(data) * diff_dst, data as
 * cnn_activation_backward_uses_dst says; diff_src is laid out as the
 * first blocked one of data and diff_dst. */
cnn_status cnn_activation_plan_backward(cnn_activation_plan *plan, cnn_activation kind,
                                        float alpha, float beta,
                                        const cnn_tensor *diff_dst,
                                        const cnn_tensor *data);
/* Runs a plan on the operands it was made for and a result allocated as
 * plan->out says. */
cnn_status cnn_activation_run_forward(const cnn_activation_plan *plan,
                                      const cnn_tensor *src, cnn_tensor *dst);
cnn_status cnn_activation_run_backward(const cnn_activation_plan *plan,
                                       const cnn_tensor *diff_dst, const cnn_tensor *data,
                                       cnn_tensor *diff_src);

/* Plan and run in one call, for a dst or diff_src the caller has: it is
 * checked against the operands, and may be in another layout. src and dst
 * may be the same tensor. Every function keeps NaN: f(NaN) is NaN, relu
 * included. */
cnn_status cnn_activation_forward(cnn_activation kind, float alpha, float beta,
                                  const cnn_tensor *src, cnn_tensor *dst);

/* Whether the backward of 'kind' works from the forward's output (dst)
 * rather than its input (src): then the autodiff keeps only the output. */
bool cnn_activation_backward_uses_dst(cnn_activation kind);

cnn_status cnn_activation_backward(cnn_activation kind, float alpha, float beta,
                                   const cnn_tensor *diff_dst, const cnn_tensor *data,
                                   cnn_tensor *diff_src);

#endif

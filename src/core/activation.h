/* Elementwise activations and unary maths on oneDNN's eltwise primitive,
 * forward and backward. Tensors must be contiguous; the shape does not
 * matter, only the element count. */
#ifndef CNN_ACTIVATION_H
#define CNN_ACTIVATION_H

#include <stdbool.h>

#include "tensor.h"

typedef enum cnn_activation {
    CNN_ACTIVATION_RELU,      /* alpha: slope for x < 0 (0 = relu, 0.01 = leakyrelu) */
    CNN_ACTIVATION_ELU,       /* alpha */
    CNN_ACTIVATION_SIGMOID,
    CNN_ACTIVATION_TANH,
    CNN_ACTIVATION_GELU,      /* tanh approximation, as Flux's gelu */
    CNN_ACTIVATION_SOFTPLUS,
    CNN_ACTIVATION_EXP,
    CNN_ACTIVATION_LOG,
    CNN_ACTIVATION_SQRT,
    CNN_ACTIVATION_ABS,
    CNN_ACTIVATION_SQUARE,
    CNN_ACTIVATION_LINEAR,    /* alpha * x + beta */
    CNN_ACTIVATION_POW,       /* alpha * x ^ beta */
    CNN_ACTIVATION_COUNT
} cnn_activation;

/* "relu", "elu", ... ; NULL for an unknown kind. */
const char *cnn_activation_name(cnn_activation kind);

/* The layout of a result of an op on a and b (b may be NULL): the first
 * blocked one's, else plain. */
cnn_status cnn_activation_layout(const cnn_tensor *a, const cnn_tensor *b,
                              dnnl_memory_desc_t *md);

/* dst = f(src). src and dst may be the same tensor. Every function keeps
 * NaN: f(NaN) is NaN, relu included. */
cnn_status cnn_activation_forward(cnn_activation kind, float alpha, float beta,
                               const cnn_tensor *src, cnn_tensor *dst);

/* Whether the backward of 'kind' works from the forward's output (dst)
 * rather than its input (src): then the autodiff keeps only the output. */
bool cnn_activation_backward_uses_dst(cnn_activation kind);

/* diff_src = f'(data) * diff_dst, where data is dst or src as
 * cnn_activation_backward_uses_dst says. */
cnn_status cnn_activation_backward(cnn_activation kind, float alpha, float beta,
                                const cnn_tensor *diff_dst,
                                const cnn_tensor *data, cnn_tensor *diff_src);

#endif

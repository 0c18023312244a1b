/* Elementwise activations and unary maths on oneDNN's eltwise primitive,
 * forward and backward. Tensors must be contiguous; the shape does not
 * matter, only the element count. */
#ifndef CNN_ELTWISE_H
#define CNN_ELTWISE_H

#include <stdbool.h>

#include "tensor.h"

typedef enum cnn_eltwise {
    CNN_ELTWISE_RELU,      /* alpha: slope for x < 0 (0 = relu, 0.01 = leakyrelu) */
    CNN_ELTWISE_ELU,       /* alpha */
    CNN_ELTWISE_SIGMOID,
    CNN_ELTWISE_TANH,
    CNN_ELTWISE_GELU,      /* tanh approximation, as Flux's gelu */
    CNN_ELTWISE_SOFTPLUS,
    CNN_ELTWISE_EXP,
    CNN_ELTWISE_LOG,
    CNN_ELTWISE_SQRT,
    CNN_ELTWISE_ABS,
    CNN_ELTWISE_SQUARE,
    CNN_ELTWISE_LINEAR,    /* alpha * x + beta */
    CNN_ELTWISE_POW,       /* alpha * x ^ beta */
    CNN_ELTWISE_COUNT
} cnn_eltwise;

/* "relu", "elu", ... ; NULL for an unknown kind. */
const char *cnn_eltwise_name(cnn_eltwise kind);

/* The layout of a result of an op on a and b (b may be NULL): the first
 * blocked one's, else plain. */
cnn_status cnn_eltwise_layout(const cnn_tensor *a, const cnn_tensor *b,
                              dnnl_memory_desc_t *md);

/* dst = f(src). src and dst may be the same tensor. Every function keeps
 * NaN: f(NaN) is NaN, relu included. */
cnn_status cnn_eltwise_forward(cnn_eltwise kind, float alpha, float beta,
                               const cnn_tensor *src, cnn_tensor *dst);

/* Whether the backward of 'kind' works from the forward's output (dst)
 * rather than its input (src): then the autodiff keeps only the output. */
bool cnn_eltwise_backward_uses_dst(cnn_eltwise kind);

/* diff_src = f'(data) * diff_dst, where data is dst or src as
 * cnn_eltwise_backward_uses_dst says. */
cnn_status cnn_eltwise_backward(cnn_eltwise kind, float alpha, float beta,
                                const cnn_tensor *diff_dst,
                                const cnn_tensor *data, cnn_tensor *diff_src);

#endif

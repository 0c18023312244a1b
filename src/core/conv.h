/* 2-D convolution (cross-correlation, as oneDNN and PyTorch) on oneDNN,
 * forward and backward.
 *
 * Layouts: input W×H×Cin×N (oneDNN nchw), weight kW×kH×(Cin/groups)×Cout
 * (oihw, or goihw with groups), bias Cout, output W'×H'×Cout×N. With
 * groups g the channels split into g groups, each output channel seeing
 * only the Cin/g input channels of its group (output channels j·Cout/g
 * to (j+1)·Cout/g - 1 see inputs j·Cin/g to (j+1)·Cin/g - 1, as Flux and
 * PyTorch); g = Cin is the depthwise convolution. Tensors are contiguous Float32. Every
 * function checks its operands first; the cnn_conv2d_check_* functions do
 * only that (no oneDNN object is created). A binding plans the op, which
 * checks, sizes the results and finds the primitive, allocates the results
 * as the plan says and runs it. */
#ifndef CNN_CONV_H
#define CNN_CONV_H

#include <stdbool.h>

#include "context.h"
#include "plan.h"
#include "tensor.h"

/* The activation fused into a convolution's forward as a post-op (its
 * backward, cnn.ops' conv2d, works from the output). */
typedef enum cnn_conv_activation {
    CNN_CONV_IDENTITY = 0,
    CNN_CONV_RELU,
    CNN_CONV_TANH,
    CNN_CONV_SIGMOID,
} cnn_conv_activation;

typedef struct cnn_conv2d_params {
    int64_t stride[2];              /* W, H */
    int64_t pad[4];                 /* w_lo, w_hi, h_lo, h_hi */
    int64_t dilation[2];            /* 1 = none */
    int64_t groups;                 /* >= 1, dividing Cin and Cout; 1 = none */
    cnn_conv_activation activation; /* fused into the forward */
    bool inference;                 /* no backward follows: oneDNN's forward_inference */
} cnn_conv2d_params;

/* Stride 1, no padding, no dilation, one group, no activation. */
cnn_conv2d_params cnn_conv2d_default_params(void);

/* Whether oneDNN has a convolution in precision p for this CPU: bf16
 * needs AVX-512 (oneDNN 2.6 has no bf16 convolution below it). Asked of
 * oneDNN once per precision. */
bool cnn_conv2d_precision_supported(cnn_precision p);

/* Output sizes of input sizes x and weight sizes w (both 4-D): the shape
 * rules (Cin and Cout divisible by groups, the weight's third size
 * Cin/groups) and the window's. */
cnn_status cnn_conv2d_output_size(const cnn_conv2d_params *p, int x_ndims,
                                  const int64_t *x, int w_ndims, const int64_t *w,
                                  int64_t y[4]);

cnn_status cnn_conv2d_check_forward(const cnn_conv2d_params *p, const cnn_tensor *x,
                                    const cnn_tensor *w, const cnn_tensor *b,
                                    int64_t y[4]);
cnn_status cnn_conv2d_check_backward_data(const cnn_conv2d_params *p,
                                          const cnn_tensor *gy, const cnn_tensor *w,
                                          int x_ndims, const int64_t *x);
cnn_status cnn_conv2d_check_backward_weights(const cnn_conv2d_params *p,
                                             const cnn_tensor *gy, const cnn_tensor *x,
                                             int w_ndims, const int64_t *w);

/* A planned convolution: the checked sizes and the primitive. Results are
 * allocated as out[] says (y; gx; gw and gb): the forward output and the
 * input gradient in the convolution's own (blocked) layout, so that it
 * writes them without a reorder. */
typedef struct cnn_conv2d_plan {
    cnn_conv2d_params params;
    int64_t x[4], w[4];
    bool bias;
    bool empty; /* an operand without elements: results are zeroed */
    cnn_primitive *primitive;
    cnn_plan_output out[2];
} cnn_conv2d_plan;

cnn_status cnn_conv2d_plan_forward(cnn_conv2d_plan *plan, const cnn_conv2d_params *p,
                                   const cnn_tensor *x, const cnn_tensor *w,
                                   const cnn_tensor *b);
cnn_status cnn_conv2d_run_forward(const cnn_conv2d_plan *plan, const cnn_tensor *x,
                                  const cnn_tensor *w, const cnn_tensor *b,
                                  cnn_tensor *y);
cnn_status cnn_conv2d_plan_backward_data(cnn_conv2d_plan *plan,
                                         const cnn_conv2d_params *p, const cnn_tensor *gy,
                                         const cnn_tensor *w, int x_ndims,
                                         const int64_t *x);
cnn_status cnn_conv2d_run_backward_data(const cnn_conv2d_plan *plan, const cnn_tensor *gy,
                                        const cnn_tensor *w, cnn_tensor *gx);
cnn_status cnn_conv2d_plan_backward_weights(cnn_conv2d_plan *plan,
                                            const cnn_conv2d_params *p,
                                            const cnn_tensor *gy, const cnn_tensor *x,
                                            int w_ndims, const int64_t *w, bool bias);
cnn_status cnn_conv2d_run_backward_weights(const cnn_conv2d_plan *plan,
                                           const cnn_tensor *gy, const cnn_tensor *x,
                                           cnn_tensor *gw, cnn_tensor *gb);

/* Plan and run in one call, on results the caller has (checked against the
 * plan; they may be in any layout). */
/* y = act(conv(x, w) + b); b may be NULL. */
cnn_status cnn_conv2d_forward(const cnn_conv2d_params *p, const cnn_tensor *x,
                              const cnn_tensor *w, const cnn_tensor *b, cnn_tensor *y);

/* gx from gy (the gradient of the output before the activation: the
 * caller applies the activation's backward first). */
cnn_status cnn_conv2d_backward_data(const cnn_conv2d_params *p, const cnn_tensor *gy,
                                    const cnn_tensor *w, cnn_tensor *gx);

/* gw (and gb unless NULL) from gy and the forward input x. */
cnn_status cnn_conv2d_backward_weights(const cnn_conv2d_params *p, const cnn_tensor *gy,
                                       const cnn_tensor *x, cnn_tensor *gw,
                                       cnn_tensor *gb);

#endif

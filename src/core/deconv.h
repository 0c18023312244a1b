/* 2-D transposed convolution ("deconvolution", the gradient of a
 * convolution with respect to its input, as Flux's ConvTranspose and
 * PyTorch's ConvTranspose2d) on oneDNN, forward and backward.
 *
 * Layouts: input W×H×Cin×N, weight kW×kH×(Cout/groups)×Cin (Flux's:
 * output channels before input channels), bias Cout, output
 * W'×H'×Cout×N with, per dimension,
 *
 *     W' = (W - 1)·stride - pad_lo - pad_hi + dilation·(kW - 1) + 1 + outpad
 *
 * Reversed, the weight's sizes are Cin×(Cout/g)×kH×kW: PyTorch's
 * ConvTranspose2d weight, byte for byte, and oneDNN's iohw (giohw with
 * groups) deconvolution weights. With groups g, output channels
 * j·Cout/g to (j+1)·Cout/g - 1 see only input channels j·Cin/g to
 * (j+1)·Cin/g - 1, as in Flux and PyTorch. Tensors are contiguous
 * Float32; the input and the forward output may be blocked. The
 * plan/run structure is conv.h's. */
#ifndef CNN_DECONV_H
#define CNN_DECONV_H

#include <stdbool.h>

#include "context.h"
#include "plan.h"
#include "tensor.h"

typedef struct cnn_deconv2d_params {
    int64_t stride[2];   /* W, H; >= 1 */
    int64_t pad[4];      /* w_lo, w_hi, h_lo, h_hi; >= 0 */
    int64_t dilation[2]; /* 1 = none */
    int64_t outpad[2];   /* added on the high side; below stride or dilation */
    int64_t groups;      /* >= 1, dividing Cin and Cout; 1 = none */
    bool relu;           /* relu fused into the forward as a post-op */
    bool inference;      /* no backward follows: oneDNN's forward_inference */
} cnn_deconv2d_params;

/* Stride 1, no padding, no dilation, no output padding, one group. */
cnn_deconv2d_params cnn_deconv2d_default_params(void);

/* Output sizes of input sizes x and weight sizes w (both 4-D). */
cnn_status cnn_deconv2d_output_size(const cnn_deconv2d_params *p, int x_ndims,
                                    const int64_t *x, int w_ndims, const int64_t *w,
                                    int64_t y[4]);

/* A planned transposed convolution: the checked sizes and the primitive.
 * Results are allocated as out[] says (y; gx; gw and gb). */
typedef struct cnn_deconv2d_plan {
    cnn_deconv2d_params params;
    int64_t x[4], w[4];
    bool bias;
    bool empty; /* an operand without elements: results are zeroed */
    cnn_primitive *primitive;
    cnn_plan_output out[2];
} cnn_deconv2d_plan;

cnn_status cnn_deconv2d_plan_forward(cnn_deconv2d_plan *plan,
                                     const cnn_deconv2d_params *p, const cnn_tensor *x,
                                     const cnn_tensor *w, const cnn_tensor *b);
cnn_status cnn_deconv2d_run_forward(const cnn_deconv2d_plan *plan, const cnn_tensor *x,
                                    const cnn_tensor *w, const cnn_tensor *b,
                                    cnn_tensor *y);
cnn_status cnn_deconv2d_plan_backward_data(cnn_deconv2d_plan *plan,
                                           const cnn_deconv2d_params *p,
                                           const cnn_tensor *gy, const cnn_tensor *w,
                                           int x_ndims, const int64_t *x);
cnn_status cnn_deconv2d_run_backward_data(const cnn_deconv2d_plan *plan,
                                          const cnn_tensor *gy, const cnn_tensor *w,
                                          cnn_tensor *gx);
cnn_status cnn_deconv2d_plan_backward_weights(cnn_deconv2d_plan *plan,
                                              const cnn_deconv2d_params *p,
                                              const cnn_tensor *gy, const cnn_tensor *x,
                                              int w_ndims, const int64_t *w, bool bias);
cnn_status cnn_deconv2d_run_backward_weights(const cnn_deconv2d_plan *plan,
                                             const cnn_tensor *gy, const cnn_tensor *x,
                                             cnn_tensor *gw, cnn_tensor *gb);

/* Plan and run in one call, on plain results the caller has. */
/* y = act(deconv(x, w) + b); b may be NULL. */
cnn_status cnn_deconv2d_forward(const cnn_deconv2d_params *p, const cnn_tensor *x,
                                const cnn_tensor *w, const cnn_tensor *b, cnn_tensor *y);
/* gx from gy (the gradient before the activation). */
cnn_status cnn_deconv2d_backward_data(const cnn_deconv2d_params *p, const cnn_tensor *gy,
                                      const cnn_tensor *w, cnn_tensor *gx);
/* gw (and gb unless NULL) from gy and the forward input x. */
cnn_status cnn_deconv2d_backward_weights(const cnn_deconv2d_params *p,
                                         const cnn_tensor *gy, const cnn_tensor *x,
                                         cnn_tensor *gw, cnn_tensor *gb);

#endif

/* 2-D convolution (cross-correlation, as oneDNN and PyTorch) on oneDNN,
 * forward and backward.
 *
 * Layouts: input W×H×Cin×N (oneDNN nchw), weight kW×kH×Cin×Cout (oihw),
 * bias Cout, output W'×H'×Cout×N. Tensors are contiguous Float32. Every
 * function checks its operands first; the cnn_conv2d_check_* functions do
 * only that (no oneDNN object is created), so a binding can reject bad
 * input before it allocates anything. */
#ifndef CNN_CONV_H
#define CNN_CONV_H

#include <stdbool.h>

#include "tensor.h"

typedef struct cnn_conv2d_params {
    int64_t stride[2];   /* W, H */
    int64_t pad[4];      /* w_lo, w_hi, h_lo, h_hi */
    int64_t dilation[2]; /* 1 = none */
    bool relu;           /* relu fused into the forward as a post-op */
    bool inference;      /* no backward follows: oneDNN's forward_inference */
} cnn_conv2d_params;

/* Stride 1, no padding, no dilation, no activation. */
cnn_conv2d_params cnn_conv2d_default_params(void);

/* Output sizes of input sizes x and weight sizes w (both 4-D). */
cnn_status cnn_conv2d_output_size(const cnn_conv2d_params *p, int x_ndims,
                                  const int64_t *x, int w_ndims,
                                  const int64_t *w, int64_t y[4]);

cnn_status cnn_conv2d_check_forward(const cnn_conv2d_params *p,
                                    const cnn_tensor *x, const cnn_tensor *w,
                                    const cnn_tensor *b, int64_t y[4]);
cnn_status cnn_conv2d_check_backward_data(const cnn_conv2d_params *p,
                                          const cnn_tensor *gy,
                                          const cnn_tensor *w, int x_ndims,
                                          const int64_t *x);
cnn_status cnn_conv2d_check_backward_weights(const cnn_conv2d_params *p,
                                             const cnn_tensor *gy,
                                             const cnn_tensor *x, int w_ndims,
                                             const int64_t *w);

/* The layouts the convolution writes its results in, its own (blocked)
 * choice: a tensor made with it takes the result without a reorder. The
 * operands must have passed the checks above. */
cnn_status cnn_conv2d_forward_layout(const cnn_conv2d_params *p,
                                     const cnn_tensor *x, const cnn_tensor *w,
                                     const cnn_tensor *b, dnnl_memory_desc_t *y);
cnn_status cnn_conv2d_backward_data_layout(const cnn_conv2d_params *p,
                                           const cnn_tensor *w, const int64_t *x,
                                           dnnl_memory_desc_t *gx);

/* y = act(conv(x, w) + b); b may be NULL. */
cnn_status cnn_conv2d_forward(const cnn_conv2d_params *p, const cnn_tensor *x,
                              const cnn_tensor *w, const cnn_tensor *b,
                              cnn_tensor *y);

/* gx from gy (the gradient of the output before the activation: the
 * caller applies the activation's backward first). */
cnn_status cnn_conv2d_backward_data(const cnn_conv2d_params *p,
                                    const cnn_tensor *gy, const cnn_tensor *w,
                                    cnn_tensor *gx);

/* gw (and gb unless NULL) from gy and the forward input x. */
cnn_status cnn_conv2d_backward_weights(const cnn_conv2d_params *p,
                                       const cnn_tensor *gy,
                                       const cnn_tensor *x, cnn_tensor *gw,
                                       cnn_tensor *gb);

#endif

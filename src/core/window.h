/* The geometry of a sliding window (convolution and pooling): one home for
 * the rule that gives an output size from an input, a kernel, strides,
 * pads and dilations. */
#ifndef CNN_WINDOW_H
#define CNN_WINDOW_H

#include <oneapi/dnnl/dnnl.h>
#include <stdint.h>

#include "status.h"

/* Spatial parameters of a sliding window (convolution or pooling), per
 * dimension in tensor order: index 0 is W, 1 is H. */
typedef struct cnn_window {
    int64_t kernel[2];
    int64_t stride[2];   /* >= 1 */
    int64_t pad[4];      /* w_lo, w_hi, h_lo, h_hi; >= 0 */
    int64_t dilation[2]; /* >= 1; 1 = none */
} cnn_window;

/* Checks strides, pads and dilations and computes the output W and H:
 * out = floor((in + lo + hi - dilation*(k-1) - 1) / stride) + 1.
 * A window larger than the padded input fails naming both. */
cnn_status cnn_window_output(const cnn_window *w, const int64_t in[2], int64_t out[2]);

/* oneDNN's spatial arrays (H first) for a window. */
void cnn_window_dnnl(const cnn_window *w, dnnl_dims_t strides, dnnl_dims_t kernel,
                     dnnl_dims_t dilates, dnnl_dims_t pad_l, dnnl_dims_t pad_r);

#endif

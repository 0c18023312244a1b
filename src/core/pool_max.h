/* Max pooling that keeps NaN, forward and backward.
 *
 * oneDNN's max pooling keeps a running maximum with "greater than", which
 * is false for NaN: it skips a NaN, and a window of NaN alone gives
 * -FLT_MAX, so a NaN activation vanished without a trace. Here a window
 * that holds a NaN gives NaN and sends its gradient to the first NaN, as
 * PyTorch does.
 *
 * The kernels take the layouts the core hands to pooling: plain ones (any
 * order of n, c, h, w) and oneDNN's layouts that block the channels alone
 * (nChw8c, nChw16c), as a convolution picks them. The innermost loop runs
 * over channels stored next to each other (a block, or all channels of
 * nhwc, the layout of an inference convolution's result), else over the
 * outputs of a row. The workspace holds, per
 * element of the output's buffer, the position of its maximum in the window
 * (kh * window width + kw): one byte when the window has at most 256
 * positions, else four. */
#ifndef CNN_POOL_MAX_H
#define CNN_POOL_MAX_H

#include <stdbool.h>
#include <stddef.h>

#include "pool.h"

/* Bytes of one workspace entry for the window of p (1 or 4). */
size_t cnn_max_pool_index_size(const cnn_pool2d_params *p);

/* Elements of the buffer of a tensor in layout md, padding included. */
int64_t cnn_max_pool_buffer_elements(const dnnl_memory_desc_t *md);

/* Fails, naming the op, unless the kernels can read an input in layout x
 * and write an output in layout y (both 4-D, the same channel blocking). */
cnn_status cnn_max_pool_check_layouts(const dnnl_memory_desc_t *x,
                                      const dnnl_memory_desc_t *y, const char *op);

/* y = maxpool(x) for layouts checked above; ws (NULL when no backward
 * follows) receives the positions of the maxima. */
cnn_status cnn_max_pool_run_forward(const cnn_pool2d_params *p,
                                    const dnnl_memory_desc_t *xmd, const float *x,
                                    const dnnl_memory_desc_t *ymd, float *y, void *ws);

/* gx = gy sent back to the maxima that ws recorded (gx zeroed first); gy
 * in the forward output's layout ymd, gx in the input's xmd. */
void cnn_max_pool_run_backward(const cnn_pool2d_params *p, const dnnl_memory_desc_t *ymd,
                               const float *gy, const void *ws,
                               const dnnl_memory_desc_t *xmd, float *gx);

#endif

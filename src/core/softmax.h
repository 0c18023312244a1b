/* Softmax and log-softmax over the first (fastest) dimension, as Flux's
 * softmax(x; dims=1) on classes×N, forward and backward (oneDNN softmax
 * v2, accurate or log). */
#ifndef CNN_SOFTMAX_H
#define CNN_SOFTMAX_H

#include <stdbool.h>

#include "tensor.h"

cnn_status cnn_softmax_check(const cnn_tensor *x);
/* y and x have the same sizes (y may be x). */
cnn_status cnn_softmax_forward(const cnn_tensor *x, bool log, cnn_tensor *y);
/* gx from the forward's output y and gy (gx may be gy). */
cnn_status cnn_softmax_backward(const cnn_tensor *gy, const cnn_tensor *y,
                                bool log, cnn_tensor *gx);

#endif

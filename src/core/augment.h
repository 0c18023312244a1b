/* Data augmentation over a whole batch of images (W×H×C×N, contiguous
 * Float32): random crops with zero padding, random shifts, horizontal
 * flips and per-channel normalisation, OpenMP-parallel over the samples
 * of batches of 2^20 elements or more.
 *
 * The random choices come from the library's generator (random.h): each
 * call claims a fixed number of draws per sample, so cnn.seed makes a run
 * reproducible whatever the thread count. 'x' and 'y' are distinct
 * tensors for the crop; the flip and the normalisation may run in place
 * (y == x). */
#ifndef CNN_AUGMENT_H
#define CNN_AUGMENT_H

#include <stdint.h>

#include "status.h"
#include "tensor.h"

/* y[i, j, c, n] = x[i + ox - pad, j + oy - pad, c, n], zero outside x,
 * with the offsets ox in [0, W + 2·pad - cw] and oy in [0, H + 2·pad - ch]
 * drawn per sample, (cw, ch) being y's first two sizes. Fails when the
 * crop is larger than the padded image or the sizes do not fit. */
cnn_status cnn_augment_crop(const cnn_tensor *x, int64_t pad, cnn_tensor *y);

/* y = x mirrored along its first dimension (W), for each sample with
 * probability p (0 <= p <= 1); the other samples are copied. */
cnn_status cnn_augment_flip(const cnn_tensor *x, double p, cnn_tensor *y);

/* y[.., c, n] = (x[.., c, n] - mean[c]) / std[c] for the C channels
 * (x's third size); every std[c] must be positive. */
cnn_status cnn_augment_normalize(const cnn_tensor *x, const float *mean, const float *std,
                                 int64_t channels, cnn_tensor *y);

#endif

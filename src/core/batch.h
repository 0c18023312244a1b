/* Labels and batches: one-hot encoding, decoding, and gathering the
 * observations of a batch along the last dimension.
 *
 * Indices here follow the Lua API where they come from Lua: label indices
 * and gathered positions are 1-based unless a function says otherwise. */
#ifndef CNN_BATCH_H
#define CNN_BATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "status.h"
#include "tensor.h"

/* out[:, j...] = one-hot of labels[j...] over labelset (k values): a 1 in
 * the row of the first labelset entry equal to the label. 'labels' is an
 * Int32 tensor of any shape; 'out' a contiguous Float32 tensor of sizes
 * {k, labels' sizes...}. A label outside the set fails with
 * "label 12 is not in the label set {0, 1, ..., 9}". */
cnn_status cnn_onehotbatch(const cnn_tensor *labels, const int32_t *labelset, int64_t k,
                           cnn_tensor *out);

/* For every column of y (Float32, classes along dimension 1) the 1-based
 * row of its first maximum, or labelset[row] when labelset is given (it
 * must have y's size(1) entries). 'out' is a contiguous Int32 tensor of
 * numel(y) / size(y, 1) elements. */
cnn_status cnn_onecold(const cnn_tensor *y, const int32_t *labelset, cnn_tensor *out);

/* Copies the slices src[..., indices[first + j]] (last dimension, indices
 * counted from 'base') into out[..., j] for j < count. 'indices' is a 1-D
 * Int32 tensor, 'first' 0-based; 'out' is contiguous, of src's type, with
 * src's sizes except count in the last dimension. OpenMP-parallel. */
cnn_status cnn_gather(const cnn_tensor *src, const cnn_tensor *indices, int64_t first,
                      int64_t count, int base, cnn_tensor *out);

/* Writes 1..n into out, shuffled uniformly (Fisher-Yates) from 'seed'
 * when 'shuffle', in order otherwise. The same seed gives the same order
 * on every machine. */
cnn_status cnn_permutation(int32_t *out, int64_t n, uint64_t seed, bool shuffle);

/* Writes the label set as "{0, 1, ..., 9}" (runs of consecutive integers
 * abbreviated, long sets elided) into buf. */
const char *cnn_labelset_string(const int32_t *labelset, int64_t k, char *buf,
                                size_t len);

#endif

/* Matrix products and transposes of column-major Float32 matrices, on
 * oneDNN's sgemm. A 1-D tensor of length m is an m×1 matrix, as a Julia
 * vector is. */
#ifndef CNN_MATMUL_H
#define CNN_MATMUL_H

#include "tensor.h"

/* Sizes of a*b: m×n, or m when b is 1-D. Fails with "sizes 2×3 and 4×5 do
 * not match (inner dimensions 3 and 4)" or on tensors that are not 1-D or
 * 2-D Float32. */
cnn_status cnn_matmul_sizes(const cnn_tensor *a, const cnn_tensor *b, int *ndims,
                            int64_t *size);

/* out = a * b. a and b may be strided views (a transposed view is used as
 * it is); out is contiguous with the sizes cnn_matmul_sizes gives and may
 * not share storage with a or b. */
cnn_status cnn_matmul(const cnn_tensor *a, const cnn_tensor *b, cnn_tensor *out);

/* Sizes of the transpose of a 2-D tensor (n×m) or of a 1-D one (1×m). */
cnn_status cnn_transpose_sizes(const cnn_tensor *a, int *ndims, int64_t *size);

/* out = the transpose of a, copied. */
cnn_status cnn_transpose(const cnn_tensor *a, cnn_tensor *out);

#endif

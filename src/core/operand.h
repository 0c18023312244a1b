/* Checks and fills shared by the layer ops on their tensor operands. */
#ifndef CNN_OPERAND_H
#define CNN_OPERAND_H

#include <stdbool.h>

#include "tensor.h"

/* Fails unless t is a contiguous Float32 tensor with 'ndims' dimensions
 * ('ndims' 0: any). 'what' names it ("input", "weight"). */
cnn_status cnn_check_operand(const cnn_tensor *t, const char *what, int ndims,
                             const char *layout);

/* Fails unless the gradient gy is 4-D of sizes y, the output 'from'
 * ("of input 28×28×1×4 and weight 3×3×1×16") of the op has. */
cnn_status cnn_check_gradient4(const cnn_tensor *gy, const int64_t y[4],
                               const char *from);

/* Whether any of three 4-D sizes (input, weight, output) is zero: an op
 * with nothing to compute. */
bool cnn_any_empty4(const int64_t *a, const int64_t *b, const int64_t *c);

/* Zeroes the outputs of an op with nothing to compute (an empty batch). */
void cnn_zero_outputs(cnn_tensor *a, cnn_tensor *b, cnn_tensor *c);

#endif

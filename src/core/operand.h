/* Checks and fills shared by the layer ops on their tensor operands. */
#ifndef CNN_OPERAND_H
#define CNN_OPERAND_H

#include "tensor.h"

/* Fails unless t is a contiguous Float32 tensor with 'ndims' dimensions
 * ('ndims' 0: any). 'what' names it ("input", "weight"). */
cnn_status cnn_check_operand(const cnn_tensor *t, const char *what, int ndims,
                             const char *layout);

/* Zeroes the outputs of an op with nothing to compute (an empty batch). */
void cnn_zero_outputs(cnn_tensor *a, cnn_tensor *b, cnn_tensor *c);

#endif

/* Embedding lookups, forward and backward, in C: Flux's Embedding.
 *
 * The weight is out×in, one column per entry; indices are an Int32 tensor
 * of any sizes holding 1-based entry numbers, as Lua and Julia count. The
 * forward gives out×(the indices' sizes), column k the weight's column
 * indices[k]; the backward adds each gradient column into the column of
 * its index (an entry used twice gets both). */
#ifndef CNN_EMBEDDING_H
#define CNN_EMBEDDING_H

#include "plan.h"
#include "tensor.h"

/* Checks the operands: w a 2-D Float32 tensor, indices Int32 with fewer
 * than CNN_MAX_DIMS dimensions, every index in 1..(w's columns); the
 * message of a bad index names it and its position. */
cnn_status cnn_embedding_check(const cnn_tensor *w, const cnn_tensor *indices);

/* y, out×(the indices' sizes), for the checked operands. */
void cnn_embedding_output_size(const cnn_tensor *w, const cnn_tensor *indices,
                               cnn_plan_output *y);

/* y = w[:, indices]; y has the size cnn_embedding_output_size gives. */
cnn_status cnn_embedding_forward(const cnn_tensor *w, const cnn_tensor *indices,
                                 cnn_tensor *y);

/* gw (out×in, overwritten) from gy (out×(the indices' sizes)). */
cnn_status cnn_embedding_backward(const cnn_tensor *gy, const cnn_tensor *indices,
                                  cnn_tensor *gw);

#endif

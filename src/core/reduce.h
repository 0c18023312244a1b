/* Reductions: sum, mean, maximum, minimum and their positions, over a
 * whole tensor or along dimensions, any strides.
 *
 * As in Julia, a reduction along a dimension keeps it with size 1, sums of
 * nothing are 0, means of nothing NaN, and maxima of nothing an error. A NaN
 * is the maximum and the minimum of anything that contains it. Sums
 * accumulate in double, so a Float32 sum of millions of elements is exact
 * to Float32 precision. Work splits over OpenMP threads in a fixed order,
 * so results depend only on the thread count. */
#ifndef CNN_REDUCE_H
#define CNN_REDUCE_H

#include "tensor.h"

typedef enum cnn_reduce_op {
    CNN_REDUCE_SUM,
    CNN_REDUCE_MEAN,
    CNN_REDUCE_MAXIMUM, /* Julia's maximum; the elementwise max is CNN_BINARY_MAX */
    CNN_REDUCE_MINIMUM,
    CNN_REDUCE_COUNT
} cnn_reduce_op;

typedef enum cnn_arg_op {
    CNN_ARGMAX,
    CNN_ARGMIN,
} cnn_arg_op;

/* Int32 stays Int32 except for the mean, which is Float32. */
cnn_dtype cnn_reduce_result_dtype(cnn_reduce_op op, cnn_dtype dtype);

/* The reduction of all elements. Float32 results are rounded to Float32;
 * Int32 sums are exact (up to 2^53). Max and min of an empty tensor fail
 * with "empty tensor". */
cnn_status cnn_reduce_all(cnn_reduce_op op, const cnn_tensor *t, double *result);

/* Sizes of a reduction of t along 0-based dimension 'dim': t's sizes with
 * that one set to 1 (a dimension past the last leaves the sizes as they
 * are). */
void cnn_reduce_dim_sizes(const cnn_tensor *t, int dim, int *ndims, int64_t *size);

/* out = the reduction of t along 'dim' (0-based); out is contiguous, of the
 * sizes cnn_reduce_dim_sizes gives and the type cnn_reduce_result_dtype
 * gives. */
cnn_status cnn_reduce_dim(cnn_reduce_op op, const cnn_tensor *t, int dim,
                          cnn_tensor *out);

/* Reduces t over every dimension where out has size 1 and t does not: the
 * reverse of broadcasting out to t's sizes. out is contiguous; each of its
 * sizes is t's or 1 (missing dimensions count as 1). */
cnn_status cnn_reduce_to(cnn_reduce_op op, const cnn_tensor *t, cnn_tensor *out);

/* cnn_reduce_to with the sum: the gradient of a broadcast operand. */
cnn_status cnn_sum_to(const cnn_tensor *t, cnn_tensor *out);

/* The 0-based column-major linear index of the first maximum (minimum);
 * fails on an empty tensor. */
cnn_status cnn_argreduce_all(cnn_arg_op op, const cnn_tensor *t, int64_t *index);

/* out (Int32, contiguous, sizes from cnn_reduce_dim_sizes) = the index
 * along 'dim' of the first maximum (minimum), plus 'base' (1 gives Julia's
 * 1-based indices). */
cnn_status cnn_argreduce_dim(cnn_arg_op op, const cnn_tensor *t, int dim, int32_t base,
                             cnn_tensor *out);

#endif

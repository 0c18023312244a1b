/* Elementwise algebra with Julia broadcasting: binary arithmetic,
 * comparisons and unary maths on tensors of any strides.
 *
 * Broadcasting compares sizes dimension by dimension (missing trailing
 * dimensions have size 1); each pair must be equal or contain a 1, and the
 * result takes the other size. A scalar is a 0-dim tensor.
 *
 * Element types: Int32 with Int32 stays Int32 for + - * ^ max min (wrapping
 * on overflow, as Julia's integers do); / gives Float32 as in Julia; any
 * Float32 operand makes the result Float32; comparisons give a Float32 mask
 * of 0 and 1.
 *
 * Every function accepts an output that aliases an input: inputs that share
 * the output's storage with a different layout are copied first. */
#ifndef CNN_BROADCAST_H
#define CNN_BROADCAST_H

#include <stdbool.h>

#include "tensor.h"

typedef enum cnn_binary_op {
    CNN_BINARY_ADD,
    CNN_BINARY_SUB,
    CNN_BINARY_MUL,
    CNN_BINARY_DIV,
    CNN_BINARY_POW,
    CNN_BINARY_MAX, /* NaN wins, as Julia's max */
    CNN_BINARY_MIN,
    CNN_BINARY_EQ,
    CNN_BINARY_NE,
    CNN_BINARY_LT,
    CNN_BINARY_LE,
    CNN_BINARY_GT,
    CNN_BINARY_GE,
    CNN_BINARY_COUNT
} cnn_binary_op;

typedef enum cnn_unary_op {
    CNN_UNARY_NEG,
    CNN_UNARY_EXP,
    CNN_UNARY_LOG,
    CNN_UNARY_SQRT,
    CNN_UNARY_ABS,
    CNN_UNARY_RELU,
    CNN_UNARY_SIGMOID,
    CNN_UNARY_TANH,
    CNN_UNARY_COUNT
} cnn_unary_op;

/* Sizes of the broadcast of a and b; fails with "sizes 2×3 and 4×3 do not
 * broadcast". *ndims is the larger of the two ndims. */
cnn_status cnn_broadcast_sizes(const cnn_tensor *a, const cnn_tensor *b, int *ndims,
                               int64_t *size);

cnn_dtype cnn_binary_result_dtype(cnn_binary_op op, cnn_dtype a, cnn_dtype b);
cnn_dtype cnn_unary_result_dtype(cnn_unary_op op, cnn_dtype x);

/* out = a op b, broadcasting. out must have the broadcast sizes (trailing
 * dimensions of size 1 aside) and the result element type. */
cnn_status cnn_binary(cnn_binary_op op, const cnn_tensor *a, const cnn_tensor *b,
                      cnn_tensor *out);

/* Whether a op b can run on the two buffers as they are: both blocked in
 * one layout, of the same sizes, and op one that keeps the layout's zero
 * padding zero (+ - * max min). */
bool cnn_binary_keeps_layout(cnn_binary_op op, const cnn_tensor *a, const cnn_tensor *b);

/* out = a op b elementwise on the buffers, out in the layout of a and b
 * (cnn_binary_keeps_layout of all three): a residual addition of two
 * convolution outputs needs no conversion to plain. */
cnn_status cnn_binary_in_layout(cnn_binary_op op, const cnn_tensor *a,
                                const cnn_tensor *b, cnn_tensor *out);

/* out = f(x); out has x's sizes and the result element type. Contiguous
 * Float32 goes through oneDNN's eltwise primitive. */
cnn_status cnn_unary(cnn_unary_op op, const cnn_tensor *x, cnn_tensor *out);

/* Same sizes (ndims included) and numerically equal elements; NaN equals
 * nothing. Element types may differ. */
bool cnn_tensor_equal(const cnn_tensor *a, const cnn_tensor *b);

/* Whether every pair satisfies x == y or, both finite,
 * |x - y| <= max(atol, rtol * max(|x|, |y|)) (Julia's isapprox, applied
 * elementwise). Fails when the sizes differ. */
cnn_status cnn_isapprox(const cnn_tensor *a, const cnn_tensor *b, double rtol,
                        double atol, bool *result);

/* A loop over the elements of a result and of operands that broadcast to
 * it. Dimensions of size 1 are dropped and neighbours that are contiguous
 * for every operand are merged, so same-size contiguous tensors become one
 * flat dimension. Strides are 0 where an operand is broadcast. */
#define CNN_LOOP_MAX_OPERANDS 3

typedef struct cnn_loop {
    int ndims; /* at least 1 */
    int noperands;
    int64_t size[CNN_MAX_DIMS];
    int64_t stride[CNN_LOOP_MAX_OPERANDS][CNN_MAX_DIMS];
} cnn_loop;

/* Operands must broadcast to the 'ndims' sizes 'size' (checked by the
 * caller). */
void cnn_loop_plan(cnn_loop *loop, int ndims, const int64_t *size, int noperands,
                   const cnn_tensor *const *operands);

/* Element offsets of the start of row 'row' (a row spans dimension 1 of the
 * loop) for each operand. */
void cnn_loop_row_offsets(const cnn_loop *loop, int64_t row, int64_t *offsets);

#endif

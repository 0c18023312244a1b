/* Copies that rearrange the elements of tensors: Julia's cat and reverse
 * (flip), NNlib's pad_constant and Julia's repeat, and the backward of
 * repeat (the sum of the copies).
 *
 * Each op has a sizes function, the one home of its shape rules, and a
 * run that writes a result of those sizes (checked again for C callers).
 * Operands may be strided views; a result may be too. Dimensions past a
 * tensor's last have size 1, as in Julia: cat along dimension 3 of two
 * matrices gives a 3-D tensor. Dimensions are 0-based here and 1-based in
 * messages, as the user writes them. */
#ifndef CNN_REARRANGE_H
#define CNN_REARRANGE_H

#include "tensor.h"

/* cat: the n tensors xs, of one element type and of equal sizes but along
 * 'dim', one after another along 'dim'. */
cnn_status cnn_cat_sizes(const cnn_tensor *const *xs, int n, int dim, int *ndims,
                         int64_t *size);
cnn_status cnn_cat(cnn_tensor *dst, const cnn_tensor *const *xs, int n, int dim);

/* flip: dst = src reversed along each dimension d whose bit (1 << d) is
 * set in 'dims'; dst has src's sizes. */
cnn_status cnn_flip(cnn_tensor *dst, const cnn_tensor *src, unsigned dims);

/* pad_constant: src with lo[d] elements of 'value' before it and hi[d]
 * after it along each dimension d < src->ndims (each >= 0). */
cnn_status cnn_pad_sizes(const cnn_tensor *src, const int64_t *lo, const int64_t *hi,
                         int *ndims, int64_t *size);
cnn_status cnn_pad_constant(cnn_tensor *dst, const cnn_tensor *src, const int64_t *lo,
                            const int64_t *hi, double value);

/* repeat: src tiled counts[d] times along dimension d < n (each >= 0), as
 * Julia's repeat(src, counts...); n may exceed src->ndims. */
cnn_status cnn_repeat_sizes(const cnn_tensor *src, const int64_t *counts, int n,
                            int *ndims, int64_t *size);
cnn_status cnn_repeat(cnn_tensor *dst, const cnn_tensor *src, const int64_t *counts,
                      int n);
/* The backward of repeat: gx (src's sizes) = the sum of the tiles of gy
 * (the repeat's sizes). Float32 only. */
cnn_status cnn_repeat_backward(cnn_tensor *gx, const cnn_tensor *gy,
                               const int64_t *counts, int n);

#endif

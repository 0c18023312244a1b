#include "rearrange.h"

#include <string.h>

#include "broadcast.h"

#define TRY(call)                                                                        \
    do {                                                                                 \
        cnn_status try_status_ = (call);                                                 \
        if (try_status_ != CNN_OK)                                                       \
            return try_status_;                                                          \
    } while (0)

/* Size of t along d, 1 past its last dimension. */
static int64_t size_at(const cnn_tensor *t, int d)
{
    return d < t->ndims ? t->size[d] : 1;
}

/* t given 'ndims' dimensions (>= its own), the new ones of size 1. */
static cnn_tensor extended(const cnn_tensor *t, int ndims)
{
    cnn_tensor v = *t;
    for (int d = v.ndims; d < ndims; d++) {
        v.size[d] = 1;
        v.stride[d] = 1;
    }
    if (ndims > v.ndims)
        v.ndims = ndims;
    return v;
}

/* dst, a caller's result, against the sizes the op computed. */
static cnn_status check_result(const char *op, const cnn_tensor *dst, cnn_dtype dtype,
                               int ndims, const int64_t *size)
{
    bool same = dst->dtype == dtype && cnn_tensor_data(dst) != NULL;
    int n = dst->ndims > ndims ? dst->ndims : ndims;
    for (int d = 0; d < n; d++)
        same = same && size_at(dst, d) == (d < ndims ? size[d] : 1);
    if (!same) {
        char a[128], b[128];
        return cnn_fail(CNN_ERR_SHAPE, "%s: the result is %s %s, the op gives %s %s", op,
                        cnn_dtype_name(dst->dtype), cnn_shape_string(dst, a, sizeof a),
                        cnn_dtype_name(dtype),
                        cnn_sizes_string(size, ndims, b, sizeof b));
    }
    return CNN_OK;
}

cnn_status cnn_cat_sizes(const cnn_tensor *const *xs, int n, int dim, int *ndims,
                         int64_t *size)
{
    if (n < 1)
        return cnn_fail(CNN_ERR_ARG, "no tensors to concatenate");
    if (dim < 0 || dim >= CNN_MAX_DIMS)
        return cnn_fail(CNN_ERR_ARG, "dims = %d is not in 1..%d", dim + 1, CNN_MAX_DIMS);
    int nd = dim + 1;
    for (int i = 0; i < n; i++)
        nd = xs[i]->ndims > nd ? xs[i]->ndims : nd;
    for (int d = 0; d < nd; d++)
        size[d] = d == dim ? 0 : size_at(xs[0], d);
    for (int i = 0; i < n; i++) {
        char a[128], b[128];
        if (xs[i]->dtype != xs[0]->dtype)
            return cnn_fail(CNN_ERR_ARG, "tensor %d is %s, tensor 1 is %s", i + 1,
                            cnn_dtype_name(xs[i]->dtype), cnn_dtype_name(xs[0]->dtype));
        for (int d = 0; d < nd; d++) {
            if (d == dim) {
                size[d] += size_at(xs[i], d);
            } else if (size_at(xs[i], d) != size[d]) {
                return cnn_fail(CNN_ERR_SHAPE,
                                "tensor %d is %s, tensor 1 is %s: the sizes must agree "
                                "except along dimension %d",
                                i + 1, cnn_shape_string(xs[i], a, sizeof a),
                                cnn_shape_string(xs[0], b, sizeof b), dim + 1);
            }
        }
    }
    *ndims = nd;
    return CNN_OK;
}

cnn_status cnn_cat(cnn_tensor *dst, const cnn_tensor *const *xs, int n, int dim)
{
    int nd;
    int64_t size[CNN_MAX_DIMS];
    TRY(cnn_cat_sizes(xs, n, dim, &nd, size));
    TRY(check_result("cat", dst, xs[0]->dtype, nd, size));
    cnn_tensor out = extended(dst, nd);
    int64_t at = 0;
    for (int i = 0; i < n; i++) {
        cnn_tensor part = out, x = extended(xs[i], nd);
        int64_t len = x.size[dim];
        cnn_tensor_narrow(&part, dim, at, len);
        TRY(cnn_tensor_copy(&part, &x));
        at += len;
    }
    return CNN_OK;
}

cnn_status cnn_flip(cnn_tensor *dst, const cnn_tensor *src, unsigned dims)
{
    for (int d = src->ndims; d < 32; d++)
        if (dims >> d & 1u)
            return cnn_fail(CNN_ERR_ARG,
                            "dimension %d, but the tensor has %d dimension%s", d + 1,
                            src->ndims, src->ndims == 1 ? "" : "s");
    TRY(check_result("flip", dst, src->dtype, src->ndims, src->size));
    cnn_tensor v = *src;
    for (int d = 0; d < v.ndims; d++) {
        if ((dims >> d & 1u) && v.size[d] > 0) {
            v.offset += (v.size[d] - 1) * v.stride[d];
            v.stride[d] = -v.stride[d];
        }
    }
    cnn_tensor out = extended(dst, v.ndims);
    return cnn_tensor_copy(&out, &v);
}

cnn_status cnn_pad_sizes(const cnn_tensor *src, const int64_t *lo, const int64_t *hi,
                         int *ndims, int64_t *size)
{
    for (int d = 0; d < src->ndims; d++) {
        if (lo[d] < 0 || hi[d] < 0)
            return cnn_fail(CNN_ERR_ARG,
                            "pads of dimension %d are %lld and %lld, they must be >= 0",
                            d + 1, (long long)lo[d], (long long)hi[d]);
        if (lo[d] > INT64_MAX / 4 || hi[d] > INT64_MAX / 4)
            return cnn_fail(CNN_ERR_ARG,
                            "pads of dimension %d are %lld and %lld, too large", d + 1,
                            (long long)lo[d], (long long)hi[d]);
        size[d] = src->size[d] + lo[d] + hi[d];
    }
    *ndims = src->ndims;
    return CNN_OK;
}

cnn_status cnn_pad_constant(cnn_tensor *dst, const cnn_tensor *src, const int64_t *lo,
                            const int64_t *hi, double value)
{
    int nd;
    int64_t size[CNN_MAX_DIMS];
    TRY(cnn_pad_sizes(src, lo, hi, &nd, size));
    TRY(check_result("pad_constant", dst, src->dtype, nd, size));
    cnn_tensor out = extended(dst, nd);
    cnn_tensor_fill(&out, value);
    for (int d = 0; d < nd; d++)
        cnn_tensor_narrow(&out, d, lo[d], src->size[d]);
    return cnn_tensor_copy(&out, src);
}

cnn_status cnn_repeat_sizes(const cnn_tensor *src, const int64_t *counts, int n,
                            int *ndims, int64_t *size)
{
    if (n < 0 || n > CNN_MAX_DIMS)
        return cnn_fail(CNN_ERR_ARG, "%d counts, at most %d are possible", n,
                        CNN_MAX_DIMS);
    int nd = n > src->ndims ? n : src->ndims;
    int64_t numel = 1;
    for (int d = 0; d < nd; d++) {
        int64_t c = d < n ? counts[d] : 1;
        if (c < 0)
            return cnn_fail(CNN_ERR_ARG, "count %d is %lld, it must be >= 0", d + 1,
                            (long long)c);
        int64_t s = size_at(src, d);
        if (s != 0 && c > INT64_MAX / s)
            return cnn_fail(CNN_ERR_ARG, "the result would have too many elements");
        size[d] = s * c;
        if (size[d] != 0 && numel > INT64_MAX / size[d])
            return cnn_fail(CNN_ERR_ARG, "the result would have too many elements");
        numel *= size[d];
    }
    *ndims = nd;
    return CNN_OK;
}

/* Calls f(tile of big, small) for each tile of the repeat: big is the
 * repeat's result (or gradient), small the source (or its gradient). */
typedef cnn_status (*tile_fn)(cnn_tensor *tile, cnn_tensor *small);

static cnn_status each_tile(cnn_tensor *big, cnn_tensor *small, int nd, tile_fn f)
{
    int64_t tiles = 1, count[CNN_MAX_DIMS], index[CNN_MAX_DIMS] = {0};
    for (int d = 0; d < nd; d++) {
        count[d] = small->size[d] ? big->size[d] / small->size[d] : 0;
        tiles *= count[d];
    }
    for (int64_t k = 0; k < tiles; k++) {
        cnn_tensor tile = *big;
        for (int d = 0; d < nd; d++)
            cnn_tensor_narrow(&tile, d, index[d] * small->size[d], small->size[d]);
        TRY(f(&tile, small));
        for (int d = 0; d < nd && ++index[d] == count[d]; d++)
            index[d] = 0;
    }
    return CNN_OK;
}

static cnn_status copy_into_tile(cnn_tensor *tile, cnn_tensor *small)
{
    return cnn_tensor_copy(tile, small);
}

static cnn_status add_tile(cnn_tensor *tile, cnn_tensor *small)
{
    return cnn_binary(CNN_BINARY_ADD, small, tile, small);
}

cnn_status cnn_repeat(cnn_tensor *dst, const cnn_tensor *src, const int64_t *counts,
                      int n)
{
    int nd;
    int64_t size[CNN_MAX_DIMS];
    TRY(cnn_repeat_sizes(src, counts, n, &nd, size));
    TRY(check_result("repeat", dst, src->dtype, nd, size));
    if (cnn_tensor_numel(dst) == 0)
        return CNN_OK;
    cnn_tensor out = extended(dst, nd), x = extended(src, nd);
    return each_tile(&out, &x, nd, copy_into_tile);
}

cnn_status cnn_repeat_backward(cnn_tensor *gx, const cnn_tensor *gy,
                               const int64_t *counts, int n)
{
    int nd;
    int64_t size[CNN_MAX_DIMS];
    TRY(cnn_repeat_sizes(gx, counts, n, &nd, size));
    TRY(check_result("repeat_backward", gy, gx->dtype, nd, size));
    if (gx->dtype != CNN_FLOAT32)
        return cnn_fail(CNN_ERR_ARG, "repeat_backward: Float32 tensors expected");
    cnn_tensor g = extended(gx, nd), big = extended(gy, nd);
    cnn_tensor_fill(&g, 0);
    if (cnn_tensor_numel(gy) == 0)
        return CNN_OK;
    return each_tile(&big, &g, nd, add_tile);
}

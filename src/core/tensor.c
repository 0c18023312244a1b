#include "tensor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t cnn_dtype_size(cnn_dtype dtype)
{
    (void)dtype; /* both element types are four bytes */
    return 4;
}

const char *cnn_dtype_name(cnn_dtype dtype)
{
    return dtype == CNN_INT32 ? "Int32" : "Float32";
}

cnn_status cnn_storage_alloc(cnn_storage *s, size_t bytes)
{
    size_t rounded = (bytes + CNN_ALIGNMENT - 1) / CNN_ALIGNMENT * CNN_ALIGNMENT;
    if (rounded == 0)
        rounded = CNN_ALIGNMENT;
    s->data = aligned_alloc(CNN_ALIGNMENT, rounded);
    if (!s->data)
        return cnn_fail(CNN_ERR_NOMEM, "out of memory allocating %zu bytes", bytes);
    memset(s->data, 0, rounded);
    s->bytes = bytes;
    return CNN_OK;
}

void cnn_storage_free(cnn_storage *s)
{
    free(s->data);
    s->data = NULL;
    s->bytes = 0;
}

cnn_status cnn_tensor_init(cnn_tensor *t, cnn_dtype dtype, int ndims,
                           const int64_t *size)
{
    if (ndims < 0 || ndims > CNN_MAX_DIMS)
        return cnn_fail(CNN_ERR_ARG, "%d dimensions (at most %d allowed)", ndims,
                        CNN_MAX_DIMS);
    int64_t numel = 1;
    for (int d = 0; d < ndims; d++) {
        if (size[d] < 0)
            return cnn_fail(CNN_ERR_ARG, "size %lld of dimension %d is negative",
                            (long long)size[d], d + 1);
        /* keep the byte count representable */
        if (size[d] > 0 && numel > (INT64_MAX / 8) / size[d])
            return cnn_fail(CNN_ERR_ARG, "tensor too large");
        numel *= size[d];
    }
    t->dtype = dtype;
    t->ndims = ndims;
    t->offset = 0;
    int64_t stride = 1;
    for (int d = 0; d < CNN_MAX_DIMS; d++) {
        t->size[d] = d < ndims ? size[d] : 1;
        t->stride[d] = stride;
        if (d < ndims)
            stride *= size[d];
    }
    return CNN_OK;
}

int64_t cnn_tensor_numel(const cnn_tensor *t)
{
    int64_t n = 1;
    for (int d = 0; d < t->ndims; d++)
        n *= t->size[d];
    return n;
}

size_t cnn_tensor_bytes(const cnn_tensor *t)
{
    return (size_t)cnn_tensor_numel(t) * cnn_dtype_size(t->dtype);
}

bool cnn_tensor_is_contiguous(const cnn_tensor *t)
{
    int64_t expected = 1;
    for (int d = 0; d < t->ndims; d++) {
        if (t->size[d] != 1 && t->stride[d] != expected)
            return false;
        expected *= t->size[d];
    }
    return true;
}

bool cnn_tensor_same_size(const cnn_tensor *a, const cnn_tensor *b)
{
    if (a->ndims != b->ndims)
        return false;
    for (int d = 0; d < a->ndims; d++)
        if (a->size[d] != b->size[d])
            return false;
    return true;
}

void *cnn_tensor_data(const cnn_tensor *t)
{
    if (!t->storage || !t->storage->data)
        return NULL;
    return (char *)t->storage->data + t->offset * (int64_t)cnn_dtype_size(t->dtype);
}

const char *cnn_shape_string(const cnn_tensor *t, char *buf, size_t len)
{
    if (t->ndims == 0) {
        snprintf(buf, len, "0-dim");
        return buf;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (int d = 0; d < t->ndims && used < len; d++)
        used += snprintf(buf + used, len - used, "%s%lld", d ? "×" : "",
                         (long long)t->size[d]);
    return buf;
}

int64_t cnn_tensor_offset_of(const cnn_tensor *t, const int64_t *index)
{
    int64_t off = 0;
    for (int d = 0; d < t->ndims; d++)
        off += index[d] * t->stride[d];
    return off;
}

/* Offset of the start of "row" r, a row being all of dimension 1 at fixed
 * higher indices. */
static int64_t row_offset(const cnn_tensor *t, int64_t r)
{
    int64_t off = 0;
    for (int d = 1; d < t->ndims; d++) {
        off += (r % t->size[d]) * t->stride[d];
        r /= t->size[d];
    }
    return off;
}

static double load_element(const cnn_tensor *t, const char *base, int64_t off)
{
    if (t->dtype == CNN_INT32)
        return ((const int32_t *)base)[off];
    return ((const float *)base)[off];
}

/* Converting a double outside int32's range (or NaN) is undefined in C, so
 * values saturate and NaN becomes 0; otherwise truncation, as C and Torch. */
static int32_t saturate_int32(double v)
{
    if (v != v)
        return 0;
    if (v >= 2147483647.0)
        return INT32_MAX;
    if (v <= -2147483648.0)
        return INT32_MIN;
    return (int32_t)v;
}

static void store_element(cnn_tensor *t, char *base, int64_t off, double v)
{
    if (t->dtype == CNN_INT32)
        ((int32_t *)base)[off] = saturate_int32(v);
    else
        ((float *)base)[off] = (float)v;
}

cnn_status cnn_tensor_copy(cnn_tensor *dst, const cnn_tensor *src)
{
    if (cnn_tensor_numel(dst) != cnn_tensor_numel(src) ||
        !cnn_tensor_same_size(dst, src)) {
        char a[128], b[128];
        return cnn_fail(CNN_ERR_SHAPE, "sizes differ: %s and %s",
                        cnn_shape_string(dst, a, sizeof a),
                        cnn_shape_string(src, b, sizeof b));
    }
    char *out = cnn_tensor_data(dst);
    const char *in = cnn_tensor_data(src);
    int64_t numel = cnn_tensor_numel(dst);
    if (numel == 0)
        return CNN_OK;
    if (dst->dtype == src->dtype && cnn_tensor_is_contiguous(dst) &&
        cnn_tensor_is_contiguous(src)) {
        memmove(out, in, cnn_tensor_bytes(dst));
        return CNN_OK;
    }
    int64_t width = dst->ndims ? dst->size[0] : 1;
    int64_t rows = numel / width;
    int64_t ds = dst->ndims ? dst->stride[0] : 1, ss = src->ndims ? src->stride[0] : 1;
#pragma omp parallel for if (numel > 32768) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        int64_t o = row_offset(dst, r), i = row_offset(src, r);
        for (int64_t k = 0; k < width; k++)
            store_element(dst, out, o + k * ds, load_element(src, in, i + k * ss));
    }
    return CNN_OK;
}

void cnn_tensor_fill(cnn_tensor *t, double value)
{
    char *base = cnn_tensor_data(t);
    int64_t numel = cnn_tensor_numel(t);
    if (!base || numel == 0)
        return;
    int64_t width = t->ndims ? t->size[0] : 1;
    int64_t rows = numel / width, s0 = t->ndims ? t->stride[0] : 1;
#pragma omp parallel for if (numel > 32768) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        int64_t o = row_offset(t, r);
        for (int64_t k = 0; k < width; k++)
            store_element(t, base, o + k * s0, value);
    }
}

void cnn_tensor_select(cnn_tensor *t, int dim, int64_t index)
{
    t->offset += index * t->stride[dim];
    for (int d = dim; d + 1 < t->ndims; d++) {
        t->size[d] = t->size[d + 1];
        t->stride[d] = t->stride[d + 1];
    }
    t->ndims--;
    t->size[t->ndims] = 1;
}

void cnn_tensor_narrow(cnn_tensor *t, int dim, int64_t first, int64_t len)
{
    if (len > 0)
        t->offset += first * t->stride[dim];
    t->size[dim] = len;
}

/* Sizes as "4×2", with ":" for an unresolved -1 (Julia's colon). */
static const char *sizes_string(int ndims, const int64_t *size, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int d = 0; d < ndims && used < len; d++) {
        const char *sep = d ? "×" : "";
        if (size[d] == -1)
            used += snprintf(buf + used, len - used, "%s:", sep);
        else
            used += snprintf(buf + used, len - used, "%s%lld", sep, (long long)size[d]);
    }
    return ndims ? buf : "0-dim";
}

cnn_status cnn_reshape_sizes(const cnn_tensor *t, int ndims, int64_t *size)
{
    int64_t numel = cnn_tensor_numel(t), known = 1;
    int inferred = -1;
    for (int d = 0; d < ndims; d++) {
        if (size[d] == -1 && inferred >= 0)
            return cnn_fail(CNN_ERR_ARG, "only one size may be -1");
        if (size[d] == -1) {
            inferred = d;
            continue;
        }
        if (size[d] < 0)
            return cnn_fail(CNN_ERR_ARG, "size %lld of dimension %d is negative",
                            (long long)size[d], d + 1);
        if (size[d] > 0 && known > INT64_MAX / 8 / size[d])
            return cnn_fail(CNN_ERR_ARG, "tensor too large");
        known *= size[d];
    }
    char from[128], to[128];
    sizes_string(ndims, size, to, sizeof to);
    cnn_shape_string(t, from, sizeof from);
    if (inferred >= 0) {
        if (known == 0 || numel % known != 0)
            return cnn_fail(CNN_ERR_SHAPE,
                            "cannot reshape %s (%lld elements) to %s (not a multiple of %lld)",
                            from, (long long)numel, to, (long long)known);
        size[inferred] = numel / known;
        return CNN_OK;
    }
    if (known != numel)
        return cnn_fail(CNN_ERR_SHAPE, "cannot reshape %s (%lld elements) to %s (%lld elements)",
                        from, (long long)numel, to, (long long)known);
    return CNN_OK;
}

void cnn_tensor_view_as(cnn_tensor *t, int ndims, const int64_t *size)
{
    int64_t offset = t->offset;
    cnn_tensor_init(t, t->dtype, ndims, size);
    t->offset = offset;
}

cnn_status cnn_tensor_broadcast_to(cnn_tensor *t, int ndims, const int64_t *size)
{
    bool fits = true;
    for (int d = 0; fits && d < t->ndims; d++)
        fits = t->size[d] == 1 || (d < ndims && t->size[d] == size[d]);
    if (!fits) {
        char a[128], b[128];
        cnn_tensor want;
        cnn_tensor_init(&want, t->dtype, ndims, size);
        return cnn_fail(CNN_ERR_SHAPE, "sizes %s and %s do not broadcast",
                        cnn_shape_string(t, a, sizeof a),
                        cnn_shape_string(&want, b, sizeof b));
    }
    for (int d = 0; d < ndims; d++) {
        if (d >= t->ndims || (t->size[d] == 1 && size[d] != 1))
            t->stride[d] = 0;
        t->size[d] = size[d];
    }
    t->ndims = ndims;
    return CNN_OK;
}

int64_t cnn_tensor_linear_offset(const cnn_tensor *t, int64_t k)
{
    int64_t off = 0;
    for (int d = 0; d < t->ndims; d++) {
        off += (k % t->size[d]) * t->stride[d];
        k /= t->size[d];
    }
    return off;
}

double cnn_tensor_get(const cnn_tensor *t, int64_t offset)
{
    return load_element(t, cnn_tensor_data(t), offset);
}

void cnn_tensor_set(cnn_tensor *t, int64_t offset, double value)
{
    store_element(t, cnn_tensor_data(t), offset, value);
}

cnn_status cnn_range_length(double first, double last, double step, int64_t *n)
{
    if (!isfinite(first) || !isfinite(last))
        return cnn_fail(CNN_ERR_ARG, "first and last must be finite");
    if (step == 0 || !isfinite(step))
        return cnn_fail(CNN_ERR_ARG, "step must be finite and not zero");
    double r = (last - first) / step;
    double nearest = round(r);
    /* 0.3 / 0.1 is 2.9999999999999996: snap to the integer it means */
    if (fabs(r - nearest) <= 1e-10 * fmax(1.0, fabs(r)))
        r = nearest;
    if (r < 0) {
        *n = 0;
        return CNN_OK;
    }
    if (r >= (double)(INT64_C(1) << 40))
        return cnn_fail(CNN_ERR_ARG, "tensor too large");
    *n = (int64_t)floor(r) + 1;
    return CNN_OK;
}

void cnn_tensor_fill_range(cnn_tensor *t, double first, double step)
{
    char *base = cnn_tensor_data(t);
    int64_t numel = cnn_tensor_numel(t);
#pragma omp parallel for if (numel > 32768) schedule(static)
    for (int64_t k = 0; k < numel; k++)
        store_element(t, base, cnn_tensor_linear_offset(t, k), first + (double)k * step);
}

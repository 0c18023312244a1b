#include "batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ===== label sets ===== */

static bool is_run(const int32_t *set, int64_t k)
{
    for (int64_t i = 1; i < k; i++)
        if ((int64_t)set[i] != (int64_t)set[0] + i)
            return false;
    return true;
}

static size_t put(char *buf, size_t len, size_t used, const char *fmt, long long v)
{
    if (used >= len)
        return used;
    int n = snprintf(buf + used, len - used, fmt, v);
    return n < 0 ? used : used + (size_t)n;
}

const char *cnn_labelset_string(const int32_t *set, int64_t k, char *buf, size_t len)
{
    size_t used = put(buf, len, 0, "{", 0);
    bool abbreviate = k > 10 || (k >= 4 && is_run(set, k));
    for (int64_t i = 0; i < k; i++) {
        if (abbreviate && i == 2 && k > 3) {
            used = put(buf, len, used, ", ...", 0);
            i = k - 1;
        }
        used = put(buf, len, used, i ? ", %lld" : "%lld", set[i]);
    }
    put(buf, len, used, "}", 0);
    return buf;
}

/* ===== one-hot ===== */

typedef struct label_slot {
    int32_t value;
    int32_t row;
} label_slot;

static int compare_slots(const void *a, const void *b)
{
    const label_slot *x = a, *y = b;
    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* Row of the first labelset entry equal to v, or -1; binary search over
 * the set sorted by (value, row). */
static int64_t find_row(const label_slot *slots, int64_t k, int32_t v)
{
    int64_t lo = 0, hi = k;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (slots[mid].value < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < k && slots[lo].value == v ? slots[lo].row : -1;
}

static cnn_status unknown_label(int32_t label, const int32_t *set, int64_t k)
{
    char text[256];
    return cnn_fail(CNN_ERR_ARG, "label %d is not in the label set %s", (int)label,
                    cnn_labelset_string(set, k, text, sizeof text));
}

static cnn_status check_onehot_shapes(const cnn_tensor *labels, int64_t k,
                                      const cnn_tensor *out)
{
    if (labels->dtype != CNN_INT32 || out->dtype != CNN_FLOAT32)
        return cnn_fail(CNN_ERR_ARG, "labels must be Int32 and the output Float32");
    if (k < 1 || k > INT32_MAX)
        return cnn_fail(CNN_ERR_ARG, "the label set is empty");
    bool ok = labels->ndims < CNN_MAX_DIMS && out->ndims == labels->ndims + 1 &&
              out->size[0] == k && cnn_tensor_is_contiguous(out);
    for (int d = 0; ok && d < labels->ndims; d++)
        ok = out->size[d + 1] == labels->size[d];
    if (!ok)
        return cnn_fail(CNN_ERR_SHAPE,
                        "output must be a contiguous %lld×(labels' sizes) tensor",
                        (long long)k);
    return CNN_OK;
}

cnn_status cnn_onehotbatch(const cnn_tensor *labels, const int32_t *labelset, int64_t k,
                           cnn_tensor *out)
{
    cnn_status s = check_onehot_shapes(labels, k, out);
    if (s != CNN_OK)
        return s;
    label_slot *slots = malloc((size_t)k * sizeof *slots);
    if (!slots)
        return cnn_fail(CNN_ERR_NOMEM, "out of memory");
    for (int64_t r = 0; r < k; r++)
        slots[r] = (label_slot){labelset[r], (int32_t)r};
    qsort(slots, (size_t)k, sizeof *slots, compare_slots);
    cnn_tensor_fill(out, 0.0);
    const int32_t *in = cnn_tensor_i32(labels);
    float *dst = cnn_tensor_f32(out);
    int64_t n = cnn_tensor_numel(labels), first_bad = n;
#pragma omp parallel for if (n > 32768) schedule(static) reduction(min : first_bad)
    for (int64_t j = 0; j < n; j++) {
        int64_t row = find_row(slots, k, in[cnn_tensor_linear_offset(labels, j)]);
        if (row < 0)
            first_bad = j < first_bad ? j : first_bad;
        else
            dst[j * k + row] = 1.0f;
    }
    free(slots);
    if (first_bad < n)
        return unknown_label(in[cnn_tensor_linear_offset(labels, first_bad)], labelset,
                             k);
    return CNN_OK;
}

/* ===== one-cold ===== */

cnn_status cnn_onecold(const cnn_tensor *y, const int32_t *labelset, cnn_tensor *out)
{
    if (y->dtype != CNN_FLOAT32 || y->ndims < 1)
        return cnn_fail(CNN_ERR_ARG,
                        "y must be a Float32 tensor with at least 1 dimension");
    int64_t k = y->size[0];
    if (k == 0)
        return cnn_fail(CNN_ERR_SHAPE, "y has no classes (size 0 in dimension 1)");
    int64_t columns = cnn_tensor_numel(y) / k;
    if (out->dtype != CNN_INT32 || !cnn_tensor_is_contiguous(out) ||
        cnn_tensor_numel(out) != columns)
        return cnn_fail(CNN_ERR_SHAPE,
                        "output must be a contiguous Int32 tensor of %lld elements",
                        (long long)columns);
    const float *src = cnn_tensor_f32(y);
    int32_t *dst = cnn_tensor_i32(out);
    int64_t s0 = y->stride[0];
#pragma omp parallel for if (columns * k > 32768) schedule(static)
    for (int64_t c = 0; c < columns; c++) {
        const float *col = src + cnn_tensor_linear_offset(y, c * k);
        int64_t best = 0;
        for (int64_t r = 1; r < k; r++)
            if (col[r * s0] > col[best * s0])
                best = r;
        dst[c] = labelset ? labelset[best] : (int32_t)(best + 1);
    }
    return CNN_OK;
}

/* ===== gather ===== */

static cnn_status check_gather(const cnn_tensor *src, const cnn_tensor *indices,
                               int64_t first, int64_t count, const cnn_tensor *out)
{
    if (src->ndims < 1)
        return cnn_fail(CNN_ERR_ARG, "the source must have at least 1 dimension");
    if (indices->dtype != CNN_INT32 || indices->ndims != 1)
        return cnn_fail(CNN_ERR_ARG, "indices must be a 1-D Int32 tensor");
    if (first < 0 || count < 0 || first > indices->size[0] - count)
        return cnn_fail(CNN_ERR_ARG,
                        "positions %lld to %lld are outside the %lld indices",
                        (long long)first + 1, (long long)(first + count),
                        (long long)indices->size[0]);
    if (out->storage == src->storage)
        return cnn_fail(CNN_ERR_ARG, "the output must not share storage with the source");
    int last = src->ndims - 1;
    bool ok = out->dtype == src->dtype && out->ndims == src->ndims &&
              out->size[last] == count && cnn_tensor_is_contiguous(out);
    for (int d = 0; ok && d < last; d++)
        ok = out->size[d] == src->size[d];
    if (!ok) {
        char a[128], b[128];
        return cnn_fail(
            CNN_ERR_SHAPE,
            "output %s does not fit %lld slices of %s (same type, contiguous)",
            cnn_shape_string(out, a, sizeof a), (long long)count,
            cnn_shape_string(src, b, sizeof b));
    }
    return CNN_OK;
}

static cnn_status check_indices(const int32_t *idx, int64_t stride, int64_t count,
                                int base, int64_t limit)
{
    for (int64_t j = 0; j < count; j++) {
        int64_t v = idx[j * stride];
        if (v < base || v - base >= limit)
            return cnn_fail(CNN_ERR_ARG, "index %lld out of range %d..%lld", (long long)v,
                            base, (long long)limit - 1 + base);
    }
    return CNN_OK;
}

/* A slice as a tensor of its own (the last dimension dropped). */
static cnn_tensor slice_of(const cnn_tensor *t, int64_t i)
{
    cnn_tensor s = *t;
    s.ndims = t->ndims - 1;
    s.offset += i * t->stride[t->ndims - 1];
    return s;
}

cnn_status cnn_gather(const cnn_tensor *src, const cnn_tensor *indices, int64_t first,
                      int64_t count, int base, cnn_tensor *out)
{
    cnn_status s = check_gather(src, indices, first, count, out);
    if (s != CNN_OK)
        return s;
    const int32_t *idx = cnn_tensor_i32(indices) + first * indices->stride[0];
    int64_t stride = indices->stride[0], limit = src->size[src->ndims - 1];
    s = check_indices(idx, stride, count, base, limit);
    if (s != CNN_OK || count == 0)
        return s;
    int64_t slice = cnn_tensor_numel(src) / limit;
    size_t bytes = (size_t)slice * cnn_dtype_size(src->dtype);
    if (cnn_tensor_is_contiguous(src)) {
        const char *from = cnn_tensor_data(src);
        char *to = cnn_tensor_data(out);
#pragma omp parallel for if (count * slice > 32768) schedule(static)
        for (int64_t j = 0; j < count; j++)
            memcpy(to + j * bytes, from + (idx[j * stride] - base) * bytes, bytes);
        return CNN_OK;
    }
    for (int64_t j = 0; j < count && s == CNN_OK; j++) {
        cnn_tensor from = slice_of(src, idx[j * stride] - base), to = slice_of(out, j);
        s = cnn_tensor_copy(&to, &from);
    }
    return s;
}

/* ===== permutations ===== */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* Uniform in [0, bound) without modulo bias. */
static uint64_t uniform_below(uint64_t *state, uint64_t bound)
{
    uint64_t threshold = -bound % bound;
    for (;;) {
        uint64_t r = splitmix64(state);
        if (r >= threshold)
            return r % bound;
    }
}

cnn_status cnn_permutation(int32_t *out, int64_t n, uint64_t seed, bool shuffle)
{
    if (n < 0 || n > INT32_MAX)
        return cnn_fail(CNN_ERR_ARG, "permutation size %lld out of range", (long long)n);
    for (int64_t i = 0; i < n; i++)
        out[i] = (int32_t)(i + 1);
    uint64_t state = seed;
    /* Fisher-Yates is sequential by nature; n is the number of
     * observations, a one-off cost per pass. */
    for (int64_t i = n - 1; shuffle && i > 0; i--) {
        int64_t j = (int64_t)uniform_below(&state, (uint64_t)i + 1);
        int32_t tmp = out[i];
        out[i] = out[j];
        out[j] = tmp;
    }
    return CNN_OK;
}

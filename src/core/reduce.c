#include "reduce.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>

#include "broadcast.h"

#define PARALLEL_MIN 32768

typedef enum acc_kind { ACC_SUM, ACC_MAX, ACC_MIN } acc_kind;

/* A running reduction: the sum or the extreme value so far, and the
 * position (in reduction order) of the extreme; index < 0 when nothing
 * has been seen. */
typedef struct acc {
    double value;
    int64_t index;
} acc;

static const acc acc_empty = {0.0, -1};

/* Whether v should replace the current extreme: strictly better, or the
 * first NaN. */
static inline bool beats(acc_kind kind, double v, double best)
{
    if (v != v)
        return best == best;
    return kind == ACC_MAX ? v > best : v < best;
}

static inline void take(acc_kind kind, acc *a, double v, int64_t position)
{
    if (a->index < 0 || beats(kind, v, a->value)) {
        a->value = v;
        a->index = position;
    }
}

/* Folds 'later' (positions after a's) into a; ties keep a's. */
static void combine(acc_kind kind, acc *a, const acc *later)
{
    if (kind == ACC_SUM) {
        a->value += later->value;
        a->index = 0;
    } else if (later->index >= 0) {
        take(kind, a, later->value, later->index);
    }
}

#define ACCUMULATE_ROW(T)                                                                \
    do {                                                                                 \
        const T *x = (const T *)base + off;                                              \
        if (kind == ACC_SUM) {                                                           \
            /* four running sums hide the latency of each addition */                    \
            double s[4] = {0.0, 0.0, 0.0, 0.0};                                          \
            int64_t j = i;                                                               \
            for (; j + 4 <= end; j += 4)                                                 \
                for (int u = 0; u < 4; u++)                                              \
                    s[u] += x[(j + u) * s0];                                             \
            for (; j < end; j++)                                                         \
                s[0] += x[j * s0];                                                       \
            a->value += (s[0] + s[1]) + (s[2] + s[3]);                                   \
            a->index = 0;                                                                \
        } else {                                                                         \
            for (int64_t j = i; j < end; j++)                                            \
                take(kind, a, x[j * s0], row *width + j);                                \
        }                                                                                \
    } while (0)

/* Accumulates reduction positions [p0, p1) of the loop 'red' over the
 * tensor data at 'base' into a. */
static void accumulate(acc_kind kind, const cnn_loop *red, const void *base,
                       cnn_dtype dtype, int64_t p0, int64_t p1, acc *a)
{
    int64_t width = red->size[0], s0 = red->stride[0][0];
    for (int64_t p = p0; p < p1;) {
        int64_t row = p / width, i = p % width;
        int64_t end = p1 - p + i < width ? p1 - p + i : width;
        int64_t off;
        cnn_loop_row_offsets(red, row, &off);
        if (dtype == CNN_INT32)
            ACCUMULATE_ROW(int32_t);
        else
            ACCUMULATE_ROW(float);
        p += end - i;
    }
}

/* Splits n items over nt workers in order: worker w gets [first(w), first(w+1)). */
static int64_t chunk_start(int64_t n, int nt, int w)
{
    int64_t q = n / nt, r = n % nt;
    return q * w + (w < r ? w : r);
}

/* One reduction over many positions, split over threads in order. */
static acc reduce_one(acc_kind kind, const cnn_loop *red, const void *base,
                      cnn_dtype dtype, int64_t n, acc *partials, int max_threads)
{
    acc total = acc_empty;
    if (n <= PARALLEL_MIN || max_threads == 1) {
        accumulate(kind, red, base, dtype, 0, n, &total);
        return total;
    }
    int used = 1;
#pragma omp parallel num_threads(max_threads)
    {
        int nt = omp_get_num_threads(), w = omp_get_thread_num();
        acc a = acc_empty;
        accumulate(kind, red, base, dtype, chunk_start(n, nt, w),
                   chunk_start(n, nt, w + 1), &a);
        partials[w] = a;
#pragma omp single
        used = nt;
    }
    for (int w = 0; w < used; w++)
        combine(kind, &total, &partials[w]);
    return total;
}

/* Receives the reduction of output element k (column-major order) over n
 * positions. */
typedef void (*acc_store)(void *ctx, int64_t k, const acc *a, int64_t n);

static int64_t dim_size(const cnn_tensor *t, int d)
{
    return d < t->ndims ? t->size[d] : 1;
}

/* Offset in operand 0 of the index-th element in loop order. */
static int64_t loop_offset(const cnn_loop *loop, int64_t index)
{
    int64_t off = 0;
    for (int d = 0; d < loop->ndims; d++) {
        off += index % loop->size[d] * loop->stride[0][d];
        index /= loop->size[d];
    }
    return off;
}

/* Reduces t over the dimensions where keep[d] is false, calling 'store'
 * for every kept element. */
static cnn_status reduce_over(acc_kind kind, const cnn_tensor *t, const bool *keep,
                              acc_store store, void *ctx)
{
    int64_t kept[CNN_MAX_DIMS], reduced[CNN_MAX_DIMS];
    int64_t nkept = 1, nreduced = 1;
    for (int d = 0; d < t->ndims; d++) {
        kept[d] = keep[d] ? t->size[d] : 1;
        reduced[d] = keep[d] ? 1 : t->size[d];
        nkept *= kept[d];
        nreduced *= reduced[d];
    }
    if (nkept == 0)
        return CNN_OK;
    if (nreduced == 0 && kind != ACC_SUM)
        return cnn_fail(CNN_ERR_ARG, "empty tensor");
    const char *base = cnn_tensor_data(t);
    if (!base)
        return cnn_fail(CNN_ERR_ARG, "attempt to use a freed tensor");
    const cnn_tensor *ops[1] = {t};
    cnn_loop kloop, rloop;
    cnn_loop_plan(&kloop, t->ndims, kept, 1, ops);
    cnn_loop_plan(&rloop, t->ndims, reduced, 1, ops);
    size_t esize = cnn_dtype_size(t->dtype);
    int max_threads = omp_get_max_threads();
    if (nkept >= 4 * (int64_t)max_threads || nreduced <= PARALLEL_MIN) {
#pragma omp parallel for if (nkept * nreduced > PARALLEL_MIN) schedule(static)
        for (int64_t k = 0; k < nkept; k++) {
            acc a = acc_empty;
            accumulate(kind, &rloop, base + loop_offset(&kloop, k) * (int64_t)esize,
                       t->dtype, 0, nreduced, &a);
            store(ctx, k, &a, nreduced);
        }
        return CNN_OK;
    }
    acc *partials = malloc((size_t)max_threads * sizeof *partials);
    if (!partials)
        return cnn_fail(CNN_ERR_NOMEM, "out of memory");
    for (int64_t k = 0; k < nkept; k++) {
        acc a = reduce_one(kind, &rloop, base + loop_offset(&kloop, k) * (int64_t)esize,
                           t->dtype, nreduced, partials, max_threads);
        store(ctx, k, &a, nreduced);
    }
    free(partials);
    return CNN_OK;
}

static acc_kind kind_of(cnn_reduce_op op)
{
    return op == CNN_REDUCE_MAXIMUM   ? ACC_MAX
           : op == CNN_REDUCE_MINIMUM ? ACC_MIN
                                      : ACC_SUM;
}

cnn_dtype cnn_reduce_result_dtype(cnn_reduce_op op, cnn_dtype dtype)
{
    return op == CNN_REDUCE_MEAN ? CNN_FLOAT32 : dtype;
}

typedef struct tensor_sink {
    cnn_reduce_op op;
    void *data;
    int32_t base; /* added to indices */
} tensor_sink;

static void store_f32(void *ctx, int64_t k, const acc *a, int64_t n)
{
    tensor_sink *s = ctx;
    double v = s->op == CNN_REDUCE_MEAN ? a->value / (double)n : a->value;
    ((float *)s->data)[k] = (float)v;
}

/* Integer sums wrap around to Int32 as Julia's Int32 arithmetic does. */
static void store_i32(void *ctx, int64_t k, const acc *a, int64_t n)
{
    (void)n;
    tensor_sink *s = ctx;
    ((int32_t *)s->data)[k] = (int32_t)(uint32_t)(uint64_t)(int64_t)a->value;
}

static void store_index(void *ctx, int64_t k, const acc *a, int64_t n)
{
    (void)n;
    tensor_sink *s = ctx;
    ((int32_t *)s->data)[k] = (int32_t)(a->index + s->base);
}

static void store_acc(void *ctx, int64_t k, const acc *a, int64_t n)
{
    (void)k;
    acc *result = ctx;
    *result = *a;
    if (n == 0)
        result->value = 0.0;
}

static cnn_status check_output(const cnn_tensor *out, cnn_dtype dtype)
{
    if (!cnn_tensor_data(out))
        return cnn_fail(CNN_ERR_ARG, "attempt to use a freed tensor");
    if (!cnn_tensor_is_contiguous(out))
        return cnn_fail(CNN_ERR_ARG, "the output must be contiguous");
    if (out->dtype != dtype)
        return cnn_fail(CNN_ERR_ARG, "out is %s, the result %s",
                        cnn_dtype_name(out->dtype), cnn_dtype_name(dtype));
    return CNN_OK;
}

/* Which dimensions of t an output of out's sizes keeps; fails unless each
 * of out's sizes is t's or 1. */
static cnn_status kept_dims(const cnn_tensor *t, const cnn_tensor *out, bool *keep)
{
    int n = t->ndims > out->ndims ? t->ndims : out->ndims;
    for (int d = 0; d < n; d++) {
        int64_t ts = dim_size(t, d), os = dim_size(out, d);
        if (os != ts && os != 1) {
            char a[128], b[128];
            return cnn_fail(CNN_ERR_SHAPE, "cannot reduce size %s to %s",
                            cnn_shape_string(t, a, sizeof a),
                            cnn_shape_string(out, b, sizeof b));
        }
        if (d < t->ndims)
            keep[d] = os == ts;
    }
    return CNN_OK;
}

cnn_status cnn_reduce_to(cnn_reduce_op op, const cnn_tensor *t, cnn_tensor *out)
{
    if ((unsigned)op >= CNN_REDUCE_COUNT)
        return cnn_fail(CNN_ERR_ARG, "unknown reduction %d", (int)op);
    bool keep[CNN_MAX_DIMS];
    cnn_status s = kept_dims(t, out, keep);
    if (s == CNN_OK)
        s = check_output(out, cnn_reduce_result_dtype(op, t->dtype));
    if (s != CNN_OK)
        return s;
    tensor_sink sink = {op, cnn_tensor_data(out), 0};
    return reduce_over(kind_of(op), t, keep,
                       out->dtype == CNN_INT32 ? store_i32 : store_f32, &sink);
}

cnn_status cnn_sum_to(const cnn_tensor *t, cnn_tensor *out)
{
    return cnn_reduce_to(CNN_REDUCE_SUM, t, out);
}

cnn_status cnn_reduce_all(cnn_reduce_op op, const cnn_tensor *t, double *result)
{
    if ((unsigned)op >= CNN_REDUCE_COUNT)
        return cnn_fail(CNN_ERR_ARG, "unknown reduction %d", (int)op);
    bool keep[CNN_MAX_DIMS] = {false};
    acc a = acc_empty;
    cnn_status s = reduce_over(kind_of(op), t, keep, store_acc, &a);
    if (s != CNN_OK)
        return s;
    double v = a.value;
    if (op == CNN_REDUCE_MEAN)
        v /= (double)cnn_tensor_numel(t);
    bool exact_integer = t->dtype == CNN_INT32 && op != CNN_REDUCE_MEAN;
    *result = exact_integer ? v : (double)(float)v;
    return CNN_OK;
}

void cnn_reduce_dim_sizes(const cnn_tensor *t, int dim, int *ndims, int64_t *size)
{
    *ndims = t->ndims;
    for (int d = 0; d < t->ndims; d++)
        size[d] = d == dim ? 1 : t->size[d];
}

/* Checks dim and out, and fills keep; an empty dimension cannot give a
 * maximum. */
static cnn_status prepare_dim(const cnn_tensor *t, int dim, const cnn_tensor *out,
                              cnn_dtype dtype, bool needs_elements, bool *keep)
{
    if (dim < 0)
        return cnn_fail(CNN_ERR_ARG, "dimension %d out of range", dim + 1);
    int ndims;
    int64_t size[CNN_MAX_DIMS];
    cnn_reduce_dim_sizes(t, dim, &ndims, size);
    cnn_tensor expected;
    cnn_status s = cnn_tensor_init(&expected, dtype, ndims, size);
    if (s == CNN_OK && !cnn_tensor_same_size(out, &expected)) {
        char a[128], b[128];
        return cnn_fail(CNN_ERR_SHAPE, "out has size %s, the result %s",
                        cnn_shape_string(out, a, sizeof a),
                        cnn_shape_string(&expected, b, sizeof b));
    }
    if (s == CNN_OK)
        s = check_output(out, dtype);
    if (s != CNN_OK)
        return s;
    if (needs_elements && dim < t->ndims && t->size[dim] == 0 &&
        cnn_tensor_numel(out) > 0) {
        char a[128];
        return cnn_fail(CNN_ERR_ARG, "dimension %d of %s is empty", dim + 1,
                        cnn_shape_string(t, a, sizeof a));
    }
    for (int d = 0; d < t->ndims; d++)
        keep[d] = d != dim;
    return CNN_OK;
}

cnn_status cnn_reduce_dim(cnn_reduce_op op, const cnn_tensor *t, int dim, cnn_tensor *out)
{
    if ((unsigned)op >= CNN_REDUCE_COUNT)
        return cnn_fail(CNN_ERR_ARG, "unknown reduction %d", (int)op);
    bool keep[CNN_MAX_DIMS];
    bool extreme = op == CNN_REDUCE_MAXIMUM || op == CNN_REDUCE_MINIMUM;
    cnn_status s =
        prepare_dim(t, dim, out, cnn_reduce_result_dtype(op, t->dtype), extreme, keep);
    if (s != CNN_OK)
        return s;
    tensor_sink sink = {op, cnn_tensor_data(out), 0};
    return reduce_over(kind_of(op), t, keep,
                       out->dtype == CNN_INT32 ? store_i32 : store_f32, &sink);
}

cnn_status cnn_argreduce_all(cnn_arg_op op, const cnn_tensor *t, int64_t *index)
{
    bool keep[CNN_MAX_DIMS] = {false};
    acc a = acc_empty;
    cnn_status s =
        reduce_over(op == CNN_ARGMIN ? ACC_MIN : ACC_MAX, t, keep, store_acc, &a);
    if (s == CNN_OK)
        *index = a.index;
    return s;
}

cnn_status cnn_argreduce_dim(cnn_arg_op op, const cnn_tensor *t, int dim, int32_t base,
                             cnn_tensor *out)
{
    bool keep[CNN_MAX_DIMS];
    cnn_status s = prepare_dim(t, dim, out, CNN_INT32, true, keep);
    if (s != CNN_OK)
        return s;
    if (dim < t->ndims && t->size[dim] > (int64_t)INT32_MAX - base)
        return cnn_fail(CNN_ERR_ARG, "dimension %d is too long for Int32 indices",
                        dim + 1);
    tensor_sink sink = {CNN_REDUCE_MAXIMUM, cnn_tensor_data(out), base};
    return reduce_over(op == CNN_ARGMIN ? ACC_MIN : ACC_MAX, t, keep, store_index, &sink);
}

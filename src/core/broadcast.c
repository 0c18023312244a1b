#include "broadcast.h"

#include <math.h>
#include <string.h>

#include "activation.h"

/* Elements per parallel work item: long enough to amortise the offset
 * computation, short enough that one long row still spreads over threads. */
#define BLOCK        8192
#define PARALLEL_MIN 32768

static int64_t dim_size(const cnn_tensor *t, int d)
{
    return d < t->ndims ? t->size[d] : 1;
}

static cnn_status shape_mismatch(const char *fmt, const cnn_tensor *a,
                                 const cnn_tensor *b)
{
    char x[128], y[128];
    return cnn_fail(CNN_ERR_SHAPE, fmt, cnn_shape_string(a, x, sizeof x),
                    cnn_shape_string(b, y, sizeof y));
}

cnn_status cnn_broadcast_sizes(const cnn_tensor *a, const cnn_tensor *b, int *ndims,
                               int64_t *size)
{
    int n = a->ndims > b->ndims ? a->ndims : b->ndims;
    for (int d = 0; d < n; d++) {
        int64_t sa = dim_size(a, d), sb = dim_size(b, d);
        if (sa == sb || sb == 1)
            size[d] = sa;
        else if (sa == 1)
            size[d] = sb;
        else
            return shape_mismatch("sizes %s and %s do not broadcast", a, b);
    }
    *ndims = n;
    return CNN_OK;
}

/* Equal sizes when missing trailing dimensions count as 1. */
static bool sizes_match(const cnn_tensor *t, int ndims, const int64_t *size)
{
    int n = t->ndims > ndims ? t->ndims : ndims;
    for (int d = 0; d < n; d++)
        if (dim_size(t, d) != (d < ndims ? size[d] : 1))
            return false;
    return true;
}

void cnn_loop_plan(cnn_loop *loop, int ndims, const int64_t *size, int noperands,
                   const cnn_tensor *const *operands)
{
    int n = 0;
    loop->noperands = noperands;
    for (int d = 0; d < ndims; d++) {
        if (size[d] == 1)
            continue;
        int64_t s[CNN_LOOP_MAX_OPERANDS];
        bool mergeable = n > 0;
        for (int i = 0; i < noperands; i++) {
            const cnn_tensor *t = operands[i];
            s[i] = d < t->ndims && t->size[d] != 1 ? t->stride[d] : 0;
            if (n > 0 && s[i] != loop->stride[i][n - 1] * loop->size[n - 1])
                mergeable = false;
        }
        if (mergeable) {
            loop->size[n - 1] *= size[d];
            continue;
        }
        loop->size[n] = size[d];
        for (int i = 0; i < noperands; i++)
            loop->stride[i][n] = s[i];
        n++;
    }
    if (n == 0) {
        loop->size[0] = 1;
        for (int i = 0; i < noperands; i++)
            loop->stride[i][0] = 0;
        n = 1;
    }
    loop->ndims = n;
}

void cnn_loop_row_offsets(const cnn_loop *loop, int64_t row, int64_t *offsets)
{
    for (int i = 0; i < loop->noperands; i++)
        offsets[i] = 0;
    for (int d = 1; d < loop->ndims; d++) {
        int64_t index = row % loop->size[d];
        row /= loop->size[d];
        for (int i = 0; i < loop->noperands; i++)
            offsets[i] += index * loop->stride[i][d];
    }
}

static int64_t loop_numel(const cnn_loop *loop)
{
    int64_t n = 1;
    for (int d = 0; d < loop->ndims; d++)
        n *= loop->size[d];
    return n;
}

/* A row kernel: n elements of output o (stride so) from inputs a and b. */
typedef void (*row_kernel)(int64_t n, void *o, int64_t so, const void *a, int64_t sa,
                           const void *b, int64_t sb);

/* Runs 'kernel' over blocks of the loop's rows; base[i] points at operand
 * i's first element, esize[i] is its element size. Operand 0 is written. */
static void run_loop(const cnn_loop *loop, char *const *base, const size_t *esize,
                     row_kernel kernel)
{
    int64_t total = loop_numel(loop);
    if (total == 0)
        return;
    int64_t width = loop->size[0];
    int64_t per_row = (width + BLOCK - 1) / BLOCK;
    int64_t blocks = total / width * per_row;
    int nops = loop->noperands;
#pragma omp parallel for if (total > PARALLEL_MIN) schedule(static)
    for (int64_t blk = 0; blk < blocks; blk++) {
        int64_t start = blk % per_row * BLOCK;
        int64_t n = width - start < BLOCK ? width - start : BLOCK;
        int64_t off[CNN_LOOP_MAX_OPERANDS];
        char *p[CNN_LOOP_MAX_OPERANDS] = {NULL, NULL, NULL};
        int64_t s[CNN_LOOP_MAX_OPERANDS] = {0, 0, 0};
        cnn_loop_row_offsets(loop, blk / per_row, off);
        for (int i = 0; i < nops; i++) {
            s[i] = loop->stride[i][0];
            p[i] = base[i] + (off[i] + start * s[i]) * (int64_t)esize[i];
        }
        kernel(n, p[0], s[0], p[1], s[1], p[2], s[2]);
    }
}

/* Loops specialised for the common layouts (contiguous, scalar on either
 * side) so that the compiler vectorises them. */
#define ROW_LOOP(EXPR)                                                                   \
    if (so == 1 && sa == 1 && sb == 1) {                                                 \
        for (int64_t i = 0; i < n; i++) {                                                \
            TA x = a[i];                                                                 \
            TB y = b[i];                                                                 \
            o[i] = (EXPR);                                                               \
        }                                                                                \
    } else if (so == 1 && sa == 1 && sb == 0) {                                          \
        TB y = b[0];                                                                     \
        for (int64_t i = 0; i < n; i++) {                                                \
            TA x = a[i];                                                                 \
            o[i] = (EXPR);                                                               \
        }                                                                                \
    } else if (so == 1 && sa == 0 && sb == 1) {                                          \
        TA x = a[0];                                                                     \
        for (int64_t i = 0; i < n; i++) {                                                \
            TB y = b[i];                                                                 \
            o[i] = (EXPR);                                                               \
        }                                                                                \
    } else {                                                                             \
        for (int64_t i = 0; i < n; i++) {                                                \
            TA x = a[i * sa];                                                            \
            TB y = b[i * sb];                                                            \
            o[i * so] = (EXPR);                                                          \
        }                                                                                \
    }

#define DEFINE_KERNEL(NAME, TO_, TA_, TB_, EXPR)                                         \
    static void NAME(int64_t n, void *o_, int64_t so, const void *a_, int64_t sa,        \
                     const void *b_, int64_t sb)                                         \
    {                                                                                    \
        typedef TA_ TA;                                                                  \
        typedef TB_ TB;                                                                  \
        TO_ *o = o_;                                                                     \
        const TA *a = a_;                                                                \
        const TB *b = b_;                                                                \
        ROW_LOOP(EXPR)                                                                   \
    }

/* Julia's max and min: a NaN on either side wins. */
static inline float max_f32(float x, float y) { return x > y || x != x ? x : y; }
static inline float min_f32(float x, float y) { return x < y || x != x ? x : y; }

/* Integer arithmetic wraps around as Julia's does; unsigned arithmetic
 * keeps it defined in C. */
static inline int32_t wrap(uint32_t v) { return (int32_t)v; }

static int32_t pow_i32(int32_t x, int32_t y)
{
    if (y < 0) /* the real result truncated towards zero */
        return x == 1 ? 1 : x == -1 ? (y % 2 ? -1 : 1) : 0;
    uint32_t result = 1, base = (uint32_t)x;
    for (uint32_t e = (uint32_t)y; e; e >>= 1) {
        if (e & 1)
            result *= base;
        base *= base;
    }
    return wrap(result);
}

DEFINE_KERNEL(add_f32, float, float, float, x + y)
DEFINE_KERNEL(sub_f32, float, float, float, x - y)
DEFINE_KERNEL(mul_f32, float, float, float, x *y)
DEFINE_KERNEL(div_f32, float, float, float, x / y)
DEFINE_KERNEL(pow_f32, float, float, float, powf(x, y))
DEFINE_KERNEL(max_f32_row, float, float, float, max_f32(x, y))
DEFINE_KERNEL(min_f32_row, float, float, float, min_f32(x, y))
DEFINE_KERNEL(eq_f32, float, float, float, x == y ? 1.0f : 0.0f)
DEFINE_KERNEL(ne_f32, float, float, float, x != y ? 1.0f : 0.0f)
DEFINE_KERNEL(lt_f32, float, float, float, x < y ? 1.0f : 0.0f)
DEFINE_KERNEL(le_f32, float, float, float, x <= y ? 1.0f : 0.0f)
DEFINE_KERNEL(gt_f32, float, float, float, x > y ? 1.0f : 0.0f)
DEFINE_KERNEL(ge_f32, float, float, float, x >= y ? 1.0f : 0.0f)

DEFINE_KERNEL(add_i32, int32_t, int32_t, int32_t, wrap((uint32_t)x + (uint32_t)y))
DEFINE_KERNEL(sub_i32, int32_t, int32_t, int32_t, wrap((uint32_t)x - (uint32_t)y))
DEFINE_KERNEL(mul_i32, int32_t, int32_t, int32_t, wrap((uint32_t)x *(uint32_t)y))
DEFINE_KERNEL(div_i32, float, int32_t, int32_t, (float)((double)x / (double)y))
DEFINE_KERNEL(pow_i32_row, int32_t, int32_t, int32_t, pow_i32(x, y))
DEFINE_KERNEL(max_i32, int32_t, int32_t, int32_t, x > y ? x : y)
DEFINE_KERNEL(min_i32, int32_t, int32_t, int32_t, x < y ? x : y)
DEFINE_KERNEL(eq_i32, float, int32_t, int32_t, x == y ? 1.0f : 0.0f)
DEFINE_KERNEL(ne_i32, float, int32_t, int32_t, x != y ? 1.0f : 0.0f)
DEFINE_KERNEL(lt_i32, float, int32_t, int32_t, x < y ? 1.0f : 0.0f)
DEFINE_KERNEL(le_i32, float, int32_t, int32_t, x <= y ? 1.0f : 0.0f)
DEFINE_KERNEL(gt_i32, float, int32_t, int32_t, x > y ? 1.0f : 0.0f)
DEFINE_KERNEL(ge_i32, float, int32_t, int32_t, x >= y ? 1.0f : 0.0f)

static const row_kernel f32_kernels[CNN_BINARY_COUNT] = {
    add_f32, sub_f32, mul_f32, div_f32, pow_f32, max_f32_row, min_f32_row,
    eq_f32,  ne_f32,  lt_f32,  le_f32,  gt_f32,  ge_f32,
};

static const row_kernel i32_kernels[CNN_BINARY_COUNT] = {
    add_i32, sub_i32, mul_i32, div_i32, pow_i32_row, max_i32, min_i32,
    eq_i32,  ne_i32,  lt_i32,  le_i32,  gt_i32,      ge_i32,
};

static bool is_comparison(cnn_binary_op op)
{
    return op >= CNN_BINARY_EQ && op <= CNN_BINARY_GE;
}

cnn_dtype cnn_binary_result_dtype(cnn_binary_op op, cnn_dtype a, cnn_dtype b)
{
    if (is_comparison(op) || op == CNN_BINARY_DIV)
        return CNN_FLOAT32;
    return a == CNN_INT32 && b == CNN_INT32 ? CNN_INT32 : CNN_FLOAT32;
}

/* An operand ready for a kernel: the caller's tensor, or a copy converted
 * to the computation type or moved out of the output's way. */
typedef struct operand {
    cnn_tensor t;
    cnn_storage temp;
} operand;

/* Whether writing 'out' could change elements of 'in' before they are
 * read: they share storage and an element of out is not exactly the
 * element of in at the same index. */
static bool overlaps(const cnn_tensor *in, const cnn_tensor *out)
{
    if (in->storage != out->storage)
        return false;
    if (in->offset != out->offset || !sizes_match(in, out->ndims, out->size))
        return true;
    for (int d = 0; d < in->ndims; d++)
        if (in->size[d] != 1 && in->stride[d] != out->stride[d])
            return true;
    return false;
}

static cnn_status prepare(operand *p, const cnn_tensor *in, cnn_dtype dtype,
                          const cnn_tensor *out)
{
    p->t = *in;
    p->temp.data = NULL;
    if (!cnn_tensor_data(in))
        return cnn_fail(CNN_ERR_ARG, "attempt to use a freed tensor");
    if (in->dtype == dtype && !overlaps(in, out))
        return CNN_OK;
    cnn_tensor copy;
    cnn_status s = cnn_tensor_init(&copy, dtype, in->ndims, in->size);
    if (s == CNN_OK)
        s = cnn_storage_alloc(&p->temp, cnn_tensor_bytes(&copy));
    if (s != CNN_OK)
        return s;
    copy.storage = &p->temp;
    p->t = copy;
    return cnn_tensor_copy(&p->t, in);
}

static void release(operand *p)
{
    if (p->temp.data)
        cnn_storage_free(&p->temp);
}

static cnn_status check_out(const cnn_tensor *out, int ndims, const int64_t *size,
                            cnn_dtype dtype)
{
    if (!cnn_tensor_data(out))
        return cnn_fail(CNN_ERR_ARG, "attempt to use a freed tensor");
    if (!sizes_match(out, ndims, size)) {
        cnn_tensor result;
        cnn_tensor_init(&result, dtype, ndims, size);
        return shape_mismatch("out has size %s, the result %s", out, &result);
    }
    if (out->dtype != dtype)
        return cnn_fail(CNN_ERR_ARG, "out is %s, the result %s",
                        cnn_dtype_name(out->dtype), cnn_dtype_name(dtype));
    return CNN_OK;
}

static void run_kernel(row_kernel kernel, cnn_tensor *out, int ninputs,
                       const cnn_tensor *inputs)
{
    const cnn_tensor *ops[CNN_LOOP_MAX_OPERANDS] = {
        out, &inputs[0], ninputs > 1 ? &inputs[1] : &inputs[0]};
    cnn_loop loop;
    cnn_loop_plan(&loop, out->ndims, out->size, 1 + ninputs, ops);
    char *base[CNN_LOOP_MAX_OPERANDS];
    size_t esize[CNN_LOOP_MAX_OPERANDS];
    for (int i = 0; i < CNN_LOOP_MAX_OPERANDS; i++) {
        base[i] = cnn_tensor_data(ops[i]);
        esize[i] = cnn_dtype_size(ops[i]->dtype);
    }
    if (ninputs == 1) { /* unary kernels ignore b: give them a valid one */
        loop.noperands = 3;
        for (int d = 0; d < loop.ndims; d++)
            loop.stride[2][d] = 0;
    }
    run_loop(&loop, base, esize, kernel);
}

cnn_status cnn_binary(cnn_binary_op op, const cnn_tensor *a, const cnn_tensor *b,
                      cnn_tensor *out)
{
    if ((unsigned)op >= CNN_BINARY_COUNT)
        return cnn_fail(CNN_ERR_ARG, "unknown binary operation %d", (int)op);
    int ndims;
    int64_t size[CNN_MAX_DIMS];
    cnn_status s = cnn_broadcast_sizes(a, b, &ndims, size);
    if (s == CNN_OK)
        s = check_out(out, ndims, size, cnn_binary_result_dtype(op, a->dtype, b->dtype));
    if (s != CNN_OK)
        return s;
    bool integer = a->dtype == CNN_INT32 && b->dtype == CNN_INT32;
    cnn_dtype compute = integer ? CNN_INT32 : CNN_FLOAT32;
    operand pa, pb;
    pb.temp.data = NULL;
    if ((s = prepare(&pa, a, compute, out)) == CNN_OK &&
        (s = prepare(&pb, b, compute, out)) == CNN_OK) {
        cnn_tensor inputs[2] = {pa.t, pb.t};
        run_kernel(integer ? i32_kernels[op] : f32_kernels[op], out, 2, inputs);
    }
    release(&pa);
    release(&pb);
    return s;
}

bool cnn_binary_keeps_layout(cnn_binary_op op, const cnn_tensor *a, const cnn_tensor *b)
{
    bool zero_to_zero = op == CNN_BINARY_ADD || op == CNN_BINARY_SUB ||
                        op == CNN_BINARY_MUL || op == CNN_BINARY_MAX ||
                        op == CNN_BINARY_MIN;
    return zero_to_zero && a->blocked && b->blocked && a->dtype == CNN_FLOAT32 &&
           b->dtype == CNN_FLOAT32 && cnn_tensor_same_size(a, b) &&
           dnnl_memory_desc_equal(&a->layout, &b->layout) && cnn_tensor_data(a) &&
           cnn_tensor_data(b);
}

/* The whole buffer of a blocked tensor, padding included, as a vector. */
static void buffer_vector(cnn_tensor *v, const cnn_tensor *t)
{
    int64_t n = (int64_t)(dnnl_memory_desc_get_size(&t->layout) / sizeof(float));
    cnn_tensor_init(v, CNN_FLOAT32, 1, &n);
    v->storage = t->storage;
    v->offset = t->offset;
}

cnn_status cnn_binary_in_layout(cnn_binary_op op, const cnn_tensor *a,
                                const cnn_tensor *b, cnn_tensor *out)
{
    if (!cnn_binary_keeps_layout(op, a, b) || !cnn_binary_keeps_layout(op, a, out))
        return cnn_fail(CNN_ERR_ARG, "operands of different layouts");
    cnn_tensor inputs[2], vo;
    buffer_vector(&inputs[0], a);
    buffer_vector(&inputs[1], b);
    buffer_vector(&vo, out);
    run_kernel(f32_kernels[op], &vo, 2, inputs);
    return CNN_OK;
}

/* Unary kernels: the same row loop with b unused. */
#define DEFINE_UNARY(NAME, TO_, TA_, EXPR)                                               \
    static void NAME(int64_t n, void *o_, int64_t so, const void *a_, int64_t sa,        \
                     const void *b_, int64_t sb)                                         \
    {                                                                                    \
        (void)b_;                                                                        \
        (void)sb;                                                                        \
        TO_ *o = o_;                                                                     \
        const TA_ *a = a_;                                                               \
        if (so == 1 && sa == 1) {                                                        \
            for (int64_t i = 0; i < n; i++) {                                            \
                TA_ x = a[i];                                                            \
                o[i] = (EXPR);                                                           \
            }                                                                            \
        } else {                                                                         \
            for (int64_t i = 0; i < n; i++) {                                            \
                TA_ x = a[i * sa];                                                       \
                o[i * so] = (EXPR);                                                      \
            }                                                                            \
        }                                                                                \
    }

static inline float relu_f32(float x) { return x != x ? x : x > 0 ? x : 0.0f; }

DEFINE_UNARY(neg_f32, float, float, -x)
DEFINE_UNARY(exp_f32, float, float, expf(x))
DEFINE_UNARY(log_f32, float, float, logf(x))
DEFINE_UNARY(sqrt_f32, float, float, sqrtf(x))
DEFINE_UNARY(abs_f32, float, float, fabsf(x))
DEFINE_UNARY(relu_f32_row, float, float, relu_f32(x))
DEFINE_UNARY(sigmoid_f32, float, float, 1.0f / (1.0f + expf(-x)))
DEFINE_UNARY(tanh_f32, float, float, tanhf(x))

DEFINE_UNARY(neg_i32, int32_t, int32_t, wrap(0u - (uint32_t)x))
DEFINE_UNARY(abs_i32, int32_t, int32_t, x < 0 ? wrap(0u - (uint32_t)x) : x)
DEFINE_UNARY(relu_i32, int32_t, int32_t, x > 0 ? x : 0)

static const row_kernel unary_f32_kernels[CNN_UNARY_COUNT] = {
    neg_f32, exp_f32, log_f32, sqrt_f32, abs_f32, relu_f32_row, sigmoid_f32, tanh_f32,
};

/* Integer results only where Julia keeps the integer type. */
static const row_kernel unary_i32_kernels[CNN_UNARY_COUNT] = {
    [CNN_UNARY_NEG] = neg_i32,
    [CNN_UNARY_ABS] = abs_i32,
    [CNN_UNARY_RELU] = relu_i32,
};

typedef struct eltwise_form {
    bool available;
    cnn_activation kind;
    float alpha;
} eltwise_form;

/* oneDNN 2.6's log is off by up to 1e-6 absolute, which near 1 is a large
 * relative error (log(1.0001f) comes out 1.4% low); logf keeps Julia's
 * accuracy, so log always takes the loop. */
static const eltwise_form eltwise_forms[CNN_UNARY_COUNT] = {
    [CNN_UNARY_NEG] = {true, CNN_ACTIVATION_LINEAR, -1.0f},
    [CNN_UNARY_EXP] = {true, CNN_ACTIVATION_EXP, 0.0f},
    [CNN_UNARY_LOG] = {false, CNN_ACTIVATION_LOG, 0.0f},
    [CNN_UNARY_SQRT] = {true, CNN_ACTIVATION_SQRT, 0.0f},
    [CNN_UNARY_ABS] = {true, CNN_ACTIVATION_ABS, 0.0f},
    [CNN_UNARY_RELU] = {true, CNN_ACTIVATION_RELU, 0.0f},
    [CNN_UNARY_SIGMOID] = {true, CNN_ACTIVATION_SIGMOID, 0.0f},
    [CNN_UNARY_TANH] = {true, CNN_ACTIVATION_TANH, 0.0f},
};

cnn_dtype cnn_unary_result_dtype(cnn_unary_op op, cnn_dtype x)
{
    if (x == CNN_INT32 && (unsigned)op < CNN_UNARY_COUNT && unary_i32_kernels[op])
        return CNN_INT32;
    return CNN_FLOAT32;
}

cnn_status cnn_unary(cnn_unary_op op, const cnn_tensor *x, cnn_tensor *out)
{
    if ((unsigned)op >= CNN_UNARY_COUNT)
        return cnn_fail(CNN_ERR_ARG, "unknown unary operation %d", (int)op);
    cnn_dtype dtype = cnn_unary_result_dtype(op, x->dtype);
    cnn_status s = check_out(out, x->ndims, x->size, dtype);
    if (s != CNN_OK)
        return s;
    if (!cnn_tensor_data(x))
        return cnn_fail(CNN_ERR_ARG, "attempt to use a freed tensor");
    const eltwise_form *f = &eltwise_forms[op];
    if (f->available && x->dtype == CNN_FLOAT32 && cnn_tensor_is_contiguous(x) &&
        cnn_tensor_is_contiguous(out) && !overlaps(x, out))
        return cnn_activation_forward(f->kind, f->alpha, 0.0f, x, out);
    operand px;
    if ((s = prepare(&px, x, dtype, out)) == CNN_OK) {
        row_kernel k = dtype == CNN_INT32 ? unary_i32_kernels[op] : unary_f32_kernels[op];
        run_kernel(k, out, 1, &px.t);
    }
    release(&px);
    return s;
}

static inline double load(const char *base, cnn_dtype dtype, int64_t off)
{
    return dtype == CNN_INT32 ? ((const int32_t *)base)[off] : ((const float *)base)[off];
}

typedef struct pair_test {
    double rtol, atol;
    bool approx; /* false: exact equality */
} pair_test;

static bool pair_ok(const pair_test *t, double x, double y)
{
    if (x == y)
        return true;
    if (!t->approx || !isfinite(x) || !isfinite(y))
        return false;
    double scale = t->rtol * fmax(fabs(x), fabs(y));
    return fabs(x - y) <= fmax(t->atol, scale);
}

/* Whether every pair of elements of a and b (same sizes) passes 'test'. */
static bool all_pairs(const cnn_tensor *a, const cnn_tensor *b, const pair_test *test)
{
    const cnn_tensor *ops[2] = {a, b};
    cnn_loop loop;
    cnn_loop_plan(&loop, a->ndims, a->size, 2, ops);
    int64_t total = loop_numel(&loop), width = loop.size[0];
    const char *pa = cnn_tensor_data(a), *pb = cnn_tensor_data(b);
    if (total == 0)
        return true;
    if (!pa || !pb)
        return false;
    int64_t per_row = (width + BLOCK - 1) / BLOCK, blocks = total / width * per_row;
    int64_t sa = loop.stride[0][0], sb = loop.stride[1][0];
    bool ok = true;
#pragma omp parallel for if (total > PARALLEL_MIN) schedule(static) reduction(&& : ok)
    for (int64_t blk = 0; blk < blocks; blk++) {
        int64_t start = blk % per_row * BLOCK;
        int64_t end = width - start < BLOCK ? width : start + BLOCK;
        int64_t off[2];
        cnn_loop_row_offsets(&loop, blk / per_row, off);
        for (int64_t i = start; i < end && ok; i++)
            ok = pair_ok(test, load(pa, a->dtype, off[0] + i * sa),
                         load(pb, b->dtype, off[1] + i * sb));
    }
    return ok;
}

bool cnn_tensor_equal(const cnn_tensor *a, const cnn_tensor *b)
{
    pair_test exact = {0.0, 0.0, false};
    return cnn_tensor_same_size(a, b) && all_pairs(a, b, &exact);
}

cnn_status cnn_isapprox(const cnn_tensor *a, const cnn_tensor *b, double rtol,
                        double atol, bool *result)
{
    if (!cnn_tensor_same_size(a, b))
        return shape_mismatch("sizes %s and %s differ", a, b);
    if (!(rtol >= 0) || !(atol >= 0))
        return cnn_fail(CNN_ERR_ARG, "tolerances must be non-negative");
    pair_test approx = {rtol, atol, true};
    *result = all_pairs(a, b, &approx);
    return CNN_OK;
}

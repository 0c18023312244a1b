#include "matmul.h"

#include <oneapi/dnnl/dnnl.h>

#include "context.h"

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

static cnn_status check_matrix(const cnn_tensor *t)
{
    char s[128];
    if (t->ndims < 1 || t->ndims > 2)
        return cnn_fail(CNN_ERR_SHAPE, "1-D or 2-D tensors expected, got %s",
                        cnn_shape_string(t, s, sizeof s));
    if (t->dtype != CNN_FLOAT32)
        return cnn_fail(CNN_ERR_ARG, "Float32 tensors expected, got %s",
                        cnn_dtype_name(t->dtype));
    if (!cnn_tensor_data(t))
        return cnn_fail(CNN_ERR_ARG, "attempt to use a freed tensor");
    return CNN_OK;
}

static int64_t rows_of(const cnn_tensor *t) { return t->size[0]; }
static int64_t cols_of(const cnn_tensor *t) { return t->ndims == 2 ? t->size[1] : 1; }
static int64_t col_stride(const cnn_tensor *t)
{
    return t->ndims == 2 ? t->stride[1] : 0;
}

cnn_status cnn_matmul_sizes(const cnn_tensor *a, const cnn_tensor *b, int *ndims,
                            int64_t *size)
{
    cnn_status s;
    if ((s = check_matrix(a)) != CNN_OK || (s = check_matrix(b)) != CNN_OK)
        return s;
    if (cols_of(a) != rows_of(b)) {
        char x[128], y[128];
        return cnn_fail(CNN_ERR_SHAPE,
                        "sizes %s and %s do not match (inner dimensions %lld and %lld)",
                        cnn_shape_string(a, x, sizeof x),
                        cnn_shape_string(b, y, sizeof y), (long long)cols_of(a),
                        (long long)rows_of(b));
    }
    size[0] = rows_of(a);
    size[1] = cols_of(b);
    *ndims = b->ndims == 1 ? 1 : 2;
    return CNN_OK;
}

/* A matrix as sgemm sees it. sgemm is row-major, and a column-major r×c
 * matrix is, byte for byte, its row-major c×r transpose: so each operand
 * is passed as its transpose, untransposed ('N') when it is column-major
 * and transposed ('T') when it is a transposed (row-major) view. */
typedef struct gemm_operand {
    const float *data;
    char trans;
    int64_t ld;
    cnn_storage temp;
} gemm_operand;

static bool column_major_ld(int64_t r, int64_t c, int64_t s0, int64_t s1, int64_t *ld)
{
    if ((r != 1 && s0 != 1) || (c != 1 && s1 < r))
        return false;
    *ld = c == 1 ? max64(r, 1) : s1;
    return true;
}

static bool row_major_ld(int64_t r, int64_t c, int64_t s0, int64_t s1, int64_t *ld)
{
    if ((c != 1 && s1 != 1) || (r != 1 && s0 < c))
        return false;
    *ld = r == 1 ? max64(c, 1) : s0;
    return true;
}

static cnn_status gemm_operand_of(const cnn_tensor *t, gemm_operand *g)
{
    int64_t r = rows_of(t), c = cols_of(t), s0 = t->stride[0], s1 = col_stride(t);
    g->temp.data = NULL;
    g->data = cnn_tensor_f32(t);
    if (column_major_ld(r, c, s0, s1, &g->ld)) {
        g->trans = 'N';
        return CNN_OK;
    }
    if (row_major_ld(r, c, s0, s1, &g->ld)) {
        g->trans = 'T';
        return CNN_OK;
    }
    /* any other strides: a contiguous copy */
    cnn_tensor copy;
    cnn_status s = cnn_tensor_init(&copy, CNN_FLOAT32, t->ndims, t->size);
    if (s == CNN_OK)
        s = cnn_storage_alloc(&g->temp, cnn_tensor_bytes(&copy));
    if (s != CNN_OK)
        return s;
    copy.storage = &g->temp;
    g->data = cnn_tensor_f32(&copy);
    g->trans = 'N';
    g->ld = max64(r, 1);
    return cnn_tensor_copy(&copy, t);
}

static void gemm_operand_release(gemm_operand *g)
{
    if (g->temp.data)
        cnn_storage_free(&g->temp);
}

static cnn_status check_out(const cnn_tensor *a, const cnn_tensor *b,
                            const cnn_tensor *out, int ndims, const int64_t *size)
{
    cnn_tensor expected;
    cnn_status s = cnn_tensor_init(&expected, CNN_FLOAT32, ndims, size);
    if (s != CNN_OK)
        return s;
    if (!cnn_tensor_same_size(out, &expected) || out->dtype != CNN_FLOAT32 ||
        !cnn_tensor_is_contiguous(out)) {
        char x[128], y[128];
        return cnn_fail(CNN_ERR_SHAPE, "out must be a contiguous Float32 %s, got %s %s",
                        cnn_shape_string(&expected, x, sizeof x),
                        cnn_dtype_name(out->dtype), cnn_shape_string(out, y, sizeof y));
    }
    if (!cnn_tensor_data(out))
        return cnn_fail(CNN_ERR_ARG, "attempt to use a freed tensor");
    if (out->storage == a->storage || out->storage == b->storage)
        return cnn_fail(CNN_ERR_ARG, "out must not share storage with an input");
    return CNN_OK;
}

cnn_status cnn_matmul(const cnn_tensor *a, const cnn_tensor *b, cnn_tensor *out)
{
    int ndims;
    int64_t size[2];
    cnn_status s = cnn_matmul_sizes(a, b, &ndims, size);
    if (s == CNN_OK)
        s = check_out(a, b, out, ndims, size);
    if (s != CNN_OK)
        return s;
    int64_t m = size[0], n = size[1], k = cols_of(a);
    if (m == 0 || n == 0)
        return CNN_OK;
    if (k == 0) {
        cnn_tensor_fill(out, 0.0);
        return CNN_OK;
    }
    gemm_operand ga, gb;
    gb.temp.data = NULL;
    if ((s = gemm_operand_of(a, &ga)) == CNN_OK &&
        (s = gemm_operand_of(b, &gb)) == CNN_OK) {
        /* out^T (n×m, row-major) = b^T (n×k) * a^T (k×m) */
        dnnl_status_t ds = dnnl_sgemm(gb.trans, ga.trans, n, m, k, 1.0f, gb.data, gb.ld,
                                      ga.data, ga.ld, 0.0f, cnn_tensor_f32(out), m);
        if (ds != dnnl_success)
            s = cnn_fail(CNN_ERR_DNNL, "dnnl_sgemm: %s", cnn_dnnl_status_string(ds));
    }
    gemm_operand_release(&ga);
    gemm_operand_release(&gb);
    return s;
}

cnn_status cnn_transpose_sizes(const cnn_tensor *a, int *ndims, int64_t *size)
{
    if (a->ndims < 1 || a->ndims > 2) {
        char s[128];
        return cnn_fail(CNN_ERR_SHAPE, "1-D or 2-D tensor expected, got %s",
                        cnn_shape_string(a, s, sizeof s));
    }
    size[0] = cols_of(a);
    size[1] = rows_of(a);
    *ndims = 2;
    return CNN_OK;
}

cnn_status cnn_transpose(const cnn_tensor *a, cnn_tensor *out)
{
    int ndims;
    int64_t size[2];
    cnn_status s = cnn_transpose_sizes(a, &ndims, size);
    if (s != CNN_OK)
        return s;
    if (!cnn_tensor_data(a) || !cnn_tensor_data(out))
        return cnn_fail(CNN_ERR_ARG, "attempt to use a freed tensor");
    if (out->storage == a->storage)
        return cnn_fail(CNN_ERR_ARG, "out must not share storage with the input");
    cnn_tensor view = *a;
    view.ndims = 2;
    view.size[0] = size[0];
    view.size[1] = size[1];
    view.stride[0] = col_stride(a);
    view.stride[1] = a->stride[0];
    return cnn_tensor_copy(out, &view);
}

/* Unit tests of matmul and transpose: column-major results, transposed
 * (row-major) and strided operands passed to sgemm as they are, vectors,
 * empty sizes, errors. */

#include "matmul.h"
#include "test_util.h"

static float at(const cnn_tensor *t, int64_t i, int64_t j)
{
    return cnn_tensor_f32(t)[i * t->stride[0] + j * (t->ndims == 2 ? t->stride[1] : 0)];
}

/* c == a*b by a direct triple loop, exactly (small integers). */
static int mismatches(const cnn_tensor *a, const cnn_tensor *b, const cnn_tensor *c)
{
    int64_t m = a->size[0], k = a->ndims == 2 ? a->size[1] : 1;
    int64_t n = b->ndims == 2 ? b->size[1] : 1;
    int bad = 0;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            float s = 0;
            for (int64_t p = 0; p < k; p++)
                s += at(a, i, p) * at(b, p, j);
            bad += at(c, i, j) != s;
        }
    return bad;
}

static void fill_small_integers(cnn_tensor *t, int seed)
{
    float *p = cnn_tensor_f32(t);
    for (int64_t i = 0; i < cnn_tensor_numel(t); i++)
        p[i] = (float)((i * 7 + seed * 3) % 11) - 5.0f;
}

static void test_plain_and_transposed_operands(void)
{
    int64_t s35[2] = {3, 5}, s54[2] = {5, 4}, s34[2] = {3, 4}, s53[2] = {5, 3},
            s45[2] = {4, 5};
    cnn_tensor a = make_tensor(CNN_FLOAT32, 2, s35), b = make_tensor(CNN_FLOAT32, 2, s54),
               c = make_tensor(CNN_FLOAT32, 2, s34);
    fill_small_integers(&a, 1);
    fill_small_integers(&b, 2);
    EXPECT(cnn_matmul(&a, &b, &c) == CNN_OK);
    EXPECT(mismatches(&a, &b, &c) == 0);

    /* a as the transposed view of a 5×3 matrix, b of a 4×5 one */
    cnn_tensor at_store = make_tensor(CNN_FLOAT32, 2, s53),
               bt_store = make_tensor(CNN_FLOAT32, 2, s45);
    fill_small_integers(&at_store, 3);
    fill_small_integers(&bt_store, 4);
    cnn_tensor av = at_store, bv = bt_store;
    av.size[0] = 3;
    av.size[1] = 5;
    av.stride[0] = 5;
    av.stride[1] = 1;
    bv.size[0] = 5;
    bv.size[1] = 4;
    bv.stride[0] = 4;
    bv.stride[1] = 1;
    EXPECT(cnn_matmul(&av, &bv, &c) == CNN_OK);
    EXPECT(mismatches(&av, &bv, &c) == 0);
    EXPECT(cnn_matmul(&av, &b, &c) == CNN_OK);
    EXPECT(mismatches(&av, &b, &c) == 0);

    /* neither layout (strides 2 and 10): copied first */
    int64_t s10[2] = {10, 10};
    cnn_tensor wide = make_tensor(CNN_FLOAT32, 2, s10);
    fill_small_integers(&wide, 5);
    cnn_tensor odd = wide;
    odd.size[0] = 3;
    odd.size[1] = 5;
    odd.stride[0] = 2;
    odd.stride[1] = 20;
    EXPECT(cnn_matmul(&odd, &b, &c) == CNN_OK);
    EXPECT(mismatches(&odd, &b, &c) == 0);
    drop_tensor(&a);
    drop_tensor(&b);
    drop_tensor(&c);
    drop_tensor(&at_store);
    drop_tensor(&bt_store);
    drop_tensor(&wide);
}

static void test_vectors_and_empty(void)
{
    int64_t s23[2] = {2, 3}, s3[1] = {3}, s2[1] = {2};
    cnn_tensor a = make_tensor(CNN_FLOAT32, 2, s23), v = make_tensor(CNN_FLOAT32, 1, s3),
               y = make_tensor(CNN_FLOAT32, 1, s2);
    fill_small_integers(&a, 6);
    fill_small_integers(&v, 7);
    int ndims;
    int64_t size[2];
    EXPECT(cnn_matmul_sizes(&a, &v, &ndims, size) == CNN_OK && ndims == 1 &&
           size[0] == 2);
    EXPECT(cnn_matmul(&a, &v, &y) == CNN_OK);
    EXPECT(mismatches(&a, &v, &y) == 0);

    int64_t s20[2] = {2, 0}, s02[2] = {0, 2}, s22[2] = {2, 2};
    cnn_tensor e1 = make_tensor(CNN_FLOAT32, 2, s20),
               e2 = make_tensor(CNN_FLOAT32, 2, s02),
               z = make_tensor(CNN_FLOAT32, 2, s22);
    cnn_tensor_fill(&z, 9);
    EXPECT(cnn_matmul(&e1, &e2, &z) == CNN_OK);
    EXPECT(cnn_tensor_f32(&z)[0] == 0 && cnn_tensor_f32(&z)[3] == 0);
    drop_tensor(&a);
    drop_tensor(&v);
    drop_tensor(&y);
    drop_tensor(&e1);
    drop_tensor(&e2);
    drop_tensor(&z);
}

static void test_errors(void)
{
    int64_t s23[2] = {2, 3}, s45[2] = {4, 5};
    cnn_tensor a, b;
    cnn_tensor_init(&a, CNN_FLOAT32, 2, s23);
    cnn_tensor_init(&b, CNN_FLOAT32, 2, s45);
    cnn_storage fake = {&a, 1}; /* sizes are checked before any data is read */
    a.storage = b.storage = &fake;
    int ndims;
    int64_t size[2];
    EXPECT(cnn_matmul_sizes(&a, &b, &ndims, size) == CNN_ERR_SHAPE);
    EXPECT(strcmp(cnn_error_message(),
                  "sizes 2×3 and 4×5 do not match (inner dimensions 3 and 4)") == 0);
    b.dtype = CNN_INT32;
    EXPECT(cnn_matmul_sizes(&a, &b, &ndims, size) == CNN_ERR_ARG);
    EXPECT(strcmp(cnn_error_message(), "Float32 tensors expected, got Int32") == 0);
}

static void test_transpose(void)
{
    int64_t s23[2] = {2, 3}, s32[2] = {3, 2};
    cnn_tensor a = make_tensor(CNN_FLOAT32, 2, s23), t = make_tensor(CNN_FLOAT32, 2, s32);
    fill_small_integers(&a, 8);
    EXPECT(cnn_transpose(&a, &t) == CNN_OK);
    int bad = 0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            bad += at(&a, i, j) != at(&t, j, i);
    EXPECT(bad == 0);
    drop_tensor(&a);
    drop_tensor(&t);
}

int main(void)
{
    test_plain_and_transposed_operands();
    test_vectors_and_empty();
    test_errors();
    test_transpose();
    return test_report();
}

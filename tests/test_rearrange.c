/* cat, flip, pad_constant, repeat and repeat's backward against naive
 * loops over explicit indices, on small column-major tensors, and their
 * shape errors. */
#include "rearrange.h"
#include "test_util.h"

/* x[i, j] of a 2-D tensor (0-based), through its strides. */
static float at2(const cnn_tensor *t, int64_t i, int64_t j)
{
    return cnn_tensor_f32(t)[t->offset + i * t->stride[0] + j * t->stride[1]];
}

static void test_cat(void)
{
    int64_t sa[2] = {2, 3}, sb[2] = {2, 2}, sc[2] = {4, 3};
    cnn_tensor a = make_tensor(CNN_FLOAT32, 2, sa), b = make_tensor(CNN_FLOAT32, 2, sb);
    iota(&a, 1);
    iota(&b, 10);
    const cnn_tensor *ab[2] = {&a, &b};
    int nd;
    int64_t size[CNN_MAX_DIMS];
    EXPECT_OK(cnn_cat_sizes(ab, 2, 1, &nd, size));
    EXPECT(nd == 2 && size[0] == 2 && size[1] == 5);
    cnn_tensor y = make_tensor(CNN_FLOAT32, 2, size);
    EXPECT_OK(cnn_cat(&y, ab, 2, 1));
    for (int64_t i = 0; i < 2; i++)
        for (int64_t j = 0; j < 5; j++)
            EXPECT(at2(&y, i, j) == (j < 3 ? at2(&a, i, j) : at2(&b, i, j - 3)));
    /* along a new third dimension: sizes must agree in 1 and 2 */
    EXPECT(cnn_cat_sizes(ab, 2, 2, &nd, size) == CNN_ERR_SHAPE);
    EXPECT(strstr(cnn_error_message(), "tensor 2 is 2×2, tensor 1 is 2×3") != NULL);
    const cnn_tensor *aa[2] = {&a, &a};
    EXPECT_OK(cnn_cat_sizes(aa, 2, 2, &nd, size));
    EXPECT(nd == 3 && size[2] == 2);
    cnn_tensor z = make_tensor(CNN_FLOAT32, 2, sc);
    EXPECT(cnn_cat(&z, ab, 2, 1) == CNN_ERR_SHAPE);
    drop_tensor(&a);
    drop_tensor(&b);
    drop_tensor(&y);
    drop_tensor(&z);
}

static void test_flip(void)
{
    int64_t s[2] = {3, 4};
    cnn_tensor x = make_tensor(CNN_FLOAT32, 2, s), y = make_tensor(CNN_FLOAT32, 2, s);
    iota(&x, 0);
    EXPECT_OK(cnn_flip(&y, &x, 1u));
    for (int64_t i = 0; i < 3; i++)
        for (int64_t j = 0; j < 4; j++)
            EXPECT(at2(&y, i, j) == at2(&x, 2 - i, j));
    EXPECT_OK(cnn_flip(&y, &x, 3u));
    for (int64_t i = 0; i < 3; i++)
        for (int64_t j = 0; j < 4; j++)
            EXPECT(at2(&y, i, j) == at2(&x, 2 - i, 3 - j));
    /* of a strided view: the transpose-like column 2 */
    cnn_tensor col = x;
    cnn_tensor_select(&col, 1, 2);
    int64_t three = 3;
    cnn_tensor c = make_tensor(CNN_FLOAT32, 1, &three);
    EXPECT_OK(cnn_flip(&c, &col, 1u));
    EXPECT(cnn_tensor_f32(&c)[0] == 8 && cnn_tensor_f32(&c)[2] == 6);
    EXPECT(cnn_flip(&y, &x, 4u) == CNN_ERR_ARG);
    EXPECT(strstr(cnn_error_message(), "dimension 3, but the tensor has 2 dimensions"));
    drop_tensor(&x);
    drop_tensor(&y);
    drop_tensor(&c);
}

static void test_pad(void)
{
    int64_t s[2] = {2, 3}, lo[2] = {1, 0}, hi[2] = {2, 1};
    cnn_tensor x = make_tensor(CNN_FLOAT32, 2, s);
    iota(&x, 1);
    int nd;
    int64_t size[CNN_MAX_DIMS];
    EXPECT_OK(cnn_pad_sizes(&x, lo, hi, &nd, size));
    EXPECT(nd == 2 && size[0] == 5 && size[1] == 4);
    cnn_tensor y = make_tensor(CNN_FLOAT32, 2, size);
    EXPECT_OK(cnn_pad_constant(&y, &x, lo, hi, -7));
    for (int64_t i = 0; i < 5; i++)
        for (int64_t j = 0; j < 4; j++) {
            bool inside = i >= 1 && i < 3 && j < 3;
            EXPECT(at2(&y, i, j) == (inside ? at2(&x, i - 1, j) : -7.0f));
        }
    int64_t bad[2] = {-1, 0};
    EXPECT(cnn_pad_sizes(&x, bad, hi, &nd, size) == CNN_ERR_ARG);
    /* pads whose sum would overflow (and wrap to a small size) */
    int64_t huge[2] = {INT64_MAX, INT64_MAX};
    EXPECT(cnn_pad_sizes(&x, huge, huge, &nd, size) == CNN_ERR_ARG);
    EXPECT(cnn_pad_constant(&y, &x, huge, huge, 0) == CNN_ERR_ARG);
    drop_tensor(&x);
    drop_tensor(&y);
}

static void test_repeat(void)
{
    int64_t s[2] = {2, 3}, counts[3] = {2, 1, 3};
    cnn_tensor x = make_tensor(CNN_FLOAT32, 2, s);
    iota(&x, 1);
    int nd;
    int64_t size[CNN_MAX_DIMS];
    EXPECT_OK(cnn_repeat_sizes(&x, counts, 3, &nd, size));
    EXPECT(nd == 3 && size[0] == 4 && size[1] == 3 && size[2] == 3);
    cnn_tensor y = make_tensor(CNN_FLOAT32, 3, size);
    EXPECT_OK(cnn_repeat(&y, &x, counts, 3));
    float *py = cnn_tensor_f32(&y);
    for (int64_t k = 0; k < 3; k++)
        for (int64_t j = 0; j < 3; j++)
            for (int64_t i = 0; i < 4; i++)
                EXPECT(py[i + 4 * j + 12 * k] == at2(&x, i % 2, j));
    /* the backward: each element of x gets the sum of its 6 copies */
    for (int64_t e = 0; e < 36; e++)
        py[e] = (float)e;
    cnn_tensor g = make_tensor(CNN_FLOAT32, 2, s);
    EXPECT_OK(cnn_repeat_backward(&g, &y, counts, 3));
    for (int64_t i = 0; i < 2; i++)
        for (int64_t j = 0; j < 3; j++) {
            float want = 0;
            for (int64_t k = 0; k < 3; k++)
                for (int64_t r = 0; r < 2; r++)
                    want += (float)(i + 2 * r + 4 * j + 12 * k);
            EXPECT(at2(&g, i, j) == want);
        }
    int64_t neg[1] = {-2};
    EXPECT(cnn_repeat_sizes(&x, neg, 1, &nd, size) == CNN_ERR_ARG);
    int64_t huge[1] = {INT64_MAX / 2 + 1};
    EXPECT(cnn_repeat_sizes(&x, huge, 1, &nd, size) == CNN_ERR_ARG);
    drop_tensor(&x);
    drop_tensor(&y);
    drop_tensor(&g);
}

int main(void)
{
    test_cat();
    test_flip();
    test_pad();
    test_repeat();
    return test_report();
}

/* Unit tests of reductions: values along every dimension of strided
 * tensors, Julia's empty and NaN rules, accuracy of large sums, argmax
 * ties, sum_to. */

#include "reduce.h"
#include "test_util.h"

static void test_known_values(void)
{
    int64_t s23[2] = {2, 3}; /* column-major 1..6: rows {1,3,5} {2,4,6} */
    cnn_tensor a = make_tensor(CNN_FLOAT32, 2, s23);
    iota(&a, 1);
    double v;
    EXPECT(cnn_reduce_all(CNN_REDUCE_SUM, &a, &v) == CNN_OK && v == 21);
    EXPECT(cnn_reduce_all(CNN_REDUCE_MEAN, &a, &v) == CNN_OK && v == 3.5);
    EXPECT(cnn_reduce_all(CNN_REDUCE_MAXIMUM, &a, &v) == CNN_OK && v == 6);
    EXPECT(cnn_reduce_all(CNN_REDUCE_MINIMUM, &a, &v) == CNN_OK && v == 1);

    int ndims;
    int64_t size[CNN_MAX_DIMS];
    cnn_reduce_dim_sizes(&a, 1, &ndims, size);
    EXPECT(ndims == 2 && size[0] == 2 && size[1] == 1);
    cnn_tensor rows = make_tensor(CNN_FLOAT32, ndims, size);
    EXPECT(cnn_reduce_dim(CNN_REDUCE_SUM, &a, 1, &rows) == CNN_OK);
    EXPECT(cnn_tensor_f32(&rows)[0] == 9 && cnn_tensor_f32(&rows)[1] == 12);
    EXPECT(cnn_reduce_dim(CNN_REDUCE_MAXIMUM, &a, 1, &rows) == CNN_OK);
    EXPECT(cnn_tensor_f32(&rows)[0] == 5 && cnn_tensor_f32(&rows)[1] == 6);

    cnn_reduce_dim_sizes(&a, 0, &ndims, size);
    cnn_tensor cols = make_tensor(CNN_FLOAT32, ndims, size);
    EXPECT(cnn_reduce_dim(CNN_REDUCE_MEAN, &a, 0, &cols) == CNN_OK);
    EXPECT(cnn_tensor_f32(&cols)[0] == 1.5f && cnn_tensor_f32(&cols)[2] == 5.5f);
    /* out of the wrong size */
    EXPECT(cnn_reduce_dim(CNN_REDUCE_SUM, &a, 1, &cols) == CNN_ERR_SHAPE);
    EXPECT(strcmp(cnn_error_message(), "out has size 1×3, the result 2×1") == 0);
    drop_tensor(&a);
    drop_tensor(&rows);
    drop_tensor(&cols);
}

/* Every dimension of a strided 3-D view against a direct triple loop. */
static void test_every_dimension_of_a_view(void)
{
    int64_t full[3] = {5, 4, 3};
    cnn_tensor x = make_tensor(CNN_FLOAT32, 3, full);
    float *p = cnn_tensor_f32(&x);
    for (int i = 0; i < 60; i++)
        p[i] = (float)((i * 37) % 23) - 11.0f;
    cnn_tensor v = x; /* x[2:4, :, :] : 3×4×3, not contiguous */
    v.offset = 1;
    v.size[0] = 3;
    for (int dim = 0; dim < 3; dim++) {
        int ndims;
        int64_t size[CNN_MAX_DIMS];
        cnn_reduce_dim_sizes(&v, dim, &ndims, size);
        cnn_tensor s = make_tensor(CNN_FLOAT32, ndims, size),
                   m = make_tensor(CNN_FLOAT32, ndims, size);
        cnn_tensor am = make_tensor(CNN_INT32, ndims, size);
        EXPECT(cnn_reduce_dim(CNN_REDUCE_SUM, &v, dim, &s) == CNN_OK);
        EXPECT(cnn_reduce_dim(CNN_REDUCE_MINIMUM, &v, dim, &m) == CNN_OK);
        EXPECT(cnn_argreduce_dim(CNN_ARGMIN, &v, dim, 1, &am) == CNN_OK);
        int bad = 0;
        for (int64_t k = 0; k < size[2]; k++)
            for (int64_t j = 0; j < size[1]; j++)
                for (int64_t i = 0; i < size[0]; i++) {
                    double sum = 0, lo = INFINITY;
                    int32_t at = 0;
                    for (int64_t r = 0; r < v.size[dim]; r++) {
                        int64_t idx[3] = {i, j, k};
                        idx[dim] = r;
                        float e = p[1 + idx[0] + 5 * idx[1] + 20 * idx[2]];
                        sum += e;
                        if (e < lo) {
                            lo = e;
                            at = (int32_t)r + 1;
                        }
                    }
                    int64_t o = i + size[0] * (j + size[1] * k);
                    bad += cnn_tensor_f32(&s)[o] != (float)sum;
                    bad += cnn_tensor_f32(&m)[o] != (float)lo;
                    bad += cnn_tensor_i32(&am)[o] != at;
                }
        EXPECT(bad == 0);
        drop_tensor(&s);
        drop_tensor(&m);
        drop_tensor(&am);
    }
    drop_tensor(&x);
}

static void test_empty_and_nan(void)
{
    int64_t s03[2] = {0, 3}, s13[2] = {1, 3};
    cnn_tensor e = make_tensor(CNN_FLOAT32, 2, s03);
    double v = -1;
    EXPECT(cnn_reduce_all(CNN_REDUCE_SUM, &e, &v) == CNN_OK && v == 0);
    EXPECT(cnn_reduce_all(CNN_REDUCE_MEAN, &e, &v) == CNN_OK && isnan(v));
    EXPECT(cnn_reduce_all(CNN_REDUCE_MAXIMUM, &e, &v) == CNN_ERR_ARG);
    EXPECT(strcmp(cnn_error_message(), "empty tensor") == 0);
    int64_t index;
    EXPECT(cnn_argreduce_all(CNN_ARGMAX, &e, &index) == CNN_ERR_ARG);
    cnn_tensor out = make_tensor(CNN_FLOAT32, 2, s13);
    EXPECT(cnn_reduce_dim(CNN_REDUCE_MINIMUM, &e, 0, &out) == CNN_ERR_ARG);
    EXPECT(strcmp(cnn_error_message(), "dimension 1 of 0×3 is empty") == 0);
    EXPECT(cnn_reduce_dim(CNN_REDUCE_MEAN, &e, 0, &out) == CNN_OK);
    EXPECT(isnan(cnn_tensor_f32(&out)[0]));
    drop_tensor(&e);

    cnn_tensor n = make_tensor(CNN_FLOAT32, 1, (int64_t[]){4});
    float *p = cnn_tensor_f32(&n);
    p[0] = 1;
    p[1] = NAN;
    p[2] = 5;
    p[3] = NAN;
    EXPECT(cnn_reduce_all(CNN_REDUCE_MAXIMUM, &n, &v) == CNN_OK && isnan(v));
    EXPECT(cnn_reduce_all(CNN_REDUCE_MINIMUM, &n, &v) == CNN_OK && isnan(v));
    EXPECT(cnn_argreduce_all(CNN_ARGMAX, &n, &index) == CNN_OK && index == 1);
    drop_tensor(&out);
    drop_tensor(&n);
}

static void test_argmax_ties_take_the_first(void)
{
    int64_t s[2] = {3, 2};
    cnn_tensor t = make_tensor(CNN_FLOAT32, 2, s);
    float *p = cnn_tensor_f32(&t);
    const float values[6] = {2, 7, 7, 7, 1, 7};
    memcpy(p, values, sizeof values);
    int64_t index;
    EXPECT(cnn_argreduce_all(CNN_ARGMAX, &t, &index) == CNN_OK && index == 1);
    EXPECT(cnn_argreduce_all(CNN_ARGMIN, &t, &index) == CNN_OK && index == 4);
    cnn_tensor out = make_tensor(CNN_INT32, 2, (int64_t[]){1, 2});
    EXPECT(cnn_argreduce_dim(CNN_ARGMAX, &t, 0, 1, &out) == CNN_OK);
    EXPECT(cnn_tensor_i32(&out)[0] == 2 && cnn_tensor_i32(&out)[1] == 1);
    EXPECT(cnn_argreduce_dim(CNN_ARGMAX, &t, 0, 0, &out) == CNN_OK);
    EXPECT(cnn_tensor_i32(&out)[0] == 1 && cnn_tensor_i32(&out)[1] == 0);
    drop_tensor(&t);
    drop_tensor(&out);
}

/* Ties among a million equal maxima split over threads: still the first. */
static void test_parallel_argmax_and_sums(void)
{
    int64_t n[1] = {1000000};
    cnn_tensor t = make_tensor(CNN_FLOAT32, 1, n);
    float *p = cnn_tensor_f32(&t);
    for (int64_t i = 0; i < n[0]; i++)
        p[i] = 0.1f;
    double v;
    /* 10^6 × 0.1f in float32 steps drifts to about 100958; in double the
     * sum rounds to exactly 100000 */
    EXPECT(cnn_reduce_all(CNN_REDUCE_SUM, &t, &v) == CNN_OK && v == 100000.0);
    EXPECT(cnn_reduce_all(CNN_REDUCE_MEAN, &t, &v) == CNN_OK && v == (double)0.1f);
    p[123456] = 3;
    p[765432] = 3;
    p[999999] = -1;
    int64_t index;
    EXPECT(cnn_argreduce_all(CNN_ARGMAX, &t, &index) == CNN_OK && index == 123456);
    EXPECT(cnn_argreduce_all(CNN_ARGMIN, &t, &index) == CNN_OK && index == 999999);
    p[5] = -1;
    EXPECT(cnn_argreduce_all(CNN_ARGMIN, &t, &index) == CNN_OK && index == 5);

    /* a 2-row matrix reduced along its long dimension */
    cnn_tensor m = t;
    m.ndims = 2;
    m.size[0] = 2;
    m.size[1] = 500000;
    m.stride[0] = 1;
    m.stride[1] = 2;
    cnn_tensor rows = make_tensor(CNN_FLOAT32, 2, (int64_t[]){2, 1});
    cnn_tensor at = make_tensor(CNN_INT32, 2, (int64_t[]){2, 1});
    EXPECT(cnn_reduce_dim(CNN_REDUCE_MAXIMUM, &m, 1, &rows) == CNN_OK);
    EXPECT(cnn_tensor_f32(&rows)[0] == 3 && cnn_tensor_f32(&rows)[1] == 0.1f);
    EXPECT(cnn_argreduce_dim(CNN_ARGMAX, &m, 1, 1, &at) == CNN_OK);
    EXPECT(cnn_tensor_i32(&at)[0] == 123456 / 2 + 1 && cnn_tensor_i32(&at)[1] == 1);
    drop_tensor(&t);
    drop_tensor(&rows);
    drop_tensor(&at);
}

static void test_int32(void)
{
    cnn_tensor t = make_tensor(CNN_INT32, 1, (int64_t[]){3});
    int32_t *p = cnn_tensor_i32(&t);
    p[0] = INT32_MAX;
    p[1] = INT32_MAX;
    p[2] = 5;
    double v;
    EXPECT(cnn_reduce_all(CNN_REDUCE_SUM, &t, &v) == CNN_OK && v == 2.0 * INT32_MAX + 5);
    EXPECT(cnn_reduce_result_dtype(CNN_REDUCE_SUM, CNN_INT32) == CNN_INT32);
    EXPECT(cnn_reduce_result_dtype(CNN_REDUCE_MEAN, CNN_INT32) == CNN_FLOAT32);
    cnn_tensor s = make_tensor(CNN_INT32, 1, (int64_t[]){1});
    EXPECT(cnn_reduce_dim(CNN_REDUCE_SUM, &t, 0, &s) == CNN_OK);
    EXPECT(cnn_tensor_i32(&s)[0] == 3); /* wraps around as Int32 does */
    EXPECT(cnn_reduce_dim(CNN_REDUCE_MEAN, &t, 0, &s) == CNN_ERR_ARG);
    drop_tensor(&t);
    drop_tensor(&s);
}

static void test_sum_to(void)
{
    int64_t s234[3] = {2, 3, 4};
    cnn_tensor g = make_tensor(CNN_FLOAT32, 3, s234);
    iota(&g, 0);
    /* to 1×3: sum over dims 1 and 3 */
    cnn_tensor r = make_tensor(CNN_FLOAT32, 2, (int64_t[]){1, 3});
    EXPECT(cnn_sum_to(&g, &r) == CNN_OK);
    for (int j = 0; j < 3; j++) {
        double want = 0;
        for (int k = 0; k < 4; k++)
            for (int i = 0; i < 2; i++)
                want += i + 2 * j + 6 * k;
        EXPECT(cnn_tensor_f32(&r)[j] == (float)want);
    }
    /* to a 0-dim scalar */
    cnn_tensor scalar = make_tensor(CNN_FLOAT32, 0, NULL);
    EXPECT(cnn_sum_to(&g, &scalar) == CNN_OK && cnn_tensor_f32(&scalar)[0] == 276);
    /* to sizes that do not broadcast to g */
    cnn_tensor bad = make_tensor(CNN_FLOAT32, 1, (int64_t[]){3});
    EXPECT(cnn_sum_to(&g, &bad) == CNN_ERR_SHAPE);
    EXPECT(strcmp(cnn_error_message(), "cannot reduce size 2×3×4 to 3") == 0);
    drop_tensor(&g);
    drop_tensor(&r);
    drop_tensor(&scalar);
    drop_tensor(&bad);
}

int main(void)
{
    test_known_values();
    test_every_dimension_of_a_view();
    test_empty_and_nan();
    test_argmax_ties_take_the_first();
    test_parallel_argmax_and_sums();
    test_int32();
    test_sum_to();
    return test_report();
}

/* Unit tests of the counter-based generator: reproducibility, independence
 * from the thread count and from how draws are split, distribution. */
#include <omp.h>

#include "random.h"
#include "test_util.h"

typedef struct owned {
    cnn_storage storage;
    cnn_tensor t;
} owned;

static void make(owned *o, int ndims, const int64_t *size)
{
    cnn_tensor_init(&o->t, CNN_FLOAT32, ndims, size);
    cnn_storage_alloc(&o->storage, cnn_tensor_bytes(&o->t));
    o->t.storage = &o->storage;
}

static void make_vector(owned *o, int64_t n) { make(o, 1, &n); }

static bool same_values(const cnn_tensor *a, const cnn_tensor *b, int64_t n)
{
    return memcmp(cnn_tensor_f32(a), cnn_tensor_f32(b), (size_t)n * sizeof(float)) == 0;
}

static void test_seed_reproduces(void)
{
    owned a, b;
    make_vector(&a, 1000);
    make_vector(&b, 1000);
    cnn_rng_seed(9);
    cnn_rng_uniform(&a.t);
    cnn_rng_seed(9);
    cnn_rng_uniform(&b.t);
    EXPECT(same_values(&a.t, &b.t, 1000));
    cnn_rng_uniform(&b.t);
    EXPECT(!same_values(&a.t, &b.t, 1000));
    cnn_rng_seed(10);
    cnn_rng_uniform(&b.t);
    EXPECT(!same_values(&a.t, &b.t, 1000));
    EXPECT(cnn_rng_bits(1, 0) != cnn_rng_bits(2, 0));
    EXPECT(cnn_rng_bits(1, 1) == cnn_rng_bits(1, 1));
    cnn_storage_free(&a.storage);
    cnn_storage_free(&b.storage);
}

/* Two draws of n equal one draw of 2n: the counter, not the call, decides. */
static void test_split_draws_equal_one_draw(void)
{
    owned whole, half;
    make_vector(&whole, 200);
    make_vector(&half, 100);
    cnn_rng_seed(3);
    cnn_rng_normal(&whole.t);
    cnn_rng_seed(3);
    cnn_rng_normal(&half.t);
    EXPECT(memcmp(cnn_tensor_f32(&whole.t), cnn_tensor_f32(&half.t),
                  100 * sizeof(float)) == 0);
    cnn_rng_normal(&half.t);
    EXPECT(memcmp(cnn_tensor_f32(&whole.t) + 100, cnn_tensor_f32(&half.t),
                  100 * sizeof(float)) == 0);
    cnn_storage_free(&whole.storage);
    cnn_storage_free(&half.storage);
}

/* A state got and set again repeats the draws that followed it, and
 * leaves the seed as it was. */
static void test_state_round_trip(void)
{
    owned a, b;
    make_vector(&a, 50);
    make_vector(&b, 50);
    cnn_rng_seed(11);
    cnn_rng_uniform(&a.t);
    uint64_t seed, counter;
    cnn_rng_get_state(&seed, &counter);
    EXPECT(seed == 11 && counter == 50);
    cnn_rng_uniform(&a.t);
    cnn_rng_seed(12);
    cnn_rng_uniform(&b.t);
    cnn_rng_set_state(seed, counter);
    cnn_rng_uniform(&b.t);
    EXPECT(same_values(&a.t, &b.t, 50));
    cnn_rng_get_state(&seed, &counter);
    EXPECT(seed == 11 && counter == 100);
    cnn_storage_free(&a.storage);
    cnn_storage_free(&b.storage);
}

static void test_thread_count_does_not_matter(void)
{
    owned one, many;
    int64_t n = 300000;
    make_vector(&one, n);
    make_vector(&many, n);
    int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    cnn_rng_seed(77);
    cnn_rng_normal(&one.t);
    omp_set_num_threads(4);
    cnn_rng_seed(77);
    cnn_rng_normal(&many.t);
    omp_set_num_threads(threads);
    EXPECT(same_values(&one.t, &many.t, n));
    cnn_storage_free(&one.storage);
    cnn_storage_free(&many.storage);
}

/* A strided view receives the same numbers, in column-major order, as a
 * contiguous tensor. */
static void test_strided_fill_matches_contiguous(void)
{
    owned dense, wide;
    int64_t size[2] = {3, 4}, wide_size[2] = {6, 4};
    make(&dense, 2, size);
    make(&wide, 2, wide_size);
    cnn_tensor view = wide.t;
    cnn_tensor_narrow(&view, 0, 1, 3); /* rows 2..4 of 6: not contiguous */
    EXPECT(!cnn_tensor_is_contiguous(&view));
    cnn_rng_seed(5);
    cnn_rng_uniform(&dense.t);
    cnn_rng_seed(5);
    cnn_rng_uniform(&view);
    for (int64_t k = 0; k < 12; k++)
        EXPECT(cnn_tensor_get(&view, cnn_tensor_linear_offset(&view, k)) ==
               cnn_tensor_f32(&dense.t)[k]);
    EXPECT(cnn_tensor_f32(&wide.t)[0] == 0.0f); /* outside the view */
    cnn_storage_free(&dense.storage);
    cnn_storage_free(&wide.storage);
}

static void test_distributions(void)
{
    owned u, g;
    int64_t n = 1000000;
    make_vector(&u, n);
    make_vector(&g, n);
    cnn_rng_seed(CNN_DEFAULT_SEED);
    cnn_rng_uniform(&u.t);
    cnn_rng_normal(&g.t);
    double usum = 0, gsum = 0, gsq = 0, lo = 1, hi = 0;
    for (int64_t k = 0; k < n; k++) {
        double x = cnn_tensor_f32(&u.t)[k], z = cnn_tensor_f32(&g.t)[k];
        usum += x;
        lo = fmin(lo, x);
        hi = fmax(hi, x);
        gsum += z;
        gsq += z * z;
    }
    EXPECT(lo >= 0.0 && hi < 1.0);
    EXPECT(fabs(usum / n - 0.5) < 0.002);
    EXPECT(fabs(gsum / n) < 0.005);
    EXPECT(fabs(gsq / n - 1.0) < 0.01);
    cnn_storage_free(&u.storage);
    cnn_storage_free(&g.storage);
}

int main(void)
{
    test_seed_reproduces();
    test_split_draws_equal_one_draw();
    test_state_round_trip();
    test_thread_count_does_not_matter();
    test_strided_fill_matches_contiguous();
    test_distributions();
    return test_report();
}

/* The primitive cache: bounded, least recently used first out, and keyed
 * with the OpenMP thread count and the compute precision as well as the
 * op's own key. */
#include "context.h"
#include "thread_count.h"
#include "activation.h"
#include "test_util.h"

/* tanh of a vector of n elements, checked against libm; the sizes give
 * distinct primitives. */
static void tanh_of_size(int64_t n)
{
    cnn_tensor x = make_tensor(CNN_FLOAT32, 1, &n), y = make_tensor(CNN_FLOAT32, 1, &n);
    float *xs = cnn_tensor_f32(&x), *ys = cnn_tensor_f32(&y);
    for (int64_t i = 0; i < n; i++)
        xs[i] = (float)(i % 7) * 0.25f - 0.75f;
    EXPECT_OK(cnn_activation_forward(CNN_ACTIVATION_TANH, 0, 0, &x, &y));
    for (int64_t i = 0; i < n; i++)
        EXPECT(fabsf(ys[i] - tanhf(xs[i])) < 1e-6f);
    drop_tensor(&x);
    drop_tensor(&y);
}

static int64_t created(void) { return cnn_global_stats()->primitives_created; }

static void test_capacity_is_a_bound(void)
{
    cnn_primitive_cache_set_capacity(1);
    EXPECT(cnn_primitive_cache_capacity() == CNN_PRIMITIVE_CACHE_MIN);
    int64_t evicted = cnn_global_stats()->primitives_evicted;
    for (int64_t n = 1; n <= 40; n++)
        tanh_of_size(n);
    EXPECT(cnn_primitive_cache_size() == CNN_PRIMITIVE_CACHE_MIN);
    EXPECT(cnn_global_stats()->primitives_evicted - evicted >=
           40 - CNN_PRIMITIVE_CACHE_MIN);
}

static void test_least_recently_used_goes_first(void)
{
    /* 40 is the newest, 25 the oldest kept: using 25 keeps it, so the
     * next new size pushes out 26 instead */
    int64_t before = created();
    tanh_of_size(25);
    EXPECT(created() == before);
    tanh_of_size(41);
    EXPECT(created() == before + 1);
    tanh_of_size(25);
    EXPECT(created() == before + 1);
    tanh_of_size(26);
    EXPECT(created() == before + 2);
    /* an evicted size is made again, and computes the same */
    tanh_of_size(1);
    EXPECT(created() == before + 3);
}

static void test_thread_count_is_in_the_key(void)
{
    int threads = cnn_get_num_threads();
    int other = threads == 1 ? 2 : 1;
    tanh_of_size(100);
    int64_t before = created();
    cnn_set_num_threads(other);
    tanh_of_size(100);
    EXPECT(created() == before + 1);
    cnn_set_num_threads(threads);
    tanh_of_size(100);
    EXPECT(created() == before + 1);
}

static void test_precision_is_in_the_key(void)
{
    tanh_of_size(101);
    int64_t before = created();
    cnn_set_precision(CNN_PRECISION_BF16);
    EXPECT(cnn_get_precision() == CNN_PRECISION_BF16);
    tanh_of_size(101);
    EXPECT(created() == before + 1);
    cnn_set_precision(CNN_PRECISION_FP32);
    tanh_of_size(101);
    EXPECT(created() == before + 1);
    /* a value that is no precision leaves it as it was */
    cnn_set_precision((cnn_precision)7);
    EXPECT(cnn_get_precision() == CNN_PRECISION_FP32);
    EXPECT(cnn_precision_name((cnn_precision)7) == NULL);
    EXPECT(!strcmp(cnn_precision_name(CNN_PRECISION_BF16), "bf16"));
}

static void test_growing_again_keeps_entries(void)
{
    cnn_primitive_cache_set_capacity(CNN_PRIMITIVE_CACHE_DEFAULT);
    size_t size = cnn_primitive_cache_size();
    for (int64_t n = 200; n < 240; n++)
        tanh_of_size(n);
    EXPECT(cnn_primitive_cache_size() == size + 40);
}

int main(void)
{
    /* counts of created primitives: the thread count must not follow the
     * machine's load here */
    cnn_threads_set_adaptive(false);
    test_capacity_is_a_bound();
    test_least_recently_used_goes_first();
    test_thread_count_is_in_the_key();
    test_precision_is_in_the_key();
    test_growing_again_keeps_entries();
    return test_report();
}

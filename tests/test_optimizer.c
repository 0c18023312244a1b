/* Unit tests of the fused optimiser updates against hand-worked steps. */

#include "optimizer.h"
#include "test_util.h"

#define EXPECT_NEAR(a, b)                                                                \
    EXPECT(fabs((double)(a) - (double)(b)) <= 1e-6 + 1e-6 * fabs((double)(b)))

typedef struct vec {
    cnn_storage storage;
    cnn_tensor t;
} vec;

static void vec_init(vec *v, int64_t n, const float *values)
{
    cnn_tensor_init(&v->t, CNN_FLOAT32, 1, &n);
    cnn_storage_alloc(&v->storage, cnn_tensor_bytes(&v->t));
    v->t.storage = &v->storage;
    if (values)
        memcpy(cnn_tensor_f32(&v->t), values, (size_t)n * sizeof(float));
}

static float at(const vec *v, int i) { return cnn_tensor_f32(&v->t)[i]; }

static void test_descent(void)
{
    vec p, g;
    vec_init(&p, 2, (float[]){1.0f, -2.0f});
    vec_init(&g, 2, (float[]){0.5f, 4.0f});
    EXPECT(cnn_descent_step(&p.t, &g.t, 0.1, NULL) == CNN_OK);
    EXPECT_NEAR(at(&p, 0), 0.95);
    EXPECT_NEAR(at(&p, 1), -2.4);
    cnn_storage_free(&p.storage);
    cnn_storage_free(&g.storage);
}

static void test_nesterov_two_steps(void)
{
    vec p, g, v;
    vec_init(&p, 1, (float[]){1.0f});
    vec_init(&g, 1, (float[]){2.0f});
    vec_init(&v, 1, NULL);
    /* step 1: d = -(1.9)(0.1)(2) = -0.38, v = -0.2 */
    EXPECT(cnn_nesterov_step(&p.t, &g.t, &v.t, 0.1, 0.9, NULL) == CNN_OK);
    EXPECT_NEAR(at(&p, 0), 0.62);
    EXPECT_NEAR(at(&v, 0), -0.2);
    /* step 2: d = 0.81(-0.2) - 0.38 = -0.542, v = -0.18 - 0.2 */
    EXPECT(cnn_nesterov_step(&p.t, &g.t, &v.t, 0.1, 0.9, NULL) == CNN_OK);
    EXPECT_NEAR(at(&p, 0), 0.078);
    EXPECT_NEAR(at(&v, 0), -0.38);
    cnn_storage_free(&p.storage);
    cnn_storage_free(&g.storage);
    cnn_storage_free(&v.storage);
}

static void test_adam_bias_correction(void)
{
    vec p, g, m, v;
    vec_init(&p, 1, (float[]){1.0f});
    vec_init(&g, 1, (float[]){0.5f});
    vec_init(&m, 1, NULL);
    vec_init(&v, 1, NULL);
    cnn_adam_config c = {
        .eta = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .decay = 0, .step = 1};
    /* m^ = g and v^ = g^2 at t = 1, so the step is eta * g / (|g| + eps) */
    EXPECT(cnn_adam_step(&p.t, &g.t, &m.t, &v.t, &c) == CNN_OK);
    EXPECT_NEAR(at(&p, 0), 1.0 - 0.01 * 0.5 / (0.5 + 1e-8));
    EXPECT_NEAR(at(&m, 0), 0.05);
    EXPECT_NEAR(at(&v, 0), 0.00025);
    cnn_storage_free(&p.storage);
    cnn_storage_free(&g.storage);
    cnn_storage_free(&m.storage);
    cnn_storage_free(&v.storage);
}

static void test_rejects_mismatched_sizes(void)
{
    vec p, g;
    vec_init(&p, 2, NULL);
    vec_init(&g, 3, NULL);
    EXPECT(cnn_descent_step(&p.t, &g.t, 0.1, NULL) == CNN_ERR_SHAPE);
    EXPECT(strcmp(cnn_error_message(), "gradient 3 does not match parameter 2") == 0);
    cnn_storage_free(&p.storage);
    cnn_storage_free(&g.storage);
}

static void test_rejects_bad_adam_step(void)
{
    vec p, g, m, v;
    vec_init(&p, 1, NULL);
    vec_init(&g, 1, NULL);
    vec_init(&m, 1, NULL);
    vec_init(&v, 1, NULL);
    cnn_adam_config c = {
        .eta = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .decay = 0, .step = 0};
    EXPECT(cnn_adam_step(&p.t, &g.t, &m.t, &v.t, &c) == CNN_ERR_ARG);
    EXPECT(strcmp(cnn_error_message(), "step must be at least 1, got 0") == 0);
    cnn_storage_free(&p.storage);
    cnn_storage_free(&g.storage);
    cnn_storage_free(&m.storage);
    cnn_storage_free(&v.storage);
}

int main(void)
{
    test_descent();
    test_nesterov_two_steps();
    test_adam_bias_correction();
    test_rejects_mismatched_sizes();
    test_rejects_bad_adam_step();
    return test_report();
}

/* Activations through the plan/run interface: hardtanh (oneDNN's clip_v2)
 * forward against clamp, swish and mish against their formulas, the
 * backwards against finite differences, and the plan's result
 * description. */
#include "activation.h"
#include "test_util.h"

#define N 11

static float clampf(float x, float lo, float hi) { return x < lo ? lo : x > hi ? hi : x; }

static void fill_inputs(float *x)
{
    /* steps of 0.37 from -1.85: no point falls on a bound */
    for (int i = 0; i < N; i++)
        x[i] = -1.85f + 0.37f * (float)i;
}

static void test_hardtanh_forward(void)
{
    int64_t n = N;
    cnn_tensor x = make_tensor(CNN_FLOAT32, 1, &n), y = make_tensor(CNN_FLOAT32, 1, &n);
    fill_inputs(cnn_tensor_f32(&x));
    cnn_activation_plan plan;
    EXPECT_OK(
        cnn_activation_plan_forward(&plan, CNN_ACTIVATION_HARDTANH, -0.5f, 1.2f, &x));
    EXPECT(plan.out.ndims == 1 && plan.out.size[0] == N && !plan.out.blocked);
    EXPECT(plan.primitive != NULL);
    EXPECT_OK(cnn_activation_run_forward(&plan, &x, &y));
    for (int i = 0; i < N; i++)
        EXPECT(cnn_tensor_f32(&y)[i] == clampf(cnn_tensor_f32(&x)[i], -0.5f, 1.2f));
    drop_tensor(&x);
    drop_tensor(&y);
}

/* sum(w .* hardtanh(x)) differentiated by central differences. */
static void test_hardtanh_backward(void)
{
    int64_t n = N;
    cnn_tensor x = make_tensor(CNN_FLOAT32, 1, &n), gy = make_tensor(CNN_FLOAT32, 1, &n);
    cnn_tensor gx = make_tensor(CNN_FLOAT32, 1, &n);
    float *xs = cnn_tensor_f32(&x), *w = cnn_tensor_f32(&gy);
    fill_inputs(xs);
    for (int i = 0; i < N; i++)
        w[i] = 0.5f + 0.25f * (float)i;
    EXPECT(!cnn_activation_backward_uses_dst(CNN_ACTIVATION_HARDTANH));
    EXPECT_OK(
        cnn_activation_backward(CNN_ACTIVATION_HARDTANH, -1.0f, 1.0f, &gy, &x, &gx));
    const float h = 1e-3f;
    for (int i = 0; i < N; i++) {
        float numeric =
            w[i] * (clampf(xs[i] + h, -1, 1) - clampf(xs[i] - h, -1, 1)) / (2 * h);
        EXPECT(fabsf(cnn_tensor_f32(&gx)[i] - numeric) < 1e-3f);
    }
    EXPECT(cnn_tensor_f32(&gx)[0] == 0.0f && cnn_tensor_f32(&gx)[5] == w[5]);
    drop_tensor(&x);
    drop_tensor(&gy);
    drop_tensor(&gx);
}

static double swish_ref(double x) { return x / (1 + exp(-x)); }
static double mish_ref(double x) { return x * tanh(log1p(exp(x))); }

/* f forward against ref, and sum(w .* f(x)) differentiated by central
 * differences of ref in double. */
static void check_smooth(cnn_activation kind, double (*ref)(double))
{
    int64_t n = N;
    cnn_tensor x = make_tensor(CNN_FLOAT32, 1, &n), y = make_tensor(CNN_FLOAT32, 1, &n);
    cnn_tensor gy = make_tensor(CNN_FLOAT32, 1, &n), gx = make_tensor(CNN_FLOAT32, 1, &n);
    float *xs = cnn_tensor_f32(&x), *w = cnn_tensor_f32(&gy);
    for (int i = 0; i < N; i++) {
        xs[i] = -4.0f + 0.8f * (float)i;
        w[i] = 0.5f + 0.25f * (float)i;
    }
    EXPECT_OK(cnn_activation_forward(kind, 1.0f, 0.0f, &x, &y));
    EXPECT(!cnn_activation_backward_uses_dst(kind));
    EXPECT_OK(cnn_activation_backward(kind, 1.0f, 0.0f, &gy, &x, &gx));
    const double h = 1e-4;
    for (int i = 0; i < N; i++) {
        double expected = ref(xs[i]);
        double numeric = w[i] * (ref(xs[i] + h) - ref(xs[i] - h)) / (2 * h);
        EXPECT(fabs(cnn_tensor_f32(&y)[i] - expected) < 1e-5 * (1 + fabs(expected)));
        EXPECT(fabs(cnn_tensor_f32(&gx)[i] - numeric) < 1e-4 * (1 + fabs(numeric)));
    }
    drop_tensor(&x);
    drop_tensor(&y);
    drop_tensor(&gy);
    drop_tensor(&gx);
}

static void test_swish_and_mish(void)
{
    check_smooth(CNN_ACTIVATION_SWISH, swish_ref);
    check_smooth(CNN_ACTIVATION_MISH, mish_ref);
    EXPECT(strcmp(cnn_activation_name(CNN_ACTIVATION_SWISH), "swish") == 0);
    EXPECT(strcmp(cnn_activation_name(CNN_ACTIVATION_MISH), "mish") == 0);
}

static void test_backward_sizes_must_match(void)
{
    int64_t a[2] = {3, 4}, b[2] = {4, 3};
    cnn_tensor gy = make_tensor(CNN_FLOAT32, 2, a), x = make_tensor(CNN_FLOAT32, 2, b);
    cnn_activation_plan plan;
    EXPECT(cnn_activation_plan_backward(&plan, CNN_ACTIVATION_HARDTANH, -1, 1, &gy, &x) ==
           CNN_ERR_SHAPE);
    EXPECT(strstr(cnn_error_message(), "gradient is 3×4, data is 4×3") != NULL);
    drop_tensor(&gy);
    drop_tensor(&x);
}

int main(void)
{
    test_hardtanh_forward();
    test_hardtanh_backward();
    test_swish_and_mish();
    test_backward_sizes_must_match();
    return test_report();
}

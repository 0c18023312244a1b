/* Unit tests of the further optimiser rules and the gradient transforms
 * against hand-worked steps. */

#include <math.h>

#include "grad_transform.h"
#include "optimizer.h"
#include "optimizer_rules.h"
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

static void test_transforms_in_order(void)
{
    vec p, g;
    vec_init(&p, 2, (float[]){2.0f, -1.0f});
    vec_init(&g, 2, (float[]){3.0f, 0.5f});
    /* clamp to 1, then += 0.5 p: {1 + 1, 0.5 - 0.5} */
    cnn_grad_transforms t = {
        .n = 2, .op = {CNN_GRAD_CLAMP, CNN_GRAD_DECAY}, .a = {1.0f, 0.5f}};
    EXPECT(cnn_descent_step(&p.t, &g.t, 0.1, &t) == CNN_OK);
    EXPECT_NEAR(at(&p, 0), 2.0 - 0.2);
    EXPECT_NEAR(at(&p, 1), -1.0);
    cnn_storage_free(&p.storage);
    cnn_storage_free(&g.storage);
}

static void test_grad_norm(void)
{
    vec p, g;
    vec_init(&p, 2, (float[]){1.0f, 1.0f});
    vec_init(&g, 2, (float[]){3.0f, -4.0f});
    double n = 0;
    EXPECT(cnn_grad_norm(&p.t, &g.t, NULL, 2, &n) == CNN_OK);
    EXPECT_NEAR(n, 5.0);
    EXPECT(cnn_grad_norm(&p.t, &g.t, NULL, INFINITY, &n) == CNN_OK);
    EXPECT_NEAR(n, 4.0);
    cnn_grad_transforms t = {.n = 1, .op = {CNN_GRAD_SCALE}, .a = {0.5f}};
    EXPECT(cnn_grad_norm(&p.t, &g.t, &t, 1, &n) == CNN_OK);
    EXPECT_NEAR(n, 3.5);
    EXPECT(cnn_grad_norm(&p.t, &g.t, NULL, 0, &n) == CNN_ERR_ARG);
    cnn_storage_free(&p.storage);
    cnn_storage_free(&g.storage);
}

static void test_adagrad_and_adamax(void)
{
    vec p, g, a, m, u;
    vec_init(&p, 1, (float[]){1.0f});
    vec_init(&g, 1, (float[]){2.0f});
    vec_init(&a, 1, (float[]){0.0f});
    /* a = 4, p -= 0.1 * 2 / (2 + eps) */
    cnn_tensor *state[] = {&a.t};
    cnn_rule_config c = {.rule = CNN_RULE_ADAGRAD, .eta = 0.1, .eps = 1e-8, .step = 1};
    EXPECT(cnn_rule_step(&p.t, &g.t, state, &c) == CNN_OK);
    EXPECT_NEAR(at(&a, 0), 4.0);
    EXPECT_NEAR(at(&p, 0), 0.9);
    vec_init(&m, 1, NULL);
    vec_init(&u, 1, NULL);
    memset(cnn_tensor_f32(&m.t), 0, sizeof(float));
    memset(cnn_tensor_f32(&u.t), 0, sizeof(float));
    /* m = 0.2, u = 2: p -= 0.01 / 0.1 * 0.2 / 2 */
    cnn_tensor *mu[] = {&m.t, &u.t};
    cnn_rule_config x = {.rule = CNN_RULE_ADAMAX,
                         .eta = 0.01,
                         .beta1 = 0.9,
                         .beta2 = 0.999,
                         .eps = 1e-8,
                         .step = 1};
    EXPECT(cnn_rule_step(&p.t, &g.t, mu, &x) == CNN_OK);
    EXPECT_NEAR(at(&p, 0), 0.9 - 0.01);
    x.step = 0;
    EXPECT(cnn_rule_step(&p.t, &g.t, mu, &x) == CNN_ERR_ARG);
    cnn_storage_free(&p.storage);
    cnn_storage_free(&g.storage);
    cnn_storage_free(&a.storage);
    cnn_storage_free(&m.storage);
    cnn_storage_free(&u.storage);
}

int main(void)
{
    test_transforms_in_order();
    test_grad_norm();
    test_adagrad_and_adamax();
    return test_report();
}

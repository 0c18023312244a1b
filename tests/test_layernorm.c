/* Layer normalisation against a naive reference: the first dims sizes
 * normalised together, with and without gamma and beta, forward and
 * backward. */
#include <math.h>

#include "layernorm.h"
#include "test_util.h"

/* x 3×2×4 with dims 2: four columns of 6 elements. */
static void check_layernorm(bool affine)
{
    int64_t xs[3] = {3, 2, 4}, rows = 4, cols = 6;
    owned_tensor *x = new_tensor(3, xs), *y = new_tensor(3, xs), *gy = new_tensor(3, xs);
    owned_tensor *gx = new_tensor(3, xs);
    owned_tensor *gamma = new_tensor(2, xs), *beta = new_tensor(2, xs);
    owned_tensor *gg = new_tensor(2, xs), *gb = new_tensor(2, xs);
    owned_tensor *mean = new_tensor(1, &rows), *var = new_tensor(1, &rows);
    fill_pattern(x, 11);
    fill_pattern(gy, 12);
    fill_pattern(gamma, 13);
    fill_pattern(beta, 14);
    const cnn_tensor *g = affine ? &gamma->t : NULL, *b = affine ? &beta->t : NULL;
    float eps = 1e-5f;
    EXPECT_OK(cnn_layernorm_forward(&x->t, 2, g, b, eps, &y->t, &mean->t, &var->t));
    EXPECT_OK(cnn_layernorm_backward(&gy->t, &x->t, 2, g, &mean->t, &var->t, eps, &gx->t,
                                     affine ? &gg->t : NULL, affine ? &gb->t : NULL));
    double want_gg[6] = {0}, want_gb[6] = {0};
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = f32(x) + r * cols, *gyr = f32(gy) + r * cols;
        double m = 0, v = 0, s1 = 0, s2 = 0;
        for (int64_t i = 0; i < cols; i++)
            m += xr[i] / (double)cols;
        for (int64_t i = 0; i < cols; i++)
            v += (xr[i] - m) * (xr[i] - m) / (double)cols;
        double inv = 1 / sqrt(v + eps);
        float fm = (float)m, fv = (float)v;
        EXPECT_NEAR_ALL(&f32(mean)[r], &fm, 1, 1e-6);
        EXPECT_NEAR_ALL(&f32(var)[r], &fv, 1, 1e-6);
        /* dxhat = gy·gamma; gx = inv (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) */
        for (int64_t i = 0; i < cols; i++) {
            double xh = (xr[i] - m) * inv, dxh = gyr[i] * (affine ? f32(gamma)[i] : 1.0);
            s1 += dxh / (double)cols;
            s2 += dxh * xh / (double)cols;
            want_gg[i] += gyr[i] * xh;
            want_gb[i] += gyr[i];
        }
        for (int64_t i = 0; i < cols; i++) {
            double xh = (xr[i] - m) * inv, dxh = gyr[i] * (affine ? f32(gamma)[i] : 1.0);
            float want_y = (float)(affine ? f32(gamma)[i] * xh + f32(beta)[i] : xh);
            float want_gx = (float)(inv * (dxh - s1 - xh * s2));
            EXPECT_NEAR_ALL(&f32(y)[r * cols + i], &want_y, 1, 1e-5);
            EXPECT_NEAR_ALL(&f32(gx)[r * cols + i], &want_gx, 1, 1e-4);
        }
    }
    if (affine)
        for (int64_t i = 0; i < cols; i++) {
            float wg = (float)want_gg[i], wb = (float)want_gb[i];
            EXPECT_NEAR_ALL(&f32(gg)[i], &wg, 1, 1e-5);
            EXPECT_NEAR_ALL(&f32(gb)[i], &wb, 1, 1e-5);
        }
    owned_tensor *all[] = {x, y, gy, gx, gamma, beta, gg, gb, mean, var};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        free_tensor(all[i]);
}

/* Operands of the wrong sizes are refused with both sizes named. */
static void test_checks(void)
{
    int64_t xs[2] = {3, 4}, three = 3, four = 4, two = 2;
    owned_tensor *x = new_tensor(2, xs), *y = new_tensor(2, xs);
    owned_tensor *m = new_tensor(1, &four), *v = new_tensor(1, &four);
    owned_tensor *g3 = new_tensor(1, &three), *g2 = new_tensor(1, &two);
    EXPECT(cnn_layernorm_forward(&x->t, 3, NULL, NULL, 1e-5f, &y->t, &m->t, &v->t) ==
           CNN_ERR_SHAPE);
    EXPECT(
        strstr(cnn_error_message(), "dims must be from 1 to the input's 2 dimensions"));
    EXPECT(cnn_layernorm_forward(&x->t, 1, &g2->t, &g2->t, 1e-5f, &y->t, &m->t, &v->t) ==
           CNN_ERR_SHAPE);
    EXPECT(strstr(cnn_error_message(),
                  "gamma is 2, the normalised sizes of input 3×4 are 3"));
    EXPECT(cnn_layernorm_forward(&x->t, 1, &g3->t, NULL, 1e-5f, &y->t, &m->t, &v->t) ==
           CNN_ERR_ARG);
    EXPECT(cnn_layernorm_forward(&x->t, 1, NULL, NULL, 0.0f, &y->t, &m->t, &v->t) ==
           CNN_ERR_ARG);
    EXPECT(cnn_layernorm_backward(&x->t, &x->t, 1, NULL, &g3->t, &v->t, 1e-5f, &y->t,
                                  NULL, NULL) == CNN_ERR_SHAPE);
    EXPECT(strstr(cnn_error_message(), "mean is 3, the input has 4 normalised columns"));
    EXPECT_OK(
        cnn_layernorm_forward(&x->t, 1, &g3->t, &g3->t, 1e-5f, &y->t, &m->t, &v->t));
    owned_tensor *all[] = {x, y, m, v, g3, g2};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        free_tensor(all[i]);
}

int main(void)
{
    check_layernorm(false);
    check_layernorm(true);
    test_checks();
    return test_report();
}

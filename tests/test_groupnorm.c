/* Group normalisation against a naive reference, with and without gamma
 * and beta, forward and backward, and its shape rules. */
#include <math.h>

#include "groupnorm.h"
#include "test_util.h"

#define HW 6 /* W×H = 3×2 */
#define C  4
#define G  2
#define N  2

static void check_groupnorm(bool affine)
{
    int64_t xs[4] = {3, 2, C, N}, c = C, stats = G * N;
    owned_tensor *x = new_tensor(4, xs), *y = new_tensor(4, xs), *gy = new_tensor(4, xs);
    owned_tensor *gx = new_tensor(4, xs), *gamma = new_tensor(1, &c),
                 *beta = new_tensor(1, &c);
    owned_tensor *gg = new_tensor(1, &c), *gb = new_tensor(1, &c);
    owned_tensor *mean = new_tensor(1, &stats), *var = new_tensor(1, &stats);
    fill_pattern(x, 21);
    fill_pattern(gy, 22);
    fill_pattern(gamma, 23);
    fill_pattern(beta, 24);
    const cnn_tensor *g = affine ? &gamma->t : NULL, *b = affine ? &beta->t : NULL;
    float eps = 1e-5f;
    cnn_groupnorm_plan plan;
    EXPECT_OK(cnn_groupnorm_plan_forward(&plan, &x->t, G, g, b, eps));
    EXPECT_OK(cnn_groupnorm_run_forward(&plan, &x->t, g, b, &y->t, &mean->t, &var->t));
    EXPECT_OK(
        cnn_groupnorm_plan_backward(&plan, &gy->t, &x->t, G, g, &mean->t, &var->t, eps));
    EXPECT_OK(cnn_groupnorm_run_backward(&plan, &gy->t, &x->t, g, &mean->t, &var->t,
                                         &gx->t, affine ? &gg->t : NULL,
                                         affine ? &gb->t : NULL));
    const int64_t m = HW * (C / G); /* elements of a group */
    double want_gg[C] = {0}, want_gb[C] = {0};
    for (int64_t n = 0; n < N; n++)
        for (int64_t grp = 0; grp < G; grp++) {
            int64_t first = (n * C + grp * (C / G)) * HW;
            const float *xg = f32(x) + first, *gyg = f32(gy) + first;
            double mu = 0, v = 0, s1 = 0, s2 = 0;
            for (int64_t i = 0; i < m; i++)
                mu += xg[i] / (double)m;
            for (int64_t i = 0; i < m; i++)
                v += (xg[i] - mu) * (xg[i] - mu) / (double)m;
            double inv = 1 / sqrt(v + eps);
            float fm = (float)mu, fv = (float)v;
            EXPECT_NEAR_ALL(&f32(mean)[n * G + grp], &fm, 1, 1e-6);
            EXPECT_NEAR_ALL(&f32(var)[n * G + grp], &fv, 1, 1e-6);
            for (int64_t i = 0; i < m; i++) {
                int64_t ch = grp * (C / G) + i / HW;
                double xh = (xg[i] - mu) * inv;
                double dxh = gyg[i] * (affine ? f32(gamma)[ch] : 1.0);
                s1 += dxh / (double)m;
                s2 += dxh * xh / (double)m;
                want_gg[ch] += gyg[i] * xh;
                want_gb[ch] += gyg[i];
            }
            for (int64_t i = 0; i < m; i++) {
                int64_t ch = grp * (C / G) + i / HW;
                double xh = (xg[i] - mu) * inv;
                double dxh = gyg[i] * (affine ? f32(gamma)[ch] : 1.0);
                float want_y = (float)(affine ? f32(gamma)[ch] * xh + f32(beta)[ch] : xh);
                float want_gx = (float)(inv * (dxh - s1 - xh * s2));
                EXPECT_NEAR_ALL(&f32(y)[first + i], &want_y, 1, 1e-5);
                EXPECT_NEAR_ALL(&f32(gx)[first + i], &want_gx, 1, 1e-4);
            }
        }
    for (int64_t ch = 0; affine && ch < C; ch++) {
        float wg = (float)want_gg[ch], wb = (float)want_gb[ch];
        EXPECT_NEAR_ALL(&f32(gg)[ch], &wg, 1, 1e-5);
        EXPECT_NEAR_ALL(&f32(gb)[ch], &wb, 1, 1e-5);
    }
    owned_tensor *all[] = {x, y, gy, gx, gamma, beta, gg, gb, mean, var};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        free_tensor(all[i]);
}

static void test_checks(void)
{
    int64_t xs[4] = {3, 2, C, N}, three = 3, c = C;
    owned_tensor *x = new_tensor(4, xs), *v3 = new_tensor(1, &three),
                 *vc = new_tensor(1, &c);
    cnn_groupnorm_plan plan;
    EXPECT(cnn_groupnorm_plan_forward(&plan, &x->t, 3, NULL, NULL, 1e-5f) ==
           CNN_ERR_SHAPE);
    EXPECT(strstr(cnn_error_message(),
                  "groups must divide the 4 channels of input 3×2×4×2, got 3"));
    EXPECT(cnn_groupnorm_plan_forward(&plan, &x->t, 2, &v3->t, &v3->t, 1e-5f) ==
           CNN_ERR_SHAPE);
    EXPECT(strstr(cnn_error_message(), "gamma is 3, input 3×2×4×2 has 4 channels"));
    EXPECT(cnn_groupnorm_plan_forward(&plan, &x->t, 2, NULL, &vc->t, 1e-5f) ==
           CNN_ERR_ARG);
    EXPECT(cnn_groupnorm_plan_forward(&plan, &x->t, 2, NULL, NULL, -1.0f) == CNN_ERR_ARG);
    EXPECT(cnn_groupnorm_plan_backward(&plan, &x->t, &x->t, 2, NULL, &v3->t, &vc->t,
                                       1e-5f) == CNN_ERR_SHAPE);
    EXPECT(strstr(cnn_error_message(), "mean is 3, expected 4 (groups × samples)"));
    owned_tensor *all[] = {x, v3, vc};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        free_tensor(all[i]);
}

int main(void)
{
    check_groupnorm(false);
    check_groupnorm(true);
    test_checks();
    return test_report();
}

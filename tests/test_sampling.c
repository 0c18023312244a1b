/* Resampling, adaptive pooling and embedding lookups against naive
 * references. */
#include "adaptive_pool.h"
#include "context.h"
#include "embedding.h"
#include "resample.h"
#include "test_util.h"

#define AT4(t, s, a, b, c, d) (t)[(a) + (s)[0] * ((b) + (s)[1] * ((c) + (s)[2] * (d)))]

/* Bilinear's two source pixels and the second one's weight for output i
 * (PyTorch's align_corners=False). */
static void linear_source(int64_t i, int64_t in, int64_t out, int64_t *lo, int64_t *hi,
                          float *t)
{
    double src = ((double)i + 0.5) * (double)in / (double)out - 0.5;
    if (src < 0)
        src = 0;
    *lo = (int64_t)src;
    *hi = *lo + 1 < in ? *lo + 1 : in - 1;
    *t = (float)(src - (double)*lo);
}

/* y = A x and gx = Aᵀ gy, A the resampling as a matrix. */
static void naive_resample(cnn_resample_kind kind, const int64_t *xs, const float *x,
                           const int64_t *ys, float *y, const float *gy, float *gx)
{
    memset(gx, 0, sizeof *gx * (size_t)(xs[0] * xs[1] * xs[2] * xs[3]));
    for (int64_t n = 0; n < ys[3]; n++)
        for (int64_t c = 0; c < ys[2]; c++)
            for (int64_t j = 0; j < ys[1]; j++)
                for (int64_t i = 0; i < ys[0]; i++) {
                    int64_t w[2], h[2];
                    float tw, th;
                    if (kind == CNN_RESAMPLE_NEAREST) {
                        w[0] = w[1] = i * xs[0] / ys[0];
                        h[0] = h[1] = j * xs[1] / ys[1];
                        tw = th = 0;
                    } else {
                        linear_source(i, xs[0], ys[0], &w[0], &w[1], &tw);
                        linear_source(j, xs[1], ys[1], &h[0], &h[1], &th);
                    }
                    float cw[2] = {1 - tw, tw}, ch[2] = {1 - th, th}, sum = 0;
                    float g = AT4(gy, ys, i, j, c, n);
                    for (int b = 0; b < 2; b++)
                        for (int a = 0; a < 2; a++) {
                            sum += cw[a] * ch[b] * AT4(x, xs, w[a], h[b], c, n);
                            AT4(gx, xs, w[a], h[b], c, n) += cw[a] * ch[b] * g;
                        }
                    AT4(y, ys, i, j, c, n) = sum;
                }
}

static void check_resample(cnn_resample_kind kind, const int64_t *xs, int64_t ow,
                           int64_t oh)
{
    cnn_resample_params p = {kind, {ow, oh}};
    int64_t ys[4];
    EXPECT_OK(cnn_resample_output_size(&p, 4, xs, ys));
    owned_tensor *x = new_tensor(4, xs), *y = new_tensor(4, ys), *ry = new_tensor(4, ys);
    owned_tensor *gy = new_tensor(4, ys), *gx = new_tensor(4, xs),
                 *rgx = new_tensor(4, xs);
    fill_pattern(x, 11);
    fill_pattern(gy, 12);
    EXPECT_OK(cnn_resample_forward(&p, &x->t, &y->t));
    EXPECT_OK(cnn_resample_backward(&p, &gy->t, &gx->t));
    naive_resample(kind, xs, f32(x), ys, f32(ry), f32(gy), f32(rgx));
    EXPECT_NEAR_ALL(f32(y), f32(ry), cnn_tensor_numel(&y->t), 1e-5);
    EXPECT_NEAR_ALL(f32(gx), f32(rgx), cnn_tensor_numel(&gx->t), 1e-5);
    owned_tensor *all[] = {x, y, ry, gy, gx, rgx};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        free_tensor(all[i]);
}

static void test_resample(void)
{
    int64_t xs[4] = {3, 4, 2, 2};
    check_resample(CNN_RESAMPLE_NEAREST, xs, 6, 12);
    check_resample(CNN_RESAMPLE_BILINEAR, xs, 6, 8);
    check_resample(CNN_RESAMPLE_BILINEAR, xs, 7, 5);
    check_resample(CNN_RESAMPLE_BILINEAR, xs, 2, 3);
    /* nearest takes whole multiples only */
    int64_t ys[4];
    cnn_resample_params p = {CNN_RESAMPLE_NEAREST, {7, 8}};
    EXPECT(cnn_resample_output_size(&p, 4, xs, ys) == CNN_ERR_SHAPE);
    EXPECT(
        strstr(cnn_error_message(), "whole multiples of the input's: 7×8 from 3×4×2×2"));
}

/* Adaptive pooling window by window, the windows written out as PyTorch
 * computes them (floor and ceil of real numbers). */
static void naive_adaptive(cnn_pool_kind kind, const int64_t *xs, const float *x,
                           const int64_t *ys, float *y, const float *gy, float *gx)
{
    memset(gx, 0, sizeof *gx * (size_t)(xs[0] * xs[1] * xs[2] * xs[3]));
    for (int64_t n = 0; n < ys[3]; n++)
        for (int64_t c = 0; c < ys[2]; c++)
            for (int64_t j = 0; j < ys[1]; j++)
                for (int64_t i = 0; i < ys[0]; i++) {
                    int64_t w0 = (int64_t)floor((double)i * xs[0] / ys[0]);
                    int64_t w1 = (int64_t)ceil((double)(i + 1) * xs[0] / ys[0]);
                    int64_t h0 = (int64_t)floor((double)j * xs[1] / ys[1]);
                    int64_t h1 = (int64_t)ceil((double)(j + 1) * xs[1] / ys[1]);
                    float best = -INFINITY, sum = 0, g = AT4(gy, ys, i, j, c, n);
                    int64_t bw = 0, bh = 0;
                    for (int64_t b = h0; b < h1; b++)
                        for (int64_t a = w0; a < w1; a++) {
                            float v = AT4(x, xs, a, b, c, n);
                            sum += v;
                            if (v > best) {
                                best = v;
                                bw = a;
                                bh = b;
                            }
                        }
                    float area = (float)((w1 - w0) * (h1 - h0));
                    if (kind == CNN_POOL_MAX) {
                        AT4(y, ys, i, j, c, n) = best;
                        AT4(gx, xs, bw, bh, c, n) += g;
                        continue;
                    }
                    AT4(y, ys, i, j, c, n) = sum / area;
                    for (int64_t b = h0; b < h1; b++)
                        for (int64_t a = w0; a < w1; a++)
                            AT4(gx, xs, a, b, c, n) += g / area;
                }
}

static void check_adaptive(cnn_pool_kind kind, const int64_t *xs, int64_t ow, int64_t oh)
{
    cnn_adaptive_pool_params p = {kind, {ow, oh}};
    cnn_adaptive_pool_plan plan;
    int64_t ys[4] = {ow, oh, xs[2], xs[3]};
    owned_tensor *x = new_tensor(4, xs), *y = new_tensor(4, ys), *ry = new_tensor(4, ys);
    owned_tensor *gy = new_tensor(4, ys), *gx = new_tensor(4, xs),
                 *rgx = new_tensor(4, xs);
    fill_pattern(x, 13);
    fill_pattern(gy, 14);
    EXPECT_OK(cnn_adaptive_pool_plan_forward(&plan, &p, &x->t));
    EXPECT(plan.out.ndims == 4 && !memcmp(plan.out.size, ys, sizeof ys));
    EXPECT_OK(cnn_adaptive_pool_run_forward(&plan, &x->t, &y->t));
    EXPECT_OK(cnn_adaptive_pool_plan_backward(&plan, &p, &gy->t, &x->t));
    EXPECT(plan.out.ndims == 4 && !memcmp(plan.out.size, xs, 4 * sizeof *xs));
    EXPECT_OK(cnn_adaptive_pool_run_backward(&plan, &gy->t, &x->t, &gx->t));
    naive_adaptive(kind, xs, f32(x), ys, f32(ry), f32(gy), f32(rgx));
    EXPECT_NEAR_ALL(f32(y), f32(ry), cnn_tensor_numel(&y->t), 1e-5);
    EXPECT_NEAR_ALL(f32(gx), f32(rgx), cnn_tensor_numel(&gx->t), 1e-5);
    owned_tensor *all[] = {x, y, ry, gy, gx, rgx};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        free_tensor(all[i]);
}

static void test_adaptive_pool(void)
{
    int64_t xs[4] = {7, 5, 2, 3};
    for (int kind = 0; kind < 2; kind++) {
        check_adaptive((cnn_pool_kind)kind, xs, 3, 2);
        check_adaptive((cnn_pool_kind)kind, xs, 4, 4);
        check_adaptive((cnn_pool_kind)kind, xs, 9, 6); /* larger than the input */
        check_adaptive((cnn_pool_kind)kind, xs, 1, 1);
    }
}

static void test_adaptive_pool_nan(void)
{
    int64_t xs[4] = {3, 1, 1, 1}, ys[4] = {1, 1, 1, 1};
    cnn_adaptive_pool_params p = {CNN_POOL_MAX, {1, 1}};
    cnn_adaptive_pool_plan plan;
    owned_tensor *x = new_tensor(4, xs), *y = new_tensor(4, ys);
    f32(x)[0] = 1;
    f32(x)[1] = NAN;
    f32(x)[2] = 2;
    EXPECT_OK(cnn_adaptive_pool_plan_forward(&plan, &p, &x->t));
    EXPECT_OK(cnn_adaptive_pool_run_forward(&plan, &x->t, &y->t));
    EXPECT(isnan(f32(y)[0]));
    free_tensor(x);
    free_tensor(y);
}

static void test_embedding(void)
{
    int64_t ws[2] = {3, 4}, is[2] = {2, 3}, ys[3] = {3, 2, 3};
    owned_tensor *w = new_tensor(2, ws), *y = new_tensor(3, ys), *gy = new_tensor(3, ys);
    owned_tensor *gw = new_tensor(2, ws);
    cnn_tensor idx = make_tensor(CNN_INT32, 2, is);
    int32_t values[6] = {2, 1, 2, 4, 1, 2};
    memcpy(cnn_tensor_i32(&idx), values, sizeof values);
    fill_pattern(w, 15);
    fill_pattern(gy, 16);
    EXPECT_OK(cnn_embedding_forward(&w->t, &idx, &y->t));
    EXPECT_OK(cnn_embedding_backward(&gy->t, &idx, &gw->t));
    float want[12] = {0};
    for (int k = 0; k < 6; k++)
        for (int i = 0; i < 3; i++) {
            EXPECT(f32(y)[k * 3 + i] == f32(w)[(values[k] - 1) * 3 + i]);
            want[(values[k] - 1) * 3 + i] += f32(gy)[k * 3 + i];
        }
    EXPECT_NEAR_ALL(f32(gw), want, 12, 1e-6);
    values[4] = 5;
    memcpy(cnn_tensor_i32(&idx), values, sizeof values);
    EXPECT(cnn_embedding_forward(&w->t, &idx, &y->t) == CNN_ERR_ARG);
    EXPECT(!strcmp(cnn_error_message(),
                   "index 5 (element 5 of the indices) is out of 1..4"));
    values[4] = 0;
    memcpy(cnn_tensor_i32(&idx), values, sizeof values);
    EXPECT(cnn_embedding_backward(&gy->t, &idx, &gw->t) == CNN_ERR_ARG);
    drop_tensor(&idx);
    owned_tensor *all[] = {w, y, gy, gw};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        free_tensor(all[i]);
}

int main(void)
{
    test_resample();
    test_adaptive_pool();
    test_adaptive_pool_nan();
    test_embedding();
    return test_report();
}

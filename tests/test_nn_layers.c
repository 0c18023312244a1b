/* Pooling, dense, softmax and batch normalisation against naive
 * references. */
#include "batchnorm.h"
#include "dense.h"
#include "context.h"
#include "pool.h"
#include "softmax.h"
#include "test_util.h"

#define AT4(t, s, a, b, c, d) (t)[(a) + (s)[0] * ((b) + (s)[1] * ((c) + (s)[2] * (d)))]

static void naive_pool(const cnn_pool2d_params *p, const int64_t *xs, const float *x,
                       const int64_t *ys, float *y, const float *gy, float *gx)
{
    memset(gx, 0, sizeof *gx * xs[0] * xs[1] * xs[2] * xs[3]);
    for (int64_t n = 0; n < ys[3]; n++)
        for (int64_t c = 0; c < ys[2]; c++)
            for (int64_t oh = 0; oh < ys[1]; oh++)
                for (int64_t ow = 0; ow < ys[0]; ow++) {
                    float best = -INFINITY, sum = 0;
                    int64_t bw = -1, bh = -1;
                    for (int64_t kh = 0; kh < p->window[1]; kh++)
                        for (int64_t kw = 0; kw < p->window[0]; kw++) {
                            int64_t ih = oh * p->stride[1] - p->pad[2] + kh;
                            int64_t iw = ow * p->stride[0] - p->pad[0] + kw;
                            if (ih < 0 || iw < 0 || ih >= xs[1] || iw >= xs[0])
                                continue;
                            float v = AT4(x, xs, iw, ih, c, n);
                            sum += v;
                            if (v > best) {
                                best = v;
                                bw = iw;
                                bh = ih;
                            }
                        }
                    float g = AT4(gy, ys, ow, oh, c, n);
                    if (p->kind == CNN_POOL_MAX) {
                        AT4(y, ys, ow, oh, c, n) = best;
                        AT4(gx, xs, bw, bh, c, n) += g;
                        continue;
                    }
                    float area = (float)(p->window[0] * p->window[1]);
                    if (p->exclude_padding) {
                        int64_t h0 = oh * p->stride[1] - p->pad[2],
                                w0 = ow * p->stride[0] - p->pad[0];
                        int64_t h1 = h0 + p->window[1], w1 = w0 + p->window[0];
                        h0 = h0 < 0 ? 0 : h0;
                        w0 = w0 < 0 ? 0 : w0;
                        h1 = h1 > xs[1] ? xs[1] : h1;
                        w1 = w1 > xs[0] ? xs[0] : w1;
                        area = (float)((h1 - h0) * (w1 - w0));
                    }
                    AT4(y, ys, ow, oh, c, n) = sum / area;
                    for (int64_t kh = 0; kh < p->window[1]; kh++)
                        for (int64_t kw = 0; kw < p->window[0]; kw++) {
                            int64_t ih = oh * p->stride[1] - p->pad[2] + kh;
                            int64_t iw = ow * p->stride[0] - p->pad[0] + kw;
                            if (ih >= 0 && iw >= 0 && ih < xs[1] && iw < xs[0])
                                AT4(gx, xs, iw, ih, c, n) += g / area;
                        }
                }
}

/* The forward in precision 'forward', the backward in 'backward': in
 * bf16 max pooling's forward is oneDNN's, whose workspace the core's
 * backward kernel reads, whatever the precision is by then. */
static void check_pool_in(const cnn_pool2d_params *p, const int64_t *xs,
                          cnn_precision forward, cnn_precision backward)
{
    int64_t ys[4];
    EXPECT_OK(cnn_pool2d_output_size(p, 4, xs, ys));
    owned_tensor *x = new_tensor(4, xs), *y = new_tensor(4, ys), *ry = new_tensor(4, ys);
    owned_tensor *gy = new_tensor(4, ys), *gx = new_tensor(4, xs),
                 *rgx = new_tensor(4, xs);
    fill_pattern(x, 7);
    fill_pattern(gy, 8);
    cnn_pool_workspace ws;
    memset(&ws, 0, sizeof ws);
    cnn_set_precision(forward);
    EXPECT_OK(cnn_pool2d_forward(p, &x->t, &y->t, &ws));
    cnn_set_precision(backward);
    EXPECT_OK(cnn_pool2d_backward(p, &gy->t, &ws, &gx->t));
    cnn_set_precision(CNN_PRECISION_FP32);
    naive_pool(p, xs, f32(x), ys, f32(ry), f32(gy), f32(rgx));
    EXPECT_NEAR_ALL(f32(y), f32(ry), cnn_tensor_numel(&y->t), 1e-6);
    EXPECT_NEAR_ALL(f32(gx), f32(rgx), cnn_tensor_numel(&gx->t), 1e-6);
    cnn_pool_workspace_free(&ws);
    owned_tensor *all[] = {x, y, ry, gy, gx, rgx};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        free_tensor(all[i]);
}

static void check_pool(const cnn_pool2d_params *p, const int64_t *xs)
{
    check_pool_in(p, xs, CNN_PRECISION_FP32, CNN_PRECISION_FP32);
}

static void test_pool(void)
{
    int64_t xs[4] = {5, 4, 2, 2};
    for (int kind = 0; kind < 2; kind++) {
        cnn_pool2d_params p = cnn_pool2d_default_params((cnn_pool_kind)kind, 2, 2);
        check_pool(&p, xs);
        p.pad[0] = p.pad[1] = 1;
        check_pool(&p, xs);
        p = cnn_pool2d_default_params((cnn_pool_kind)kind, 3, 2);
        p.stride[0] = 1;
        p.pad[2] = 1;
        check_pool(&p, xs);
        /* the means of the border windows over their pixels inside only */
        p.pad[0] = p.pad[1] = 1;
        p.exclude_padding = true;
        check_pool(&p, xs);
    }
}

/* With 16 channels oneDNN has generated code for the plain layout too,
 * so these run its max pooling forward (with 2 channels, only a
 * reference loop, which leaves the core's kernel in place). */
static void test_max_pool_in_bf16(void)
{
    int64_t xs[4] = {5, 4, 16, 2}, big[4] = {20, 19, 16, 2};
    cnn_precision bf16 = CNN_PRECISION_BF16, fp32 = CNN_PRECISION_FP32;
    cnn_pool2d_params p = cnn_pool2d_default_params(CNN_POOL_MAX, 2, 2);
    check_pool_in(&p, xs, bf16, bf16);
    check_pool_in(&p, xs, bf16, fp32);
    check_pool_in(&p, xs, fp32, bf16);
    p.pad[0] = p.pad[1] = 1;
    check_pool_in(&p, xs, bf16, bf16);
    p = cnn_pool2d_default_params(CNN_POOL_MAX, 3, 2); /* overlapping windows */
    p.stride[0] = 1;
    p.pad[2] = 1;
    check_pool_in(&p, xs, bf16, fp32);
    /* 17×17 positions: four-byte workspace entries */
    p = cnn_pool2d_default_params(CNN_POOL_MAX, 17, 17);
    p.stride[0] = p.stride[1] = 1;
    check_pool_in(&p, big, bf16, bf16);
}

static void test_pool_workspace_checks(void)
{
    int64_t xs[4] = {4, 4, 1, 1}, other[4] = {6, 4, 1, 1}, ys[4] = {2, 2, 1, 1};
    cnn_pool2d_params p = cnn_pool2d_default_params(CNN_POOL_MAX, 2, 2);
    owned_tensor *x = new_tensor(4, xs), *y = new_tensor(4, ys), *gy = new_tensor(4, ys);
    owned_tensor *gx = new_tensor(4, other);
    cnn_pool_workspace ws;
    memset(&ws, 0, sizeof ws);
    EXPECT(cnn_pool2d_backward(&p, &gy->t, &ws, &gx->t) == CNN_ERR_SHAPE);
    EXPECT_OK(cnn_pool2d_forward(&p, &x->t, &y->t, &ws));
    int64_t ys_other[4] = {3, 2, 1, 1};
    owned_tensor *gy_other = new_tensor(4, ys_other);
    EXPECT(cnn_pool2d_backward(&p, &gy_other->t, &ws, &gx->t) == CNN_ERR_ARG);
    EXPECT(strstr(cnn_error_message(), "workspace is from a max pooling of 4×4×1×1") !=
           NULL);
    EXPECT(cnn_pool2d_backward(&p, &gy_other->t, NULL, &gx->t) == CNN_ERR_ARG);
    cnn_pool_workspace_free(&ws);
    owned_tensor *all[] = {x, y, gy, gx, gy_other};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        free_tensor(all[i]);
}

static void test_dense(void)
{
    int64_t in = 7, out = 5, n = 3;
    int64_t xs[2] = {in, n}, ws[2] = {out, in}, ys[2] = {out, n};
    owned_tensor *x = new_tensor(2, xs), *w = new_tensor(2, ws), *b = new_tensor(1, &out);
    owned_tensor *y = new_tensor(2, ys), *ry = new_tensor(2, ys), *gy = new_tensor(2, ys);
    owned_tensor *gx = new_tensor(2, xs), *rgx = new_tensor(2, xs);
    owned_tensor *gw = new_tensor(2, ws), *rgw = new_tensor(2, ws);
    owned_tensor *gb = new_tensor(1, &out), *rgb = new_tensor(1, &out);
    fill_pattern(x, 1);
    fill_pattern(w, 2);
    fill_pattern(b, 3);
    fill_pattern(gy, 4);
    EXPECT_OK(cnn_dense_forward(&x->t, &w->t, &b->t, &y->t));
    EXPECT_OK(cnn_dense_backward_data(&gy->t, &w->t, &gx->t));
    EXPECT_OK(cnn_dense_backward_weights(&gy->t, &x->t, &gw->t, &gb->t));
    float *X = f32(x), *W = f32(w), *G = f32(gy);
    for (int64_t j = 0; j < n; j++)
        for (int64_t o = 0; o < out; o++) {
            float acc = f32(b)[o];
            for (int64_t i = 0; i < in; i++)
                acc += W[o + i * out] * X[i + j * in];
            f32(ry)[o + j * out] = acc;
            f32(rgb)[o] += G[o + j * out];
            for (int64_t i = 0; i < in; i++) {
                f32(rgx)[i + j * in] += W[o + i * out] * G[o + j * out];
                f32(rgw)[o + i * out] += G[o + j * out] * X[i + j * in];
            }
        }
    EXPECT_NEAR_ALL(f32(y), f32(ry), out * n, 1e-5);
    EXPECT_NEAR_ALL(f32(gx), f32(rgx), in * n, 1e-5);
    EXPECT_NEAR_ALL(f32(gw), f32(rgw), out * in, 1e-5);
    EXPECT_NEAR_ALL(f32(gb), f32(rgb), out, 1e-5);
    EXPECT(cnn_global_stats()->reorders == 0);
    int64_t bad[2] = {6, n};
    owned_tensor *xbad = new_tensor(2, bad);
    EXPECT(cnn_dense_forward(&xbad->t, &w->t, &b->t, &y->t) == CNN_ERR_SHAPE);
    EXPECT(!strcmp(cnn_error_message(),
                   "input has 6 features (6×3), weight expects 7 (5×7)"));
    owned_tensor *all[] = {x, w, b, y, ry, gy, gx, rgx, gw, rgw, gb, rgb, xbad};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        free_tensor(all[i]);
}

static void test_softmax(void)
{
    int64_t s[2] = {4, 3};
    owned_tensor *x = new_tensor(2, s), *y = new_tensor(2, s), *ly = new_tensor(2, s);
    owned_tensor *gy = new_tensor(2, s), *gx = new_tensor(2, s), *lgx = new_tensor(2, s);
    fill_pattern(x, 5);
    fill_pattern(gy, 6);
    EXPECT_OK(cnn_softmax_forward(&x->t, false, &y->t));
    EXPECT_OK(cnn_softmax_forward(&x->t, true, &ly->t));
    EXPECT_OK(cnn_softmax_backward(&gy->t, &y->t, false, &gx->t));
    EXPECT_OK(cnn_softmax_backward(&gy->t, &ly->t, true, &lgx->t));
    for (int64_t j = 0; j < s[1]; j++) {
        float *xj = f32(x) + j * s[0], *g = f32(gy) + j * s[0];
        double z = 0, dot = 0, gsum = 0;
        for (int i = 0; i < s[0]; i++)
            z += exp(xj[i]);
        for (int i = 0; i < s[0]; i++) {
            dot += g[i] * exp(xj[i]) / z;
            gsum += g[i];
        }
        for (int i = 0; i < s[0]; i++) {
            float p = (float)(exp(xj[i]) / z);
            float lp = (float)(xj[i] - log(z));
            float want_gx = (float)(p * (g[i] - dot));
            float want_lgx = (float)(g[i] - p * gsum);
            EXPECT_NEAR_ALL(&f32(y)[i + j * s[0]], &p, 1, 1e-6);
            EXPECT_NEAR_ALL(&f32(ly)[i + j * s[0]], &lp, 1, 1e-5);
            EXPECT_NEAR_ALL(&f32(gx)[i + j * s[0]], &want_gx, 1, 1e-6);
            EXPECT_NEAR_ALL(&f32(lgx)[i + j * s[0]], &want_lgx, 1, 1e-6);
        }
    }
    owned_tensor *all[] = {x, y, ly, gy, gx, lgx};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        free_tensor(all[i]);
}

static void test_batchnorm(void)
{
    int64_t xs[4] = {3, 2, 2, 4}, c = 2;
    owned_tensor *x = new_tensor(4, xs), *y = new_tensor(4, xs);
    owned_tensor *gamma = new_tensor(1, &c), *beta = new_tensor(1, &c);
    owned_tensor *rm = new_tensor(1, &c), *rv = new_tensor(1, &c);
    owned_tensor *sm = new_tensor(1, &c), *sv = new_tensor(1, &c);
    owned_tensor *gy = new_tensor(4, xs), *gx = new_tensor(4, xs);
    owned_tensor *gg = new_tensor(1, &c), *gbt = new_tensor(1, &c);
    fill_pattern(x, 9);
    fill_pattern(gy, 10);
    f32(gamma)[0] = 1.5f;
    f32(gamma)[1] = 0.5f;
    f32(beta)[0] = 0.25f;
    f32(beta)[1] = -1.0f;
    f32(rv)[0] = f32(rv)[1] = 1.0f;
    float eps = 1e-5f, mom = 0.1f;
    EXPECT_OK(cnn_batchnorm_forward(&x->t, &gamma->t, &beta->t, &rm->t, &rv->t, true, mom,
                                    eps, &y->t, &sm->t, &sv->t));
    EXPECT_OK(cnn_batchnorm_backward(&gy->t, &x->t, &gamma->t, &sm->t, &sv->t, eps,
                                     &gx->t, &gg->t, &gbt->t));
    int64_t m = xs[0] * xs[1] * xs[3];
    for (int64_t ch = 0; ch < c; ch++) {
        double mean = 0, var = 0, sg = 0, sgx = 0;
        for (int64_t n = 0; n < xs[3]; n++)
            for (int64_t i = 0; i < xs[0] * xs[1]; i++)
                mean += AT4(f32(x), xs, i, 0, ch, n) / m;
        for (int64_t n = 0; n < xs[3]; n++)
            for (int64_t i = 0; i < xs[0] * xs[1]; i++) {
                double d = AT4(f32(x), xs, i, 0, ch, n) - mean;
                var += d * d / m;
            }
        double inv = 1 / sqrt(var + eps);
        for (int64_t n = 0; n < xs[3]; n++)
            for (int64_t i = 0; i < xs[0] * xs[1]; i++) {
                double xh = (AT4(f32(x), xs, i, 0, ch, n) - mean) * inv;
                double g = AT4(f32(gy), xs, i, 0, ch, n);
                float want = (float)(f32(gamma)[ch] * xh + f32(beta)[ch]);
                EXPECT_NEAR_ALL(&AT4(f32(y), xs, i, 0, ch, n), &want, 1, 1e-5);
                sg += g;
                sgx += g * xh;
            }
        for (int64_t n = 0; n < xs[3]; n++)
            for (int64_t i = 0; i < xs[0] * xs[1]; i++) {
                double xh = (AT4(f32(x), xs, i, 0, ch, n) - mean) * inv;
                double g = AT4(f32(gy), xs, i, 0, ch, n);
                float want = (float)(f32(gamma)[ch] * inv * (g - sg / m - xh * sgx / m));
                EXPECT_NEAR_ALL(&AT4(f32(gx), xs, i, 0, ch, n), &want, 1, 1e-4);
            }
        float want_rm = (float)(mom * mean),
              want_rv = (float)(1 - mom + mom * var * m / (m - 1));
        float want_gg = (float)sgx, want_gb = (float)sg;
        EXPECT_NEAR_ALL(&f32(rm)[ch], &want_rm, 1, 1e-6);
        EXPECT_NEAR_ALL(&f32(rv)[ch], &want_rv, 1, 1e-6);
        EXPECT_NEAR_ALL(&f32(gg)[ch], &want_gg, 1, 1e-5);
        EXPECT_NEAR_ALL(&f32(gbt)[ch], &want_gb, 1, 1e-5);
    }
    /* inference uses the running statistics */
    EXPECT_OK(cnn_batchnorm_forward(&x->t, &gamma->t, &beta->t, &rm->t, &rv->t, false,
                                    mom, eps, &y->t, NULL, NULL));
    float want =
        (float)(f32(gamma)[1] * (f32(x)[6] - f32(rm)[1]) / sqrt(f32(rv)[1] + eps) +
                f32(beta)[1]);
    EXPECT_NEAR_ALL(&f32(y)[6], &want, 1, 1e-5);
    owned_tensor *all[] = {x, y, gamma, beta, rm, rv, sm, sv, gy, gx, gg, gbt};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        free_tensor(all[i]);
}

int main(void)
{
    test_dense(); /* first: it also checks that no reorder ran */
    test_pool();
    test_max_pool_in_bf16();
    test_pool_workspace_checks();
    test_softmax();
    test_batchnorm();
    return test_report();
}

/* Unit tests of the augmentation kernels against naive references: crops
 * at the offsets the generator's draws give, flips, normalisation, and
 * the refusals. */
#include "augment.h"
#include "random.h"
#include "test_util.h"

/* Crop with the draws of cnn_rng_bits checked sample by sample. */
static void test_crop_matches_reference(void)
{
    const int64_t W = 5, H = 4, C = 2, N = 7, pad = 2, cw = 3, ch = 4;
    int64_t xs[4] = {W, H, C, N}, ys[4] = {cw, ch, C, N};
    cnn_tensor x = make_tensor(CNN_FLOAT32, 4, xs), y = make_tensor(CNN_FLOAT32, 4, ys);
    iota(&x, 1);
    cnn_rng_seed(4);
    EXPECT_OK(cnn_augment_crop(&x, pad, &y));
    const float *xf = cnn_tensor_f32(&x), *yf = cnn_tensor_f32(&y);
    for (int64_t n = 0; n < N; n++) {
        uint64_t bx = cnn_rng_bits(4, 2 * (uint64_t)n),
                 by = cnn_rng_bits(4, 2 * (uint64_t)n + 1);
        int64_t ox = (int64_t)(bx % (uint64_t)(W + 2 * pad - cw + 1)) - pad;
        int64_t oy = (int64_t)(by % (uint64_t)(H + 2 * pad - ch + 1)) - pad;
        for (int64_t c = 0; c < C; c++)
            for (int64_t j = 0; j < ch; j++)
                for (int64_t i = 0; i < cw; i++) {
                    int64_t si = i + ox, sj = j + oy;
                    float want = si >= 0 && si < W && sj >= 0 && sj < H
                                     ? xf[si + W * (sj + H * (c + C * n))]
                                     : 0.0f;
                    EXPECT(yf[i + cw * (j + ch * (c + C * n))] == want);
                }
    }
    /* a crop larger than the padded image is refused */
    int64_t wide[4] = {W + 1, H, C, N};
    cnn_tensor z = make_tensor(CNN_FLOAT32, 4, wide);
    EXPECT(cnn_augment_crop(&x, 0, &z) == CNN_ERR_SHAPE);
    EXPECT_OK(cnn_augment_crop(&x, 1, &z));
    EXPECT(cnn_augment_crop(&x, -1, &z) == CNN_ERR_ARG);
    drop_tensor(&z);
    drop_tensor(&x);
    drop_tensor(&y);
}

static void test_flip_and_normalize(void)
{
    int64_t s[4] = {3, 2, 2, 2};
    cnn_tensor x = make_tensor(CNN_FLOAT32, 4, s), y = make_tensor(CNN_FLOAT32, 4, s);
    iota(&x, 1);
    EXPECT_OK(cnn_augment_flip(&x, 1.0, &y));
    const float *xf = cnn_tensor_f32(&x), *yf = cnn_tensor_f32(&y);
    for (int64_t r = 0; r < 8; r++)
        for (int64_t i = 0; i < 3; i++)
            EXPECT(yf[r * 3 + i] == xf[r * 3 + 2 - i]);
    EXPECT_OK(cnn_augment_flip(&y, 1.0, &y)); /* in place: back to x */
    EXPECT(memcmp(xf, yf, 12 * sizeof(float)) == 0);
    EXPECT(cnn_augment_flip(&x, 1.5, &y) == CNN_ERR_ARG);

    const float mean[2] = {1, -1}, std[2] = {2, 0.5f}, bad[2] = {1, 0};
    EXPECT_OK(cnn_augment_normalize(&x, mean, std, 2, &y));
    for (int64_t k = 0; k < 24; k++) {
        int64_t c = (k / 6) % 2;
        EXPECT(fabsf(yf[k] - (xf[k] - mean[c]) / std[c]) <= 1e-6f * (1 + fabsf(yf[k])));
    }
    EXPECT(cnn_augment_normalize(&x, mean, bad, 2, &y) == CNN_ERR_ARG);
    EXPECT(cnn_augment_normalize(&x, mean, std, 1, &y) == CNN_ERR_SHAPE);
    drop_tensor(&x);
    drop_tensor(&y);
}

int main(void)
{
    test_crop_matches_reference();
    test_flip_and_normalize();
    return test_report();
}

#include "augment.h"

#include <string.h>

#include "random.h"

/* Elements below which a kernel runs on one thread: a batch of 128 MNIST
 * digits (100,352 floats) is copied in tens of microseconds, less than
 * waking the OpenMP team costs on a busy machine. */
#define PARALLEL_MIN (1 << 20)

/* Checks that t is a contiguous 4-D Float32 batch of images. */
static cnn_status check_images(const char *what, const cnn_tensor *t)
{
    char buf[96];
    if (t->dtype != CNN_FLOAT32 || t->ndims != 4)
        return cnn_fail(CNN_ERR_SHAPE, "%s must be a W×H×C×N Float32 tensor, got %s %s",
                        what, cnn_dtype_name(t->dtype),
                        cnn_shape_string(t, buf, sizeof buf));
    if (!cnn_tensor_is_contiguous(t) || t->blocked)
        return cnn_fail(CNN_ERR_ARG, "%s must be contiguous", what);
    return CNN_OK;
}

static cnn_status check_same_batch(const cnn_tensor *x, const cnn_tensor *y)
{
    cnn_status st = check_images("the input", x);
    if (st == CNN_OK)
        st = check_images("the output", y);
    if (st != CNN_OK)
        return st;
    if (!cnn_tensor_same_size(x, y)) {
        char a[96], b[96];
        return cnn_fail(CNN_ERR_SHAPE, "the output is %s, the input %s",
                        cnn_shape_string(y, a, sizeof a),
                        cnn_shape_string(x, b, sizeof b));
    }
    return CNN_OK;
}

/* A uniform integer in [0, n) from 64 random bits (n small: the bias of
 * the modulo is below 2^-40). */
static int64_t below(uint64_t bits, int64_t n) { return (int64_t)(bits % (uint64_t)n); }

cnn_status cnn_augment_crop(const cnn_tensor *x, int64_t pad, cnn_tensor *y)
{
    cnn_status st = check_images("the input", x);
    if (st == CNN_OK)
        st = check_images("the output", y);
    if (st != CNN_OK)
        return st;
    if (pad < 0)
        return cnn_fail(CNN_ERR_ARG, "pad must be non-negative, got %lld",
                        (long long)pad);
    const int64_t W = x->size[0], H = x->size[1], C = x->size[2], N = x->size[3];
    const int64_t cw = y->size[0], ch = y->size[1];
    if (y->size[2] != C || y->size[3] != N || cw > W + 2 * pad || ch > H + 2 * pad ||
        cw < 1 || ch < 1) {
        char a[96], b[96];
        return cnn_fail(CNN_ERR_SHAPE, "cannot crop %s from %s padded by %lld",
                        cnn_shape_string(y, a, sizeof a),
                        cnn_shape_string(x, b, sizeof b), (long long)pad);
    }
    uint64_t seed, base;
    cnn_rng_claim(2 * N, &seed, &base);
    const float *src = cnn_tensor_f32(x);
    float *dst = cnn_tensor_f32(y);
    const int64_t nx = W + 2 * pad - cw + 1, ny = H + 2 * pad - ch + 1;
#pragma omp parallel for schedule(static) if (N * C * cw * ch > PARALLEL_MIN)
    for (int64_t n = 0; n < N; n++) {
        const int64_t ox = below(cnn_rng_bits(seed, base + 2 * (uint64_t)n), nx) - pad;
        const int64_t oy =
            below(cnn_rng_bits(seed, base + 2 * (uint64_t)n + 1), ny) - pad;
        /* the columns i of y whose source column i + ox is inside x */
        int64_t i0 = ox < 0 ? -ox : 0, i1 = W - ox < cw ? W - ox : cw;
        if (i1 < i0)
            i1 = i0;
        for (int64_t c = 0; c < C; c++) {
            const float *s = src + (n * C + c) * W * H;
            float *d = dst + (n * C + c) * cw * ch;
            for (int64_t j = 0; j < ch; j++) {
                float *row = d + j * cw;
                const int64_t sj = j + oy;
                if (sj < 0 || sj >= H) {
                    memset(row, 0, (size_t)cw * sizeof *row);
                    continue;
                }
                memset(row, 0, (size_t)i0 * sizeof *row);
                memcpy(row + i0, s + sj * W + i0 + ox, (size_t)(i1 - i0) * sizeof *row);
                memset(row + i1, 0, (size_t)(cw - i1) * sizeof *row);
            }
        }
    }
    return CNN_OK;
}

cnn_status cnn_augment_flip(const cnn_tensor *x, double p, cnn_tensor *y)
{
    cnn_status st = check_same_batch(x, y);
    if (st != CNN_OK)
        return st;
    if (!(p >= 0 && p <= 1))
        return cnn_fail(CNN_ERR_ARG, "p must be in [0, 1], got %g", p);
    const int64_t W = x->size[0], rows = x->size[1] * x->size[2], N = x->size[3];
    uint64_t seed, base;
    cnn_rng_claim(N, &seed, &base);
    const float *src = cnn_tensor_f32(x);
    float *dst = cnn_tensor_f32(y);
#pragma omp parallel for schedule(static) if (N * W * rows > PARALLEL_MIN)
    for (int64_t n = 0; n < N; n++) {
        /* 24 bits, as the uniform fills: flipped when u < p */
        float u = (float)(cnn_rng_bits(seed, base + (uint64_t)n) >> 40) * 0x1.0p-24f;
        const float *s = src + n * rows * W;
        float *d = dst + n * rows * W;
        if (!(u < p)) {
            if (d != s)
                memcpy(d, s, (size_t)(rows * W) * sizeof *d);
            continue;
        }
        for (int64_t r = 0; r < rows; r++) {
            const float *sr = s + r * W;
            float *dr = d + r * W;
            for (int64_t i = 0; i < W / 2; i++) { /* swapping works in place too */
                float a = sr[i], b = sr[W - 1 - i];
                dr[i] = b;
                dr[W - 1 - i] = a;
            }
            if (W % 2)
                dr[W / 2] = sr[W / 2];
        }
    }
    return CNN_OK;
}

cnn_status cnn_augment_normalize(const cnn_tensor *x, const float *mean, const float *std,
                                 int64_t channels, cnn_tensor *y)
{
    cnn_status st = check_same_batch(x, y);
    if (st != CNN_OK)
        return st;
    const int64_t plane = x->size[0] * x->size[1], C = x->size[2], N = x->size[3];
    if (channels != C) {
        char buf[96];
        return cnn_fail(
            CNN_ERR_SHAPE, "%lld channel statistics for %s images (%lld channels)",
            (long long)channels, cnn_shape_string(x, buf, sizeof buf), (long long)C);
    }
    for (int64_t c = 0; c < C; c++)
        if (!(std[c] > 0))
            return cnn_fail(CNN_ERR_ARG, "std[%lld] must be positive, got %g",
                            (long long)c + 1, (double)std[c]);
    const float *src = cnn_tensor_f32(x);
    float *dst = cnn_tensor_f32(y);
#pragma omp parallel for schedule(static) if (N * C * plane > PARALLEL_MIN)
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++) {
            const float m = mean[c], inv = 1.0f / std[c];
            const float *s = src + (n * C + c) * plane;
            float *d = dst + (n * C + c) * plane;
            for (int64_t k = 0; k < plane; k++)
                d[k] = (s[k] - m) * inv;
        }
    return CNN_OK;
}

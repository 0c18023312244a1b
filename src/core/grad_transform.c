/* The checks of gradient transforms and the norm ClipNorm needs (see
 * grad_transform.h). */
#include "grad_transform.h"

#include <math.h>

cnn_status cnn_grad_transforms_check(const cnn_grad_transforms *t)
{
    if (!t)
        return CNN_OK;
    if (t->n < 0 || t->n > CNN_GRAD_TRANSFORMS_MAX)
        return cnn_fail(CNN_ERR_ARG, "at most %d gradient transforms, got %d",
                        CNN_GRAD_TRANSFORMS_MAX, t->n);
    for (int k = 0; k < t->n; k++)
        if (!isfinite(t->a[k]) || t->a[k] < 0)
            return cnn_fail(CNN_ERR_ARG,
                            "gradient transform %d needs a finite value >= 0, got %g",
                            k + 1, (double)t->a[k]);
    return CNN_OK;
}

const float *cnn_grad_block(const cnn_grad_transforms *t, const float *g, const float *x,
                            int64_t i0, int64_t end, float *buf)
{
    if (!t || t->n == 0)
        return g + i0;
    const int64_t n = end - i0;
    const float *restrict gb = g + i0, *restrict xb = x + i0;
    float *restrict out = buf;
    for (int64_t i = 0; i < n; i++)
        out[i] = gb[i];
    for (int k = 0; k < t->n; k++) {
        const float a = t->a[k];
        switch (t->op[k]) {
        case CNN_GRAD_CLAMP: /* two selects, no branch; NaN stays NaN */
            for (int64_t i = 0; i < n; i++) {
                const float v = out[i] > a ? a : out[i];
                out[i] = v < -a ? -a : v;
            }
            break;
        case CNN_GRAD_SCALE:
            for (int64_t i = 0; i < n; i++)
                out[i] *= a;
            break;
        case CNN_GRAD_DECAY:
            for (int64_t i = 0; i < n; i++)
                out[i] += a * xb[i];
            break;
        }
    }
    return out;
}

cnn_status cnn_grad_norm(const cnn_tensor *x, const cnn_tensor *g,
                         const cnn_grad_transforms *t, double p, double *norm)
{
    char xbuf[128], gbuf[128];
    if (x->dtype != CNN_FLOAT32 || g->dtype != CNN_FLOAT32)
        return cnn_fail(CNN_ERR_ARG,
                        "parameter and gradient must be Float32, got %s and %s",
                        cnn_dtype_name(x->dtype), cnn_dtype_name(g->dtype));
    if (!cnn_tensor_data(x) || !cnn_tensor_data(g))
        return cnn_fail(CNN_ERR_ARG, "parameter or gradient was freed");
    if (!cnn_tensor_same_size(x, g))
        return cnn_fail(CNN_ERR_SHAPE, "gradient %s does not match parameter %s",
                        cnn_shape_string(g, gbuf, sizeof gbuf),
                        cnn_shape_string(x, xbuf, sizeof xbuf));
    if (!cnn_tensor_is_contiguous(x) || !cnn_tensor_is_contiguous(g))
        return cnn_fail(CNN_ERR_ARG, "parameter and gradient must be contiguous");
    if (!(p > 0))
        return cnn_fail(CNN_ERR_ARG, "the norm's p must be > 0 or inf, got %g", p);
    cnn_status s = cnn_grad_transforms_check(t);
    if (s != CNN_OK)
        return s;
    const float *xd = cnn_tensor_f32(x), *gd = cnn_tensor_f32(g);
    const int64_t n = cnn_tensor_numel(x);
    double acc = 0;
    if (isinf(p)) {
#pragma omp parallel for reduction(max : acc) if (n > 32768)
        for (int64_t i = 0; i < n; i++) {
            const double a = fabs((double)cnn_grad_apply(t, gd[i], xd[i]));
            acc = a > acc || isnan(a) ? a : acc;
        }
        *norm = acc;
    } else if (p == 2) {
#pragma omp parallel for reduction(+ : acc) if (n > 32768)
        for (int64_t i = 0; i < n; i++) {
            const double a = (double)cnn_grad_apply(t, gd[i], xd[i]);
            acc += a * a;
        }
        *norm = sqrt(acc);
    } else {
#pragma omp parallel for reduction(+ : acc) if (n > 32768)
        for (int64_t i = 0; i < n; i++)
            acc += pow(fabs((double)cnn_grad_apply(t, gd[i], xd[i])), p);
        *norm = pow(acc, 1 / p);
    }
    return CNN_OK;
}

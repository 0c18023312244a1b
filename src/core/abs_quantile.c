/* The quantile of magnitudes that calibrates a quantized activation's
 * range (quantized.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quantized.h"

#define QUANTILE_BINS 4096

cnn_status cnn_abs_quantile(const cnn_tensor *t, double p, double *q, double *min)
{
    if (!(p > 0 && p <= 1))
        return cnn_fail(CNN_ERR_ARG, "the fraction must be in (0, 1], got %g", p);
    if (t->dtype != CNN_FLOAT32 || t->blocked || !cnn_tensor_is_contiguous(t))
        return cnn_fail(CNN_ERR_ARG, "expected a contiguous Float32 tensor");
    const float *v = cnn_tensor_f32(t);
    int64_t n = cnn_tensor_numel(t);
    if (n == 0)
        return cnn_fail(CNN_ERR_SHAPE, "no elements");
    float top = 0, low = INFINITY;
    int nonfinite = 0;
#pragma omp parallel for if (n > 65536) reduction(max                                    \
                                                  : top) reduction(min                   \
                                                                   : low)                \
    reduction(|                                                                          \
              : nonfinite)
    for (int64_t i = 0; i < n; i++) {
        nonfinite |= !isfinite(v[i]);
        top = fmaxf(top, fabsf(v[i]));
        low = fminf(low, v[i]);
    }
    if (nonfinite)
        return cnn_fail(CNN_ERR_ARG, "an element is NaN or infinite");
    *min = low;
    if (p == 1 || top == 0) {
        *q = top;
        return CNN_OK;
    }
    int64_t *bins = calloc(QUANTILE_BINS, sizeof *bins);
    if (!bins)
        return cnn_fail(CNN_ERR_NOMEM, "out of memory for a histogram");
    double per = QUANTILE_BINS / (double)top;
    for (int64_t i = 0; i < n; i++) {
        int64_t k = (int64_t)(fabsf(v[i]) * per);
        bins[k < QUANTILE_BINS ? k : QUANTILE_BINS - 1]++;
    }
    double want = p * (double)n, seen = 0;
    int k = 0;
    while (k < QUANTILE_BINS - 1 && (seen += (double)bins[k]) < want)
        k++;
    free(bins);
    *q = (k + 1) / per;
    return CNN_OK;
}

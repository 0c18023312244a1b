/* Max pooling of an int8 activation in nhwc without padding, the layout
 * the int8 convolutions give: oneDNN's int8 pooling handles such a
 * tensor one pixel's channels at a time, which for the few channels of
 * small networks is slower than the convolution before it. Here a row of
 * output pixels is one loop over contiguous bytes that the compiler
 * vectorises, one OpenMP iteration per output row. */
#include <stdint.h>

#include "quantized_net.h"

#define MAX_POOL_KERNEL(T)                                                               \
    for (int64_t r = 0; r < g->dims[0] * g->out[0]; r++) {                               \
        int64_t n = r / g->out[0], i = r % g->out[0], c = g->dims[1];                    \
        T *out = (T *)y + r * g->out[1] * c;                                             \
        for (int64_t j = 0; j < g->out[1]; j++) {                                        \
            const T *first =                                                             \
                (const T *)x +                                                           \
                ((n * g->dims[2] + i * g->stride[0]) * g->dims[3] + j * g->stride[1]) *  \
                    c;                                                                   \
            T *o = out + j * c;                                                          \
            for (int64_t k = 0; k < c; k++)                                              \
                o[k] = first[k];                                                         \
            for (int64_t a = 0; a < g->kernel[0]; a++)                                   \
                for (int64_t b = 0; b < g->kernel[1]; b++) {                             \
                    const T *tap = first + (a * g->dims[3] + b) * c;                     \
                    for (int64_t k = 0; k < c; k++)                                      \
                        o[k] = tap[k] > o[k] ? tap[k] : o[k];                            \
                }                                                                        \
        }                                                                                \
    }

__attribute__((target_clones("arch=skylake-avx512", "avx2", "default"))) static void
max_pool_u8(const q_pool_geometry *g, const void *x, void *y)
{
#pragma omp parallel for schedule(static)
    MAX_POOL_KERNEL(uint8_t)
}

__attribute__((target_clones("arch=skylake-avx512", "avx2", "default"))) static void
max_pool_s8(const q_pool_geometry *g, const void *x, void *y)
{
#pragma omp parallel for schedule(static)
    MAX_POOL_KERNEL(int8_t)
}

void cnn_qpool_max(const q_pool_geometry *g, const void *x, void *y)
{
    if (g->is_signed)
        max_pool_s8(g, x, y);
    else
        max_pool_u8(g, x, y);
}

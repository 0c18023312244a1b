#include "random.h"

#include <math.h>

static uint64_t rng_seed = CNN_DEFAULT_SEED;
static uint64_t rng_counter;

void cnn_rng_seed(uint64_t seed)
{
    rng_seed = seed;
    rng_counter = 0;
}

void cnn_rng_get_state(uint64_t *seed, uint64_t *counter)
{
    *seed = rng_seed;
    *counter = rng_counter;
}

void cnn_rng_set_state(uint64_t seed, uint64_t counter)
{
    rng_seed = seed;
    rng_counter = counter;
}

/* splitmix64's finaliser: a bijection with full avalanche, so consecutive
 * counters give independent-looking outputs. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Hashing the seed keeps seeds n and n+1 from giving shifted copies of
 * the same stream. */
static uint64_t key_of(uint64_t seed)
{
    return mix64(seed ^ UINT64_C(0x6a09e667f3bcc909));
}

static uint64_t draw(uint64_t key, uint64_t counter)
{
    return mix64(key + counter * UINT64_C(0x9e3779b97f4a7c15));
}

uint64_t cnn_rng_bits(uint64_t seed, uint64_t counter)
{
    return draw(key_of(seed), counter);
}

/* 24 bits, the precision of a float: every result is exactly representable
 * and strictly below 1. */
static float uniform_of(uint64_t bits) { return (float)(bits >> 40) * 0x1.0p-24f; }

/* Box-Muller on one 64-bit draw: u1 from the high 32 bits in (0, 1], so
 * the logarithm is finite; u2 from the low 32 bits. */
static float normal_of(uint64_t bits)
{
    double u1 = ((double)(bits >> 32) + 1.0) * 0x1.0p-32;
    double u2 = (double)(bits & 0xffffffffu) * 0x1.0p-32;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

/* Claims 'numel' counters for one fill. */
static uint64_t take_counters(int64_t numel)
{
    uint64_t base = rng_counter;
    rng_counter += (uint64_t)numel;
    return base;
}

void cnn_rng_claim(int64_t count, uint64_t *seed, uint64_t *base)
{
    *seed = rng_seed;
    *base = take_counters(count);
}

typedef enum distribution { UNIFORM, NORMAL } distribution;

static inline float value_of(distribution dist, uint64_t bits)
{
    return dist == NORMAL ? normal_of(bits) : uniform_of(bits);
}

/* Uniform numbers into a contiguous buffer, on vectors of the widest
 * kind the CPU has: the hash's 64-bit multiplications have vector
 * instructions only in AVX-512 (the draws are the same on every kind).
 * Dropout's mask of 32k numbers took 0.14 ms one at a time. */
__attribute__((target_clones("arch=x86-64-v4", "default"))) static void
uniform_contiguous(float *out, int64_t numel, uint64_t key, uint64_t base)
{
#pragma omp parallel for simd if (parallel : numel > 32768) schedule(static)
    for (int64_t k = 0; k < numel; k++)
        out[k] = uniform_of(draw(key, base + (uint64_t)k));
}

/* Fills t, in column-major order, from the next numel counters. */
static void fill(cnn_tensor *t, distribution dist)
{
    int64_t numel = cnn_tensor_numel(t);
    uint64_t key = key_of(rng_seed), base = take_counters(numel);
    if (!cnn_tensor_data(t))
        return;
    if (t->dtype == CNN_FLOAT32 && cnn_tensor_is_contiguous(t) && dist == UNIFORM) {
        uniform_contiguous(cnn_tensor_f32(t), numel, key, base);
        return;
    }
    if (t->dtype == CNN_FLOAT32 && cnn_tensor_is_contiguous(t)) {
        float *out = cnn_tensor_f32(t);
#pragma omp parallel for if (numel > 32768) schedule(static)
        for (int64_t k = 0; k < numel; k++)
            out[k] = value_of(dist, draw(key, base + (uint64_t)k));
        return;
    }
#pragma omp parallel for if (numel > 32768) schedule(static)
    for (int64_t k = 0; k < numel; k++)
        cnn_tensor_set(t, cnn_tensor_linear_offset(t, k),
                       value_of(dist, draw(key, base + (uint64_t)k)));
}

void cnn_rng_uniform(cnn_tensor *t) { fill(t, UNIFORM); }

void cnn_rng_normal(cnn_tensor *t) { fill(t, NORMAL); }

/* Random numbers for tensors: a counter-based generator.
 *
 * Element k of a fill draws from hash(seed, counter + k), a pure function,
 * so results depend only on the seed and on how many numbers were drawn
 * before — not on the thread count or the order threads run in — and large
 * fills are OpenMP-parallel. Each fill advances the counter past the
 * numbers it used.
 *
 * The generator starts from CNN_DEFAULT_SEED, so a program that never
 * seeds still draws the same numbers on every run. */
#ifndef CNN_RANDOM_H
#define CNN_RANDOM_H

#include <stdint.h>

#include "tensor.h"

#define CNN_DEFAULT_SEED UINT64_C(42)

/* Restarts the sequence: the same seed gives the same numbers again. */
void cnn_rng_seed(uint64_t seed);

/* The generator's whole state, the seed and the number of draws taken,
 * for checkpoints: setting a state got earlier makes the draws that
 * followed it come again. */
void cnn_rng_get_state(uint64_t *seed, uint64_t *counter);
void cnn_rng_set_state(uint64_t seed, uint64_t counter);

/* Fills t (any strides, element order column-major) with uniform numbers
 * in [0, 1). */
void cnn_rng_uniform(cnn_tensor *t);

/* Fills t with standard normal numbers (mean 0, variance 1). */
void cnn_rng_normal(cnn_tensor *t);

/* Claims 'count' draws for a caller that makes its own numbers from them:
 * draw k (0 <= k < count) is cnn_rng_bits(*seed, *base + k). The next fill
 * starts after them, so cnn.seed makes the caller reproducible too. */
void cnn_rng_claim(int64_t count, uint64_t *seed, uint64_t *base);

/* The 64 random bits of draw number 'counter' for 'seed' (for tests). */
uint64_t cnn_rng_bits(uint64_t seed, uint64_t counter);

#endif

/* Helpers shared by the C tests: checks that count failures, tensors with
 * their own storage and deterministic contents, and comparison. */
#ifndef CNN_TEST_UTIL_H
#define CNN_TEST_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor.h"

static int failures;

#define EXPECT(cond)                                                                     \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);          \
            failures++;                                                                  \
        }                                                                                \
    } while (0)

#define EXPECT_OK(call)                                                                  \
    do {                                                                                 \
        cnn_status st_ = (call);                                                         \
        if (st_ != CNN_OK) {                                                             \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call,         \
                    cnn_error_message());                                                \
            failures++;                                                                  \
        }                                                                                \
    } while (0)

/* The exit status of a test program; says how many checks failed. */
static inline int test_report(void)
{
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    return failures != 0;
}

/* A tensor with its own storage; free with drop_tensor(). */
static inline cnn_tensor make_tensor(cnn_dtype dtype, int ndims, const int64_t *size)
{
    cnn_tensor t;
    cnn_storage *s = malloc(sizeof *s);
    if (!s || cnn_tensor_init(&t, dtype, ndims, size) != CNN_OK ||
        cnn_storage_alloc(s, cnn_tensor_bytes(&t)) != CNN_OK) {
        fprintf(stderr, "cannot allocate a test tensor\n");
        exit(2);
    }
    t.storage = s;
    return t;
}

static inline void drop_tensor(cnn_tensor *t)
{
    cnn_storage_free(t->storage);
    free(t->storage);
}

/* Float32 elements first, first + 1, ... in storage order. */
static inline void iota(cnn_tensor *t, float first)
{
    float *p = cnn_tensor_f32(t);
    for (int64_t i = 0; i < cnn_tensor_numel(t); i++)
        p[i] = first + (float)i;
}

/* A heap-allocated tensor with its storage, for the layer kernel tests. */
typedef struct owned_tensor {
    cnn_tensor t;
    cnn_storage s;
} owned_tensor;

static inline owned_tensor *new_tensor(int ndims, const int64_t *size)
{
    owned_tensor *o = calloc(1, sizeof *o);
    if (!o || cnn_tensor_init(&o->t, CNN_FLOAT32, ndims, size) != CNN_OK ||
        cnn_storage_alloc(&o->s, cnn_tensor_bytes(&o->t)) != CNN_OK) {
        fprintf(stderr, "cannot allocate a test tensor\n");
        exit(2);
    }
    o->t.storage = &o->s;
    return o;
}

static inline owned_tensor *new_tensor4(int64_t a, int64_t b, int64_t c, int64_t d)
{
    int64_t size[4] = {a, b, c, d};
    return new_tensor(4, size);
}

static inline void free_tensor(owned_tensor *o)
{
    if (o) {
        cnn_storage_free(&o->s);
        free(o);
    }
}

/* Values in [-1, 1) from a fixed linear congruential sequence. */
static inline void fill_pattern(owned_tensor *o, unsigned seed)
{
    uint32_t state = seed * 2654435761u + 12345u;
    float *d = cnn_tensor_f32(&o->t);
    for (int64_t i = 0; i < cnn_tensor_numel(&o->t); i++) {
        state = state * 1664525u + 1013904223u;
        d[i] = (float)(state >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
    }
}

static inline float *f32(owned_tensor *o) { return cnn_tensor_f32(&o->t); }

/* Largest |a - b| / (1 + |b|) over the elements. */
static inline double max_error(const float *a, const float *b, int64_t n)
{
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]) / (1.0 + fabs((double)b[i]));
        if (e > worst || e != e)
            worst = e != e ? INFINITY : e;
    }
    return worst;
}

#define EXPECT_NEAR_ALL(a, b, n, tol)                                                    \
    do {                                                                                 \
        double err_ = max_error((a), (b), (n));                                          \
        if (!(err_ <= (tol))) {                                                          \
            fprintf(stderr, "%s:%d: %s vs %s: error %g > %g\n", __FILE__, __LINE__, #a,  \
                    #b, err_, (double)(tol));                                            \
            failures++;                                                                  \
        }                                                                                \
    } while (0)

#endif

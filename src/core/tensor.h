/* Tensors of the C core.
 *
 * Semantics follow Julia/Flux: sizes are listed fastest-varying first
 * (column-major), so a W×H×C×N image batch has size = {W, H, C, N} and
 * stride = {1, W, W*H, W*H*C}. In memory that is exactly oneDNN's plain
 * row-major nchw with dims {N, C, H, W}: reverse the sizes to get oneDNN
 * dims. Indices in this C API are 0-based; the Lua API adds the 1.
 *
 * A tensor is a view (offset, sizes, strides) into a storage. Storages are
 * owned by whoever created them (the Lua bindings keep them in userdata);
 * the core only reads and writes through the pointers. */
#ifndef CNN_TENSOR_H
#define CNN_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define CNN_MAX_DIMS 8
#define CNN_ALIGNMENT 64

typedef enum cnn_dtype {
    CNN_FLOAT32 = 0, /* computation */
    CNN_INT32 = 1,   /* labels and indices */
} cnn_dtype;

typedef struct cnn_storage {
    void *data;   /* CNN_ALIGNMENT-aligned; NULL once freed */
    size_t bytes;
} cnn_storage;

typedef struct cnn_tensor {
    cnn_storage *storage;
    int64_t offset; /* in elements, from storage->data */
    cnn_dtype dtype;
    int ndims;      /* 0 (a scalar) to CNN_MAX_DIMS */
    int64_t size[CNN_MAX_DIMS];
    int64_t stride[CNN_MAX_DIMS]; /* in elements */
} cnn_tensor;

size_t cnn_dtype_size(cnn_dtype dtype);
const char *cnn_dtype_name(cnn_dtype dtype); /* "Float32", "Int32" */

/* Allocates zeroed, aligned bytes (at least one byte, so data is never NULL
 * for a live storage). */
cnn_status cnn_storage_alloc(cnn_storage *s, size_t bytes);
void cnn_storage_free(cnn_storage *s);

/* Sets dtype, sizes and column-major contiguous strides, offset 0; checks
 * ndims and that every size is >= 0 and the element count fits. Does not
 * touch the storage pointer. */
cnn_status cnn_tensor_init(cnn_tensor *t, cnn_dtype dtype, int ndims,
                           const int64_t *size);

int64_t cnn_tensor_numel(const cnn_tensor *t);
size_t cnn_tensor_bytes(const cnn_tensor *t); /* numel * element size */
bool cnn_tensor_is_contiguous(const cnn_tensor *t);
bool cnn_tensor_same_size(const cnn_tensor *a, const cnn_tensor *b);

/* Pointer to the first element; NULL if the storage was freed. */
void *cnn_tensor_data(const cnn_tensor *t);
static inline float *cnn_tensor_f32(const cnn_tensor *t)
{
    return (float *)cnn_tensor_data(t);
}
static inline int32_t *cnn_tensor_i32(const cnn_tensor *t)
{
    return (int32_t *)cnn_tensor_data(t);
}

/* Writes sizes as "28×28×1×128" ("0-dim" for a scalar) into buf. */
const char *cnn_shape_string(const cnn_tensor *t, char *buf, size_t len);

/* Element offset (in elements, relative to the first element) of a 0-based
 * multi-index. */
int64_t cnn_tensor_offset_of(const cnn_tensor *t, const int64_t *index);

/* Copies src into dst elementwise (any strides, same sizes, converting the
 * element type if they differ). OpenMP-parallel for large tensors. */
cnn_status cnn_tensor_copy(cnn_tensor *dst, const cnn_tensor *src);

/* Fills every element with a value. */
void cnn_tensor_fill(cnn_tensor *t, double value);

#endif

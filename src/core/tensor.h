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

#include <oneapi/dnnl/dnnl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define CNN_MAX_DIMS  8
#define CNN_ALIGNMENT 64

typedef enum cnn_dtype {
    CNN_FLOAT32 = 0, /* computation */
    CNN_INT32 = 1,   /* labels and indices */
} cnn_dtype;

typedef struct cnn_storage {
    void *data; /* CNN_ALIGNMENT-aligned; NULL once freed */
    size_t bytes;
} cnn_storage;

typedef struct cnn_tensor {
    cnn_storage *storage;
    int64_t offset; /* in elements, from storage->data */
    cnn_dtype dtype;
    int ndims; /* 0 (a scalar) to CNN_MAX_DIMS */
    int64_t size[CNN_MAX_DIMS];
    int64_t stride[CNN_MAX_DIMS]; /* in elements */
    /* Set when the storage holds the elements in the oneDNN layout
     * 'layout' (e.g. nChw16c, as a convolution chose it) instead of the
     * plain one that size and stride describe. Only whole tensors made by
     * the layer kernels are blocked (offset 0, the storage all theirs);
     * everything else sees them after a conversion to plain. */
    bool blocked;
    dnnl_memory_desc_t layout;
} cnn_tensor;

size_t cnn_dtype_size(cnn_dtype dtype);
const char *cnn_dtype_name(cnn_dtype dtype); /* "Float32", "Int32" */

/* Allocates zeroed, aligned bytes (at least one byte, so data is never NULL
 * for a live storage). */
cnn_status cnn_storage_alloc(cnn_storage *s, size_t bytes);
/* The same without zeroing, for outputs that a kernel overwrites whole. */
cnn_status cnn_storage_alloc_uninit(cnn_storage *s, size_t bytes);
/* Big freed blocks are kept (bounded) for reuse by later allocations of the
 * same size; cnn_storage_cache_clear returns them to the system. */
void cnn_storage_free(cnn_storage *s);
void cnn_storage_cache_clear(void);
/* Blocks of 64 KiB or more (and their bytes) taken from the system rather
 * than from the cache of freed blocks since the process started; smaller
 * blocks come from malloc's own free lists and are not counted. */
int64_t cnn_storage_system_allocations(void);
int64_t cnn_storage_system_bytes(void);
/* The most bytes the cache of freed blocks keeps: an eighth of the
 * physical memory between 192 MiB and 4 GiB, CNNLUA_CACHE_MB megabytes
 * when that is a number, 0 under AddressSanitizer. */
size_t cnn_storage_cache_limit(void);

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
/* The same for a sizes array, the one way sizes are written in messages
 * (-1, a reshape's free dimension, as ":"). */
const char *cnn_sizes_string(const int64_t *size, int ndims, char *buf, size_t len);

/* Element offset (in elements, relative to the first element) of a 0-based
 * multi-index. */
int64_t cnn_tensor_offset_of(const cnn_tensor *t, const int64_t *index);

/* Copies src into dst elementwise (any strides, same sizes, converting the
 * element type if they differ). OpenMP-parallel for large tensors. */
cnn_status cnn_tensor_copy(cnn_tensor *dst, const cnn_tensor *src);

/* Whether an Int32 element holds v exactly: a whole number from
 * -2147483648 to 2147483647 (so not NaN, not infinite). */
bool cnn_int32_holds(double v);
/* The first element of t, counted 0-based in column-major order, that an
 * Int32 does not hold; -1 if there is none. */
int64_t cnn_tensor_find_non_int32(const cnn_tensor *t);

/* Fills every element with a value. */
void cnn_tensor_fill(cnn_tensor *t, double value);

/* Views: these change t in place to describe part of the same storage.
 * Indices are 0-based and must be in range (the bindings check them). */
void cnn_tensor_select(cnn_tensor *t, int dim, int64_t index); /* drops dim */
void cnn_tensor_narrow(cnn_tensor *t, int dim, int64_t first, int64_t len);
/* Resolves one -1 in 'size' from the element count of t and checks that the
 * counts agree ("cannot reshape 2×3 (6 elements) to 4×2 (8 elements)"). */
cnn_status cnn_reshape_sizes(const cnn_tensor *t, int ndims, int64_t *size);
/* Gives a contiguous t new sizes with the same element count. */
void cnn_tensor_view_as(cnn_tensor *t, int ndims, const int64_t *size);
/* Makes t a view of 'ndims' sizes that repeats it along dimensions of size
 * 1 and dimensions past its last (stride 0), Julia's broadcasting rule;
 * trailing dimensions of t past 'ndims' must have size 1. */
cnn_status cnn_tensor_broadcast_to(cnn_tensor *t, int ndims, const int64_t *size);

/* Offset (relative to the first element) of the k-th element in column-major
 * order, 0 <= k < numel. */
int64_t cnn_tensor_linear_offset(const cnn_tensor *t, int64_t k);
/* The same over dimensions first, first + 1, ... only (1: the start of
 * the k-th column of dimension 1): the one way a linear index becomes an
 * offset. */
int64_t cnn_tensor_offset_from(const cnn_tensor *t, int first, int64_t k);
double cnn_tensor_get(const cnn_tensor *t, int64_t offset);
void cnn_tensor_set(cnn_tensor *t, int64_t offset, double value);

/* Julia's length(first:step:last), with a little tolerance so that
 * 0:0.1:1 has 11 elements; CNN_ERR_ARG for a zero or non-finite step. */
cnn_status cnn_range_length(double first, double last, double step, int64_t *n);
/* Element k becomes first + k * step. */
void cnn_tensor_fill_range(cnn_tensor *t, double first, double step);

#endif

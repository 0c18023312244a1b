#include "tensor.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

size_t cnn_dtype_size(cnn_dtype dtype)
{
    (void)dtype; /* both element types are four bytes */
    return 4;
}

const char *cnn_dtype_name(cnn_dtype dtype)
{
    return dtype == CNN_INT32 ? "Int32" : "Float32";
}

/* Freed blocks of at least CACHE_MIN_BYTES wait here, keyed by their
 * rounded size, for the next allocation of the same size: a training step
 * allocates the same sizes every time, and a reused block costs neither the
 * page faults of fresh memory nor the unmapping of the old (a residual
 * network's step at batch 128 frees and takes again about 300 MB; from the
 * system, its page faults cost a third of the step's CPU time). The cache
 * holds at most cnn_storage_cache_limit() bytes: an eighth of the physical memory,
 * between 192 MiB and 4 GiB, or CNNLUA_CACHE_MB megabytes when that is set.
 * An allocation that fails empties the cache and tries again (the
 * binding's push_storage). In AddressSanitizer builds a block is poisoned
 * while it waits, so that a use after free is still caught (as a use after
 * poison). */
#define CACHE_MIN_BYTES ((size_t)64 << 10)
#define CACHE_SLOTS     4096

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(data, bytes)   ASAN_POISON_MEMORY_REGION(data, bytes)
#define UNPOISON(data, bytes) ASAN_UNPOISON_MEMORY_REGION(data, bytes)
/* A tensor too big for memory is an error that Lua code gets (zeros(2^40)
 * raises "out of memory"); AddressSanitizer would abort the process on the
 * failed allocation instead, so sanitized builds fail it the ordinary way. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }
#else
#define POISON(data, bytes)   ((void)(data), (void)(bytes))
#define UNPOISON(data, bytes) ((void)(data), (void)(bytes))
#endif

size_t cnn_storage_cache_limit(void)
{
    static size_t limit = (size_t)-1;
    if (limit != (size_t)-1)
        return limit;
    const char *mb = getenv("CNNLUA_CACHE_MB");
    char *end;
    unsigned long long given = mb && *mb ? strtoull(mb, &end, 10) : 0;
    if (mb && *mb && *end == '\0' && given <= ((size_t)1 << 24)) {
        limit = (size_t)given << 20;
    } else {
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        size_t eighth = pages > 0 && page > 0 ? (size_t)pages * (size_t)page / 8 : 0;
        size_t low = (size_t)192 << 20, high = (size_t)4 << 30;
        limit = eighth < low ? low : eighth > high ? high : eighth;
    }
    return limit;
}

typedef struct cached_block {
    void *data;
    size_t bytes;
} cached_block;

static cached_block cache[CACHE_SLOTS];
static int64_t system_allocations, system_bytes;
static int cache_count;
static size_t cache_bytes;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t rounded_size(size_t bytes)
{
    size_t rounded = (bytes + CNN_ALIGNMENT - 1) / CNN_ALIGNMENT * CNN_ALIGNMENT;
    return rounded ? rounded : CNN_ALIGNMENT;
}

static void *cache_take(size_t rounded)
{
    void *data = NULL;
    pthread_mutex_lock(&cache_lock);
    for (int i = cache_count - 1; i >= 0; i--) {
        if (cache[i].bytes != rounded)
            continue;
        data = cache[i].data;
        UNPOISON(data, rounded);
        cache_bytes -= rounded;
        cache[i] = cache[--cache_count];
        break;
    }
    pthread_mutex_unlock(&cache_lock);
    return data;
}

/* Keeps a block, dropping the oldest ones to make room; false if the block
 * is not worth keeping (then the caller frees it). */
static bool cache_put(void *data, size_t rounded)
{
    if (rounded < CACHE_MIN_BYTES || rounded > cnn_storage_cache_limit() / 4)
        return false;
    pthread_mutex_lock(&cache_lock);
    while (cache_count > 0 && (cache_count == CACHE_SLOTS ||
                               cache_bytes + rounded > cnn_storage_cache_limit())) {
        UNPOISON(cache[0].data, cache[0].bytes);
        free(cache[0].data);
        cache_bytes -= cache[0].bytes;
        memmove(cache, cache + 1, (size_t)--cache_count * sizeof *cache);
    }
    POISON(data, rounded);
    cache[cache_count].data = data;
    cache[cache_count].bytes = rounded;
    cache_count++;
    cache_bytes += rounded;
    pthread_mutex_unlock(&cache_lock);
    return true;
}

/* Blocks of HUGE_BYTES or more start on a huge page's boundary and ask
 * the kernel for huge pages (when transparent huge pages are enabled for
 * such requests, as Debian's default "madvise" is): fresh memory then
 * faults in once per 2 MiB instead of once per 4 KiB. Measured on a
 * virtual machine, 80 MB of fresh zeros took 145 ms instead of 300, and a
 * 10,000-image LeNet evaluation in one batch 0.48 s instead of 0.64. */
#define HUGE_BYTES ((size_t)2 << 20)

/* Faults in the whole pages of a fresh block in one call instead of one
 * fault per page when it is first written (Linux 5.14's
 * MADV_POPULATE_WRITE; older kernels refuse it and the pages fault in as
 * before). Pages the allocator had already are left as they are. */
static void populate(void *data, size_t bytes)
{
#if defined(MADV_POPULATE_WRITE)
    const uintptr_t page = 4096;
    uintptr_t first = ((uintptr_t)data + page - 1) & ~(page - 1);
    uintptr_t end = ((uintptr_t)data + bytes) & ~(page - 1);
    if (end > first)
        madvise((void *)first, end - first, MADV_POPULATE_WRITE);
#else
    (void)data;
    (void)bytes;
#endif
}

static void *system_block(size_t rounded)
{
    void *data = NULL;
    if (rounded < HUGE_BYTES) {
        data = aligned_alloc(CNN_ALIGNMENT, rounded);
        if (data && rounded >= CACHE_MIN_BYTES)
            populate(data, rounded);
    } else {
        /* posix_memalign: aligned_alloc wants the size a multiple of the
         * alignment (AddressSanitizer's refuses other sizes) */
        if (posix_memalign(&data, HUGE_BYTES, rounded) != 0)
            return NULL;
#if defined(MADV_HUGEPAGE)
        madvise(data, rounded, MADV_HUGEPAGE);
#endif
    }
    return data;
}

cnn_status cnn_storage_alloc_uninit(cnn_storage *s, size_t bytes)
{
    size_t rounded = rounded_size(bytes);
    s->data = rounded >= CACHE_MIN_BYTES ? cache_take(rounded) : NULL;
    if (!s->data) {
        s->data = system_block(rounded);
        if (!s->data)
            return cnn_fail(CNN_ERR_NOMEM, "out of memory allocating %zu bytes", bytes);
        if (rounded >= CACHE_MIN_BYTES) {
            system_allocations++;
            system_bytes += (int64_t)rounded;
        }
    }
    s->bytes = bytes;
    return CNN_OK;
}

cnn_status cnn_storage_alloc(cnn_storage *s, size_t bytes)
{
    cnn_status status = cnn_storage_alloc_uninit(s, bytes);
    if (status == CNN_OK)
        memset(s->data, 0, rounded_size(bytes));
    return status;
}

void cnn_storage_free(cnn_storage *s)
{
    if (s->data && !cache_put(s->data, rounded_size(s->bytes)))
        free(s->data);
    s->data = NULL;
    s->bytes = 0;
}

int64_t cnn_storage_system_allocations(void) { return system_allocations; }
int64_t cnn_storage_system_bytes(void) { return system_bytes; }

void cnn_storage_cache_clear(void)
{
    pthread_mutex_lock(&cache_lock);
    while (cache_count > 0) {
        cache_count--;
        UNPOISON(cache[cache_count].data, cache[cache_count].bytes);
        free(cache[cache_count].data);
    }
    cache_bytes = 0;
    pthread_mutex_unlock(&cache_lock);
}

/* At most 2^37 elements (512 GiB): far beyond any memory this runs on, yet
 * small enough that byte counts, products of a few sizes and allocator
 * requests (AddressSanitizer's stop at 1 TiB) never overflow or abort. */
#define MAX_ELEMENTS ((int64_t)1 << 37)

cnn_status cnn_tensor_init(cnn_tensor *t, cnn_dtype dtype, int ndims, const int64_t *size)
{
    char text[256];
    if (ndims < 0 || ndims > CNN_MAX_DIMS)
        return cnn_fail(CNN_ERR_ARG, "%d dimensions (at most %d allowed)", ndims,
                        CNN_MAX_DIMS);
    int64_t numel = 1;
    for (int d = 0; d < ndims; d++) {
        if (size[d] < 0)
            return cnn_fail(CNN_ERR_ARG, "size %lld of dimension %d is negative",
                            (long long)size[d], d + 1);
        if (size[d] > MAX_ELEMENTS || (size[d] > 0 && numel > MAX_ELEMENTS / size[d]))
            return cnn_fail(CNN_ERR_ARG, "tensor too large: %s (at most 2^37 elements)",
                            cnn_sizes_string(size, ndims, text, sizeof text));
        numel *= size[d];
    }
    t->dtype = dtype;
    t->ndims = ndims;
    t->offset = 0;
    t->blocked = false;
    int64_t stride = 1;
    for (int d = 0; d < CNN_MAX_DIMS; d++) {
        t->size[d] = d < ndims ? size[d] : 1;
        t->stride[d] = stride;
        if (d < ndims)
            stride *= size[d];
    }
    return CNN_OK;
}

int64_t cnn_tensor_numel(const cnn_tensor *t)
{
    int64_t n = 1;
    for (int d = 0; d < t->ndims; d++)
        n *= t->size[d];
    return n;
}

size_t cnn_tensor_bytes(const cnn_tensor *t)
{
    return (size_t)cnn_tensor_numel(t) * cnn_dtype_size(t->dtype);
}

bool cnn_tensor_is_contiguous(const cnn_tensor *t)
{
    int64_t expected = 1;
    for (int d = 0; d < t->ndims; d++) {
        if (t->size[d] != 1 && t->stride[d] != expected)
            return false;
        expected *= t->size[d];
    }
    return true;
}

bool cnn_tensor_same_size(const cnn_tensor *a, const cnn_tensor *b)
{
    if (a->ndims != b->ndims)
        return false;
    for (int d = 0; d < a->ndims; d++)
        if (a->size[d] != b->size[d])
            return false;
    return true;
}

void *cnn_tensor_data(const cnn_tensor *t)
{
    if (!t->storage || !t->storage->data)
        return NULL;
    return (char *)t->storage->data + t->offset * (int64_t)cnn_dtype_size(t->dtype);
}

const char *cnn_sizes_string(const int64_t *size, int ndims, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int d = 0; d < ndims && used < len; d++) {
        const char *sep = d ? "×" : "";
        /* -1 is the free dimension of a reshape */
        if (size[d] == -1)
            used += snprintf(buf + used, len - used, "%s:", sep);
        else
            used += snprintf(buf + used, len - used, "%s%lld", sep, (long long)size[d]);
    }
    if (ndims == 0)
        snprintf(buf, len, "0-dim");
    return buf;
}

const char *cnn_shape_string(const cnn_tensor *t, char *buf, size_t len)
{
    return cnn_sizes_string(t->size, t->ndims, buf, len);
}

int64_t cnn_tensor_offset_of(const cnn_tensor *t, const int64_t *index)
{
    int64_t off = 0;
    for (int d = 0; d < t->ndims; d++)
        off += index[d] * t->stride[d];
    return off;
}

/* Offset of the start of "row" r, a row being all of dimension 1 at fixed
 * higher indices. */
static int64_t row_offset(const cnn_tensor *t, int64_t r)
{
    return cnn_tensor_offset_from(t, 1, r);
}

static double load_element(const cnn_tensor *t, const char *base, int64_t off)
{
    if (t->dtype == CNN_INT32)
        return ((const int32_t *)base)[off];
    return ((const float *)base)[off];
}

bool cnn_int32_holds(double v)
{
    return v >= -2147483648.0 && v <= 2147483647.0 && v == floor(v);
}

int64_t cnn_tensor_find_non_int32(const cnn_tensor *t)
{
    const char *base = cnn_tensor_data(t);
    int64_t numel = cnn_tensor_numel(t);
    for (int64_t k = 0; base && k < numel; k++)
        if (!cnn_int32_holds(load_element(t, base, cnn_tensor_linear_offset(t, k))))
            return k;
    return -1;
}

/* The bindings let only values that cnn_int32_holds reach an Int32 tensor;
 * as a last defence against undefined conversions, anything else
 * saturates (NaN becomes 0) and fractions truncate. */
static int32_t saturate_int32(double v)
{
    if (v != v)
        return 0;
    if (v >= 2147483647.0)
        return INT32_MAX;
    if (v <= -2147483648.0)
        return INT32_MIN;
    return (int32_t)v;
}

static void store_element(cnn_tensor *t, char *base, int64_t off, double v)
{
    if (t->dtype == CNN_INT32)
        ((int32_t *)base)[off] = saturate_int32(v);
    else
        ((float *)base)[off] = (float)v;
}

cnn_status cnn_tensor_copy(cnn_tensor *dst, const cnn_tensor *src)
{
    if (cnn_tensor_numel(dst) != cnn_tensor_numel(src) ||
        !cnn_tensor_same_size(dst, src)) {
        char a[128], b[128];
        return cnn_fail(CNN_ERR_SHAPE, "sizes differ: %s and %s",
                        cnn_shape_string(dst, a, sizeof a),
                        cnn_shape_string(src, b, sizeof b));
    }
    char *out = cnn_tensor_data(dst);
    const char *in = cnn_tensor_data(src);
    int64_t numel = cnn_tensor_numel(dst);
    if (numel == 0)
        return CNN_OK;
    if (dst->dtype == src->dtype && cnn_tensor_is_contiguous(dst) &&
        cnn_tensor_is_contiguous(src)) {
        memmove(out, in, cnn_tensor_bytes(dst));
        return CNN_OK;
    }
    int64_t width = dst->ndims ? dst->size[0] : 1;
    int64_t rows = numel / width;
    int64_t ds = dst->ndims ? dst->stride[0] : 1, ss = src->ndims ? src->stride[0] : 1;
#pragma omp parallel for if (numel > 32768) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        int64_t o = row_offset(dst, r), i = row_offset(src, r);
        for (int64_t k = 0; k < width; k++)
            store_element(dst, out, o + k * ds, load_element(src, in, i + k * ss));
    }
    return CNN_OK;
}

void cnn_tensor_fill(cnn_tensor *t, double value)
{
    char *base = cnn_tensor_data(t);
    int64_t numel = cnn_tensor_numel(t);
    if (!base || numel == 0)
        return;
    int64_t width = t->ndims ? t->size[0] : 1;
    int64_t rows = numel / width, s0 = t->ndims ? t->stride[0] : 1;
#pragma omp parallel for if (numel > 32768) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        int64_t o = row_offset(t, r);
        for (int64_t k = 0; k < width; k++)
            store_element(t, base, o + k * s0, value);
    }
}

void cnn_tensor_select(cnn_tensor *t, int dim, int64_t index)
{
    t->offset += index * t->stride[dim];
    for (int d = dim; d + 1 < t->ndims; d++) {
        t->size[d] = t->size[d + 1];
        t->stride[d] = t->stride[d + 1];
    }
    t->ndims--;
    t->size[t->ndims] = 1;
}

void cnn_tensor_narrow(cnn_tensor *t, int dim, int64_t first, int64_t len)
{
    if (len > 0)
        t->offset += first * t->stride[dim];
    t->size[dim] = len;
}

/* Sizes as "4×2", with ":" for an unresolved -1 (Julia's colon). */

cnn_status cnn_reshape_sizes(const cnn_tensor *t, int ndims, int64_t *size)
{
    int64_t numel = cnn_tensor_numel(t), known = 1;
    int inferred = -1;
    char from[128], to[128];
    for (int d = 0; d < ndims; d++) {
        if (size[d] == -1 && inferred >= 0)
            return cnn_fail(CNN_ERR_ARG, "only one size may be -1");
        if (size[d] == -1) {
            inferred = d;
            continue;
        }
        if (size[d] < 0)
            return cnn_fail(CNN_ERR_ARG, "size %lld of dimension %d is negative",
                            (long long)size[d], d + 1);
        if (size[d] > MAX_ELEMENTS || (size[d] > 0 && known > MAX_ELEMENTS / size[d]))
            return cnn_fail(CNN_ERR_ARG, "tensor too large: %s (at most 2^37 elements)",
                            cnn_sizes_string(size, ndims, to, sizeof to));
        known *= size[d];
    }
    cnn_sizes_string(size, ndims, to, sizeof to);
    cnn_shape_string(t, from, sizeof from);
    if (inferred >= 0) {
        if (known == 0 || numel % known != 0)
            return cnn_fail(
                CNN_ERR_SHAPE,
                "cannot reshape %s (%lld elements) to %s (not a multiple of %lld)", from,
                (long long)numel, to, (long long)known);
        size[inferred] = numel / known;
        return CNN_OK;
    }
    if (known != numel)
        return cnn_fail(CNN_ERR_SHAPE,
                        "cannot reshape %s (%lld elements) to %s (%lld elements)", from,
                        (long long)numel, to, (long long)known);
    return CNN_OK;
}

void cnn_tensor_view_as(cnn_tensor *t, int ndims, const int64_t *size)
{
    int64_t offset = t->offset;
    cnn_tensor_init(t, t->dtype, ndims, size);
    t->offset = offset;
}

cnn_status cnn_tensor_broadcast_to(cnn_tensor *t, int ndims, const int64_t *size)
{
    bool fits = true;
    for (int d = 0; fits && d < t->ndims; d++)
        fits = t->size[d] == 1 || (d < ndims && t->size[d] == size[d]);
    if (!fits) {
        char a[128], b[128];
        cnn_tensor want;
        cnn_tensor_init(&want, t->dtype, ndims, size);
        return cnn_fail(CNN_ERR_SHAPE, "sizes %s and %s do not broadcast",
                        cnn_shape_string(t, a, sizeof a),
                        cnn_shape_string(&want, b, sizeof b));
    }
    for (int d = 0; d < ndims; d++) {
        if (d >= t->ndims || (t->size[d] == 1 && size[d] != 1))
            t->stride[d] = 0;
        t->size[d] = size[d];
    }
    t->ndims = ndims;
    return CNN_OK;
}

int64_t cnn_tensor_offset_from(const cnn_tensor *t, int first, int64_t k)
{
    int64_t off = 0;
    for (int d = first; d < t->ndims; d++) {
        off += (k % t->size[d]) * t->stride[d];
        k /= t->size[d];
    }
    return off;
}

int64_t cnn_tensor_linear_offset(const cnn_tensor *t, int64_t k)
{
    return cnn_tensor_offset_from(t, 0, k);
}

double cnn_tensor_get(const cnn_tensor *t, int64_t offset)
{
    return load_element(t, cnn_tensor_data(t), offset);
}

void cnn_tensor_set(cnn_tensor *t, int64_t offset, double value)
{
    store_element(t, cnn_tensor_data(t), offset, value);
}

cnn_status cnn_range_length(double first, double last, double step, int64_t *n)
{
    if (!isfinite(first) || !isfinite(last))
        return cnn_fail(CNN_ERR_ARG, "first and last must be finite");
    if (step == 0 || !isfinite(step))
        return cnn_fail(CNN_ERR_ARG, "step must be finite and not zero");
    double r = (last - first) / step;
    double nearest = round(r);
    /* 0.3 / 0.1 is 2.9999999999999996: snap to the integer it means */
    if (fabs(r - nearest) <= 1e-10 * fmax(1.0, fabs(r)))
        r = nearest;
    if (r < 0) {
        *n = 0;
        return CNN_OK;
    }
    if (r >= (double)(INT64_C(1) << 40))
        return cnn_fail(CNN_ERR_ARG, "tensor too large");
    *n = (int64_t)floor(r) + 1;
    return CNN_OK;
}

void cnn_tensor_fill_range(cnn_tensor *t, double first, double step)
{
    char *base = cnn_tensor_data(t);
    int64_t numel = cnn_tensor_numel(t);
#pragma omp parallel for if (numel > 32768) schedule(static)
    for (int64_t k = 0; k < numel; k++)
        store_element(t, base, cnn_tensor_linear_offset(t, k), first + (double)k * step);
}

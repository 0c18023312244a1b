/* The core's context: the oneDNN engine and stream, the primitive cache,
 * the scratch buffers of reorders and the counters that tests and the
 * profiler read. It is process-wide and single-threaded (context.c says
 * why).
 *
 * Primitives are created once per distinct key (op kind, shapes, attributes)
 * and reused on every later call: a training step on known shapes creates
 * none. */
#ifndef CNN_DNNL_CONTEXT_H
#define CNN_DNNL_CONTEXT_H

#include <oneapi/dnnl/dnnl.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

dnnl_engine_t cnn_engine(void);
dnnl_stream_t cnn_stream(void);

/* Turns a failed oneDNN call into a core failure that names the op and the
 * call: "conv forward: dnnl_primitive_desc_create: unimplemented". */
#define CNN_DNNL_TRY(op, call)                                                           \
    do {                                                                                 \
        dnnl_status_t dnnl_status_ = (call);                                             \
        if (dnnl_status_ != dnnl_success)                                                \
            return cnn_fail(CNN_ERR_DNNL, "%s: %s: %s", (op), cnn_dnnl_call_name(#call), \
                            cnn_dnnl_status_string(dnnl_status_));                       \
    } while (0)

const char *cnn_dnnl_status_string(dnnl_status_t s);
/* The function name of a call's source text ("dnnl_memory_create(...)" ->
 * "dnnl_memory_create"), kept in a static buffer. */
const char *cnn_dnnl_call_name(const char *call_text);

/* A cached primitive with its descriptor. 'extra' lets an op keep derived
 * descriptors (e.g. a workspace md) next to the primitive. */
#define CNN_PRIMITIVE_MEMORIES 24

typedef struct cnn_primitive {
    dnnl_primitive_t primitive;
    dnnl_primitive_desc_t pd;
    int kind; /* cnn_profile_kind, from the pd's primitive and prop kinds */
    /* Memory objects of the last execution, by the order the exec helper
     * (exec.h) made them: a later execution re-points them at its data
     * instead of creating new ones. */
    dnnl_memory_t memories[CNN_PRIMITIVE_MEMORIES];
} cnn_primitive;

/* Looks a primitive up by key (any bytes; callers zero their key structs
 * before filling them so padding compares equal), the current OpenMP
 * thread count and the compute precision. The pointer stays valid until the entry is evicted, that
 * is for the rest of the op's call. */
cnn_primitive *cnn_primitive_find(const void *key, size_t key_len);

/* The cache keeps at most this many primitives (oneDNN's own cache holds
 * 1024 too), dropping the least recently used one to make room. */
#define CNN_PRIMITIVE_CACHE_DEFAULT 1024
/* An execution holds its primitive and up to one reorder per argument:
 * they must all stay cached until it finishes. */
#define CNN_PRIMITIVE_CACHE_MIN (CNN_SCRATCH_SLOTS + 4)
void cnn_primitive_cache_set_capacity(size_t n); /* raised to the minimum */
size_t cnn_primitive_cache_capacity(void);
size_t cnn_primitive_cache_size(void);

/* Creates the primitive of 'pd' (taking ownership of pd, even on failure)
 * and stores it under key. */
cnn_status cnn_primitive_add(const void *key, size_t key_len, dnnl_primitive_desc_t pd,
                             const char *op, cnn_primitive **out);

/* A primitive outside the cache, for an object that keeps its primitives
 * for its own life (a quantized network's plans): created from pd (taking
 * ownership of it, even on failure), counted and profiled as cached ones
 * are, and released by its owner. */
cnn_status cnn_primitive_create_owned(dnnl_primitive_desc_t pd, const char *op,
                                      cnn_primitive *out);
void cnn_primitive_release(cnn_primitive *p);

/* An execution passes at most this many arguments (exec.h). */
#define CNN_SCRATCH_SLOTS 12

/* The scratch buffer of argument position 'slot' of an execution, grown to
 * at least 'bytes' (aligned) and kept: ops run one at a time, so a position
 * is never used by two executions at once. NULL when out of memory. */
void *cnn_scratch(int slot, size_t bytes);

/* Runs a primitive with arguments on the stream and waits for it. */
cnn_status cnn_primitive_run(const cnn_primitive *p, int nargs,
                             const dnnl_exec_arg_t *args, const char *op);

/* Memory object wrapping user data (no copy) for a descriptor. The handle
 * is created once per call site and only re-pointed is cheaper, but memory
 * creation in oneDNN is a small struct allocation: callers destroy it. */
cnn_status cnn_memory_wrap(const dnnl_memory_desc_t *md, void *data, dnnl_memory_t *out,
                           const char *op);

/* What the profiler tells apart: one row per kind of primitive execution. */
typedef enum cnn_profile_kind {
    CNN_PROFILE_CONV_FORWARD,
    CNN_PROFILE_CONV_BACKWARD_DATA,
    CNN_PROFILE_CONV_BACKWARD_WEIGHTS,
    CNN_PROFILE_DECONV_FORWARD,
    CNN_PROFILE_DECONV_BACKWARD_DATA,
    CNN_PROFILE_DECONV_BACKWARD_WEIGHTS,
    CNN_PROFILE_POOL_FORWARD,
    CNN_PROFILE_POOL_BACKWARD,
    CNN_PROFILE_ELTWISE_FORWARD,
    CNN_PROFILE_ELTWISE_BACKWARD,
    CNN_PROFILE_REORDER,
    CNN_PROFILE_INNER_PRODUCT_FORWARD,
    CNN_PROFILE_INNER_PRODUCT_BACKWARD_DATA,
    CNN_PROFILE_INNER_PRODUCT_BACKWARD_WEIGHTS,
    CNN_PROFILE_SOFTMAX_FORWARD,
    CNN_PROFILE_SOFTMAX_BACKWARD,
    CNN_PROFILE_BATCHNORM_FORWARD,
    CNN_PROFILE_BATCHNORM_BACKWARD,
    CNN_PROFILE_LAYERNORM_FORWARD,
    CNN_PROFILE_LAYERNORM_BACKWARD,
    CNN_PROFILE_OTHER,
    CNN_PROFILE_COUNT
} cnn_profile_kind;

/* "conv forward", "reorder", ... */
const char *cnn_profile_kind_name(int kind);

typedef struct cnn_stats {
    int64_t primitives_created;
    int64_t primitives_evicted;
    int64_t primitive_executions;
    int64_t reorders;
    int64_t tensor_allocations;
    int64_t tensor_bytes_allocated;
    /* Only while profiling is on are executions timed (wall seconds from
     * submission to completion), so the normal path reads no clock. */
    int profiling;
    double seconds[CNN_PROFILE_COUNT];
    int64_t executions[CNN_PROFILE_COUNT];
} cnn_stats;

cnn_stats *cnn_global_stats(void);

/* The core's own kernels (those that replace a oneDNN primitive) count as
 * executions of their kind: start = cnn_kernel_start() before the work,
 * cnn_kernel_done(kind, start) after it. */
double cnn_kernel_start(void);
void cnn_kernel_done(int kind, double start);

/* Seconds on a monotonic clock. */
double cnn_seconds(void);

/* The compute precision of convolutions and dense layers: FP32, or
 * bfloat16 inputs with FP32 accumulation and results (PyTorch's autocast).
 * It is part of every primitive's cache key, as the thread count is:
 * an op planned under either finds the primitive made for it. */
typedef enum cnn_precision {
    CNN_PRECISION_FP32 = 0,
    CNN_PRECISION_BF16 = 1,
} cnn_precision;

cnn_precision cnn_get_precision(void);
void cnn_set_precision(cnn_precision p);
/* "fp32", "bf16"; NULL for anything else. */
const char *cnn_precision_name(cnn_precision p);
/* The element type convolution and dense inputs take in precision p. */
dnnl_data_type_t cnn_precision_input_type(cnn_precision p);

/* OpenMP threads used by the core and oneDNN now; setting sets the most
 * (thread_count.h: fewer while other processes keep cores busy). */
int cnn_get_num_threads(void);
void cnn_set_num_threads(int n);

#endif

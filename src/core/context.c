#include "context.h"
#include "thread_count.h"

#include "tensor.h" /* CNN_ALIGNMENT */

#include <omp.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

typedef struct cache_entry cache_entry;

/* One scratch buffer per argument position of an execution. */
typedef struct scratch_buffer {
    void *data;
    size_t bytes;
} scratch_buffer;

/* Everything the core keeps between calls to oneDNN, in one place. It is
 * process-wide rather than per Lua state: engine and stream are costly to
 * make and every state (each busted spec file is one) can share them and
 * the primitives, and a primitive cache per state would create the same
 * primitives again. It is single-threaded: ops run one at a time on the
 * one stream, as Lua calls them; the parallelism is inside oneDNN and the
 * core's OpenMP loops. The last error message (status.c) follows the same
 * rule. */
static struct cnn_context {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    cnn_stats stats;
    struct {
        cache_entry **buckets;
        size_t bucket_count;
        size_t entry_count;
        size_t capacity;
        cache_entry *newest, *oldest; /* the order of use */
    } cache;
    scratch_buffer scratch[CNN_SCRATCH_SLOTS];
    cnn_precision precision;
} ctx = {.cache = {.capacity = CNN_PRIMITIVE_CACHE_DEFAULT}};

/* Engine and stream are created on first use and live as long as the
 * process. */
dnnl_engine_t cnn_engine(void)
{
    if (!ctx.engine && dnnl_engine_create(&ctx.engine, dnnl_cpu, 0) != dnnl_success)
        ctx.engine = NULL;
    return ctx.engine;
}

dnnl_stream_t cnn_stream(void)
{
    if (!ctx.stream && cnn_engine() &&
        dnnl_stream_create(&ctx.stream, ctx.engine, dnnl_stream_default_flags) !=
            dnnl_success)
        ctx.stream = NULL;
    return ctx.stream;
}

const char *cnn_dnnl_status_string(dnnl_status_t s)
{
    switch (s) {
    case dnnl_success: return "success";
    case dnnl_out_of_memory: return "out of memory";
    case dnnl_invalid_arguments: return "invalid arguments";
    case dnnl_unimplemented: return "unimplemented";
    case dnnl_iterator_ends: return "iterator ends";
    case dnnl_runtime_error: return "runtime error";
    case dnnl_not_required: return "not required";
    default: return "unknown status";
    }
}

const char *cnn_dnnl_call_name(const char *call_text)
{
    static char name[96];
    size_t n = strcspn(call_text, "( ");
    if (n >= sizeof name)
        n = sizeof name - 1;
    memcpy(name, call_text, n);
    name[n] = '\0';
    return name;
}

/* The primitive cache: open hashing over a growable table, plus a list in
 * order of use so that the least recently used entry is dropped when the
 * cache is full. Keys are copied. A primitive is created for a number of
 * OpenMP threads (oneDNN sizes its work split then), so the count taken at
 * creation is part of the key: cnn_set_num_threads() at run time leads to
 * new primitives, and the old ones age out. The compute precision is part
 * of it too: the ops describe their primitives after it, so the same op
 * key means another primitive under another precision. */
struct cache_entry {
    void *key;
    size_t key_len;
    int threads;
    cnn_precision precision;
    uint64_t hash;
    cnn_primitive value;
    struct cache_entry *next;          /* in its bucket */
    struct cache_entry *newer, *older; /* in order of use */
};

static uint64_t hash_bytes(const void *key, size_t len, int threads,
                           cnn_precision precision)
{
    const unsigned char *p = key;
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    h = (h ^ (uint64_t)threads) * 1099511628211ull;
    return (h ^ (uint64_t)precision) * 1099511628211ull;
}

static void use_list_remove(cache_entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        ctx.cache.newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        ctx.cache.oldest = e->newer;
    e->newer = e->older = NULL;
}

static void use_list_push(cache_entry *e)
{
    e->older = ctx.cache.newest;
    e->newer = NULL;
    if (ctx.cache.newest)
        ctx.cache.newest->newer = e;
    ctx.cache.newest = e;
    if (!ctx.cache.oldest)
        ctx.cache.oldest = e;
}

cnn_primitive *cnn_primitive_find(const void *key, size_t key_len)
{
    if (!ctx.cache.bucket_count)
        return NULL;
    cnn_threads_adapt();
    int threads = cnn_get_num_threads();
    uint64_t h = hash_bytes(key, key_len, threads, ctx.precision);
    for (cache_entry *e = ctx.cache.buckets[h % ctx.cache.bucket_count]; e; e = e->next)
        if (e->hash == h && e->key_len == key_len && e->threads == threads &&
            e->precision == ctx.precision && !memcmp(e->key, key, key_len)) {
            if (e != ctx.cache.newest) {
                use_list_remove(e);
                use_list_push(e);
            }
            return &e->value;
        }
    return NULL;
}

static int grow_table(void)
{
    size_t n = ctx.cache.bucket_count ? ctx.cache.bucket_count * 2 : 64;
    cache_entry **fresh = calloc(n, sizeof *fresh);
    if (!fresh)
        return 0;
    for (size_t b = 0; b < ctx.cache.bucket_count; b++) {
        cache_entry *e = ctx.cache.buckets[b];
        while (e) {
            cache_entry *next = e->next;
            e->next = fresh[e->hash % n];
            fresh[e->hash % n] = e;
            e = next;
        }
    }
    free(ctx.cache.buckets);
    ctx.cache.buckets = fresh;
    ctx.cache.bucket_count = n;
    return 1;
}

static void bucket_remove(cache_entry *e)
{
    cache_entry **link = &ctx.cache.buckets[e->hash % ctx.cache.bucket_count];
    while (*link != e)
        link = &(*link)->next;
    *link = e->next;
}

static void entry_destroy(cache_entry *e)
{
    for (int i = 0; i < CNN_PRIMITIVE_MEMORIES; i++)
        if (e->value.memories[i])
            dnnl_memory_destroy(e->value.memories[i]);
    dnnl_primitive_destroy(e->value.primitive);
    dnnl_primitive_desc_destroy(e->value.pd);
    free(e->key);
    free(e);
}

/* Drops least recently used entries until 'keep' fit. The entries an op is
 * using are the most recent ones, and the capacity has a floor well above
 * the few primitives (an op and its reorders) one call touches. */
static void evict_down_to(size_t keep)
{
    while (ctx.cache.entry_count > keep && ctx.cache.oldest) {
        cache_entry *e = ctx.cache.oldest;
        use_list_remove(e);
        bucket_remove(e);
        entry_destroy(e);
        ctx.cache.entry_count--;
        ctx.stats.primitives_evicted++;
    }
}

void cnn_primitive_cache_set_capacity(size_t n)
{
    ctx.cache.capacity = n < CNN_PRIMITIVE_CACHE_MIN ? CNN_PRIMITIVE_CACHE_MIN : n;
    evict_down_to(ctx.cache.capacity);
}

size_t cnn_primitive_cache_capacity(void) { return ctx.cache.capacity; }

size_t cnn_primitive_cache_size(void) { return ctx.cache.entry_count; }

static const char *const profile_names[CNN_PROFILE_COUNT] = {
    [CNN_PROFILE_CONV_FORWARD] = "conv forward",
    [CNN_PROFILE_CONV_BACKWARD_DATA] = "conv backward data",
    [CNN_PROFILE_CONV_BACKWARD_WEIGHTS] = "conv backward weights",
    [CNN_PROFILE_DECONV_FORWARD] = "deconv forward",
    [CNN_PROFILE_DECONV_BACKWARD_DATA] = "deconv backward data",
    [CNN_PROFILE_DECONV_BACKWARD_WEIGHTS] = "deconv backward weights",
    [CNN_PROFILE_POOL_FORWARD] = "pooling forward",
    [CNN_PROFILE_POOL_BACKWARD] = "pooling backward",
    [CNN_PROFILE_ELTWISE_FORWARD] = "eltwise forward",
    [CNN_PROFILE_ELTWISE_BACKWARD] = "eltwise backward",
    [CNN_PROFILE_REORDER] = "reorder",
    [CNN_PROFILE_INNER_PRODUCT_FORWARD] = "inner product forward",
    [CNN_PROFILE_INNER_PRODUCT_BACKWARD_DATA] = "inner product backward data",
    [CNN_PROFILE_INNER_PRODUCT_BACKWARD_WEIGHTS] = "inner product backward weights",
    [CNN_PROFILE_SOFTMAX_FORWARD] = "softmax forward",
    [CNN_PROFILE_SOFTMAX_BACKWARD] = "softmax backward",
    [CNN_PROFILE_BATCHNORM_FORWARD] = "batchnorm forward",
    [CNN_PROFILE_BATCHNORM_BACKWARD] = "batchnorm backward",
    [CNN_PROFILE_LAYERNORM_FORWARD] = "layernorm forward",
    [CNN_PROFILE_LAYERNORM_BACKWARD] = "layernorm backward",
    [CNN_PROFILE_OTHER] = "other primitives",
};

const char *cnn_profile_kind_name(int kind)
{
    return kind >= 0 && kind < CNN_PROFILE_COUNT ? profile_names[kind] : NULL;
}

static bool is_forward(dnnl_prop_kind_t prop)
{
    return prop == dnnl_forward_training || prop == dnnl_forward_inference;
}

/* Forward, backward data (or plain backward) and backward weights rows
 * follow each other in cnn_profile_kind. */
static int kind_by_prop(int forward_kind, dnnl_prop_kind_t prop)
{
    if (is_forward(prop))
        return forward_kind;
    return prop == dnnl_backward_weights ? forward_kind + 2 : forward_kind + 1;
}

static int profile_kind_of(const_dnnl_primitive_desc_t pd)
{
    dnnl_primitive_kind_t kind = dnnl_undefined_primitive;
    dnnl_prop_kind_t prop = dnnl_prop_kind_undef;
    /* a pd that cannot say what it is is still timed, as "other" */
    if (dnnl_primitive_desc_query(pd, dnnl_query_primitive_kind, 0, &kind) !=
        dnnl_success)
        return CNN_PROFILE_OTHER;
    /* reorders have no prop kind: the query fails and prop stays undef */
    if (dnnl_primitive_desc_query(pd, dnnl_query_prop_kind, 0, &prop) != dnnl_success)
        prop = dnnl_prop_kind_undef;
    bool fwd = is_forward(prop);
    switch (kind) {
    case dnnl_reorder: return CNN_PROFILE_REORDER;
    case dnnl_convolution: return kind_by_prop(CNN_PROFILE_CONV_FORWARD, prop);
    case dnnl_deconvolution: return kind_by_prop(CNN_PROFILE_DECONV_FORWARD, prop);
    case dnnl_inner_product: return kind_by_prop(CNN_PROFILE_INNER_PRODUCT_FORWARD, prop);
    case dnnl_pooling:
    case dnnl_pooling_v2:
        return fwd ? CNN_PROFILE_POOL_FORWARD : CNN_PROFILE_POOL_BACKWARD;
    case dnnl_eltwise:
        return fwd ? CNN_PROFILE_ELTWISE_FORWARD : CNN_PROFILE_ELTWISE_BACKWARD;
    case dnnl_softmax:
    case dnnl_softmax_v2:
        return fwd ? CNN_PROFILE_SOFTMAX_FORWARD : CNN_PROFILE_SOFTMAX_BACKWARD;
    case dnnl_batch_normalization:
        return fwd ? CNN_PROFILE_BATCHNORM_FORWARD : CNN_PROFILE_BATCHNORM_BACKWARD;
    case dnnl_layer_normalization:
        return fwd ? CNN_PROFILE_LAYERNORM_FORWARD : CNN_PROFILE_LAYERNORM_BACKWARD;
    default: return CNN_PROFILE_OTHER;
    }
}

cnn_status cnn_primitive_add(const void *key, size_t key_len, dnnl_primitive_desc_t pd,
                             const char *op, cnn_primitive **out)
{
    dnnl_primitive_t prim;
    dnnl_status_t s = dnnl_primitive_create(&prim, pd);
    if (s != dnnl_success) {
        dnnl_primitive_desc_destroy(pd);
        return cnn_fail(CNN_ERR_DNNL, "%s: dnnl_primitive_create: %s", op,
                        cnn_dnnl_status_string(s));
    }
    evict_down_to(ctx.cache.capacity - 1);
    cache_entry *e = malloc(sizeof *e);
    void *k = malloc(key_len ? key_len : 1);
    if (!e || !k ||
        (ctx.cache.entry_count + 1 > ctx.cache.bucket_count && !grow_table())) {
        free(e);
        free(k);
        dnnl_primitive_destroy(prim);
        dnnl_primitive_desc_destroy(pd);
        return cnn_fail(CNN_ERR_NOMEM, "%s: out of memory caching a primitive", op);
    }
    memcpy(k, key, key_len);
    e->key = k;
    e->key_len = key_len;
    e->threads = cnn_get_num_threads();
    e->precision = ctx.precision;
    e->hash = hash_bytes(key, key_len, e->threads, e->precision);
    e->value.primitive = prim;
    e->value.pd = pd;
    e->value.kind = profile_kind_of(pd);
    memset(e->value.memories, 0, sizeof e->value.memories);
    e->next = ctx.cache.buckets[e->hash % ctx.cache.bucket_count];
    ctx.cache.buckets[e->hash % ctx.cache.bucket_count] = e;
    use_list_push(e);
    ctx.cache.entry_count++;
    ctx.stats.primitives_created++;
    *out = &e->value;
    return CNN_OK;
}

cnn_status cnn_primitive_create_owned(dnnl_primitive_desc_t pd, const char *op,
                                      cnn_primitive *out)
{
    memset(out, 0, sizeof *out);
    dnnl_status_t s = dnnl_primitive_create(&out->primitive, pd);
    if (s != dnnl_success) {
        dnnl_primitive_desc_destroy(pd);
        out->primitive = NULL;
        return cnn_fail(CNN_ERR_DNNL, "%s: dnnl_primitive_create: %s", op,
                        cnn_dnnl_status_string(s));
    }
    out->pd = pd;
    out->kind = profile_kind_of(pd);
    ctx.stats.primitives_created++;
    return CNN_OK;
}

void cnn_primitive_release(cnn_primitive *p)
{
    for (int i = 0; i < CNN_PRIMITIVE_MEMORIES; i++)
        if (p->memories[i])
            dnnl_memory_destroy(p->memories[i]);
    if (p->primitive)
        dnnl_primitive_destroy(p->primitive);
    if (p->pd)
        dnnl_primitive_desc_destroy(p->pd);
    memset(p, 0, sizeof *p);
}

cnn_status cnn_primitive_run(const cnn_primitive *p, int nargs,
                             const dnnl_exec_arg_t *args, const char *op)
{
    if (!cnn_stream())
        return cnn_fail(CNN_ERR_DNNL, "%s: no oneDNN CPU stream", op);
    double start = ctx.stats.profiling ? cnn_seconds() : 0;
    CNN_DNNL_TRY(op, dnnl_primitive_execute(p->primitive, ctx.stream, nargs, args));
    CNN_DNNL_TRY(op, dnnl_stream_wait(ctx.stream));
    ctx.stats.primitive_executions++;
    if (ctx.stats.profiling) {
        ctx.stats.seconds[p->kind] += cnn_seconds() - start;
        ctx.stats.executions[p->kind]++;
    }
    return CNN_OK;
}

double cnn_kernel_start(void) { return ctx.stats.profiling ? cnn_seconds() : 0; }

void cnn_kernel_done(int kind, double start)
{
    ctx.stats.primitive_executions++;
    if (ctx.stats.profiling) {
        ctx.stats.seconds[kind] += cnn_seconds() - start;
        ctx.stats.executions[kind]++;
    }
}

double cnn_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

cnn_status cnn_memory_wrap(const dnnl_memory_desc_t *md, void *data, dnnl_memory_t *out,
                           const char *op)
{
    if (!cnn_engine())
        return cnn_fail(CNN_ERR_DNNL, "%s: no oneDNN CPU engine", op);
    CNN_DNNL_TRY(op,
                 dnnl_memory_create(out, md, ctx.engine, data ? data : DNNL_MEMORY_NONE));
    return CNN_OK;
}

void *cnn_scratch(int slot, size_t bytes)
{
    scratch_buffer *s = &ctx.scratch[slot];
    if (s->bytes < bytes) {
        size_t rounded = (bytes + CNN_ALIGNMENT - 1) / CNN_ALIGNMENT * CNN_ALIGNMENT;
        void *fresh = aligned_alloc(CNN_ALIGNMENT, rounded);
        if (!fresh)
            return NULL;
        free(s->data);
        s->data = fresh;
        s->bytes = rounded;
    }
    return s->data;
}

cnn_stats *cnn_global_stats(void) { return &ctx.stats; }

cnn_precision cnn_get_precision(void) { return ctx.precision; }

void cnn_set_precision(cnn_precision p)
{
    if (cnn_precision_name(p))
        ctx.precision = p;
}

const char *cnn_precision_name(cnn_precision p)
{
    switch (p) {
    case CNN_PRECISION_FP32: return "fp32";
    case CNN_PRECISION_BF16: return "bf16";
    default: return NULL;
    }
}

dnnl_data_type_t cnn_precision_input_type(cnn_precision p)
{
    return p == CNN_PRECISION_BF16 ? dnnl_bf16 : dnnl_f32;
}

int cnn_get_num_threads(void) { return omp_get_max_threads(); }

void cnn_set_num_threads(int n) { cnn_threads_set_most(n); }

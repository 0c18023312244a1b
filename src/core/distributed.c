/* Processes that work together, on MPI (distributed.h). The only file of
 * cnnlua that includes mpi.h: built without MPI, the job is always one
 * process and the collective calls leave their data as it is. */
#include "distributed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"

#ifdef CNN_HAVE_MPI
#include <mpi.h>
#endif

/* MPI counts are ints: longer buffers go in chunks of this many. */
#define CHUNK_ELEMENTS (INT64_C(1) << 28)

static bool joined = false;
static bool finished = false;
static int job_rank = 0;
static int job_size = 1;
static cnn_distributed_stats stats;

/* The bucket: a buffer kept between calls, grown as needed. */
static float *bucket = NULL;
static int64_t bucket_capacity = 0;

bool cnn_distributed_compiled(void)
{
#ifdef CNN_HAVE_MPI
    return true;
#else
    return false;
#endif
}

const char *cnn_distributed_launcher(void)
{
    static const char *const names[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK",
                                        "OMPI_COMM_WORLD_RANK"};
    static char text[96];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v != NULL && *v != '\0') {
            snprintf(text, sizeof text, "%s=%s", names[i], v);
            return text;
        }
    }
    return NULL;
}

#ifdef CNN_HAVE_MPI
static cnn_status mpi_fail(int err, const char *what)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(err, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "MPI error %d", err);
    return cnn_fail(CNN_ERR_ARG, "%s failed: %s", what, text);
}
#endif

cnn_status cnn_distributed_start(int *argc, char ***argv)
{
    if (joined || cnn_distributed_launcher() == NULL)
        return CNN_OK;
#ifdef CNN_HAVE_MPI
    int provided = 0, err;
    err = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    if (err != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Init_thread");
    /* errors come back as codes, to become messages, not as an abort */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &job_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &job_size);
    joined = true;
#else
    (void)argc;
    (void)argv;
#endif
    return CNN_OK;
}

void cnn_distributed_finish(void)
{
    if (!joined || finished)
        return;
    finished = true;
#ifdef CNN_HAVE_MPI
    MPI_Finalize();
#endif
    free(bucket);
    bucket = NULL;
    bucket_capacity = 0;
}

void cnn_distributed_abort(int code)
{
    if (!joined || finished || job_size < 2)
        return;
#ifdef CNN_HAVE_MPI
    MPI_Abort(MPI_COMM_WORLD, code);
#else
    (void)code;
#endif
}

bool cnn_distributed_joined(void) { return joined && !finished; }
int cnn_distributed_rank(void) { return job_rank; }
int cnn_distributed_size(void) { return job_size; }

bool cnn_reduce_op_parse(const char *name, cnn_reduce_op *op)
{
    static const char *const names[] = {"sum", "mean", "max", "min"};
    for (int k = 0; k < 4; k++) {
        if (strcmp(name, names[k]) == 0) {
            *op = (cnn_reduce_op)k;
            return true;
        }
    }
    return false;
}

cnn_distributed_stats cnn_distributed_get_stats(void) { return stats; }

/* Whether the calls below talk to other processes at all. */
static bool collective(void) { return joined && !finished && job_size > 1; }

cnn_status cnn_distributed_barrier(void)
{
    if (!collective())
        return CNN_OK;
#ifdef CNN_HAVE_MPI
    int err = MPI_Barrier(MPI_COMM_WORLD);
    if (err != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Barrier");
#endif
    return CNN_OK;
}

#ifdef CNN_HAVE_MPI
static MPI_Op mpi_op(cnn_reduce_op op)
{
    switch (op) {
    case CNN_REDUCE_OP_MAX: return MPI_MAX;
    case CNN_REDUCE_OP_MIN: return MPI_MIN;
    default: return MPI_SUM;
    }
}

/* In-place allreduce of n elements of 'type' ('size' bytes each), in
 * chunks, timed. */
static cnn_status allreduce_raw(void *data, int64_t n, MPI_Datatype type, size_t size,
                                cnn_reduce_op op)
{
    double start = cnn_seconds();
    char *p = data;
    for (int64_t done = 0; done < n; done += CHUNK_ELEMENTS) {
        int64_t count = n - done < CHUNK_ELEMENTS ? n - done : CHUNK_ELEMENTS;
        int err = MPI_Allreduce(MPI_IN_PLACE, p + done * (int64_t)size, (int)count, type,
                                mpi_op(op), MPI_COMM_WORLD);
        if (err != MPI_SUCCESS)
            return mpi_fail(err, "MPI_Allreduce");
    }
    stats.seconds += cnn_seconds() - start;
    stats.calls++;
    stats.bytes += n * (int64_t)size;
    return CNN_OK;
}

static cnn_status broadcast_raw(void *data, int64_t bytes, int root)
{
    double start = cnn_seconds();
    char *p = data;
    for (int64_t done = 0; done < bytes; done += CHUNK_ELEMENTS) {
        int64_t count = bytes - done < CHUNK_ELEMENTS ? bytes - done : CHUNK_ELEMENTS;
        int err = MPI_Bcast(p + done, (int)count, MPI_BYTE, root, MPI_COMM_WORLD);
        if (err != MPI_SUCCESS)
            return mpi_fail(err, "MPI_Bcast");
    }
    stats.seconds += cnn_seconds() - start;
    stats.calls++;
    stats.bytes += bytes;
    return CNN_OK;
}
#endif

static cnn_status grow_bucket(int64_t n)
{
    if (n <= bucket_capacity)
        return CNN_OK;
    float *grown = realloc(bucket, (size_t)n * sizeof(float));
    if (grown == NULL)
        return cnn_fail(CNN_ERR_NOMEM, "cannot allocate a %lld-element reduction buffer",
                        (long long)n);
    bucket = grown;
    bucket_capacity = n;
    return CNN_OK;
}

/* A contiguous tensor of t's sizes and type over 'data'. */
static cnn_tensor view_over(const cnn_tensor *t, cnn_storage *s, void *data)
{
    cnn_tensor v;
    s->data = data;
    s->bytes = cnn_tensor_bytes(t);
    cnn_tensor_init(&v, t->dtype, t->ndims, t->size);
    v.storage = s;
    return v;
}

static cnn_status check_plain(const cnn_tensor *t)
{
    if (t->blocked)
        return cnn_fail(CNN_ERR_ARG, "the tensor is in a blocked layout");
    if (cnn_tensor_data(t) == NULL)
        return cnn_fail(CNN_ERR_ARG, "the tensor was freed");
    return CNN_OK;
}

cnn_status cnn_distributed_allreduce(cnn_tensor *t, cnn_reduce_op op)
{
    cnn_status st = check_plain(t);
    if (st != CNN_OK)
        return st;
    if (t->dtype == CNN_INT32 && op == CNN_REDUCE_OP_MEAN)
        return cnn_fail(CNN_ERR_ARG,
                        "the mean of an Int32 tensor is not an Int32; use \"sum\", or "
                        "a Float32 tensor");
    if (!collective())
        return CNN_OK;
#ifdef CNN_HAVE_MPI
    int64_t n = cnn_tensor_numel(t);
    bool direct = cnn_tensor_is_contiguous(t);
    void *data = cnn_tensor_data(t);
    cnn_storage s;
    cnn_tensor packed;
    if (!direct) {
        st = grow_bucket(n);
        if (st != CNN_OK)
            return st;
        packed = view_over(t, &s, bucket);
        if ((st = cnn_tensor_copy(&packed, t)) != CNN_OK)
            return st;
        data = bucket;
    }
    if (t->dtype == CNN_FLOAT32)
        st = allreduce_raw(data, n, MPI_FLOAT, sizeof(float), op);
    else
        st = allreduce_raw(data, n, MPI_INT32_T, sizeof(int32_t), op);
    if (st != CNN_OK)
        return st;
    if (op == CNN_REDUCE_OP_MEAN) {
        float *f = data;
        for (int64_t i = 0; i < n; i++)
            f[i] /= (float)job_size;
    }
    if (!direct)
        st = cnn_tensor_copy(t, &packed);
    return st;
#else
    return CNN_OK;
#endif
}

cnn_status cnn_distributed_allreduce_doubles(double *v, int64_t n, cnn_reduce_op op)
{
    if (!collective())
        return CNN_OK;
#ifdef CNN_HAVE_MPI
    cnn_status st = allreduce_raw(v, n, MPI_DOUBLE, sizeof(double), op);
    if (st != CNN_OK)
        return st;
    if (op == CNN_REDUCE_OP_MEAN)
        for (int64_t i = 0; i < n; i++)
            v[i] /= job_size;
#else
    (void)v;
    (void)n;
    (void)op;
#endif
    return CNN_OK;
}

static cnn_status check_root(int root)
{
    if (root < 0 || root >= job_size)
        return cnn_fail(CNN_ERR_ARG, "root is rank %d; ranks are 0 to %d", root,
                        job_size - 1);
    return CNN_OK;
}

cnn_status cnn_distributed_broadcast(cnn_tensor *t, int root)
{
    cnn_status st = check_plain(t);
    if (st != CNN_OK || (st = check_root(root)) != CNN_OK)
        return st;
    if (!collective())
        return CNN_OK;
#ifdef CNN_HAVE_MPI
    int64_t n = cnn_tensor_numel(t);
    if (cnn_tensor_is_contiguous(t))
        return broadcast_raw(cnn_tensor_data(t), (int64_t)cnn_tensor_bytes(t), root);
    /* Int32 and Float32 elements are both 4 bytes */
    if ((st = grow_bucket(n)) != CNN_OK)
        return st;
    cnn_storage s;
    cnn_tensor packed = view_over(t, &s, bucket);
    if ((st = cnn_tensor_copy(&packed, t)) != CNN_OK)
        return st;
    if ((st = broadcast_raw(bucket, (int64_t)cnn_tensor_bytes(t), root)) != CNN_OK)
        return st;
    return cnn_tensor_copy(t, &packed);
#else
    return CNN_OK;
#endif
}

cnn_status cnn_distributed_broadcast_u64(uint64_t *v, int n, int root)
{
    cnn_status st = check_root(root);
    if (st != CNN_OK || !collective())
        return st;
#ifdef CNN_HAVE_MPI
    return broadcast_raw(v, (int64_t)n * (int64_t)sizeof(uint64_t), root);
#else
    (void)v;
    (void)n;
    return CNN_OK;
#endif
}

cnn_status cnn_distributed_allreduce_bucket(cnn_tensor *const *t, int n, float scale,
                                            float *extras, int nextras)
{
    int64_t total = nextras;
    cnn_status st;
    for (int i = 0; i < n; i++) {
        if ((st = check_plain(t[i])) != CNN_OK)
            return st;
        if (t[i]->dtype != CNN_FLOAT32)
            return cnn_fail(CNN_ERR_ARG, "tensor %d is %s, not Float32", i + 1,
                            cnn_dtype_name(t[i]->dtype));
        total += cnn_tensor_numel(t[i]);
    }
    if ((st = grow_bucket(total)) != CNN_OK)
        return st;
    int64_t at = 0;
    cnn_storage s;
    for (int i = 0; i < n; i++) {
        cnn_tensor v = view_over(t[i], &s, bucket + at);
        if ((st = cnn_tensor_copy(&v, t[i])) != CNN_OK)
            return st;
        at += cnn_tensor_numel(t[i]);
    }
    if (scale != 1.0f)
        for (int64_t k = 0; k < at; k++)
            bucket[k] *= scale;
    memcpy(bucket + at, extras, (size_t)nextras * sizeof(float));
#ifdef CNN_HAVE_MPI
    if (collective() && (st = allreduce_raw(bucket, total, MPI_FLOAT, sizeof(float),
                                            CNN_REDUCE_OP_SUM)) != CNN_OK)
        return st;
#endif
    at = 0;
    for (int i = 0; i < n; i++) {
        cnn_tensor v = view_over(t[i], &s, bucket + at);
        if ((st = cnn_tensor_copy(t[i], &v)) != CNN_OK)
            return st;
        at += cnn_tensor_numel(t[i]);
    }
    memcpy(extras, bucket + at, (size_t)nextras * sizeof(float));
    return CNN_OK;
}

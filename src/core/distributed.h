/* Processes that work together: the one home of MPI in cnnlua.
 *
 * Started by Open MPI's launcher (mpirun), every process of a job runs
 * the same program; each has a rank, 0 to size - 1, MPI's numbering.
 * Started any other way, a process is rank 0 of a job of size 1 and
 * MPI is never initialised: every call below is then a no-op (a
 * reduction leaves its data as it is, a broadcast too).
 *
 * The host (src/host) calls cnn_distributed_start before anything else
 * and cnn_distributed_finish (or cnn_distributed_abort after an error)
 * at the end; the rest of the core and the bindings only use the job.
 * Built without MPI (CMake's CNNLUA_MPI off, or no MPI found), the
 * functions are the same and the job is always of size 1.
 *
 * Reductions and broadcasts are collective: every process of the job
 * must make the same calls in the same order with the same counts. */
#ifndef CNN_DISTRIBUTED_H
#define CNN_DISTRIBUTED_H

#include <stdbool.h>
#include <stdint.h>

#include "status.h"
#include "tensor.h"

typedef enum cnn_reduce_op {
    CNN_REDUCE_OP_SUM = 0,
    CNN_REDUCE_OP_MEAN, /* the sum divided by the size of the job */
    CNN_REDUCE_OP_MAX,
    CNN_REDUCE_OP_MIN,
} cnn_reduce_op;

/* Whether this build can join a job (it was compiled with MPI). */
bool cnn_distributed_compiled(void);

/* The launcher's name for the job size when the process was started by
 * an MPI launcher ("OMPI_COMM_WORLD_SIZE=2"), else NULL. Read from the
 * environment only: Open MPI's and PMIx's variables. */
const char *cnn_distributed_launcher(void);

/* Joins the job when a launcher started the process and this build has
 * MPI (MPI_Init_thread, funnelled: OpenMP's threads never call MPI);
 * otherwise does nothing. CNN_ERR_ARG with a message when MPI fails. */
cnn_status cnn_distributed_start(int *argc, char ***argv);

/* Leaves the job (MPI_Finalize) if it was joined; idempotent. */
void cnn_distributed_finish(void);

/* Ends every process of the job with 'code' (MPI_Abort) when the job has
 * more than one process; returns otherwise. */
void cnn_distributed_abort(int code);

/* Whether the job was joined: a launcher started the process and MPI
 * was initialised. */
bool cnn_distributed_joined(void);
int cnn_distributed_rank(void); /* 0-based */
int cnn_distributed_size(void); /* 1 unless joined */

/* Parses "sum", "mean", "max", "min"; false for any other name. */
bool cnn_reduce_op_parse(const char *name, cnn_reduce_op *op);

/* Waits until every process of the job has called it. */
cnn_status cnn_distributed_barrier(void);

/* Reduces t elementwise across the job, in place, so that every process
 * holds the same result. Float32 with any op; Int32 with sum, max and
 * min (a mean of integers is refused). Any strides: a view is gathered
 * into a buffer and scattered back. */
cnn_status cnn_distributed_allreduce(cnn_tensor *t, cnn_reduce_op op);

/* The same for doubles. */
cnn_status cnn_distributed_allreduce_doubles(double *v, int64_t n, cnn_reduce_op op);

/* Copies root's t into t on every process (any strides, same sizes and
 * type on every process). */
cnn_status cnn_distributed_broadcast(cnn_tensor *t, int root);

/* The same for 64-bit integers (the random generator's state). */
cnn_status cnn_distributed_broadcast_u64(uint64_t *v, int n, int root);

/* One summed reduction of many Float32 tensors and a few extra numbers:
 * packs scale·t[i] for each i, then the extras, into one contiguous
 * buffer, sums it across the job in one call and unpacks the sums into
 * the tensors and the extras. Data-parallel training's gradient
 * averaging (one bucket per step). */
cnn_status cnn_distributed_allreduce_bucket(cnn_tensor *const *t, int n, float scale,
                                            float *extras, int nextras);

/* Time spent in reductions and broadcasts (seconds, wall clock), how many
 * were made, and how many bytes each process contributed. */
typedef struct cnn_distributed_stats {
    double seconds;
    int64_t calls;
    int64_t bytes;
} cnn_distributed_stats;
cnn_distributed_stats cnn_distributed_get_stats(void);

#endif

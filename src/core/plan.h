/* What every op's plan tells its caller about a result: its sizes and the
 * layout to allocate it in.
 *
 * An op is planned, then run. The plan checks the operands and computes
 * the results' sizes and layouts once (the op's shape rules live there and
 * nowhere else) and finds or creates the primitive; the caller allocates
 * the results as the plan says and runs the plan on them, with no second
 * check or cache look-up. */
#ifndef CNN_PLAN_H
#define CNN_PLAN_H

#include <oneapi/dnnl/dnnl.h>
#include <stdbool.h>

#include "context.h"
#include "tensor.h"

typedef struct cnn_plan_output {
    int ndims;
    int64_t size[CNN_MAX_DIMS];
    bool blocked;              /* allocate in 'layout', not plain */
    dnnl_memory_desc_t layout; /* when blocked */
} cnn_plan_output;

/* A result of 'ndims' sizes, in the layout primitive 'prim' gives its
 * argument 'arg'; plain when prim is NULL (an empty op, no primitive) or
 * arg is 0. */
void cnn_plan_output_of(cnn_plan_output *out, int ndims, const int64_t *size,
                        const cnn_primitive *prim, int arg);

/* A result of the sizes of t, in t's layout when t is blocked. */
void cnn_plan_output_like(cnn_plan_output *out, const cnn_tensor *t);

#endif

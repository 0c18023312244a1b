#include "plan.h"

#include <string.h>

#include "exec.h"

void cnn_plan_output_like(cnn_plan_output *out, const cnn_tensor *t)
{
    memset(out, 0, sizeof *out);
    out->ndims = t->ndims;
    memcpy(out->size, t->size, sizeof out->size);
    out->blocked = t->blocked;
    if (t->blocked)
        out->layout = t->layout;
}

void cnn_plan_output_of(cnn_plan_output *out, int ndims, const int64_t *size,
                        const cnn_primitive *prim, int arg)
{
    memset(out, 0, sizeof *out);
    out->ndims = ndims;
    memcpy(out->size, size, (size_t)ndims * sizeof *size);
    if (prim && arg) {
        out->blocked = true;
        out->layout = *cnn_exec_arg_md(prim, arg);
    }
}

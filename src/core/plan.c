#include "plan.h"

#include <string.h>

void cnn_plan_output_like(cnn_plan_output *out, const cnn_tensor *t)
{
    memset(out, 0, sizeof *out);
    out->ndims = t->ndims;
    memcpy(out->size, t->size, sizeof out->size);
    out->blocked = t->blocked;
    if (t->blocked)
        out->layout = t->layout;
}

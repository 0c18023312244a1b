#include "operand.h"
#include <string.h>

cnn_status cnn_check_operand(const cnn_tensor *t, const char *what, int ndims,
                             const char *layout)
{
    char buf[128];
    if (t->dtype != CNN_FLOAT32)
        return cnn_fail(CNN_ERR_ARG, "%s must be Float32, got %s", what,
                        cnn_dtype_name(t->dtype));
    if (ndims && t->ndims != ndims)
        return cnn_fail(CNN_ERR_SHAPE, "%s must be %d-D (%s), got %s", what, ndims,
                        layout, cnn_shape_string(t, buf, sizeof buf));
    if (!cnn_tensor_is_contiguous(t))
        return cnn_fail(CNN_ERR_ARG, "%s must be contiguous", what);
    if (!cnn_tensor_data(t))
        return cnn_fail(CNN_ERR_ARG, "%s was freed", what);
    return CNN_OK;
}

void cnn_zero_outputs(cnn_tensor *a, cnn_tensor *b, cnn_tensor *c)
{
    cnn_tensor *ts[3] = {a, b, c};
    for (int i = 0; i < 3; i++)
        if (ts[i] && cnn_tensor_data(ts[i]))
            cnn_tensor_fill(ts[i], 0.0);
}

cnn_status cnn_check_gradient4(const cnn_tensor *gy, const int64_t y[4], const char *from)
{
    char gs[128], ys[128];
    if (gy->ndims == 4 && !memcmp(gy->size, y, 4 * sizeof *y))
        return CNN_OK;
    return cnn_fail(CNN_ERR_SHAPE, "gradient is %s, output %s is %s",
                    cnn_shape_string(gy, gs, sizeof gs), from,
                    cnn_sizes_string(y, 4, ys, sizeof ys));
}

bool cnn_any_empty4(const int64_t *a, const int64_t *b, const int64_t *c)
{
    for (int d = 0; d < 4; d++)
        if (!a[d] || !b[d] || !c[d])
            return true;
    return false;
}

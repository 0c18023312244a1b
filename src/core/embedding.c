#include "embedding.h"

#include <string.h>

#include "operand.h"

cnn_status cnn_embedding_check(const cnn_tensor *w, const cnn_tensor *indices)
{
    cnn_status s = cnn_check_operand(w, "weight", 2, "out×in");
    if (s != CNN_OK)
        return s;
    char is[128];
    if (indices->dtype != CNN_INT32)
        return cnn_fail(
            CNN_ERR_ARG, "indices must be an Int32 tensor, got a %s tensor (%s)",
            cnn_dtype_name(indices->dtype), cnn_shape_string(indices, is, sizeof is));
    if (!cnn_tensor_is_contiguous(indices))
        return cnn_fail(CNN_ERR_ARG, "indices must be contiguous");
    if (indices->ndims >= CNN_MAX_DIMS)
        return cnn_fail(CNN_ERR_SHAPE, "indices have %d dimensions (%s), at most %d",
                        indices->ndims, cnn_shape_string(indices, is, sizeof is),
                        CNN_MAX_DIMS - 1);
    const int32_t *idx = cnn_tensor_i32(indices);
    int64_t n = cnn_tensor_numel(indices), in = w->size[1];
    for (int64_t k = 0; k < n; k++)
        if (idx[k] < 1 || idx[k] > in)
            return cnn_fail(CNN_ERR_ARG,
                            "index %ld (element %lld of the indices) is out of 1..%lld",
                            (long)idx[k], (long long)(k + 1), (long long)in);
    return CNN_OK;
}

void cnn_embedding_output_size(const cnn_tensor *w, const cnn_tensor *indices,
                               cnn_plan_output *y)
{
    memset(y, 0, sizeof *y);
    y->ndims = indices->ndims + 1;
    y->size[0] = w->size[0];
    memcpy(y->size + 1, indices->size, (size_t)indices->ndims * sizeof *y->size);
}

static cnn_status check_sizes(const cnn_tensor *t, const cnn_plan_output *want,
                              const char *what)
{
    cnn_status s = cnn_check_operand(t, what, 0, NULL);
    if (s != CNN_OK)
        return s;
    if (t->ndims != want->ndims ||
        memcmp(t->size, want->size, (size_t)t->ndims * sizeof *t->size)) {
        char ts[128], ws[128];
        return cnn_fail(CNN_ERR_SHAPE, "%s is %s, expected %s", what,
                        cnn_shape_string(t, ts, sizeof ts),
                        cnn_sizes_string(want->size, want->ndims, ws, sizeof ws));
    }
    return CNN_OK;
}

cnn_status cnn_embedding_forward(const cnn_tensor *w, const cnn_tensor *indices,
                                 cnn_tensor *y)
{
    cnn_plan_output want;
    cnn_status s = cnn_embedding_check(w, indices);
    if (s != CNN_OK)
        return s;
    cnn_embedding_output_size(w, indices, &want);
    if ((s = check_sizes(y, &want, "output")) != CNN_OK)
        return s;
    const int32_t *idx = cnn_tensor_i32(indices);
    const float *wd = cnn_tensor_f32(w);
    float *yd = cnn_tensor_f32(y);
    int64_t n = cnn_tensor_numel(indices), out = w->size[0];
    for (int64_t k = 0; k < n; k++)
        memcpy(yd + k * out, wd + (int64_t)(idx[k] - 1) * out, (size_t)out * sizeof *yd);
    return CNN_OK;
}

cnn_status cnn_embedding_backward(const cnn_tensor *gy, const cnn_tensor *indices,
                                  cnn_tensor *gw)
{
    cnn_plan_output want;
    cnn_status s = cnn_embedding_check(gw, indices);
    if (s != CNN_OK)
        return s;
    cnn_embedding_output_size(gw, indices, &want);
    if ((s = check_sizes(gy, &want, "gradient")) != CNN_OK)
        return s;
    const int32_t *idx = cnn_tensor_i32(indices);
    const float *g = cnn_tensor_f32(gy);
    float *gd = cnn_tensor_f32(gw);
    int64_t n = cnn_tensor_numel(indices), out = gw->size[0];
    if (cnn_tensor_numel(gw))
        memset(gd, 0, (size_t)cnn_tensor_numel(gw) * sizeof *gd);
    for (int64_t k = 0; k < n; k++) {
        float *col = gd + (int64_t)(idx[k] - 1) * out;
        const float *gk = g + k * out;
        for (int64_t i = 0; i < out; i++)
            col[i] += gk[i];
    }
    return CNN_OK;
}

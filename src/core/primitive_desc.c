#include "primitive_desc.h"

#include "context.h"

/* The post-ops of a fused activation. oneDNN's relu post-op is max(x, 0),
 * which turns NaN into 0; elu with alpha 0 (x for x > 0, 0 * (exp(x) - 1)
 * otherwise) keeps NaN, and abs then makes its -0 a +0. tanh and the
 * logistic run the same generated code as the eltwise primitive that
 * cnn.tanh and cnn.sigmoid run, so fused or not the results agree. */
static dnnl_status_t fused_post_ops(dnnl_post_ops_t ops, int fuse)
{
    if (fuse == CNN_FUSE_RELU)
        return dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
    if (fuse == CNN_FUSE_TANH)
        return dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_tanh, 0.0f, 0.0f);
    if (fuse == CNN_FUSE_SIGMOID)
        return dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_logistic, 0.0f, 0.0f);
    dnnl_status_t st =
        dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_elu, 0.0f, 0.0f);
    return st != dnnl_success
               ? st
               : dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_abs, 0.0f, 0.0f);
}

static dnnl_status_t fused_attr(dnnl_primitive_attr_t *attr, int fuse)
{
    dnnl_post_ops_t ops = NULL;
    dnnl_status_t st = dnnl_primitive_attr_create(attr);
    if (st == dnnl_success)
        st = dnnl_post_ops_create(&ops);
    if (st == dnnl_success)
        st = fused_post_ops(ops, fuse);
    if (st == dnnl_success)
        st = dnnl_primitive_attr_set_post_ops(*attr, ops);
    if (ops)
        dnnl_post_ops_destroy(ops);
    return st;
}

cnn_status cnn_pd_create(const void *op_desc, int fuse, const_dnnl_primitive_desc_t hint,
                         const char *op, dnnl_primitive_desc_t *pd)
{
    if (!cnn_engine())
        return cnn_fail(CNN_ERR_DNNL, "%s: no oneDNN CPU engine", op);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_status_t st = fuse != CNN_FUSE_NONE ? fused_attr(&attr, fuse) : dnnl_success;
    if (st == dnnl_success)
        st = dnnl_primitive_desc_create(pd, op_desc, attr, cnn_engine(), hint);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success)
        return cnn_fail(CNN_ERR_DNNL, "%s: dnnl_primitive_desc_create: %s", op,
                        cnn_dnnl_status_string(st));
    return CNN_OK;
}

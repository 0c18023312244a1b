#include "softmax.h"

#include <string.h>

#include "context.h"
#include "exec.h"
#include "operand.h"
#include "primitive_desc.h"

cnn_status cnn_softmax_check(const cnn_tensor *x)
{
    cnn_status s = cnn_check_operand(x, "input", 0, NULL);
    if (s == CNN_OK && x->ndims == 0)
        return cnn_fail(CNN_ERR_SHAPE, "input must have at least one dimension");
    return s;
}

static cnn_status check_same(const cnn_tensor *a, const char *an, const cnn_tensor *b,
                             const char *bn)
{
    char as[128], bs[128];
    if (cnn_tensor_same_size(a, b))
        return CNN_OK;
    return cnn_fail(CNN_ERR_SHAPE, "%s is %s, %s is %s", an,
                    cnn_shape_string(a, as, sizeof as), bn,
                    cnn_shape_string(b, bs, sizeof bs));
}

typedef struct softmax_key {
    int64_t op; /* 'F' or 'B' */
    int64_t groups, classes, log;
} softmax_key;

/* Any tensor is a groups×classes matrix (row-major) with the classes
 * contiguous: softmax runs along axis 1 of that. */
static void matrix_md(const cnn_tensor *t, dnnl_memory_desc_t *md)
{
    int64_t dims[2] = {cnn_tensor_numel(t) / t->size[0], t->size[0]};
    cnn_md_plain(md, 2, dims);
}

static cnn_status forward_pd(const dnnl_memory_desc_t *md, bool log,
                             dnnl_primitive_desc_t *pd)
{
    dnnl_softmax_v2_desc_t d;
    CNN_DNNL_TRY("softmax", dnnl_softmax_v2_forward_desc_init(&d, dnnl_forward_training,
                                                              log ? dnnl_softmax_log
                                                                  : dnnl_softmax_accurate,
                                                              md, md, 1));
    return cnn_pd_create(&d, 0, NULL, "softmax", pd);
}

static cnn_status get_primitive(int op, const dnnl_memory_desc_t *md, bool log,
                                const char *name, cnn_primitive **prim)
{
    softmax_key key;
    memset(&key, 0, sizeof key);
    key.op = op;
    key.groups = md->dims[0];
    key.classes = md->dims[1];
    key.log = log;
    if ((*prim = cnn_primitive_find(&key, sizeof key)))
        return CNN_OK;
    dnnl_primitive_desc_t pd, hint;
    cnn_status s = forward_pd(md, log, op == 'F' ? &pd : &hint);
    if (s != CNN_OK)
        return s;
    if (op == 'B') {
        dnnl_softmax_v2_desc_t d;
        dnnl_status_t st = dnnl_softmax_v2_backward_desc_init(
            &d, log ? dnnl_softmax_log : dnnl_softmax_accurate, md, md, md, 1);
        s = st == dnnl_success ? cnn_pd_create(&d, 0, hint, name, &pd)
                               : cnn_fail(CNN_ERR_DNNL, "%s: describing the softmax: %s",
                                          name, cnn_dnnl_status_string(st));
        dnnl_primitive_desc_destroy(hint);
        if (s != CNN_OK)
            return s;
    }
    return cnn_primitive_add(&key, sizeof key, pd, name, prim);
}

static const char *op_name(bool log, bool backward)
{
    if (backward)
        return log ? "logsoftmax_backward" : "softmax_backward";
    return log ? "logsoftmax" : "softmax";
}

/* The result has the sizes of t; no primitive runs for no elements. */
static cnn_status plan_op(cnn_softmax_plan *plan, int op, const cnn_tensor *t, bool log)
{
    memset(plan, 0, sizeof *plan);
    plan->log = log;
    cnn_plan_output_like(&plan->out, t);
    if (!cnn_tensor_numel(t))
        return CNN_OK;
    matrix_md(t, &plan->md);
    return get_primitive(op, &plan->md, log, op_name(log, op == 'B'), &plan->primitive);
}

cnn_status cnn_softmax_plan_forward(cnn_softmax_plan *plan, const cnn_tensor *x, bool log)
{
    cnn_status s = cnn_softmax_check(x);
    return s != CNN_OK ? s : plan_op(plan, 'F', x, log);
}

cnn_status cnn_softmax_run_forward(const cnn_softmax_plan *plan, const cnn_tensor *x,
                                   cnn_tensor *y)
{
    if (!plan->primitive)
        return CNN_OK;
    cnn_exec e;
    cnn_exec_begin(&e, plan->primitive, op_name(plan->log, false));
    cnn_exec_input(&e, DNNL_ARG_SRC, x, &plan->md);
    cnn_exec_output(&e, DNNL_ARG_DST, y, &plan->md);
    return cnn_exec_finish(&e);
}

cnn_status cnn_softmax_plan_backward(cnn_softmax_plan *plan, const cnn_tensor *gy,
                                     const cnn_tensor *y, bool log)
{
    cnn_status s;
    if ((s = cnn_softmax_check(y)) != CNN_OK ||
        (s = cnn_check_operand(gy, "gradient", 0, NULL)) != CNN_OK ||
        (s = check_same(gy, "gradient", y, "output")) != CNN_OK)
        return s;
    return plan_op(plan, 'B', y, log);
}

cnn_status cnn_softmax_run_backward(const cnn_softmax_plan *plan, const cnn_tensor *gy,
                                    const cnn_tensor *y, cnn_tensor *gx)
{
    if (!plan->primitive)
        return CNN_OK;
    cnn_exec e;
    cnn_exec_begin(&e, plan->primitive, op_name(plan->log, true));
    cnn_exec_input(&e, DNNL_ARG_DST, y, &plan->md);
    cnn_exec_input(&e, DNNL_ARG_DIFF_DST, gy, &plan->md);
    cnn_exec_output(&e, DNNL_ARG_DIFF_SRC, gx, &plan->md);
    return cnn_exec_finish(&e);
}

cnn_status cnn_softmax_forward(const cnn_tensor *x, bool log, cnn_tensor *y)
{
    cnn_softmax_plan plan;
    cnn_status s;
    if ((s = cnn_softmax_check(x)) != CNN_OK ||
        (s = cnn_check_operand(y, "output", 0, NULL)) != CNN_OK ||
        (s = check_same(x, "input", y, "output")) != CNN_OK ||
        (s = cnn_softmax_plan_forward(&plan, x, log)) != CNN_OK)
        return s;
    return cnn_softmax_run_forward(&plan, x, y);
}

cnn_status cnn_softmax_backward(const cnn_tensor *gy, const cnn_tensor *y, bool log,
                                cnn_tensor *gx)
{
    cnn_softmax_plan plan;
    cnn_status s;
    if ((s = cnn_softmax_check(y)) != CNN_OK ||
        (s = cnn_check_operand(gy, "gradient", 0, NULL)) != CNN_OK ||
        (s = cnn_check_operand(gx, "input gradient", 0, NULL)) != CNN_OK ||
        (s = check_same(gy, "gradient", y, "output")) != CNN_OK ||
        (s = check_same(gx, "input gradient", y, "output")) != CNN_OK ||
        (s = cnn_softmax_plan_backward(&plan, gy, y, log)) != CNN_OK)
        return s;
    return cnn_softmax_run_backward(&plan, gy, y, gx);
}

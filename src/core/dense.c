#include "dense.h"

#include <string.h>

#include "context.h"
#include "exec.h"
#include "operand.h"
#include "primitive_desc.h"

static int is_matrix_or_vector(const cnn_tensor *t)
{
    return t->ndims == 1 || t->ndims == 2;
}

static int64_t batch_of(const cnn_tensor *t) { return t->ndims == 2 ? t->size[1] : 1; }

static cnn_status check_operands(const cnn_tensor *a, const char *a_name,
                                 const cnn_tensor *w, const char *w_name)
{
    char as[128];
    cnn_status s;
    if ((s = cnn_check_operand(a, a_name, 0, NULL)) != CNN_OK ||
        (s = cnn_check_operand(w, w_name, 2, "out×in")) != CNN_OK)
        return s;
    if (!is_matrix_or_vector(a))
        return cnn_fail(CNN_ERR_SHAPE,
                        "%s must be a matrix (features×N) or a vector, got %s", a_name,
                        cnn_shape_string(a, as, sizeof as));
    return CNN_OK;
}

cnn_status cnn_dense_check_forward(const cnn_tensor *x, const cnn_tensor *w,
                                   const cnn_tensor *b, int *y_ndims, int64_t y[2])
{
    char xs[128], ws[128], bs[128];
    cnn_status s;
    if ((s = check_operands(x, "input", w, "weight")) != CNN_OK ||
        (b && (s = cnn_check_operand(b, "bias", 0, NULL)) != CNN_OK))
        return s;
    cnn_shape_string(x, xs, sizeof xs);
    cnn_shape_string(w, ws, sizeof ws);
    if (x->size[0] != w->size[1])
        return cnn_fail(CNN_ERR_SHAPE,
                        "input has %lld features (%s), weight expects %lld (%s)",
                        (long long)x->size[0], xs, (long long)w->size[1], ws);
    if (b && (b->ndims != 1 || b->size[0] != w->size[0]))
        return cnn_fail(CNN_ERR_SHAPE, "bias is %s, weight has %lld outputs (%s)",
                        cnn_shape_string(b, bs, sizeof bs), (long long)w->size[0], ws);
    *y_ndims = x->ndims;
    y[0] = w->size[0];
    y[1] = batch_of(x);
    return CNN_OK;
}

cnn_status cnn_dense_check_backward_data(const cnn_tensor *gy, const cnn_tensor *w,
                                         int *x_ndims, int64_t x[2])
{
    char gs[128], ws[128];
    cnn_status s;
    if ((s = check_operands(gy, "gradient", w, "weight")) != CNN_OK)
        return s;
    if (gy->size[0] != w->size[0])
        return cnn_fail(CNN_ERR_SHAPE,
                        "gradient has %lld features (%s), weight has %lld outputs (%s)",
                        (long long)gy->size[0], cnn_shape_string(gy, gs, sizeof gs),
                        (long long)w->size[0], cnn_shape_string(w, ws, sizeof ws));
    *x_ndims = gy->ndims;
    x[0] = w->size[1];
    x[1] = batch_of(gy);
    return CNN_OK;
}

cnn_status cnn_dense_check_backward_weights(const cnn_tensor *gy, const cnn_tensor *x)
{
    char gs[128], xs[128];
    cnn_status s;
    if ((s = cnn_check_operand(gy, "gradient", 0, NULL)) != CNN_OK ||
        (s = cnn_check_operand(x, "input", 0, NULL)) != CNN_OK)
        return s;
    if (!is_matrix_or_vector(gy) || !is_matrix_or_vector(x) ||
        batch_of(gy) != batch_of(x))
        return cnn_fail(
            CNN_ERR_SHAPE,
            "gradient %s and input %s must be matrices with the same batch size",
            cnn_shape_string(gy, gs, sizeof gs), cnn_shape_string(x, xs, sizeof xs));
    return CNN_OK;
}

typedef struct dense_key {
    int64_t op; /* 'F', 'D', 'W' */
    int64_t in, out, batch, bias;
} dense_key;

typedef struct dense_geometry {
    dnnl_memory_desc_t src, wei, bias, dst;
} dense_geometry;

/* Plain layouts: Flux's out×in column-major weight is oneDNN's io. The
 * element types are the primitive's: the user's tensors are all FP32. */
typedef struct dense_types {
    dnnl_data_type_t src, wei, dst;
} dense_types;

static const dense_types all_f32 = {dnnl_f32, dnnl_f32, dnnl_f32};

static cnn_status geometry(int64_t in, int64_t out, int64_t batch, dense_types t,
                           dense_geometry *g, const char *name)
{
    dnnl_dims_t src = {batch, in}, wei = {out, in}, bias = {out}, dst = {batch, out};
    CNN_DNNL_TRY(name, dnnl_memory_desc_init_by_tag(&g->src, 2, src, t.src, dnnl_ab));
    CNN_DNNL_TRY(name, dnnl_memory_desc_init_by_tag(&g->wei, 2, wei, t.wei, dnnl_ba));
    CNN_DNNL_TRY(name, dnnl_memory_desc_init_by_tag(&g->bias, 1, bias, dnnl_f32, dnnl_a));
    CNN_DNNL_TRY(name, dnnl_memory_desc_init_by_tag(&g->dst, 2, dst, t.dst, dnnl_ab));
    return CNN_OK;
}

/* The element types of a direction's primitive. In bf16 precision the
 * forward takes bf16 input and weights and the backward data bf16
 * weights and output gradient, both writing FP32, as convolutions do
 * (conv.c); the backward weights stays FP32 as theirs does. */
static dense_types types_of(int op)
{
    dnnl_data_type_t in = cnn_precision_input_type(cnn_get_precision());
    dense_types t = all_f32;
    if (op == 'W')
        return t;
    t.wei = in;
    if (op == 'F')
        t.src = in;
    else
        t.dst = in;
    return t;
}

static cnn_status forward_pd(const dense_geometry *g, int bias, dnnl_primitive_desc_t *pd)
{
    dnnl_inner_product_desc_t d;
    CNN_DNNL_TRY("dense", dnnl_inner_product_forward_desc_init(
                              &d, dnnl_forward_training, &g->src, &g->wei,
                              bias ? &g->bias : NULL, &g->dst));
    return cnn_pd_create(&d, 0, NULL, "dense", pd);
}

static cnn_status get_primitive(int op, int64_t in, int64_t out, int64_t batch, int bias,
                                const char *name, cnn_primitive **prim)
{
    dense_key key;
    memset(&key, 0, sizeof key);
    key.op = op;
    key.in = in;
    key.out = out;
    key.batch = batch;
    key.bias = bias;
    if ((*prim = cnn_primitive_find(&key, sizeof key)))
        return CNN_OK;
    /* the backward's hint is the forward of the same precision */
    dense_geometry g, fwd;
    dnnl_primitive_desc_t pd, hint;
    cnn_status s = geometry(in, out, batch, types_of(op), &g, name);
    if (s == CNN_OK)
        s = geometry(in, out, batch, types_of(op == 'W' ? 'W' : 'F'), &fwd, name);
    if (s == CNN_OK)
        s = forward_pd(&fwd, bias, op == 'F' ? &pd : &hint);
    if (s != CNN_OK)
        return s;
    if (op != 'F') {
        dnnl_inner_product_desc_t d;
        dnnl_status_t st =
            op == 'D'
                ? dnnl_inner_product_backward_data_desc_init(&d, &g.src, &g.wei, &g.dst)
                : dnnl_inner_product_backward_weights_desc_init(
                      &d, &g.src, &g.wei, bias ? &g.bias : NULL, &g.dst);
        s = st == dnnl_success
                ? cnn_pd_create(&d, 0, hint, name, &pd)
                : cnn_fail(CNN_ERR_DNNL, "%s: describing the inner product: %s", name,
                           cnn_dnnl_status_string(st));
        dnnl_primitive_desc_destroy(hint);
        if (s != CNN_OK)
            return s;
    }
    return cnn_primitive_add(&key, sizeof key, pd, name, prim);
}

/* The user layouts are the plain geometry of the tensors' sizes. */
static void arg(cnn_exec *e, int which, const cnn_tensor *t, const dnnl_memory_desc_t *md,
                int is_output)
{
    if (is_output)
        cnn_exec_output(e, which, (cnn_tensor *)t, md);
    else
        cnn_exec_input(e, which, t, md);
}

/* Starts running a planned primitive on geometry g. */
static cnn_status begin(const cnn_dense_plan *plan, const char *name, dense_geometry *g,
                        cnn_exec *e)
{
    cnn_status s = geometry(plan->in, plan->out_features, plan->batch, all_f32, g, name);
    if (s == CNN_OK)
        cnn_exec_begin(e, plan->primitive, name);
    return s;
}

static void plan_begin(cnn_dense_plan *plan, int64_t in, int64_t out, int64_t batch,
                       bool bias)
{
    memset(plan, 0, sizeof *plan);
    plan->in = in;
    plan->out_features = out;
    plan->batch = batch;
    plan->bias = bias;
}

static void plan_output(cnn_plan_output *out, int ndims, int64_t first, int64_t second)
{
    memset(out, 0, sizeof *out);
    out->ndims = ndims;
    out->size[0] = first;
    out->size[1] = second;
}

cnn_status cnn_dense_plan_forward(cnn_dense_plan *plan, const cnn_tensor *x,
                                  const cnn_tensor *w, const cnn_tensor *b)
{
    int ndims;
    int64_t y[2];
    cnn_status s = cnn_dense_check_forward(x, w, b, &ndims, y);
    if (s != CNN_OK)
        return s;
    plan_begin(plan, x->size[0], w->size[0], batch_of(x), b != NULL);
    plan_output(&plan->out[0], ndims, y[0], y[1]);
    plan->empty = !cnn_tensor_numel(x) || y[0] * y[1] == 0;
    plan->featureless = plan->empty && b && y[0] * y[1] != 0;
    if (plan->empty)
        return CNN_OK;
    return get_primitive('F', plan->in, plan->out_features, plan->batch, plan->bias,
                         "dense", &plan->primitive);
}

cnn_status cnn_dense_run_forward(const cnn_dense_plan *plan, const cnn_tensor *x,
                                 const cnn_tensor *w, const cnn_tensor *b, cnn_tensor *y)
{
    if (plan->empty) {
        cnn_zero_outputs(y, NULL, NULL);
        return plan->featureless ? cnn_fail(CNN_ERR_ARG, "input has no features")
                                 : CNN_OK;
    }
    dense_geometry g;
    cnn_exec e;
    cnn_status s = begin(plan, "dense", &g, &e);
    if (s != CNN_OK)
        return s;
    arg(&e, DNNL_ARG_SRC, x, &g.src, 0);
    arg(&e, DNNL_ARG_WEIGHTS, w, &g.wei, 0);
    if (b)
        arg(&e, DNNL_ARG_BIAS, b, &g.bias, 0);
    arg(&e, DNNL_ARG_DST, y, &g.dst, 1);
    return cnn_exec_finish(&e);
}

cnn_status cnn_dense_plan_backward_data(cnn_dense_plan *plan, const cnn_tensor *gy,
                                        const cnn_tensor *w)
{
    int ndims;
    int64_t x[2];
    cnn_status s = cnn_dense_check_backward_data(gy, w, &ndims, x);
    if (s != CNN_OK)
        return s;
    plan_begin(plan, w->size[1], w->size[0], batch_of(gy), false);
    plan_output(&plan->out[0], ndims, x[0], x[1]);
    plan->empty = !cnn_tensor_numel(gy) || x[0] * x[1] == 0;
    if (plan->empty)
        return CNN_OK;
    return get_primitive('D', plan->in, plan->out_features, plan->batch, 0,
                         "dense_backward_data", &plan->primitive);
}

cnn_status cnn_dense_run_backward_data(const cnn_dense_plan *plan, const cnn_tensor *gy,
                                       const cnn_tensor *w, cnn_tensor *gx)
{
    if (plan->empty) {
        cnn_zero_outputs(gx, NULL, NULL);
        return CNN_OK;
    }
    dense_geometry g;
    cnn_exec e;
    cnn_status s = begin(plan, "dense_backward_data", &g, &e);
    if (s != CNN_OK)
        return s;
    arg(&e, DNNL_ARG_DIFF_DST, gy, &g.dst, 0);
    arg(&e, DNNL_ARG_WEIGHTS, w, &g.wei, 0);
    arg(&e, DNNL_ARG_DIFF_SRC, gx, &g.src, 1);
    return cnn_exec_finish(&e);
}

cnn_status cnn_dense_plan_backward_weights(cnn_dense_plan *plan, const cnn_tensor *gy,
                                           const cnn_tensor *x, bool bias)
{
    cnn_status s = cnn_dense_check_backward_weights(gy, x);
    if (s != CNN_OK)
        return s;
    plan_begin(plan, x->size[0], gy->size[0], batch_of(x), bias);
    plan_output(&plan->out[0], 2, gy->size[0], x->size[0]);
    plan_output(&plan->out[1], 1, gy->size[0], 0);
    plan->empty = !cnn_tensor_numel(gy) || !cnn_tensor_numel(x);
    if (plan->empty)
        return CNN_OK;
    return get_primitive('W', plan->in, plan->out_features, plan->batch, bias,
                         "dense_backward_weights", &plan->primitive);
}

cnn_status cnn_dense_run_backward_weights(const cnn_dense_plan *plan,
                                          const cnn_tensor *gy, const cnn_tensor *x,
                                          cnn_tensor *gw, cnn_tensor *gb)
{
    if (plan->empty) {
        cnn_zero_outputs(gw, gb, NULL);
        return CNN_OK;
    }
    dense_geometry g;
    cnn_exec e;
    cnn_status s = begin(plan, "dense_backward_weights", &g, &e);
    if (s != CNN_OK)
        return s;
    arg(&e, DNNL_ARG_SRC, x, &g.src, 0);
    arg(&e, DNNL_ARG_DIFF_DST, gy, &g.dst, 0);
    arg(&e, DNNL_ARG_DIFF_WEIGHTS, gw, &g.wei, 1);
    if (gb)
        arg(&e, DNNL_ARG_DIFF_BIAS, gb, &g.bias, 1);
    return cnn_exec_finish(&e);
}

cnn_status cnn_dense_forward(const cnn_tensor *x, const cnn_tensor *w,
                             const cnn_tensor *b, cnn_tensor *y)
{
    cnn_dense_plan plan;
    cnn_status s;
    if ((s = cnn_dense_plan_forward(&plan, x, w, b)) != CNN_OK ||
        (s = cnn_check_operand(y, "output", plan.out[0].ndims, "out×N")) != CNN_OK)
        return s;
    if (y->size[0] != plan.out[0].size[0] || batch_of(y) != plan.batch)
        return cnn_fail(CNN_ERR_SHAPE, "output has the wrong size");
    return cnn_dense_run_forward(&plan, x, w, b, y);
}

cnn_status cnn_dense_backward_data(const cnn_tensor *gy, const cnn_tensor *w,
                                   cnn_tensor *gx)
{
    cnn_dense_plan plan;
    cnn_status s;
    if ((s = cnn_dense_plan_backward_data(&plan, gy, w)) != CNN_OK ||
        (s = cnn_check_operand(gx, "input gradient", plan.out[0].ndims, "in×N")) !=
            CNN_OK)
        return s;
    if (gx->size[0] != plan.out[0].size[0] || batch_of(gx) != plan.batch)
        return cnn_fail(CNN_ERR_SHAPE, "input gradient has the wrong size");
    return cnn_dense_run_backward_data(&plan, gy, w, gx);
}

cnn_status cnn_dense_backward_weights(const cnn_tensor *gy, const cnn_tensor *x,
                                      cnn_tensor *gw, cnn_tensor *gb)
{
    cnn_dense_plan plan;
    cnn_status s;
    if ((s = cnn_dense_plan_backward_weights(&plan, gy, x, gb != NULL)) != CNN_OK ||
        (s = cnn_check_operand(gw, "weight gradient", 2, "out×in")) != CNN_OK ||
        (gb && (s = cnn_check_operand(gb, "bias gradient", 1, "out")) != CNN_OK))
        return s;
    if (gw->size[0] != gy->size[0] || gw->size[1] != x->size[0] ||
        (gb && gb->size[0] != gy->size[0]))
        return cnn_fail(CNN_ERR_SHAPE, "weight gradient has the wrong size");
    return cnn_dense_run_backward_weights(&plan, gy, x, gw, gb);
}

#include "layernorm.h"

#include <string.h>

#include "context.h"
#include "exec.h"
#include "operand.h"
#include "primitive_desc.h"

/* x's sizes split at dims: cols the product of the first dims sizes, rows
 * that of the others. */
static cnn_status split(const cnn_tensor *x, int dims, int64_t *rows, int64_t *cols)
{
    char xs[128];
    cnn_status s = cnn_check_operand(x, "input", 0, NULL);
    if (s != CNN_OK)
        return s;
    if (x->blocked)
        return cnn_fail(CNN_ERR_ARG, "input must be in a plain layout");
    if (dims < 1 || dims > x->ndims)
        return cnn_fail(CNN_ERR_SHAPE,
                        "dims must be from 1 to the input's %d dimensions, got %d "
                        "(input %s)",
                        x->ndims, dims, cnn_shape_string(x, xs, sizeof xs));
    *rows = *cols = 1;
    for (int d = 0; d < x->ndims; d++)
        *(d < dims ? cols : rows) *= x->size[d];
    return CNN_OK;
}

/* gamma or beta: absent, or a contiguous tensor of x's first dims sizes. */
static cnn_status check_affine(const cnn_tensor *v, const char *what, const cnn_tensor *x,
                               int dims)
{
    char vs[128], want[128], xs[128];
    cnn_status s;
    if (!v)
        return CNN_OK;
    if ((s = cnn_check_operand(v, what, 0, NULL)) != CNN_OK)
        return s;
    bool same = v->ndims == dims && !v->blocked;
    for (int d = 0; same && d < dims; d++)
        same = v->size[d] == x->size[d];
    if (!same)
        return cnn_fail(
            CNN_ERR_SHAPE, "%s is %s, the normalised sizes of input %s are %s", what,
            cnn_shape_string(v, vs, sizeof vs), cnn_shape_string(x, xs, sizeof xs),
            cnn_sizes_string(x->size, dims, want, sizeof want));
    return CNN_OK;
}

/* mean or variance: rows elements. */
static cnn_status check_stat(const cnn_tensor *v, const char *what, int64_t rows)
{
    char vs[128];
    cnn_status s = cnn_check_operand(v, what, 1, "one per normalised column");
    if (s != CNN_OK)
        return s;
    if (v->size[0] != rows)
        return cnn_fail(CNN_ERR_SHAPE, "%s is %s, the input has %lld normalised columns",
                        what, cnn_shape_string(v, vs, sizeof vs), (long long)rows);
    return CNN_OK;
}

typedef struct layernorm_key {
    int64_t op; /* 'F' forward, 'B' backward */
    int64_t affine, rows, cols;
    double eps;
} layernorm_key;

static unsigned affine_flags(bool affine)
{
    return affine ? dnnl_use_scale | dnnl_use_shift : 0;
}

static cnn_status forward_pd(const cnn_layernorm_plan *plan, dnnl_primitive_desc_t *pd)
{
    dnnl_layer_normalization_desc_t d;
    CNN_DNNL_TRY("layernorm", dnnl_layer_normalization_forward_desc_init(
                                  &d, dnnl_forward_training, &plan->md, &plan->smd,
                                  plan->eps, affine_flags(plan->affine)));
    return cnn_pd_create(&d, 0, NULL, "layernorm", pd);
}

static cnn_status get_primitive(cnn_layernorm_plan *plan, int op, const char *name)
{
    layernorm_key key;
    memset(&key, 0, sizeof key);
    key.op = op;
    key.affine = plan->affine;
    key.rows = plan->rows;
    key.cols = plan->cols;
    key.eps = plan->eps;
    if ((plan->primitive = cnn_primitive_find(&key, sizeof key)))
        return CNN_OK;
    dnnl_primitive_desc_t pd, hint;
    cnn_status s = forward_pd(plan, op == 'B' ? &hint : &pd);
    if (s != CNN_OK)
        return s;
    if (op == 'B') {
        dnnl_layer_normalization_desc_t d;
        dnnl_status_t st = dnnl_layer_normalization_backward_desc_init(
            &d, plan->affine ? dnnl_backward : dnnl_backward_data, &plan->md, &plan->md,
            &plan->smd, plan->eps, affine_flags(plan->affine));
        s = st == dnnl_success
                ? cnn_pd_create(&d, 0, hint, name, &pd)
                : cnn_fail(CNN_ERR_DNNL, "%s: describing the layer normalisation: %s",
                           name, cnn_dnnl_status_string(st));
        dnnl_primitive_desc_destroy(hint);
        if (s != CNN_OK)
            return s;
    }
    return cnn_primitive_add(&key, sizeof key, pd, name, &plan->primitive);
}

/* The plan of either direction: the matrix view, and the results of the
 * forward (y and the statistics). */
static void plan_begin(cnn_layernorm_plan *plan, const cnn_tensor *x, int64_t rows,
                       int64_t cols, bool affine, float eps)
{
    memset(plan, 0, sizeof *plan);
    plan->affine = affine;
    plan->eps = eps;
    plan->rows = rows;
    plan->cols = cols;
    cnn_plan_output_like(&plan->out[0], x);
    plan->out[1].ndims = plan->out[2].ndims = 1;
    plan->out[1].size[0] = plan->out[2].size[0] = rows;
    int64_t md_dims[2] = {rows, cols};
    cnn_md_plain(&plan->md, 2, md_dims);
    cnn_md_plain(&plan->smd, 1, &rows);
    cnn_md_plain(&plan->vmd, 1, &cols);
}

static cnn_status check_eps(float eps)
{
    if (!(eps > 0))
        return cnn_fail(CNN_ERR_ARG, "epsilon must be positive, got %g", (double)eps);
    return CNN_OK;
}

static cnn_status check_pair(const cnn_tensor *gamma, const cnn_tensor *beta)
{
    if (!gamma != !beta)
        return cnn_fail(CNN_ERR_ARG, "gamma and beta must be given together, got %s only",
                        gamma ? "gamma" : "beta");
    return CNN_OK;
}

cnn_status cnn_layernorm_plan_matrix(cnn_layernorm_plan *plan, int64_t rows, int64_t cols,
                                     float eps, bool backward, const char *name)
{
    cnn_status s = check_eps(eps);
    if (s != CNN_OK)
        return s;
    memset(plan, 0, sizeof *plan);
    plan->eps = eps;
    plan->rows = rows;
    plan->cols = cols;
    int64_t md_dims[2] = {rows, cols};
    cnn_md_plain(&plan->md, 2, md_dims);
    cnn_md_plain(&plan->smd, 1, &rows);
    cnn_md_plain(&plan->vmd, 1, &cols);
    if (!rows || !cols)
        return CNN_OK;
    return get_primitive(plan, backward ? 'B' : 'F', name);
}

cnn_status cnn_layernorm_plan_forward(cnn_layernorm_plan *plan, const cnn_tensor *x,
                                      int dims, const cnn_tensor *gamma,
                                      const cnn_tensor *beta, float eps)
{
    int64_t rows = 0, cols = 0;
    cnn_status s;
    if ((s = split(x, dims, &rows, &cols)) != CNN_OK ||
        (s = check_pair(gamma, beta)) != CNN_OK ||
        (s = check_affine(gamma, "gamma", x, dims)) != CNN_OK ||
        (s = check_affine(beta, "beta", x, dims)) != CNN_OK ||
        (s = check_eps(eps)) != CNN_OK)
        return s;
    plan_begin(plan, x, rows, cols, gamma != NULL, eps);
    if (!cnn_tensor_numel(x))
        return CNN_OK;
    return get_primitive(plan, 'F', "layernorm");
}

cnn_status cnn_layernorm_run_forward(const cnn_layernorm_plan *plan, const cnn_tensor *x,
                                     const cnn_tensor *gamma, const cnn_tensor *beta,
                                     cnn_tensor *y, cnn_tensor *mean, cnn_tensor *var)
{
    if (!plan->primitive) {
        /* no elements to normalise: empty columns have zero statistics */
        cnn_zero_outputs(NULL, mean, var);
        return CNN_OK;
    }
    cnn_exec e;
    cnn_exec_begin(&e, plan->primitive, "layernorm");
    cnn_exec_input(&e, DNNL_ARG_SRC, x, &plan->md);
    if (plan->affine) {
        cnn_exec_input(&e, DNNL_ARG_SCALE, gamma, &plan->vmd);
        cnn_exec_input(&e, DNNL_ARG_SHIFT, beta, &plan->vmd);
    }
    cnn_exec_output(&e, DNNL_ARG_MEAN, mean, &plan->smd);
    cnn_exec_output(&e, DNNL_ARG_VARIANCE, var, &plan->smd);
    cnn_exec_output(&e, DNNL_ARG_DST, y, &plan->md);
    return cnn_exec_finish(&e);
}

cnn_status cnn_layernorm_plan_backward(cnn_layernorm_plan *plan, const cnn_tensor *gy,
                                       const cnn_tensor *x, int dims,
                                       const cnn_tensor *gamma, const cnn_tensor *mean,
                                       const cnn_tensor *var, float eps)
{
    int64_t rows = 0, cols = 0;
    cnn_status s;
    if ((s = split(x, dims, &rows, &cols)) != CNN_OK ||
        (s = cnn_check_operand(gy, "gradient", 0, NULL)) != CNN_OK ||
        (s = check_affine(gamma, "gamma", x, dims)) != CNN_OK ||
        (s = check_stat(mean, "mean", rows)) != CNN_OK ||
        (s = check_stat(var, "variance", rows)) != CNN_OK ||
        (s = check_eps(eps)) != CNN_OK)
        return s;
    if (gy->blocked || !cnn_tensor_same_size(gy, x)) {
        char gs[128], xs[128];
        return cnn_fail(CNN_ERR_SHAPE, "gradient is %s%s, input is %s",
                        cnn_shape_string(gy, gs, sizeof gs),
                        gy->blocked ? " blocked" : "",
                        cnn_shape_string(x, xs, sizeof xs));
    }
    plan_begin(plan, x, rows, cols, gamma != NULL, eps);
    /* the backward's second and third results are gamma's and beta's
     * gradients */
    for (int i = 1; i < 3; i++) {
        plan->out[i].ndims = gamma ? dims : 0;
        memcpy(plan->out[i].size, x->size, (size_t)dims * sizeof x->size[0]);
    }
    if (!cnn_tensor_numel(x))
        return CNN_OK;
    return get_primitive(plan, 'B', "layernorm_backward");
}

cnn_status cnn_layernorm_run_backward(const cnn_layernorm_plan *plan,
                                      const cnn_tensor *gy, const cnn_tensor *x,
                                      const cnn_tensor *gamma, const cnn_tensor *mean,
                                      const cnn_tensor *var, cnn_tensor *gx,
                                      cnn_tensor *ggamma, cnn_tensor *gbeta)
{
    if (!plan->primitive) {
        cnn_zero_outputs(gx, plan->affine ? ggamma : NULL, plan->affine ? gbeta : NULL);
        return CNN_OK;
    }
    cnn_exec e;
    cnn_exec_begin(&e, plan->primitive, "layernorm_backward");
    cnn_exec_input(&e, DNNL_ARG_SRC, x, &plan->md);
    cnn_exec_input(&e, DNNL_ARG_MEAN, mean, &plan->smd);
    cnn_exec_input(&e, DNNL_ARG_VARIANCE, var, &plan->smd);
    cnn_exec_input(&e, DNNL_ARG_DIFF_DST, gy, &plan->md);
    if (plan->affine) {
        cnn_exec_input(&e, DNNL_ARG_SCALE, gamma, &plan->vmd);
        /* as for batch normalisation, a shift argument is wanted although
         * no gradient depends on beta; any vector of its size will do */
        cnn_exec_input(&e, DNNL_ARG_SHIFT, gamma, &plan->vmd);
        cnn_exec_output(&e, DNNL_ARG_DIFF_SCALE, ggamma, &plan->vmd);
        cnn_exec_output(&e, DNNL_ARG_DIFF_SHIFT, gbeta, &plan->vmd);
    }
    cnn_exec_output(&e, DNNL_ARG_DIFF_SRC, gx, &plan->md);
    return cnn_exec_finish(&e);
}

/* A caller's result against what the plan says. */
static cnn_status check_result(const cnn_tensor *t, const char *what,
                               const cnn_plan_output *want)
{
    char ts[128], ws[128];
    cnn_status s = cnn_check_operand(t, what, 0, NULL);
    if (s != CNN_OK)
        return s;
    bool same = t->ndims == want->ndims && !t->blocked;
    for (int d = 0; same && d < t->ndims; d++)
        same = t->size[d] == want->size[d];
    if (!same)
        return cnn_fail(CNN_ERR_SHAPE, "%s is %s, expected %s", what,
                        cnn_shape_string(t, ts, sizeof ts),
                        cnn_sizes_string(want->size, want->ndims, ws, sizeof ws));
    return CNN_OK;
}

cnn_status cnn_layernorm_forward(const cnn_tensor *x, int dims, const cnn_tensor *gamma,
                                 const cnn_tensor *beta, float eps, cnn_tensor *y,
                                 cnn_tensor *mean, cnn_tensor *var)
{
    cnn_layernorm_plan plan;
    cnn_status s;
    if ((s = cnn_layernorm_plan_forward(&plan, x, dims, gamma, beta, eps)) != CNN_OK ||
        (s = check_result(y, "output", &plan.out[0])) != CNN_OK ||
        (s = check_result(mean, "mean", &plan.out[1])) != CNN_OK ||
        (s = check_result(var, "variance", &plan.out[2])) != CNN_OK)
        return s;
    return cnn_layernorm_run_forward(&plan, x, gamma, beta, y, mean, var);
}

cnn_status cnn_layernorm_backward(const cnn_tensor *gy, const cnn_tensor *x, int dims,
                                  const cnn_tensor *gamma, const cnn_tensor *mean,
                                  const cnn_tensor *var, float eps, cnn_tensor *gx,
                                  cnn_tensor *ggamma, cnn_tensor *gbeta)
{
    cnn_layernorm_plan plan;
    cnn_status s;
    if ((s = cnn_layernorm_plan_backward(&plan, gy, x, dims, gamma, mean, var, eps)) !=
            CNN_OK ||
        (s = check_result(gx, "input gradient", &plan.out[0])) != CNN_OK)
        return s;
    if (plan.affine && (!ggamma || !gbeta))
        return cnn_fail(CNN_ERR_ARG,
                        "gamma's and beta's gradients are needed with gamma");
    if (plan.affine &&
        ((s = check_result(ggamma, "gamma gradient", &plan.out[1])) != CNN_OK ||
         (s = check_result(gbeta, "beta gradient", &plan.out[2])) != CNN_OK))
        return s;
    return cnn_layernorm_run_backward(&plan, gy, x, gamma, mean, var, gx, ggamma, gbeta);
}

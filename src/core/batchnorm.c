#include "batchnorm.h"

#include <string.h>

#include "context.h"
#include "exec.h"
#include "operand.h"
#include "primitive_desc.h"

cnn_status cnn_batchnorm_channels(const cnn_tensor *x, int64_t *channels)
{
    char xs[128];
    cnn_status s = cnn_check_operand(x, "input", 0, NULL);
    if (s != CNN_OK)
        return s;
    if (x->ndims < 2 || x->ndims > 5)
        return cnn_fail(
            CNN_ERR_SHAPE,
            "input must have 2 to 5 dimensions (features×N or W×H×C×N), got %s",
            cnn_shape_string(x, xs, sizeof xs));
    *channels = x->size[x->ndims == 2 ? 0 : x->ndims - 2];
    return CNN_OK;
}

static cnn_status check_vector(const cnn_tensor *v, const char *what, const cnn_tensor *x,
                               int64_t channels)
{
    char vs[128], xs[128];
    cnn_status s;
    if (!v)
        return CNN_OK;
    if ((s = cnn_check_operand(v, what, 0, NULL)) != CNN_OK)
        return s;
    if (v->ndims != 1 || v->size[0] != channels)
        return cnn_fail(CNN_ERR_SHAPE, "%s is %s, input %s has %lld channels", what,
                        cnn_shape_string(v, vs, sizeof vs),
                        cnn_shape_string(x, xs, sizeof xs), (long long)channels);
    return CNN_OK;
}

cnn_status cnn_batchnorm_check(const cnn_tensor *x, const cnn_tensor *gamma,
                               const cnn_tensor *beta, const cnn_tensor *mean,
                               const cnn_tensor *var)
{
    int64_t c;
    cnn_status s;
    if ((s = cnn_batchnorm_channels(x, &c)) != CNN_OK ||
        (s = check_vector(gamma, "gamma", x, c)) != CNN_OK ||
        (s = check_vector(beta, "beta", x, c)) != CNN_OK ||
        (s = check_vector(mean, "mean", x, c)) != CNN_OK ||
        (s = check_vector(var, "variance", x, c)) != CNN_OK)
        return s;
    return CNN_OK;
}

/* The layout is part of the key: a batch normalisation runs on the input
 * in the layout it comes in, plain or blocked as a convolution left it. */
typedef struct batchnorm_key {
    int64_t op; /* 'T' training, 'I' inference, 'B' backward */
    dnnl_memory_desc_t md;
    double eps;
} batchnorm_key;

static cnn_status forward_pd(const dnnl_memory_desc_t *md, bool training, float eps,
                             dnnl_primitive_desc_t *pd)
{
    unsigned flags = dnnl_use_scale | dnnl_use_shift;
    if (!training)
        flags |= dnnl_use_global_stats;
    dnnl_batch_normalization_desc_t d;
    CNN_DNNL_TRY("batchnorm",
                 dnnl_batch_normalization_forward_desc_init(
                     &d, training ? dnnl_forward_training : dnnl_forward_inference, md,
                     eps, flags));
    return cnn_pd_create(&d, 0, NULL, "batchnorm", pd);
}

static cnn_status get_primitive(int op, const dnnl_memory_desc_t *md, float eps,
                                const char *name, cnn_primitive **prim)
{
    batchnorm_key key;
    memset(&key, 0, sizeof key);
    key.op = op;
    key.md = *md;
    key.eps = eps;
    if ((*prim = cnn_primitive_find(&key, sizeof key)))
        return CNN_OK;
    dnnl_primitive_desc_t pd, hint;
    cnn_status s = forward_pd(md, op != 'I', eps, op == 'B' ? &hint : &pd);
    if (s != CNN_OK)
        return s;
    if (op == 'B') {
        dnnl_batch_normalization_desc_t d;
        dnnl_status_t st = dnnl_batch_normalization_backward_desc_init(
            &d, dnnl_backward, md, md, eps, dnnl_use_scale | dnnl_use_shift);
        s = st == dnnl_success
                ? cnn_pd_create(&d, 0, hint, name, &pd)
                : cnn_fail(CNN_ERR_DNNL, "%s: describing the batch normalisation: %s",
                           name, cnn_dnnl_status_string(st));
        dnnl_primitive_desc_destroy(hint);
        if (s != CNN_OK)
            return s;
    }
    return cnn_primitive_add(&key, sizeof key, pd, name, prim);
}

/* Flux's update; the batch variance oneDNN gives is biased (divided by the
 * count m), the running one takes m / (m - 1) of it. */
static void update_running(cnn_tensor *rmean, cnn_tensor *rvar, const cnn_tensor *mean,
                           const cnn_tensor *var, float momentum, int64_t count)
{
    float *rm = cnn_tensor_f32(rmean), *rv = cnn_tensor_f32(rvar);
    const float *m = cnn_tensor_f32(mean), *v = cnn_tensor_f32(var);
    double unbias = count > 1 ? (double)count / (double)(count - 1) : 1.0;
    for (int64_t c = 0; c < rmean->size[0]; c++) {
        rm[c] = (float)((1.0 - momentum) * rm[c] + momentum * m[c]);
        rv[c] = (float)((1.0 - momentum) * rv[c] + momentum * unbias * v[c]);
    }
}

static void vector_md(int64_t channels, dnnl_memory_desc_t *md)
{
    cnn_md_plain(md, 1, &channels);
}

/* The plan of either direction: layouts and results of x's sizes and of
 * the channel count. The primitive works in x's layout, blocked or plain,
 * and y or gx come in the same (an activation between two convolutions
 * stays blocked); a gradient in another layout is reordered on the way
 * in. */
static void plan_begin(cnn_batchnorm_plan *plan, const cnn_tensor *x, int64_t channels,
                       float eps)
{
    memset(plan, 0, sizeof *plan);
    plan->channels = channels;
    plan->eps = eps;
    cnn_plan_output_like(&plan->out[0], x);
    for (int i = 1; i < 3; i++) {
        plan->out[i].ndims = 1;
        plan->out[i].size[0] = channels;
    }
    cnn_md_of_layout(&plan->md, x);
    vector_md(channels, &plan->vmd);
}

cnn_status cnn_batchnorm_plan_forward(cnn_batchnorm_plan *plan, const cnn_tensor *x,
                                      const cnn_tensor *gamma, const cnn_tensor *beta,
                                      const cnn_tensor *running_mean,
                                      const cnn_tensor *running_var, bool training,
                                      float momentum, float eps)
{
    int64_t c;
    cnn_status s;
    if ((s = cnn_batchnorm_check(x, gamma, beta, running_mean, running_var)) != CNN_OK ||
        (s = cnn_batchnorm_channels(x, &c)) != CNN_OK)
        return s;
    if (!(eps > 0))
        return cnn_fail(CNN_ERR_ARG, "epsilon must be positive, got %g", (double)eps);
    if (!(momentum >= 0 && momentum <= 1))
        return cnn_fail(CNN_ERR_ARG, "momentum must be in [0, 1], got %g",
                        (double)momentum);
    plan_begin(plan, x, c, eps);
    plan->training = training;
    plan->momentum = momentum;
    plan->count = cnn_tensor_numel(x) / (c ? c : 1);
    if (!cnn_tensor_numel(x))
        return CNN_OK;
    if (training && plan->count < 2)
        return cnn_fail(CNN_ERR_SHAPE, "training needs more than one value per channel");
    return get_primitive(training ? 'T' : 'I', &plan->md, eps, "batchnorm",
                         &plan->primitive);
}

cnn_status cnn_batchnorm_run_forward(const cnn_batchnorm_plan *plan, const cnn_tensor *x,
                                     const cnn_tensor *gamma, const cnn_tensor *beta,
                                     cnn_tensor *running_mean, cnn_tensor *running_var,
                                     cnn_tensor *y, cnn_tensor *saved_mean,
                                     cnn_tensor *saved_var)
{
    if (!plan->primitive)
        return CNN_OK;
    const dnnl_memory_desc_t *vmd = &plan->vmd;
    cnn_exec e;
    cnn_exec_begin(&e, plan->primitive, "batchnorm");
    cnn_exec_plain_input(&e, DNNL_ARG_SRC, x);
    cnn_exec_input(&e, DNNL_ARG_SCALE, gamma, vmd);
    cnn_exec_input(&e, DNNL_ARG_SHIFT, beta, vmd);
    if (plan->training) {
        cnn_exec_output(&e, DNNL_ARG_MEAN, saved_mean, vmd);
        cnn_exec_output(&e, DNNL_ARG_VARIANCE, saved_var, vmd);
    } else {
        cnn_exec_input(&e, DNNL_ARG_MEAN, running_mean, vmd);
        cnn_exec_input(&e, DNNL_ARG_VARIANCE, running_var, vmd);
    }
    cnn_exec_plain_output(&e, DNNL_ARG_DST, y);
    cnn_status s = cnn_exec_finish(&e);
    if (s == CNN_OK && plan->training)
        update_running(running_mean, running_var, saved_mean, saved_var, plan->momentum,
                       plan->count);
    return s;
}

cnn_status cnn_batchnorm_plan_backward(cnn_batchnorm_plan *plan, const cnn_tensor *gy,
                                       const cnn_tensor *x, const cnn_tensor *gamma,
                                       const cnn_tensor *saved_mean,
                                       const cnn_tensor *saved_var, float eps)
{
    int64_t c;
    cnn_status s;
    if ((s = cnn_batchnorm_check(x, gamma, NULL, saved_mean, saved_var)) != CNN_OK ||
        (s = cnn_batchnorm_channels(x, &c)) != CNN_OK ||
        (s = cnn_check_operand(gy, "gradient", 0, NULL)) != CNN_OK)
        return s;
    if (!gamma || !saved_mean || !saved_var)
        return cnn_fail(CNN_ERR_ARG, "every operand is needed");
    if (!cnn_tensor_same_size(gy, x)) {
        char gs[128], xs[128];
        return cnn_fail(CNN_ERR_SHAPE, "gradient is %s, input is %s",
                        cnn_shape_string(gy, gs, sizeof gs),
                        cnn_shape_string(x, xs, sizeof xs));
    }
    if (!(eps > 0))
        return cnn_fail(CNN_ERR_ARG, "epsilon must be positive, got %g", (double)eps);
    plan_begin(plan, x, c, eps);
    if (!cnn_tensor_numel(x))
        return CNN_OK;
    return get_primitive('B', &plan->md, eps, "batchnorm_backward", &plan->primitive);
}

cnn_status cnn_batchnorm_run_backward(const cnn_batchnorm_plan *plan,
                                      const cnn_tensor *gy, const cnn_tensor *x,
                                      const cnn_tensor *gamma,
                                      const cnn_tensor *saved_mean,
                                      const cnn_tensor *saved_var, cnn_tensor *gx,
                                      cnn_tensor *ggamma, cnn_tensor *gbeta)
{
    if (!plan->primitive) {
        cnn_zero_outputs(gx, ggamma, gbeta);
        return CNN_OK;
    }
    const dnnl_memory_desc_t *vmd = &plan->vmd;
    cnn_exec e;
    cnn_exec_begin(&e, plan->primitive, "batchnorm_backward");
    cnn_exec_plain_input(&e, DNNL_ARG_SRC, x);
    cnn_exec_input(&e, DNNL_ARG_MEAN, saved_mean, vmd);
    cnn_exec_input(&e, DNNL_ARG_VARIANCE, saved_var, vmd);
    cnn_exec_plain_input(&e, DNNL_ARG_DIFF_DST, gy);
    cnn_exec_input(&e, DNNL_ARG_SCALE, gamma, vmd);
    /* oneDNN insists on a shift argument here although no gradient depends
     * on beta; any vector of the right size will do */
    cnn_exec_input(&e, DNNL_ARG_SHIFT, gamma, vmd);
    cnn_exec_plain_output(&e, DNNL_ARG_DIFF_SRC, gx);
    cnn_exec_output(&e, DNNL_ARG_DIFF_SCALE, ggamma, vmd);
    cnn_exec_output(&e, DNNL_ARG_DIFF_SHIFT, gbeta, vmd);
    return cnn_exec_finish(&e);
}

cnn_status cnn_batchnorm_forward(const cnn_tensor *x, const cnn_tensor *gamma,
                                 const cnn_tensor *beta, cnn_tensor *running_mean,
                                 cnn_tensor *running_var, bool training, float momentum,
                                 float eps, cnn_tensor *y, cnn_tensor *saved_mean,
                                 cnn_tensor *saved_var)
{
    int64_t c;
    cnn_status s;
    if ((s = cnn_batchnorm_check(x, gamma, beta, running_mean, running_var)) != CNN_OK ||
        (s = cnn_batchnorm_channels(x, &c)) != CNN_OK ||
        (s = cnn_check_operand(y, "output", 0, NULL)) != CNN_OK)
        return s;
    if (!cnn_tensor_same_size(x, y))
        return cnn_fail(CNN_ERR_SHAPE, "output has the wrong size");
    if (training && (!saved_mean || !saved_var))
        return cnn_fail(CNN_ERR_ARG, "training needs tensors for the batch statistics");
    if (training && ((s = check_vector(saved_mean, "mean", x, c)) != CNN_OK ||
                     (s = check_vector(saved_var, "variance", x, c)) != CNN_OK))
        return s;
    cnn_batchnorm_plan plan;
    if ((s = cnn_batchnorm_plan_forward(&plan, x, gamma, beta, running_mean, running_var,
                                        training, momentum, eps)) != CNN_OK)
        return s;
    return cnn_batchnorm_run_forward(&plan, x, gamma, beta, running_mean, running_var, y,
                                     saved_mean, saved_var);
}

cnn_status cnn_batchnorm_backward(const cnn_tensor *gy, const cnn_tensor *x,
                                  const cnn_tensor *gamma, const cnn_tensor *saved_mean,
                                  const cnn_tensor *saved_var, float eps, cnn_tensor *gx,
                                  cnn_tensor *ggamma, cnn_tensor *gbeta)
{
    int64_t c;
    cnn_status s;
    if ((s = cnn_batchnorm_check(x, gamma, NULL, saved_mean, saved_var)) != CNN_OK ||
        (s = cnn_batchnorm_channels(x, &c)) != CNN_OK ||
        (s = cnn_check_operand(gy, "gradient", 0, NULL)) != CNN_OK ||
        (s = cnn_check_operand(gx, "input gradient", 0, NULL)) != CNN_OK ||
        (s = check_vector(ggamma, "gamma gradient", x, c)) != CNN_OK ||
        (s = check_vector(gbeta, "beta gradient", x, c)) != CNN_OK)
        return s;
    if (!gamma || !saved_mean || !saved_var || !ggamma || !gbeta)
        return cnn_fail(CNN_ERR_ARG, "every operand is needed");
    if (!cnn_tensor_same_size(gx, x)) {
        char gs[128], xs[128];
        return cnn_fail(CNN_ERR_SHAPE, "gradient is %s, input is %s",
                        cnn_shape_string(gx, gs, sizeof gs),
                        cnn_shape_string(x, xs, sizeof xs));
    }
    cnn_batchnorm_plan plan;
    if ((s = cnn_batchnorm_plan_backward(&plan, gy, x, gamma, saved_mean, saved_var,
                                         eps)) != CNN_OK)
        return s;
    return cnn_batchnorm_run_backward(&plan, gy, x, gamma, saved_mean, saved_var, gx,
                                      ggamma, gbeta);
}

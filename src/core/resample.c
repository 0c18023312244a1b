#include "resample.h"

#include <string.h>

#include "context.h"
#include "exec.h"
#include "operand.h"
#include "primitive_desc.h"

static const char *kind_name(cnn_resample_kind kind)
{
    return kind == CNN_RESAMPLE_NEAREST ? "nearest" : "bilinear";
}

cnn_status cnn_resample_output_size(const cnn_resample_params *p, int x_ndims,
                                    const int64_t *x, int64_t y[4])
{
    char xs[128];
    cnn_sizes_string(x, x_ndims, xs, sizeof xs);
    if (p->kind != CNN_RESAMPLE_NEAREST && p->kind != CNN_RESAMPLE_BILINEAR)
        return cnn_fail(CNN_ERR_ARG, "unknown resampling kind %d", (int)p->kind);
    if (x_ndims != 4)
        return cnn_fail(CNN_ERR_SHAPE, "input must be 4-D (W×H×C×N), got %s", xs);
    if (p->out[0] < 1 || p->out[1] < 1)
        return cnn_fail(CNN_ERR_ARG, "output sizes must be positive, got %lld×%lld",
                        (long long)p->out[0], (long long)p->out[1]);
    if (p->kind == CNN_RESAMPLE_NEAREST)
        for (int d = 0; d < 2; d++)
            if (x[d] == 0 || p->out[d] % x[d])
                return cnn_fail(CNN_ERR_SHAPE,
                                "nearest resampling needs output sizes that are whole "
                                "multiples of the input's: %lld×%lld from %s",
                                (long long)p->out[0], (long long)p->out[1], xs);
    y[0] = p->out[0];
    y[1] = p->out[1];
    y[2] = x[2];
    y[3] = x[3];
    return CNN_OK;
}

typedef struct resample_key {
    int64_t op; /* 'F' forward, 'B' backward */
    int64_t kind;
    int64_t x[4], y[4];
} resample_key;

static void plain(const int64_t *sizes, dnnl_memory_desc_t *md)
{
    int64_t dims[4] = {sizes[3], sizes[2], sizes[1], sizes[0]};
    cnn_md_plain(md, 4, dims);
}

static dnnl_alg_kind_t algorithm(cnn_resample_kind kind)
{
    return kind == CNN_RESAMPLE_NEAREST ? dnnl_resampling_nearest
                                        : dnnl_resampling_linear;
}

static cnn_status forward_pd(const cnn_resample_params *p, const int64_t *x,
                             const int64_t *y, dnnl_primitive_desc_t *pd)
{
    dnnl_memory_desc_t src, dst;
    plain(x, &src);
    plain(y, &dst);
    dnnl_resampling_desc_t d;
    CNN_DNNL_TRY("resample",
                 dnnl_resampling_forward_desc_init(&d, dnnl_forward_training,
                                                   algorithm(p->kind), NULL, &src, &dst));
    return cnn_pd_create(&d, 0, NULL, "resample", pd);
}

static cnn_status get_primitive(int op, const cnn_resample_params *p, const int64_t *x,
                                const int64_t *y, cnn_primitive **prim)
{
    resample_key key;
    memset(&key, 0, sizeof key);
    key.op = op;
    key.kind = p->kind;
    memcpy(key.x, x, sizeof key.x);
    memcpy(key.y, y, sizeof key.y);
    if ((*prim = cnn_primitive_find(&key, sizeof key)))
        return CNN_OK;
    const char *name = op == 'F' ? "resample" : "resample_backward";
    dnnl_primitive_desc_t pd, hint;
    cnn_status s = forward_pd(p, x, y, op == 'F' ? &pd : &hint);
    if (s != CNN_OK)
        return s;
    if (op == 'B') {
        dnnl_memory_desc_t src, dst;
        plain(x, &src);
        plain(y, &dst);
        dnnl_resampling_desc_t d;
        dnnl_status_t st =
            dnnl_resampling_backward_desc_init(&d, algorithm(p->kind), NULL, &src, &dst);
        s = st == dnnl_success
                ? cnn_pd_create(&d, 0, hint, name, &pd)
                : cnn_fail(CNN_ERR_DNNL, "%s: describing the resampling: %s", name,
                           cnn_dnnl_status_string(st));
        dnnl_primitive_desc_destroy(hint);
        if (s != CNN_OK)
            return s;
    }
    return cnn_primitive_add(&key, sizeof key, pd, name, prim);
}

static bool any_empty(const int64_t *x, const int64_t *y)
{
    for (int d = 0; d < 4; d++)
        if (!x[d] || !y[d])
            return true;
    return false;
}

static cnn_status plan_op(cnn_resample_plan *plan, int op, const cnn_resample_params *p,
                          const int64_t *x, const int64_t *y)
{
    memset(plan, 0, sizeof *plan);
    plan->params = *p;
    memcpy(plan->x, x, sizeof plan->x);
    memcpy(plan->y, y, sizeof plan->y);
    plan->out.ndims = 4;
    memcpy(plan->out.size, op == 'F' ? y : x, sizeof plan->x);
    if (any_empty(x, y))
        return CNN_OK;
    return get_primitive(op, p, x, y, &plan->primitive);
}

cnn_status cnn_resample_plan_forward(cnn_resample_plan *plan,
                                     const cnn_resample_params *p, const cnn_tensor *x)
{
    int64_t y[4];
    cnn_status s;
    if ((s = cnn_check_operand(x, "input", 0, NULL)) != CNN_OK ||
        (s = cnn_resample_output_size(p, x->ndims, x->size, y)) != CNN_OK)
        return s;
    return plan_op(plan, 'F', p, x->size, y);
}

cnn_status cnn_resample_run_forward(const cnn_resample_plan *plan, const cnn_tensor *x,
                                    cnn_tensor *y)
{
    if (!plan->primitive) {
        cnn_zero_outputs(y, NULL, NULL);
        return CNN_OK;
    }
    cnn_exec e;
    cnn_exec_begin(&e, plan->primitive, "resample");
    cnn_exec_plain_input(&e, DNNL_ARG_SRC, x);
    cnn_exec_plain_output(&e, DNNL_ARG_DST, y);
    return cnn_exec_finish(&e);
}

cnn_status cnn_resample_plan_backward(cnn_resample_plan *plan,
                                      const cnn_resample_params *p, const cnn_tensor *gy,
                                      int x_ndims, const int64_t *x)
{
    int64_t y[4];
    cnn_status s;
    if ((s = cnn_check_operand(gy, "gradient", 0, NULL)) != CNN_OK ||
        (s = cnn_resample_output_size(p, x_ndims, x, y)) != CNN_OK)
        return s;
    if (gy->ndims != 4 || memcmp(gy->size, y, sizeof y)) {
        char gs[128], xs[128], ys[128];
        return cnn_fail(CNN_ERR_SHAPE, "gradient is %s, %s resampling of %s gives %s",
                        cnn_shape_string(gy, gs, sizeof gs), kind_name(p->kind),
                        cnn_sizes_string(x, 4, xs, sizeof xs),
                        cnn_sizes_string(y, 4, ys, sizeof ys));
    }
    return plan_op(plan, 'B', p, x, y);
}

cnn_status cnn_resample_run_backward(const cnn_resample_plan *plan, const cnn_tensor *gy,
                                     cnn_tensor *gx)
{
    if (!plan->primitive) {
        cnn_zero_outputs(gx, NULL, NULL);
        return CNN_OK;
    }
    cnn_exec e;
    cnn_exec_begin(&e, plan->primitive, "resample_backward");
    cnn_exec_plain_input(&e, DNNL_ARG_DIFF_DST, gy);
    cnn_exec_plain_output(&e, DNNL_ARG_DIFF_SRC, gx);
    return cnn_exec_finish(&e);
}

static cnn_status check_result(const cnn_tensor *t, const cnn_plan_output *out,
                               const char *what)
{
    cnn_status s = cnn_check_operand(t, what, 0, NULL);
    if (s != CNN_OK)
        return s;
    if (t->ndims != 4 || memcmp(t->size, out->size, 4 * sizeof *t->size)) {
        char ts[128], want[128];
        return cnn_fail(CNN_ERR_SHAPE, "%s is %s, expected %s", what,
                        cnn_shape_string(t, ts, sizeof ts),
                        cnn_sizes_string(out->size, 4, want, sizeof want));
    }
    return CNN_OK;
}

cnn_status cnn_resample_forward(const cnn_resample_params *p, const cnn_tensor *x,
                                cnn_tensor *y)
{
    cnn_resample_plan plan;
    cnn_status s;
    if ((s = cnn_resample_plan_forward(&plan, p, x)) != CNN_OK ||
        (s = check_result(y, &plan.out, "output")) != CNN_OK)
        return s;
    return cnn_resample_run_forward(&plan, x, y);
}

cnn_status cnn_resample_backward(const cnn_resample_params *p, const cnn_tensor *gy,
                                 cnn_tensor *gx)
{
    cnn_resample_plan plan;
    cnn_status s;
    if ((s = cnn_check_operand(gx, "input gradient", 0, NULL)) != CNN_OK ||
        (s = cnn_resample_plan_backward(&plan, p, gy, gx->ndims, gx->size)) != CNN_OK ||
        (s = check_result(gx, &plan.out, "input gradient")) != CNN_OK)
        return s;
    return cnn_resample_run_backward(&plan, gy, gx);
}

#include "pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "exec.h"
#include "operand.h"
#include "primitive_desc.h"
#include "window.h"
#include "pool_max.h"

void cnn_pool_workspace_free(cnn_pool_workspace *ws)
{
    cnn_storage block = {ws->data, ws->bytes};
    cnn_storage_free(&block);
    ws->data = NULL;
    ws->bytes = 0;
}

cnn_pool2d_params cnn_pool2d_default_params(cnn_pool_kind kind, int64_t w, int64_t h)
{
    cnn_pool2d_params p;
    memset(&p, 0, sizeof p);
    p.kind = kind;
    p.window[0] = p.stride[0] = w;
    p.window[1] = p.stride[1] = h;
    return p;
}

static cnn_window window_of(const cnn_pool2d_params *p)
{
    cnn_window win;
    memcpy(win.kernel, p->window, sizeof win.kernel);
    memcpy(win.stride, p->stride, sizeof win.stride);
    memcpy(win.pad, p->pad, sizeof win.pad);
    win.dilation[0] = win.dilation[1] = 1;
    return win;
}

cnn_status cnn_pool2d_output_size(const cnn_pool2d_params *p, int x_ndims,
                                  const int64_t *x, int64_t y[4])
{
    char xs[128];
    cnn_sizes_string(x, x_ndims, xs, sizeof xs);
    if (p->kind != CNN_POOL_MAX && p->kind != CNN_POOL_MEAN)
        return cnn_fail(CNN_ERR_ARG, "unknown pooling kind %d", (int)p->kind);
    if (x_ndims != 4)
        return cnn_fail(CNN_ERR_SHAPE, "input must be 4-D (W×H×C×N), got %s", xs);
    cnn_window win = window_of(p);
    cnn_status s = cnn_window_output(&win, x, y);
    if (s != CNN_OK) {
        char why[256];
        snprintf(why, sizeof why, "%s", cnn_error_message());
        return cnn_fail(s, "%s (input %s)", why, xs);
    }
    /* a window wholly inside the padding would have no maximum */
    for (int i = 0; i < 4; i++)
        if (p->pad[i] >= p->window[i / 2])
            return cnn_fail(
                CNN_ERR_ARG,
                "padding %lld,%lld,%lld,%lld must be smaller than the window %lld×%lld",
                (long long)p->pad[0], (long long)p->pad[1], (long long)p->pad[2],
                (long long)p->pad[3], (long long)p->window[0], (long long)p->window[1]);
    y[2] = x[2];
    y[3] = x[3];
    return CNN_OK;
}

static const char *params_string(const cnn_pool2d_params *p, const int64_t *x, char *buf,
                                 size_t len)
{
    char xs[128];
    snprintf(
        buf, len,
        "%s pooling of %s, window %lld×%lld, stride %lld×%lld, pad %lld,%lld,%lld,%lld",
        p->kind == CNN_POOL_MAX ? "max" : "mean", cnn_sizes_string(x, 4, xs, sizeof xs),
        (long long)p->window[0], (long long)p->window[1], (long long)p->stride[0],
        (long long)p->stride[1], (long long)p->pad[0], (long long)p->pad[1],
        (long long)p->pad[2], (long long)p->pad[3]);
    return buf;
}

static int same_call(const cnn_pool2d_params *a, const int64_t *ax,
                     const cnn_pool2d_params *b, const int64_t *bx)
{
    return a->kind == b->kind && !memcmp(a->window, b->window, sizeof a->window) &&
           !memcmp(a->stride, b->stride, sizeof a->stride) &&
           !memcmp(a->pad, b->pad, sizeof a->pad) && !memcmp(ax, bx, 4 * sizeof *ax);
}

static cnn_status check_workspace(const cnn_pool2d_params *p, const int64_t *x,
                                  const cnn_pool_workspace *ws)
{
    if (p->kind != CNN_POOL_MAX)
        return CNN_OK;
    if (!ws || !ws->data)
        return cnn_fail(CNN_ERR_ARG, "max pooling needs the workspace of its forward");
    if (!same_call(p, x, &ws->params, ws->x)) {
        char want[300], have[300];
        return cnn_fail(CNN_ERR_ARG, "workspace is from a %s, not a %s",
                        params_string(&ws->params, ws->x, have, sizeof have),
                        params_string(p, x, want, sizeof want));
    }
    return CNN_OK;
}

cnn_status cnn_pool2d_check_backward(const cnn_pool2d_params *p, const cnn_tensor *gy,
                                     int x_ndims, const int64_t *x,
                                     const cnn_pool_workspace *ws)
{
    int64_t y[4];
    cnn_status s;
    if ((s = cnn_check_operand(gy, "gradient", 0, NULL)) != CNN_OK ||
        (s = cnn_pool2d_output_size(p, x_ndims, x, y)) != CNN_OK)
        return s;
    if (gy->ndims != 4 || memcmp(gy->size, y, sizeof y)) {
        char gs[128], ys[128], xs[128];
        return cnn_fail(CNN_ERR_SHAPE, "gradient is %s, output of input %s is %s",
                        cnn_shape_string(gy, gs, sizeof gs),
                        cnn_sizes_string(x, 4, xs, sizeof xs),
                        cnn_sizes_string(y, 4, ys, sizeof ys));
    }
    return check_workspace(p, x, ws);
}

/* The key holds the input's layout too: a blocked input gives a blocked
 * output and workspace. */
typedef struct pool_key {
    int64_t op; /* 'F' training forward, 'I' inference forward, 'B' backward */
    int64_t kind, exclude_padding;
    int64_t x[4], window[2], stride[2], pad[4];
    dnnl_memory_desc_t src;
} pool_key;

static pool_key make_key(int op, const cnn_pool2d_params *p, const int64_t *x,
                         const dnnl_memory_desc_t *src)
{
    pool_key k;
    memset(&k, 0, sizeof k);
    k.op = op;
    k.kind = p->kind;
    k.exclude_padding = p->kind == CNN_POOL_MEAN && p->exclude_padding;
    memcpy(k.x, x, sizeof k.x);
    memcpy(k.window, p->window, sizeof k.window);
    memcpy(k.stride, p->stride, sizeof k.stride);
    memcpy(k.pad, p->pad, sizeof k.pad);
    memcpy(&k.src, src, sizeof k.src);
    return k;
}

typedef struct pool_geometry {
    dnnl_memory_desc_t src, dst;
    dnnl_dims_t strides, kernel, dilates, pad_l, pad_r;
    dnnl_alg_kind_t alg;
} pool_geometry;

/* The output's layout is `any`: pooling then keeps the input's. */
static void geometry(const cnn_pool2d_params *p, const int64_t *x,
                     const dnnl_memory_desc_t *src, pool_geometry *g)
{
    cnn_window win = window_of(p);
    int64_t out[2];
    cnn_window_output(&win, x, out);
    int64_t dst[4] = {x[3], x[2], out[1], out[0]};
    g->src = *src;
    cnn_md_any(&g->dst, 4, dst);
    cnn_window_dnnl(&win, g->strides, g->kernel, g->dilates, g->pad_l, g->pad_r);
    g->alg = p->kind == CNN_POOL_MAX ? dnnl_pooling_max
             : p->exclude_padding    ? dnnl_pooling_avg_exclude_padding
                                     : dnnl_pooling_avg_include_padding;
}

static void plain_src(const int64_t *x, dnnl_memory_desc_t *md)
{
    int64_t src[4] = {x[3], x[2], x[1], x[0]};
    cnn_md_plain(md, 4, src);
}

static cnn_status forward_primitive(const cnn_pool2d_params *p, const int64_t *x,
                                    const dnnl_memory_desc_t *src, cnn_primitive **out)
{
    pool_key key = make_key(p->inference ? 'I' : 'F', p, x, src);
    if ((*out = cnn_primitive_find(&key, sizeof key)))
        return CNN_OK;
    pool_geometry g;
    geometry(p, x, src, &g);
    dnnl_pooling_v2_desc_t d;
    dnnl_prop_kind_t prop = p->inference ? dnnl_forward_inference : dnnl_forward_training;
    CNN_DNNL_TRY("pool2d", dnnl_pooling_v2_forward_desc_init(
                               &d, prop, g.alg, &g.src, &g.dst, g.strides, g.kernel,
                               g.dilates, g.pad_l, g.pad_r));
    dnnl_primitive_desc_t pd;
    cnn_status s = cnn_pd_create(&d, 0, NULL, "pool2d", &pd);
    return s != CNN_OK ? s : cnn_primitive_add(&key, sizeof key, pd, "pool2d", out);
}

/* The backward takes the gradient in the forward output's layout and gives
 * the input gradient in the forward input's, with the cached forward as
 * its hint. */
static cnn_status backward_primitive(const cnn_pool2d_params *p, const int64_t *x,
                                     const dnnl_memory_desc_t *src, cnn_primitive **out)
{
    pool_key key = make_key('B', p, x, src);
    if ((*out = cnn_primitive_find(&key, sizeof key)))
        return CNN_OK;
    cnn_pool2d_params training = *p;
    training.inference = false;
    cnn_primitive *forward;
    cnn_status s = forward_primitive(&training, x, src, &forward);
    if (s != CNN_OK)
        return s;
    pool_geometry g;
    geometry(p, x, src, &g);
    g.dst = *cnn_exec_arg_md(forward, DNNL_ARG_DST);
    dnnl_pooling_v2_desc_t d;
    CNN_DNNL_TRY("pool2d_backward", dnnl_pooling_v2_backward_desc_init(
                                        &d, g.alg, &g.src, &g.dst, g.strides, g.kernel,
                                        g.dilates, g.pad_l, g.pad_r));
    dnnl_primitive_desc_t pd;
    s = cnn_pd_create(&d, 0, forward->pd, "pool2d_backward", &pd);
    return s != CNN_OK ? s
                       : cnn_primitive_add(&key, sizeof key, pd, "pool2d_backward", out);
}

static cnn_status prepare_workspace(size_t bytes, const cnn_pool2d_params *p,
                                    const int64_t *x, const dnnl_memory_desc_t *src,
                                    const dnnl_memory_desc_t *dst, cnn_pool_workspace *ws)
{
    cnn_pool_workspace_free(ws);
    cnn_storage block;
    if (cnn_storage_alloc_uninit(&block, bytes) != CNN_OK)
        return cnn_fail(CNN_ERR_NOMEM, "pool2d: out of memory for the workspace");
    ws->data = block.data;
    ws->bytes = bytes;
    ws->params = *p;
    memcpy(ws->x, x, sizeof ws->x);
    ws->src = *src;
    ws->dst = *dst;
    return CNN_OK;
}

/* The layout of the input gradient of a backward: the forward input's,
 * kept in the workspace of max pooling; mean pooling, which keeps no
 * workspace, gives it in the layout of the output gradient gy (the
 * forward's output has its input's layout), so that a blocked gradient
 * stays blocked. */
static void backward_src(const cnn_pool2d_params *p, const int64_t *x,
                         const cnn_pool_workspace *ws, const cnn_tensor *gy,
                         dnnl_memory_desc_t *md)
{
    int64_t src[4] = {x[3], x[2], x[1], x[0]};
    if (p->kind == CNN_POOL_MAX && ws)
        *md = ws->src;
    else if (p->kind == CNN_POOL_MEAN && gy->blocked)
        cnn_md_like(md, &gy->layout, src);
    else
        plain_src(x, md);
}

static bool any_empty(const int64_t *x, const int64_t *y)
{
    for (int d = 0; d < 4; d++)
        if (!x[d] || !y[d])
            return true;
    return false;
}

static cnn_status max_forward(const cnn_pool2d_params *p, const cnn_tensor *x,
                              cnn_tensor *y, cnn_pool_workspace *ws)
{
    dnnl_memory_desc_t xmd, ymd;
    cnn_md_of_layout(&xmd, x);
    cnn_md_of_layout(&ymd, y);
    cnn_status s = cnn_max_pool_check_layouts(&xmd, &ymd, "pool2d");
    if (s != CNN_OK)
        return s;
    if (ws) {
        size_t bytes =
            (size_t)cnn_max_pool_buffer_elements(&ymd) * cnn_max_pool_index_size(p);
        if ((s = prepare_workspace(bytes, p, x->size, &xmd, &ymd, ws)) != CNN_OK)
            return s;
    }
    double start = cnn_kernel_start();
    s = cnn_max_pool_run_forward(p, &xmd, cnn_tensor_f32(x), &ymd, cnn_tensor_f32(y),
                                 ws ? ws->data : NULL);
    cnn_kernel_done(CNN_PROFILE_POOL_FORWARD, start);
    return s;
}

/* Whether the max pooling primitive's workspace is the one the core's
 * kernels write and read: per element of the output's buffer, in its
 * layout, the position of the maximum in the window as an index of the
 * kernels' width (u8 or s32). oneDNN 2.6's is (kh·KW + kw, u8 below 256
 * positions); a layout or type of another kind keeps the kernels. */
static bool workspace_is_kernels(const cnn_primitive *prim, const cnn_pool2d_params *p)
{
    const dnnl_memory_desc_t *ws = cnn_exec_arg_md(prim, DNNL_ARG_WORKSPACE);
    if (!ws || ws->ndims != 4)
        return false;
    const dnnl_memory_desc_t *src = cnn_exec_arg_md(prim, DNNL_ARG_SRC);
    const dnnl_memory_desc_t *dst = cnn_exec_arg_md(prim, DNNL_ARG_DST);
    dnnl_memory_desc_t as_dst = *dst;
    as_dst.data_type = cnn_max_pool_index_size(p) == 1 ? dnnl_u8 : dnnl_s32;
    return dnnl_memory_desc_equal(&as_dst, ws) &&
           cnn_max_pool_check_layouts(src, dst, "pool2d") == CNN_OK;
}

/* Whether oneDNN runs the primitive with generated code: for plain
 * layouts it may have only a reference loop, slower than the core's. */
static bool is_jit(const cnn_primitive *prim)
{
    const char *impl = NULL;
    return dnnl_primitive_desc_query(prim->pd, dnnl_query_impl_info_str, 0, &impl) ==
               dnnl_success &&
           impl && !strncmp(impl, "jit", 3);
}

/* Whether a max pooling forward runs oneDNN's primitive (in bf16
 * precision, when it is generated code and the backward can read its
 * workspace) rather than the core's NaN-keeping kernel. */
static bool max_by_primitive(const cnn_primitive *prim, const cnn_pool2d_params *p)
{
    return p->kind == CNN_POOL_MAX && cnn_get_precision() == CNN_PRECISION_BF16 &&
           is_jit(prim) && (p->inference || workspace_is_kernels(prim, p));
}

/* oneDNN's pooling forward: mean pooling, and max pooling in bf16
 * precision, whose training forward writes the workspace into ws. */
static cnn_status primitive_forward(const cnn_primitive *prim, const cnn_pool2d_params *p,
                                    const cnn_tensor *x, cnn_tensor *y,
                                    cnn_pool_workspace *ws)
{
    if (ws) {
        dnnl_memory_desc_t src;
        cnn_md_of_layout(&src, x);
        const dnnl_memory_desc_t *dst = cnn_exec_arg_md(prim, DNNL_ARG_DST);
        size_t bytes =
            dnnl_memory_desc_get_size(cnn_exec_arg_md(prim, DNNL_ARG_WORKSPACE));
        cnn_status s = prepare_workspace(bytes, p, x->size, &src, dst, ws);
        if (s != CNN_OK)
            return s;
    }
    cnn_exec e;
    cnn_exec_begin(&e, prim, "pool2d");
    cnn_exec_plain_input(&e, DNNL_ARG_SRC, x);
    cnn_exec_plain_output(&e, DNNL_ARG_DST, y);
    if (ws)
        cnn_exec_buffer(&e, DNNL_ARG_WORKSPACE, ws->data);
    return cnn_exec_finish(&e);
}

static void plan_begin(cnn_pool2d_plan *plan, const cnn_pool2d_params *p,
                       const int64_t *x, const int64_t *out)
{
    memset(plan, 0, sizeof *plan);
    plan->params = *p;
    memcpy(plan->x, x, sizeof plan->x);
    plan->out.ndims = 4;
    memcpy(plan->out.size, out, 4 * sizeof *out);
}

cnn_status cnn_pool2d_plan_forward(cnn_pool2d_plan *plan, const cnn_pool2d_params *p,
                                   const cnn_tensor *x)
{
    int64_t y[4];
    cnn_status s;
    if ((s = cnn_check_operand(x, "input", 0, NULL)) != CNN_OK ||
        (s = cnn_pool2d_output_size(p, x->ndims, x->size, y)) != CNN_OK)
        return s;
    plan_begin(plan, p, x->size, y);
    if (any_empty(x->size, y))
        return CNN_OK;
    /* max pooling runs the core's kernels (outside bf16 precision), in
     * the layout oneDNN's would */
    dnnl_memory_desc_t src;
    cnn_md_of_layout(&src, x);
    cnn_primitive *prim;
    if ((s = forward_primitive(p, x->size, &src, &prim)) != CNN_OK)
        return s;
    plan->out.blocked = true;
    plan->out.layout = *cnn_exec_arg_md(prim, DNNL_ARG_DST);
    if (p->kind == CNN_POOL_MEAN || max_by_primitive(prim, p))
        plan->primitive = prim;
    return CNN_OK;
}

cnn_status cnn_pool2d_run_forward(const cnn_pool2d_plan *plan, const cnn_tensor *x,
                                  cnn_tensor *y, cnn_pool_workspace *ws)
{
    const cnn_pool2d_params *p = &plan->params;
    bool keeps_workspace = p->kind == CNN_POOL_MAX && !p->inference;
    if (keeps_workspace && !ws)
        return cnn_fail(CNN_ERR_ARG, "max pooling needs a workspace");
    if (!cnn_tensor_numel(y)) {
        dnnl_memory_desc_t src;
        plain_src(x->size, &src);
        return keeps_workspace ? prepare_workspace(0, p, x->size, &src, &src, ws)
                               : CNN_OK;
    }
    if (!plan->primitive)
        return max_forward(p, x, y, keeps_workspace ? ws : NULL);
    return primitive_forward(plan->primitive, p, x, y, keeps_workspace ? ws : NULL);
}

cnn_status cnn_pool2d_forward(const cnn_pool2d_params *p, const cnn_tensor *x,
                              cnn_tensor *y, cnn_pool_workspace *ws)
{
    cnn_status s;
    cnn_pool2d_plan plan;
    if ((s = cnn_check_operand(x, "input", 0, NULL)) != CNN_OK ||
        (s = cnn_check_operand(y, "output", 0, NULL)) != CNN_OK ||
        (s = cnn_pool2d_plan_forward(&plan, p, x)) != CNN_OK)
        return s;
    if (y->ndims != 4 || memcmp(y->size, plan.out.size, 4 * sizeof *y->size))
        return cnn_fail(CNN_ERR_SHAPE, "output has the wrong size");
    return cnn_pool2d_run_forward(&plan, x, y, ws);
}

/* The gradient in the forward output's layout: gy itself, or a copy of it
 * in a buffer that *copy owns. */
static cnn_status gradient_in_layout(const cnn_tensor *gy, const dnnl_memory_desc_t *md,
                                     cnn_storage *copy, const float **data)
{
    dnnl_memory_desc_t have;
    cnn_md_of_layout(&have, gy);
    copy->data = NULL;
    if (dnnl_memory_desc_equal(&have, md)) {
        *data = cnn_tensor_f32(gy);
        return CNN_OK;
    }
    if (cnn_storage_alloc_uninit(copy, dnnl_memory_desc_get_size(md)) != CNN_OK)
        return cnn_fail(CNN_ERR_NOMEM, "pool2d_backward: out of memory for the gradient");
    *data = copy->data;
    return cnn_tensor_reorder(gy, md, copy->data, "pool2d_backward");
}

static cnn_status max_backward(const cnn_pool2d_params *p, const cnn_tensor *gy,
                               const cnn_pool_workspace *ws, cnn_tensor *gx)
{
    dnnl_memory_desc_t xmd;
    cnn_md_of_layout(&xmd, gx);
    cnn_status s = cnn_max_pool_check_layouts(&xmd, &ws->dst, "pool2d_backward");
    if (s != CNN_OK)
        return s;
    cnn_storage copy;
    const float *g = NULL;
    if ((s = gradient_in_layout(gy, &ws->dst, &copy, &g)) == CNN_OK) {
        double start = cnn_kernel_start();
        cnn_max_pool_run_backward(p, &ws->dst, g, ws->data, &xmd, cnn_tensor_f32(gx));
        cnn_kernel_done(CNN_PROFILE_POOL_BACKWARD, start);
    }
    if (copy.data)
        cnn_storage_free(&copy);
    return s;
}

static cnn_status mean_backward(const cnn_primitive *prim, const cnn_tensor *gy,
                                cnn_tensor *gx)
{
    cnn_exec e;
    cnn_exec_begin(&e, prim, "pool2d_backward");
    cnn_exec_plain_input(&e, DNNL_ARG_DIFF_DST, gy);
    cnn_exec_plain_output(&e, DNNL_ARG_DIFF_SRC, gx);
    return cnn_exec_finish(&e);
}

cnn_status cnn_pool2d_plan_backward(cnn_pool2d_plan *plan, const cnn_pool2d_params *p,
                                    const cnn_tensor *gy, int x_ndims, const int64_t *x,
                                    const cnn_pool_workspace *ws)
{
    cnn_status s = cnn_pool2d_check_backward(p, gy, x_ndims, x, ws);
    if (s != CNN_OK)
        return s;
    plan_begin(plan, p, x, x);
    if (any_empty(x, gy->size))
        return CNN_OK;
    plan->out.blocked = true;
    backward_src(p, x, ws, gy, &plan->out.layout);
    if (p->kind == CNN_POOL_MAX)
        return CNN_OK;
    return backward_primitive(p, x, &plan->out.layout, &plan->primitive);
}

cnn_status cnn_pool2d_run_backward(const cnn_pool2d_plan *plan, const cnn_tensor *gy,
                                   const cnn_pool_workspace *ws, cnn_tensor *gx)
{
    if (!cnn_tensor_numel(gy)) {
        cnn_zero_outputs(gx, NULL, NULL);
        return CNN_OK;
    }
    if (plan->params.kind == CNN_POOL_MAX)
        return max_backward(&plan->params, gy, ws, gx);
    return mean_backward(plan->primitive, gy, gx);
}

cnn_status cnn_pool2d_backward(const cnn_pool2d_params *p, const cnn_tensor *gy,
                               const cnn_pool_workspace *ws, cnn_tensor *gx)
{
    cnn_status s;
    cnn_pool2d_plan plan;
    if ((s = cnn_check_operand(gx, "input gradient", 0, NULL)) != CNN_OK ||
        (s = cnn_pool2d_plan_backward(&plan, p, gy, gx->ndims, gx->size, ws)) != CNN_OK)
        return s;
    return cnn_pool2d_run_backward(&plan, gy, ws, gx);
}

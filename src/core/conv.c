#include "conv.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "context.h"
#include "exec.h"
#include "operand.h"
#include "primitive_desc.h"
#include "window.h"

cnn_conv2d_params cnn_conv2d_default_params(void)
{
    cnn_conv2d_params p;
    memset(&p, 0, sizeof p);
    p.stride[0] = p.stride[1] = 1;
    p.dilation[0] = p.dilation[1] = 1;
    p.groups = 1;
    return p;
}

static cnn_window window_of(const cnn_conv2d_params *p, const int64_t *w)
{
    cnn_window win;
    memcpy(win.stride, p->stride, sizeof win.stride);
    memcpy(win.pad, p->pad, sizeof win.pad);
    memcpy(win.dilation, p->dilation, sizeof win.dilation);
    win.kernel[0] = w[0];
    win.kernel[1] = w[1];
    return win;
}

/* The channel rules: with g groups, Cin and Cout divisible by g and the
 * weight's third size Cin/g (Cin itself for one group). */
static cnn_status check_groups(int64_t g, const int64_t *x, const char *xs,
                               const int64_t *w, const char *ws)
{
    if (g < 1)
        return cnn_fail(CNN_ERR_ARG, "groups must be at least 1, got %lld", (long long)g);
    if (g == 1 && x[2] != w[2])
        return cnn_fail(CNN_ERR_SHAPE,
                        "input has %lld channels (%s), weight expects %lld (%s)",
                        (long long)x[2], xs, (long long)w[2], ws);
    if (x[2] % g)
        return cnn_fail(CNN_ERR_SHAPE,
                        "input has %lld channels (%s), not divisible by %lld groups",
                        (long long)x[2], xs, (long long)g);
    if (x[2] / g != w[2])
        return cnn_fail(CNN_ERR_SHAPE,
                        "input has %lld channels (%s) in %lld groups of %lld, weight "
                        "expects %lld per group (%s)",
                        (long long)x[2], xs, (long long)g, (long long)(x[2] / g),
                        (long long)w[2], ws);
    if (w[3] % g)
        return cnn_fail(CNN_ERR_SHAPE,
                        "weight has %lld output channels (%s), not divisible by %lld "
                        "groups",
                        (long long)w[3], ws, (long long)g);
    return CNN_OK;
}

cnn_status cnn_conv2d_output_size(const cnn_conv2d_params *p, int x_ndims,
                                  const int64_t *x, int w_ndims, const int64_t *w,
                                  int64_t y[4])
{
    char xs[128], ws[128];
    cnn_sizes_string(x, x_ndims, xs, sizeof xs);
    cnn_sizes_string(w, w_ndims, ws, sizeof ws);
    if (x_ndims != 4)
        return cnn_fail(CNN_ERR_SHAPE, "input must be 4-D (W×H×C×N), got %s", xs);
    if (w_ndims != 4)
        return cnn_fail(CNN_ERR_SHAPE, "weight must be 4-D (kW×kH×Cin×Cout), got %s", ws);
    if (x[2] < 1)
        return cnn_fail(CNN_ERR_SHAPE, "input has no channels (%s)", xs);
    cnn_status s = check_groups(p->groups, x, xs, w, ws);
    if (s != CNN_OK)
        return s;
    cnn_window win = window_of(p, w);
    s = cnn_window_output(&win, x, y);
    if (s != CNN_OK) {
        char why[256];
        snprintf(why, sizeof why, "%s", cnn_error_message());
        return cnn_fail(s, "%s (input %s, weight %s)", why, xs, ws);
    }
    y[2] = w[3];
    y[3] = x[3];
    return CNN_OK;
}

cnn_status cnn_conv2d_check_forward(const cnn_conv2d_params *p, const cnn_tensor *x,
                                    const cnn_tensor *w, const cnn_tensor *b,
                                    int64_t y[4])
{
    cnn_status s;
    if ((s = cnn_check_operand(x, "input", 0, NULL)) != CNN_OK ||
        (s = cnn_check_operand(w, "weight", 0, NULL)) != CNN_OK ||
        (b && (s = cnn_check_operand(b, "bias", 0, NULL)) != CNN_OK) ||
        (s = cnn_conv2d_output_size(p, x->ndims, x->size, w->ndims, w->size, y)) !=
            CNN_OK)
        return s;
    if (b && (b->ndims != 1 || b->size[0] != w->size[3])) {
        char bs[128], ws[128];
        return cnn_fail(CNN_ERR_SHAPE, "bias is %s, weight has %lld output channels (%s)",
                        cnn_shape_string(b, bs, sizeof bs), (long long)w->size[3],
                        cnn_shape_string(w, ws, sizeof ws));
    }
    return CNN_OK;
}

cnn_status cnn_conv2d_check_backward_data(const cnn_conv2d_params *p,
                                          const cnn_tensor *gy, const cnn_tensor *w,
                                          int x_ndims, const int64_t *x)
{
    int64_t y[4];
    char from[300], xs[128], ws[128];
    cnn_status s;
    if ((s = cnn_check_operand(gy, "gradient", 0, NULL)) != CNN_OK ||
        (s = cnn_check_operand(w, "weight", 0, NULL)) != CNN_OK ||
        (s = cnn_conv2d_output_size(p, x_ndims, x, w->ndims, w->size, y)) != CNN_OK)
        return s;
    snprintf(from, sizeof from, "of input %s and weight %s",
             cnn_sizes_string(x, x_ndims, xs, sizeof xs),
             cnn_shape_string(w, ws, sizeof ws));
    return cnn_check_gradient4(gy, y, from);
}

cnn_status cnn_conv2d_check_backward_weights(const cnn_conv2d_params *p,
                                             const cnn_tensor *gy, const cnn_tensor *x,
                                             int w_ndims, const int64_t *w)
{
    int64_t y[4];
    char from[300], xs[128], ws[128];
    cnn_status s;
    if ((s = cnn_check_operand(gy, "gradient", 0, NULL)) != CNN_OK ||
        (s = cnn_check_operand(x, "input", 0, NULL)) != CNN_OK ||
        (s = cnn_conv2d_output_size(p, x->ndims, x->size, w_ndims, w, y)) != CNN_OK)
        return s;
    snprintf(from, sizeof from, "of input %s and weight %s",
             cnn_shape_string(x, xs, sizeof xs),
             cnn_sizes_string(w, w_ndims, ws, sizeof ws));
    return cnn_check_gradient4(gy, y, from);
}

/* The cache key: everything a primitive's descriptor depends on, as
 * int64s so the struct has no padding. */
typedef struct conv_key {
    int64_t op; /* 'F' forward, 'D' backward data, 'W' backward weights */
    int64_t x[4], w[4];
    int64_t stride[2], pad[4], dilation[2], groups;
    int64_t fuse, bias, inference; /* fuse: the CNN_FUSE_ kind */
} conv_key;

static conv_key make_key(int op, const cnn_conv2d_params *p, const int64_t *x,
                         const int64_t *w, bool bias, int fuse)
{
    conv_key k;
    memset(&k, 0, sizeof k);
    k.op = op;
    memcpy(k.x, x, sizeof k.x);
    memcpy(k.w, w, sizeof k.w);
    memcpy(k.stride, p->stride, sizeof k.stride);
    memcpy(k.pad, p->pad, sizeof k.pad);
    memcpy(k.dilation, p->dilation, sizeof k.dilation);
    k.groups = p->groups;
    k.fuse = fuse;
    k.inference = op == 'F' && p->inference;
    k.bias = bias;
    return k;
}

/* Descriptors in oneDNN's terms. Layouts are `any`: the convolution picks
 * its fastest (blocked) ones and the exec helper reorders at the edges.
 * 'in' is the element type of the input, the weights and the output
 * gradient (the backward's input); everything else is FP32. */
typedef struct conv_geometry {
    dnnl_memory_desc_t src, wei, bias, dst;
    dnnl_memory_desc_t diff_src, diff_dst; /* FP32; 'in' */
    dnnl_dims_t strides, kernel, dilates, pad_l, pad_r;
} conv_geometry;

static void geometry(const cnn_conv2d_params *p, const int64_t *x, const int64_t *w,
                     dnnl_data_type_t in, conv_geometry *g)
{
    cnn_window win = window_of(p, w);
    int64_t out[2];
    cnn_window_output(&win, x, out);
    int64_t src[4] = {x[3], x[2], x[1], x[0]};
    int64_t wei[5] = {p->groups, w[3] / p->groups, w[2], w[1], w[0]};
    int64_t dst[4] = {x[3], w[3], out[1], out[0]};
    cnn_md_any_of_type(&g->src, 4, src, in);
    /* oihw, or goihw with groups */
    if (p->groups > 1)
        cnn_md_any_of_type(&g->wei, 5, wei, in);
    else
        cnn_md_any_of_type(&g->wei, 4, wei + 1, in);
    cnn_md_any(&g->bias, 1, &w[3]);
    cnn_md_any(&g->dst, 4, dst);
    cnn_md_any(&g->diff_src, 4, src);
    cnn_md_any_of_type(&g->diff_dst, 4, dst, in);
    cnn_window_dnnl(&win, g->strides, g->kernel, g->dilates, g->pad_l, g->pad_r);
}

/* The element type of a direction's inputs. In bf16 precision the forward
 * and the backward data take bf16 (converted by the exec helper's
 * reorders) and accumulate and write FP32, as PyTorch's autocast does.
 * The backward weights stays FP32: measured on the MNIST notebook's
 * convolutions with oneDNN 2.6, its bf16 kernel saves less than the
 * conversion of its input and output gradient costs (for one input
 * channel it is twice as slow), and its FP32 gradient is the more
 * precise one. */
static dnnl_data_type_t input_type(int op)
{
    return op == 'W' ? dnnl_f32 : cnn_precision_input_type(cnn_get_precision());
}

/* Backward primitives take a training forward as hint whatever p says. */
static cnn_status forward_pd(const cnn_conv2d_params *p, const int64_t *x,
                             const int64_t *w, bool bias, bool inference, int fuse,
                             dnnl_data_type_t in, dnnl_primitive_desc_t *pd)
{
    conv_geometry g;
    geometry(p, x, w, in, &g);
    dnnl_convolution_desc_t d;
    CNN_DNNL_TRY("conv2d",
                 dnnl_dilated_convolution_forward_desc_init(
                     &d, inference ? dnnl_forward_inference : dnnl_forward_training,
                     dnnl_convolution_direct, &g.src, &g.wei, bias ? &g.bias : NULL,
                     &g.dst, g.strides, g.dilates, g.pad_l, g.pad_r));
    return cnn_pd_create(&d, fuse, NULL, "conv2d", pd);
}

bool cnn_conv2d_precision_supported(cnn_precision precision)
{
    static int known[2]; /* 0 not asked yet, 1 supported, -1 not */
    if (precision != CNN_PRECISION_FP32 && precision != CNN_PRECISION_BF16)
        return false;
    if (!known[precision]) {
        cnn_conv2d_params p = cnn_conv2d_default_params();
        const int64_t x[4] = {4, 4, 16, 1}, w[4] = {3, 3, 16, 16};
        dnnl_primitive_desc_t pd;
        cnn_status s = forward_pd(&p, x, w, false, false, CNN_FUSE_NONE,
                                  cnn_precision_input_type(precision), &pd);
        if (s == CNN_OK)
            dnnl_primitive_desc_destroy(pd);
        known[precision] = s == CNN_OK ? 1 : -1;
    }
    return known[precision] == 1;
}

static int fused(const cnn_conv2d_params *p)
{
    switch (p->activation) {
    case CNN_CONV_RELU: return CNN_FUSE_RELU;
    case CNN_CONV_TANH: return CNN_FUSE_TANH;
    case CNN_CONV_SIGMOID: return CNN_FUSE_SIGMOID;
    default: return CNN_FUSE_NONE;
    }
}

static cnn_status forward_primitive(const cnn_conv2d_params *p, const int64_t *x,
                                    const int64_t *w, bool bias, int fuse,
                                    cnn_primitive **out)
{
    conv_key key = make_key('F', p, x, w, bias, fuse);
    if ((*out = cnn_primitive_find(&key, sizeof key)))
        return CNN_OK;
    dnnl_primitive_desc_t pd;
    cnn_status s = forward_pd(p, x, w, bias, p->inference, fuse, input_type('F'), &pd);
    return s != CNN_OK ? s : cnn_primitive_add(&key, sizeof key, pd, "conv2d", out);
}

/* Backward descriptors take a forward pd as hint, so they agree with the
 * forward on layouts; the hint itself is only a descriptor, never a
 * primitive. */
static cnn_status backward_primitive(int op, const cnn_conv2d_params *p, const int64_t *x,
                                     const int64_t *w, bool bias, const char *name,
                                     cnn_primitive **out)
{
    conv_key key = make_key(op, p, x, w, bias, fused(p));
    if ((*out = cnn_primitive_find(&key, sizeof key)))
        return CNN_OK;
    conv_geometry g;
    geometry(p, x, w, input_type(op), &g);
    dnnl_convolution_desc_t d;
    dnnl_status_t st =
        op == 'D'
            ? dnnl_dilated_convolution_backward_data_desc_init(
                  &d, dnnl_convolution_direct, &g.diff_src, &g.wei, &g.diff_dst,
                  g.strides, g.dilates, g.pad_l, g.pad_r)
            : dnnl_dilated_convolution_backward_weights_desc_init(
                  &d, dnnl_convolution_direct, &g.src, &g.wei, bias ? &g.bias : NULL,
                  &g.diff_dst, g.strides, g.dilates, g.pad_l, g.pad_r);
    if (st != dnnl_success)
        return cnn_fail(CNN_ERR_DNNL, "%s: describing the convolution: %s", name,
                        cnn_dnnl_status_string(st));
    dnnl_primitive_desc_t hint, pd;
    cnn_status s = forward_pd(p, x, w, bias, false, fused(p), input_type(op), &hint);
    if (s != CNN_OK)
        return s;
    s = cnn_pd_create(&d, 0, hint, name, &pd);
    dnnl_primitive_desc_destroy(hint);
    return s != CNN_OK ? s : cnn_primitive_add(&key, sizeof key, pd, name, out);
}

/* The largest magnitude of a tensor's elements, +inf if one is NaN or
 * infinite. A blocked tensor is read whole, its zero padding included.
 * Without its sign bit a float's bits order as its magnitude does, NaN
 * and inf above every number: an integer maximum, vector code of the
 * CPU's widest kind, serves. */
__attribute__((target_clones("avx512f", "avx2", "default"))) static float
largest_magnitude(const cnn_tensor *t)
{
    const uint32_t *v = cnn_tensor_data(t);
    int64_t n = t->blocked ? (int64_t)(dnnl_memory_desc_get_size(&t->layout) / sizeof *v)
                           : cnn_tensor_numel(t);
    uint32_t m = 0;
#pragma omp parallel for simd if (parallel                                               \
                                  : n > 65536) schedule(static) reduction(max            \
                                                                          : m)
    for (int64_t i = 0; i < n; i++) {
        uint32_t a = v[i] & 0x7fffffffu;
        m = a > m ? a : m;
    }
    if (m >= 0x7f800000u)
        return INFINITY;
    float f;
    memcpy(&f, &m, sizeof f);
    return f;
}

/* Which relu to fuse. The fast one (max(x, 0)) turns NaN into 0, so it
 * serves only when no sum of the convolution can be NaN: when inputs,
 * weights and bias are finite and bound every sum below overflow. Then
 * both give the same result; else the relu that keeps NaN runs. */
static int relu_fusion(const cnn_conv2d_params *p, const cnn_tensor *x,
                       const cnn_tensor *w, const cnn_tensor *b)
{
    if (p->activation != CNN_CONV_RELU)
        return fused(p);
    double fan_in = (double)w->size[0] * (double)w->size[1] * (double)w->size[2];
    double bound = fan_in * largest_magnitude(x) * largest_magnitude(w) +
                   (b ? largest_magnitude(b) : 0.0);
    /* half the range: rounding in the sums cannot reach it */
    return bound < FLT_MAX / 2 ? CNN_FUSE_RELU : CNN_FUSE_RELU_KEEP_NAN;
}

static void plan_begin(cnn_conv2d_plan *plan, const cnn_conv2d_params *p,
                       const int64_t *x, const int64_t *w, bool bias)
{
    memset(plan, 0, sizeof *plan);
    plan->params = *p;
    memcpy(plan->x, x, sizeof plan->x);
    memcpy(plan->w, w, sizeof plan->w);
    plan->bias = bias;
}

cnn_status cnn_conv2d_plan_forward(cnn_conv2d_plan *plan, const cnn_conv2d_params *p,
                                   const cnn_tensor *x, const cnn_tensor *w,
                                   const cnn_tensor *b)
{
    int64_t y[4];
    cnn_status s = cnn_conv2d_check_forward(p, x, w, b, y);
    if (s != CNN_OK)
        return s;
    plan_begin(plan, p, x->size, w->size, b != NULL);
    plan->empty = cnn_any_empty4(x->size, w->size, y);
    if (!plan->empty && (s = forward_primitive(p, x->size, w->size, b != NULL, fused(p),
                                               &plan->primitive)) != CNN_OK)
        return s;
    cnn_plan_output_of(&plan->out[0], 4, y, plan->primitive, DNNL_ARG_DST);
    return CNN_OK;
}

/* The descriptor of a weight tensor (or its gradient) as the primitive
 * sees it: its own layout, and with g groups the same bytes as goihw.
 * kW×kH×(Cin/g)×Cout reversed is Cout×(Cin/g)×kH×kW; splitting Cout into
 * g×(Cout/g), g slowest, gives g×(Cout/g)×(Cin/g)×kH×kW, whose row-major
 * order is the same, group j holding output channels j·Cout/g onwards.
 * A reshape that a blocked layout does not allow fails, naming the op. */
static void weight_md(cnn_exec *e, const cnn_conv2d_params *p, const cnn_tensor *w,
                      dnnl_memory_desc_t *md)
{
    dnnl_memory_desc_t own;
    cnn_md_of_layout(&own, w);
    *md = own;
    if (p->groups == 1)
        return;
    dnnl_dims_t dims = {p->groups, w->size[3] / p->groups, w->size[2], w->size[1],
                        w->size[0]};
    dnnl_status_t st = dnnl_memory_desc_reshape(md, &own, 5, dims);
    if (st != dnnl_success && e->status == CNN_OK)
        e->status = cnn_fail(CNN_ERR_DNNL, "%s: weight layout in %lld groups: %s", e->op,
                             (long long)p->groups, cnn_dnnl_status_string(st));
}

cnn_status cnn_conv2d_run_forward(const cnn_conv2d_plan *plan, const cnn_tensor *x,
                                  const cnn_tensor *w, const cnn_tensor *b, cnn_tensor *y)
{
    if (plan->empty) {
        cnn_zero_outputs(y, NULL, NULL);
        return CNN_OK;
    }
    /* the plan holds the fast relu's primitive; operands that could
     * overflow to NaN take the one that keeps NaN */
    cnn_primitive *prim = plan->primitive;
    int fuse = relu_fusion(&plan->params, x, w, b);
    cnn_status s;
    if (fuse != fused(&plan->params) &&
        (s = forward_primitive(&plan->params, plan->x, plan->w, plan->bias, fuse,
                               &prim)) != CNN_OK)
        return s;
    cnn_exec e;
    cnn_exec_begin(&e, prim, "conv2d");
    cnn_exec_plain_input(&e, DNNL_ARG_SRC, x);
    dnnl_memory_desc_t wmd;
    weight_md(&e, &plan->params, w, &wmd);
    cnn_exec_input(&e, DNNL_ARG_WEIGHTS, w, &wmd);
    if (b)
        cnn_exec_plain_input(&e, DNNL_ARG_BIAS, b);
    cnn_exec_plain_output(&e, DNNL_ARG_DST, y);
    return cnn_exec_finish(&e);
}

cnn_status cnn_conv2d_plan_backward_data(cnn_conv2d_plan *plan,
                                         const cnn_conv2d_params *p, const cnn_tensor *gy,
                                         const cnn_tensor *w, int x_ndims,
                                         const int64_t *x)
{
    cnn_status s = cnn_conv2d_check_backward_data(p, gy, w, x_ndims, x);
    if (s != CNN_OK)
        return s;
    plan_begin(plan, p, x, w->size, false);
    plan->empty = cnn_any_empty4(x, w->size, gy->size);
    if (!plan->empty &&
        (s = backward_primitive('D', p, x, w->size, false, "conv2d_backward_data",
                                &plan->primitive)) != CNN_OK)
        return s;
    cnn_plan_output_of(&plan->out[0], 4, x, plan->primitive, DNNL_ARG_DIFF_SRC);
    return CNN_OK;
}

cnn_status cnn_conv2d_run_backward_data(const cnn_conv2d_plan *plan, const cnn_tensor *gy,
                                        const cnn_tensor *w, cnn_tensor *gx)
{
    if (plan->empty) {
        cnn_zero_outputs(gx, NULL, NULL);
        return CNN_OK;
    }
    cnn_exec e;
    cnn_exec_begin(&e, plan->primitive, "conv2d_backward_data");
    cnn_exec_plain_input(&e, DNNL_ARG_DIFF_DST, gy);
    dnnl_memory_desc_t wmd;
    weight_md(&e, &plan->params, w, &wmd);
    cnn_exec_input(&e, DNNL_ARG_WEIGHTS, w, &wmd);
    cnn_exec_plain_output(&e, DNNL_ARG_DIFF_SRC, gx);
    return cnn_exec_finish(&e);
}

cnn_status cnn_conv2d_plan_backward_weights(cnn_conv2d_plan *plan,
                                            const cnn_conv2d_params *p,
                                            const cnn_tensor *gy, const cnn_tensor *x,
                                            int w_ndims, const int64_t *w, bool bias)
{
    cnn_status s = cnn_conv2d_check_backward_weights(p, gy, x, w_ndims, w);
    if (s != CNN_OK)
        return s;
    plan_begin(plan, p, x->size, w, bias);
    plan->empty = cnn_any_empty4(x->size, w, gy->size);
    if (!plan->empty &&
        (s = backward_primitive('W', p, x->size, w, bias, "conv2d_backward_weights",
                                &plan->primitive)) != CNN_OK)
        return s;
    /* the weight gradients stay plain: the optimiser reads them */
    cnn_plan_output_of(&plan->out[0], 4, w, NULL, 0);
    memset(&plan->out[1], 0, sizeof plan->out[1]);
    plan->out[1].ndims = 1;
    plan->out[1].size[0] = w[3];
    return CNN_OK;
}

cnn_status cnn_conv2d_run_backward_weights(const cnn_conv2d_plan *plan,
                                           const cnn_tensor *gy, const cnn_tensor *x,
                                           cnn_tensor *gw, cnn_tensor *gb)
{
    if (plan->empty) {
        cnn_zero_outputs(gw, gb, NULL);
        return CNN_OK;
    }
    cnn_exec e;
    cnn_exec_begin(&e, plan->primitive, "conv2d_backward_weights");
    cnn_exec_plain_input(&e, DNNL_ARG_SRC, x);
    cnn_exec_plain_input(&e, DNNL_ARG_DIFF_DST, gy);
    dnnl_memory_desc_t wmd;
    weight_md(&e, &plan->params, gw, &wmd);
    cnn_exec_output(&e, DNNL_ARG_DIFF_WEIGHTS, gw, &wmd);
    if (gb)
        cnn_exec_plain_output(&e, DNNL_ARG_DIFF_BIAS, gb);
    return cnn_exec_finish(&e);
}

cnn_status cnn_conv2d_forward(const cnn_conv2d_params *p, const cnn_tensor *x,
                              const cnn_tensor *w, const cnn_tensor *b, cnn_tensor *y)
{
    int64_t ysize[4];
    cnn_status s;
    cnn_conv2d_plan plan;
    if ((s = cnn_conv2d_check_forward(p, x, w, b, ysize)) != CNN_OK ||
        (s = cnn_check_operand(y, "output", 0, NULL)) != CNN_OK ||
        (s = cnn_check_gradient4(y, ysize, "of the convolution")) != CNN_OK ||
        (s = cnn_conv2d_plan_forward(&plan, p, x, w, b)) != CNN_OK)
        return s;
    return cnn_conv2d_run_forward(&plan, x, w, b, y);
}

cnn_status cnn_conv2d_backward_data(const cnn_conv2d_params *p, const cnn_tensor *gy,
                                    const cnn_tensor *w, cnn_tensor *gx)
{
    cnn_status s;
    cnn_conv2d_plan plan;
    if ((s = cnn_check_operand(gx, "input gradient", 0, NULL)) != CNN_OK ||
        (s = cnn_conv2d_plan_backward_data(&plan, p, gy, w, gx->ndims, gx->size)) !=
            CNN_OK)
        return s;
    return cnn_conv2d_run_backward_data(&plan, gy, w, gx);
}

cnn_status cnn_conv2d_backward_weights(const cnn_conv2d_params *p, const cnn_tensor *gy,
                                       const cnn_tensor *x, cnn_tensor *gw,
                                       cnn_tensor *gb)
{
    cnn_status s;
    cnn_conv2d_plan plan;
    if ((s = cnn_check_operand(gw, "weight gradient", 0, NULL)) != CNN_OK ||
        (s = cnn_conv2d_check_backward_weights(p, gy, x, gw->ndims, gw->size)) !=
            CNN_OK ||
        (gb && (s = cnn_check_operand(gb, "bias gradient", 0, NULL)) != CNN_OK))
        return s;
    if (gb && (gb->ndims != 1 || gb->size[0] != gw->size[3]))
        return cnn_fail(CNN_ERR_SHAPE, "bias gradient must have %lld elements",
                        (long long)gw->size[3]);
    if ((s = cnn_conv2d_plan_backward_weights(&plan, p, gy, x, gw->ndims, gw->size,
                                              gb != NULL)) != CNN_OK)
        return s;
    return cnn_conv2d_run_backward_weights(&plan, gy, x, gw, gb);
}

#include "deconv.h"

#include <stdio.h>
#include <string.h>

#include "activation.h"
#include "context.h"
#include "exec.h"
#include "operand.h"
#include "primitive_desc.h"

cnn_deconv2d_params cnn_deconv2d_default_params(void)
{
    cnn_deconv2d_params p;
    memset(&p, 0, sizeof p);
    p.stride[0] = p.stride[1] = 1;
    p.dilation[0] = p.dilation[1] = 1;
    p.groups = 1;
    return p;
}

/* Strides, dilations, pads and output pads in range. */
static cnn_status check_window(const cnn_deconv2d_params *p)
{
    /* far beyond any real network, and keeps the arithmetic exact */
    const int64_t limit = INT64_C(1) << 24;
    for (int d = 0; d < 2; d++) {
        if (p->stride[d] < 1)
            return cnn_fail(CNN_ERR_ARG, "stride must be at least 1, got %lld×%lld",
                            (long long)p->stride[0], (long long)p->stride[1]);
        if (p->dilation[d] < 1)
            return cnn_fail(CNN_ERR_ARG, "dilation must be at least 1, got %lld×%lld",
                            (long long)p->dilation[0], (long long)p->dilation[1]);
        if (p->pad[2 * d] < 0 || p->pad[2 * d + 1] < 0)
            return cnn_fail(CNN_ERR_ARG,
                            "padding must be non-negative, got %lld,%lld,%lld,%lld",
                            (long long)p->pad[0], (long long)p->pad[1],
                            (long long)p->pad[2], (long long)p->pad[3]);
        if (p->outpad[d] < 0 ||
            (p->outpad[d] >= p->stride[d] && p->outpad[d] >= p->dilation[d]))
            return cnn_fail(CNN_ERR_ARG,
                            "output padding must be non-negative and smaller than the "
                            "stride or the dilation, got %lld×%lld (stride %lld×%lld, "
                            "dilation %lld×%lld)",
                            (long long)p->outpad[0], (long long)p->outpad[1],
                            (long long)p->stride[0], (long long)p->stride[1],
                            (long long)p->dilation[0], (long long)p->dilation[1]);
        /* oneDNN takes the output padding as a right pad smaller by it,
         * which must stay above -stride */
        if (p->outpad[d] >= p->pad[2 * d + 1] + p->stride[d])
            return cnn_fail(CNN_ERR_ARG,
                            "output padding %lld×%lld must be smaller than the high "
                            "padding plus the stride, %lld×%lld, on oneDNN's "
                            "deconvolution",
                            (long long)p->outpad[0], (long long)p->outpad[1],
                            (long long)(p->pad[1] + p->stride[0]),
                            (long long)(p->pad[3] + p->stride[1]));
        if (p->stride[d] > limit || p->dilation[d] > limit || p->pad[2 * d] > limit ||
            p->pad[2 * d + 1] > limit)
            return cnn_fail(CNN_ERR_ARG,
                            "stride, padding and dilation must be at most %lld",
                            (long long)limit);
    }
    return CNN_OK;
}

/* The channel rules: Cin is the weight's fourth size, divisible by g, and
 * the weight's third size is Cout/g. */
static cnn_status check_channels(int64_t g, const int64_t *x, const char *xs,
                                 const int64_t *w, const char *ws)
{
    if (g < 1)
        return cnn_fail(CNN_ERR_ARG, "groups must be at least 1, got %lld", (long long)g);
    if (x[2] != w[3])
        return cnn_fail(CNN_ERR_SHAPE,
                        "input has %lld channels (%s), weight expects %lld (%s, "
                        "kW×kH×Cout/groups×Cin)",
                        (long long)x[2], xs, (long long)w[3], ws);
    if (x[2] % g)
        return cnn_fail(CNN_ERR_SHAPE,
                        "input has %lld channels (%s), not divisible by %lld groups",
                        (long long)x[2], xs, (long long)g);
    return CNN_OK;
}

cnn_status cnn_deconv2d_output_size(const cnn_deconv2d_params *p, int x_ndims,
                                    const int64_t *x, int w_ndims, const int64_t *w,
                                    int64_t y[4])
{
    char xs[128], ws[128];
    cnn_sizes_string(x, x_ndims, xs, sizeof xs);
    cnn_sizes_string(w, w_ndims, ws, sizeof ws);
    if (x_ndims != 4)
        return cnn_fail(CNN_ERR_SHAPE, "input must be 4-D (W×H×C×N), got %s", xs);
    if (w_ndims != 4)
        return cnn_fail(CNN_ERR_SHAPE,
                        "weight must be 4-D (kW×kH×Cout/groups×Cin), got %s", ws);
    if (x[2] < 1)
        return cnn_fail(CNN_ERR_SHAPE, "input has no channels (%s)", xs);
    if (w[0] < 1 || w[1] < 1 || w[2] < 1)
        return cnn_fail(CNN_ERR_SHAPE, "weight %s has an empty kernel or no outputs", ws);
    cnn_status s = check_channels(p->groups, x, xs, w, ws);
    if (s != CNN_OK || (s = check_window(p)) != CNN_OK)
        return s;
    if (w[0] > (INT64_C(1) << 24) || w[1] > (INT64_C(1) << 24) ||
        x[0] > (INT64_C(1) << 30) || x[1] > (INT64_C(1) << 30))
        return cnn_fail(CNN_ERR_SHAPE, "input %s or kernel %s too large", xs, ws);
    for (int d = 0; d < 2; d++) {
        int64_t span = p->dilation[d] * (w[d] - 1) + 1;
        int64_t lo = p->pad[2 * d], hi = p->pad[2 * d + 1];
        y[d] = x[d] ? (x[d] - 1) * p->stride[d] - lo - hi + span + p->outpad[d] : 0;
        if (x[d] && y[d] < 1)
            return cnn_fail(CNN_ERR_SHAPE,
                            "padding %lld,%lld,%lld,%lld leaves no output (input %s, "
                            "weight %s)",
                            (long long)p->pad[0], (long long)p->pad[1],
                            (long long)p->pad[2], (long long)p->pad[3], xs, ws);
    }
    y[2] = w[2] * p->groups;
    y[3] = x[3];
    return CNN_OK;
}

static cnn_status check_forward(const cnn_deconv2d_params *p, const cnn_tensor *x,
                                const cnn_tensor *w, const cnn_tensor *b, int64_t y[4])
{
    cnn_status s;
    if ((s = cnn_check_operand(x, "input", 0, NULL)) != CNN_OK ||
        (s = cnn_check_operand(w, "weight", 0, NULL)) != CNN_OK ||
        (b && (s = cnn_check_operand(b, "bias", 0, NULL)) != CNN_OK) ||
        (s = cnn_deconv2d_output_size(p, x->ndims, x->size, w->ndims, w->size, y)) !=
            CNN_OK)
        return s;
    if (b && (b->ndims != 1 || b->size[0] != y[2])) {
        char bs[128], ws[128];
        return cnn_fail(CNN_ERR_SHAPE, "bias is %s, weight has %lld output channels (%s)",
                        cnn_shape_string(b, bs, sizeof bs), (long long)y[2],
                        cnn_shape_string(w, ws, sizeof ws));
    }
    return CNN_OK;
}

/* The cache key: everything a primitive's descriptor depends on, as
 * int64s so the struct has no padding. */
typedef struct deconv_key {
    int64_t op; /* 'F' forward, 'D' backward data, 'W' backward weights */
    int64_t x[4], w[4];
    int64_t stride[2], pad[4], dilation[2], outpad[2], groups;
    int64_t relu, bias, inference;
} deconv_key;

/* The relu of the forward: the one that keeps NaN, so that a NaN reaches
 * the output as it does through cnn.relu. Only the backward primitives'
 * forward hint names it; the forward primitive itself has neither relu
 * nor bias (see forward_primitive). */
static int fused(const cnn_deconv2d_params *p)
{
    return p->relu ? CNN_FUSE_RELU_KEEP_NAN : CNN_FUSE_NONE;
}

static deconv_key make_key(int op, const cnn_deconv2d_params *p, const int64_t *x,
                           const int64_t *w, bool bias)
{
    deconv_key k;
    memset(&k, 0, sizeof k);
    k.op = op;
    memcpy(k.x, x, sizeof k.x);
    memcpy(k.w, w, sizeof k.w);
    memcpy(k.stride, p->stride, sizeof k.stride);
    memcpy(k.pad, p->pad, sizeof k.pad);
    memcpy(k.dilation, p->dilation, sizeof k.dilation);
    memcpy(k.outpad, p->outpad, sizeof k.outpad);
    k.groups = p->groups;
    k.relu = fused(p);
    k.inference = op == 'F' && p->inference;
    k.bias = bias;
    return k;
}

/* Descriptors in oneDNN's terms, layouts `any`. oneDNN's deconvolution
 * weights are (G×)OC×IC×kH×kW; the output padding goes on the high side
 * as a smaller right pad, which oneDNN's size rule
 * in = (out - span + pad_l + pad_r) / stride + 1 then meets exactly. */
typedef struct deconv_geometry {
    dnnl_memory_desc_t src, wei, bias, dst;
    dnnl_dims_t strides, dilates, pad_l, pad_r;
} deconv_geometry;

static void geometry(const cnn_deconv2d_params *p, const int64_t *x, const int64_t *w,
                     deconv_geometry *g)
{
    int64_t y[4];
    cnn_deconv2d_output_size(p, 4, x, 4, w, y);
    int64_t src[4] = {x[3], x[2], x[1], x[0]};
    int64_t wei[5] = {p->groups, w[2], w[3] / p->groups, w[1], w[0]};
    int64_t dst[4] = {y[3], y[2], y[1], y[0]};
    /* Fewer than 8 output channels would be padded to a block of 16 (16
     * times the memory for one channel, and oneDNN's reference loops for a
     * sigmoid after it); in the plain layout oneDNN runs its gemm
     * implementation instead: the autoencoder's last layer (16→1, batch
     * 1000) took 0.7 ms with the conversions, not 4.5. */
    if (y[2] < 8) {
        cnn_md_plain(&g->src, 4, src);
        cnn_md_plain(&g->dst, 4, dst);
    } else {
        cnn_md_any(&g->src, 4, src);
        cnn_md_any(&g->dst, 4, dst);
    }
    if (p->groups > 1)
        cnn_md_any(&g->wei, 5, wei);
    else
        cnn_md_any(&g->wei, 4, wei + 1);
    cnn_md_any(&g->bias, 1, &y[2]);
    for (int d = 0; d < 2; d++) {
        int s = 1 - d; /* oneDNN lists H before W */
        g->strides[d] = p->stride[s];
        g->dilates[d] = p->dilation[s] - 1;
        g->pad_l[d] = p->pad[2 * s];
        g->pad_r[d] = p->pad[2 * s + 1] - p->outpad[s];
    }
}

static cnn_status forward_pd(const cnn_deconv2d_params *p, const int64_t *x,
                             const int64_t *w, bool bias, bool inference, int fuse,
                             dnnl_primitive_desc_t *pd)
{
    deconv_geometry g;
    geometry(p, x, w, &g);
    dnnl_deconvolution_desc_t d;
    CNN_DNNL_TRY("deconv2d",
                 dnnl_dilated_deconvolution_forward_desc_init(
                     &d, inference ? dnnl_forward_inference : dnnl_forward_training,
                     dnnl_deconvolution_direct, &g.src, &g.wei, bias ? &g.bias : NULL,
                     &g.dst, g.strides, g.dilates, g.pad_l, g.pad_r));
    return cnn_pd_create(&d, fuse, NULL, "deconv2d", pd);
}

/* oneDNN 2.6 makes a deconvolution of a convolution's backward data and
 * then adds the bias and applies post-ops in reference loops
 * (ref_deconvolution_fwd_t): on the autoencoder's 32→16 layer (stride 2,
 * batch 1000, one thread) the 8.5 ms deconvolution took 14 ms with the
 * bias and 120 ms with the relu. So the forward primitive has neither:
 * add_channel_bias adds the bias in the output's layout and the relu runs
 * as cnn.relu's one pass over the buffer. */
static cnn_status forward_primitive(const cnn_deconv2d_params *p, const int64_t *x,
                                    const int64_t *w, cnn_primitive **out)
{
    cnn_deconv2d_params plain = *p;
    plain.relu = false;
    deconv_key key = make_key('F', &plain, x, w, false);
    if ((*out = cnn_primitive_find(&key, sizeof key)))
        return CNN_OK;
    dnnl_primitive_desc_t pd;
    cnn_status s = forward_pd(&plain, x, w, false, p->inference, CNN_FUSE_NONE, &pd);
    return s != CNN_OK ? s : cnn_primitive_add(&key, sizeof key, pd, "deconv2d", out);
}

/* y += b over y's channels, in y's layout: plain, channels-last or
 * channels blocked (one inner block on the channel axis), the layouts a
 * deconvolution writes. A blocked layout's padding channels stay zero.
 * oneDNN's binary add with a broadcast bias runs its reference loops on
 * blocked layouts, 30 times slower than the deconvolution itself. */
static cnn_status add_channel_bias(cnn_tensor *y, const cnn_tensor *b)
{
    int64_t n = y->size[3], c = y->size[2], hw = y->size[0] * y->size[1];
    const float *bias = cnn_tensor_f32(b);
    float *data = cnn_tensor_f32(y);
    double start = cnn_kernel_start();
    if (!y->blocked) {
#pragma omp parallel for collapse(2) schedule(static)
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < c; j++) {
                float *plane = data + (i * c + j) * hw;
                for (int64_t k = 0; k < hw; k++)
                    plane[k] += bias[j];
            }
        cnn_kernel_done(CNN_PROFILE_DECONV_FORWARD, start);
        return CNN_OK;
    }
    const dnnl_memory_desc_t *md = &y->layout;
    const dnnl_blocking_desc_t *bk = &md->format_desc.blocking;
    bool one_channel_block = bk->inner_nblks == 1 && bk->inner_idxs[0] == 1;
    if (md->format_kind != dnnl_blocked || md->ndims != 4 ||
        !(bk->inner_nblks == 0 || one_channel_block))
        return cnn_fail(CNN_ERR_DNNL,
                        "deconv2d: no bias addition for this output layout");
    int64_t block = one_channel_block ? bk->inner_blks[0] : 1;
    int64_t blocks = (c + block - 1) / block, h = y->size[1], w = y->size[0];
    const dnnl_dims_t *st = &bk->strides;
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t i = 0; i < n; i++)
        for (int64_t cb = 0; cb < blocks; cb++) {
            int64_t lanes = c - cb * block < block ? c - cb * block : block;
            for (int64_t r = 0; r < h; r++)
                for (int64_t q = 0; q < w; q++) {
                    float *at = data + md->offset0 + i * (*st)[0] + cb * (*st)[1] +
                                r * (*st)[2] + q * (*st)[3];
                    const float *bb = bias + cb * block;
                    for (int64_t l = 0; l < lanes; l++)
                        at[l] += bb[l];
                }
        }
    cnn_kernel_done(CNN_PROFILE_DECONV_FORWARD, start);
    return CNN_OK;
}

/* Backward descriptors take a training forward pd as hint, so they agree
 * with the forward on layouts. */
static cnn_status backward_primitive(int op, const cnn_deconv2d_params *p,
                                     const int64_t *x, const int64_t *w, bool bias,
                                     const char *name, cnn_primitive **out)
{
    deconv_key key = make_key(op, p, x, w, bias);
    if ((*out = cnn_primitive_find(&key, sizeof key)))
        return CNN_OK;
    deconv_geometry g;
    geometry(p, x, w, &g);
    dnnl_deconvolution_desc_t d;
    dnnl_status_t st = op == 'D' ? dnnl_dilated_deconvolution_backward_data_desc_init(
                                       &d, dnnl_deconvolution_direct, &g.src, &g.wei,
                                       &g.dst, g.strides, g.dilates, g.pad_l, g.pad_r)
                                 : dnnl_dilated_deconvolution_backward_weights_desc_init(
                                       &d, dnnl_deconvolution_direct, &g.src, &g.wei,
                                       bias ? &g.bias : NULL, &g.dst, g.strides,
                                       g.dilates, g.pad_l, g.pad_r);
    if (st != dnnl_success)
        return cnn_fail(CNN_ERR_DNNL, "%s: describing the deconvolution: %s", name,
                        cnn_dnnl_status_string(st));
    dnnl_primitive_desc_t hint, pd;
    cnn_status s = forward_pd(p, x, w, bias, false, fused(p), &hint);
    if (s != CNN_OK)
        return s;
    s = cnn_pd_create(&d, 0, hint, name, &pd);
    dnnl_primitive_desc_destroy(hint);
    return s != CNN_OK ? s : cnn_primitive_add(&key, sizeof key, pd, name, out);
}

static void plan_begin(cnn_deconv2d_plan *plan, const cnn_deconv2d_params *p,
                       const int64_t *x, const int64_t *w, bool bias)
{
    memset(plan, 0, sizeof *plan);
    plan->params = *p;
    memcpy(plan->x, x, sizeof plan->x);
    memcpy(plan->w, w, sizeof plan->w);
    plan->bias = bias;
}

/* The descriptor of a weight tensor (or its gradient) as the primitive
 * sees it. kW×kH×(Cout/g)×Cin reversed is Cin×(Cout/g)×kH×kW; with g
 * groups, split Cin into g×(Cin/g), g slowest; then swap the two channel
 * axes into oneDNN's (G×)OC×IC×kH×kW order: the same bytes, described
 * as iohw (giohw). */
static void weight_md(cnn_exec *e, const cnn_deconv2d_params *p, const cnn_tensor *w,
                      dnnl_memory_desc_t *md)
{
    dnnl_memory_desc_t own, split;
    cnn_md_of_layout(&own, w);
    dnnl_status_t st;
    if (p->groups == 1) {
        const int perm[4] = {1, 0, 2, 3};
        st = dnnl_memory_desc_permute_axes(md, &own, perm);
    } else {
        dnnl_dims_t dims = {p->groups, w->size[3] / p->groups, w->size[2], w->size[1],
                            w->size[0]};
        const int perm[5] = {0, 2, 1, 3, 4};
        st = dnnl_memory_desc_reshape(&split, &own, 5, dims);
        if (st == dnnl_success)
            st = dnnl_memory_desc_permute_axes(md, &split, perm);
    }
    if (st != dnnl_success && e->status == CNN_OK)
        e->status = cnn_fail(CNN_ERR_DNNL, "%s: weight layout in %lld groups: %s", e->op,
                             (long long)p->groups, cnn_dnnl_status_string(st));
}

cnn_status cnn_deconv2d_plan_forward(cnn_deconv2d_plan *plan,
                                     const cnn_deconv2d_params *p, const cnn_tensor *x,
                                     const cnn_tensor *w, const cnn_tensor *b)
{
    int64_t y[4];
    cnn_status s = check_forward(p, x, w, b, y);
    if (s != CNN_OK)
        return s;
    plan_begin(plan, p, x->size, w->size, b != NULL);
    plan->empty = cnn_any_empty4(x->size, w->size, y);
    if (!plan->empty &&
        (s = forward_primitive(p, x->size, w->size, &plan->primitive)) != CNN_OK)
        return s;
    cnn_plan_output_of(&plan->out[0], 4, y, plan->primitive, DNNL_ARG_DST);
    return CNN_OK;
}

cnn_status cnn_deconv2d_run_forward(const cnn_deconv2d_plan *plan, const cnn_tensor *x,
                                    const cnn_tensor *w, const cnn_tensor *b,
                                    cnn_tensor *y)
{
    if (plan->empty) {
        cnn_zero_outputs(y, NULL, NULL);
        return CNN_OK;
    }
    cnn_exec e;
    cnn_exec_begin(&e, plan->primitive, "deconv2d");
    cnn_exec_plain_input(&e, DNNL_ARG_SRC, x);
    dnnl_memory_desc_t wmd;
    weight_md(&e, &plan->params, w, &wmd);
    cnn_exec_input(&e, DNNL_ARG_WEIGHTS, w, &wmd);
    cnn_exec_plain_output(&e, DNNL_ARG_DST, y);
    cnn_status s = cnn_exec_finish(&e);
    if (s == CNN_OK && b)
        s = add_channel_bias(y, b);
    if (s == CNN_OK && plan->params.relu)
        s = cnn_activation_forward(CNN_ACTIVATION_RELU, 0.0f, 0.0f, y, y);
    return s;
}

cnn_status cnn_deconv2d_plan_backward_data(cnn_deconv2d_plan *plan,
                                           const cnn_deconv2d_params *p,
                                           const cnn_tensor *gy, const cnn_tensor *w,
                                           int x_ndims, const int64_t *x)
{
    int64_t y[4];
    char from[300], xs[128], ws[128];
    cnn_status s;
    if ((s = cnn_check_operand(gy, "gradient", 0, NULL)) != CNN_OK ||
        (s = cnn_check_operand(w, "weight", 0, NULL)) != CNN_OK ||
        (s = cnn_deconv2d_output_size(p, x_ndims, x, w->ndims, w->size, y)) != CNN_OK)
        return s;
    snprintf(from, sizeof from, "of input %s and weight %s",
             cnn_sizes_string(x, x_ndims, xs, sizeof xs),
             cnn_shape_string(w, ws, sizeof ws));
    if ((s = cnn_check_gradient4(gy, y, from)) != CNN_OK)
        return s;
    plan_begin(plan, p, x, w->size, false);
    plan->empty = cnn_any_empty4(x, w->size, gy->size);
    if (!plan->empty &&
        (s = backward_primitive('D', p, x, w->size, false, "deconv2d_backward_data",
                                &plan->primitive)) != CNN_OK)
        return s;
    cnn_plan_output_of(&plan->out[0], 4, x, plan->primitive, DNNL_ARG_DIFF_SRC);
    return CNN_OK;
}

cnn_status cnn_deconv2d_run_backward_data(const cnn_deconv2d_plan *plan,
                                          const cnn_tensor *gy, const cnn_tensor *w,
                                          cnn_tensor *gx)
{
    if (plan->empty) {
        cnn_zero_outputs(gx, NULL, NULL);
        return CNN_OK;
    }
    cnn_exec e;
    cnn_exec_begin(&e, plan->primitive, "deconv2d_backward_data");
    cnn_exec_plain_input(&e, DNNL_ARG_DIFF_DST, gy);
    dnnl_memory_desc_t wmd;
    weight_md(&e, &plan->params, w, &wmd);
    cnn_exec_input(&e, DNNL_ARG_WEIGHTS, w, &wmd);
    cnn_exec_plain_output(&e, DNNL_ARG_DIFF_SRC, gx);
    return cnn_exec_finish(&e);
}

cnn_status cnn_deconv2d_plan_backward_weights(cnn_deconv2d_plan *plan,
                                              const cnn_deconv2d_params *p,
                                              const cnn_tensor *gy, const cnn_tensor *x,
                                              int w_ndims, const int64_t *w, bool bias)
{
    int64_t y[4];
    char from[300], xs[128], ws[128];
    cnn_status s;
    if ((s = cnn_check_operand(gy, "gradient", 0, NULL)) != CNN_OK ||
        (s = cnn_check_operand(x, "input", 0, NULL)) != CNN_OK ||
        (s = cnn_deconv2d_output_size(p, x->ndims, x->size, w_ndims, w, y)) != CNN_OK)
        return s;
    snprintf(from, sizeof from, "of input %s and weight %s",
             cnn_shape_string(x, xs, sizeof xs),
             cnn_sizes_string(w, w_ndims, ws, sizeof ws));
    if ((s = cnn_check_gradient4(gy, y, from)) != CNN_OK)
        return s;
    plan_begin(plan, p, x->size, w, bias);
    plan->empty = cnn_any_empty4(x->size, w, gy->size);
    if (!plan->empty &&
        (s = backward_primitive('W', p, x->size, w, bias, "deconv2d_backward_weights",
                                &plan->primitive)) != CNN_OK)
        return s;
    /* the weight gradients stay plain: the optimiser reads them */
    cnn_plan_output_of(&plan->out[0], 4, w, NULL, 0);
    memset(&plan->out[1], 0, sizeof plan->out[1]);
    plan->out[1].ndims = 1;
    plan->out[1].size[0] = y[2];
    return CNN_OK;
}

cnn_status cnn_deconv2d_run_backward_weights(const cnn_deconv2d_plan *plan,
                                             const cnn_tensor *gy, const cnn_tensor *x,
                                             cnn_tensor *gw, cnn_tensor *gb)
{
    if (plan->empty) {
        cnn_zero_outputs(gw, gb, NULL);
        return CNN_OK;
    }
    cnn_exec e;
    cnn_exec_begin(&e, plan->primitive, "deconv2d_backward_weights");
    cnn_exec_plain_input(&e, DNNL_ARG_SRC, x);
    cnn_exec_plain_input(&e, DNNL_ARG_DIFF_DST, gy);
    dnnl_memory_desc_t wmd;
    weight_md(&e, &plan->params, gw, &wmd);
    cnn_exec_output(&e, DNNL_ARG_DIFF_WEIGHTS, gw, &wmd);
    if (gb)
        cnn_exec_plain_output(&e, DNNL_ARG_DIFF_BIAS, gb);
    return cnn_exec_finish(&e);
}

cnn_status cnn_deconv2d_forward(const cnn_deconv2d_params *p, const cnn_tensor *x,
                                const cnn_tensor *w, const cnn_tensor *b, cnn_tensor *y)
{
    int64_t ysize[4];
    cnn_status s;
    cnn_deconv2d_plan plan;
    if ((s = check_forward(p, x, w, b, ysize)) != CNN_OK ||
        (s = cnn_check_operand(y, "output", 0, NULL)) != CNN_OK ||
        (s = cnn_check_gradient4(y, ysize, "of the deconvolution")) != CNN_OK ||
        (s = cnn_deconv2d_plan_forward(&plan, p, x, w, b)) != CNN_OK)
        return s;
    return cnn_deconv2d_run_forward(&plan, x, w, b, y);
}

cnn_status cnn_deconv2d_backward_data(const cnn_deconv2d_params *p, const cnn_tensor *gy,
                                      const cnn_tensor *w, cnn_tensor *gx)
{
    cnn_status s;
    cnn_deconv2d_plan plan;
    if ((s = cnn_check_operand(gx, "input gradient", 0, NULL)) != CNN_OK ||
        (s = cnn_deconv2d_plan_backward_data(&plan, p, gy, w, gx->ndims, gx->size)) !=
            CNN_OK)
        return s;
    return cnn_deconv2d_run_backward_data(&plan, gy, w, gx);
}

cnn_status cnn_deconv2d_backward_weights(const cnn_deconv2d_params *p,
                                         const cnn_tensor *gy, const cnn_tensor *x,
                                         cnn_tensor *gw, cnn_tensor *gb)
{
    cnn_status s;
    cnn_deconv2d_plan plan;
    if ((s = cnn_check_operand(gw, "weight gradient", 0, NULL)) != CNN_OK ||
        (gb && (s = cnn_check_operand(gb, "bias gradient", 0, NULL)) != CNN_OK) ||
        (s = cnn_deconv2d_plan_backward_weights(&plan, p, gy, x, gw->ndims, gw->size,
                                                gb != NULL)) != CNN_OK)
        return s;
    if (gb && (gb->ndims != 1 || gb->size[0] != plan.out[1].size[0]))
        return cnn_fail(CNN_ERR_SHAPE, "bias gradient must have %lld elements",
                        (long long)plan.out[1].size[0]);
    return cnn_deconv2d_run_backward_weights(&plan, gy, x, gw, gb);
}

/* Planning a quantized network for an input's sizes: each layer's
 * primitive with its int8 types and output scales, the reorders between
 * layouts (the input's quantization among them) and the buffers of the
 * activations, in the layouts the primitives chose. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "memory_desc.h"
#include "quantized_net.h"
#include "window.h"

/* The activation between two steps while a plan is made. */
typedef struct q_builder {
    cnn_qnet_steps *s;
    dnnl_memory_t cur;
    dnnl_memory_desc_t cur_md;
    bool cur_input; /* still the caller's Float32 input */
    bool cur_f32;   /* the Float32 result (a last dense layer's) */
    cnn_qrange range;
    int ndims;
    int64_t size[4]; /* tensor order: W, H, C, N, or features, N */
    bool flat;       /* features×N made from the 4-D sizes size4 */
    int64_t size4[4];
} q_builder;

void cnn_qnet_steps_free(cnn_qnet_steps *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->nsteps; i++)
        cnn_primitive_release(&s->steps[i].prim);
    for (int i = 0; i < s->nmems; i++) {
        dnnl_memory_destroy(s->mems[i]);
        free(s->buffers[i]);
    }
    free(s->steps);
    free(s->mems);
    free(s->buffers);
    free(s);
}

/* A memory object of the plan for md: on a buffer of its own when 'own',
 * else on data (NULL: pointed at the caller's tensor by each run). */
static cnn_status add_memory(cnn_qnet_steps *s, const dnnl_memory_desc_t *md, bool own,
                             void *data, const char *op, dnnl_memory_t *out)
{
    if (s->nmems == s->mem_capacity) {
        int cap = s->mem_capacity ? 2 * s->mem_capacity : 16;
        dnnl_memory_t *mems = realloc(s->mems, (size_t)cap * sizeof *mems);
        if (mems)
            s->mems = mems;
        void **buffers = realloc(s->buffers, (size_t)cap * sizeof *buffers);
        if (buffers)
            s->buffers = buffers;
        if (!mems || !buffers)
            return cnn_fail(CNN_ERR_NOMEM, "%s: out of memory", op);
        s->mem_capacity = cap;
    }
    if (own) {
        size_t bytes = dnnl_memory_desc_get_size(md);
        bytes = (bytes + CNN_ALIGNMENT - 1) / CNN_ALIGNMENT * CNN_ALIGNMENT;
        data = aligned_alloc(CNN_ALIGNMENT, bytes ? bytes : CNN_ALIGNMENT);
        if (!data)
            return cnn_fail(CNN_ERR_NOMEM, "%s: out of memory for an activation", op);
    }
    cnn_status st = cnn_memory_wrap(md, data, out, op);
    if (st != CNN_OK) {
        if (own)
            free(data);
        return st;
    }
    s->mems[s->nmems] = *out;
    s->buffers[s->nmems] = own ? data : NULL;
    s->nmems++;
    return CNN_OK;
}

/* Appends the execution of pd's primitive (taking ownership of pd), or
 * with pd NULL the own max pooling (its geometry set by the caller). */
static cnn_status add_step(cnn_qnet_steps *s, dnnl_primitive_desc_t pd, const char *op,
                           int nargs, const dnnl_exec_arg_t *args)
{
    if (s->nsteps == s->step_capacity) {
        int cap = s->step_capacity ? 2 * s->step_capacity : 16;
        q_step *steps = realloc(s->steps, (size_t)cap * sizeof *steps);
        if (!steps) {
            dnnl_primitive_desc_destroy(pd);
            return cnn_fail(CNN_ERR_NOMEM, "%s: out of memory", op);
        }
        s->steps = steps;
        s->step_capacity = cap;
    }
    q_step *step = &s->steps[s->nsteps];
    memset(step, 0, sizeof *step);
    if (pd) {
        cnn_status st = cnn_primitive_create_owned(pd, op, &step->prim);
        if (st != CNN_OK)
            return st;
    }
    step->nargs = nargs;
    memcpy(step->args, args, (size_t)nargs * sizeof *args);
    s->nsteps++;
    return CNN_OK;
}

/* Attributes: output scales (count values over the dimensions of mask)
 * and a relu after them. */
static dnnl_status_t scales_attr(dnnl_primitive_attr_t *attr, int64_t count, int mask,
                                 const float *scales, bool relu)
{
    dnnl_status_t st = dnnl_primitive_attr_create(attr);
    if (st != dnnl_success)
        return st;
    st = dnnl_primitive_attr_set_output_scales(*attr, count, mask, scales);
    if (st == dnnl_success && relu) {
        dnnl_post_ops_t ops = NULL;
        st = dnnl_post_ops_create(&ops);
        if (st == dnnl_success)
            st = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
        if (st == dnnl_success)
            st = dnnl_primitive_attr_set_post_ops(*attr, ops);
        if (ops)
            dnnl_post_ops_destroy(ops);
    }
    if (st != dnnl_success)
        dnnl_primitive_attr_destroy(*attr);
    return st;
}

/* A primitive descriptor for op_desc with output scales and relu. */
static cnn_status scaled_pd(const void *op_desc, int64_t count, int mask,
                            const float *scales, bool relu, const char *op,
                            dnnl_primitive_desc_t *pd)
{
    dnnl_primitive_attr_t attr;
    CNN_DNNL_TRY(op, scales_attr(&attr, count, mask, scales, relu));
    dnnl_status_t st = dnnl_primitive_desc_create(pd, op_desc, attr, cnn_engine(), NULL);
    dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success)
        return cnn_fail(CNN_ERR_DNNL, "%s: no int8 primitive: %s", op,
                        cnn_dnnl_status_string(st));
    return CNN_OK;
}

static cnn_status reorder_pd(const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
                             int64_t count, int mask, const float *scales, const char *op,
                             dnnl_primitive_desc_t *pd)
{
    dnnl_primitive_attr_t attr;
    CNN_DNNL_TRY(op, scales_attr(&attr, count, mask, scales, false));
    dnnl_status_t st = dnnl_reorder_primitive_desc_create(pd, from, cnn_engine(), to,
                                                          cnn_engine(), attr);
    dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success)
        return cnn_fail(CNN_ERR_DNNL, "%s: no reorder: %s", op,
                        cnn_dnnl_status_string(st));
    return CNN_OK;
}

/* Appends a step from the current activation to a new one of layout
 * out_md (pd's primitive, taking ownership of pd, or with pd NULL the own
 * max pooling), which becomes the current activation. */
static cnn_status next_activation(q_builder *b, dnnl_primitive_desc_t pd,
                                  const dnnl_memory_desc_t *out_md, const char *op)
{
    dnnl_memory_t out;
    cnn_status s = add_memory(b->s, out_md, true, NULL, op, &out);
    if (s != CNN_OK) {
        if (pd)
            dnnl_primitive_desc_destroy(pd);
        return s;
    }
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, b->cur}, {DNNL_ARG_DST, out}};
    if ((s = add_step(b->s, pd, op, 2, args)) != CNN_OK)
        return s;
    b->cur = out;
    b->cur_md = *out_md;
    return CNN_OK;
}

/* The current activation converted to layout 'want' by a step of the
 * plan: quantized (the Float32 input, times its scale), or only moved. */
static cnn_status to_layout(q_builder *b, const dnnl_memory_desc_t *want, const char *op)
{
    if (!b->cur_input && dnnl_memory_desc_equal(&b->cur_md, want))
        return CNN_OK;
    float scale = b->cur_input ? cnn_qrange_scale(b->range) : 1.0f;
    dnnl_primitive_desc_t pd;
    cnn_status s = reorder_pd(&b->cur_md, want, 1, 0, &scale, op, &pd);
    if (s != CNN_OK || (s = next_activation(b, pd, want, op)) != CNN_OK)
        return s;
    b->cur_input = false;
    return CNN_OK;
}

/* A layer's s8 weights in layout 'want', converted from its Float32 copy
 * (described by 'user') with its per-channel scales once per layout. */
static cnn_status converted_weights(q_layer *l, const dnnl_memory_desc_t *want,
                                    const dnnl_memory_desc_t *user, int mask, void **data)
{
    for (q_weights *c = l->converted; c; c = c->next)
        if (dnnl_memory_desc_equal(&c->md, want)) {
            *data = c->data;
            return CNN_OK;
        }
    const char *op = l->name;
    q_weights *c = calloc(1, sizeof *c);
    size_t bytes = dnnl_memory_desc_get_size(want);
    bytes = (bytes + CNN_ALIGNMENT - 1) / CNN_ALIGNMENT * CNN_ALIGNMENT;
    if (c)
        c->data = aligned_alloc(CNN_ALIGNMENT, bytes ? bytes : CNN_ALIGNMENT);
    if (!c || !c->data) {
        free(c);
        return cnn_fail(CNN_ERR_NOMEM, "%s: out of memory for the weights", op);
    }
    c->md = *want;
    dnnl_primitive_desc_t pd;
    cnn_primitive r = {0};
    dnnl_memory_t from = NULL, to = NULL;
    cnn_status s = reorder_pd(user, want, l->outs, mask, l->wscale, op, &pd);
    if (s == CNN_OK)
        s = cnn_primitive_create_owned(pd, op, &r);
    if (s == CNN_OK)
        s = cnn_memory_wrap(user, l->weight, &from, op);
    if (s == CNN_OK)
        s = cnn_memory_wrap(want, c->data, &to, op);
    if (s == CNN_OK) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, from}, {DNNL_ARG_DST, to}};
        s = cnn_primitive_run(&r, 2, args, op);
    }
    dnnl_memory_destroy(from);
    dnnl_memory_destroy(to);
    cnn_primitive_release(&r);
    if (s != CNN_OK) {
        free(c->data);
        free(c);
        return s;
    }
    c->next = l->converted;
    l->converted = c;
    *data = c->data;
    return CNN_OK;
}

/* A failed shape rule, its message prefixed with the layer's name. */
static cnn_status named(const q_layer *l, cnn_status s)
{
    char why[512];
    snprintf(why, sizeof why, "%s", cnn_error_message());
    return cnn_fail(s, "%s: %s", l->name, why);
}

static void md_any(dnnl_memory_desc_t *md, int ndims, const int64_t *dims,
                   dnnl_data_type_t type)
{
    dnnl_dims_t d;
    for (int i = 0; i < ndims; i++)
        d[i] = dims[i];
    if (dnnl_memory_desc_init_by_tag(md, ndims, d, type, dnnl_format_tag_any) !=
        dnnl_success)
        memset(md, 0, sizeof *md);
}

/* A query of pd's descriptor for an argument. */
static const dnnl_memory_desc_t *arg_md(dnnl_primitive_desc_t pd, int arg)
{
    return dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg);
}

/* The steps of a layer with weights once its pd is made: the input moved
 * to the layout pd wants, the weights converted, and the primitive run
 * into 'dst' (a new buffer when NULL). Takes ownership of pd. */
static cnn_status weighted_step(q_builder *b, q_layer *l, dnnl_primitive_desc_t pd,
                                const dnnl_memory_desc_t *user_weights, int mask,
                                dnnl_memory_t dst)
{
    const char *op = l->name;
    dnnl_memory_t wmem, bmem;
    void *wdata = NULL;
    dnnl_memory_desc_t bias_md;
    dnnl_dims_t bias_dims = {l->outs};
    cnn_status s = to_layout(b, arg_md(pd, DNNL_ARG_SRC), op);
    if (s == CNN_OK)
        s = converted_weights(l, arg_md(pd, DNNL_ARG_WEIGHTS), user_weights, mask,
                              &wdata);
    if (s == CNN_OK)
        s = add_memory(b->s, arg_md(pd, DNNL_ARG_WEIGHTS), false, wdata, op, &wmem);
    if (s == CNN_OK && dnnl_memory_desc_init_by_tag(&bias_md, 1, bias_dims, dnnl_f32,
                                                    dnnl_a) != dnnl_success)
        s = cnn_fail(CNN_ERR_DNNL, "%s: bias descriptor", op);
    if (s == CNN_OK)
        s = add_memory(b->s, &bias_md, false, l->bias, op, &bmem);
    if (s == CNN_OK && !dst)
        s = add_memory(b->s, arg_md(pd, DNNL_ARG_DST), true, NULL, op, &dst);
    if (s != CNN_OK) {
        dnnl_primitive_desc_destroy(pd);
        return s;
    }
    dnnl_memory_desc_t dst_md = *arg_md(pd, DNNL_ARG_DST);
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, b->cur},
                               {DNNL_ARG_WEIGHTS, wmem},
                               {DNNL_ARG_BIAS, bmem},
                               {DNNL_ARG_DST, dst}};
    if ((s = add_step(b->s, pd, op, 4, args)) != CNN_OK)
        return s;
    b->cur = dst;
    b->cur_md = dst_md;
    return CNN_OK;
}

static cnn_status plan_conv(q_builder *b, q_layer *l)
{
    const char *op = l->name;
    const cnn_conv2d_params *p = &l->conv;
    int64_t y[4], g = p->groups, *x = b->size;
    cnn_status s = cnn_conv2d_output_size(p, 4, x, 4, l->w, y);
    if (s != CNN_OK)
        return named(l, s);
    int64_t src[4] = {x[3], x[2], x[1], x[0]}, dst[4] = {y[3], y[2], y[1], y[0]};
    int64_t wei[5] = {g, l->w[3] / g, l->w[2], l->w[1], l->w[0]};
    dnnl_memory_desc_t src_md, wei_md, bias_md, dst_md, user;
    md_any(&src_md, 4, src, cnn_qrange_type(b->range));
    md_any(&wei_md, g > 1 ? 5 : 4, g > 1 ? wei : wei + 1, dnnl_s8);
    md_any(&dst_md, 4, dst, cnn_qrange_type(l->out));
    /* the weight tensor's own bytes: oihw, or goihw with groups */
    cnn_md_plain(&user, g > 1 ? 5 : 4, g > 1 ? wei : wei + 1);
    dnnl_dims_t bias_dims = {l->outs};
    CNN_DNNL_TRY(op,
                 dnnl_memory_desc_init_by_tag(&bias_md, 1, bias_dims, dnnl_f32, dnnl_a));
    cnn_window win = {.kernel = {l->w[0], l->w[1]}};
    memcpy(win.stride, p->stride, sizeof win.stride);
    memcpy(win.pad, p->pad, sizeof win.pad);
    memcpy(win.dilation, p->dilation, sizeof win.dilation);
    dnnl_dims_t strides, kernel, dilates, pad_l, pad_r;
    cnn_window_dnnl(&win, strides, kernel, dilates, pad_l, pad_r);
    dnnl_convolution_desc_t d;
    CNN_DNNL_TRY(op, dnnl_dilated_convolution_forward_desc_init(
                         &d, dnnl_forward_inference, dnnl_convolution_direct, &src_md,
                         &wei_md, &bias_md, &dst_md, strides, dilates, pad_l, pad_r));
    dnnl_primitive_desc_t pd;
    if ((s = scaled_pd(&d, l->outs, 1 << 1, l->oscale, l->relu, op, &pd)) != CNN_OK ||
        (s = weighted_step(b, l, pd, &user, g > 1 ? 3 : 1, NULL)) != CNN_OK)
        return s;
    memcpy(b->size, y, sizeof b->size);
    b->range = l->out;
    return CNN_OK;
}

/* The core's own max pooling of an nhwc int8 activation into nhwc. */
static cnn_status own_max_pool(q_builder *b, const cnn_pool2d_params *p,
                               const int64_t *src, const int64_t *dst, const char *op)
{
    q_pool_geometry g = {.is_signed = !b->range.nonnegative};
    memcpy(g.dims, src, sizeof g.dims);
    g.out[0] = dst[2];
    g.out[1] = dst[3];
    g.kernel[0] = p->window[1];
    g.kernel[1] = p->window[0];
    g.stride[0] = p->stride[1];
    g.stride[1] = p->stride[0];
    dnnl_memory_desc_t out_md;
    dnnl_dims_t dd = {dst[0], dst[1], dst[2], dst[3]};
    CNN_DNNL_TRY(op, dnnl_memory_desc_init_by_tag(&out_md, 4, dd,
                                                  cnn_qrange_type(b->range), dnnl_acdb));
    cnn_status s = next_activation(b, NULL, &out_md, op);
    if (s == CNN_OK)
        b->s->steps[b->s->nsteps - 1].pool = g;
    return s;
}

/* oneDNN's pooling, its result in the layout it picks for its input's. */
static cnn_status onednn_pool(q_builder *b, const cnn_pool2d_params *p,
                              const int64_t *dst, const char *op)
{
    dnnl_memory_desc_t dst_md;
    md_any(&dst_md, 4, dst, cnn_qrange_type(b->range));
    cnn_window win = {.dilation = {1, 1}};
    memcpy(win.kernel, p->window, sizeof win.kernel);
    memcpy(win.stride, p->stride, sizeof win.stride);
    memcpy(win.pad, p->pad, sizeof win.pad);
    dnnl_dims_t strides, kernel, dilates, pad_l, pad_r;
    cnn_window_dnnl(&win, strides, kernel, dilates, pad_l, pad_r);
    dnnl_alg_kind_t alg = p->kind == CNN_POOL_MAX ? dnnl_pooling_max
                          : p->exclude_padding    ? dnnl_pooling_avg_exclude_padding
                                                  : dnnl_pooling_avg_include_padding;
    dnnl_pooling_v2_desc_t d;
    CNN_DNNL_TRY(op, dnnl_pooling_v2_forward_desc_init(&d, dnnl_forward_inference, alg,
                                                       &b->cur_md, &dst_md, strides,
                                                       kernel, dilates, pad_l, pad_r));
    dnnl_primitive_desc_t pd;
    CNN_DNNL_TRY(op, dnnl_primitive_desc_create(&pd, &d, NULL, cnn_engine(), NULL));
    dnnl_memory_desc_t out_md = *arg_md(pd, DNNL_ARG_DST);
    return next_activation(b, pd, &out_md, op);
}

static cnn_status plan_pool(q_builder *b, q_layer *l)
{
    const char *op = l->name;
    const cnn_pool2d_params *p = &l->pool;
    int64_t y[4], *x = b->size;
    cnn_status s = cnn_pool2d_output_size(p, 4, x, y);
    if (s != CNN_OK)
        return named(l, s);
    int64_t src[4] = {x[3], x[2], x[1], x[0]}, dst[4] = {y[3], y[2], y[1], y[0]};
    dnnl_memory_desc_t nhwc;
    dnnl_dims_t sd = {src[0], src[1], src[2], src[3]};
    CNN_DNNL_TRY(op, dnnl_memory_desc_init_by_tag(&nhwc, 4, sd, cnn_qrange_type(b->range),
                                                  dnnl_acdb));
    /* the input itself is pooled: quantized into nhwc first */
    if (b->cur_input && (s = to_layout(b, &nhwc, op)) != CNN_OK)
        return s;
    bool unpadded = !p->pad[0] && !p->pad[1] && !p->pad[2] && !p->pad[3];
    if (p->kind == CNN_POOL_MAX && unpadded && dnnl_memory_desc_equal(&b->cur_md, &nhwc))
        s = own_max_pool(b, p, src, dst, op);
    else
        s = onednn_pool(b, p, dst, op);
    if (s == CNN_OK)
        memcpy(b->size, y, sizeof b->size);
    return s;
}

static void plan_flatten(q_builder *b)
{
    memcpy(b->size4, b->size, sizeof b->size4);
    b->size[0] = b->size[0] * b->size[1] * b->size[2];
    b->size[1] = b->size4[3];
    b->ndims = 2;
    b->flat = true;
}

/* The plain Float32 descriptor of the current sizes (4-D after a
 * flatten: the same bytes as features×N). */
static void result_md(const q_builder *b, dnnl_memory_desc_t *md)
{
    const int64_t *size = b->flat ? b->size4 : b->size;
    int ndims = b->flat ? 4 : b->ndims;
    int64_t dims[4];
    for (int i = 0; i < ndims; i++)
        dims[i] = size[ndims - 1 - i];
    cnn_md_plain(md, ndims, dims);
}

static cnn_status plan_dense(q_builder *b, q_layer *l)
{
    const char *op = l->name;
    int64_t out = l->w[0], in = l->w[1], n = b->size[1];
    if (b->size[0] != in) {
        char xs[128];
        return cnn_fail(CNN_ERR_SHAPE, "%s: input has %lld features (%s), expected %lld",
                        op, (long long)b->size[0],
                        cnn_sizes_string(b->size, 2, xs, sizeof xs), (long long)in);
    }
    const int64_t *s4 = b->size4;
    int nd = b->flat ? 4 : 2;
    int64_t src[4] = {n, in}, wei[4] = {out, in}, dst[2] = {n, out};
    if (b->flat) {
        int64_t chw[3] = {s4[2], s4[1], s4[0]};
        memcpy(src + 1, chw, sizeof chw);
        memcpy(wei + 1, chw, sizeof chw);
    }
    dnnl_memory_desc_t src_md, wei_md, bias_md, dst_md, user;
    md_any(&src_md, nd, src, cnn_qrange_type(b->range));
    md_any(&wei_md, nd, wei, dnnl_s8);
    dnnl_dims_t bias_dims = {out}, dd = {n, out};
    CNN_DNNL_TRY(op,
                 dnnl_memory_desc_init_by_tag(&bias_md, 1, bias_dims, dnnl_f32, dnnl_a));
    if (l->f32_out)
        CNN_DNNL_TRY(op, dnnl_memory_desc_init_by_tag(&dst_md, 2, dd, dnnl_f32, dnnl_ab));
    else
        md_any(&dst_md, 2, dst, cnn_qrange_type(l->out));
    /* Flux's out×in column-major weight: element (o, f) at o + out·f, f
     * running over W fastest, then H, then C after a flatten */
    dnnl_dims_t wdims, wstrides;
    for (int i = 0; i < nd; i++)
        wdims[i] = wei[i];
    wstrides[0] = 1;
    if (b->flat) {
        wstrides[1] = out * s4[1] * s4[0];
        wstrides[2] = out * s4[0];
        wstrides[3] = out;
    } else {
        wstrides[1] = out;
    }
    CNN_DNNL_TRY(op,
                 dnnl_memory_desc_init_by_strides(&user, nd, wdims, dnnl_f32, wstrides));
    /* the int8 activation as it is, if the primitive takes its layout;
     * else the layout the primitive prefers, after a reorder */
    dnnl_inner_product_desc_t d;
    dnnl_primitive_desc_t pd;
    cnn_status s = CNN_ERR_DNNL;
    if (!b->cur_input &&
        dnnl_inner_product_forward_desc_init(&d, dnnl_forward_inference, &b->cur_md,
                                             &wei_md, &bias_md, &dst_md) == dnnl_success)
        s = scaled_pd(&d, out, 1 << 1, l->oscale, l->relu, op, &pd);
    if (s != CNN_OK) {
        CNN_DNNL_TRY(op, dnnl_inner_product_forward_desc_init(&d, dnnl_forward_inference,
                                                              &src_md, &wei_md, &bias_md,
                                                              &dst_md));
        if ((s = scaled_pd(&d, out, 1 << 1, l->oscale, l->relu, op, &pd)) != CNN_OK)
            return s;
    }
    if (l->f32_out) {
        s = add_memory(b->s, &dst_md, false, NULL, op, &b->s->y_mem);
        if (s != CNN_OK) {
            dnnl_primitive_desc_destroy(pd);
            return s;
        }
    }
    if ((s = weighted_step(b, l, pd, &user, 1, l->f32_out ? b->s->y_mem : NULL)) !=
        CNN_OK)
        return s;
    b->size[0] = out;
    b->ndims = 2;
    b->flat = false;
    b->cur_f32 = l->f32_out;
    b->range = l->out;
    return CNN_OK;
}

static cnn_status plan_softmax(q_builder *b, q_layer *l)
{
    const char *op = l->name;
    dnnl_softmax_v2_desc_t d;
    CNN_DNNL_TRY(op, dnnl_softmax_v2_forward_desc_init(&d, dnnl_forward_inference,
                                                       dnnl_softmax_accurate, &b->cur_md,
                                                       &b->cur_md, 1));
    dnnl_primitive_desc_t pd;
    CNN_DNNL_TRY(op, dnnl_primitive_desc_create(&pd, &d, NULL, cnn_engine(), NULL));
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, b->cur}, {DNNL_ARG_DST, b->cur}};
    return add_step(b->s, pd, op, 2, args);
}

/* The int8 result (or the untouched input) converted into the caller's
 * Float32 result, divided by its scale. */
static cnn_status plan_result(q_builder *b)
{
    const char *op = "quantized result";
    dnnl_memory_desc_t md;
    result_md(b, &md);
    float scale = b->cur_input ? 1.0f : 1.0f / cnn_qrange_scale(b->range);
    dnnl_primitive_desc_t pd;
    cnn_status s = reorder_pd(&b->cur_md, &md, 1, 0, &scale, op, &pd);
    if (s == CNN_OK)
        s = add_memory(b->s, &md, false, NULL, op, &b->s->y_mem);
    if (s != CNN_OK) {
        dnnl_primitive_desc_destroy(pd);
        return s;
    }
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, b->cur}, {DNNL_ARG_DST, b->s->y_mem}};
    return add_step(b->s, pd, op, 2, args);
}

static cnn_status plan_layers(cnn_qnet *net, q_builder *b)
{
    cnn_status s = CNN_OK;
    for (int i = 0; i < net->count && s == CNN_OK; i++) {
        q_layer *l = &net->layers[i];
        switch (l->kind) {
        case Q_CONV: s = plan_conv(b, l); break;
        case Q_POOL: s = plan_pool(b, l); break;
        case Q_FLATTEN: plan_flatten(b); break;
        case Q_DENSE: s = plan_dense(b, l); break;
        case Q_SOFTMAX: s = plan_softmax(b, l); break;
        }
    }
    if (s == CNN_OK && !b->cur_f32)
        s = plan_result(b);
    return s;
}

cnn_status cnn_qnet_steps_make(cnn_qnet *net, int ndims, const int64_t *x,
                               cnn_qnet_steps **out)
{
    const char *op = "quantized input";
    *out = NULL;
    cnn_qnet_steps *s = calloc(1, sizeof *s);
    if (!s)
        return cnn_fail(CNN_ERR_NOMEM, "out of memory for a plan");
    s->ndims = ndims;
    memcpy(s->x, x, (size_t)ndims * sizeof *x);
    q_builder b = {.s = s, .cur_input = true, .range = net->input, .ndims = ndims};
    memcpy(b.size, x, (size_t)ndims * sizeof *x);
    result_md(&b, &b.cur_md);
    cnn_status st = add_memory(s, &b.cur_md, false, NULL, op, &s->x_mem);
    b.cur = s->x_mem;
    if (st == CNN_OK)
        st = plan_layers(net, &b);
    if (st != CNN_OK) {
        cnn_qnet_steps_free(s);
        return st;
    }
    cnn_plan_output_of(&s->out, b.ndims, b.size, NULL, 0);
    *out = s;
    return CNN_OK;
}

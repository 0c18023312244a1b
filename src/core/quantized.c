#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "operand.h"
#include "quantized_net.h"

/* The plans a network keeps: a model evaluated in slices needs two (the
 * slices and the last, shorter one); more sizes replace the oldest. */
#define Q_PLANS_KEPT 4

float cnn_qrange_scale(cnn_qrange r) { return (r.nonnegative ? 255.0f : 127.0f) / r.max; }

dnnl_data_type_t cnn_qrange_type(cnn_qrange r)
{
    return r.nonnegative ? dnnl_u8 : dnnl_s8;
}

static cnn_status check_range(const char *what, cnn_qrange r)
{
    if (!(r.max > 0) || !isfinite(r.max))
        return cnn_fail(CNN_ERR_ARG, "%s: the range must be positive and finite, got %g",
                        what, (double)r.max);
    return CNN_OK;
}

cnn_status cnn_qnet_create(int input_ndims, cnn_qrange input, cnn_qnet **out)
{
    *out = NULL;
    if (input_ndims != 2 && input_ndims != 4)
        return cnn_fail(CNN_ERR_ARG, "the input must be 2-D or 4-D, got %d-D",
                        input_ndims);
    cnn_status s = check_range("input", input);
    if (s != CNN_OK)
        return s;
    cnn_qnet *net = calloc(1, sizeof *net);
    if (!net)
        return cnn_fail(CNN_ERR_NOMEM, "out of memory for a quantized network");
    net->input_ndims = input_ndims;
    net->input = input;
    net->ndims_now = input_ndims;
    net->range_now = input;
    *out = net;
    return CNN_OK;
}

static void free_layer(q_layer *l)
{
    free(l->weight);
    free(l->wscale);
    free(l->oscale);
    free(l->bias);
    for (q_weights *w = l->converted, *next; w; w = next) {
        next = w->next;
        free(w->data);
        free(w);
    }
}

void cnn_qnet_free(cnn_qnet *net)
{
    if (!net)
        return;
    for (cnn_qnet_steps *p = net->plans, *next; p; p = next) {
        next = p->next;
        cnn_qnet_steps_free(p);
    }
    for (int i = 0; i < net->count; i++)
        free_layer(&net->layers[i]);
    free(net->layers);
    free(net);
}

int cnn_qnet_layer_count(const cnn_qnet *net) { return net->count; }

int cnn_qnet_plan_count(const cnn_qnet *net)
{
    int n = 0;
    for (const cnn_qnet_steps *p = net->plans; p; p = p->next)
        n++;
    return n;
}

/* Layers may follow only an int8 result: a Float32 one (a dense layer
 * without range) takes a softmax and ends the network. */
static cnn_status check_open(const cnn_qnet *net, const char *name, q_kind kind)
{
    if (net->ended)
        return cnn_fail(CNN_ERR_ARG, "%s: no layer can follow %s, the last", name,
                        net->layers[net->count - 1].name);
    if (net->f32_now && kind != Q_SOFTMAX)
        return cnn_fail(CNN_ERR_ARG,
                        "%s: no layer can follow %s, whose result is Float32 (only a "
                        "softmax, last)",
                        name, net->layers[net->count - 1].name);
    return CNN_OK;
}

/* A new layer at the end, or NULL (and the failure in *s). */
static q_layer *append(cnn_qnet *net, q_kind kind, const char *name, cnn_status *s)
{
    if ((*s = check_open(net, name, kind)) != CNN_OK)
        return NULL;
    if (net->count == net->capacity) {
        int cap = net->capacity ? 2 * net->capacity : 8;
        q_layer *grown = realloc(net->layers, (size_t)cap * sizeof *grown);
        if (!grown) {
            *s = cnn_fail(CNN_ERR_NOMEM, "%s: out of memory", name);
            return NULL;
        }
        net->layers = grown;
        net->capacity = cap;
    }
    q_layer *l = &net->layers[net->count];
    memset(l, 0, sizeof *l);
    l->kind = kind;
    snprintf(l->name, sizeof l->name, "%s", name);
    return l;
}

static cnn_status check_rank(const cnn_qnet *net, const char *name, int ndims,
                             const char *layout)
{
    cnn_status s = check_open(net, name, Q_CONV);
    if (s != CNN_OK)
        return s;
    if (net->ndims_now != ndims)
        return cnn_fail(CNN_ERR_SHAPE,
                        "%s: takes a %d-D input (%s), the layers before give %d-D", name,
                        ndims, layout, net->ndims_now);
    return CNN_OK;
}

/* A weight's copy, its per-output-channel scales 127 / max|w| (1 for a
 * channel of zeros), the output scales oscale and the bias in the units
 * of the sums: out_scale / (in_scale · wscale) and b · in_scale · wscale.
 * Output channel o holds the elements o·per .. (o + 1)·per - 1 when
 * 'channel_last' (a convolution's kW×kH×Cin×Cout) and o, o + outs, ...
 * otherwise (a dense weight, out×in column-major). */
static cnn_status quantize_weights(q_layer *l, const cnn_tensor *w, const cnn_tensor *b,
                                   bool channel_last, float in_scale, float out_scale)
{
    int64_t n = cnn_tensor_numel(w), outs = l->outs, per = n / outs;
    l->weight = malloc((size_t)n * sizeof *l->weight);
    l->wscale = malloc((size_t)outs * sizeof *l->wscale);
    l->oscale = malloc((size_t)outs * sizeof *l->oscale);
    l->bias = calloc((size_t)outs, sizeof *l->bias);
    if (!l->weight || !l->wscale || !l->oscale || !l->bias)
        return cnn_fail(CNN_ERR_NOMEM, "%s: out of memory", l->name);
    memcpy(l->weight, cnn_tensor_f32(w), (size_t)n * sizeof *l->weight);
    const float *bias = b ? cnn_tensor_f32(b) : NULL;
    for (int64_t o = 0; o < outs; o++) {
        float m = 0;
        for (int64_t k = 0; k < per; k++) {
            float v = l->weight[channel_last ? o * per + k : o + k * outs];
            if (!isfinite(v))
                return cnn_fail(
                    CNN_ERR_ARG, "%s: weight %lld is %g", l->name,
                    (long long)((channel_last ? o * per + k : o + k * outs) + 1),
                    (double)v);
            m = fmaxf(m, fabsf(v));
        }
        l->wscale[o] = m > 0 ? 127.0f / m : 1.0f;
        l->oscale[o] = out_scale / (in_scale * l->wscale[o]);
        if (bias) {
            if (!isfinite(bias[o]))
                return cnn_fail(CNN_ERR_ARG, "%s: bias %lld is %g", l->name,
                                (long long)(o + 1), (double)bias[o]);
            l->bias[o] = bias[o] * in_scale * l->wscale[o];
        }
    }
    return CNN_OK;
}

static cnn_status check_bias(const char *name, const cnn_tensor *b, int64_t outs)
{
    if (b && (b->ndims != 1 || b->size[0] != outs)) {
        char bs[128];
        return cnn_fail(CNN_ERR_SHAPE, "%s: bias is %s, expected %lld", name,
                        cnn_shape_string(b, bs, sizeof bs), (long long)outs);
    }
    return CNN_OK;
}

/* A weight or bias must be whole, plain and Float32 (the bindings give
 * contiguous copies). */
static cnn_status check_plain(const char *name, const char *what, const cnn_tensor *t)
{
    if (t && cnn_tensor_numel(t) == 0) {
        char ts[128];
        return cnn_fail(CNN_ERR_SHAPE, "%s: the %s has no elements (%s)", name, what,
                        cnn_shape_string(t, ts, sizeof ts));
    }
    if (t && (t->dtype != CNN_FLOAT32 || t->blocked || !cnn_tensor_is_contiguous(t)))
        return cnn_fail(CNN_ERR_ARG, "%s: the %s must be a contiguous Float32 tensor",
                        name, what);
    return CNN_OK;
}

cnn_status cnn_qnet_add_conv(cnn_qnet *net, const char *name, const cnn_conv2d_params *p,
                             const cnn_tensor *w, const cnn_tensor *b, cnn_qrange out)
{
    cnn_status s;
    if ((s = check_rank(net, name, 4, "W×H×C×N")) != CNN_OK ||
        (s = check_plain(name, "weight", w)) != CNN_OK ||
        (s = check_plain(name, "bias", b)) != CNN_OK ||
        (s = check_range(name, out)) != CNN_OK)
        return s;
    if (w->ndims != 4) {
        char ws[128];
        return cnn_fail(CNN_ERR_SHAPE, "%s: weight must be 4-D (kW×kH×Cin×Cout), got %s",
                        name, cnn_shape_string(w, ws, sizeof ws));
    }
    if (p->activation != CNN_CONV_IDENTITY && p->activation != CNN_CONV_RELU)
        return cnn_fail(CNN_ERR_ARG, "%s: only a relu is fused into an int8 convolution",
                        name);
    if (p->groups < 1 || w->size[3] % p->groups)
        return cnn_fail(CNN_ERR_SHAPE, "%s: %lld output channels in %lld groups", name,
                        (long long)w->size[3], (long long)p->groups);
    if ((s = check_bias(name, b, w->size[3])) != CNN_OK)
        return s;
    q_layer *l = append(net, Q_CONV, name, &s);
    if (!l)
        return s;
    l->conv = *p;
    l->relu = p->activation == CNN_CONV_RELU;
    l->out = out;
    memcpy(l->w, w->size, sizeof l->w);
    l->outs = w->size[3];
    net->count++;
    s = quantize_weights(l, w, b, true, cnn_qrange_scale(net->range_now),
                         cnn_qrange_scale(out));
    if (s != CNN_OK) {
        net->count--;
        free_layer(l);
        return s;
    }
    net->range_now = out;
    return CNN_OK;
}

cnn_status cnn_qnet_add_pool(cnn_qnet *net, const char *name, const cnn_pool2d_params *p)
{
    cnn_status s = check_rank(net, name, 4, "W×H×C×N");
    if (s != CNN_OK)
        return s;
    q_layer *l = append(net, Q_POOL, name, &s);
    if (!l)
        return s;
    l->pool = *p;
    l->pool.inference = true;
    l->out = net->range_now;
    net->count++;
    return CNN_OK;
}

cnn_status cnn_qnet_add_flatten(cnn_qnet *net, const char *name)
{
    cnn_status s = check_rank(net, name, 4, "W×H×C×N");
    if (s != CNN_OK)
        return s;
    q_layer *l = append(net, Q_FLATTEN, name, &s);
    if (!l)
        return s;
    l->out = net->range_now;
    net->count++;
    net->ndims_now = 2;
    return CNN_OK;
}

cnn_status cnn_qnet_add_dense(cnn_qnet *net, const char *name, const cnn_tensor *w,
                              const cnn_tensor *b, bool relu, const cnn_qrange *out)
{
    cnn_status s;
    if ((s = check_rank(net, name, 2, "features×N")) != CNN_OK ||
        (s = check_plain(name, "weight", w)) != CNN_OK ||
        (s = check_plain(name, "bias", b)) != CNN_OK ||
        (out && (s = check_range(name, *out)) != CNN_OK))
        return s;
    if (w->ndims != 2) {
        char ws[128];
        return cnn_fail(CNN_ERR_SHAPE, "%s: weight must be 2-D (out×in), got %s", name,
                        cnn_shape_string(w, ws, sizeof ws));
    }
    if ((s = check_bias(name, b, w->size[0])) != CNN_OK)
        return s;
    q_layer *l = append(net, Q_DENSE, name, &s);
    if (!l)
        return s;
    l->relu = relu;
    l->f32_out = out == NULL;
    if (out)
        l->out = *out;
    l->w[0] = w->size[0];
    l->w[1] = w->size[1];
    l->outs = w->size[0];
    net->count++;
    s = quantize_weights(l, w, b, false, cnn_qrange_scale(net->range_now),
                         out ? cnn_qrange_scale(*out) : 1.0f);
    if (s != CNN_OK) {
        net->count--;
        free_layer(l);
        return s;
    }
    if (out)
        net->range_now = *out;
    net->f32_now = out == NULL;
    return CNN_OK;
}

cnn_status cnn_qnet_add_softmax(cnn_qnet *net, const char *name)
{
    if (!net->f32_now)
        return cnn_fail(CNN_ERR_ARG,
                        "%s: runs on the Float32 result of a last dense layer only",
                        name);
    cnn_status s;
    q_layer *l = append(net, Q_SOFTMAX, name, &s);
    if (!l)
        return s;
    net->count++;
    net->ended = true;
    return CNN_OK;
}

/* The kept plan for x's sizes and the thread count, moved to the front;
 * NULL if there is none. */
static cnn_qnet_steps *find_plan(cnn_qnet *net, const cnn_tensor *x, int threads)
{
    cnn_qnet_steps **at = &net->plans;
    for (cnn_qnet_steps *p = net->plans; p; at = &p->next, p = p->next) {
        if (p->threads != threads || p->ndims != x->ndims ||
            memcmp(p->x, x->size, (size_t)x->ndims * sizeof *p->x))
            continue;
        *at = p->next;
        p->next = net->plans;
        net->plans = p;
        return p;
    }
    return NULL;
}

static void keep_plan(cnn_qnet *net, cnn_qnet_steps *p)
{
    p->next = net->plans;
    net->plans = p;
    int n = 1;
    for (cnn_qnet_steps *q = p; q->next; q = q->next, n++) {
        if (n == Q_PLANS_KEPT) {
            cnn_qnet_steps *drop = q->next;
            q->next = NULL;
            for (cnn_qnet_steps *next; drop; drop = next) {
                next = drop->next;
                cnn_qnet_steps_free(drop);
            }
            break;
        }
    }
}

cnn_status cnn_qnet_plan_forward(cnn_qnet_plan *plan, cnn_qnet *net, const cnn_tensor *x)
{
    memset(plan, 0, sizeof *plan);
    plan->net = net;
    char xs[128];
    cnn_status s = cnn_check_operand(x, "input", 0, NULL);
    if (s != CNN_OK)
        return s;
    if (net->count == 0)
        return cnn_fail(CNN_ERR_ARG, "the network has no layers");
    if (x->ndims != net->input_ndims)
        return cnn_fail(CNN_ERR_SHAPE, "input must be %d-D (%s), got %s",
                        net->input_ndims,
                        net->input_ndims == 4 ? "W×H×C×N" : "features×N",
                        cnn_shape_string(x, xs, sizeof xs));
    if (cnn_tensor_numel(x) == 0)
        return cnn_fail(CNN_ERR_SHAPE, "input has no elements (%s)",
                        cnn_shape_string(x, xs, sizeof xs));
    int threads = cnn_get_num_threads();
    cnn_qnet_steps *steps = find_plan(net, x, threads);
    if (!steps) {
        if ((s = cnn_qnet_steps_make(net, x->ndims, x->size, &steps)) != CNN_OK)
            return s;
        steps->threads = threads;
        keep_plan(net, steps);
    }
    plan->steps = steps;
    plan->out[0] = steps->out;
    return CNN_OK;
}

cnn_status cnn_qnet_run_forward(const cnn_qnet_plan *plan, const cnn_tensor *x,
                                cnn_tensor *y)
{
    const char *op = "quantized";
    cnn_qnet_steps *s = plan->steps;
    if (!cnn_tensor_is_contiguous(x) || x->blocked || !cnn_tensor_is_contiguous(y) ||
        y->blocked)
        return cnn_fail(CNN_ERR_ARG, "%s: input and result must be plain and contiguous",
                        op);
    CNN_DNNL_TRY(op, dnnl_memory_set_data_handle(s->x_mem, cnn_tensor_data(x)));
    CNN_DNNL_TRY(op, dnnl_memory_set_data_handle(s->y_mem, cnn_tensor_data(y)));
    for (int i = 0; i < s->nsteps; i++) {
        const q_step *step = &s->steps[i];
        if (!step->prim.primitive) {
            double start = cnn_kernel_start();
            void *from = NULL, *to = NULL;
            CNN_DNNL_TRY(op, dnnl_memory_get_data_handle(step->args[0].memory, &from));
            CNN_DNNL_TRY(op, dnnl_memory_get_data_handle(step->args[1].memory, &to));
            cnn_qpool_max(&step->pool, from, to);
            cnn_kernel_done(CNN_PROFILE_POOL_FORWARD, start);
            continue;
        }
        cnn_status st = cnn_primitive_run(&step->prim, step->nargs, step->args, op);
        if (st != CNN_OK)
            return st;
    }
    return CNN_OK;
}

#include "adaptive_pool.h"

#include <math.h>
#include <string.h>

#include "context.h"
#include "exec.h"
#include "memory_desc.h"
#include "operand.h"

/* Below this many outputs one thread does the work. */
#define PARALLEL_MIN 4096

cnn_status cnn_adaptive_pool_output_size(const cnn_adaptive_pool_params *p, int x_ndims,
                                         const int64_t *x, int64_t y[4])
{
    char xs[128];
    cnn_sizes_string(x, x_ndims, xs, sizeof xs);
    if (p->kind != CNN_POOL_MAX && p->kind != CNN_POOL_MEAN)
        return cnn_fail(CNN_ERR_ARG, "unknown pooling kind %d", (int)p->kind);
    if (x_ndims != 4)
        return cnn_fail(CNN_ERR_SHAPE, "input must be 4-D (W×H×C×N), got %s", xs);
    if (p->out[0] < 1 || p->out[1] < 1)
        return cnn_fail(CNN_ERR_ARG, "output sizes must be positive, got %lld×%lld",
                        (long long)p->out[0], (long long)p->out[1]);
    if (x[0] < 1 || x[1] < 1)
        return cnn_fail(CNN_ERR_SHAPE, "input %s has no pixels to pool", xs);
    y[0] = p->out[0];
    y[1] = p->out[1];
    y[2] = x[2];
    y[3] = x[3];
    return CNN_OK;
}

/* The window of output i: inputs [*lo, *hi). */
static void window(int64_t i, int64_t in, int64_t out, int64_t *lo, int64_t *hi)
{
    *lo = i * in / out;
    *hi = ((i + 1) * in + out - 1) / out;
}

static void plan_begin(cnn_adaptive_pool_plan *plan, const cnn_adaptive_pool_params *p,
                       const int64_t *x, const int64_t *y, const int64_t *result)
{
    memset(plan, 0, sizeof *plan);
    plan->params = *p;
    memcpy(plan->x, x, sizeof plan->x);
    memcpy(plan->y, y, sizeof plan->y);
    plan->out.ndims = 4;
    memcpy(plan->out.size, result, sizeof plan->x);
}

cnn_status cnn_adaptive_pool_plan_forward(cnn_adaptive_pool_plan *plan,
                                          const cnn_adaptive_pool_params *p,
                                          const cnn_tensor *x)
{
    int64_t y[4];
    cnn_status s;
    if ((s = cnn_check_operand(x, "input", 0, NULL)) != CNN_OK ||
        (s = cnn_adaptive_pool_output_size(p, x->ndims, x->size, y)) != CNN_OK)
        return s;
    plan_begin(plan, p, x->size, y, y);
    return CNN_OK;
}

/* The position in plane 'in' (W×H) of the first largest element of the
 * window, a NaN if there is one. */
static int64_t argmax(const float *in, int64_t w, int64_t xlo, int64_t xhi, int64_t ylo,
                      int64_t yhi)
{
    int64_t best = ylo * w + xlo;
    float m = in[best];
    if (isnan(m))
        return best;
    for (int64_t j = ylo; j < yhi; j++)
        for (int64_t i = xlo; i < xhi; i++) {
            float v = in[j * w + i];
            if (isnan(v))
                return j * w + i;
            if (v > m) {
                m = v;
                best = j * w + i;
            }
        }
    return best;
}

static void forward_plane(const cnn_adaptive_pool_params *p, const int64_t *xs,
                          const float *in, float *out)
{
    int64_t w = xs[0], h = xs[1], ow = p->out[0], oh = p->out[1];
    for (int64_t oj = 0; oj < oh; oj++) {
        int64_t ylo, yhi;
        window(oj, h, oh, &ylo, &yhi);
        for (int64_t oi = 0; oi < ow; oi++) {
            int64_t xlo, xhi;
            window(oi, w, ow, &xlo, &xhi);
            if (p->kind == CNN_POOL_MAX) {
                out[oj * ow + oi] = in[argmax(in, w, xlo, xhi, ylo, yhi)];
                continue;
            }
            double sum = 0;
            for (int64_t j = ylo; j < yhi; j++)
                for (int64_t i = xlo; i < xhi; i++)
                    sum += in[j * w + i];
            out[oj * ow + oi] = (float)(sum / (double)((xhi - xlo) * (yhi - ylo)));
        }
    }
}

/* Adds each output's gradient to its window's inputs: windows overlap,
 * so the plane is zeroed first and summed into. */
static void backward_plane(const cnn_adaptive_pool_params *p, const int64_t *xs,
                           const float *g, const float *in, float *gin)
{
    int64_t w = xs[0], h = xs[1], ow = p->out[0], oh = p->out[1];
    memset(gin, 0, (size_t)(w * h) * sizeof *gin);
    for (int64_t oj = 0; oj < oh; oj++) {
        int64_t ylo, yhi;
        window(oj, h, oh, &ylo, &yhi);
        for (int64_t oi = 0; oi < ow; oi++) {
            int64_t xlo, xhi;
            window(oi, w, ow, &xlo, &xhi);
            float gv = g[oj * ow + oi];
            if (p->kind == CNN_POOL_MAX) {
                gin[argmax(in, w, xlo, xhi, ylo, yhi)] += gv;
                continue;
            }
            float share = gv / (float)((xhi - xlo) * (yhi - ylo));
            for (int64_t j = ylo; j < yhi; j++)
                for (int64_t i = xlo; i < xhi; i++)
                    gin[j * w + i] += share;
        }
    }
}

/* The elements of t in the plain layout: its own, or a copy in the
 * scratch buffer of 'slot' when a layer kernel left it blocked. */
static cnn_status plain_data(const cnn_tensor *t, int slot, const char *op,
                             const float **data)
{
    *data = cnn_tensor_f32(t);
    if (!t->blocked || !cnn_tensor_numel(t))
        return CNN_OK;
    dnnl_memory_desc_t md;
    cnn_md_of_tensor(&md, t);
    void *buf = cnn_scratch(slot, dnnl_memory_desc_get_size(&md));
    if (!buf)
        return cnn_fail(CNN_ERR_NOMEM, "%s: out of memory for a plain copy", op);
    *data = buf;
    return cnn_tensor_reorder(t, &md, buf, op);
}

cnn_status cnn_adaptive_pool_run_forward(const cnn_adaptive_pool_plan *plan,
                                         const cnn_tensor *x, cnn_tensor *y)
{
    const int64_t *xs = plan->x;
    int64_t planes = xs[2] * xs[3], in = xs[0] * xs[1], out = plan->y[0] * plan->y[1];
    const float *xd;
    float *yd = cnn_tensor_f32(y);
    cnn_status s = plain_data(x, 0, "adaptive_pool2d", &xd);
    if (s != CNN_OK)
        return s;
    double start = cnn_kernel_start();
#pragma omp parallel for if (planes * out > PARALLEL_MIN) schedule(static)
    for (int64_t k = 0; k < planes; k++)
        forward_plane(&plan->params, xs, xd + k * in, yd + k * out);
    cnn_kernel_done(CNN_PROFILE_POOL_FORWARD, start);
    return CNN_OK;
}

cnn_status cnn_adaptive_pool_plan_backward(cnn_adaptive_pool_plan *plan,
                                           const cnn_adaptive_pool_params *p,
                                           const cnn_tensor *gy, const cnn_tensor *x)
{
    int64_t y[4];
    cnn_status s;
    if ((s = cnn_check_operand(gy, "gradient", 0, NULL)) != CNN_OK ||
        (s = cnn_check_operand(x, "input", 0, NULL)) != CNN_OK ||
        (s = cnn_adaptive_pool_output_size(p, x->ndims, x->size, y)) != CNN_OK)
        return s;
    if (gy->ndims != 4 || memcmp(gy->size, y, sizeof y)) {
        char gs[128], xs[128], ys[128];
        return cnn_fail(CNN_ERR_SHAPE, "gradient is %s, output of input %s is %s",
                        cnn_shape_string(gy, gs, sizeof gs),
                        cnn_shape_string(x, xs, sizeof xs),
                        cnn_sizes_string(y, 4, ys, sizeof ys));
    }
    plan_begin(plan, p, x->size, y, x->size);
    return CNN_OK;
}

cnn_status cnn_adaptive_pool_run_backward(const cnn_adaptive_pool_plan *plan,
                                          const cnn_tensor *gy, const cnn_tensor *x,
                                          cnn_tensor *gx)
{
    const int64_t *xs = plan->x;
    int64_t planes = xs[2] * xs[3], in = xs[0] * xs[1], out = plan->y[0] * plan->y[1];
    const float *gd, *xd;
    float *gxd = cnn_tensor_f32(gx);
    const char *op = "adaptive_pool2d_backward";
    cnn_status s;
    if ((s = plain_data(gy, 0, op, &gd)) != CNN_OK ||
        (s = plain_data(x, 1, op, &xd)) != CNN_OK)
        return s;
    double start = cnn_kernel_start();
#pragma omp parallel for if (planes * in > PARALLEL_MIN) schedule(static)
    for (int64_t k = 0; k < planes; k++)
        backward_plane(&plan->params, xs, gd + k * out, xd + k * in, gxd + k * in);
    cnn_kernel_done(CNN_PROFILE_POOL_BACKWARD, start);
    return CNN_OK;
}

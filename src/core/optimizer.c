/* Fused optimiser updates (see optimizer.h for the formulas). Arithmetic is
 * in float, with the per-step scalars (bias corrections) worked out once in
 * double. */
#include "optimizer.h"

#include <math.h>

#define PARALLEL_THRESHOLD 32768

static cnn_status check_operand(const cnn_tensor *p, const cnn_tensor *t,
                                const char *what)
{
    char pbuf[128], tbuf[128];
    if (t->dtype != CNN_FLOAT32)
        return cnn_fail(CNN_ERR_ARG, "%s must be Float32, got %s", what,
                        cnn_dtype_name(t->dtype));
    if (!cnn_tensor_data(t))
        return cnn_fail(CNN_ERR_ARG, "%s was freed", what);
    if (!cnn_tensor_same_size(p, t))
        return cnn_fail(CNN_ERR_SHAPE, "%s %s does not match parameter %s", what,
                        cnn_shape_string(t, tbuf, sizeof tbuf),
                        cnn_shape_string(p, pbuf, sizeof pbuf));
    if (!cnn_tensor_is_contiguous(t))
        return cnn_fail(CNN_ERR_ARG, "%s must be contiguous", what);
    return CNN_OK;
}

/* Checks the parameter itself, then each of 'n' further operands. */
static cnn_status check_operands(const cnn_tensor *p, int n, const cnn_tensor *const *ts,
                                 const char *const *names)
{
    cnn_status s = check_operand(p, p, "parameter");
    for (int i = 0; s == CNN_OK && i < n; i++)
        s = check_operand(p, ts[i], names[i]);
    return s;
}

static cnn_status check_finite_positive(double x, const char *what)
{
    if (!isfinite(x) || x <= 0)
        return cnn_fail(CNN_ERR_ARG, "%s must be a positive number, got %g", what, x);
    return CNN_OK;
}

cnn_status cnn_descent_step(cnn_tensor *p, const cnn_tensor *g, double eta,
                            const cnn_grad_transforms *pre)
{
    const cnn_tensor *ops[] = {g};
    const char *names[] = {"gradient"};
    cnn_status s = check_operands(p, 1, ops, names);
    if (s == CNN_OK)
        s = cnn_grad_transforms_check(pre);
    if (s != CNN_OK)
        return s;
    float *pd = cnn_tensor_f32(p);
    const float *gd = cnn_tensor_f32(g);
    const int64_t n = cnn_tensor_numel(p);
    const float eta_f = (float)eta;
    const int64_t blocks = cnn_grad_blocks(n);
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (int64_t b = 0; b < blocks; b++) {
        float buf[CNN_GRAD_BLOCK];
        const int64_t i0 = b * CNN_GRAD_BLOCK, end = cnn_grad_block_end(n, b);
        const float *gb = cnn_grad_block(pre, gd, pd, i0, end, buf);
        for (int64_t i = i0; i < end; i++)
            pd[i] -= eta_f * gb[i - i0];
    }
    return CNN_OK;
}

/* v = rho v - eta g, and the parameter moves by d = d_rho v - d_eta g with
 * v before its update: momentum has d_rho = rho, d_eta = eta (so d is the
 * new v); Nesterov looks ahead with rho² and (1 + rho) eta. */
static cnn_status velocity_step(cnn_tensor *p, const cnn_tensor *g, cnn_tensor *v,
                                double eta, double rho, double d_rho, double d_eta,
                                const cnn_grad_transforms *pre)
{
    const cnn_tensor *ops[] = {g, v};
    const char *names[] = {"gradient", "velocity"};
    cnn_status s = check_operands(p, 2, ops, names);
    if (s == CNN_OK)
        s = cnn_grad_transforms_check(pre);
    if (s != CNN_OK)
        return s;
    float *pd = cnn_tensor_f32(p), *vd = cnn_tensor_f32(v);
    const float *gd = cnn_tensor_f32(g);
    const int64_t n = cnn_tensor_numel(p);
    const float eta_f = (float)eta, r = (float)rho;
    const float dr = (float)d_rho, dl = (float)d_eta;
    const int64_t blocks = cnn_grad_blocks(n);
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (int64_t b = 0; b < blocks; b++) {
        float buf[CNN_GRAD_BLOCK];
        const int64_t i0 = b * CNN_GRAD_BLOCK, end = cnn_grad_block_end(n, b);
        const float *gb = cnn_grad_block(pre, gd, pd, i0, end, buf);
        for (int64_t i = i0; i < end; i++) {
            const float gi = gb[i - i0];
            const float d = dr * vd[i] - dl * gi;
            vd[i] = r * vd[i] - eta_f * gi;
            pd[i] += d;
        }
    }
    return CNN_OK;
}

cnn_status cnn_momentum_step(cnn_tensor *p, const cnn_tensor *g, cnn_tensor *v,
                             double eta, double rho, const cnn_grad_transforms *pre)
{
    return velocity_step(p, g, v, eta, rho, rho, eta, pre);
}

cnn_status cnn_nesterov_step(cnn_tensor *p, const cnn_tensor *g, cnn_tensor *v,
                             double eta, double rho, const cnn_grad_transforms *pre)
{
    return velocity_step(p, g, v, eta, rho, rho * rho, (1 + rho) * eta, pre);
}

cnn_status cnn_rmsprop_step(cnn_tensor *p, const cnn_tensor *g, cnn_tensor *acc,
                            double eta, double rho, double eps,
                            const cnn_grad_transforms *pre)
{
    const cnn_tensor *ops[] = {g, acc};
    const char *names[] = {"gradient", "accumulator"};
    cnn_status s = check_operands(p, 2, ops, names);
    if (s == CNN_OK)
        s = check_finite_positive(eps, "eps");
    if (s == CNN_OK)
        s = cnn_grad_transforms_check(pre);
    if (s != CNN_OK)
        return s;
    float *pd = cnn_tensor_f32(p), *ad = cnn_tensor_f32(acc);
    const float *gd = cnn_tensor_f32(g);
    const int64_t n = cnn_tensor_numel(p);
    const float eta_f = (float)eta, r = (float)rho, e = (float)eps;
    const float keep = (float)(1 - rho);
    const int64_t blocks = cnn_grad_blocks(n);
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (int64_t b = 0; b < blocks; b++) {
        float buf[CNN_GRAD_BLOCK];
        const int64_t i0 = b * CNN_GRAD_BLOCK, end = cnn_grad_block_end(n, b);
        const float *gb = cnn_grad_block(pre, gd, pd, i0, end, buf);
        for (int64_t i = i0; i < end; i++) {
            const float gi = gb[i - i0];
            ad[i] = r * ad[i] + keep * gi * gi;
            pd[i] -= eta_f * gi / (sqrtf(ad[i]) + e);
        }
    }
    return CNN_OK;
}

static cnn_status check_adam_config(const cnn_adam_config *c)
{
    if (c->step < 1)
        return cnn_fail(CNN_ERR_ARG, "step must be at least 1, got %lld",
                        (long long)c->step);
    if (!(c->beta1 >= 0 && c->beta1 < 1) || !(c->beta2 >= 0 && c->beta2 < 1))
        return cnn_fail(CNN_ERR_ARG, "betas must lie in [0, 1), got %g and %g", c->beta1,
                        c->beta2);
    return check_finite_positive(c->eps, "eps");
}

cnn_status cnn_adam_step(cnn_tensor *p, const cnn_tensor *g, cnn_tensor *m, cnn_tensor *v,
                         const cnn_adam_config *c)
{
    const cnn_tensor *ops[] = {g, m, v};
    const char *names[] = {"gradient", "first moment", "second moment"};
    cnn_status s = check_operands(p, 3, ops, names);
    if (s == CNN_OK)
        s = check_adam_config(c);
    if (s == CNN_OK)
        s = cnn_grad_transforms_check(c->pre);
    if (s != CNN_OK)
        return s;
    float *pd = cnn_tensor_f32(p), *md = cnn_tensor_f32(m);
    float *vd = cnn_tensor_f32(v);
    const float *gd = cnn_tensor_f32(g);
    const int64_t n = cnn_tensor_numel(p);
    const double t = (double)c->step;
    const float b1 = (float)c->beta1, b2 = (float)c->beta2;
    const float k1 = (float)(1 - c->beta1), k2 = (float)(1 - c->beta2);
    const float step_size = (float)(c->eta / (1 - pow(c->beta1, t)));
    const float inv_sqrt_bc2 = (float)(1 / sqrt(1 - pow(c->beta2, t)));
    const float eps = (float)c->eps, decay = (float)c->decay;
    const int64_t blocks = cnn_grad_blocks(n);
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (int64_t b = 0; b < blocks; b++) {
        float buf[CNN_GRAD_BLOCK];
        const int64_t i0 = b * CNN_GRAD_BLOCK, end = cnn_grad_block_end(n, b);
        const float *gb = cnn_grad_block(c->pre, gd, pd, i0, end, buf);
        for (int64_t i = i0; i < end; i++) {
            const float gi = gb[i - i0];
            md[i] = b1 * md[i] + k1 * gi;
            vd[i] = b2 * vd[i] + k2 * gi * gi;
            const float denom = sqrtf(vd[i]) * inv_sqrt_bc2 + eps;
            pd[i] -= step_size * md[i] / denom + decay * pd[i];
        }
    }
    return CNN_OK;
}

/* The further optimiser rules (see optimizer_rules.h for the formulas).
 * Arithmetic is in float, the per-step scalars worked out once in double. */
#include "optimizer_rules.h"

#include <math.h>

#define PARALLEL_THRESHOLD 32768

static const struct {
    const char *name;
    int states;
    const char *state_names[3];
} rules[CNN_RULE_COUNT] = {
    [CNN_RULE_ADAGRAD] = {"adagrad", 1, {"accumulator"}},
    [CNN_RULE_ADADELTA] = {"adadelta", 2, {"accumulator", "update accumulator"}},
    [CNN_RULE_AMSGRAD] = {"amsgrad", 3, {"first moment", "second moment", "maximum"}},
    [CNN_RULE_NADAM] = {"nadam", 2, {"first moment", "second moment"}},
    [CNN_RULE_RADAM] = {"radam", 2, {"first moment", "second moment"}},
    [CNN_RULE_ADAMAX] = {"adamax", 2, {"first moment", "infinity norm"}},
    [CNN_RULE_ADABELIEF] = {"adabelief", 2, {"first moment", "belief"}},
    [CNN_RULE_LION] = {"lion", 1, {"momentum"}},
};

int cnn_rule_state_count(cnn_rule rule)
{
    return rule >= 0 && rule < CNN_RULE_COUNT ? rules[rule].states : 0;
}

const char *cnn_rule_name(cnn_rule rule)
{
    return rule >= 0 && rule < CNN_RULE_COUNT ? rules[rule].name : "unknown";
}

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

static cnn_status check_config(const cnn_rule_config *c)
{
    if (c->rule < 0 || c->rule >= CNN_RULE_COUNT)
        return cnn_fail(CNN_ERR_ARG, "unknown rule %d", (int)c->rule);
    if (c->step < 1)
        return cnn_fail(CNN_ERR_ARG, "step must be at least 1, got %lld",
                        (long long)c->step);
    if (!(c->eta >= 0) || !isfinite(c->eta))
        return cnn_fail(CNN_ERR_ARG, "eta must be a finite number >= 0, got %g", c->eta);
    if (!(c->beta1 >= 0 && c->beta1 < 1) || !(c->beta2 >= 0 && c->beta2 < 1))
        return cnn_fail(CNN_ERR_ARG, "betas must lie in [0, 1), got %g and %g", c->beta1,
                        c->beta2);
    if (!(c->rho >= 0 && c->rho < 1))
        return cnn_fail(CNN_ERR_ARG, "rho must lie in [0, 1), got %g", c->rho);
    if (c->rule != CNN_RULE_LION && (!isfinite(c->eps) || c->eps <= 0))
        return cnn_fail(CNN_ERR_ARG, "eps must be a positive number, got %g", c->eps);
    return cnn_grad_transforms_check(c->pre);
}

static void adagrad(int64_t n, float *pd, const float *gd, float *const *s,
                    const cnn_rule_config *c)
{
    float *a = s[0];
    const float eta = (float)c->eta, eps = (float)c->eps;
    const int64_t blocks = cnn_grad_blocks(n);
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (int64_t b = 0; b < blocks; b++) {
        float buf[CNN_GRAD_BLOCK];
        const int64_t i0 = b * CNN_GRAD_BLOCK, end = cnn_grad_block_end(n, b);
        const float *gb = cnn_grad_block(c->pre, gd, pd, i0, end, buf);
        for (int64_t i = i0; i < end; i++) {
            const float g = gb[i - i0];
            a[i] += g * g;
            pd[i] -= eta * g / (sqrtf(a[i]) + eps);
        }
    }
}

static void adadelta(int64_t n, float *pd, const float *gd, float *const *s,
                     const cnn_rule_config *c)
{
    float *a = s[0], *da = s[1];
    const float rho = (float)c->rho, keep = (float)(1 - c->rho), eps = (float)c->eps;
    const int64_t blocks = cnn_grad_blocks(n);
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (int64_t b = 0; b < blocks; b++) {
        float buf[CNN_GRAD_BLOCK];
        const int64_t i0 = b * CNN_GRAD_BLOCK, end = cnn_grad_block_end(n, b);
        const float *gb = cnn_grad_block(c->pre, gd, pd, i0, end, buf);
        for (int64_t i = i0; i < end; i++) {
            const float g = gb[i - i0];
            a[i] = rho * a[i] + keep * g * g;
            const float d = g * sqrtf(da[i] + eps) / sqrtf(a[i] + eps);
            da[i] = rho * da[i] + keep * d * d;
            pd[i] -= d;
        }
    }
}

static void amsgrad(int64_t n, float *pd, const float *gd, float *const *s,
                    const cnn_rule_config *c)
{
    float *m = s[0], *v = s[1], *h = s[2];
    const float b1 = (float)c->beta1, b2 = (float)c->beta2;
    const float k1 = (float)(1 - c->beta1), k2 = (float)(1 - c->beta2);
    const float eta = (float)c->eta, eps = (float)c->eps;
    const int64_t blocks = cnn_grad_blocks(n);
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (int64_t b = 0; b < blocks; b++) {
        float buf[CNN_GRAD_BLOCK];
        const int64_t i0 = b * CNN_GRAD_BLOCK, end = cnn_grad_block_end(n, b);
        const float *gb = cnn_grad_block(c->pre, gd, pd, i0, end, buf);
        for (int64_t i = i0; i < end; i++) {
            const float g = gb[i - i0];
            m[i] = b1 * m[i] + k1 * g;
            v[i] = b2 * v[i] + k2 * g * g;
            h[i] = h[i] > v[i] ? h[i] : v[i];
            pd[i] -= eta * m[i] / (sqrtf(h[i]) + eps);
        }
    }
}

static void nadam(int64_t n, float *pd, const float *gd, float *const *s,
                  const cnn_rule_config *c)
{
    float *m = s[0], *v = s[1];
    const double t = (double)c->step;
    const float b1 = (float)c->beta1, b2 = (float)c->beta2;
    const float k1 = (float)(1 - c->beta1), k2 = (float)(1 - c->beta2);
    const float cm = (float)(c->beta1 / (1 - pow(c->beta1, t + 1)));
    const float cg = (float)((1 - c->beta1) / (1 - pow(c->beta1, t)));
    const float cv = (float)(c->beta2 / (1 - pow(c->beta2, t)));
    const float eta = (float)c->eta, eps = (float)c->eps;
    const int64_t blocks = cnn_grad_blocks(n);
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (int64_t b = 0; b < blocks; b++) {
        float buf[CNN_GRAD_BLOCK];
        const int64_t i0 = b * CNN_GRAD_BLOCK, end = cnn_grad_block_end(n, b);
        const float *gb = cnn_grad_block(c->pre, gd, pd, i0, end, buf);
        for (int64_t i = i0; i < end; i++) {
            const float g = gb[i - i0];
            m[i] = b1 * m[i] + k1 * g;
            v[i] = b2 * v[i] + k2 * g * g;
            pd[i] -= eta * (cm * m[i] + cg * g) / (sqrtf(cv * v[i]) + eps);
        }
    }
}

static void radam(int64_t n, float *pd, const float *gd, float *const *s,
                  const cnn_rule_config *c)
{
    float *m = s[0], *v = s[1];
    const double t = (double)c->step;
    const double bt1 = pow(c->beta1, t), bt2 = pow(c->beta2, t);
    const double rinf = 2 / (1 - c->beta2) - 1;
    const double r = rinf - 2 * t * bt2 / (1 - bt2);
    const bool rectified = r > 4;
    const double k =
        rectified ? sqrt((r - 4) * (r - 2) * rinf / ((rinf - 4) * (rinf - 2) * r)) : 0;
    const float b1 = (float)c->beta1, b2 = (float)c->beta2;
    const float k1 = (float)(1 - c->beta1), k2 = (float)(1 - c->beta2);
    const float step = (float)(c->eta * (rectified ? k : 1) / (1 - bt1));
    const float inv_bc2 = (float)(1 / (1 - bt2)), eps = (float)c->eps;
    const int64_t blocks = cnn_grad_blocks(n);
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (int64_t b = 0; b < blocks; b++) {
        float buf[CNN_GRAD_BLOCK];
        const int64_t i0 = b * CNN_GRAD_BLOCK, end = cnn_grad_block_end(n, b);
        const float *gb = cnn_grad_block(c->pre, gd, pd, i0, end, buf);
        for (int64_t i = i0; i < end; i++) {
            const float g = gb[i - i0];
            m[i] = b1 * m[i] + k1 * g;
            v[i] = b2 * v[i] + k2 * g * g;
            pd[i] -=
                rectified ? step * m[i] / (sqrtf(v[i] * inv_bc2) + eps) : step * m[i];
        }
    }
}

static void adamax(int64_t n, float *pd, const float *gd, float *const *s,
                   const cnn_rule_config *c)
{
    float *m = s[0], *u = s[1];
    const float b1 = (float)c->beta1, b2 = (float)c->beta2;
    const float k1 = (float)(1 - c->beta1);
    const float step = (float)(c->eta / (1 - pow(c->beta1, (double)c->step)));
    const float eps = (float)c->eps;
    const int64_t blocks = cnn_grad_blocks(n);
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (int64_t b = 0; b < blocks; b++) {
        float buf[CNN_GRAD_BLOCK];
        const int64_t i0 = b * CNN_GRAD_BLOCK, end = cnn_grad_block_end(n, b);
        const float *gb = cnn_grad_block(c->pre, gd, pd, i0, end, buf);
        for (int64_t i = i0; i < end; i++) {
            const float g = gb[i - i0];
            m[i] = b1 * m[i] + k1 * g;
            const float decayed = b2 * u[i], a = fabsf(g);
            u[i] = decayed > a ? decayed : a;
            pd[i] -= step * m[i] / (u[i] + eps);
        }
    }
}

static void adabelief(int64_t n, float *pd, const float *gd, float *const *s,
                      const cnn_rule_config *c)
{
    float *m = s[0], *sv = s[1];
    const double t = (double)c->step;
    const float b1 = (float)c->beta1, b2 = (float)c->beta2;
    const float k1 = (float)(1 - c->beta1), k2 = (float)(1 - c->beta2);
    const float step = (float)(c->eta / (1 - pow(c->beta1, t)));
    const float inv_bc2 = (float)(1 / (1 - pow(c->beta2, t))), eps = (float)c->eps;
    const int64_t blocks = cnn_grad_blocks(n);
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (int64_t b = 0; b < blocks; b++) {
        float buf[CNN_GRAD_BLOCK];
        const int64_t i0 = b * CNN_GRAD_BLOCK, end = cnn_grad_block_end(n, b);
        const float *gb = cnn_grad_block(c->pre, gd, pd, i0, end, buf);
        for (int64_t i = i0; i < end; i++) {
            const float g = gb[i - i0];
            m[i] = b1 * m[i] + k1 * g;
            const float d = g - m[i];
            sv[i] = b2 * sv[i] + k2 * d * d + eps;
            pd[i] -= step * m[i] / (sqrtf(sv[i] * inv_bc2) + eps);
        }
    }
}

static void lion(int64_t n, float *pd, const float *gd, float *const *s,
                 const cnn_rule_config *c)
{
    float *m = s[0];
    const float b1 = (float)c->beta1, b2 = (float)c->beta2;
    const float k1 = (float)(1 - c->beta1), k2 = (float)(1 - c->beta2);
    const float eta = (float)c->eta;
    const int64_t blocks = cnn_grad_blocks(n);
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (int64_t b = 0; b < blocks; b++) {
        float buf[CNN_GRAD_BLOCK];
        const int64_t i0 = b * CNN_GRAD_BLOCK, end = cnn_grad_block_end(n, b);
        const float *gb = cnn_grad_block(c->pre, gd, pd, i0, end, buf);
        for (int64_t i = i0; i < end; i++) {
            const float g = gb[i - i0];
            const float d = b1 * m[i] + k1 * g;
            m[i] = b2 * m[i] + k2 * g;
            /* sign(d) without a branch (a random sign defeats prediction);
             * NaN stays NaN, as Julia's sign */
            const float sign = (float)((d > 0.0f) - (d < 0.0f));
            pd[i] -= eta * (d == d ? sign : d);
        }
    }
}

typedef void (*rule_fn)(int64_t n, float *pd, const float *gd, float *const *s,
                        const cnn_rule_config *c);

static const rule_fn rule_fns[CNN_RULE_COUNT] = {
    [CNN_RULE_ADAGRAD] = adagrad,     [CNN_RULE_ADADELTA] = adadelta,
    [CNN_RULE_AMSGRAD] = amsgrad,     [CNN_RULE_NADAM] = nadam,
    [CNN_RULE_RADAM] = radam,         [CNN_RULE_ADAMAX] = adamax,
    [CNN_RULE_ADABELIEF] = adabelief, [CNN_RULE_LION] = lion,
};

cnn_status cnn_rule_step(cnn_tensor *p, const cnn_tensor *g, cnn_tensor *const *state,
                         const cnn_rule_config *c)
{
    cnn_status s = check_config(c);
    if (s != CNN_OK)
        return s;
    s = check_operand(p, p, "parameter");
    if (s == CNN_OK)
        s = check_operand(p, g, "gradient");
    const int k = rules[c->rule].states;
    float *sd[3] = {NULL, NULL, NULL};
    for (int i = 0; s == CNN_OK && i < k; i++) {
        s = check_operand(p, state[i], rules[c->rule].state_names[i]);
        sd[i] = s == CNN_OK ? cnn_tensor_f32(state[i]) : NULL;
    }
    if (s != CNN_OK)
        return s;
    rule_fns[c->rule](cnn_tensor_numel(p), cnn_tensor_f32(p), cnn_tensor_f32(g), sd, c);
    return CNN_OK;
}

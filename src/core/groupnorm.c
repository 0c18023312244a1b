#include "groupnorm.h"

#include <math.h>
#include <string.h>

#include "operand.h"

/* Work below which a loop stays on one thread. */
#define PARALLEL_MIN 32768

static cnn_status check_vector(const cnn_tensor *v, const char *what, const cnn_tensor *x,
                               int64_t channels)
{
    char vs[128], xs[128];
    cnn_status s;
    if (!v)
        return CNN_OK;
    if ((s = cnn_check_operand(v, what, 0, NULL)) != CNN_OK)
        return s;
    if (v->ndims != 1 || v->size[0] != channels || v->blocked)
        return cnn_fail(CNN_ERR_SHAPE, "%s is %s, input %s has %lld channels", what,
                        cnn_shape_string(v, vs, sizeof vs),
                        cnn_shape_string(x, xs, sizeof xs), (long long)channels);
    return CNN_OK;
}

static cnn_status check_stat(const cnn_tensor *v, const char *what, int64_t count)
{
    char vs[128];
    cnn_status s = cnn_check_operand(v, what, 1, "one per group and sample");
    if (s != CNN_OK)
        return s;
    if (v->size[0] != count)
        return cnn_fail(CNN_ERR_SHAPE, "%s is %s, expected %lld (groups × samples)", what,
                        cnn_shape_string(v, vs, sizeof vs), (long long)count);
    return CNN_OK;
}

/* The shape rules of both directions, and the plan's sizes and results. */
static cnn_status plan_begin(cnn_groupnorm_plan *plan, const cnn_tensor *x,
                             int64_t groups, const cnn_tensor *gamma,
                             const cnn_tensor *beta)
{
    char xs[128];
    cnn_status s = cnn_check_operand(x, "input", 0, NULL);
    if (s != CNN_OK)
        return s;
    if (x->blocked)
        return cnn_fail(CNN_ERR_ARG, "input must be in a plain layout");
    if (x->ndims < 2)
        return cnn_fail(CNN_ERR_SHAPE,
                        "input must have at least 2 dimensions (C×N or W×H×C×N), got %s",
                        cnn_shape_string(x, xs, sizeof xs));
    memset(plan, 0, sizeof *plan);
    plan->channels = x->size[x->ndims - 2];
    plan->batch = x->size[x->ndims - 1];
    plan->spatial = 1;
    for (int d = 0; d < x->ndims - 2; d++)
        plan->spatial *= x->size[d];
    if (groups < 1 || plan->channels % groups != 0)
        return cnn_fail(CNN_ERR_SHAPE,
                        "groups must divide the %lld channels of input %s, got %lld",
                        (long long)plan->channels, cnn_shape_string(x, xs, sizeof xs),
                        (long long)groups);
    plan->groups = groups;
    if (!gamma != !beta)
        return cnn_fail(CNN_ERR_ARG, "gamma and beta must be given together, got %s only",
                        gamma ? "gamma" : "beta");
    if ((s = check_vector(gamma, "gamma", x, plan->channels)) != CNN_OK ||
        (s = check_vector(beta, "beta", x, plan->channels)) != CNN_OK)
        return s;
    plan->affine = gamma != NULL;
    return CNN_OK;
}

static int64_t column_length(const cnn_groupnorm_plan *plan)
{
    return plan->spatial * (plan->channels / plan->groups);
}

cnn_status cnn_groupnorm_plan_forward(cnn_groupnorm_plan *plan, const cnn_tensor *x,
                                      int64_t groups, const cnn_tensor *gamma,
                                      const cnn_tensor *beta, float eps)
{
    cnn_status s = plan_begin(plan, x, groups, gamma, beta);
    if (s != CNN_OK)
        return s;
    cnn_plan_output_like(&plan->out[0], x);
    for (int i = 1; i < 3; i++) {
        plan->out[i].ndims = 1;
        plan->out[i].size[0] = groups * plan->batch;
    }
    return cnn_layernorm_plan_matrix(&plan->norm, groups * plan->batch,
                                     column_length(plan), eps, false, "groupnorm");
}

/* y = gamma[c] y + beta[c], in place. */
static void channel_affine(const cnn_groupnorm_plan *plan, const cnn_tensor *gamma,
                           const cnn_tensor *beta, cnn_tensor *y)
{
    const float *g = cnn_tensor_f32(gamma), *b = cnn_tensor_f32(beta);
    float *out = cnn_tensor_f32(y);
    int64_t C = plan->channels, HW = plan->spatial, slices = C * plan->batch;
#pragma omp parallel for if (slices * HW > PARALLEL_MIN) schedule(static)
    for (int64_t k = 0; k < slices; k++) {
        float gc = g[k % C], bc = b[k % C];
        float *p = out + k * HW;
        for (int64_t i = 0; i < HW; i++)
            p[i] = p[i] * gc + bc;
    }
}

cnn_status cnn_groupnorm_run_forward(const cnn_groupnorm_plan *plan, const cnn_tensor *x,
                                     const cnn_tensor *gamma, const cnn_tensor *beta,
                                     cnn_tensor *y, cnn_tensor *mean, cnn_tensor *var)
{
    cnn_status s = cnn_layernorm_run_forward(&plan->norm, x, NULL, NULL, y, mean, var);
    if (s == CNN_OK && plan->affine)
        channel_affine(plan, gamma, beta, y);
    return s;
}

cnn_status cnn_groupnorm_plan_backward(cnn_groupnorm_plan *plan, const cnn_tensor *gy,
                                       const cnn_tensor *x, int64_t groups,
                                       const cnn_tensor *gamma, const cnn_tensor *mean,
                                       const cnn_tensor *var, float eps)
{
    cnn_status s = plan_begin(plan, x, groups, gamma, gamma);
    if (s != CNN_OK || (s = cnn_check_operand(gy, "gradient", 0, NULL)) != CNN_OK ||
        (s = check_stat(mean, "mean", groups * plan->batch)) != CNN_OK ||
        (s = check_stat(var, "variance", groups * plan->batch)) != CNN_OK)
        return s;
    if (gy->blocked || !cnn_tensor_same_size(gy, x)) {
        char gs[128], xs[128];
        return cnn_fail(CNN_ERR_SHAPE, "gradient is %s%s, input is %s",
                        cnn_shape_string(gy, gs, sizeof gs),
                        gy->blocked ? " blocked" : "",
                        cnn_shape_string(x, xs, sizeof xs));
    }
    cnn_plan_output_like(&plan->out[0], x);
    for (int i = 1; i < 3; i++) {
        plan->out[i].ndims = plan->affine ? 1 : 0;
        plan->out[i].size[0] = plan->channels;
    }
    return cnn_layernorm_plan_matrix(&plan->norm, groups * plan->batch,
                                     column_length(plan), eps, true,
                                     "groupnorm_backward");
}

/* gx = gy gamma[c] (the gradient of x̂), ggamma[c] = Σ gy x̂ and
 * gbeta[c] = Σ gy over the channel's elements of every sample, x̂ from x
 * and the statistics the forward saved. One thread per channel. */
static void channel_affine_backward(const cnn_groupnorm_plan *plan, const cnn_tensor *gy,
                                    const cnn_tensor *x, const cnn_tensor *gamma,
                                    const cnn_tensor *mean, const cnn_tensor *var,
                                    cnn_tensor *gx, cnn_tensor *ggamma, cnn_tensor *gbeta)
{
    const float *dy = cnn_tensor_f32(gy), *in = cnn_tensor_f32(x);
    const float *g = cnn_tensor_f32(gamma), *m = cnn_tensor_f32(mean),
                *v = cnn_tensor_f32(var);
    float *dx = cnn_tensor_f32(gx), *dg = cnn_tensor_f32(ggamma),
          *db = cnn_tensor_f32(gbeta);
    int64_t C = plan->channels, HW = plan->spatial, N = plan->batch;
    int64_t per_group = C / plan->groups;
    float eps = plan->norm.eps;
#pragma omp parallel for if (C * HW * N > PARALLEL_MIN) schedule(static)
    for (int64_t c = 0; c < C; c++) {
        double sg = 0, sgx = 0;
        for (int64_t n = 0; n < N; n++) {
            int64_t row = n * plan->groups + c / per_group, at = (n * C + c) * HW;
            float mu = m[row], inv = 1.0f / sqrtf(v[row] + eps), gc = g[c];
            float part_g = 0, part_gx = 0;
            for (int64_t i = 0; i < HW; i++) {
                float d = dy[at + i];
                part_g += d;
                part_gx += d * (in[at + i] - mu) * inv;
                dx[at + i] = d * gc;
            }
            sg += part_g;
            sgx += part_gx;
        }
        dg[c] = (float)sgx;
        db[c] = (float)sg;
    }
}

cnn_status cnn_groupnorm_run_backward(const cnn_groupnorm_plan *plan,
                                      const cnn_tensor *gy, const cnn_tensor *x,
                                      const cnn_tensor *gamma, const cnn_tensor *mean,
                                      const cnn_tensor *var, cnn_tensor *gx,
                                      cnn_tensor *ggamma, cnn_tensor *gbeta)
{
    if (!plan->norm.primitive) {
        cnn_zero_outputs(gx, plan->affine ? ggamma : NULL, plan->affine ? gbeta : NULL);
        return CNN_OK;
    }
    if (!plan->affine)
        return cnn_layernorm_run_backward(&plan->norm, gy, x, NULL, mean, var, gx, NULL,
                                          NULL);
    channel_affine_backward(plan, gy, x, gamma, mean, var, gx, ggamma, gbeta);
    /* then the normalisation's backward, in place on the gradient of x̂ */
    return cnn_layernorm_run_backward(&plan->norm, gx, x, NULL, mean, var, gx, NULL,
                                      NULL);
}

#include "activation.h"

#include <string.h>

#include "context.h"
#include "exec.h"

typedef struct activation_info {
    const char *name;
    dnnl_alg_kind_t forward;
    dnnl_alg_kind_t backward;
    bool backward_uses_dst;
} activation_info;

static const activation_info infos[CNN_ACTIVATION_COUNT] = {
    [CNN_ACTIVATION_RELU] = {"relu", dnnl_eltwise_relu, dnnl_eltwise_relu_use_dst_for_bwd,
                             true},
    [CNN_ACTIVATION_ELU] = {"elu", dnnl_eltwise_elu, dnnl_eltwise_elu, false},
    [CNN_ACTIVATION_SIGMOID] = {"sigmoid", dnnl_eltwise_logistic,
                                dnnl_eltwise_logistic_use_dst_for_bwd, true},
    [CNN_ACTIVATION_TANH] = {"tanh", dnnl_eltwise_tanh, dnnl_eltwise_tanh_use_dst_for_bwd,
                             true},
    [CNN_ACTIVATION_GELU] = {"gelu", dnnl_eltwise_gelu_tanh, dnnl_eltwise_gelu_tanh,
                             false},
    [CNN_ACTIVATION_SOFTPLUS] = {"softplus", dnnl_eltwise_soft_relu,
                                 dnnl_eltwise_soft_relu, false},
    [CNN_ACTIVATION_EXP] = {"exp", dnnl_eltwise_exp, dnnl_eltwise_exp_use_dst_for_bwd,
                            true},
    [CNN_ACTIVATION_LOG] = {"log", dnnl_eltwise_log, dnnl_eltwise_log, false},
    [CNN_ACTIVATION_SQRT] = {"sqrt", dnnl_eltwise_sqrt, dnnl_eltwise_sqrt_use_dst_for_bwd,
                             true},
    [CNN_ACTIVATION_ABS] = {"abs", dnnl_eltwise_abs, dnnl_eltwise_abs, false},
    [CNN_ACTIVATION_SQUARE] = {"square", dnnl_eltwise_square, dnnl_eltwise_square, false},
    [CNN_ACTIVATION_LINEAR] = {"linear", dnnl_eltwise_linear, dnnl_eltwise_linear, false},
    [CNN_ACTIVATION_POW] = {"pow", dnnl_eltwise_pow, dnnl_eltwise_pow, false},
    [CNN_ACTIVATION_HARDTANH] = {"hardtanh", dnnl_eltwise_clip_v2, dnnl_eltwise_clip_v2,
                                 false},
    [CNN_ACTIVATION_SWISH] = {"swish", dnnl_eltwise_swish, dnnl_eltwise_swish, false},
    [CNN_ACTIVATION_MISH] = {"mish", dnnl_eltwise_mish, dnnl_eltwise_mish, false},
};

const char *cnn_activation_name(cnn_activation kind)
{
    return (unsigned)kind < CNN_ACTIVATION_COUNT ? infos[kind].name : NULL;
}

bool cnn_activation_backward_uses_dst(cnn_activation kind)
{
    return (unsigned)kind < CNN_ACTIVATION_COUNT && infos[kind].backward_uses_dst;
}

/* Cache key. A plain operand is seen as a flat vector, since the shape
 * does not matter to eltwise, only the count; a blocked one in its layout
 * (the padding of a blocked layout must stay zero). */
typedef struct eltwise_key {
    int op; /* 'F' forward, 'B' backward */
    int kind;
    float alpha, beta;
    dnnl_memory_desc_t md;
} eltwise_key;

static void flat_md(dnnl_memory_desc_t *md, int64_t numel)
{
    dnnl_dims_t dims = {numel};
    /* refused: left zero, so the primitive creation fails, checked */
    if (dnnl_memory_desc_init_by_tag(md, 1, dims, dnnl_f32, dnnl_a) != dnnl_success)
        memset(md, 0, sizeof *md);
}

/* The layout of the op: the first blocked tensor's, else flat. */
static void op_md(const cnn_tensor *a, const cnn_tensor *b, dnnl_memory_desc_t *md)
{
    if (a->blocked)
        *md = a->layout;
    else if (b && b->blocked)
        *md = b->layout;
    else
        flat_md(md, cnn_tensor_numel(a));
}

/* How a tensor is described to an op of layout 'md': flat when the op is,
 * else in its own 4-D layout (the exec helper reorders if they differ). */
static void operand_md(const dnnl_memory_desc_t *md, const cnn_tensor *t,
                       dnnl_memory_desc_t *out)
{
    if (md->ndims == 1)
        *out = *md;
    else
        cnn_md_of_layout(out, t);
}

static cnn_status check_operands(const char *op, const cnn_tensor *a, const cnn_tensor *b)
{
    if (!cnn_tensor_is_contiguous(a) || !cnn_tensor_is_contiguous(b))
        return cnn_fail(CNN_ERR_ARG, "%s: tensors must be contiguous", op);
    if (a->dtype != CNN_FLOAT32 || b->dtype != CNN_FLOAT32)
        return cnn_fail(CNN_ERR_ARG, "%s: Float32 tensors expected", op);
    if (cnn_tensor_numel(a) != cnn_tensor_numel(b)) {
        char x[128], y[128];
        return cnn_fail(CNN_ERR_SHAPE, "%s: sizes differ: %s and %s", op,
                        cnn_shape_string(a, x, sizeof x),
                        cnn_shape_string(b, y, sizeof y));
    }
    /* a blocked layout is 4-D: mixing it with another shape has no meaning */
    if ((a->blocked || b->blocked) && !cnn_tensor_same_size(a, b)) {
        char x[128], y[128];
        return cnn_fail(CNN_ERR_SHAPE, "%s: sizes differ: %s and %s", op,
                        cnn_shape_string(a, x, sizeof x),
                        cnn_shape_string(b, y, sizeof y));
    }
    return CNN_OK;
}

static cnn_status forward_pd(const activation_info *info, float alpha, float beta,
                             const dnnl_memory_desc_t *md, dnnl_primitive_desc_t *pd)
{
    dnnl_eltwise_desc_t desc;
    CNN_DNNL_TRY(info->name,
                 dnnl_eltwise_forward_desc_init(&desc, dnnl_forward_training,
                                                info->forward, md, alpha, beta));
    CNN_DNNL_TRY(info->name,
                 dnnl_primitive_desc_create(pd, &desc, NULL, cnn_engine(), NULL));
    return CNN_OK;
}

static eltwise_key make_key(int op, cnn_activation kind, float alpha, float beta,
                            const dnnl_memory_desc_t *md)
{
    eltwise_key key;
    memset(&key, 0, sizeof key);
    key.op = op;
    key.kind = kind;
    key.alpha = alpha;
    key.beta = beta;
    memcpy(&key.md, md, sizeof key.md);
    return key;
}

static void exec_operand(cnn_exec *e, int arg, const dnnl_memory_desc_t *md,
                         const cnn_tensor *t, bool output)
{
    dnnl_memory_desc_t user;
    operand_md(md, t, &user);
    if (output)
        cnn_exec_output(e, arg, (cnn_tensor *)t, &user);
    else
        cnn_exec_input(e, arg, t, &user);
}

/* Elements of a contiguous tensor's buffer: a blocked layout's padding
 * included (it stays zero through a relu). */
static int64_t buffer_elements(const cnn_tensor *t)
{
    return t->blocked ? (int64_t)(dnnl_memory_desc_get_size(&t->layout) / sizeof(float))
                      : cnn_tensor_numel(t);
}

static bool same_layout(const cnn_tensor *a, const cnn_tensor *b)
{
    return a->blocked == b->blocked &&
           (!a->blocked || dnnl_memory_desc_equal(&a->layout, &b->layout));
}

/* relu that keeps NaN: x <= 0 is false for NaN. (oneDNN's relu is
 * max(x, 0), which gives 0 for NaN; Flux and PyTorch give NaN.) */
static void relu_keep_nan(const float *x, float *y, int64_t n)
{
#pragma omp parallel for simd if (parallel : n > 32768) schedule(static)
    for (int64_t i = 0; i < n; i++)
        y[i] = x[i] <= 0.0f ? 0.0f : x[i];
}

/* relu in one pass when both tensors share a layout; else oneDNN's elu with
 * alpha 0 (x, or 0 * (exp(x) - 1): NaN stays) converts between layouts and
 * a second pass turns its -0 into +0. */
static cnn_status relu_forward(const cnn_tensor *src, cnn_tensor *dst)
{
    if (same_layout(src, dst)) {
        double start = cnn_kernel_start();
        relu_keep_nan(cnn_tensor_f32(src), cnn_tensor_f32(dst), buffer_elements(src));
        cnn_kernel_done(CNN_PROFILE_ELTWISE_FORWARD, start);
        return CNN_OK;
    }
    cnn_status s = cnn_activation_forward(CNN_ACTIVATION_ELU, 0.0f, 0.0f, src, dst);
    if (s == CNN_OK)
        relu_keep_nan(cnn_tensor_f32(dst), cnn_tensor_f32(dst), buffer_elements(dst));
    return s;
}

static cnn_status check_kind(cnn_activation kind)
{
    if ((unsigned)kind >= CNN_ACTIVATION_COUNT)
        return cnn_fail(CNN_ERR_ARG, "unknown elementwise function %d", (int)kind);
    return CNN_OK;
}

static void plan_begin(cnn_activation_plan *plan, cnn_activation kind, float alpha,
                       float beta)
{
    memset(plan, 0, sizeof *plan);
    plan->kind = kind;
    plan->alpha = alpha;
    plan->beta = beta;
}

/* Whether relu's own kernel runs instead of a primitive. */
static bool own_relu(const cnn_activation_plan *plan)
{
    return plan->kind == CNN_ACTIVATION_RELU && plan->alpha == 0.0f;
}

static cnn_status forward_primitive(cnn_activation_plan *plan)
{
    const activation_info *info = &infos[plan->kind];
    eltwise_key key = make_key('F', plan->kind, plan->alpha, plan->beta, &plan->md);
    if ((plan->primitive = cnn_primitive_find(&key, sizeof key)))
        return CNN_OK;
    dnnl_primitive_desc_t pd;
    cnn_status s = forward_pd(info, plan->alpha, plan->beta, &plan->md, &pd);
    return s != CNN_OK
               ? s
               : cnn_primitive_add(&key, sizeof key, pd, info->name, &plan->primitive);
}

/* oneDNN wants the forward pd as a hint; it is not kept. */
static cnn_status backward_primitive(cnn_activation_plan *plan)
{
    const activation_info *info = &infos[plan->kind];
    eltwise_key key = make_key('B', plan->kind, plan->alpha, plan->beta, &plan->md);
    if ((plan->primitive = cnn_primitive_find(&key, sizeof key)))
        return CNN_OK;
    dnnl_primitive_desc_t hint, pd;
    dnnl_eltwise_desc_t desc;
    cnn_status s = forward_pd(info, plan->alpha, plan->beta, &plan->md, &hint);
    if (s != CNN_OK)
        return s;
    dnnl_status_t ds = dnnl_eltwise_backward_desc_init(
        &desc, info->backward, &plan->md, &plan->md, plan->alpha, plan->beta);
    if (ds == dnnl_success)
        ds = dnnl_primitive_desc_create(&pd, &desc, NULL, cnn_engine(), hint);
    dnnl_primitive_desc_destroy(hint);
    if (ds != dnnl_success)
        return cnn_fail(CNN_ERR_DNNL, "%s backward: %s", info->name,
                        cnn_dnnl_status_string(ds));
    return cnn_primitive_add(&key, sizeof key, pd, info->name, &plan->primitive);
}

/* The result takes the sizes of 'a' and the op's layout when that is a
 * blocked one. */
static void plan_output(cnn_activation_plan *plan, const cnn_tensor *a)
{
    cnn_plan_output_like(&plan->out, a);
    plan->out.blocked = plan->md.ndims > 1;
    if (plan->out.blocked)
        plan->out.layout = plan->md;
}

/* 'dst' (may be NULL) only steers the layout, for a caller's own result. */
static cnn_status plan_forward(cnn_activation_plan *plan, cnn_activation kind,
                               float alpha, float beta, const cnn_tensor *src,
                               const cnn_tensor *dst)
{
    cnn_status s = check_kind(kind);
    if (s != CNN_OK || (s = check_operands(infos[kind].name, src, src)) != CNN_OK)
        return s;
    plan_begin(plan, kind, alpha, beta);
    op_md(src, dst, &plan->md);
    plan_output(plan, src);
    if (cnn_tensor_numel(src) == 0 || own_relu(plan))
        return CNN_OK;
    return forward_primitive(plan);
}

cnn_status cnn_activation_plan_forward(cnn_activation_plan *plan, cnn_activation kind,
                                       float alpha, float beta, const cnn_tensor *src)
{
    return plan_forward(plan, kind, alpha, beta, src, NULL);
}

cnn_status cnn_activation_plan_backward(cnn_activation_plan *plan, cnn_activation kind,
                                        float alpha, float beta,
                                        const cnn_tensor *diff_dst,
                                        const cnn_tensor *data)
{
    cnn_status s = check_kind(kind);
    if (s != CNN_OK)
        return s;
    if (!cnn_tensor_same_size(diff_dst, data)) {
        char x[128], y[128];
        return cnn_fail(CNN_ERR_SHAPE, "gradient is %s, data is %s",
                        cnn_shape_string(diff_dst, x, sizeof x),
                        cnn_shape_string(data, y, sizeof y));
    }
    if ((s = check_operands(infos[kind].name, diff_dst, data)) != CNN_OK)
        return s;
    plan_begin(plan, kind, alpha, beta);
    op_md(data, diff_dst, &plan->md);
    plan_output(plan, data);
    return cnn_tensor_numel(data) == 0 ? CNN_OK : backward_primitive(plan);
}

cnn_status cnn_activation_run_forward(const cnn_activation_plan *plan,
                                      const cnn_tensor *src, cnn_tensor *dst)
{
    if (own_relu(plan))
        return cnn_tensor_numel(src) ? relu_forward(src, dst) : CNN_OK;
    if (!plan->primitive)
        return CNN_OK;
    const char *name = infos[plan->kind].name;
    cnn_exec e;
    cnn_exec_begin(&e, plan->primitive, name);
    exec_operand(&e, DNNL_ARG_SRC, &plan->md, src, false);
    exec_operand(&e, DNNL_ARG_DST, &plan->md, dst, true);
    return cnn_exec_finish(&e);
}

cnn_status cnn_activation_run_backward(const cnn_activation_plan *plan,
                                       const cnn_tensor *diff_dst, const cnn_tensor *data,
                                       cnn_tensor *diff_src)
{
    if (!plan->primitive)
        return CNN_OK;
    const activation_info *info = &infos[plan->kind];
    int data_arg = info->backward_uses_dst ? DNNL_ARG_DST : DNNL_ARG_SRC;
    cnn_exec e;
    cnn_exec_begin(&e, plan->primitive, info->name);
    exec_operand(&e, DNNL_ARG_DIFF_DST, &plan->md, diff_dst, false);
    exec_operand(&e, data_arg, &plan->md, data, false);
    exec_operand(&e, DNNL_ARG_DIFF_SRC, &plan->md, diff_src, true);
    return cnn_exec_finish(&e);
}

cnn_status cnn_activation_forward(cnn_activation kind, float alpha, float beta,
                                  const cnn_tensor *src, cnn_tensor *dst)
{
    cnn_activation_plan plan;
    cnn_status s = check_kind(kind);
    if (s != CNN_OK || (s = check_operands(infos[kind].name, src, dst)) != CNN_OK ||
        (s = plan_forward(&plan, kind, alpha, beta, src, dst)) != CNN_OK)
        return s;
    return cnn_activation_run_forward(&plan, src, dst);
}

cnn_status cnn_activation_backward(cnn_activation kind, float alpha, float beta,
                                   const cnn_tensor *diff_dst, const cnn_tensor *data,
                                   cnn_tensor *diff_src)
{
    cnn_activation_plan plan;
    cnn_status s = check_kind(kind);
    if (s != CNN_OK ||
        (s = check_operands(infos[kind].name, diff_dst, diff_src)) != CNN_OK ||
        (s = cnn_activation_plan_backward(&plan, kind, alpha, beta, diff_dst, data)) !=
            CNN_OK)
        return s;
    return cnn_activation_run_backward(&plan, diff_dst, data, diff_src);
}

/* Convolution forward and backward against a naive reference (grouped
 * and depthwise too), the primitive cache, and shape errors. */
#include "conv.h"
#include "context.h"
#include "thread_count.h"
#include "test_util.h"

typedef struct conv_case {
    int64_t x[4], w[4];
    cnn_conv2d_params p;
    int bias;
} conv_case;

/* The input index a kernel tap reads for output o (or -1 in padding). */
static int64_t tap(int64_t o, int64_t k, int64_t stride, int64_t dil, int64_t lo,
                   int64_t in)
{
    int64_t i = o * stride - lo + k * dil;
    return i >= 0 && i < in ? i : -1;
}

#define AT4(t, s, a, b, c, d) (t)[(a) + (s)[0] * ((b) + (s)[1] * ((c) + (s)[2] * (d)))]

/* Visits every (output, weight, input) triple of the convolution: output
 * channel co of group co / (Cout/g) reads weight channel ci of its group,
 * which is input channel xc. */
#define FOR_EACH_TAP(x, w, y, p, BODY)                                                   \
    for (int64_t n = 0; n < x[3]; n++)                                                   \
        for (int64_t co = 0; co < w[3]; co++)                                            \
            for (int64_t oh = 0; oh < y[1]; oh++)                                        \
                for (int64_t ow = 0; ow < y[0]; ow++)                                    \
                    for (int64_t ci = 0; ci < w[2]; ci++)                                \
                        for (int64_t kh = 0; kh < w[1]; kh++)                            \
                            for (int64_t kw = 0; kw < w[0]; kw++) {                      \
                                int64_t xc = co / (w[3] / p->groups) * w[2] + ci;        \
                                int64_t ih = tap(oh, kh, p->stride[1], p->dilation[1],   \
                                                 p->pad[2], x[1]);                       \
                                int64_t iw = tap(ow, kw, p->stride[0], p->dilation[0],   \
                                                 p->pad[0], x[0]);                       \
                                if (ih < 0 || iw < 0)                                    \
                                    continue;                                            \
                                BODY                                                     \
                            }

static void naive_forward(const conv_case *c, const float *x, const float *w,
                          const float *b, const int64_t *y, float *out)
{
    const int64_t *xs = c->x, *ws = c->w;
    const cnn_conv2d_params *p = &c->p;
    for (int64_t i = 0; i < y[0] * y[1] * y[2] * y[3]; i++)
        out[i] = 0;
    FOR_EACH_TAP(xs, ws, y, p,
                 AT4(out, y, ow, oh, co, n) +=
                 AT4(x, xs, iw, ih, xc, n) * AT4(w, ws, kw, kh, ci, co);)
    for (int64_t i = 0; i < y[0] * y[1] * y[2] * y[3]; i++) {
        int64_t co = i / (y[0] * y[1]) % y[2];
        out[i] += b ? b[co] : 0;
        if (p->activation == CNN_CONV_RELU && out[i] < 0)
            out[i] = 0;
        else if (p->activation == CNN_CONV_TANH)
            out[i] = tanhf(out[i]);
        else if (p->activation == CNN_CONV_SIGMOID)
            out[i] = 1 / (1 + expf(-out[i]));
    }
}

static void naive_backward(const conv_case *c, const float *x, const float *w,
                           const float *gy, const int64_t *y, float *gx, float *gw,
                           float *gb)
{
    const int64_t *xs = c->x, *ws = c->w;
    const cnn_conv2d_params *p = &c->p;
    memset(gx, 0, sizeof *gx * xs[0] * xs[1] * xs[2] * xs[3]);
    memset(gw, 0, sizeof *gw * ws[0] * ws[1] * ws[2] * ws[3]);
    memset(gb, 0, sizeof *gb * ws[3]);
    FOR_EACH_TAP(xs, ws, y, p, {
        float g = AT4(gy, y, ow, oh, co, n);
        AT4(gx, xs, iw, ih, xc, n) += g * AT4(w, ws, kw, kh, ci, co);
        AT4(gw, ws, kw, kh, ci, co) += g * AT4(x, xs, iw, ih, xc, n);
    })
    for (int64_t i = 0; i < y[0] * y[1] * y[2] * y[3]; i++)
        gb[i / (y[0] * y[1]) % y[2]] += gy[i];
}

static void check_case(const conv_case *c)
{
    int64_t y[4];
    EXPECT_OK(cnn_conv2d_output_size(&c->p, 4, c->x, 4, c->w, y));
    owned_tensor *x = new_tensor(4, c->x), *w = new_tensor(4, c->w);
    owned_tensor *b = new_tensor(1, &c->w[3]), *out = new_tensor(4, y);
    owned_tensor *ref = new_tensor(4, y), *gy = new_tensor(4, y);
    fill_pattern(x, 1);
    fill_pattern(w, 2);
    fill_pattern(b, 3);
    fill_pattern(gy, 4);
    EXPECT_OK(cnn_conv2d_forward(&c->p, &x->t, &w->t, c->bias ? &b->t : NULL, &out->t));
    naive_forward(c, f32(x), f32(w), c->bias ? f32(b) : NULL, y, f32(ref));
    EXPECT_NEAR_ALL(f32(out), f32(ref), cnn_tensor_numel(&out->t), 1e-5);

    owned_tensor *gx = new_tensor(4, c->x), *gw = new_tensor(4, c->w);
    owned_tensor *gb = new_tensor(1, &c->w[3]);
    owned_tensor *rgx = new_tensor(4, c->x), *rgw = new_tensor(4, c->w);
    owned_tensor *rgb = new_tensor(1, &c->w[3]);
    EXPECT_OK(cnn_conv2d_backward_data(&c->p, &gy->t, &w->t, &gx->t));
    EXPECT_OK(cnn_conv2d_backward_weights(&c->p, &gy->t, &x->t, &gw->t,
                                          c->bias ? &gb->t : NULL));
    naive_backward(c, f32(x), f32(w), f32(gy), y, f32(rgx), f32(rgw), f32(rgb));
    EXPECT_NEAR_ALL(f32(gx), f32(rgx), cnn_tensor_numel(&gx->t), 1e-5);
    EXPECT_NEAR_ALL(f32(gw), f32(rgw), cnn_tensor_numel(&gw->t), 1e-5);
    if (c->bias)
        EXPECT_NEAR_ALL(f32(gb), f32(rgb), c->w[3], 1e-5);
    owned_tensor *all[] = {x, w, b, out, ref, gy, gx, gw, gb, rgx, rgw, rgb};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        free_tensor(all[i]);
}

/* The bfloat16 nearest to f (ties to even), as a float. */
static float bf16_rounded(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    bits = (bits + 0x7fffu + ((bits >> 16) & 1u)) & 0xffff0000u;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static void round_to_bf16(owned_tensor *o)
{
    for (int64_t i = 0; i < cnn_tensor_numel(&o->t); i++)
        f32(o)[i] = bf16_rounded(f32(o)[i]);
}

/* In bf16 precision the forward is the naive convolution of the
 * bf16-rounded input and weights, the backward data that of the rounded
 * gradient and weights, both summed in FP32; the backward weights is the
 * FP32 one. */
static void check_bf16_case(const conv_case *c)
{
    int64_t y[4];
    EXPECT_OK(cnn_conv2d_output_size(&c->p, 4, c->x, 4, c->w, y));
    owned_tensor *x = new_tensor(4, c->x), *w = new_tensor(4, c->w);
    owned_tensor *b = new_tensor(1, &c->w[3]), *gy = new_tensor(4, y);
    owned_tensor *out = new_tensor(4, y), *gx = new_tensor(4, c->x);
    owned_tensor *gw = new_tensor(4, c->w), *gb = new_tensor(1, &c->w[3]);
    owned_tensor *ref = new_tensor(4, y), *rgx = new_tensor(4, c->x);
    owned_tensor *rgw = new_tensor(4, c->w), *rgb = new_tensor(1, &c->w[3]);
    fill_pattern(x, 5);
    fill_pattern(w, 6);
    fill_pattern(b, 7);
    fill_pattern(gy, 8);
    cnn_set_precision(CNN_PRECISION_BF16);
    EXPECT_OK(cnn_conv2d_forward(&c->p, &x->t, &w->t, &b->t, &out->t));
    EXPECT_OK(cnn_conv2d_backward_data(&c->p, &gy->t, &w->t, &gx->t));
    EXPECT_OK(cnn_conv2d_backward_weights(&c->p, &gy->t, &x->t, &gw->t, &gb->t));
    cnn_set_precision(CNN_PRECISION_FP32);
    /* the FP32 weight gradient, from the operands as they are */
    naive_backward(c, f32(x), f32(w), f32(gy), y, f32(rgx), f32(rgw), f32(rgb));
    EXPECT_NEAR_ALL(f32(gw), f32(rgw), cnn_tensor_numel(&gw->t), 1e-5);
    EXPECT_NEAR_ALL(f32(gb), f32(rgb), c->w[3], 1e-5);
    /* unrounded, the FP32 forward is further off than summation order */
    naive_forward(c, f32(x), f32(w), f32(b), y, f32(ref));
    EXPECT(max_error(f32(out), f32(ref), cnn_tensor_numel(&out->t)) > 1e-4);
    round_to_bf16(x);
    round_to_bf16(w);
    round_to_bf16(gy);
    naive_forward(c, f32(x), f32(w), f32(b), y, f32(ref));
    EXPECT_NEAR_ALL(f32(out), f32(ref), cnn_tensor_numel(&out->t), 1e-5);
    naive_backward(c, f32(x), f32(w), f32(gy), y, f32(rgx), f32(rgw), f32(rgb));
    EXPECT_NEAR_ALL(f32(gx), f32(rgx), cnn_tensor_numel(&gx->t), 1e-5);
    owned_tensor *all[] = {x, w, b, gy, out, gx, gw, gb, ref, rgx, rgw, rgb};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        free_tensor(all[i]);
}

/* A convolution of cin input channels in 'groups' groups. */
static conv_case make_grouped_case(int64_t xw, int64_t xh, int64_t cin, int64_t n,
                                   int64_t kw, int64_t kh, int64_t cout, int64_t groups)
{
    conv_case c;
    memset(&c, 0, sizeof c);
    c.x[0] = xw;
    c.x[1] = xh;
    c.x[2] = cin;
    c.x[3] = n;
    c.w[0] = kw;
    c.w[1] = kh;
    c.w[2] = cin / groups;
    c.w[3] = cout;
    c.p = cnn_conv2d_default_params();
    c.p.groups = groups;
    c.bias = 1;
    return c;
}

static conv_case make_case(int64_t xw, int64_t xh, int64_t cin, int64_t n, int64_t kw,
                           int64_t kh, int64_t cout)
{
    return make_grouped_case(xw, xh, cin, n, kw, kh, cout, 1);
}

static void set_pad(conv_case *c, int64_t pad)
{
    for (int d = 0; d < 4; d++)
        c->p.pad[d] = pad;
}

static void test_against_naive(void)
{
    conv_case c = make_case(5, 4, 2, 2, 3, 3, 3);
    check_case(&c);
    c.p.pad[0] = c.p.pad[1] = c.p.pad[2] = c.p.pad[3] = 1;
    check_case(&c);
    c.p.stride[0] = 2;
    c.p.pad[3] = 0;
    check_case(&c);
    c.p.activation = CNN_CONV_RELU;
    check_case(&c);
    c = make_case(7, 6, 2, 2, 3, 2, 4);
    c.p.dilation[0] = 2;
    c.p.pad[1] = 2;
    c.bias = 0;
    check_case(&c);
    c = make_case(28, 28, 1, 3, 3, 3, 16); /* the notebook's first layer */
    c.p.pad[0] = c.p.pad[1] = c.p.pad[2] = c.p.pad[3] = 1;
    c.p.activation = CNN_CONV_RELU;
    check_case(&c);
    c = make_case(14, 14, 16, 2, 3, 3, 32);
    c.p.pad[0] = c.p.pad[1] = c.p.pad[2] = c.p.pad[3] = 1;
    check_case(&c);
    c = make_case(28, 28, 1, 3, 5, 5, 6); /* LeNet's first layer, tanh fused */
    set_pad(&c, 2);
    c.p.activation = CNN_CONV_TANH;
    check_case(&c);
    c = make_case(14, 14, 6, 2, 5, 5, 16); /* and its second, with a sigmoid */
    c.p.activation = CNN_CONV_SIGMOID;
    check_case(&c);
}

static void test_grouped_against_naive(void)
{
    conv_case c = make_grouped_case(5, 4, 4, 2, 3, 3, 6, 2); /* 2 inputs, 3 outputs */
    check_case(&c);
    set_pad(&c, 1);
    c.p.activation = CNN_CONV_RELU;
    check_case(&c);
    c = make_grouped_case(9, 7, 6, 2, 3, 2, 6, 3);
    c.p.stride[0] = 2;
    c.p.dilation[1] = 2;
    c.p.pad[1] = 2;
    c.bias = 0;
    check_case(&c);
    c = make_grouped_case(8, 8, 5, 2, 3, 3, 5, 5); /* depthwise */
    set_pad(&c, 1);
    check_case(&c);
    c = make_grouped_case(11, 10, 3, 2, 3, 3, 6, 3); /* depthwise, 2 outputs each */
    c.p.stride[0] = c.p.stride[1] = 2;
    c.p.dilation[0] = 2;
    c.p.pad[0] = 2;
    c.p.pad[3] = 1;
    c.p.activation = CNN_CONV_RELU;
    check_case(&c);
    c = make_grouped_case(14, 14, 32, 2, 3, 3, 32, 32); /* blocked depthwise kernels */
    set_pad(&c, 1);
    c.p.activation = CNN_CONV_RELU;
    check_case(&c);
    c = make_grouped_case(7, 7, 32, 2, 3, 3, 64, 2); /* blocked grouped kernels */
    set_pad(&c, 1);
    check_case(&c);
}

/* With groups the sizes of x and w differ from those of one group, but
 * the key holds the groups as well: each case has its own primitive. */
static void test_groups_in_cache_key(void)
{
    conv_case one = make_case(6, 5, 4, 2, 3, 3, 4);
    conv_case two = make_grouped_case(6, 5, 4, 2, 3, 3, 4, 2);
    check_case(&one);
    check_case(&two);
    int64_t created = cnn_global_stats()->primitives_created;
    check_case(&one);
    check_case(&two);
    EXPECT(cnn_global_stats()->primitives_created == created);
}

static void test_primitives_are_reused(void)
{
    conv_case c = make_case(6, 5, 3, 2, 3, 3, 4);
    check_case(&c);
    int64_t created = cnn_global_stats()->primitives_created;
    check_case(&c);
    EXPECT(cnn_global_stats()->primitives_created == created);
}

static void test_bf16_against_naive(void)
{
    if (!cnn_conv2d_precision_supported(CNN_PRECISION_BF16)) {
        fprintf(stderr, "no bf16 convolution on this CPU: bf16 cases not run\n");
        return;
    }
    conv_case c = make_case(14, 14, 16, 2, 3, 3, 32);
    set_pad(&c, 1);
    check_bf16_case(&c);
    c.p.activation = CNN_CONV_RELU;
    check_bf16_case(&c);
    c = make_grouped_case(8, 8, 16, 2, 3, 3, 16, 16); /* depthwise */
    set_pad(&c, 1);
    check_bf16_case(&c);
    /* the precision is in the cache key: back in FP32, FP32 results */
    c = make_case(14, 14, 16, 2, 3, 3, 32);
    set_pad(&c, 1);
    check_case(&c);
}

static void test_shape_errors(void)
{
    cnn_conv2d_params p = cnn_conv2d_default_params();
    int64_t x[4] = {28, 28, 3, 4}, w[4] = {3, 3, 1, 16}, y[4];
    EXPECT(cnn_conv2d_output_size(&p, 4, x, 4, w, y) == CNN_ERR_SHAPE);
    EXPECT(!strcmp(cnn_error_message(),
                   "input has 3 channels (28×28×3×4), weight expects 1 (3×3×1×16)"));
    int64_t small[4] = {2, 2, 1, 1};
    EXPECT(cnn_conv2d_output_size(&p, 4, small, 4, w, y) == CNN_ERR_SHAPE);
    EXPECT(!strcmp(cnn_error_message(),
                   "window 3×3 (dilated 3×3) is larger than the padded input 2×2 "
                   "(input 2×2×1×1, weight 3×3×1×16)"));
    x[2] = 1;
    p.stride[1] = 0;
    EXPECT(cnn_conv2d_output_size(&p, 4, x, 4, w, y) == CNN_ERR_ARG);
    EXPECT(
        !strcmp(cnn_error_message(),
                "stride must be at least 1, got 1×0 (input 28×28×1×4, weight 3×3×1×16)"));
}

static void test_group_shape_errors(void)
{
    cnn_conv2d_params p = cnn_conv2d_default_params();
    int64_t x[4] = {8, 8, 6, 2}, w[4] = {3, 3, 2, 6}, y[4];
    p.groups = 0;
    EXPECT(cnn_conv2d_output_size(&p, 4, x, 4, w, y) == CNN_ERR_ARG);
    EXPECT(!strcmp(cnn_error_message(), "groups must be at least 1, got 0"));
    p.groups = 4;
    EXPECT(cnn_conv2d_output_size(&p, 4, x, 4, w, y) == CNN_ERR_SHAPE);
    EXPECT(!strcmp(cnn_error_message(),
                   "input has 6 channels (8×8×6×2), not divisible by 4 groups"));
    p.groups = 2;
    EXPECT(cnn_conv2d_output_size(&p, 4, x, 4, w, y) == CNN_ERR_SHAPE);
    EXPECT(!strcmp(cnn_error_message(), "input has 6 channels (8×8×6×2) in 2 groups of "
                                        "3, weight expects 2 per group (3×3×2×6)"));
    p.groups = 3;
    w[3] = 4;
    EXPECT(cnn_conv2d_output_size(&p, 4, x, 4, w, y) == CNN_ERR_SHAPE);
    EXPECT(!strcmp(cnn_error_message(),
                   "weight has 4 output channels (3×3×2×4), not divisible by 3 groups"));
    w[3] = 9;
    EXPECT_OK(cnn_conv2d_output_size(&p, 4, x, 4, w, y));
    EXPECT(y[0] == 6 && y[1] == 6 && y[2] == 9 && y[3] == 2);
}

int main(void)
{
    cnn_threads_set_adaptive(false); /* primitive counts below */
    test_against_naive();
    test_grouped_against_naive();
    test_groups_in_cache_key();
    test_primitives_are_reused();
    test_bf16_against_naive();
    test_shape_errors();
    test_group_shape_errors();
    return test_report();
}

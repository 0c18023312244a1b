/* Transposed convolution forward and backward against a naive reference
 * (strided, padded, dilated, output-padded and grouped), the primitive
 * cache, and shape errors. */
#include "context.h"
#include "deconv.h"
#include "thread_count.h"
#include "test_util.h"

typedef struct deconv_case {
    int64_t x[4], w[4]; /* w: kW×kH×(Cout/g)×Cin */
    cnn_deconv2d_params p;
    int bias;
} deconv_case;

#define AT4(t, s, a, b, c, d) (t)[(a) + (s)[0] * ((b) + (s)[1] * ((c) + (s)[2] * (d)))]

/* Visits every (input, weight, output) triple: input channel ci of group
 * ci / (Cin/g) spreads through weight channel cl into output channel
 * co = group·(Cout/g) + cl, at output position i·stride - pad_lo +
 * k·dilation. */
#define FOR_EACH_TAP(x, w, y, p, BODY)                                                   \
    for (int64_t n = 0; n < x[3]; n++)                                                   \
        for (int64_t ci = 0; ci < x[2]; ci++)                                            \
            for (int64_t ih = 0; ih < x[1]; ih++)                                        \
                for (int64_t iw = 0; iw < x[0]; iw++)                                    \
                    for (int64_t cl = 0; cl < w[2]; cl++)                                \
                        for (int64_t kh = 0; kh < w[1]; kh++)                            \
                            for (int64_t kw = 0; kw < w[0]; kw++) {                      \
                                int64_t co = ci / (x[2] / p->groups) * w[2] + cl;        \
                                int64_t oh =                                             \
                                    ih * p->stride[1] - p->pad[2] + kh * p->dilation[1]; \
                                int64_t ow =                                             \
                                    iw * p->stride[0] - p->pad[0] + kw * p->dilation[0]; \
                                if (oh < 0 || ow < 0 || oh >= y[1] || ow >= y[0])        \
                                    continue;                                            \
                                BODY                                                     \
                            }

static void naive_forward(const deconv_case *c, const float *x, const float *w,
                          const float *b, const int64_t *y, float *out)
{
    const int64_t *xs = c->x, *ws = c->w;
    const cnn_deconv2d_params *p = &c->p;
    for (int64_t i = 0; i < y[0] * y[1] * y[2] * y[3]; i++)
        out[i] = 0;
    FOR_EACH_TAP(xs, ws, y, p,
                 AT4(out, y, ow, oh, co, n) +=
                 AT4(x, xs, iw, ih, ci, n) * AT4(w, ws, kw, kh, cl, ci);)
    for (int64_t i = 0; i < y[0] * y[1] * y[2] * y[3]; i++) {
        out[i] += b ? b[i / (y[0] * y[1]) % y[2]] : 0;
        if (p->relu && out[i] < 0)
            out[i] = 0;
    }
}

static void naive_backward(const deconv_case *c, const float *x, const float *w,
                           const float *gy, const int64_t *y, float *gx, float *gw,
                           float *gb)
{
    const int64_t *xs = c->x, *ws = c->w;
    const cnn_deconv2d_params *p = &c->p;
    memset(gx, 0, sizeof *gx * xs[0] * xs[1] * xs[2] * xs[3]);
    memset(gw, 0, sizeof *gw * ws[0] * ws[1] * ws[2] * ws[3]);
    memset(gb, 0, sizeof *gb * y[2]);
    FOR_EACH_TAP(xs, ws, y, p, {
        float g = AT4(gy, y, ow, oh, co, n);
        AT4(gx, xs, iw, ih, ci, n) += g * AT4(w, ws, kw, kh, cl, ci);
        AT4(gw, ws, kw, kh, cl, ci) += g * AT4(x, xs, iw, ih, ci, n);
    })
    for (int64_t i = 0; i < y[0] * y[1] * y[2] * y[3]; i++)
        gb[i / (y[0] * y[1]) % y[2]] += gy[i];
}

static void check_case(const deconv_case *c)
{
    int64_t y[4];
    EXPECT_OK(cnn_deconv2d_output_size(&c->p, 4, c->x, 4, c->w, y));
    owned_tensor *x = new_tensor(4, c->x), *w = new_tensor(4, c->w);
    owned_tensor *b = new_tensor(1, &y[2]), *out = new_tensor(4, y);
    owned_tensor *ref = new_tensor(4, y), *gy = new_tensor(4, y);
    fill_pattern(x, 1);
    fill_pattern(w, 2);
    fill_pattern(b, 3);
    fill_pattern(gy, 4);
    EXPECT_OK(cnn_deconv2d_forward(&c->p, &x->t, &w->t, c->bias ? &b->t : NULL, &out->t));
    naive_forward(c, f32(x), f32(w), c->bias ? f32(b) : NULL, y, f32(ref));
    EXPECT_NEAR_ALL(f32(out), f32(ref), cnn_tensor_numel(&out->t), 1e-5);

    owned_tensor *gx = new_tensor(4, c->x), *gw = new_tensor(4, c->w);
    owned_tensor *gb = new_tensor(1, &y[2]);
    owned_tensor *rgx = new_tensor(4, c->x), *rgw = new_tensor(4, c->w);
    owned_tensor *rgb = new_tensor(1, &y[2]);
    EXPECT_OK(cnn_deconv2d_backward_data(&c->p, &gy->t, &w->t, &gx->t));
    EXPECT_OK(cnn_deconv2d_backward_weights(&c->p, &gy->t, &x->t, &gw->t,
                                            c->bias ? &gb->t : NULL));
    naive_backward(c, f32(x), f32(w), f32(gy), y, f32(rgx), f32(rgw), f32(rgb));
    EXPECT_NEAR_ALL(f32(gx), f32(rgx), cnn_tensor_numel(&gx->t), 1e-5);
    EXPECT_NEAR_ALL(f32(gw), f32(rgw), cnn_tensor_numel(&gw->t), 1e-5);
    if (c->bias)
        EXPECT_NEAR_ALL(f32(gb), f32(rgb), y[2], 1e-5);
    owned_tensor *all[] = {x, w, b, out, ref, gy, gx, gw, gb, rgx, rgw, rgb};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        free_tensor(all[i]);
}

static deconv_case make_case(int64_t xw, int64_t xh, int64_t cin, int64_t n, int64_t kw,
                             int64_t kh, int64_t cout, int64_t groups)
{
    deconv_case c;
    memset(&c, 0, sizeof c);
    int64_t x[4] = {xw, xh, cin, n}, w[4] = {kw, kh, cout / groups, cin};
    memcpy(c.x, x, sizeof x);
    memcpy(c.w, w, sizeof w);
    c.p = cnn_deconv2d_default_params();
    c.p.groups = groups;
    c.bias = 1;
    return c;
}

static void set_pad(deconv_case *c, int64_t pad)
{
    for (int d = 0; d < 4; d++)
        c->p.pad[d] = pad;
}

static void test_against_naive(void)
{
    deconv_case c = make_case(5, 4, 2, 2, 3, 3, 3, 1);
    check_case(&c);
    c.p.stride[0] = c.p.stride[1] = 2;
    set_pad(&c, 1);
    check_case(&c);
    c.p.relu = true;
    check_case(&c);
    c.p.outpad[0] = 1;
    c.p.pad[3] = 0;
    c.bias = 0;
    check_case(&c);
    c = make_case(6, 5, 3, 2, 3, 2, 4, 1);
    c.p.dilation[0] = 2;
    c.p.stride[1] = 3;
    c.p.outpad[0] = 1;
    c.p.outpad[1] = 2;
    c.p.pad[1] = 2;
    check_case(&c);
    c = make_case(5, 5, 2, 1, 3, 3, 2, 1); /* output padding from the dilation */
    c.p.dilation[1] = 3;
    c.p.stride[1] = 2;
    c.p.pad[3] = 1;
    c.p.outpad[1] = 2;
    check_case(&c);
    c = make_case(7, 7, 32, 2, 3, 3, 16, 1); /* blocked layouts */
    c.p.stride[0] = c.p.stride[1] = 2;
    set_pad(&c, 1);
    c.p.outpad[0] = c.p.outpad[1] = 1;
    c.p.relu = true;
    check_case(&c);
}

static void test_grouped_against_naive(void)
{
    deconv_case c = make_case(5, 4, 4, 2, 3, 3, 6, 2);
    check_case(&c);
    c.p.stride[0] = 2;
    c.p.pad[0] = 1;
    c.p.outpad[0] = 1;
    check_case(&c);
    c = make_case(6, 6, 6, 2, 2, 3, 9, 3);
    c.p.dilation[1] = 2;
    c.p.stride[1] = 2;
    c.p.pad[2] = 1;
    c.bias = 0;
    check_case(&c);
    c = make_case(8, 8, 16, 2, 3, 3, 16, 16); /* depthwise */
    c.p.stride[0] = c.p.stride[1] = 2;
    set_pad(&c, 1);
    check_case(&c);
}

static void test_primitives_are_reused(void)
{
    deconv_case c = make_case(6, 5, 3, 2, 3, 3, 4, 1);
    c.p.stride[0] = 2;
    check_case(&c);
    int64_t created = cnn_global_stats()->primitives_created;
    check_case(&c);
    EXPECT(cnn_global_stats()->primitives_created == created);
    c.p.outpad[0] = 1; /* part of the key */
    check_case(&c);
    EXPECT(cnn_global_stats()->primitives_created > created);
}

static void test_shape_errors(void)
{
    cnn_deconv2d_params p = cnn_deconv2d_default_params();
    int64_t x[4] = {7, 7, 3, 4}, w[4] = {3, 3, 1, 16}, y[4];
    EXPECT(cnn_deconv2d_output_size(&p, 4, x, 4, w, y) == CNN_ERR_SHAPE);
    EXPECT(!strcmp(cnn_error_message(), "input has 3 channels (7×7×3×4), weight expects "
                                        "16 (3×3×1×16, kW×kH×Cout/groups×Cin)"));
    x[2] = 16;
    p.groups = 3;
    EXPECT(cnn_deconv2d_output_size(&p, 4, x, 4, w, y) == CNN_ERR_SHAPE);
    EXPECT(!strcmp(cnn_error_message(),
                   "input has 16 channels (7×7×16×4), not divisible by 3 groups"));
    p.groups = 4;
    EXPECT_OK(cnn_deconv2d_output_size(&p, 4, x, 4, w, y));
    EXPECT(y[0] == 9 && y[1] == 9 && y[2] == 4 && y[3] == 4);
    p.outpad[1] = 1;
    EXPECT(cnn_deconv2d_output_size(&p, 4, x, 4, w, y) == CNN_ERR_ARG);
    EXPECT(!strcmp(cnn_error_message(),
                   "output padding must be non-negative and smaller than the stride or "
                   "the dilation, got 0×1 (stride 1×1, dilation 1×1)"));
    p.dilation[1] = 3; /* PyTorch's rule allows 1, oneDNN's right pad does not */
    EXPECT(cnn_deconv2d_output_size(&p, 4, x, 4, w, y) == CNN_ERR_ARG);
    EXPECT(!strcmp(cnn_error_message(),
                   "output padding 0×1 must be smaller than the high padding plus the "
                   "stride, 1×1, on oneDNN's deconvolution"));
    p.pad[3] = 1;
    EXPECT_OK(cnn_deconv2d_output_size(&p, 4, x, 4, w, y));
    EXPECT(y[0] == 9 && y[1] == 13);
    p.pad[3] = 0;
    p.dilation[1] = 1;
    p.outpad[1] = 0;
    p.pad[0] = p.pad[1] = 5;
    EXPECT(cnn_deconv2d_output_size(&p, 4, x, 4, w, y) == CNN_ERR_SHAPE);
    EXPECT(!strcmp(cnn_error_message(), "padding 5,5,0,0 leaves no output (input "
                                        "7×7×16×4, weight 3×3×1×16)"));
}

int main(void)
{
    cnn_threads_set_adaptive(false); /* primitive counts below */
    test_against_naive();
    test_grouped_against_naive();
    test_primitives_are_reused();
    test_shape_errors();
    return test_report();
}

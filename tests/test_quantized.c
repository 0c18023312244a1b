/* The quantized network against a naive Float32 reference (convolution
 * with relu, max pooling, flatten, dense, softmax), its plans, its
 * messages, and the quantile of magnitudes that calibrates it. */
#include <string.h>

#include "context.h"
#include "quantized.h"
#include "thread_count.h"
#include "test_util.h"

/* Sizes of the network under test: x 10×10×2×N, a 3×3 convolution to 4
 * channels with padding 1 and relu, 2×2 max pooling, flatten, dense to
 * 3 classes, softmax. */
enum { W = 10, C = 2, K = 4, P = W / 2, F = P * P * K, CLASSES = 3 };

/* The Float32 reference of one sample, and the largest activation after
 * the convolution. */
static float reference(const float *x, const float *w, const float *b, const float *dw,
                       const float *db, float *out)
{
    static float conv[W * W * K], pooled[F];
    float top = 0;
    for (int co = 0; co < K; co++)
        for (int oh = 0; oh < W; oh++)
            for (int ow = 0; ow < W; ow++) {
                float s = b[co];
                for (int ci = 0; ci < C; ci++)
                    for (int kh = 0; kh < 3; kh++)
                        for (int kw = 0; kw < 3; kw++) {
                            int ih = oh + kh - 1, iw = ow + kw - 1;
                            if (ih < 0 || ih >= W || iw < 0 || iw >= W)
                                continue;
                            s += x[iw + W * (ih + W * ci)] *
                                 w[kw + 3 * (kh + 3 * (ci + C * co))];
                        }
                s = s > 0 ? s : 0;
                top = s > top ? s : top;
                conv[ow + W * (oh + W * co)] = s;
            }
    for (int c = 0; c < K; c++)
        for (int h = 0; h < P; h++)
            for (int v = 0; v < P; v++) {
                float m = 0;
                for (int a = 0; a < 2; a++)
                    for (int d = 0; d < 2; d++) {
                        float e = conv[2 * v + a + W * (2 * h + d + W * c)];
                        m = e > m ? e : m;
                    }
                pooled[v + P * (h + P * c)] = m;
            }
    float sum = 0, logits[CLASSES], big = -INFINITY;
    for (int o = 0; o < CLASSES; o++) {
        logits[o] = db[o];
        for (int f = 0; f < F; f++)
            logits[o] += dw[o + CLASSES * f] * pooled[f];
        big = logits[o] > big ? logits[o] : big;
    }
    for (int o = 0; o < CLASSES; o++)
        sum += out[o] = expf(logits[o] - big);
    for (int o = 0; o < CLASSES; o++)
        out[o] /= sum;
    return top;
}

typedef struct fixture {
    owned_tensor *w, *b, *dw, *db;
    cnn_qnet *net;
} fixture;

static owned_tensor *images(int64_t n)
{
    owned_tensor *x = new_tensor4(W, W, C, n);
    fill_pattern(x, 7);
    for (int64_t i = 0; i < cnn_tensor_numel(&x->t); i++)
        f32(x)[i] = (f32(x)[i] + 1) / 2; /* [0, 1): a u8 input */
    return x;
}

static fixture make_net(float conv_max)
{
    fixture f;
    f.w = new_tensor4(3, 3, C, K);
    f.b = new_tensor4(K, 1, 1, 1);
    f.dw = new_tensor4(CLASSES, F, 1, 1);
    f.db = new_tensor4(CLASSES, 1, 1, 1);
    fill_pattern(f.w, 1);
    fill_pattern(f.b, 2);
    fill_pattern(f.dw, 3);
    fill_pattern(f.db, 4);
    /* dense weights of a trained model's size: logits of a few units */
    for (int i = 0; i < CLASSES * F; i++)
        f32(f.dw)[i] *= 0.2f;
    cnn_tensor_view_as(&f.b->t, 1, (int64_t[]){K});
    cnn_tensor_view_as(&f.dw->t, 2, (int64_t[]){CLASSES, F});
    cnn_tensor_view_as(&f.db->t, 1, (int64_t[]){CLASSES});
    cnn_conv2d_params p = cnn_conv2d_default_params();
    p.pad[0] = p.pad[1] = p.pad[2] = p.pad[3] = 1;
    p.activation = CNN_CONV_RELU;
    cnn_pool2d_params pool = cnn_pool2d_default_params(CNN_POOL_MAX, 2, 2);
    f.net = NULL;
    EXPECT_OK(cnn_qnet_create(4, (cnn_qrange){1.0f, true}, &f.net));
    EXPECT_OK(cnn_qnet_add_conv(f.net, "Conv", &p, &f.w->t, &f.b->t,
                                (cnn_qrange){conv_max, true}));
    EXPECT_OK(cnn_qnet_add_pool(f.net, "MaxPool", &pool));
    EXPECT_OK(cnn_qnet_add_flatten(f.net, "flatten"));
    EXPECT_OK(cnn_qnet_add_dense(f.net, "Dense", &f.dw->t, &f.db->t, false, NULL));
    EXPECT_OK(cnn_qnet_add_softmax(f.net, "softmax"));
    return f;
}

static void drop_net(fixture *f)
{
    cnn_qnet_free(f->net);
    free_tensor(f->w);
    free_tensor(f->b);
    free_tensor(f->dw);
    free_tensor(f->db);
}

/* The largest post-relu activation of the reference on x's samples. */
static float conv_range(const fixture *f, const owned_tensor *x, int64_t n, float *want)
{
    float top = 0;
    for (int64_t i = 0; i < n; i++) {
        float t = reference(f32((owned_tensor *)x) + i * W * W * C, f32(f->w), f32(f->b),
                            f32(f->dw), f32(f->db), want + i * CLASSES);
        top = t > top ? t : top;
    }
    return top;
}

static void test_against_reference(void)
{
    enum { N = 37 };
    owned_tensor *x = images(N);
    float want[N * CLASSES];
    fixture probe = make_net(1.0f);
    float top = conv_range(&probe, x, N, want);
    drop_net(&probe);
    fixture f = make_net(top);
    EXPECT(cnn_qnet_layer_count(f.net) == 5);
    cnn_qnet_plan plan;
    EXPECT_OK(cnn_qnet_plan_forward(&plan, f.net, &x->t));
    EXPECT(plan.out[0].ndims == 2 && plan.out[0].size[0] == CLASSES &&
           plan.out[0].size[1] == N && !plan.out[0].blocked);
    owned_tensor *y = new_tensor(2, (int64_t[]){CLASSES, N});
    EXPECT_OK(cnn_qnet_run_forward(&plan, &x->t, &y->t));
    /* probabilities within 0.02 of the reference's (8-bit activations of
     * 255 levels, 8-bit weights of 127) */
    double worst = 0;
    for (int i = 0; i < N * CLASSES; i++)
        worst = fmax(worst, fabs((double)f32(y)[i] - want[i]));
    EXPECT(worst < 0.02);
    EXPECT(worst > 0); /* int8, not the Float32 path */
    free_tensor(y);
    drop_net(&f);
    free_tensor(x);
}

static void test_plans_are_kept(void)
{
    owned_tensor *x = images(9);
    fixture f = make_net(4.0f);
    owned_tensor *y = new_tensor(2, (int64_t[]){CLASSES, 9});
    cnn_qnet_plan plan;
    EXPECT_OK(cnn_qnet_plan_forward(&plan, f.net, &x->t));
    EXPECT_OK(cnn_qnet_run_forward(&plan, &x->t, &y->t));
    int64_t created = cnn_global_stats()->primitives_created;
    EXPECT_OK(cnn_qnet_plan_forward(&plan, f.net, &x->t));
    EXPECT_OK(cnn_qnet_run_forward(&plan, &x->t, &y->t));
    EXPECT(cnn_global_stats()->primitives_created == created);
    EXPECT(cnn_qnet_plan_count(f.net) == 1);
    /* more batch sizes than it keeps: the oldest plans go */
    for (int64_t n = 1; n <= 6; n++) {
        cnn_tensor part = x->t;
        cnn_tensor_narrow(&part, 3, 0, n);
        EXPECT_OK(cnn_qnet_plan_forward(&plan, f.net, &part));
    }
    EXPECT(cnn_qnet_plan_count(f.net) == 4);
    free_tensor(y);
    drop_net(&f);
    free_tensor(x);
}

static void expect_message(cnn_status s, const char *text)
{
    EXPECT(s != CNN_OK);
    if (!strstr(cnn_error_message(), text)) {
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", cnn_error_message(), text);
        failures++;
    }
}

static void test_messages(void)
{
    fixture f = make_net(4.0f);
    owned_tensor *x = new_tensor4(W, W, 3, 2);
    cnn_qnet_plan plan;
    expect_message(cnn_qnet_plan_forward(&plan, f.net, &x->t),
                   "Conv: input has 3 channels (10×10×3×2), weight expects 2");
    free_tensor(x);
    x = new_tensor4(12, 12, C, 2);
    expect_message(cnn_qnet_plan_forward(&plan, f.net, &x->t),
                   "Dense: input has 144 features (144×2), expected 100");
    free_tensor(x);
    expect_message(cnn_qnet_add_flatten(f.net, "flatten"),
                   "flatten: no layer can follow softmax, the last");
    drop_net(&f);
    cnn_qnet *net;
    EXPECT_OK(cnn_qnet_create(4, (cnn_qrange){1.0f, true}, &net));
    owned_tensor *dw = new_tensor(2, (int64_t[]){3, 4});
    expect_message(cnn_qnet_add_dense(net, "Dense", &dw->t, NULL, false, NULL),
                   "Dense: takes a 2-D input (features×N), the layers before give 4-D");
    expect_message(cnn_qnet_add_softmax(net, "softmax"),
                   "softmax: runs on the Float32 result of a last dense layer only");
    cnn_qnet_free(net);
    EXPECT_OK(cnn_qnet_create(2, (cnn_qrange){1.0f, false}, &net));
    EXPECT_OK(cnn_qnet_add_dense(net, "Dense", &dw->t, NULL, false, NULL));
    expect_message(cnn_qnet_add_dense(net, "Dense 2", &dw->t, NULL, false, NULL),
                   "Dense 2: no layer can follow Dense, whose result is Float32");
    free_tensor(dw);
    cnn_qnet_free(net);
    expect_message(cnn_qnet_create(3, (cnn_qrange){1.0f, true}, &net),
                   "the input must be 2-D or 4-D, got 3-D");
    expect_message(cnn_qnet_create(4, (cnn_qrange){0.0f, true}, &net),
                   "input: the range must be positive and finite, got 0");
}

static void test_abs_quantile(void)
{
    owned_tensor *t = new_tensor(1, (int64_t[]){1000});
    for (int i = 0; i < 1000; i++)
        f32(t)[i] = (float)(i % 2 ? i + 1 : -(i + 1)); /* ±1 .. ±1000 */
    double q, min;
    EXPECT_OK(cnn_abs_quantile(&t->t, 1.0, &q, &min));
    EXPECT(q == 1000 && min == -999);
    EXPECT_OK(cnn_abs_quantile(&t->t, 0.5, &q, &min));
    EXPECT(fabs(q - 500) <= 1000.0 / 4096 + 1e-9);
    EXPECT_OK(cnn_abs_quantile(&t->t, 0.999, &q, &min));
    EXPECT(fabs(q - 999) <= 1000.0 / 4096 + 1e-9);
    expect_message(cnn_abs_quantile(&t->t, 0, &q, &min),
                   "the fraction must be in (0, 1]");
    f32(t)[3] = NAN;
    expect_message(cnn_abs_quantile(&t->t, 1.0, &q, &min),
                   "an element is NaN or infinite");
    free_tensor(t);
}

int main(void)
{
    cnn_threads_set_adaptive(false); /* primitive counts below */
    test_against_reference();
    test_plans_are_kept();
    test_messages();
    test_abs_quantile();
    return test_report();
}

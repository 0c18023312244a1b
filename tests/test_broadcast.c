/* Unit tests of broadcasting: sizes, the loop plan (dimension merging and
 * broadcast strides), binary and unary kernels on views, aliasing and
 * Int32 semantics. */

#include "broadcast.h"
#include "test_util.h"

static void test_broadcast_sizes(void)
{
    int64_t s23[2] = {2, 3}, s43[2] = {4, 3}, s2[1] = {2}, s13[2] = {1, 3};
    int64_t s01[2] = {0, 1}, s1x4[3] = {1, 1, 4};
    cnn_tensor a, b;
    int ndims;
    int64_t size[CNN_MAX_DIMS];
    cnn_tensor_init(&a, CNN_FLOAT32, 2, s23);
    cnn_tensor_init(&b, CNN_FLOAT32, 2, s43);
    EXPECT(cnn_broadcast_sizes(&a, &b, &ndims, size) == CNN_ERR_SHAPE);
    EXPECT(strcmp(cnn_error_message(), "sizes 2×3 and 4×3 do not broadcast") == 0);

    cnn_tensor_init(&b, CNN_FLOAT32, 1, s2); /* missing trailing dim is 1 */
    EXPECT(cnn_broadcast_sizes(&a, &b, &ndims, size) == CNN_OK);
    EXPECT(ndims == 2 && size[0] == 2 && size[1] == 3);

    cnn_tensor_init(&a, CNN_FLOAT32, 2, s13);
    cnn_tensor_init(&b, CNN_FLOAT32, 3, s1x4);
    EXPECT(cnn_broadcast_sizes(&a, &b, &ndims, size) == CNN_OK);
    EXPECT(ndims == 3 && size[0] == 1 && size[1] == 3 && size[2] == 4);

    cnn_tensor_init(&a, CNN_FLOAT32, 2, s01); /* 0 against 1 gives 0 */
    cnn_tensor_init(&b, CNN_FLOAT32, 1, (int64_t[]){1});
    EXPECT(cnn_broadcast_sizes(&a, &b, &ndims, size) == CNN_OK);
    EXPECT(ndims == 2 && size[0] == 0 && size[1] == 1);

    cnn_tensor_init(&b, CNN_FLOAT32, 0, NULL); /* a scalar fits anything */
    EXPECT(cnn_broadcast_sizes(&b, &a, &ndims, size) == CNN_OK && ndims == 2);
}

static void test_loop_plan_merges_and_broadcasts(void)
{
    int64_t s234[3] = {2, 3, 4}, s134[3] = {1, 3, 4}, s2[1] = {2};
    cnn_tensor out, full, row, col;
    cnn_tensor_init(&out, CNN_FLOAT32, 3, s234);
    cnn_tensor_init(&full, CNN_FLOAT32, 3, s234);
    cnn_loop loop;
    const cnn_tensor *same[2] = {&out, &full};
    cnn_loop_plan(&loop, 3, s234, 2, same);
    EXPECT(loop.ndims == 1 && loop.size[0] == 24);
    EXPECT(loop.stride[0][0] == 1 && loop.stride[1][0] == 1);

    /* 1×3×4 against 2×3×4: dim 1 broadcast, dims 2 and 3 merge */
    cnn_tensor_init(&row, CNN_FLOAT32, 3, s134);
    const cnn_tensor *with_row[2] = {&out, &row};
    cnn_loop_plan(&loop, 3, s234, 2, with_row);
    EXPECT(loop.ndims == 2 && loop.size[0] == 2 && loop.size[1] == 12);
    EXPECT(loop.stride[1][0] == 0 && loop.stride[1][1] == 1);
    EXPECT(loop.stride[0][0] == 1 && loop.stride[0][1] == 2);
    int64_t off[2];
    cnn_loop_row_offsets(&loop, 5, off);
    EXPECT(off[0] == 10 && off[1] == 5);

    /* a vector of 2 against 2×3×4: dims 2 and 3 broadcast together */
    cnn_tensor_init(&col, CNN_FLOAT32, 1, s2);
    const cnn_tensor *with_col[2] = {&out, &col};
    cnn_loop_plan(&loop, 3, s234, 2, with_col);
    EXPECT(loop.ndims == 2 && loop.size[0] == 2 && loop.size[1] == 12);
    EXPECT(loop.stride[1][0] == 1 && loop.stride[1][1] == 0);

    /* a transposed view does not merge */
    cnn_tensor t = full;
    t.ndims = 2;
    t.size[0] = 3;
    t.size[1] = 2;
    t.stride[0] = 2;
    t.stride[1] = 1;
    cnn_tensor o2;
    cnn_tensor_init(&o2, CNN_FLOAT32, 2, (int64_t[]){3, 2});
    const cnn_tensor *with_t[2] = {&o2, &t};
    cnn_loop_plan(&loop, 2, o2.size, 2, with_t);
    EXPECT(loop.ndims == 2 && loop.stride[1][0] == 2 && loop.stride[1][1] == 1);

    /* all sizes 1: one element */
    cnn_tensor one;
    cnn_tensor_init(&one, CNN_FLOAT32, 2, (int64_t[]){1, 1});
    const cnn_tensor *ones[1] = {&one};
    cnn_loop_plan(&loop, 2, one.size, 1, ones);
    EXPECT(loop.ndims == 1 && loop.size[0] == 1);
}

static void test_binary_broadcast_values(void)
{
    int64_t s23[2] = {2, 3}, s13[2] = {1, 3}, s2[1] = {2};
    cnn_tensor a = make_tensor(CNN_FLOAT32, 2, s23),
               row = make_tensor(CNN_FLOAT32, 2, s13);
    cnn_tensor col = make_tensor(CNN_FLOAT32, 1, s2),
               out = make_tensor(CNN_FLOAT32, 2, s23);
    iota(&a, 1);     /* column-major 1 2 3 4 5 6: rows {1,3,5} {2,4,6} */
    iota(&row, 10);  /* 10 11 12 */
    iota(&col, 100); /* 100 101 */
    EXPECT(cnn_binary(CNN_BINARY_ADD, &a, &row, &out) == CNN_OK);
    const float sum_row[6] = {11, 12, 14, 15, 17, 18};
    for (int i = 0; i < 6; i++)
        EXPECT(cnn_tensor_f32(&out)[i] == sum_row[i]);
    EXPECT(cnn_binary(CNN_BINARY_SUB, &col, &row, &out) == CNN_OK);
    const float diff[6] = {90, 91, 89, 90, 88, 89};
    for (int i = 0; i < 6; i++)
        EXPECT(cnn_tensor_f32(&out)[i] == diff[i]);
    cnn_tensor scalar = make_tensor(CNN_FLOAT32, 0, NULL);
    cnn_tensor_f32(&scalar)[0] = 3.5f;
    EXPECT(cnn_binary(CNN_BINARY_GT, &a, &scalar, &out) == CNN_OK);
    const float mask[6] = {0, 0, 0, 1, 1, 1};
    for (int i = 0; i < 6; i++)
        EXPECT(cnn_tensor_f32(&out)[i] == mask[i]);
    drop_tensor(&scalar);
    /* comparisons need a Float32 out: the result type is checked */
    cnn_tensor iout = make_tensor(CNN_INT32, 2, s23);
    EXPECT(cnn_binary(CNN_BINARY_LT, &a, &col, &iout) == CNN_ERR_ARG);
    EXPECT(strcmp(cnn_error_message(), "out is Int32, the result Float32") == 0);
    cnn_tensor wrong = make_tensor(CNN_FLOAT32, 1, (int64_t[]){6});
    EXPECT(cnn_binary(CNN_BINARY_ADD, &a, &row, &wrong) == CNN_ERR_SHAPE);
    EXPECT(strcmp(cnn_error_message(), "out has size 6, the result 2×3") == 0);
    drop_tensor(&a);
    drop_tensor(&row);
    drop_tensor(&col);
    drop_tensor(&out);
    drop_tensor(&iout);
    drop_tensor(&wrong);
}

static void test_output_aliasing_a_broadcast_input(void)
{
    int64_t s23[2] = {2, 3};
    cnn_tensor x = make_tensor(CNN_FLOAT32, 2, s23);
    iota(&x, 1);
    cnn_tensor first_col = x; /* 2×1 view of column 1, sharing storage */
    first_col.size[1] = 1;
    EXPECT(cnn_binary(CNN_BINARY_MUL, &x, &first_col, &x) == CNN_OK);
    const float want[6] = {1, 4, 3, 8, 5, 12};
    for (int i = 0; i < 6; i++)
        EXPECT(cnn_tensor_f32(&x)[i] == want[i]);
    drop_tensor(&x);
}

static void test_large_strided_binary_matches_serial(void)
{
    /* big enough to run in parallel, through a non-contiguous view */
    int64_t big[2] = {400, 300}, half[2] = {200, 300}, col[2] = {200, 1};
    cnn_tensor x = make_tensor(CNN_FLOAT32, 2, big), c = make_tensor(CNN_FLOAT32, 2, col);
    cnn_tensor out = make_tensor(CNN_FLOAT32, 2, half);
    iota(&x, 0);
    iota(&c, 0);
    cnn_tensor v = x; /* every other row: stride 2 in dim 1 */
    v.size[0] = 200;
    v.stride[0] = 2;
    EXPECT(cnn_binary(CNN_BINARY_SUB, &v, &c, &out) == CNN_OK);
    int bad = 0;
    for (int64_t j = 0; j < 300; j++)
        for (int64_t i = 0; i < 200; i++)
            bad +=
                cnn_tensor_f32(&out)[i + 200 * j] != (float)(2 * i + 400 * j) - (float)i;
    EXPECT(bad == 0);
    drop_tensor(&x);
    drop_tensor(&c);
    drop_tensor(&out);
}

static void test_int32_rules(void)
{
    int64_t s3[1] = {3};
    cnn_tensor a = make_tensor(CNN_INT32, 1, s3), b = make_tensor(CNN_INT32, 1, s3);
    cnn_tensor io = make_tensor(CNN_INT32, 1, s3), fo = make_tensor(CNN_FLOAT32, 1, s3);
    int32_t *pa = cnn_tensor_i32(&a), *pb = cnn_tensor_i32(&b);
    pa[0] = INT32_MAX;
    pa[1] = 7;
    pa[2] = -7;
    pb[0] = 1;
    pb[1] = 2;
    pb[2] = 2;
    EXPECT(cnn_binary_result_dtype(CNN_BINARY_ADD, CNN_INT32, CNN_INT32) == CNN_INT32);
    EXPECT(cnn_binary_result_dtype(CNN_BINARY_DIV, CNN_INT32, CNN_INT32) == CNN_FLOAT32);
    EXPECT(cnn_binary_result_dtype(CNN_BINARY_ADD, CNN_INT32, CNN_FLOAT32) ==
           CNN_FLOAT32);
    EXPECT(cnn_binary(CNN_BINARY_ADD, &a, &b, &io) == CNN_OK);
    EXPECT(cnn_tensor_i32(&io)[0] == INT32_MIN && cnn_tensor_i32(&io)[1] == 9);
    EXPECT(cnn_binary(CNN_BINARY_DIV, &a, &b, &fo) == CNN_OK);
    EXPECT(cnn_tensor_f32(&fo)[1] == 3.5f && cnn_tensor_f32(&fo)[2] == -3.5f);
    EXPECT(cnn_binary(CNN_BINARY_POW, &a, &b, &io) == CNN_OK);
    EXPECT(cnn_tensor_i32(&io)[1] == 49 && cnn_tensor_i32(&io)[2] == 49);
    EXPECT(cnn_unary(CNN_UNARY_NEG, &a, &io) == CNN_OK);
    EXPECT(cnn_tensor_i32(&io)[0] == -INT32_MAX && cnn_tensor_i32(&io)[2] == 7);
    /* mixed: the Int32 operand is converted */
    cnn_tensor f = make_tensor(CNN_FLOAT32, 1, s3);
    cnn_tensor_fill(&f, 0.5);
    EXPECT(cnn_binary(CNN_BINARY_MUL, &b, &f, &fo) == CNN_OK);
    EXPECT(cnn_tensor_f32(&fo)[0] == 0.5f && cnn_tensor_f32(&fo)[1] == 1.0f);
    EXPECT(cnn_unary_result_dtype(CNN_UNARY_EXP, CNN_INT32) == CNN_FLOAT32);
    EXPECT(cnn_unary_result_dtype(CNN_UNARY_ABS, CNN_INT32) == CNN_INT32);
    drop_tensor(&a);
    drop_tensor(&b);
    drop_tensor(&io);
    drop_tensor(&fo);
    drop_tensor(&f);
}

static void test_unary_paths_agree(void)
{
    /* contiguous Float32 goes through oneDNN; a strided view through the
     * loop: both must give the same function, to a couple of ulps */
    int64_t s[2] = {64, 2}, half[1] = {64};
    cnn_tensor x = make_tensor(CNN_FLOAT32, 2, s), y = make_tensor(CNN_FLOAT32, 2, s);
    cnn_tensor z = make_tensor(CNN_FLOAT32, 1, half);
    for (int i = 0; i < 128; i++)
        cnn_tensor_f32(&x)[i] = (float)(i - 64) / 16.0f;
    const cnn_unary_op ops[] = {CNN_UNARY_NEG,  CNN_UNARY_EXP,     CNN_UNARY_ABS,
                                CNN_UNARY_RELU, CNN_UNARY_SIGMOID, CNN_UNARY_TANH};
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        EXPECT(cnn_unary(ops[k], &x, &y) == CNN_OK);
        cnn_tensor row = x; /* every other element: a vector of stride 2 */
        row.ndims = 1;
        row.stride[0] = 2;
        row.size[0] = 64;
        EXPECT(cnn_unary(ops[k], &row, &z) == CNN_OK);
        float worst = 0;
        for (int i = 0; i < 64; i++) {
            float want = cnn_tensor_f32(&y)[2 * i];
            float d = fabsf(cnn_tensor_f32(&z)[i] - want) / fmaxf(1.0f, fabsf(want));
            worst = d > worst ? d : worst;
        }
        if (worst > 1e-6f)
            fprintf(stderr, "unary op %d: paths differ by %g\n", (int)ops[k], worst);
        EXPECT(worst <= 1e-6f);
    }
    drop_tensor(&x);
    drop_tensor(&y);
    drop_tensor(&z);
}

static void test_equal_and_isapprox(void)
{
    int64_t s[2] = {2, 2}, t[1] = {4};
    cnn_tensor a = make_tensor(CNN_FLOAT32, 2, s), b = make_tensor(CNN_FLOAT32, 2, s);
    cnn_tensor flat = make_tensor(CNN_FLOAT32, 1, t);
    iota(&a, 1);
    iota(&b, 1);
    iota(&flat, 1);
    EXPECT(cnn_tensor_equal(&a, &b));
    EXPECT(!cnn_tensor_equal(&a, &flat));
    bool r = false;
    cnn_tensor_f32(&b)[3] = 4.001f;
    EXPECT(!cnn_tensor_equal(&a, &b));
    EXPECT(cnn_isapprox(&a, &b, 1e-3, 0, &r) == CNN_OK && r);
    EXPECT(cnn_isapprox(&a, &b, 1e-4, 0, &r) == CNN_OK && !r);
    EXPECT(cnn_isapprox(&a, &b, 0, 0.01, &r) == CNN_OK && r);
    EXPECT(cnn_isapprox(&a, &flat, 1, 1, &r) == CNN_ERR_SHAPE);
    EXPECT(strcmp(cnn_error_message(), "sizes 2×2 and 4 differ") == 0);
    cnn_tensor_f32(&a)[0] = NAN;
    cnn_tensor_f32(&b)[0] = NAN;
    EXPECT(cnn_isapprox(&a, &b, 1, 1, &r) == CNN_OK && !r);
    drop_tensor(&a);
    drop_tensor(&b);
    drop_tensor(&flat);
}

int main(void)
{
    test_broadcast_sizes();
    test_loop_plan_merges_and_broadcasts();
    test_binary_broadcast_values();
    test_output_aliasing_a_broadcast_input();
    test_large_strided_binary_matches_serial();
    test_int32_rules();
    test_unary_paths_agree();
    test_equal_and_isapprox();
    return test_report();
}

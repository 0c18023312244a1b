/* Unit tests of the core view functions: select, narrow, reshape sizes,
 * broadcasting, linear offsets and range lengths. */

#include "tensor.h"
#include "test_util.h"

static void test_select_and_narrow(void)
{
    cnn_tensor t;
    int64_t size[3] = {2, 3, 4};
    cnn_tensor_init(&t, CNN_FLOAT32, 3, size);
    cnn_tensor s = t;
    cnn_tensor_select(&s, 1, 2);
    EXPECT(s.ndims == 2 && s.size[0] == 2 && s.size[1] == 4);
    EXPECT(s.offset == 4 && s.stride[0] == 1 && s.stride[1] == 6);
    EXPECT(!cnn_tensor_is_contiguous(&s));
    cnn_tensor n = t;
    cnn_tensor_narrow(&n, 2, 1, 2);
    EXPECT(n.offset == 6 && n.size[2] == 2 && cnn_tensor_is_contiguous(&n));
    EXPECT(cnn_tensor_linear_offset(&s, 3) == 1 + 6);
}

static void test_reshape_sizes(void)
{
    cnn_tensor t;
    int64_t size[2] = {2, 3};
    cnn_tensor_init(&t, CNN_FLOAT32, 2, size);
    int64_t want[2] = {3, -1};
    EXPECT(cnn_reshape_sizes(&t, 2, want) == CNN_OK && want[1] == 2);
    int64_t bad[2] = {4, 2};
    EXPECT(cnn_reshape_sizes(&t, 2, bad) == CNN_ERR_SHAPE);
    EXPECT(strcmp(cnn_error_message(),
                  "cannot reshape 2×3 (6 elements) to 4×2 (8 elements)") == 0);
    int64_t two[2] = {-1, -1};
    EXPECT(cnn_reshape_sizes(&t, 2, two) == CNN_ERR_ARG);
    int64_t odd[2] = {4, -1};
    EXPECT(cnn_reshape_sizes(&t, 2, odd) == CNN_ERR_SHAPE);
    cnn_tensor_view_as(&t, 2, want);
    EXPECT(t.size[0] == 3 && t.stride[1] == 3);
}

static void test_broadcast(void)
{
    cnn_tensor col;
    int64_t csize[1] = {3}, to[2] = {3, 4}, bad[2] = {2, 4};
    cnn_tensor_init(&col, CNN_FLOAT32, 1, csize);
    cnn_tensor b = col;
    EXPECT(cnn_tensor_broadcast_to(&b, 2, to) == CNN_OK);
    EXPECT(b.size[1] == 4 && b.stride[1] == 0 && b.stride[0] == 1);
    b = col;
    EXPECT(cnn_tensor_broadcast_to(&b, 2, bad) == CNN_ERR_SHAPE);
    EXPECT(strcmp(cnn_error_message(), "sizes 3 and 2×4 do not broadcast") == 0);
}

static void test_range_length(void)
{
    int64_t n;
    EXPECT(cnn_range_length(0, 1, 0.1, &n) == CNN_OK && n == 11);
    EXPECT(cnn_range_length(0, 0.3, 0.1, &n) == CNN_OK && n == 4);
    EXPECT(cnn_range_length(1, 10, 3, &n) == CNN_OK && n == 4);
    EXPECT(cnn_range_length(5, 1, 1, &n) == CNN_OK && n == 0);
    EXPECT(cnn_range_length(5, 1, -2, &n) == CNN_OK && n == 3);
    EXPECT(cnn_range_length(1, 2, 0, &n) == CNN_ERR_ARG);
}

int main(void)
{
    test_select_and_narrow();
    test_reshape_sizes();
    test_broadcast();
    test_range_length();
    return test_report();
}

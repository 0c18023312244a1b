/* Unit tests of the core tensor: init, strides, copy, fill. */

#include "tensor.h"
#include "test_util.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

static void test_init_sets_column_major_strides(void)
{
    cnn_tensor t;
    int64_t size[4] = {28, 28, 1, 128};
    EXPECT(cnn_tensor_init(&t, CNN_FLOAT32, 4, size) == CNN_OK);
    EXPECT(t.stride[0] == 1 && t.stride[1] == 28 && t.stride[2] == 784 &&
           t.stride[3] == 784);
    EXPECT(cnn_tensor_numel(&t) == 28 * 28 * 128);
    EXPECT(cnn_tensor_is_contiguous(&t));
    char buf[64];
    EXPECT(strcmp(cnn_shape_string(&t, buf, sizeof buf), "28×28×1×128") == 0);
}

static void test_init_rejects_bad_sizes(void)
{
    cnn_tensor t;
    int64_t negative[2] = {2, -1};
    EXPECT(cnn_tensor_init(&t, CNN_FLOAT32, 2, negative) == CNN_ERR_ARG);
    EXPECT(strstr(cnn_error_message(), "negative") != NULL);
    EXPECT(cnn_tensor_init(&t, CNN_FLOAT32, CNN_MAX_DIMS + 1, negative) == CNN_ERR_ARG);
    int64_t huge[3] = {INT64_C(1) << 40, INT64_C(1) << 40, 2};
    EXPECT(cnn_tensor_init(&t, CNN_FLOAT32, 3, huge) == CNN_ERR_ARG);
}

static void test_copy_transposed_view(void)
{
    cnn_storage sa, sb;
    cnn_tensor a, b;
    int64_t size[2] = {2, 3};
    cnn_tensor_init(&a, CNN_FLOAT32, 2, size);
    cnn_storage_alloc(&sa, cnn_tensor_bytes(&a));
    a.storage = &sa;
    for (int i = 0; i < 6; i++)
        cnn_tensor_f32(&a)[i] = (float)i;
    /* b is a 3×2 view of a's transpose */
    int64_t tsize[2] = {3, 2};
    cnn_tensor_init(&b, CNN_FLOAT32, 2, tsize);
    cnn_storage_alloc(&sb, cnn_tensor_bytes(&b));
    b.storage = &sb;
    cnn_tensor at = a;
    at.size[0] = 3;
    at.size[1] = 2;
    at.stride[0] = 2;
    at.stride[1] = 1;
    EXPECT(cnn_tensor_copy(&b, &at) == CNN_OK);
    const float expected[6] = {0, 2, 4, 1, 3, 5};
    for (int i = 0; i < 6; i++)
        EXPECT(cnn_tensor_f32(&b)[i] == expected[i]);
    EXPECT(cnn_tensor_copy(&b, &a) == CNN_ERR_SHAPE);
    cnn_tensor_fill(&b, 7);
    EXPECT(cnn_tensor_f32(&b)[5] == 7.0f);
    cnn_storage_free(&sa);
    cnn_storage_free(&sb);
    EXPECT(cnn_tensor_data(&b) == NULL);
}

/* A freed block of a cached size comes back for the next storage of that
 * size; while it waits, an AddressSanitizer build has it poisoned, so that
 * a use after free is caught. */
static void test_freed_block_is_reused_and_poisoned_while_cached(void)
{
    if (cnn_storage_cache_limit() == 0)
        return; /* CNNLUA_CACHE_MB=0 keeps no block */
    cnn_storage a, b;
    size_t bytes = (size_t)1 << 20;
    EXPECT(cnn_storage_alloc(&a, bytes) == CNN_OK);
    unsigned char *first = a.data;
    cnn_storage_free(&a);
#if defined(__SANITIZE_ADDRESS__)
    EXPECT(__asan_address_is_poisoned(first) &&
           __asan_address_is_poisoned(first + bytes - 1));
#endif
    EXPECT(cnn_storage_alloc(&b, bytes) == CNN_OK);
    EXPECT((unsigned char *)b.data == first);
#if defined(__SANITIZE_ADDRESS__)
    EXPECT(!__asan_address_is_poisoned(first) &&
           !__asan_address_is_poisoned(first + bytes - 1));
#endif
    EXPECT(((unsigned char *)b.data)[0] == 0 &&
           ((unsigned char *)b.data)[bytes - 1] == 0);
    cnn_storage_free(&b);
    cnn_storage_cache_clear();
}

int main(void)
{
    test_init_sets_column_major_strides();
    test_init_rejects_bad_sizes();
    test_copy_transposed_view();
    test_freed_block_is_reused_and_poisoned_while_cached();
    return test_report();
}

/* Unit tests of the text display: number formats, layout and elision. */

#include "display.h"
#include "test_util.h"

#define EXPECT_STR(actual, expected)                                                     \
    do {                                                                                 \
        const char *a_ = (actual), *e_ = (expected);                                     \
        if (strcmp(a_, e_) != 0) {                                                       \
            fprintf(stderr, "%s:%d: got\n%s\nexpected\n%s\n", __FILE__, __LINE__, a_,    \
                    e_);                                                                 \
            failures++;                                                                  \
        }                                                                                \
    } while (0)

static void test_float_formats(void)
{
    char buf[CNN_FORMAT_LEN];
    EXPECT_STR(cnn_format_element(CNN_FLOAT32, 0.0, buf), "0.0");
    EXPECT_STR(cnn_format_element(CNN_FLOAT32, 1.0, buf), "1.0");
    EXPECT_STR(cnn_format_element(CNN_FLOAT32, 0.5, buf), "0.5");
    EXPECT_STR(cnn_format_element(CNN_FLOAT32, -2.25, buf), "-2.25");
    EXPECT_STR(cnn_format_element(CNN_FLOAT32, 0.1, buf), "0.1");
    EXPECT_STR(cnn_format_element(CNN_FLOAT32, 1.0 / 3.0, buf), "0.33333334");
    EXPECT_STR(cnn_format_element(CNN_FLOAT32, 1e-5, buf), "1.0e-5");
    EXPECT_STR(cnn_format_element(CNN_FLOAT32, 0.0001, buf), "0.0001");
    EXPECT_STR(cnn_format_element(CNN_FLOAT32, 123456.0, buf), "123456.0");
    EXPECT_STR(cnn_format_element(CNN_FLOAT32, 1e6, buf), "1.0e6");
    EXPECT_STR(cnn_format_element(CNN_FLOAT32, -1.5e-7, buf), "-1.5e-7");
    EXPECT_STR(cnn_format_element(CNN_FLOAT32, 3.4028234663852886e38, buf),
               "3.4028235e38");
    EXPECT_STR(cnn_format_element(CNN_FLOAT32, -0.0, buf), "-0.0");
    EXPECT_STR(cnn_format_element(CNN_FLOAT32, 0.0 / 0.0, buf), "NaN");
    EXPECT_STR(cnn_format_element(CNN_FLOAT32, -1.0 / 0.0, buf), "-Inf");
    EXPECT_STR(cnn_format_element(CNN_INT32, -42, buf), "-42");
}

typedef struct owned {
    cnn_storage storage;
    cnn_tensor t;
} owned;

/* A Float32 tensor whose k-th element (column-major) is first + k. */
static void make_counting(owned *o, int ndims, const int64_t *size, double first)
{
    cnn_tensor_init(&o->t, CNN_FLOAT32, ndims, size);
    cnn_storage_alloc(&o->storage, cnn_tensor_bytes(&o->t));
    o->t.storage = &o->storage;
    cnn_tensor_fill_range(&o->t, first, 1.0);
}

static const char *display(const cnn_tensor *t, cnn_text *text)
{
    cnn_text_free(text);
    EXPECT(cnn_tensor_display(t, 80, 24, text) == CNN_OK);
    return text->data ? text->data : "";
}

static void test_matrix_and_slices(void)
{
    cnn_text text = {0};
    owned m, cube;
    int64_t msize[2] = {2, 3}, csize[3] = {2, 1, 2};
    make_counting(&m, 2, msize, -1);
    EXPECT_STR(display(&m.t, &text),
               "2×3 Tensor{Float32,2}:\n -1.0  1.0  3.0\n  0.0  2.0  4.0");
    make_counting(&cube, 3, csize, 1);
    EXPECT_STR(display(&cube.t, &text), "2×1×2 Tensor{Float32,3}:\n"
                                        "[:, :, 1] =\n 1.0\n 2.0\n\n"
                                        "[:, :, 2] =\n 3.0\n 4.0");
    cnn_tensor scalar = m.t;
    cnn_tensor_select(&scalar, 1, 2);
    cnn_tensor_select(&scalar, 0, 1);
    EXPECT_STR(display(&scalar, &text), "4.0");
    cnn_storage_free(&m.storage);
    EXPECT_STR(display(&m.t, &text), "2×3 Tensor{Float32,2} (freed)");
    cnn_storage_free(&cube.storage);
    cnn_text_free(&text);
}

static int count_lines(const char *s)
{
    int n = 1;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Display columns of the longest line: UTF-8 continuation bytes take none. */
static int widest_line(const char *s)
{
    int widest = 0, col = 0;
    for (; *s; s++) {
        if (*s == '\n')
            col = 0;
        else if (((unsigned char)*s & 0xC0) != 0x80)
            col++;
        if (col > widest)
            widest = col;
    }
    return widest;
}

static void test_elision_fits_the_terminal(void)
{
    cnn_text text = {0};
    owned big;
    int64_t size[2] = {1000, 1000};
    make_counting(&big, 2, size, 0);
    const char *s = display(&big.t, &text);
    EXPECT(count_lines(s) <= 24);
    EXPECT(widest_line(s) <= 80);
    EXPECT(strstr(s, "⋮") && strstr(s, "…") && strstr(s, "⋱"));
    /* the last row ends with the last element, 999999 */
    EXPECT(strstr(s, "999999.0") && strcmp(s + strlen(s) - 8, "999999.0") == 0);
    cnn_storage_free(&big.storage);
    cnn_text_free(&text);
}

static void test_text_grows(void)
{
    cnn_text text = {0};
    for (int i = 0; i < 1000; i++)
        cnn_text_printf(&text, "%d,", i);
    EXPECT(text.len > 3000 && !text.failed);
    EXPECT(strncmp(text.data, "0,1,2,", 6) == 0);
    EXPECT(strcmp(text.data + text.len - 4, "999,") == 0);
    cnn_text_free(&text);
    EXPECT(text.data == NULL && text.len == 0);
}

int main(void)
{
    test_float_formats();
    test_matrix_and_slices();
    test_elision_fits_the_terminal();
    test_text_grows();
    return test_report();
}

/* Unit tests of the IDX reader: headers, element types, corrupt files and
 * gzip, all from small buffers built here. */
#include <unistd.h>
#include <zlib.h>

#include "idx.h"
#include "test_util.h"

#define EXPECT_MESSAGE(expected)                                                         \
    do {                                                                                 \
        if (strcmp(cnn_error_message(), (expected)) != 0) {                              \
            fprintf(stderr, "%s:%d: message\n  %s\nexpected\n  %s\n", __FILE__,          \
                    __LINE__, cnn_error_message(), (expected));                          \
            failures++;                                                                  \
        }                                                                                \
    } while (0)

/* An IDX image: header for 'dims' and 'data_len' bytes of data. */
static size_t make_idx(uint8_t *buf, int type, int ndims, const uint32_t *dims,
                       const uint8_t *data, size_t data_len)
{
    buf[0] = buf[1] = 0;
    buf[2] = (uint8_t)type;
    buf[3] = (uint8_t)ndims;
    for (int d = 0; d < ndims; d++) {
        uint8_t *p = buf + 4 + 4 * d;
        p[0] = (uint8_t)(dims[d] >> 24);
        p[1] = (uint8_t)(dims[d] >> 16);
        p[2] = (uint8_t)(dims[d] >> 8);
        p[3] = (uint8_t)dims[d];
    }
    memcpy(buf + 4 + 4 * ndims, data, data_len);
    return 4 + 4 * (size_t)ndims + data_len;
}

static size_t gzip(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    z_stream zs = {0};
    deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    int ret = deflate(&zs, Z_FINISH);
    size_t n = cap - zs.avail_out;
    deflateEnd(&zs);
    return ret == Z_STREAM_END ? n : 0;
}

/* Converts into a fresh tensor; returns its data (caller frees storage). */
static cnn_status convert(const cnn_idx *idx, cnn_dtype dtype, double scale,
                          cnn_storage *st, cnn_tensor *t)
{
    int64_t size[CNN_MAX_DIMS];
    cnn_idx_tensor_sizes(idx, size);
    cnn_tensor_init(t, dtype, idx->ndims, size);
    cnn_storage_alloc(st, cnn_tensor_bytes(t));
    t->storage = st;
    return cnn_idx_to_tensor(idx, scale, t);
}

static void test_ubyte_images_map_without_transposition(void)
{
    uint8_t data[24], buf[64];
    for (int i = 0; i < 24; i++)
        data[i] = (uint8_t)(i * 10);
    const uint32_t dims[3] = {2, 3, 4}; /* N=2 images of 3 rows × 4 columns */
    size_t len = make_idx(buf, CNN_IDX_UBYTE, 3, dims, data, 24);
    cnn_idx idx;
    EXPECT(cnn_idx_parse(buf, len, "a", &idx) == CNN_OK);
    EXPECT(idx.count == 24 && idx.ndims == 3);
    cnn_storage st;
    cnn_tensor t;
    EXPECT(convert(&idx, CNN_FLOAT32, 0.5, &st, &t) == CNN_OK);
    EXPECT(t.size[0] == 4 && t.size[1] == 3 && t.size[2] == 2);
    /* element (x=2, y=1, n=1), 0-based, is byte 1*12 + 1*4 + 2 = 18 */
    int64_t at[3] = {2, 1, 1};
    EXPECT(cnn_tensor_f32(&t)[cnn_tensor_offset_of(&t, at)] == 90.0f);
    EXPECT(cnn_tensor_f32(&t)[23] == 115.0f);
    cnn_storage_free(&st);
    cnn_idx_free(&idx);
}

static void test_wider_types_are_big_endian(void)
{
    uint8_t buf[64];
    const uint32_t dims[1] = {2};
    const uint8_t i16[4] = {0xFF, 0xFE, 0x01, 0x00};             /* -2, 256 */
    const uint8_t f32[8] = {0x3F, 0xC0, 0, 0, 0xC1, 0x20, 0, 0}; /* 1.5, -10 */
    const uint8_t f64[16] = {0x40, 0x09, 0x21, 0xFB, 0x54, 0x44, 0x2D, 0x18,
                             0xBF, 0xF0, 0,    0,    0,    0,    0,    0}; /* pi, -1 */
    const uint8_t i8[2] = {0x80, 0x7F};                                    /* -128, 127 */
    struct {
        int type;
        const uint8_t *data;
        size_t len;
        float a, b;
    } cases[] = {
        {CNN_IDX_INT16, i16, 4, -2.0f, 256.0f},
        {CNN_IDX_FLOAT32, f32, 8, 1.5f, -10.0f},
        {CNN_IDX_FLOAT64, f64, 16, 3.14159265f, -1.0f},
        {CNN_IDX_SBYTE, i8, 2, -128.0f, 127.0f},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t len = make_idx(buf, cases[c].type, 1, dims, cases[c].data, cases[c].len);
        cnn_idx idx;
        cnn_storage st;
        cnn_tensor t;
        EXPECT(cnn_idx_parse(buf, len, "w", &idx) == CNN_OK);
        EXPECT(convert(&idx, CNN_FLOAT32, 1.0, &st, &t) == CNN_OK);
        EXPECT(cnn_tensor_f32(&t)[0] == cases[c].a &&
               cnn_tensor_f32(&t)[1] == cases[c].b);
        cnn_storage_free(&st);
        cnn_idx_free(&idx);
    }
}

static void test_int32_output(void)
{
    uint8_t buf[64];
    const uint32_t dims[1] = {2};
    const uint8_t i32[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x01, 0x00, 0x00};
    size_t len = make_idx(buf, CNN_IDX_INT32, 1, dims, i32, 8);
    cnn_idx idx;
    cnn_storage st;
    cnn_tensor t;
    EXPECT(cnn_idx_parse(buf, len, "i", &idx) == CNN_OK);
    EXPECT(convert(&idx, CNN_INT32, 1.0, &st, &t) == CNN_OK);
    EXPECT(cnn_tensor_i32(&t)[0] == -1 && cnn_tensor_i32(&t)[1] == 65536);
    EXPECT(cnn_idx_to_tensor(&idx, 2.0, &t) == CNN_ERR_ARG);
    cnn_storage_free(&st);
    const uint8_t f32[8] = {0};
    len = make_idx(buf, CNN_IDX_FLOAT32, 1, dims, f32, 8);
    EXPECT(cnn_idx_parse(buf, len, "f", &idx) == CNN_OK);
    EXPECT(convert(&idx, CNN_INT32, 1.0, &st, &t) == CNN_ERR_ARG);
    EXPECT_MESSAGE("Int32 output needs integer data, the file has float32");
    cnn_storage_free(&st);
}

static void expect_parse_error(const uint8_t *buf, size_t len, const char *message)
{
    cnn_idx idx;
    EXPECT(cnn_idx_parse(buf, len, "bad", &idx) == CNN_ERR_FORMAT);
    EXPECT_MESSAGE(message);
    cnn_idx_free(&idx);
}

static void test_corrupt_headers(void)
{
    uint8_t buf[64] = {0};
    const uint8_t data[6] = {1, 2, 3, 4, 5, 6};
    const uint32_t dims[2] = {2, 3};
    expect_parse_error(buf, 0, "bad: too short for an IDX header (0 bytes)");
    size_t len = make_idx(buf, CNN_IDX_UBYTE, 2, dims, data, 6);
    buf[1] = 8;
    expect_parse_error(buf, len,
                       "bad: bad magic 00 08 08 02 (an IDX file starts with "
                       "00 00 <type> <ndims>)");
    buf[1] = 0;
    buf[2] = 0x0A;
    expect_parse_error(buf, len,
                       "bad: unsupported element type 0x0a (IDX types are "
                       "0x08 ubyte, 0x09 sbyte, 0x0b int16, 0x0c int32, 0x0d "
                       "float32, 0x0e float64)");
    buf[2] = CNN_IDX_UBYTE;
    buf[3] = 0;
    expect_parse_error(buf, len, "bad: 0 dimensions (1 to 8 supported)");
    buf[3] = 9;
    expect_parse_error(buf, len, "bad: 9 dimensions (1 to 8 supported)");
    buf[3] = 2;
    expect_parse_error(buf, 9,
                       "bad: truncated header: 2 dimensions need 12 bytes, file has 9");
    const uint32_t zero[2] = {2, 0};
    len = make_idx(buf, CNN_IDX_UBYTE, 2, zero, data, 0);
    expect_parse_error(buf, len, "bad: dimension 2 is 0");
    const uint32_t huge[4] = {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 2};
    len = make_idx(buf, CNN_IDX_UBYTE, 4, huge, data, 0);
    expect_parse_error(buf, len, "bad: dimensions too large (element count overflows)");
}

static void test_data_length_must_match(void)
{
    uint8_t buf[64];
    const uint8_t data[7] = {1, 2, 3, 4, 5, 6, 7};
    const uint32_t dims[2] = {2, 3};
    size_t len = make_idx(buf, CNN_IDX_UBYTE, 2, dims, data, 5);
    expect_parse_error(buf, len,
                       "bad: truncated: header declares 6 bytes of data, file has 5");
    len = make_idx(buf, CNN_IDX_UBYTE, 2, dims, data, 7);
    expect_parse_error(buf, len,
                       "bad: oversized: header declares 6 bytes of data, file has 7");
    const uint32_t dims16[1] = {3};
    len = make_idx(buf, CNN_IDX_INT16, 1, dims16, data, 5);
    expect_parse_error(buf, len,
                       "bad: truncated: header declares 6 bytes of data, file has 5");
}

static void test_gzip(void)
{
    uint8_t raw[256], packed[512], twice[1024];
    uint8_t data[100];
    for (int i = 0; i < 100; i++)
        data[i] = (uint8_t)(i * 7);
    const uint32_t dims[2] = {10, 10};
    size_t len = make_idx(raw, CNN_IDX_UBYTE, 2, dims, data, 100);
    size_t plen = gzip(raw, len, packed, sizeof packed);
    EXPECT(plen > 0);
    cnn_idx idx;
    EXPECT(cnn_idx_parse(packed, plen, "g.gz", &idx) == CNN_OK);
    EXPECT(idx.count == 100 && idx.owned != NULL && memcmp(idx.data, data, 100) == 0);
    cnn_idx_free(&idx);

    /* gzip allows concatenated members: split the file in two */
    size_t first = gzip(raw, 40, twice, sizeof twice);
    size_t second = gzip(raw + 40, len - 40, twice + first, sizeof twice - first);
    EXPECT(cnn_idx_parse(twice, first + second, "g.gz", &idx) == CNN_OK);
    EXPECT(idx.count == 100 && memcmp(idx.data, data, 100) == 0);
    cnn_idx_free(&idx);

    expect_parse_error(packed, plen / 2, "bad: gzip: compressed data ends early");
    memcpy(twice, packed, plen);
    memcpy(twice + plen, "junk", 4);
    expect_parse_error(twice, plen + 4, "bad: gzip: 4 bytes of garbage after the data");
    const uint8_t garbage[12] = {0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3, 0xFF, 0xFF};
    expect_parse_error(garbage, sizeof garbage, "bad: gzip: invalid block type");
    const uint8_t method[12] = {0x1f, 0x8b, 0x07, 0, 0, 0, 0, 0, 0, 3, 0, 0};
    expect_parse_error(method, sizeof method, "bad: gzip: unknown compression method");

    len = make_idx(raw, CNN_IDX_UBYTE, 2, dims, data, 99);
    plen = gzip(raw, len, packed, sizeof packed);
    expect_parse_error(packed, plen,
                       "bad: truncated: header declares 100 bytes of data, file has 99");
    raw[len] = 1;
    raw[len + 1] = 2;
    plen = gzip(raw, len + 1 + 1, packed, sizeof packed);
    expect_parse_error(packed, plen,
                       "bad: oversized: header declares 100 bytes of data, file has 101");
    plen = gzip(raw, 2, packed, sizeof packed);
    expect_parse_error(packed, plen, "bad: too short for an IDX header (2 bytes)");
}

static void test_read_file(void)
{
    char path[] = "/tmp/test_idx_XXXXXX";
    int fd = mkstemp(path);
    EXPECT(fd >= 0);
    uint8_t raw[64], data[6] = {9, 8, 7, 6, 5, 4};
    const uint32_t dims[1] = {6};
    size_t len = make_idx(raw, CNN_IDX_UBYTE, 1, dims, data, 6);
    EXPECT(write(fd, raw, len) == (ssize_t)len);
    close(fd);
    cnn_idx idx;
    EXPECT(cnn_idx_read(path, &idx) == CNN_OK);
    EXPECT(idx.count == 6 && idx.data[5] == 4);
    cnn_idx_free(&idx);
    EXPECT(truncate(path, (off_t)len - 2) == 0);
    EXPECT(cnn_idx_read(path, &idx) == CNN_ERR_FORMAT);
    char expected[256];
    snprintf(expected, sizeof expected,
             "%s: truncated: header declares 6 bytes of data, file has 4", path);
    EXPECT_MESSAGE(expected);
    unlink(path);
    EXPECT(cnn_idx_read(path, &idx) == CNN_ERR_IO);
    snprintf(expected, sizeof expected, "%s: No such file or directory", path);
    EXPECT_MESSAGE(expected);
    EXPECT(cnn_idx_read("/tmp", &idx) == CNN_ERR_IO);
    EXPECT_MESSAGE("/tmp: not a regular file");
}

int main(void)
{
    test_ubyte_images_map_without_transposition();
    test_wider_types_are_big_endian();
    test_int32_output();
    test_corrupt_headers();
    test_data_length_must_match();
    test_gzip();
    test_read_file();
    return test_report();
}

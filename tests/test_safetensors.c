/* Unit tests of the safetensors reader: file images built here from a
 * header text and data bytes, each refused for one reason or accepted. */
#include "safetensors.h"
#include "test_util.h"

#define EXPECT_MESSAGE_HAS(part)                                                         \
    do {                                                                                 \
        if (!strstr(cnn_error_message(), (part))) {                                      \
            fprintf(stderr, "%s:%d: message\n  %s\ndoes not contain\n  %s\n", __FILE__,  \
                    __LINE__, cnn_error_message(), (part));                              \
            failures++;                                                                  \
        }                                                                                \
    } while (0)

/* An 8-byte length, the header text and n data bytes; caller frees. */
static uint8_t *image(const char *header, const void *data, size_t n, size_t *len)
{
    size_t h = strlen(header);
    *len = 8 + h + n;
    uint8_t *buf = malloc(*len ? *len : 1);
    if (!buf)
        exit(2);
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)((uint64_t)h >> (8 * i));
    memcpy(buf + 8, header, h);
    if (n)
        memcpy(buf + 8 + h, data, n);
    return buf;
}

static cnn_status parse(const char *header, const void *data, size_t n,
                        cnn_safetensors *st)
{
    size_t len;
    uint8_t *buf = image(header, data, n, &len);
    cnn_status s = cnn_safetensors_parse(buf, len, "f", st);
    st->owned = buf; /* freed with st */
    return s;
}

/* Parses and expects a format error whose message contains 'part'. */
static void expect_refused(const char *header, size_t n, const char *part)
{
    static const uint8_t zeros[64];
    cnn_safetensors st;
    cnn_status s = parse(header, zeros, n, &st);
    if (s != CNN_ERR_FORMAT)
        fprintf(stderr, "accepted or wrong status (%d) for %s\n", s, header);
    EXPECT(s == CNN_ERR_FORMAT);
    EXPECT_MESSAGE_HAS(part);
    cnn_safetensors_free(&st);
}

/* A Float32 entry of n elements at bytes [begin, end). */
#define T(name, n, begin, end)                                                           \
    "\"" name "\":{\"dtype\":\"F32\",\"shape\":[" #n "],\"data_offsets\":[" #begin       \
    "," #end "]}"

static void test_valid_file(void)
{
    const float values[3] = {1.5f, -2.0f, 0.25f};
    cnn_safetensors st;
    EXPECT_OK(
        parse("{\"__metadata__\":{\"k\":\"v\"},"
              "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]},"
              "\"a\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[0,8]},"
              "\"z\":{\"dtype\":\"I32\",\"shape\":[0,3],\"data_offsets\":[12,12]}}  ",
              values, sizeof values, &st));
    EXPECT(st.count == 3 && st.meta_count == 1);
    EXPECT(strcmp(st.entries[0].name, "b") == 0); /* the order of the file */
    EXPECT(st.entries[1].ndims == 2 && st.entries[1].size[0] == 1 &&
           st.entries[1].size[1] == 2);
    EXPECT(st.entries[2].dtype == CNN_INT32 && st.entries[2].size[1] == 0);
    int64_t size[2] = {1, 2};
    cnn_tensor t = make_tensor(CNN_FLOAT32, 2, size);
    EXPECT_OK(cnn_safetensors_copy(&st, 1, &t));
    EXPECT(cnn_tensor_f32(&t)[0] == 1.5f && cnn_tensor_f32(&t)[1] == -2.0f);
    drop_tensor(&t);
    EXPECT_OK(cnn_safetensors_check_finite(&st, "f"));
    cnn_safetensors_free(&st);
}

static void test_tensors_must_tile_the_data(void)
{
    expect_refused("{" T("a", 1, 0, 4) "," T("b", 1, 2, 6) "}", 6,
                   "tensor 'b' (data_offsets [2, 6]) overlaps tensor 'a' ([0, 4])");
    expect_refused("{" T("a", 1, 0, 4) "," T("b", 1, 0, 4) "}", 4, "overlaps");
    expect_refused(
        "{" T("a", 1, 0, 4) "," T("b", 1, 8, 12) "}", 12,
        "bytes [4, 8) of the data belong to no tensor (a hole before tensor 'b')");
    expect_refused("{" T("a", 1, 4, 8) "}", 8,
                   "bytes [0, 4) of the data belong to no tensor");
    expect_refused("{" T("a", 1, 0, 4) "}", 5,
                   "1 byte after the last tensor (the data section has 5 bytes, the "
                   "tensors cover 4)");
    expect_refused("{}", 4, "4 bytes after the last tensor");
    expect_refused("{" T("a", 1, 0, 4) "," T("b", 1, 4, 8) "}", 7,
                   "tensor 'b': data_offsets [4, 8] outside the 7 bytes of data");
}

/* A header one byte short leaves its last byte (padding) to the data,
 * which then starts one byte early: every weight would be shifted. */
static void test_header_length_one_byte_short(void)
{
    const char *header = "{" T("a", 2, 0, 8) "} ";
    uint8_t data[8] = {0};
    size_t len;
    uint8_t *buf = image(header, data, sizeof data, &len);
    buf[0]--;
    cnn_safetensors st;
    EXPECT(cnn_safetensors_parse(buf, len, "f", &st) == CNN_ERR_FORMAT);
    EXPECT_MESSAGE_HAS("1 byte after the last tensor");
    cnn_safetensors_free(&st);
    buf[0] += 2; /* one long: the first data byte ends the JSON */
    EXPECT(cnn_safetensors_parse(buf, len, "f", &st) == CNN_ERR_FORMAT);
    EXPECT_MESSAGE_HAS("unexpected text after the header");
    cnn_safetensors_free(&st);
    free(buf);
}

static void test_names_and_keys_once(void)
{
    expect_refused("{" T("a", 1, 0, 4) "," T("a", 1, 4, 8) "}", 8,
                   "tensor 'a': appears twice");
    expect_refused("{\"__metadata__\":{},\"__metadata__\":{}}", 0,
                   "__metadata__ appears twice at byte");
    expect_refused("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0,
                   "metadata key 'k' appears twice");
}

static void test_strings_are_utf8_without_nul(void)
{
    expect_refused("{\"a\\u0000b\":{}}", 0, "\\u0000 (NUL) in a string at byte 3");
    expect_refused("{\"__metadata__\":{\"k\":\"\\u0000\"}}", 0, "(NUL) in a string");
    expect_refused("{\"a\xff\":{}}", 0, "invalid UTF-8 in a string at byte 3");
    expect_refused("{\"\xc0\x80\":{}}", 0, "invalid UTF-8");         /* overlong NUL */
    expect_refused("{\"\xed\xa0\x80\":{}}", 0, "invalid UTF-8");     /* a surrogate */
    expect_refused("{\"\xf4\x90\x80\x80\":{}}", 0, "invalid UTF-8"); /* above U+10FFFF */
    expect_refused("{\"\xe2\x82\":{}}", 0, "invalid UTF-8");         /* cut short */
    EXPECT(cnn_utf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9));
    EXPECT(!cnn_utf8_valid("\x80", 1));
}

static void test_entries_must_fit_their_bytes(void)
{
    expect_refused("{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
                   "tensor 'a': dtype F16 is not supported (F32 and I32 are)");
    expect_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
                   "tensor 'a': shape needs 8 bytes, data_offsets give 4");
    /* zero elements, but strides made of 2^62 * 2^62 would overflow */
    expect_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,"
                   "4611686018427387904,0],\"data_offsets\":[0,0]}}",
                   0, "tensor 'a': shape too large");
}

static void test_header_length(void)
{
    uint8_t buf[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}'};
    cnn_safetensors st;
    EXPECT(cnn_safetensors_parse(buf, 10, "f", &st) == CNN_ERR_FORMAT);
    EXPECT_MESSAGE_HAS("header length 18446744073709551615 does not fit the 10 bytes");
    cnn_safetensors_free(&st);
    EXPECT(cnn_safetensors_parse(buf, 7, "f", &st) == CNN_ERR_FORMAT);
    EXPECT_MESSAGE_HAS("too short for a safetensors file (7 bytes)");
    cnn_safetensors_free(&st);
}

static void test_finite_check_names_tensor_and_element(void)
{
    const float nan = NAN, inf = INFINITY;
    float data[4] = {1, 2, 3, 4};
    const char *header = "{" T("a", 2, 0, 8) "," T("b", 2, 8, 16) "}";
    cnn_safetensors st;
    const struct {
        int at;
        float v;
        const char *text;
    } cases[] = {
        {3, nan, "f: tensor 'b' holds a non-finite value: NaN at element 2 of 2"},
        {0, inf, "f: tensor 'a' holds a non-finite value: Inf at element 1 of 2"},
        {1, -inf, "f: tensor 'a' holds a non-finite value: -Inf at element 2 of 2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        float copy[4];
        memcpy(copy, data, sizeof data);
        copy[cases[i].at] = cases[i].v;
        EXPECT_OK(parse(header, copy, sizeof copy, &st));
        EXPECT(cnn_safetensors_check_finite(&st, "f") == CNN_ERR_FORMAT);
        EXPECT_MESSAGE_HAS(cases[i].text);
        cnn_safetensors_free(&st);
    }
}

/* Many entries: the arrays grow by doubling and repeated names are found
 * by sorting, so this is quick; a quadratic search would take minutes. */
static void test_many_entries(void)
{
    enum { N = 200000 };
    size_t cap = (size_t)N * 80 + 16, len = 0;
    char *header = malloc(cap);
    if (!header)
        exit(2);
    header[len++] = '{';
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(header + len, cap - len,
                                "%s\"t%d\":{\"dtype\":\"I32\",\"shape\":[1],"
                                "\"data_offsets\":[%d,%d]}",
                                i ? "," : "", i, 4 * i, 4 * i + 4);
    snprintf(header + len, cap - len, "}");
    uint8_t *data = calloc(N, 4);
    cnn_safetensors st;
    EXPECT_OK(parse(header, data, (size_t)N * 4, &st));
    EXPECT(st.count == N);
    cnn_safetensors_free(&st);
    memcpy(strstr(header, "\"t199999\""), "\"t100000\"", 9);
    EXPECT(parse(header, data, (size_t)N * 4, &st) == CNN_ERR_FORMAT);
    EXPECT_MESSAGE_HAS("tensor 't100000': appears twice");
    cnn_safetensors_free(&st);
    free(data);
    free(header);
}

int main(void)
{
    test_valid_file();
    test_tensors_must_tile_the_data();
    test_header_length_one_byte_short();
    test_names_and_keys_once();
    test_strings_are_utf8_without_nul();
    test_entries_must_fit_their_bytes();
    test_header_length();
    test_finite_check_names_tensor_and_element();
    test_many_entries();
    return test_report();
}

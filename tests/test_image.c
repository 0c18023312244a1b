/* Unit tests of the image readers: a PGM and a PPM written here, byte for
 * byte, a PNG round trip, refusals naming the file, channel conversion and
 * resizing into a batch. */
#include "image.h"
#include "test_util.h"

static void write_file(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(bytes, 1, n, f) != n) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    fclose(f);
}

static void test_pnm(void)
{
    const char pgm[] = "P5\n# comment\n3 2\n255\n\x00\x33\x66\x99\xcc\xff";
    write_file("test_image.pgm", pgm, sizeof pgm - 1);
    cnn_image img;
    EXPECT_OK(cnn_image_read("test_image.pgm", &img));
    EXPECT(img.width == 3 && img.height == 2 && img.channels == 1);
    EXPECT(img.pixels && img.pixels[1] == 0x33 && img.pixels[5] == 0xff);

    /* into a 3×2×3×2 batch as sample 2: gray copied into every channel */
    int64_t size[4] = {3, 2, 3, 2};
    cnn_tensor t = make_tensor(CNN_FLOAT32, 4, size);
    cnn_image_to_tensor(&img, CNN_RESIZE_BILINEAR, &t, 1);
    const float *v = cnn_tensor_f32(&t) + 18;
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < 6; k++)
            EXPECT(fabsf(v[c * 6 + k] - img.pixels[k] / 255.0f) < 1e-7f);
    drop_tensor(&t);

    /* resized to 6×4 nearest: every pixel twice each way */
    int64_t big[4] = {6, 4, 1, 1};
    t = make_tensor(CNN_FLOAT32, 4, big);
    cnn_image_to_tensor(&img, CNN_RESIZE_NEAREST, &t, 0);
    v = cnn_tensor_f32(&t);
    for (int j = 0; j < 4; j++)
        for (int i = 0; i < 6; i++)
            EXPECT(v[j * 6 + i] == img.pixels[(j / 2) * 3 + i / 2] / 255.0f);
    drop_tensor(&t);
    cnn_image_free(&img);

    const char ppm[] = "P6 1 1 255 \xff\x00\x80";
    write_file("test_image.ppm", ppm, sizeof ppm - 1);
    EXPECT_OK(cnn_image_read("test_image.ppm", &img));
    EXPECT(img.channels == 3 && img.pixels[0] == 255 && img.pixels[2] == 0x80);
    int64_t one[4] = {1, 1, 1, 1};
    t = make_tensor(CNN_FLOAT32, 4, one);
    cnn_image_to_tensor(&img, CNN_RESIZE_BILINEAR, &t, 0); /* luma */
    EXPECT(fabsf(cnn_tensor_f32(&t)[0] - (0.299f * 255 + 0.114f * 128) / 255) < 1e-6f);
    drop_tensor(&t);
    cnn_image_free(&img);

    write_file("test_image.pgm", pgm, sizeof pgm - 3); /* truncated */
    EXPECT(cnn_image_read("test_image.pgm", &img) == CNN_ERR_FORMAT);
    EXPECT(strstr(cnn_error_message(), "test_image.pgm: truncated PGM data") != NULL);
    EXPECT(img.pixels == NULL);
    remove("test_image.pgm");
    remove("test_image.ppm");
}

static void test_png_round_trip(void)
{
    int64_t size[3] = {4, 3, 3};
    cnn_tensor x = make_tensor(CNN_FLOAT32, 3, size);
    float *xf = cnn_tensor_f32(&x);
    for (int k = 0; k < 36; k++)
        xf[k] = (float)((k * 7) % 256) / 255.0f;
    EXPECT_OK(cnn_image_write_png("test_image.png", &x));
    cnn_image img;
    EXPECT_OK(cnn_image_read("test_image.png", &img));
    EXPECT(img.width == 4 && img.height == 3 && img.channels == 3);
    for (int c = 0; c < 3; c++)
        for (int j = 0; j < 3; j++)
            for (int i = 0; i < 4; i++)
                EXPECT(img.pixels[(j * 4 + i) * 3 + c] ==
                       ((c * 12 + j * 4 + i) * 7) % 256);
    cnn_image_free(&img);
    write_file("test_image.png", "\x89PNG\r\n\x1a\n junk", 13);
    EXPECT(cnn_image_read("test_image.png", &img) == CNN_ERR_FORMAT);
    EXPECT(strstr(cnn_error_message(), "test_image.png: corrupt PNG") != NULL);
    write_file("test_image.png", "hello", 5);
    EXPECT(cnn_image_read("test_image.png", &img) == CNN_ERR_FORMAT);
    EXPECT(cnn_image_read("no_such_image.png", &img) == CNN_ERR_IO);
    remove("test_image.png");
    drop_tensor(&x);
}

int main(void)
{
    test_pnm();
    test_png_round_trip();
    return test_report();
}

/* PNG through libpng's simplified API: any PNG decoded to 8-bit gray or
 * RGB (as the file is gray or colour), and 8-bit PNGs written. */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

cnn_status cnn_image_read_png(const char *path, void *file, cnn_image *img)
{
    png_image png;
    memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_stdio(&png, file))
        return cnn_fail(CNN_ERR_FORMAT, "%s: corrupt PNG (%s)", path, png.message);
    const int channels = png.format & PNG_FORMAT_FLAG_COLOR ? 3 : 1;
    png.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    /* zeroed: alpha is composited onto the buffer, that is onto black */
    uint8_t *px = calloc(PNG_IMAGE_SIZE(png), 1);
    if (!px) {
        png_image_free(&png);
        return cnn_fail(CNN_ERR_NOMEM, "%s: no memory for %u×%u pixels", path, png.width,
                        png.height);
    }
    if (!png_image_finish_read(&png, NULL, px, 0, NULL)) {
        free(px);
        png_image_free(&png);
        return cnn_fail(CNN_ERR_FORMAT, "%s: corrupt PNG (%s)", path, png.message);
    }
    img->width = png.width;
    img->height = png.height;
    img->channels = channels;
    img->pixels = px;
    return CNN_OK;
}

cnn_status cnn_image_write_png(const char *path, const cnn_tensor *x)
{
    char buf[96];
    const int64_t C = x->ndims == 3 ? x->size[2] : 1;
    if (x->dtype != CNN_FLOAT32 || (x->ndims != 2 && x->ndims != 3) ||
        (C != 1 && C != 3) || cnn_tensor_numel(x) == 0)
        return cnn_fail(CNN_ERR_SHAPE,
                        "expected a W×H or W×H×C Float32 image, C 1 or 3, got %s %s",
                        cnn_dtype_name(x->dtype), cnn_shape_string(x, buf, sizeof buf));
    const int64_t W = x->size[0], H = x->size[1];
    if (W > 0x7fffffff || H > 0x7fffffff)
        return cnn_fail(CNN_ERR_SHAPE, "image too large for PNG: %s",
                        cnn_shape_string(x, buf, sizeof buf));
    uint8_t *px = malloc((size_t)(W * H * C));
    if (!px)
        return cnn_fail(CNN_ERR_NOMEM, "no memory for a %s image",
                        cnn_shape_string(x, buf, sizeof buf));
    for (int64_t c = 0; c < C; c++)
        for (int64_t j = 0; j < H; j++)
            for (int64_t i = 0; i < W; i++) {
                int64_t index[3] = {i, j, c};
                double v = cnn_tensor_get(x, cnn_tensor_offset_of(x, index));
                v = v > 1 ? 1 : v >= 0 ? v : 0; /* NaN to 0 */
                px[(j * W + i) * C + c] = (uint8_t)(v * 255 + 0.5);
            }
    png_image png;
    memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    png.width = (png_uint_32)W;
    png.height = (png_uint_32)H;
    png.format = C == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    int ok = png_image_write_to_file(&png, path, 0, px, 0, NULL);
    free(px);
    if (!ok)
        return cnn_fail(CNN_ERR_IO, "cannot write %s (%s)", path, png.message);
    return CNN_OK;
}

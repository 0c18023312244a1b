/* Decoded images into a W×H×C×N batch: channel conversion, resizing
 * (nearest or bilinear) and scaling to [0, 1]. */
#include <math.h>

#include "image.h"

/* Pixel (i, j) of channel c of img as the C-channel image the batch
 * wants, in 0..255. */
static float sample(const cnn_image *img, int64_t i, int64_t j, int64_t c, int64_t C)
{
    const uint8_t *p = img->pixels + (j * img->width + i) * img->channels;
    if (img->channels == C)
        return p[c];
    if (img->channels == 1)
        return p[0];
    return 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
}

/* The source coordinate of output pixel k of n when resizing from m,
 * centres aligned, clamped to [0, m - 1]. */
static float source_of(int64_t k, int64_t n, int64_t m)
{
    float s = ((float)k + 0.5f) * (float)m / (float)n - 0.5f;
    return s < 0 ? 0 : s > (float)(m - 1) ? (float)(m - 1) : s;
}

void cnn_image_to_tensor(const cnn_image *img, cnn_resize mode, cnn_tensor *out,
                         int64_t n)
{
    const int64_t W = out->size[0], H = out->size[1], C = out->size[2];
    float *dst = cnn_tensor_f32(out) + n * W * H * C;
    const int64_t w = img->width, h = img->height;
    for (int64_t c = 0; c < C; c++)
        for (int64_t j = 0; j < H; j++)
            for (int64_t i = 0; i < W; i++) {
                float v;
                if (w == W && h == H) {
                    v = sample(img, i, j, c, C);
                } else if (mode == CNN_RESIZE_NEAREST) {
                    int64_t si = (int64_t)floorf(((float)i + 0.5f) * (float)w / (float)W);
                    int64_t sj = (int64_t)floorf(((float)j + 0.5f) * (float)h / (float)H);
                    v = sample(img, si < w ? si : w - 1, sj < h ? sj : h - 1, c, C);
                } else {
                    float x = source_of(i, W, w), y = source_of(j, H, h);
                    int64_t x0 = (int64_t)x, y0 = (int64_t)y;
                    int64_t x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
                    float fx = x - (float)x0, fy = y - (float)y0;
                    v = (1 - fy) * ((1 - fx) * sample(img, x0, y0, c, C) +
                                    fx * sample(img, x1, y0, c, C)) +
                        fy * ((1 - fx) * sample(img, x0, y1, c, C) +
                              fx * sample(img, x1, y1, c, C));
                }
                dst[(c * H + j) * W + i] = v / 255.0f;
            }
}

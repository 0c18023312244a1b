/* Image files: PNG (libpng), JPEG (libjpeg-turbo) and binary PGM/PPM (P5,
 * P6, read here), decoded to 8-bit grayscale or RGB, and batches of them
 * as W×H×C×N Float32 tensors in [0, 1] (x fastest, as the images' rows).
 * PNG is also written (cnn.saveimage). Every failure names the file. */
#ifndef CNN_IMAGE_H
#define CNN_IMAGE_H

#include <stdint.h>

#include "status.h"
#include "tensor.h"

typedef struct cnn_image {
    int64_t width, height;
    int channels;    /* 1 (gray) or 3 (RGB), interleaved */
    uint8_t *pixels; /* rows top to bottom, width·channels bytes each; malloc'd */
} cnn_image;

typedef enum cnn_resize { CNN_RESIZE_NEAREST, CNN_RESIZE_BILINEAR } cnn_resize;

/* Decodes the file at 'path' by its first bytes (PNG, JPEG, PGM P5 or PPM
 * P6). Alpha is composited on black. Free with cnn_image_free. */
cnn_status cnn_image_read(const char *path, cnn_image *img);
void cnn_image_free(cnn_image *img);

/* The format decoders behind cnn_image_read (image_png.c, image_jpeg.c,
 * image_pnm.c), each given the open file at its start. */
cnn_status cnn_image_read_png(const char *path, void *file, cnn_image *img);
cnn_status cnn_image_read_jpeg(const char *path, void *file, cnn_image *img);
cnn_status cnn_image_read_pnm(const char *path, void *file, cnn_image *img);

/* Writes img into out[:, :, :, n] (out W×H×C×N, contiguous Float32), as
 * pixel / 255: converting gray to RGB (copies) or RGB to gray (ITU-R
 * BT.601 luma, 0.299 R + 0.587 G + 0.114 B), and resizing to W×H when the
 * sizes differ (pixel centres aligned, as PyTorch's align_corners=false). */
void cnn_image_to_tensor(const cnn_image *img, cnn_resize mode, cnn_tensor *out,
                         int64_t n);

/* Writes x (W×H or W×H×C, C = 1 or 3, Float32, values clipped to [0, 1])
 * as an 8-bit PNG. */
cnn_status cnn_image_write_png(const char *path, const cnn_tensor *x);

#endif

/* Binary PGM (P5) and PPM (P6): a header of whitespace-separated ASCII
 * numbers (width, height, maxval; '#' starts a comment), one whitespace
 * byte, then the samples, one byte each (maxval < 256) or two, big-endian. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "image.h"

/* The next header number, or -1 when there is none. */
static long header_number(FILE *f)
{
    int c = fgetc(f);
    for (;;) {
        while (c != EOF && isspace(c))
            c = fgetc(f);
        if (c != '#')
            break;
        while (c != EOF && c != '\n')
            c = fgetc(f);
    }
    if (c == EOF || !isdigit(c))
        return -1;
    long v = 0;
    while (c != EOF && isdigit(c)) {
        if (v > 100000000)
            return -1;
        v = v * 10 + (c - '0');
        c = fgetc(f);
    }
    if (c != EOF && !isspace(c))
        return -1;
    return v;
}

cnn_status cnn_image_read_pnm(const char *path, void *file, cnn_image *img)
{
    FILE *f = file;
    char magic[2];
    if (fread(magic, 1, 2, f) != 2)
        return cnn_fail(CNN_ERR_FORMAT, "%s: truncated header", path);
    const int channels = magic[1] == '6' ? 3 : 1;
    const char *kind = channels == 3 ? "PPM" : "PGM";
    long w = header_number(f), h = header_number(f), maxval = header_number(f);
    if (w < 1 || h < 1 || maxval < 1 || maxval > 65535)
        return cnn_fail(CNN_ERR_FORMAT,
                        "%s: bad %s header (width, height and maxval 1..65535)", path,
                        kind);
    const size_t count = (size_t)w * (size_t)h * (size_t)channels;
    const size_t bytes = maxval < 256 ? 1 : 2;
    unsigned char *raw = malloc(count * bytes);
    if (!raw)
        return cnn_fail(CNN_ERR_NOMEM, "%s: no memory for %ld×%ld pixels", path, w, h);
    if (fread(raw, bytes, count, f) != count) {
        free(raw);
        return cnn_fail(CNN_ERR_FORMAT, "%s: truncated %s data (%ld×%ld pixels expected)",
                        path, kind, w, h);
    }
    uint8_t *px = bytes == 1 ? raw : malloc(count);
    if (!px) {
        free(raw);
        return cnn_fail(CNN_ERR_NOMEM, "%s: no memory for %ld×%ld pixels", path, w, h);
    }
    for (size_t k = 0; k < count; k++) {
        long v = bytes == 1 ? raw[k] : (long)raw[2 * k] << 8 | raw[2 * k + 1];
        if (v > maxval) {
            if (px != raw)
                free(px);
            free(raw);
            return cnn_fail(CNN_ERR_FORMAT, "%s: sample %ld above maxval %ld", path, v,
                            maxval);
        }
        px[k] = (uint8_t)((v * 255 + maxval / 2) / maxval);
    }
    if (px != raw)
        free(raw);
    img->width = w;
    img->height = h;
    img->channels = channels;
    img->pixels = px;
    return CNN_OK;
}

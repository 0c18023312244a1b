#include "image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cnn_status cnn_image_read(const char *path, cnn_image *img)
{
    memset(img, 0, sizeof *img);
    FILE *f = fopen(path, "rb");
    if (!f)
        return cnn_fail(CNN_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    unsigned char magic[8] = {0};
    size_t got = fread(magic, 1, sizeof magic, f);
    rewind(f);
    cnn_status st;
    if (got == 8 && memcmp(magic, "\x89PNG\r\n\x1a\n", 8) == 0)
        st = cnn_image_read_png(path, f, img);
    else if (got >= 3 && magic[0] == 0xff && magic[1] == 0xd8 && magic[2] == 0xff)
        st = cnn_image_read_jpeg(path, f, img);
    else if (got >= 2 && magic[0] == 'P' && (magic[1] == '5' || magic[1] == '6'))
        st = cnn_image_read_pnm(path, f, img);
    else
        st = cnn_fail(CNN_ERR_FORMAT, "%s is not a PNG, JPEG or binary PGM/PPM image",
                      path);
    fclose(f);
    if (st != CNN_OK)
        cnn_image_free(img);
    return st;
}

void cnn_image_free(cnn_image *img)
{
    free(img->pixels);
    img->pixels = NULL;
}

/* JPEG through libjpeg(-turbo): decoded to 8-bit gray (one-component
 * files) or RGB; libjpeg's fatal errors come back here through longjmp. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* after stdio.h: jpeglib.h uses FILE and size_t without including them */
#include <jpeglib.h>

#include "image.h"

typedef struct jpeg_failure {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} jpeg_failure;

static void on_error(j_common_ptr cinfo)
{
    jpeg_failure *failure = (jpeg_failure *)cinfo->err;
    failure->mgr.format_message(cinfo, failure->message);
    longjmp(failure->jump, 1);
}

/* Corrupt-data warnings are failures too: a damaged file is refused
 * rather than decoded to grey. */
static void on_warning(j_common_ptr cinfo, int level)
{
    if (level < 0)
        on_error(cinfo);
}

cnn_status cnn_image_read_jpeg(const char *path, void *file, cnn_image *img)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_failure failure;
    uint8_t *volatile px = NULL;
    cinfo.err = jpeg_std_error(&failure.mgr);
    failure.mgr.error_exit = on_error;
    failure.mgr.emit_message = on_warning;
    if (setjmp(failure.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(px);
        return cnn_fail(CNN_ERR_FORMAT, "%s: corrupt JPEG (%s)", path, failure.message);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, file);
    jpeg_read_header(&cinfo, TRUE);
    const int channels = cinfo.num_components == 1 ? 1 : 3;
    cinfo.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    const size_t row = (size_t)cinfo.output_width * (size_t)channels;
    px = malloc(row * cinfo.output_height);
    if (!px) {
        jpeg_destroy_decompress(&cinfo);
        return cnn_fail(CNN_ERR_NOMEM, "%s: no memory for %u×%u pixels", path,
                        cinfo.output_width, cinfo.output_height);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW rows[1] = {px + row * cinfo.output_scanline};
        jpeg_read_scanlines(&cinfo, rows, 1);
    }
    jpeg_finish_decompress(&cinfo);
    img->width = cinfo.output_width;
    img->height = cinfo.output_height;
    img->channels = channels;
    img->pixels = px;
    jpeg_destroy_decompress(&cinfo);
    return CNN_OK;
}

/* png_probe FILE: prints "WIDTH HEIGHT INKED" for a PNG file, INKED being
 * the number of pixels that differ from the top-left one (the
 * background), read back through cairo. Exits 1 if the file is not a
 * PNG cairo can read. Used by spec/savefig_spec.lua. */
#include <cairo.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: png_probe FILE\n");
        return 2;
    }
    cairo_surface_t *s = cairo_image_surface_create_from_png(argv[1]);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        fprintf(stderr, "png_probe: %s: %s\n", argv[1],
                cairo_status_to_string(cairo_surface_status(s)));
        cairo_surface_destroy(s);
        return 1;
    }
    cairo_surface_flush(s);
    int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    int stride = cairo_image_surface_get_stride(s);
    const unsigned char *data = cairo_image_surface_get_data(s);
    uint32_t background = *(const uint32_t *)data & 0xffffffu;
    long inked = 0;
    for (int y = 0; y < h; y++) {
        const uint32_t *row = (const uint32_t *)(data + (size_t)y * (size_t)stride);
        for (int x = 0; x < w; x++)
            inked += (row[x] & 0xffffffu) != background;
    }
    printf("%d %d %ld\n", w, h, inked);
    cairo_surface_destroy(s);
    return 0;
}

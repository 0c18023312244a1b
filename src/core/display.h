/* Text display of tensors, as Julia shows arrays:
 *
 *     2×3 Tensor{Float32,2}:
 *      1.0  3.0  5.0
 *      2.0  4.0  6.0
 *
 * a vector one element per line, a matrix as rows, higher dimensions as
 * slices "[:, :, 1, 1] =" each followed by its matrix. Numbers are the
 * shortest decimal that reads back as the same Float32, with a decimal
 * point ("0.0", "-2.25", "1.0e-5"); columns align on the point. Output is
 * elided to fit a terminal: rows beyond the height become "⋮", columns
 * beyond the width "…", and many slices show the first and last few. */
#ifndef CNN_DISPLAY_H
#define CNN_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>

#include "tensor.h"

/* A growable string; 'failed' is set (and appends stop) when memory runs
 * out. Starts zeroed; release with cnn_text_free. */
typedef struct cnn_text {
    char *data;
    size_t len, cap;
    bool failed;
} cnn_text;

void cnn_text_append(cnn_text *text, const char *s, size_t n);
void cnn_text_printf(cnn_text *text, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cnn_text_free(cnn_text *text);

#define CNN_FORMAT_LEN 32

/* One element as it appears in a display: "0.0", "0.1", "-2.25", "1.0e6",
 * "NaN", "-Inf" for Float32, "42" for Int32. */
const char *cnn_format_element(cnn_dtype dtype, double value, char *buf);

/* The header line "2×3 Tensor{Float32,2}" ("3-element Tensor{Float32,1}"
 * for a vector), without the colon. */
void cnn_display_header(const cnn_tensor *t, cnn_text *out);

/* Appends the display of t for a terminal of width × height characters
 * (80 × 24 is the usual one). A 0-dim tensor shows only its number; a freed
 * one its header and "(freed)". CNN_ERR_NOMEM if the text could not grow. */
cnn_status cnn_tensor_display(const cnn_tensor *t, int width, int height, cnn_text *out);

#endif

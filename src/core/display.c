#include "display.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ===================== growable text ===================== */

static bool text_reserve(cnn_text *text, size_t extra)
{
    if (text->failed)
        return false;
    if (text->len + extra + 1 <= text->cap)
        return true;
    size_t cap = text->cap ? text->cap : 256;
    while (cap < text->len + extra + 1)
        cap *= 2;
    char *data = realloc(text->data, cap);
    if (!data) {
        text->failed = true;
        return false;
    }
    text->data = data;
    text->cap = cap;
    return true;
}

void cnn_text_append(cnn_text *text, const char *s, size_t n)
{
    if (!text_reserve(text, n))
        return;
    memcpy(text->data + text->len, s, n);
    text->len += n;
    text->data[text->len] = '\0';
}

void cnn_text_printf(cnn_text *text, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        cnn_text_append(text, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void text_puts(cnn_text *text, const char *s)
{
    cnn_text_append(text, s, strlen(s));
}

static void text_spaces(cnn_text *text, int n)
{
    for (; n > 0; n--)
        cnn_text_append(text, " ", 1);
}

/* Display lines never end in padding. */
static void text_trim_line(cnn_text *text)
{
    while (text->len > 0 && text->data[text->len - 1] == ' ')
        text->data[--text->len] = '\0';
}

void cnn_text_free(cnn_text *text)
{
    free(text->data);
    *text = (cnn_text){0};
}

/* ===================== numbers ===================== */

/* The shortest "%.*e" rendering of f that reads back as f, split into its
 * significant digits (no trailing zeros) and decimal exponent. */
static int shortest_digits(float f, char *digits, int *exponent)
{
    char sci[40];
    for (int p = 1; p <= 9; p++) {
        snprintf(sci, sizeof sci, "%.*e", p - 1, (double)f);
        if (strtof(sci, NULL) == f)
            break;
    }
    int nd = 0;
    const char *s = sci[0] == '-' ? sci + 1 : sci;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            digits[nd++] = *s;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    *exponent = atoi(s + 1);
    return nd;
}

/* Julia's choice: plain decimals from 1e-4 up to 1e6, else "1.5e-7". */
static void render_float(bool negative, const char *digits, int nd, int e, char *buf)
{
    char *p = buf;
    if (negative)
        *p++ = '-';
    if (e >= 6 || e < -4) {
        p += sprintf(p, "%c.%s", digits[0], nd > 1 ? digits + 1 : "0");
        sprintf(p, "e%d", e);
        return;
    }
    if (e < 0) {
        p += sprintf(p, "0.");
        for (int i = 0; i < -e - 1; i++)
            *p++ = '0';
        strcpy(p, digits);
        return;
    }
    for (int i = 0; i <= e; i++)
        *p++ = i < nd ? digits[i] : '0';
    *p++ = '.';
    strcpy(p, nd > e + 1 ? digits + e + 1 : "0");
}

const char *cnn_format_element(cnn_dtype dtype, double value, char *buf)
{
    if (dtype == CNN_INT32) {
        snprintf(buf, CNN_FORMAT_LEN, "%lld", (long long)value);
        return buf;
    }
    float f = (float)value;
    if (isnan(f))
        strcpy(buf, "NaN");
    else if (isinf(f))
        strcpy(buf, f < 0 ? "-Inf" : "Inf");
    else if (f == 0)
        strcpy(buf, signbit(f) ? "-0.0" : "0.0");
    else {
        char digits[16];
        int e, nd = shortest_digits(f, digits, &e);
        render_float(f < 0, digits, nd, e, buf);
    }
    return buf;
}

/* Columns align on this position: the decimal point, else the exponent,
 * else the end (integers, NaN, Inf). */
static int split_point(const char *s)
{
    int i = 0;
    while (s[i] && s[i] != '.' && s[i] != 'e')
        i++;
    return i;
}

/* ===================== matrices ===================== */

#define MAX_SHOWN_COLUMNS 128

/* A 2-D window of a tensor: a matrix, a vector as one column, or one slice
 * of a higher-dimensional tensor. */
typedef struct matrix {
    const cnn_tensor *t;
    int64_t base;
    int64_t rows, cols, row_stride, col_stride;
} matrix;

/* Which rows and columns are shown: rows [0, top) and [rows - bottom,
 * rows); columns col[0..ncols), with "…" before col[nleft] if elided. */
typedef struct layout {
    int64_t top, bottom;
    bool rows_elided;
    int ncols, nleft;
    bool cols_elided;
    int64_t col[MAX_SHOWN_COLUMNS];
    int left[MAX_SHOWN_COLUMNS], right[MAX_SHOWN_COLUMNS];
} layout;

static const char *format_cell(const matrix *m, int64_t r, int64_t c, char *buf)
{
    double v = cnn_tensor_get(m->t, m->base + r * m->row_stride + c * m->col_stride);
    return cnn_format_element(m->t->dtype, v, buf);
}

static void choose_rows(const matrix *m, int max_rows, layout *lay)
{
    lay->rows_elided = m->rows > max_rows;
    lay->top = lay->rows_elided ? max_rows / 2 : m->rows;
    lay->bottom = lay->rows_elided ? max_rows - 1 - lay->top : 0;
}

/* Widths left and right of the alignment point over the shown rows. */
static void measure_column(const matrix *m, const layout *lay, int64_t c, int *left,
                           int *right)
{
    char buf[CNN_FORMAT_LEN];
    *left = *right = 0;
    for (int64_t r = 0; r < m->rows; r++) {
        if (r == lay->top && lay->rows_elided)
            r = m->rows - lay->bottom;
        const char *s = format_cell(m, r, c, buf);
        int split = split_point(s), len = (int)strlen(s);
        if (split > *left)
            *left = split;
        if (len - split > *right)
            *right = len - split;
    }
}

/* Adds columns while the line stays within 'width'. Returns false (adding
 * nothing) when column c does not fit. */
static bool try_add_column(const matrix *m, const layout *lay, int64_t c, int *used,
                           int width, int sep, int *l, int *r)
{
    measure_column(m, lay, c, l, r);
    int need = *l + *r + sep;
    if (*used + need > width || lay->ncols >= MAX_SHOWN_COLUMNS)
        return false;
    *used += need;
    return true;
}

static void push_column(layout *lay, int64_t c, int l, int r)
{
    lay->col[lay->ncols] = c;
    lay->left[lay->ncols] = l;
    lay->right[lay->ncols] = r;
    lay->ncols++;
}

/* All columns if they fit, else as Julia: alternately from the left and
 * the right end until the width is used, with "  …  " between. */
static void choose_columns(const matrix *m, int width, layout *lay)
{
    int used = 1, l, r;
    lay->ncols = 0;
    lay->cols_elided = false;
    for (int64_t c = 0; c < m->cols; c++) {
        if (!try_add_column(m, lay, c, &used, width, c ? 2 : 0, &l, &r))
            break;
        push_column(lay, c, l, r);
    }
    lay->nleft = lay->ncols;
    if (lay->ncols == m->cols)
        return;
    lay->cols_elided = true;
    lay->ncols = 0;
    used = 1 + 5;
    int64_t lo = 0, hi = m->cols - 1, rights[MAX_SHOWN_COLUMNS];
    int rl[MAX_SHOWN_COLUMNS], rr[MAX_SHOWN_COLUMNS], nright = 0, nleft = 0;
    bool left_turn = true;
    while (lo <= hi && lay->ncols + nright < MAX_SHOWN_COLUMNS - 1) {
        int64_t c = left_turn ? lo : hi;
        int sep = (left_turn ? nleft : nright) ? 2 : 0;
        bool fits = try_add_column(m, lay, c, &used, width, sep, &l, &r);
        if (!fits && !(left_turn && nleft == 0))
            break;
        if (left_turn) {
            push_column(lay, lo++, l, r);
            nleft++;
        } else {
            rights[nright] = hi--;
            rl[nright] = l;
            rr[nright++] = r;
        }
        left_turn = !left_turn;
    }
    lay->nleft = nleft;
    for (int k = nright - 1; k >= 0; k--)
        push_column(lay, rights[k], rl[k], rr[k]);
}

static void print_row(const matrix *m, const layout *lay, int64_t r, cnn_text *out)
{
    char buf[CNN_FORMAT_LEN];
    text_puts(out, " ");
    for (int k = 0; k < lay->ncols; k++) {
        if (lay->cols_elided && k == lay->nleft)
            text_puts(out, "  …  ");
        else if (k > 0)
            text_puts(out, "  ");
        const char *s = format_cell(m, r, lay->col[k], buf);
        int split = split_point(s), len = (int)strlen(s);
        text_spaces(out, lay->left[k] - split);
        text_puts(out, s);
        text_spaces(out, lay->right[k] - (len - split));
    }
    text_trim_line(out);
    text_puts(out, "\n");
}

static void print_ellipsis_row(const layout *lay, cnn_text *out)
{
    text_puts(out, " ");
    for (int k = 0; k < lay->ncols; k++) {
        if (lay->cols_elided && k == lay->nleft)
            text_puts(out, "  ⋱  ");
        else if (k > 0)
            text_puts(out, "  ");
        text_spaces(out, lay->left[k] - 1);
        text_puts(out, "⋮");
        text_spaces(out, lay->right[k]);
    }
    text_trim_line(out);
    text_puts(out, "\n");
}

static void print_matrix(const matrix *m, int width, int max_rows, cnn_text *out)
{
    layout lay;
    choose_rows(m, max_rows, &lay);
    choose_columns(m, width, &lay);
    for (int64_t r = 0; r < m->rows; r++) {
        if (r == lay.top && lay.rows_elided) {
            print_ellipsis_row(&lay, out);
            r = m->rows - lay.bottom;
        }
        print_row(m, &lay, r, out);
    }
}

/* ===================== tensors ===================== */

void cnn_display_header(const cnn_tensor *t, cnn_text *out)
{
    char shape[256];
    if (t->ndims == 1)
        cnn_text_printf(out, "%lld-element", (long long)t->size[0]);
    else
        text_puts(out, cnn_shape_string(t, shape, sizeof shape));
    cnn_text_printf(out, " Tensor{%s,%d}", cnn_dtype_name(t->dtype), t->ndims);
}

#define MAX_SLICES 6

/* Slice s of a tensor with 3 or more dimensions: its label
 * "[:, :, i, j] =" and the offset of its first element. */
static int64_t slice_offset(const cnn_tensor *t, int64_t s, cnn_text *label)
{
    int64_t off = 0;
    text_puts(label, "[:, :");
    for (int d = 2; d < t->ndims; d++) {
        int64_t i = s % t->size[d];
        s /= t->size[d];
        off += i * t->stride[d];
        cnn_text_printf(label, ", %lld", (long long)i + 1);
    }
    text_puts(label, "] =\n");
    return off;
}

static void print_slices(const cnn_tensor *t, int width, int max_rows, cnn_text *out)
{
    int64_t nslices = cnn_tensor_numel(t) / (t->size[0] * t->size[1]);
    bool elided = nslices > MAX_SLICES;
    matrix m = {t, 0, t->size[0], t->size[1], t->stride[0], t->stride[1]};
    if (nslices > 1 && max_rows > 10)
        max_rows = 10; /* several slices share the screen */
    for (int64_t s = 0; s < nslices; s++) {
        if (elided && s == MAX_SLICES / 2) {
            text_puts(out, "⋮\n\n");
            s = nslices - MAX_SLICES / 2;
        }
        m.base = slice_offset(t, s, out);
        print_matrix(&m, width, max_rows, out);
        if (s + 1 < nslices)
            text_puts(out, "\n");
    }
}

cnn_status cnn_tensor_display(const cnn_tensor *t, int width, int height, cnn_text *out)
{
    char buf[CNN_FORMAT_LEN];
    int max_rows = height - 4 < 5 ? 5 : height - 4;
    if (!cnn_tensor_data(t)) {
        cnn_display_header(t, out);
        text_puts(out, " (freed)");
    } else if (t->ndims == 0) {
        text_puts(out, cnn_format_element(t->dtype, cnn_tensor_get(t, 0), buf));
    } else {
        cnn_display_header(t, out);
        if (cnn_tensor_numel(t) > 0) {
            text_puts(out, ":\n");
            if (t->ndims <= 2) {
                matrix m = {t,
                            0,
                            t->size[0],
                            t->ndims == 2 ? t->size[1] : 1,
                            t->stride[0],
                            t->ndims == 2 ? t->stride[1] : 0};
                print_matrix(&m, width, max_rows, out);
            } else {
                print_slices(t, width, max_rows, out);
            }
            if (out->len > 0 && out->data[out->len - 1] == '\n')
                out->data[--out->len] = '\0';
        }
    }
    if (out->failed)
        return cnn_fail(CNN_ERR_NOMEM, "out of memory building the display");
    return CNN_OK;
}

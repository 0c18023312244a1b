#include "pool_max.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* oneDNN blocks Float32 channels by 4, 8 or 16. */
#define MAX_BLOCK 16
/* Below this many output elements the threads cost more than they save. */
#define PARALLEL_MIN 16384

/* A 4-D layout as the kernels walk it: groups of 'block' channels whose
 * elements are contiguous (a plain layout has groups of one channel), and
 * the strides, in elements, of image, group, row and column. */
typedef struct layout {
    int64_t stride_n, stride_g, stride_h, stride_w;
    int block;
    int64_t groups; /* padding included */
    int64_t n, c, h, w;
} layout;

static bool read_layout(const dnnl_memory_desc_t *md, layout *l, bool channels_last)
{
    if (md->ndims != 4 || md->format_kind != dnnl_blocked || md->data_type != dnnl_f32 ||
        md->offset0 != 0)
        return false;
    const dnnl_blocking_desc_t *b = &md->format_desc.blocking;
    int64_t block = 1;
    if (b->inner_nblks == 1 && b->inner_idxs[0] == 1)
        block = b->inner_blks[0];
    else if (b->inner_nblks != 0)
        return false;
    if (block < 1 || block > MAX_BLOCK || md->padded_dims[1] % block)
        return false;
    for (int d = 0; d < 4; d++)
        if (md->padded_offsets[d] || (d != 1 && md->padded_dims[d] != md->dims[d]))
            return false;
    l->stride_n = b->strides[0];
    l->stride_g = b->strides[1];
    l->stride_h = b->strides[2];
    l->stride_w = b->strides[3];
    l->block = (int)block;
    l->groups = md->padded_dims[1] / block;
    /* Channels stored next to each other (nhwc, as an inference
     * convolution writes) are one group of as many lanes. */
    if (channels_last && block == 1 && b->strides[1] == 1 && md->dims[1] > 1) {
        l->block = (int)md->dims[1];
        l->groups = 1;
    }
    l->n = md->dims[0];
    l->c = md->dims[1];
    l->h = md->dims[2];
    l->w = md->dims[3];
    return true;
}

/* Reads the layouts of input and output, the channels of both as lanes
 * when both store them next to each other. */
static bool read_layouts(const dnnl_memory_desc_t *x, const dnnl_memory_desc_t *y,
                         layout *xl, layout *yl)
{
    if (!read_layout(x, xl, true) || !read_layout(y, yl, true))
        return false;
    if (xl->block != yl->block)
        return read_layout(x, xl, false) && read_layout(y, yl, false);
    return true;
}

size_t cnn_max_pool_index_size(const cnn_pool2d_params *p)
{
    return p->window[0] * p->window[1] <= 256 ? 1 : 4;
}

int64_t cnn_max_pool_buffer_elements(const dnnl_memory_desc_t *md)
{
    return (int64_t)(dnnl_memory_desc_get_size(md) / sizeof(float));
}

cnn_status cnn_max_pool_check_layouts(const dnnl_memory_desc_t *x,
                                      const dnnl_memory_desc_t *y, const char *op)
{
    layout xl, yl;
    if (!read_layouts(x, y, &xl, &yl))
        return cnn_fail(CNN_ERR_ARG,
                        "%s: max pooling takes plain layouts and "
                        "layouts that block the channels only",
                        op);
    if (xl.block != yl.block || xl.groups != yl.groups || xl.n != yl.n || xl.c != yl.c)
        return cnn_fail(CNN_ERR_ARG,
                        "%s: max pooling input and output block "
                        "the channels differently (%d and %d)",
                        op, xl.block, yl.block);
    return CNN_OK;
}

/* The input rows [first, end) of the window of output row 'out', and
 * where the window starts, which may be in the padding. */
typedef struct span {
    int64_t origin, first, end;
} span;

static span window_span(int64_t out, int64_t stride, int64_t pad_lo, int64_t window,
                        int64_t size)
{
    span s;
    s.origin = out * stride - pad_lo;
    s.first = s.origin > 0 ? s.origin : 0;
    s.end = s.origin + window < size ? s.origin + window : size;
    return s;
}

/* The outputs [lo, hi) of a row whose column kw of the window lies in the
 * image: 0 <= ow * stride - pad_lo + kw < size. */
typedef struct range {
    int64_t lo, hi;
} range;

static range outputs_reaching(int64_t kw, int64_t stride, int64_t pad_lo, int64_t size,
                              int64_t outputs)
{
    int64_t before = pad_lo - kw, limit = size + pad_lo - kw;
    range r;
    r.lo = before <= 0 ? 0 : (before + stride - 1) / stride;
    r.hi = limit <= 0 ? 0 : (limit + stride - 1) / stride;
    if (r.hi > outputs)
        r.hi = outputs;
    return r;
}

static int64_t offset_of(const layout *l, int64_t n, int64_t g, int64_t h, int64_t w)
{
    return n * l->stride_n + g * l->stride_g + h * l->stride_h + w * l->stride_w;
}

/* The kernels work a row of outputs at a time, one window position after
 * the other, so that the innermost loop runs over the channels of a group
 * with no dependence from one output to the next, and the running maxima
 * stay in the output row. They are inlined into the entry points, which
 * are compiled once per instruction set (target_clones): with 'block' a
 * constant there, the channel loops become vector code of the widest kind
 * the CPU has. */
#define KERNEL static inline __attribute__((always_inline))
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

/* Which output row of which group of which image a row number is. */
typedef struct row_at {
    int64_t n, g, oh;
} row_at;

static row_at row_of(const layout *y, int64_t row)
{
    row_at r = {row / y->h / y->groups, row / y->h % y->groups, row % y->h};
    return r;
}

/* Starts each output of a row at -inf, its maximum at the first position
 * of its window inside the image (where an all -inf window keeps it). */
KERNEL void start_row(const cnn_pool2d_params *p, const layout *xl, const layout *yl,
                      span rows, float *y, int32_t *where, int block)
{
    for (int64_t ow = 0; ow < yl->w; ow++) {
        span cols = window_span(ow, p->stride[0], p->pad[0], p->window[0], xl->w);
        int32_t k0 = (int32_t)((rows.first - rows.origin) * p->window[0] + cols.first -
                               cols.origin);
        float *b = y + ow * yl->stride_w;
        int32_t *at = where + ow * block;
#pragma omp simd
        for (int i = 0; i < block; i++) {
            b[i] = -INFINITY;
            at[i] = k0;
        }
    }
}

/* Folds window position (h, kw) into the running maxima of a row: a NaN
 * beats every number, and the first NaN stays. */
KERNEL void fold_position(const cnn_pool2d_params *p, const layout *xl, const layout *yl,
                          const float *xrow, int64_t kw, int32_t k, float *y,
                          int32_t *where, int block)
{
    range r = outputs_reaching(kw, p->stride[0], p->pad[0], xl->w, yl->w);
    for (int64_t ow = r.lo; ow < r.hi; ow++) {
        const float *v = xrow + (ow * p->stride[0] - p->pad[0] + kw) * xl->stride_w;
        float *b = y + ow * yl->stride_w;
        int32_t *at = where + ow * block;
#pragma omp simd
        for (int i = 0; i < block; i++) {
            float a = v[i], m = b[i];
            /* bitwise, not short-circuit: no branch in vector code */
            int take = (a > m) | ((a != a) & (m == m));
            b[i] = take ? a : m;
            at[i] = take ? k : at[i];
        }
    }
}

KERNEL void store_where(const layout *yl, const int32_t *where, void *ws, bool wide,
                        int block)
{
    for (int64_t ow = 0; ow < yl->w; ow++) {
        const int32_t *from = where + ow * block;
        int64_t to = ow * yl->stride_w;
        if (wide)
            memcpy((int32_t *)ws + to, from, (size_t)block * sizeof *from);
        else
#pragma omp simd
            for (int i = 0; i < block; i++)
                ((uint8_t *)ws)[to + i] = (uint8_t)from[i];
    }
}

KERNEL void forward_row(const cnn_pool2d_params *p, const layout *xl, const layout *yl,
                        const float *x, float *y, void *ws, int32_t *where, int64_t row,
                        int block)
{
    row_at at = row_of(yl, row);
    span rows = window_span(at.oh, p->stride[1], p->pad[2], p->window[1], xl->h);
    int64_t out = offset_of(yl, at.n, at.g, at.oh, 0);
    start_row(p, xl, yl, rows, y + out, where, block);
    for (int64_t h = rows.first; h < rows.end; h++) {
        const float *xrow = x + offset_of(xl, at.n, at.g, h, 0);
        for (int64_t kw = 0; kw < p->window[0]; kw++) {
            int32_t k = (int32_t)((h - rows.origin) * p->window[0] + kw);
            fold_position(p, xl, yl, xrow, kw, k, y + out, where, block);
        }
    }
    if (ws) {
        bool wide = cnn_max_pool_index_size(p) == 4;
        store_where(yl, where, (char *)ws + out * (wide ? 4 : 1), wide, block);
    }
}

/* A plain layout holds one channel per group, so that a row of outputs is
 * too short for the per-row work above to pay (it cost 30 ns an output).
 * These kernels take one channel of one image per iteration and run the
 * innermost loop over the outputs of a row, the input read with a stride;
 * which outputs each window column reaches is worked out once per call. */
KERNEL void fold_position_plain(const cnn_pool2d_params *p, const layout *xl,
                                const layout *yl, const float *xrow, int64_t kw,
                                int32_t k, float *y, int32_t *where, range r)
{
    const float *v = xrow + (kw - p->pad[0]) * xl->stride_w;
    int64_t step = p->stride[0] * xl->stride_w, ys = yl->stride_w;
#pragma omp simd
    for (int64_t ow = r.lo; ow < r.hi; ow++) {
        float a = v[ow * step], m = y[ow * ys];
        int take = (a > m) | ((a != a) & (m == m));
        y[ow * ys] = take ? a : m;
        where[ow] = take ? k : where[ow];
    }
}

KERNEL void forward_plane_plain(const cnn_pool2d_params *p, const layout *xl,
                                const layout *yl, const float *x, float *y, void *ws,
                                int32_t *where, int64_t plane, const range *reach)
{
    int64_t n = plane / yl->groups, c = plane % yl->groups;
    bool wide = cnn_max_pool_index_size(p) == 4;
    for (int64_t oh = 0; oh < yl->h; oh++) {
        span rows = window_span(oh, p->stride[1], p->pad[2], p->window[1], xl->h);
        int64_t out = offset_of(yl, n, c, oh, 0);
        start_row(p, xl, yl, rows, y + out, where, 1);
        for (int64_t h = rows.first; h < rows.end; h++) {
            const float *xrow = x + offset_of(xl, n, c, h, 0);
            for (int64_t kw = 0; kw < p->window[0]; kw++)
                fold_position_plain(p, xl, yl, xrow, kw,
                                    (int32_t)((h - rows.origin) * p->window[0] + kw),
                                    y + out, where, reach[kw]);
        }
        if (!ws)
            continue;
        for (int64_t ow = 0; ow < yl->w; ow++) {
            int64_t to = out + ow * yl->stride_w;
            if (wide)
                ((int32_t *)ws)[to] = where[ow];
            else
                ((uint8_t *)ws)[to] = (uint8_t)where[ow];
        }
    }
}

/* Which outputs of a row each column of the window reaches. */
static range *reaches(const cnn_pool2d_params *p, const layout *xl, const layout *yl)
{
    range *r = malloc((size_t)p->window[0] * sizeof *r);
    if (r)
        for (int64_t kw = 0; kw < p->window[0]; kw++)
            r[kw] = outputs_reaching(kw, p->stride[0], p->pad[0], xl->w, yl->w);
    return r;
}

static cnn_status forward_plain(const cnn_pool2d_params *p, const layout *xl,
                                const layout *yl, const float *x, float *y, void *ws)
{
    int64_t planes = yl->n * yl->groups;
    int threads = omp_get_max_threads();
    int32_t *where = malloc((size_t)(threads * yl->w + 1) * sizeof *where);
    range *reach = reaches(p, xl, yl);
    if (!where || !reach) {
        free(where);
        free(reach);
        return cnn_fail(CNN_ERR_NOMEM, "pool2d: out of memory");
    }
#pragma omp parallel for if (planes * yl->h * yl->w > PARALLEL_MIN) schedule(static)
    for (int64_t plane = 0; plane < planes; plane++)
        forward_plane_plain(p, xl, yl, x, y, ws, where + omp_get_thread_num() * yl->w,
                            plane, reach);
    free(where);
    free(reach);
    return CNN_OK;
}

CLONES cnn_status cnn_max_pool_run_forward(const cnn_pool2d_params *p,
                                           const dnnl_memory_desc_t *xmd, const float *x,
                                           const dnnl_memory_desc_t *ymd, float *y,
                                           void *ws)
{
    layout xl, yl;
    if (!read_layouts(xmd, ymd, &xl, &yl))
        return cnn_fail(CNN_ERR_ARG, "pool2d: unsupported layout");
    if (yl.block == 1)
        return forward_plain(p, &xl, &yl, x, y, ws);
    int64_t rows = yl.n * yl.groups * yl.h, row_size = yl.w * yl.block;
    int threads = omp_get_max_threads();
    int32_t *where = malloc((size_t)(threads * row_size + 1) * sizeof *where);
    if (!where)
        return cnn_fail(CNN_ERR_NOMEM, "pool2d: out of memory");
#pragma omp parallel for if (rows * row_size > PARALLEL_MIN) schedule(static)
    for (int64_t row = 0; row < rows; row++) {
        int32_t *mine = where + omp_get_thread_num() * row_size;
        switch (yl.block) {
        case 16: forward_row(p, &xl, &yl, x, y, ws, mine, row, 16); break;
        case 8: forward_row(p, &xl, &yl, x, y, ws, mine, row, 8); break;
        default: forward_row(p, &xl, &yl, x, y, ws, mine, row, yl.block); break;
        }
    }
    free(where);
    return CNN_OK;
}

/* Sends the gradient of a row of outputs back through window position
 * (h, kw) to the lanes whose maximum sat there. Windows that tile the
 * input exactly reach each element once: then the gradient is written,
 * zeros included, and gx needs no clearing first. */
KERNEL void unfold_position(const cnn_pool2d_params *p, const layout *xl,
                            const layout *yl, float *gxrow, int64_t kw, int32_t k,
                            const float *gy, const void *ws, bool wide, bool tiles,
                            int lanes)
{
    range r = outputs_reaching(kw, p->stride[0], p->pad[0], xl->w, yl->w);
    for (int64_t ow = r.lo; ow < r.hi; ow++) {
        float *to = gxrow + (ow * p->stride[0] - p->pad[0] + kw) * xl->stride_w;
        int64_t at = ow * yl->stride_w;
        const float *g = gy + at;
        const int32_t *w4 = (const int32_t *)ws + at;
        const uint8_t *w1 = (const uint8_t *)ws + at;
        if (tiles && wide) {
#pragma omp simd
            for (int i = 0; i < lanes; i++)
                to[i] = w4[i] == k ? g[i] : 0.0f;
        } else if (tiles) {
#pragma omp simd
            for (int i = 0; i < lanes; i++)
                to[i] = w1[i] == k ? g[i] : 0.0f;
        } else if (wide) {
#pragma omp simd
            for (int i = 0; i < lanes; i++)
                to[i] += w4[i] == k ? g[i] : 0.0f;
        } else {
#pragma omp simd
            for (int i = 0; i < lanes; i++)
                to[i] += w1[i] == k ? g[i] : 0.0f;
        }
    }
}

KERNEL void backward_plane(const cnn_pool2d_params *p, const layout *xl, const layout *yl,
                           const float *gy, const void *ws, float *gx, int64_t n,
                           int64_t g, bool tiles, int lanes)
{
    bool wide = cnn_max_pool_index_size(p) == 4;
    for (int64_t oh = 0; oh < yl->h; oh++) {
        span rows = window_span(oh, p->stride[1], p->pad[2], p->window[1], xl->h);
        int64_t out = offset_of(yl, n, g, oh, 0);
        for (int64_t h = rows.first; h < rows.end; h++) {
            float *gxrow = gx + offset_of(xl, n, g, h, 0);
            for (int64_t kw = 0; kw < p->window[0]; kw++) {
                int32_t k = (int32_t)((h - rows.origin) * p->window[0] + kw);
                unfold_position(p, xl, yl, gxrow, kw, k, gy + out,
                                (const char *)ws + out * (wide ? 4 : 1), wide, tiles,
                                lanes);
            }
        }
    }
}

/* Whether every input element lies in exactly one window. */
static bool windows_tile(const cnn_pool2d_params *p, const layout *xl, const layout *yl)
{
    return p->stride[0] == p->window[0] && p->stride[1] == p->window[1] && !p->pad[0] &&
           !p->pad[1] && !p->pad[2] && !p->pad[3] && yl->w * p->window[0] == xl->w &&
           yl->h * p->window[1] == xl->h;
}

CLONES void cnn_max_pool_run_backward(const cnn_pool2d_params *p,
                                      const dnnl_memory_desc_t *ymd, const float *gy,
                                      const void *ws, const dnnl_memory_desc_t *xmd,
                                      float *gx)
{
    layout xl, yl;
    if (!read_layouts(xmd, ymd, &xl, &yl))
        return;
    bool tiles = windows_tile(p, &xl, &yl);
    if (!tiles)
        memset(gx, 0, (size_t)cnn_max_pool_buffer_elements(xmd) * sizeof *gx);
    int64_t planes = yl.n * yl.groups;
    /* One group of one image per iteration: no two write the same element.
     * Adding leaves the channel padding at zero; writing covers it with
     * the gradient's own padding, zero too. */
#pragma omp parallel for if (planes * yl.h * yl.w * yl.block > PARALLEL_MIN)             \
    schedule(static)
    for (int64_t plane = 0; plane < planes; plane++) {
        int64_t g = plane % yl.groups, n = plane / yl.groups;
        int64_t left = yl.c - g * yl.block;
        int lanes = tiles || left >= yl.block ? yl.block : (int)left;
        switch (lanes) {
        case 16: backward_plane(p, &xl, &yl, gy, ws, gx, n, g, tiles, 16); break;
        case 8: backward_plane(p, &xl, &yl, gy, ws, gx, n, g, tiles, 8); break;
        default: backward_plane(p, &xl, &yl, gy, ws, gx, n, g, tiles, lanes); break;
        }
    }
}

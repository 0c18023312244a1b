#include "window.h"

cnn_status cnn_window_output(const cnn_window *w, const int64_t in[2], int64_t out[2])
{
    for (int d = 0; d < 2; d++) {
        if (w->kernel[d] < 1)
            return cnn_fail(CNN_ERR_ARG, "window %lld×%lld is empty",
                            (long long)w->kernel[0], (long long)w->kernel[1]);
        if (w->stride[d] < 1)
            return cnn_fail(CNN_ERR_ARG, "stride must be at least 1, got %lld×%lld",
                            (long long)w->stride[0], (long long)w->stride[1]);
        if (w->dilation[d] < 1)
            return cnn_fail(CNN_ERR_ARG, "dilation must be at least 1, got %lld×%lld",
                            (long long)w->dilation[0], (long long)w->dilation[1]);
    }
    for (int i = 0; i < 4; i++)
        if (w->pad[i] < 0)
            return cnn_fail(CNN_ERR_ARG,
                            "padding must be non-negative, got %lld,%lld,%lld,%lld",
                            (long long)w->pad[0], (long long)w->pad[1],
                            (long long)w->pad[2], (long long)w->pad[3]);
    /* far beyond any real network, and keeps the arithmetic below exact */
    const int64_t limit = INT64_C(1) << 24;
    for (int d = 0; d < 2; d++)
        if (w->kernel[d] > limit || w->stride[d] > limit || w->dilation[d] > limit ||
            w->pad[2 * d] > limit || w->pad[2 * d + 1] > limit)
            return cnn_fail(CNN_ERR_ARG,
                            "window, stride, padding and dilation must be at most %lld",
                            (long long)limit);
    int64_t span[2], padded[2];
    for (int d = 0; d < 2; d++) {
        span[d] = w->dilation[d] * (w->kernel[d] - 1) + 1;
        padded[d] = in[d] + w->pad[2 * d] + w->pad[2 * d + 1];
    }
    for (int d = 0; d < 2; d++)
        if (span[d] > padded[d])
            return cnn_fail(CNN_ERR_SHAPE,
                            "window %lld×%lld (dilated %lld×%lld) is larger than the "
                            "padded input %lld×%lld",
                            (long long)w->kernel[0], (long long)w->kernel[1],
                            (long long)span[0], (long long)span[1], (long long)padded[0],
                            (long long)padded[1]);
    for (int d = 0; d < 2; d++)
        out[d] = (padded[d] - span[d]) / w->stride[d] + 1;
    return CNN_OK;
}

void cnn_window_dnnl(const cnn_window *w, dnnl_dims_t strides, dnnl_dims_t kernel,
                     dnnl_dims_t dilates, dnnl_dims_t pad_l, dnnl_dims_t pad_r)
{
    for (int d = 0; d < 2; d++) {
        int s = 1 - d; /* oneDNN lists H before W */
        strides[d] = w->stride[s];
        kernel[d] = w->kernel[s];
        dilates[d] = w->dilation[s] - 1;
        pad_l[d] = w->pad[2 * s];
        pad_r[d] = w->pad[2 * s + 1];
    }
}

/* 2-D resampling (upsampling) on oneDNN, forward and backward: nearest
 * neighbour and bilinear, as Flux's upsample_nearest and
 * upsample_bilinear.
 *
 * Input W×H×C×N (nchw), output W'×H'×C×N for the output sizes W'×H' the
 * caller gives. Bilinear has PyTorch's align_corners=false geometry
 * (oneDNN's resampling_linear): output pixel i samples the input at
 * (i + 0.5)·W/W' − 0.5, clamped to the image. Nearest neighbour takes
 * output sizes that are whole multiples of the input's, as Flux's
 * upsample_nearest does: each input pixel is repeated W'/W × H'/H times. */
#ifndef CNN_RESAMPLE_H
#define CNN_RESAMPLE_H

#include "context.h"
#include "plan.h"
#include "tensor.h"

typedef enum cnn_resample_kind {
    CNN_RESAMPLE_NEAREST = 0,
    CNN_RESAMPLE_BILINEAR = 1,
} cnn_resample_kind;

typedef struct cnn_resample_params {
    cnn_resample_kind kind;
    int64_t out[2]; /* W', H' */
} cnn_resample_params;

/* Checks the parameters and input sizes and gives the output sizes. */
cnn_status cnn_resample_output_size(const cnn_resample_params *p, int x_ndims,
                                    const int64_t *x, int64_t y[4]);

/* A planned resampling: the checked sizes, the primitive (NULL when there
 * are no elements) and the result (y, or gx in x's sizes), plain. */
typedef struct cnn_resample_plan {
    cnn_resample_params params;
    int64_t x[4], y[4];
    cnn_primitive *primitive;
    cnn_plan_output out;
} cnn_resample_plan;

cnn_status cnn_resample_plan_forward(cnn_resample_plan *plan,
                                     const cnn_resample_params *p, const cnn_tensor *x);
cnn_status cnn_resample_run_forward(const cnn_resample_plan *plan, const cnn_tensor *x,
                                    cnn_tensor *y);
/* gy has the forward output's sizes; x are the forward input's sizes. */
cnn_status cnn_resample_plan_backward(cnn_resample_plan *plan,
                                      const cnn_resample_params *p, const cnn_tensor *gy,
                                      int x_ndims, const int64_t *x);
cnn_status cnn_resample_run_backward(const cnn_resample_plan *plan, const cnn_tensor *gy,
                                     cnn_tensor *gx);

/* Plan and run in one call, on results the caller has. */
cnn_status cnn_resample_forward(const cnn_resample_params *p, const cnn_tensor *x,
                                cnn_tensor *y);
cnn_status cnn_resample_backward(const cnn_resample_params *p, const cnn_tensor *gy,
                                 cnn_tensor *gx);

#endif

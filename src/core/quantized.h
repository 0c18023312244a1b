/* A network evaluated in int8 on oneDNN: convolutions and inner products
 * run u8/s8 × s8 with 32-bit sums, the activations between the layers
 * staying int8 in the primitives' own layouts.
 *
 * A network is built once, layer by layer (cnn_qnet_add_*), from FP32
 * weights and the ranges of the activations measured on calibration data;
 * it is then planned for an input's sizes and run. The input is Float32
 * (W×H×C×N images, or features×N) and so is the result: the input is
 * quantized once at the start, and the int8 activations are converted
 * back at the end, or the last inner product writes Float32 itself.
 *
 * Quantization is symmetric (no zero points). An activation of range max
 * is stored as round(v · levels / max), levels 255 for a non-negative
 * activation (u8) and 127 otherwise (s8); each output channel of a weight
 * gets its own scale 127 / max|w| (s8). A convolution of an input of
 * scale sx, weight scales sw[oc] and output scale sy runs with oneDNN's
 * output scales sy / (sx · sw[oc]) on its 32-bit sums, its bias added to
 * the sums as b[oc] · sx · sw[oc], and a relu as a post-op.
 *
 * Plans, one per input sizes and OpenMP thread count, are kept in the
 * network (the few most recent) with their primitives, buffers and
 * memory objects, so that a run only points two memory objects at the
 * caller's tensors and executes. Weights are converted to s8 in the
 * layout a primitive asks for once per layout. */
#ifndef CNN_QUANTIZED_H
#define CNN_QUANTIZED_H

#include <stdbool.h>

#include "conv.h"
#include "plan.h"
#include "pool.h"
#include "tensor.h"

/* The range of an activation: [-max, max], or [0, max] when nonnegative. */
typedef struct cnn_qrange {
    float max;
    bool nonnegative;
} cnn_qrange;

typedef struct cnn_qnet cnn_qnet;

/* A network whose input (input_ndims 4: W×H×C×N, 2: features×N) has the
 * range 'input'. NULL when out of memory. */
cnn_status cnn_qnet_create(int input_ndims, cnn_qrange input, cnn_qnet **out);
void cnn_qnet_free(cnn_qnet *net);

/* Layers, in order; 'name' is the layer's text for messages ("Conv((3, 3),
 * 1 => 16, relu)"). A convolution (a relu fused when p->activation says
 * so, no other activation) whose output has range 'out'; w
 * kW×kH×(Cin/g)×Cout, b Cout or NULL, both Float32 and copied. */
cnn_status cnn_qnet_add_conv(cnn_qnet *net, const char *name, const cnn_conv2d_params *p,
                             const cnn_tensor *w, const cnn_tensor *b, cnn_qrange out);
/* Pooling on the int8 activation (max, or mean rounded to the nearest). */
cnn_status cnn_qnet_add_pool(cnn_qnet *net, const char *name, const cnn_pool2d_params *p);
/* W×H×C×N seen as (W·H·C)×N, as a reshape does. */
cnn_status cnn_qnet_add_flatten(cnn_qnet *net, const char *name);
/* A dense layer, w out×in, b out or NULL: an int8 result of range *out,
 * or, with out NULL, a Float32 one (then only a softmax may follow). */
cnn_status cnn_qnet_add_dense(cnn_qnet *net, const char *name, const cnn_tensor *w,
                              const cnn_tensor *b, bool relu, const cnn_qrange *out);
/* A softmax over the features of the Float32 result, last. */
cnn_status cnn_qnet_add_softmax(cnn_qnet *net, const char *name);

/* The layers' count, and the number of plans kept (for tests). */
int cnn_qnet_layer_count(const cnn_qnet *net);
int cnn_qnet_plan_count(const cnn_qnet *net);

/* A network planned for an input: out[0] is the Float32 result's sizes
 * (plain). The plan belongs to the network and stays valid until the
 * network plans another input or is freed. */
typedef struct cnn_qnet_plan {
    cnn_qnet *net;
    struct cnn_qnet_steps *steps;
    cnn_plan_output out[1];
} cnn_qnet_plan;

/* Checks x (Float32, the network's rank, sizes every layer takes, at
 * least one sample) and finds or makes the plan of its sizes. */
cnn_status cnn_qnet_plan_forward(cnn_qnet_plan *plan, cnn_qnet *net, const cnn_tensor *x);
/* Runs the plan on a contiguous plain x into y, allocated as out[0] says. */
cnn_status cnn_qnet_run_forward(const cnn_qnet_plan *plan, const cnn_tensor *x,
                                cnn_tensor *y);

/* The value below which a fraction p (0 < p <= 1) of the magnitudes of
 * t's elements lie, within 1/4096 of the largest magnitude (a histogram
 * of 4096 bins up to it); p = 1 gives the largest magnitude itself, and
 * the minimum of the elements comes in *min. t is contiguous Float32. */
cnn_status cnn_abs_quantile(const cnn_tensor *t, double p, double *q, double *min);

#endif

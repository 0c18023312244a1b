/* The insides of a quantized network (quantized.h), shared by the unit
 * that builds and runs it (quantized.c) and the one that plans its
 * primitives for an input (quantized_steps.c). */
#ifndef CNN_QUANTIZED_NET_H
#define CNN_QUANTIZED_NET_H

#include "quantized.h"

typedef enum q_kind { Q_CONV, Q_POOL, Q_FLATTEN, Q_DENSE, Q_SOFTMAX } q_kind;

/* A layer's s8 weights in one layout that a primitive asked for. */
typedef struct q_weights {
    dnnl_memory_desc_t md;
    void *data;
    struct q_weights *next;
} q_weights;

typedef struct q_layer {
    q_kind kind;
    char name[160];
    cnn_conv2d_params conv;
    cnn_pool2d_params pool;
    int64_t w[4];  /* conv: kW, kH, Cin/g, Cout; dense: out, in */
    int64_t outs;  /* output channels, or output features */
    float *weight; /* Float32 copy, in the tensor's order */
    float *wscale; /* per output channel: 127 / max|w| */
    float *oscale; /* the primitive's output scales, per output channel */
    float *bias;   /* the bias in the units of the 32-bit sums */
    bool relu;
    bool f32_out;   /* a dense layer writing Float32 */
    cnn_qrange out; /* the int8 output's range */
    q_weights *converted;
} q_layer;

/* The core's own int8 max pooling (quantized_pool.c): nhwc in and out,
 * no padding; sizes in oneDNN's order. */
typedef struct q_pool_geometry {
    bool is_signed;
    int64_t dims[4];   /* N, C, H, W of the input */
    int64_t out[2];    /* output H, W */
    int64_t kernel[2]; /* H, W */
    int64_t stride[2]; /* H, W */
} q_pool_geometry;

void cnn_qpool_max(const q_pool_geometry *g, const void *x, void *y);

/* One execution of a plan: a primitive and its arguments, or, when
 * prim.primitive is NULL, the own max pooling from args[0] to args[1]. */
#define Q_STEP_ARGS 4
typedef struct q_step {
    cnn_primitive prim;
    int nargs;
    dnnl_exec_arg_t args[Q_STEP_ARGS];
    q_pool_geometry pool;
} q_step;

/* A plan: the steps for one input's sizes and thread count, with the
 * memory objects and buffers they use. x_mem and y_mem wrap the caller's
 * tensors, pointed at them by each run. */
typedef struct cnn_qnet_steps {
    int ndims;
    int64_t x[CNN_MAX_DIMS];
    int threads;
    cnn_plan_output out;
    int nsteps, step_capacity;
    q_step *steps;
    int nmems, mem_capacity;
    dnnl_memory_t *mems;
    void **buffers; /* owned by the plan, or NULL (weights, the caller's) */
    dnnl_memory_t x_mem, y_mem;
    struct cnn_qnet_steps *next;
} cnn_qnet_steps;

struct cnn_qnet {
    int input_ndims;
    cnn_qrange input;
    int count, capacity;
    q_layer *layers;
    /* while adding: the rank and range of the result so far */
    int ndims_now;
    cnn_qrange range_now;
    bool f32_now, ended;
    cnn_qnet_steps *plans; /* the most recent first */
};

/* levels / max: 255 for a non-negative range, else 127. */
float cnn_qrange_scale(cnn_qrange r);
dnnl_data_type_t cnn_qrange_type(cnn_qrange r);

/* Makes the steps of net for input sizes x (checked by the layers' rules,
 * whose messages name the layer). */
cnn_status cnn_qnet_steps_make(cnn_qnet *net, int ndims, const int64_t *x,
                               cnn_qnet_steps **out);
void cnn_qnet_steps_free(cnn_qnet_steps *s);

#endif

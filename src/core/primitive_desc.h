/* Creating a primitive descriptor, with an activation fused after the op
 * when asked (convolution + relu runs as one primitive). */
#ifndef CNN_PRIMITIVE_DESC_H
#define CNN_PRIMITIVE_DESC_H

#include <oneapi/dnnl/dnnl.h>

#include "status.h"

/* What a primitive fuses after its op. */
enum {
    CNN_FUSE_NONE = 0,
    CNN_FUSE_RELU = 1,          /* max(x, 0): fast, but turns NaN into 0 */
    CNN_FUSE_RELU_KEEP_NAN = 2, /* relu that keeps NaN, a little slower */
    CNN_FUSE_TANH = 3,          /* the eltwise primitive's tanh */
    CNN_FUSE_SIGMOID = 4,       /* the eltwise primitive's logistic */
};

/* Creates a primitive descriptor for an op descriptor, with an activation
 * fused as a post-op when asked (a CNN_FUSE_ value), and 'hint' (a forward pd,
 * or NULL) for backward ops. */
cnn_status cnn_pd_create(const void *op_desc, int fuse, const_dnnl_primitive_desc_t hint,
                         const char *op, dnnl_primitive_desc_t *pd);

#endif

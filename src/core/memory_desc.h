/* oneDNN memory descriptors of tensors.
 *
 * oneDNN lists dimensions slowest first; a tensor lists its sizes fastest
 * first (W×H×C×N is oneDNN's NCHW), so a plain descriptor is the tensor's
 * sizes reversed with the dense row-major tag of that rank. */
#ifndef CNN_MEMORY_DESC_H
#define CNN_MEMORY_DESC_H

#include <oneapi/dnnl/dnnl.h>
#include <stdbool.h>

#include "tensor.h"

/* A plain descriptor: dims in oneDNN order (slowest first) with the dense
 * row-major tag of that rank (a, ab, abc, ...), 0 to CNN_MAX_DIMS dims. */
void cnn_md_plain(dnnl_memory_desc_t *md, int ndims, const int64_t *dims);
/* The plain descriptor of a contiguous tensor: its sizes reversed. */
void cnn_md_of_tensor(dnnl_memory_desc_t *md, const cnn_tensor *t);
/* The descriptor of the tensor's own layout: its blocked layout if it has
 * one, else the plain descriptor. */
void cnn_md_of_layout(dnnl_memory_desc_t *md, const cnn_tensor *t);
/* Whether md is the plain layout of a Float32 tensor of these sizes. */
bool cnn_md_is_plain(const dnnl_memory_desc_t *md, int ndims, const int64_t *size);
/* A 4-D Float32 descriptor of dims (oneDNN order) in the layout of
 * 'like' (4-D, other dims) when that is one of the layouts activations
 * take (plain, channels-last, channels in blocks of 16, 8 or 4); false,
 * and md plain, otherwise. */
bool cnn_md_like(dnnl_memory_desc_t *md, const dnnl_memory_desc_t *like,
                 const int64_t *dims);
/* A descriptor that lets the primitive choose the layout. */
void cnn_md_any(dnnl_memory_desc_t *md, int ndims, const int64_t *dims);
/* The same with another element type (bf16 inputs of a convolution). */
void cnn_md_any_of_type(dnnl_memory_desc_t *md, int ndims, const int64_t *dims,
                        dnnl_data_type_t type);

#endif

/* IDX files (the MNIST format), raw or gzip-compressed.
 *
 * An IDX file is the magic 0x00 0x00 <type> <ndims>, then ndims big-endian
 * uint32 dimensions (slowest-varying first, row-major), then the elements,
 * big-endian. Reversing the dimensions gives our column-major sizes with
 * the same element order, so a file of 60000×28×28 bytes becomes a
 * 28×28×60000 tensor without any transposition (x fastest, as stored).
 *
 * Parsing checks everything a corrupt file could get wrong (magic, type,
 * dimension count, zero or overflowing dimensions, truncated or oversized
 * data, broken gzip) and never reads outside the given buffer. */
#ifndef CNN_IDX_H
#define CNN_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"
#include "tensor.h"

enum {
    CNN_IDX_UBYTE = 0x08,
    CNN_IDX_SBYTE = 0x09,
    CNN_IDX_INT16 = 0x0B,
    CNN_IDX_INT32 = 0x0C,
    CNN_IDX_FLOAT32 = 0x0D,
    CNN_IDX_FLOAT64 = 0x0E,
};

typedef struct cnn_idx {
    int type;                   /* one of CNN_IDX_* */
    int ndims;                  /* 1 .. CNN_MAX_DIMS */
    int64_t dims[CNN_MAX_DIMS]; /* as in the file: slowest first */
    int64_t count;              /* number of elements */
    size_t elem_size;           /* bytes per element */
    const uint8_t *data;        /* count * elem_size big-endian bytes */
    uint8_t *owned;             /* what cnn_idx_free releases, or NULL */
} cnn_idx;

/* Parses an IDX image in memory, raw or gzip (detected by 1f 8b). 'name'
 * (usually the path) starts every error message. For raw input idx->data
 * points into buf, which must outlive idx; gzip input is inflated into a
 * buffer idx owns. Release with cnn_idx_free either way. */
cnn_status cnn_idx_parse(const uint8_t *buf, size_t len, const char *name, cnn_idx *idx);

/* Reads and parses a file; for raw files the sizes are checked against the
 * header before the data is read. */
cnn_status cnn_idx_read(const char *path, cnn_idx *idx);

void cnn_idx_free(cnn_idx *idx);

/* "ubyte", "int16", ... */
const char *cnn_idx_type_name(int type);

/* The tensor sizes of the data: the file's dimensions reversed. */
void cnn_idx_tensor_sizes(const cnn_idx *idx, int64_t *size);

/* Converts the elements into 'out' (contiguous, idx->count elements).
 * Float32 output: value * scale. Int32 output needs an integer element
 * type and scale 1. OpenMP-parallel. */
cnn_status cnn_idx_to_tensor(const cnn_idx *idx, double scale, cnn_tensor *out);

#endif

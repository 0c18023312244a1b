/* safetensors files: named tensors for models and test fixtures.
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON
 *   {"__metadata__": {"k": "v", ...},
 *    "name": {"dtype": "F32", "shape": [N, C, H, W], "data_offsets": [b, e]}, ...}
 * then the data section, offsets counted from its start.
 *
 * safetensors shapes are row-major (slowest first) while our sizes are
 * column-major (fastest first), so a W×H×C×N tensor is stored with shape
 * [N, C, H, W]: the sizes reversed, the bytes unchanged. That is also how
 * PyTorch sees an NCHW tensor. Only F32 and I32 are read and written.
 *
 * The reader accepts exactly what the format allows: JSON bounded by the
 * header length (malformed text is refused with its byte position),
 * strings of valid UTF-8 without NUL, each name and metadata key once,
 * every tensor's byte count equal to what its dtype and shape need, and
 * tensors that tile the data section: no overlap, no hole, no byte after
 * the last one. It takes time proportional to n log n for n entries.
 *
 * The writer sorts tensors and metadata by name, so the same tensors give
 * the same bytes, and replaces the file atomically (see atomic_file.h). */
#ifndef CNN_SAFETENSORS_H
#define CNN_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"
#include "tensor.h"

/* Headers longer than this are refused (the format's own limit). */
#define CNN_SAFETENSORS_MAX_HEADER 100000000u

typedef struct cnn_safetensor_entry {
    char *name;
    cnn_dtype dtype;
    int ndims;
    int64_t size[CNN_MAX_DIMS]; /* our sizes: the file's shape reversed */
    uint64_t begin, end;        /* byte range in the data section */
} cnn_safetensor_entry;

typedef struct cnn_safetensors {
    int count;
    cnn_safetensor_entry *entries; /* in the order of the file */
    int meta_count;
    char **meta_keys, **meta_values;
    const uint8_t *data; /* the data section */
    size_t data_len;
    uint8_t *owned; /* the file contents, when read from a file */
} cnn_safetensors;

/* Parses and checks a file image in memory; st->data points into buf.
 * 'name' starts every error message. Release with cnn_safetensors_free
 * even on error. */
cnn_status cnn_safetensors_parse(const uint8_t *buf, size_t len, const char *name,
                                 cnn_safetensors *st);
cnn_status cnn_safetensors_read(const char *path, cnn_safetensors *st);
void cnn_safetensors_free(cnn_safetensors *st);

/* Fails, naming the tensor, the element (1-based, in storage order) and
 * the value, if a Float32 entry holds a NaN or an infinity. */
cnn_status cnn_safetensors_check_finite(const cnn_safetensors *st, const char *name);

/* Copies entry i into 'out' (contiguous, same dtype and element count). */
cnn_status cnn_safetensors_copy(const cnn_safetensors *st, int i, cnn_tensor *out);

/* Whether the n bytes at s are UTF-8 as the format requires (no overlong
 * forms, no surrogates, nothing above U+10FFFF); NUL bytes are valid here. */
bool cnn_utf8_valid(const char *s, size_t n);

typedef struct cnn_named_tensor {
    const char *name;
    const cnn_tensor *tensor;
} cnn_named_tensor;

/* Writes the tensors and optional string metadata (meta_count key/value
 * pairs), both in name order, to 'path' atomically. Refuses freed tensors,
 * repeated names, the name __metadata__ and text that is not UTF-8. */
cnn_status cnn_safetensors_write(const char *path, const cnn_named_tensor *items,
                                 int count, const char *const *meta_keys,
                                 const char *const *meta_values, int meta_count);

#endif

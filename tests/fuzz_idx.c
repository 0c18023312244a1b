/* libFuzzer target: the IDX parser (raw and gzip) and the conversion to a
 * tensor, on arbitrary bytes. Nothing may read outside the input, leak or
 * crash; parse errors are expected. */
#include <stddef.h>
#include <stdint.h>

#include "idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cnn_idx idx;
    if (cnn_idx_parse(data, size, "fuzz", &idx) != CNN_OK) {
        cnn_idx_free(&idx);
        return 0;
    }
    int64_t sizes[CNN_MAX_DIMS];
    cnn_idx_tensor_sizes(&idx, sizes);
    cnn_tensor t;
    cnn_storage st;
    if (cnn_tensor_init(&t, CNN_FLOAT32, idx.ndims, sizes) == CNN_OK &&
        cnn_storage_alloc(&st, cnn_tensor_bytes(&t)) == CNN_OK) {
        t.storage = &st;
        cnn_idx_to_tensor(&idx, 1.0 / 255, &t);
        t.dtype = CNN_INT32;
        cnn_idx_to_tensor(&idx, 1.0, &t);
        cnn_storage_free(&st);
    }
    cnn_idx_free(&idx);
    return 0;
}

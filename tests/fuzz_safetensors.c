/* libFuzzer target: the safetensors reader (header JSON, names, shapes and
 * the checks that the tensors tile the data section) on arbitrary bytes.
 * Nothing may read outside the input, leak or crash; refusals are
 * expected. What the reader accepts must hold what it promises, else the
 * target aborts: names of valid UTF-8, tensors that cover the data exactly,
 * entries that copy into tensors of their sizes byte for byte.
 *
 * LLVMFuzzerInitialize writes a few valid files, made by the writer, into
 * the first corpus directory on the command line, as seeds. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "safetensors.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ===== seeds ===== */

/* A tensor of the given sizes with its own storage, elements 0.5, 1.5, ... */
static bool make_tensor(cnn_tensor *t, cnn_storage *s, cnn_dtype dtype, int ndims,
                        const int64_t *size)
{
    if (cnn_tensor_init(t, dtype, ndims, size) != CNN_OK ||
        cnn_storage_alloc(s, cnn_tensor_bytes(t)) != CNN_OK)
        return false;
    t->storage = s;
    float *f = s->data;
    for (size_t i = 0; dtype == CNN_FLOAT32 && i < cnn_tensor_bytes(t) / 4; i++)
        f[i] = (float)i + 0.5f;
    return true;
}

static void write_seeds(const char *corpus)
{
    static const int64_t image[4] = {3, 2, 2, 1}, labels[1] = {4}, empty[2] = {0, 3};
    cnn_tensor t[4];
    cnn_storage s[4];
    bool ok = make_tensor(&t[0], &s[0], CNN_FLOAT32, 4, image) &&
              make_tensor(&t[1], &s[1], CNN_INT32, 1, labels) &&
              make_tensor(&t[2], &s[2], CNN_FLOAT32, 0, NULL) &&
              make_tensor(&t[3], &s[3], CNN_FLOAT32, 2, empty);
    const cnn_named_tensor items[4] = {{"conv.weight", &t[0]},
                                       {"labels", &t[1]},
                                       {"scale \"\xc3\xa9\"", &t[2]},
                                       {"empty\n", &t[3]}};
    const char *keys[2] = {"format", "model"};
    const char *values[2] = {"cnnlua model state", "Chain(\n  Dense(2 => 3),\n)"};
    char path[4096];
    snprintf(path, sizeof path, "%s/seed-model.safetensors", corpus);
    if (ok && cnn_safetensors_write(path, items, 4, keys, values, 2) != CNN_OK)
        fprintf(stderr, "seed %s: %s\n", path, cnn_error_message());
    snprintf(path, sizeof path, "%s/seed-one.safetensors", corpus);
    if (ok && cnn_safetensors_write(path, items, 1, NULL, NULL, 0) != CNN_OK)
        fprintf(stderr, "seed %s: %s\n", path, cnn_error_message());
    snprintf(path, sizeof path, "%s/seed-empty.safetensors", corpus);
    if (cnn_safetensors_write(path, NULL, 0, keys, values, 1) != CNN_OK)
        fprintf(stderr, "seed %s: %s\n", path, cnn_error_message());
    for (int i = 0; i < 4; i++)
        if (ok)
            cnn_storage_free(&s[i]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    for (int i = 1; i < *argc; i++) {
        struct stat sb;
        const char *arg = (*argv)[i];
        if (arg[0] != '-' && stat(arg, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            write_seeds(arg);
            break;
        }
    }
    return 0;
}

/* ===== what an accepted file promises ===== */

static void require(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "accepted a file that breaks a promise: %s\n", what);
        abort();
    }
}

static bool overlap(const cnn_safetensor_entry *a, const cnn_safetensor_entry *b)
{
    return a->begin < a->end && b->begin < b->end && a->begin < b->end &&
           b->begin < a->end;
}

static void check_tiling(const cnn_safetensors *st)
{
    uint64_t total = 0;
    for (int i = 0; i < st->count; i++) {
        const cnn_safetensor_entry *e = &st->entries[i];
        require(e->begin <= e->end && e->end <= st->data_len, "range inside the data");
        total += e->end - e->begin;
        for (int j = 0; j < i && st->count <= 64; j++)
            require(!overlap(e, &st->entries[j]), "no overlap");
    }
    require(total == st->data_len, "tensors cover the data exactly");
}

static void check_text(const cnn_safetensors *st)
{
    for (int i = 0; i < st->count; i++)
        require(cnn_utf8_valid(st->entries[i].name, strlen(st->entries[i].name)),
                "UTF-8 name");
    for (int i = 0; i < st->meta_count; i++)
        require(cnn_utf8_valid(st->meta_keys[i], strlen(st->meta_keys[i])) &&
                    cnn_utf8_valid(st->meta_values[i], strlen(st->meta_values[i])),
                "UTF-8 metadata");
}

/* Sizes that the tensor code refuses (over 2^37 elements in a zero-element
 * tensor) are a refusal there, not a broken promise. */
static void check_copies(const cnn_safetensors *st)
{
    for (int i = 0; i < st->count; i++) {
        const cnn_safetensor_entry *e = &st->entries[i];
        cnn_tensor t;
        cnn_storage s;
        if (cnn_tensor_init(&t, e->dtype, e->ndims, e->size) != CNN_OK)
            continue;
        require(cnn_tensor_bytes(&t) == e->end - e->begin, "byte count of the shape");
        if (cnn_storage_alloc(&s, cnn_tensor_bytes(&t)) != CNN_OK)
            continue;
        t.storage = &s;
        require(cnn_safetensors_copy(st, i, &t) == CNN_OK, "entry copies");
        require(memcmp(s.data, st->data + e->begin, e->end - e->begin) == 0,
                "same bytes");
        cnn_storage_free(&s);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cnn_safetensors st;
    if (cnn_safetensors_parse(data, size, "fuzz", &st) == CNN_OK) {
        check_tiling(&st);
        check_text(&st);
        check_copies(&st);
        cnn_safetensors_check_finite(&st, "fuzz");
    }
    cnn_safetensors_free(&st);
    return 0;
}

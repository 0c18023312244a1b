/* Writing safetensors files: the header in name order, then the tensors'
 * bytes in the same order, through an atomically replaced file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "safetensors.h"

/* ===== what is written ===== */

typedef struct meta_pair {
    const char *key, *value;
} meta_pair;

static int compare_items(const void *a, const void *b)
{
    return strcmp(((const cnn_named_tensor *)a)->name,
                  ((const cnn_named_tensor *)b)->name);
}

static int compare_pairs(const void *a, const void *b)
{
    return strcmp(((const meta_pair *)a)->key, ((const meta_pair *)b)->key);
}

static bool is_utf8(const char *s) { return cnn_utf8_valid(s, strlen(s)); }

static cnn_status check_item(const cnn_named_tensor *item)
{
    if (!is_utf8(item->name))
        return cnn_fail(CNN_ERR_ARG, "tensor name '%.64s' is not valid UTF-8",
                        item->name);
    if (strcmp(item->name, "__metadata__") == 0)
        return cnn_fail(CNN_ERR_ARG, "the name __metadata__ is reserved");
    if (!cnn_tensor_data(item->tensor))
        return cnn_fail(CNN_ERR_ARG, "tensor '%s' was freed", item->name);
    if (item->tensor->dtype != CNN_FLOAT32 && item->tensor->dtype != CNN_INT32)
        return cnn_fail(CNN_ERR_ARG, "tensor '%s': only Float32 and Int32 can be saved",
                        item->name);
    return CNN_OK;
}

/* The tensors sorted by name, checked; *sorted is NULL on failure. */
static cnn_status sorted_items(const cnn_named_tensor *items, int count,
                               cnn_named_tensor **sorted)
{
    *sorted = malloc((size_t)(count ? count : 1) * sizeof **sorted);
    if (!*sorted)
        return cnn_fail(CNN_ERR_NOMEM, "out of memory");
    if (count > 0)
        memcpy(*sorted, items, (size_t)count * sizeof **sorted);
    qsort(*sorted, (size_t)count, sizeof **sorted, compare_items);
    cnn_status s = CNN_OK;
    for (int i = 0; s == CNN_OK && i < count; i++) {
        s = check_item(&(*sorted)[i]);
        if (s == CNN_OK && i > 0 && strcmp((*sorted)[i - 1].name, (*sorted)[i].name) == 0)
            s = cnn_fail(CNN_ERR_ARG, "tensor name '%s' appears twice",
                         (*sorted)[i].name);
    }
    if (s != CNN_OK) {
        free(*sorted);
        *sorted = NULL;
    }
    return s;
}

/* The metadata sorted by key, checked; *sorted is NULL on failure. */
static cnn_status sorted_metadata(const char *const *keys, const char *const *values,
                                  int count, meta_pair **sorted)
{
    *sorted = malloc((size_t)(count ? count : 1) * sizeof **sorted);
    if (!*sorted)
        return cnn_fail(CNN_ERR_NOMEM, "out of memory");
    for (int i = 0; i < count; i++)
        (*sorted)[i] = (meta_pair){keys[i], values[i]};
    qsort(*sorted, (size_t)count, sizeof **sorted, compare_pairs);
    cnn_status s = CNN_OK;
    for (int i = 0; s == CNN_OK && i < count; i++) {
        const meta_pair *p = &(*sorted)[i];
        if (!is_utf8(p->key) || !is_utf8(p->value))
            s = cnn_fail(CNN_ERR_ARG, "metadata '%.64s' is not valid UTF-8", p->key);
        else if (i > 0 && strcmp(p[-1].key, p->key) == 0)
            s = cnn_fail(CNN_ERR_ARG, "metadata key '%s' appears twice", p->key);
    }
    if (s != CNN_OK) {
        free(*sorted);
        *sorted = NULL;
    }
    return s;
}

/* ===== the header ===== */

typedef struct text {
    char *buf;
    size_t len, cap;
    bool failed;
} text;

static void append(text *t, const char *s, size_t n)
{
    if (t->failed)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->len + n + 1) * 2;
        char *grown = realloc(t->buf, cap);
        if (!grown) {
            t->failed = true;
            return;
        }
        t->buf = grown;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

static void append_str(text *t, const char *s) { append(t, s, strlen(s)); }

static void append_json_string(text *t, const char *s)
{
    static const char plain[] = "\"\\\b\f\n\r\t", escaped[] = "\"\\bfnrt";
    append_str(t, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        const char *hit = strchr(plain, c);
        char esc[8];
        if (hit) {
            esc[0] = '\\';
            esc[1] = escaped[hit - plain];
            append(t, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            append_str(t, esc);
        } else {
            append(t, (const char *)&c, 1);
        }
    }
    append_str(t, "\"");
}

static void append_entry(text *t, const cnn_named_tensor *item, uint64_t begin)
{
    const cnn_tensor *x = item->tensor;
    char num[64];
    append_json_string(t, item->name);
    append_str(t, x->dtype == CNN_INT32 ? ":{\"dtype\":\"I32\",\"shape\":["
                                        : ":{\"dtype\":\"F32\",\"shape\":[");
    for (int d = x->ndims - 1; d >= 0; d--) {
        snprintf(num, sizeof num, "%s%lld", d < x->ndims - 1 ? "," : "",
                 (long long)x->size[d]);
        append_str(t, num);
    }
    snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}",
             (unsigned long long)begin,
             (unsigned long long)(begin + cnn_tensor_bytes(x)));
    append_str(t, num);
}

static void append_metadata(text *t, const meta_pair *meta, int meta_count)
{
    append_str(t, "\"__metadata__\":{");
    for (int i = 0; i < meta_count; i++) {
        append_str(t, i ? "," : "");
        append_json_string(t, meta[i].key);
        append_str(t, ":");
        append_json_string(t, meta[i].value);
    }
    append_str(t, "}");
}

/* The header JSON, padded with spaces so the data starts 8-byte aligned:
 * the metadata first, then the tensors in name order. */
static cnn_status build_header(text *t, const cnn_named_tensor *items, int count,
                               const meta_pair *meta, int meta_count)
{
    append_str(t, "{");
    if (meta_count > 0) {
        append_metadata(t, meta, meta_count);
        append_str(t, count ? "," : "");
    }
    uint64_t offset = 0;
    for (int i = 0; i < count; i++) {
        append_str(t, i ? "," : "");
        append_entry(t, &items[i], offset);
        offset += cnn_tensor_bytes(items[i].tensor);
    }
    append_str(t, "}");
    while (!t->failed && t->len % 8 != 0)
        append_str(t, " ");
    if (t->failed)
        return cnn_fail(CNN_ERR_NOMEM, "out of memory building the header");
    if (t->len > CNN_SAFETENSORS_MAX_HEADER)
        return cnn_fail(CNN_ERR_ARG,
                        "the header would be %zu bytes, over the format's "
                        "limit of %u",
                        t->len, CNN_SAFETENSORS_MAX_HEADER);
    return CNN_OK;
}

/* ===== the file ===== */

/* Non-contiguous tensors go through a contiguous copy. */
static cnn_status write_tensor(cnn_atomic_file *f, const cnn_tensor *x)
{
    size_t bytes = cnn_tensor_bytes(x);
    if (bytes == 0)
        return CNN_OK;
    if (cnn_tensor_is_contiguous(x))
        return cnn_atomic_write(f, cnn_tensor_data(x), bytes);
    cnn_storage tmp;
    cnn_tensor dense;
    cnn_status s = cnn_tensor_init(&dense, x->dtype, x->ndims, x->size);
    if (s == CNN_OK)
        s = cnn_storage_alloc_uninit(&tmp, bytes);
    if (s != CNN_OK)
        return s;
    dense.storage = &tmp;
    s = cnn_tensor_copy(&dense, x);
    if (s == CNN_OK)
        s = cnn_atomic_write(f, tmp.data, bytes);
    cnn_storage_free(&tmp);
    return s;
}

static cnn_status write_contents(cnn_atomic_file *f, const text *header,
                                 const cnn_named_tensor *items, int count)
{
    uint8_t len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)((uint64_t)header->len >> (8 * i));
    cnn_status s = cnn_atomic_write(f, len, 8);
    if (s == CNN_OK)
        s = cnn_atomic_write(f, header->buf, header->len);
    for (int i = 0; s == CNN_OK && i < count; i++)
        s = write_tensor(f, items[i].tensor);
    return s;
}

static cnn_status write_file(const char *path, const text *header,
                             const cnn_named_tensor *items, int count)
{
    cnn_atomic_file f;
    cnn_status s = cnn_atomic_open(&f, path);
    if (s != CNN_OK)
        return s;
    s = write_contents(&f, header, items, count);
    if (s != CNN_OK) {
        cnn_atomic_abort(&f);
        return s;
    }
    return cnn_atomic_commit(&f);
}

cnn_status cnn_safetensors_write(const char *path, const cnn_named_tensor *items,
                                 int count, const char *const *meta_keys,
                                 const char *const *meta_values, int meta_count)
{
    if (count < 0 || meta_count < 0)
        return cnn_fail(CNN_ERR_ARG, "negative count");
    cnn_named_tensor *sorted = NULL;
    meta_pair *meta = NULL;
    text header = {0};
    cnn_status s = sorted_items(items, count, &sorted);
    if (s == CNN_OK)
        s = sorted_metadata(meta_keys, meta_values, meta_count, &meta);
    if (s == CNN_OK)
        s = build_header(&header, sorted, count, meta, meta_count);
    if (s == CNN_OK)
        s = write_file(path, &header, sorted, count);
    free(header.buf);
    free(meta);
    free(sorted);
    return s;
}

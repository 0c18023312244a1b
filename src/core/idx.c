#include "idx.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define IDX_MAX_HEADER (4 + 4 * CNN_MAX_DIMS)

/* ===== header ===== */

static size_t element_size(int type)
{
    switch (type) {
    case CNN_IDX_UBYTE:
    case CNN_IDX_SBYTE: return 1;
    case CNN_IDX_INT16: return 2;
    case CNN_IDX_INT32:
    case CNN_IDX_FLOAT32: return 4;
    case CNN_IDX_FLOAT64: return 8;
    default: return 0;
    }
}

const char *cnn_idx_type_name(int type)
{
    switch (type) {
    case CNN_IDX_UBYTE: return "ubyte";
    case CNN_IDX_SBYTE: return "sbyte";
    case CNN_IDX_INT16: return "int16";
    case CNN_IDX_INT32: return "int32";
    case CNN_IDX_FLOAT32: return "float32";
    case CNN_IDX_FLOAT64: return "float64";
    default: return "unknown";
    }
}

static uint32_t be_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Checks the four magic bytes: 00 00 <type> <ndims>. */
static cnn_status check_magic(const uint8_t *h, size_t len, const char *name)
{
    if (len < 4)
        return cnn_fail(CNN_ERR_FORMAT, "%s: too short for an IDX header (%zu bytes)",
                        name, len);
    if (h[0] != 0 || h[1] != 0)
        return cnn_fail(CNN_ERR_FORMAT,
                        "%s: bad magic %02x %02x %02x %02x (an IDX file starts "
                        "with 00 00 <type> <ndims>)",
                        name, h[0], h[1], h[2], h[3]);
    if (!element_size(h[2]))
        return cnn_fail(CNN_ERR_FORMAT,
                        "%s: unsupported element type 0x%02x (IDX types are 0x08 "
                        "ubyte, 0x09 sbyte, 0x0b int16, 0x0c int32, 0x0d float32, "
                        "0x0e float64)",
                        name, h[2]);
    if (h[3] < 1 || h[3] > CNN_MAX_DIMS)
        return cnn_fail(CNN_ERR_FORMAT, "%s: %d dimensions (1 to %d supported)", name,
                        h[3], CNN_MAX_DIMS);
    return CNN_OK;
}

/* Reads the dimensions after a valid magic; 'len' bytes are available. */
static cnn_status parse_dims(const uint8_t *h, size_t len, const char *name, cnn_idx *idx)
{
    int ndims = h[3];
    size_t header = 4 + 4 * (size_t)ndims;
    if (len < header)
        return cnn_fail(CNN_ERR_FORMAT,
                        "%s: truncated header: %d dimensions need %zu bytes, file "
                        "has %zu",
                        name, ndims, header, len);
    idx->type = h[2];
    idx->ndims = ndims;
    idx->elem_size = element_size(h[2]);
    /* the byte count of the Float32 tensor must stay representable */
    const int64_t limit = INT64_MAX / 8;
    int64_t count = 1;
    for (int d = 0; d < ndims; d++) {
        int64_t dim = be_u32(h + 4 + 4 * d);
        if (dim == 0)
            return cnn_fail(CNN_ERR_FORMAT, "%s: dimension %d is 0", name, d + 1);
        if (count > limit / dim)
            return cnn_fail(CNN_ERR_FORMAT,
                            "%s: dimensions too large (element count overflows)", name);
        count *= dim;
        idx->dims[d] = dim;
    }
    idx->count = count;
    return CNN_OK;
}

static size_t header_bytes(const cnn_idx *idx) { return 4 + 4 * (size_t)idx->ndims; }

static size_t declared_bytes(const cnn_idx *idx)
{
    return (size_t)idx->count * idx->elem_size;
}

static cnn_status check_data_length(const cnn_idx *idx, const char *name, size_t actual,
                                    bool more)
{
    size_t declared = declared_bytes(idx);
    if (actual == declared && !more)
        return CNN_OK;
    return cnn_fail(CNN_ERR_FORMAT,
                    "%s: %s: header declares %zu bytes of data, file has %s%zu", name,
                    actual < declared ? "truncated" : "oversized", declared,
                    more ? "more than " : "", actual);
}

/* ===== gzip ===== */

typedef struct inflater {
    z_stream zs;
    const char *name;
    bool ended;
} inflater;

static cnn_status gz_error(inflater *in, int ret)
{
    if (ret == Z_MEM_ERROR)
        return cnn_fail(CNN_ERR_NOMEM, "%s: gzip: out of memory", in->name);
    if (ret == Z_BUF_ERROR)
        return cnn_fail(CNN_ERR_FORMAT, "%s: gzip: compressed data ends early", in->name);
    return cnn_fail(CNN_ERR_FORMAT, "%s: gzip: %s", in->name,
                    in->zs.msg ? in->zs.msg : "corrupt data");
}

/* A stream end followed by another 1f 8b starts the next member, as gzip
 * concatenates them; anything else after the end is garbage. */
static cnn_status gz_member_end(inflater *in)
{
    z_stream *zs = &in->zs;
    if (zs->avail_in == 0) {
        in->ended = true;
        return CNN_OK;
    }
    if (zs->avail_in >= 2 && zs->next_in[0] == 0x1f && zs->next_in[1] == 0x8b) {
        inflateReset(zs);
        return CNN_OK;
    }
    return cnn_fail(CNN_ERR_FORMAT, "%s: gzip: %u bytes of garbage after the data",
                    in->name, zs->avail_in);
}

/* Inflates up to 'want' bytes into dst; fewer only at the end of the data. */
static cnn_status gz_read(inflater *in, uint8_t *dst, size_t want, size_t *got)
{
    z_stream *zs = &in->zs;
    *got = 0;
    while (*got < want && !in->ended) {
        size_t chunk = want - *got;
        zs->next_out = dst + *got;
        zs->avail_out = chunk > (1u << 30) ? (1u << 30) : (uInt)chunk;
        uInt before = zs->avail_out;
        int ret = inflate(zs, Z_NO_FLUSH);
        *got += before - zs->avail_out;
        if (ret == Z_STREAM_END) {
            cnn_status s = gz_member_end(in);
            if (s != CNN_OK)
                return s;
        } else if (ret != Z_OK) {
            return gz_error(in, ret);
        }
    }
    return CNN_OK;
}

/* Counts what is left after the declared data, up to a bound, so that an
 * oversized file is reported with its size but a gzip bomb stays cheap. */
static cnn_status gz_count_rest(inflater *in, size_t *rest, bool *more)
{
    static const size_t bound = (size_t)1 << 30;
    uint8_t scratch[16384];
    *rest = 0;
    while (!in->ended && *rest <= bound) {
        size_t got;
        cnn_status s = gz_read(in, scratch, sizeof scratch, &got);
        if (s != CNN_OK)
            return s;
        *rest += got;
    }
    *more = !in->ended;
    return CNN_OK;
}

/* Inflates the data, growing the buffer as bytes arrive (never past the
 * declared size plus one byte, which tells an oversized file). */
static cnn_status gz_read_data(inflater *in, cnn_idx *idx, size_t hint)
{
    size_t declared = declared_bytes(idx), cap = declared + 1, have = 0;
    size_t size = hint < cap ? hint : cap;
    uint8_t *buf = malloc(size);
    for (;;) {
        if (!buf)
            return cnn_fail(CNN_ERR_NOMEM, "%s: out of memory inflating", in->name);
        size_t got;
        cnn_status s = gz_read(in, buf + have, size - have, &got);
        have += got;
        if (s != CNN_OK || in->ended || have == cap) {
            idx->owned = buf;
            if (s != CNN_OK)
                return s;
            break;
        }
        size = size > cap / 2 ? cap : size * 2;
        uint8_t *grown = realloc(buf, size);
        if (!grown)
            free(buf);
        buf = grown;
    }
    size_t rest = 0;
    bool more = false;
    if (have == cap) {
        cnn_status s = gz_count_rest(in, &rest, &more);
        if (s != CNN_OK)
            return s;
    }
    idx->data = idx->owned;
    return check_data_length(idx, in->name, have + rest, more);
}

static cnn_status gz_parse(inflater *in, size_t len, cnn_idx *idx)
{
    uint8_t head[IDX_MAX_HEADER];
    size_t got, more;
    cnn_status s = gz_read(in, head, 4, &got);
    if (s == CNN_OK)
        s = check_magic(head, got, in->name);
    if (s == CNN_OK)
        s = gz_read(in, head + 4, 4 * (size_t)head[3], &more);
    if (s == CNN_OK)
        s = parse_dims(head, 4 + more, in->name, idx);
    if (s == CNN_OK)
        s = gz_read_data(in, idx, len * 4 + 65536);
    return s;
}

static cnn_status parse_gzip(const uint8_t *buf, size_t len, const char *name,
                             cnn_idx *idx)
{
    if (len > UINT_MAX)
        return cnn_fail(CNN_ERR_FORMAT, "%s: gzip: compressed file over 4 GiB", name);
    inflater in = {.name = name};
    in.zs.next_in = (Bytef *)buf;
    in.zs.avail_in = (uInt)len;
    if (inflateInit2(&in.zs, 16 + MAX_WBITS) != Z_OK)
        return cnn_fail(CNN_ERR_NOMEM, "%s: gzip: cannot initialise zlib", name);
    cnn_status s = gz_parse(&in, len, idx);
    inflateEnd(&in.zs);
    if (s != CNN_OK)
        cnn_idx_free(idx);
    return s;
}

/* ===== entry points ===== */

static bool is_gzip(const uint8_t *buf, size_t len)
{
    return len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b;
}

cnn_status cnn_idx_parse(const uint8_t *buf, size_t len, const char *name, cnn_idx *idx)
{
    memset(idx, 0, sizeof *idx);
    if (is_gzip(buf, len))
        return parse_gzip(buf, len, name, idx);
    cnn_status s = check_magic(buf, len, name);
    if (s == CNN_OK)
        s = parse_dims(buf, len, name, idx);
    if (s == CNN_OK)
        s = check_data_length(idx, name, len - header_bytes(idx), false);
    if (s == CNN_OK)
        idx->data = buf + header_bytes(idx);
    return s;
}

void cnn_idx_free(cnn_idx *idx)
{
    free(idx->owned);
    idx->owned = NULL;
    idx->data = NULL;
}

static cnn_status read_exactly(FILE *f, void *dst, size_t n, const char *path)
{
    if (fread(dst, 1, n, f) != n)
        return cnn_fail(CNN_ERR_IO, "%s: read error: %s", path,
                        ferror(f) ? strerror(errno) : "file shrank while reading");
    return CNN_OK;
}

static cnn_status read_gzip_file(FILE *f, size_t size, const char *path, cnn_idx *idx)
{
    uint8_t *packed = malloc(size);
    if (!packed)
        return cnn_fail(CNN_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, size);
    cnn_status s = read_exactly(f, packed, size, path);
    if (s == CNN_OK)
        s = cnn_idx_parse(packed, size, path, idx);
    free(packed);
    return s;
}

/* Raw files are checked from the header and the file size before the data
 * is read, so a wrong file costs nothing. */
static cnn_status read_raw_file(FILE *f, size_t size, const char *path, cnn_idx *idx)
{
    uint8_t head[IDX_MAX_HEADER];
    size_t n = size < sizeof head ? size : sizeof head;
    cnn_status s = read_exactly(f, head, n, path);
    if (s == CNN_OK)
        s = check_magic(head, n, path);
    if (s == CNN_OK)
        s = parse_dims(head, n, path, idx);
    if (s == CNN_OK)
        s = check_data_length(idx, path, size - header_bytes(idx), false);
    if (s != CNN_OK)
        return s;
    size_t bytes = declared_bytes(idx);
    idx->owned = malloc(bytes);
    if (!idx->owned)
        return cnn_fail(CNN_ERR_NOMEM, "%s: out of memory reading %zu bytes", path,
                        bytes);
    idx->data = idx->owned;
    if (fseek(f, (long)header_bytes(idx), SEEK_SET) != 0)
        return cnn_fail(CNN_ERR_IO, "%s: seek failed: %s", path, strerror(errno));
    return read_exactly(f, idx->owned, bytes, path);
}

cnn_status cnn_idx_read(const char *path, cnn_idx *idx)
{
    memset(idx, 0, sizeof *idx);
    FILE *f = fopen(path, "rb");
    if (!f)
        return cnn_fail(CNN_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    cnn_status s = CNN_OK;
    if (fstat(fileno(f), &st) != 0)
        s = cnn_fail(CNN_ERR_IO, "%s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        s = cnn_fail(CNN_ERR_IO, "%s: not a regular file", path);
    uint8_t magic[2] = {0, 0};
    size_t size = (size_t)st.st_size;
    if (s == CNN_OK && size >= 2)
        s = read_exactly(f, magic, 2, path);
    if (s == CNN_OK && fseek(f, 0, SEEK_SET) != 0)
        s = cnn_fail(CNN_ERR_IO, "%s: seek failed: %s", path, strerror(errno));
    if (s == CNN_OK)
        s = is_gzip(magic, size) ? read_gzip_file(f, size, path, idx)
                                 : read_raw_file(f, size, path, idx);
    fclose(f);
    if (s != CNN_OK)
        cnn_idx_free(idx);
    return s;
}

/* ===== conversion ===== */

void cnn_idx_tensor_sizes(const cnn_idx *idx, int64_t *size)
{
    for (int d = 0; d < idx->ndims; d++)
        size[d] = idx->dims[idx->ndims - 1 - d];
}

static double element_at(const cnn_idx *idx, int64_t i)
{
    const uint8_t *p = idx->data + i * (int64_t)idx->elem_size;
    switch (idx->type) {
    case CNN_IDX_UBYTE: return p[0];
    case CNN_IDX_SBYTE: return (int8_t)p[0];
    case CNN_IDX_INT16: return (int16_t)(uint16_t)(p[0] << 8 | p[1]);
    case CNN_IDX_INT32: return (int32_t)be_u32(p);
    case CNN_IDX_FLOAT32: {
        uint32_t u = be_u32(p);
        float v;
        memcpy(&v, &u, sizeof v);
        return v;
    }
    default: {
        uint64_t u = (uint64_t)be_u32(p) << 32 | be_u32(p + 4);
        double v;
        memcpy(&v, &u, sizeof v);
        return v;
    }
    }
}

/* Bytes go through a 256-entry table: the common case (MNIST) is then one
 * load per element. */
static void bytes_to_float(const cnn_idx *idx, double scale, float *out)
{
    float table[256];
    for (int v = 0; v < 256; v++)
        table[v] = (float)((idx->type == CNN_IDX_SBYTE ? (int8_t)v : v) * scale);
    const uint8_t *in = idx->data;
    int64_t n = idx->count;
#pragma omp parallel for if (n > 32768) schedule(static)
    for (int64_t i = 0; i < n; i++)
        out[i] = table[in[i]];
}

static void elements_to_float(const cnn_idx *idx, double scale, float *out)
{
    int64_t n = idx->count;
#pragma omp parallel for if (n > 32768) schedule(static)
    for (int64_t i = 0; i < n; i++)
        out[i] = (float)(element_at(idx, i) * scale);
}

static void elements_to_int(const cnn_idx *idx, int32_t *out)
{
    int64_t n = idx->count;
#pragma omp parallel for if (n > 32768) schedule(static)
    for (int64_t i = 0; i < n; i++)
        out[i] = (int32_t)element_at(idx, i);
}

cnn_status cnn_idx_to_tensor(const cnn_idx *idx, double scale, cnn_tensor *out)
{
    if (!cnn_tensor_is_contiguous(out) || cnn_tensor_numel(out) != idx->count ||
        !cnn_tensor_data(out))
        return cnn_fail(CNN_ERR_SHAPE,
                        "output must be a contiguous tensor of %lld elements",
                        (long long)idx->count);
    if (out->dtype == CNN_INT32) {
        if (idx->type == CNN_IDX_FLOAT32 || idx->type == CNN_IDX_FLOAT64)
            return cnn_fail(CNN_ERR_ARG,
                            "Int32 output needs integer data, the file has %s",
                            cnn_idx_type_name(idx->type));
        if (scale != 1.0)
            return cnn_fail(CNN_ERR_ARG, "Int32 output cannot be scaled");
        elements_to_int(idx, cnn_tensor_i32(out));
    } else if (idx->elem_size == 1) {
        bytes_to_float(idx, scale, cnn_tensor_f32(out));
    } else {
        elements_to_float(idx, scale, cnn_tensor_f32(out));
    }
    return CNN_OK;
}

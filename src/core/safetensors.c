#include "safetensors.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ===== a small JSON reader, just enough for the header ===== */

typedef struct parser {
    const char *start, *p, *end;
    const char *name;
} parser;

static cnn_status syntax(parser *ps, const char *what)
{
    return cnn_fail(CNN_ERR_FORMAT, "%s: bad safetensors header: %s at byte %td",
                    ps->name, what, ps->p - ps->start);
}

static void skip_space(parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

/* Skips space, then consumes 'c' if it comes next. */
static bool accept(parser *ps, char c)
{
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == c) {
        ps->p++;
        return true;
    }
    return false;
}

static cnn_status expect(parser *ps, char c)
{
    if (accept(ps, c))
        return CNN_OK;
    char what[32];
    snprintf(what, sizeof what, "expected '%c'", c);
    return syntax(ps, what);
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool read_hex4(parser *ps, unsigned *v)
{
    if (ps->end - ps->p < 4)
        return false;
    *v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(ps->p[i]);
        if (d < 0)
            return false;
        *v = *v << 4 | (unsigned)d;
    }
    ps->p += 4;
    return true;
}

static size_t put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6); out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12); out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18); out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F)); out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* \uXXXX, with a surrogate pair when the first half asks for one. */
static cnn_status unicode_escape(parser *ps, char *out, size_t *n)
{
    unsigned cp, low;
    if (!read_hex4(ps, &cp))
        return syntax(ps, "bad \\u escape");
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return syntax(ps, "unpaired surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
            return syntax(ps, "unpaired surrogate");
        ps->p += 2;
        if (!read_hex4(ps, &low) || low < 0xDC00 || low > 0xDFFF)
            return syntax(ps, "unpaired surrogate");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    *n += put_utf8(out + *n, cp);
    return CNN_OK;
}

static cnn_status escape(parser *ps, char *out, size_t *n)
{
    if (ps->p >= ps->end)
        return syntax(ps, "unterminated string");
    char c = *ps->p++;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *hit = c ? strchr(from, c) : NULL;
    if (hit) {
        out[(*n)++] = to[hit - from];
        return CNN_OK;
    }
    if (c == 'u')
        return unicode_escape(ps, out, n);
    ps->p--;
    return syntax(ps, "bad escape");
}

/* A JSON string, decoded into a new NUL-terminated buffer. Decoding never
 * lengthens the text, so the raw length bounds the buffer. */
static cnn_status parse_string(parser *ps, char **result)
{
    cnn_status s = expect(ps, '"');
    if (s != CNN_OK)
        return s;
    const char *close = ps->p;
    while (close < ps->end && *close != '"')
        close += *close == '\\' && close + 1 < ps->end ? 2 : 1;
    if (close >= ps->end)
        return syntax(ps, "unterminated string");
    char *out = malloc((size_t)(close - ps->p) + 1);
    if (!out)
        return cnn_fail(CNN_ERR_NOMEM, "%s: out of memory", ps->name);
    size_t n = 0;
    while (s == CNN_OK && *ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p++;
        if (c < 0x20) {
            ps->p--;
            s = syntax(ps, "control character in string");
        } else if (c == '\\')
            s = escape(ps, out, &n);
        else
            out[n++] = (char)c;
    }
    ps->p++;
    out[n] = '\0';
    if (s != CNN_OK)
        free(out);
    else
        *result = out;
    return s;
}

static cnn_status parse_uint(parser *ps, uint64_t *v)
{
    skip_space(ps);
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
        return syntax(ps, "expected a non-negative integer");
    *v = 0;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
        unsigned d = (unsigned)(*ps->p - '0');
        if (*v > (UINT64_MAX - d) / 10)
            return syntax(ps, "integer too large");
        *v = *v * 10 + d;
        ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E'))
        return syntax(ps, "expected an integer");
    return CNN_OK;
}

/* [a, b, ...] of at most 'max' non-negative integers. */
static cnn_status parse_uint_array(parser *ps, uint64_t *vals, int max, int *n)
{
    cnn_status s = expect(ps, '[');
    *n = 0;
    if (s != CNN_OK || accept(ps, ']'))
        return s;
    do {
        if (*n == max)
            return syntax(ps, "too many dimensions");
        s = parse_uint(ps, &vals[(*n)++]);
    } while (s == CNN_OK && accept(ps, ','));
    return s == CNN_OK ? expect(ps, ']') : s;
}

/* ===== header structure ===== */

static cnn_status entry_error(parser *ps, const char *entry, const char *what)
{
    return cnn_fail(CNN_ERR_FORMAT, "%s: tensor '%s': %s", ps->name, entry, what);
}

static cnn_status parse_dtype(parser *ps, cnn_safetensor_entry *e)
{
    char *dtype = NULL;
    cnn_status s = parse_string(ps, &dtype);
    if (s != CNN_OK)
        return s;
    if (strcmp(dtype, "F32") == 0)
        e->dtype = CNN_FLOAT32;
    else if (strcmp(dtype, "I32") == 0)
        e->dtype = CNN_INT32;
    else
        s = cnn_fail(CNN_ERR_FORMAT,
                     "%s: tensor '%s': dtype %.32s is not supported (F32 and I32 are)",
                     ps->name, e->name, dtype);
    free(dtype);
    return s;
}

static cnn_status parse_shape(parser *ps, cnn_safetensor_entry *e)
{
    uint64_t shape[CNN_MAX_DIMS];
    cnn_status s = parse_uint_array(ps, shape, CNN_MAX_DIMS, &e->ndims);
    for (int d = 0; s == CNN_OK && d < e->ndims; d++) {
        if (shape[d] > (uint64_t)INT64_MAX)
            return entry_error(ps, e->name, "shape too large");
        e->size[e->ndims - 1 - d] = (int64_t)shape[d];
    }
    return s;
}

static cnn_status parse_offsets(parser *ps, cnn_safetensor_entry *e)
{
    uint64_t offsets[2];
    int n;
    cnn_status s = parse_uint_array(ps, offsets, 2, &n);
    if (s == CNN_OK && n != 2)
        return entry_error(ps, e->name, "data_offsets must be [begin, end]");
    e->begin = offsets[0];
    e->end = offsets[1];
    return s;
}

enum { HAS_DTYPE = 1, HAS_SHAPE = 2, HAS_OFFSETS = 4 };

static cnn_status parse_entry_field(parser *ps, cnn_safetensor_entry *e, int *seen)
{
    char *key = NULL;
    cnn_status s = parse_string(ps, &key);
    if (s == CNN_OK)
        s = expect(ps, ':');
    int field = !key ? 0 : strcmp(key, "dtype") == 0 ? HAS_DTYPE
                        : strcmp(key, "shape") == 0 ? HAS_SHAPE
                        : strcmp(key, "data_offsets") == 0 ? HAS_OFFSETS : 0;
    if (s == CNN_OK && (field == 0 || (*seen & field))) {
        s = cnn_fail(CNN_ERR_FORMAT, "%s: tensor '%s': %s field '%.64s'", ps->name,
                     e->name, field ? "repeated" : "unknown", key);
    } else if (s == CNN_OK) {
        *seen |= field;
        s = field == HAS_DTYPE ? parse_dtype(ps, e)
            : field == HAS_SHAPE ? parse_shape(ps, e) : parse_offsets(ps, e);
    }
    free(key);
    return s;
}

static cnn_status parse_entry(parser *ps, cnn_safetensor_entry *e)
{
    cnn_status s = expect(ps, '{');
    int seen = 0;
    if (s == CNN_OK && !accept(ps, '}')) {
        do
            s = parse_entry_field(ps, e, &seen);
        while (s == CNN_OK && accept(ps, ','));
        if (s == CNN_OK)
            s = expect(ps, '}');
    }
    if (s == CNN_OK && seen != (HAS_DTYPE | HAS_SHAPE | HAS_OFFSETS))
        s = entry_error(ps, e->name, "needs dtype, shape and data_offsets");
    return s;
}

static cnn_status parse_metadata(parser *ps, cnn_safetensors *st)
{
    cnn_status s = expect(ps, '{');
    if (s != CNN_OK || accept(ps, '}'))
        return s;
    do {
        char **keys = realloc(st->meta_keys, (st->meta_count + 1) * sizeof *keys);
        if (keys) st->meta_keys = keys;
        char **values = realloc(st->meta_values, (st->meta_count + 1) * sizeof *values);
        if (values) st->meta_values = values;
        if (!keys || !values)
            return cnn_fail(CNN_ERR_NOMEM, "%s: out of memory", ps->name);
        keys[st->meta_count] = values[st->meta_count] = NULL;
        st->meta_count++;
        s = parse_string(ps, &keys[st->meta_count - 1]);
        if (s == CNN_OK)
            s = expect(ps, ':');
        if (s == CNN_OK)
            s = parse_string(ps, &values[st->meta_count - 1]);
    } while (s == CNN_OK && accept(ps, ','));
    return s == CNN_OK ? expect(ps, '}') : s;
}

static cnn_status add_entry(parser *ps, cnn_safetensors *st, char *name)
{
    for (int i = 0; i < st->count; i++)
        if (strcmp(st->entries[i].name, name) == 0) {
            cnn_status s = entry_error(ps, name, "appears twice");
            free(name);
            return s;
        }
    cnn_safetensor_entry *grown =
        realloc(st->entries, (st->count + 1) * sizeof *grown);
    if (!grown) {
        free(name);
        return cnn_fail(CNN_ERR_NOMEM, "%s: out of memory", ps->name);
    }
    st->entries = grown;
    memset(&grown[st->count], 0, sizeof *grown);
    grown[st->count++].name = name;
    return parse_entry(ps, &grown[st->count - 1]);
}

static cnn_status parse_member(parser *ps, cnn_safetensors *st)
{
    char *key = NULL;
    cnn_status s = parse_string(ps, &key);
    if (s == CNN_OK)
        s = expect(ps, ':');
    if (s != CNN_OK) {
        free(key);
        return s;
    }
    if (strcmp(key, "__metadata__") == 0) {
        free(key);
        return parse_metadata(ps, st);
    }
    return add_entry(ps, st, key);
}

static cnn_status parse_json(parser *ps, cnn_safetensors *st)
{
    cnn_status s = expect(ps, '{');
    if (s == CNN_OK && !accept(ps, '}')) {
        do
            s = parse_member(ps, st);
        while (s == CNN_OK && accept(ps, ','));
        if (s == CNN_OK)
            s = expect(ps, '}');
    }
    skip_space(ps);
    if (s == CNN_OK && ps->p != ps->end)
        s = syntax(ps, "unexpected text after the header");
    return s;
}

/* ===== validation ===== */

static cnn_status check_entry(const cnn_safetensors *st, const cnn_safetensor_entry *e,
                              const char *name)
{
    uint64_t numel = 1;
    for (int d = 0; d < e->ndims; d++) {
        uint64_t dim = (uint64_t)e->size[d];
        if (dim && numel > (UINT64_MAX / 8) / dim)
            return cnn_fail(CNN_ERR_FORMAT, "%s: tensor '%s': shape too large", name,
                            e->name);
        numel *= dim;
    }
    if (e->begin > e->end || e->end > st->data_len)
        return cnn_fail(CNN_ERR_FORMAT,
                        "%s: tensor '%s': data_offsets [%llu, %llu] outside the %zu "
                        "bytes of data",
                        name, e->name, (unsigned long long)e->begin,
                        (unsigned long long)e->end, st->data_len);
    if (e->end - e->begin != numel * 4)
        return cnn_fail(CNN_ERR_FORMAT,
                        "%s: tensor '%s': shape needs %llu bytes, data_offsets give %llu",
                        name, e->name, (unsigned long long)(numel * 4),
                        (unsigned long long)(e->end - e->begin));
    return CNN_OK;
}

static uint64_t read_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

cnn_status cnn_safetensors_parse(const uint8_t *buf, size_t len, const char *name,
                                 cnn_safetensors *st)
{
    memset(st, 0, sizeof *st);
    if (len < 8)
        return cnn_fail(CNN_ERR_FORMAT, "%s: too short for a safetensors file (%zu bytes)",
                        name, len);
    uint64_t header = read_le64(buf);
    if (header > CNN_SAFETENSORS_MAX_HEADER || header > len - 8)
        return cnn_fail(CNN_ERR_FORMAT,
                        "%s: header length %llu does not fit the %zu bytes of the file",
                        name, (unsigned long long)header, len);
    parser ps = {(const char *)buf + 8, (const char *)buf + 8,
                 (const char *)buf + 8 + header, name};
    st->data = buf + 8 + header;
    st->data_len = len - 8 - (size_t)header;
    cnn_status s = parse_json(&ps, st);
    for (int i = 0; s == CNN_OK && i < st->count; i++)
        s = check_entry(st, &st->entries[i], name);
    return s;
}

cnn_status cnn_safetensors_read(const char *path, cnn_safetensors *st)
{
    memset(st, 0, sizeof *st);
    FILE *f = fopen(path, "rb");
    if (!f)
        return cnn_fail(CNN_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    cnn_status s = CNN_OK;
    uint8_t *buf = NULL;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode))
        s = cnn_fail(CNN_ERR_IO, "%s: not a readable regular file", path);
    size_t len = s == CNN_OK ? (size_t)sb.st_size : 0;
    if (s == CNN_OK && !(buf = malloc(len ? len : 1)))
        s = cnn_fail(CNN_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, len);
    if (s == CNN_OK && fread(buf, 1, len, f) != len)
        s = cnn_fail(CNN_ERR_IO, "%s: read error", path);
    fclose(f);
    if (s == CNN_OK)
        s = cnn_safetensors_parse(buf, len, path, st);
    st->owned = buf;
    return s;
}

void cnn_safetensors_free(cnn_safetensors *st)
{
    for (int i = 0; i < st->count; i++)
        free(st->entries[i].name);
    for (int i = 0; i < st->meta_count; i++) {
        free(st->meta_keys[i]);
        free(st->meta_values[i]);
    }
    free(st->entries);
    free(st->meta_keys);
    free(st->meta_values);
    free(st->owned);
    memset(st, 0, sizeof *st);
}

cnn_status cnn_safetensors_copy(const cnn_safetensors *st, int i, cnn_tensor *out)
{
    if (i < 0 || i >= st->count)
        return cnn_fail(CNN_ERR_ARG, "no entry %d", i);
    const cnn_safetensor_entry *e = &st->entries[i];
    if (out->dtype != e->dtype ||
        !cnn_tensor_is_contiguous(out) || cnn_tensor_bytes(out) != e->end - e->begin ||
        !cnn_tensor_data(out))
        return cnn_fail(CNN_ERR_ARG, "output tensor does not match entry %d", i);
    memcpy(cnn_tensor_data(out), st->data + e->begin, e->end - e->begin);
    return CNN_OK;
}

/* ===== writing ===== */

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
    append_str(t, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\'; esc[1] = (char)c;
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

/* The header JSON, padded with spaces so the data starts 8-byte aligned. */
static cnn_status build_header(text *t, const cnn_named_tensor *items, int count,
                               const char *const *keys, const char *const *values,
                               int meta_count)
{
    append_str(t, "{");
    if (meta_count > 0) {
        append_str(t, "\"__metadata__\":{");
        for (int i = 0; i < meta_count; i++) {
            append_str(t, i ? "," : "");
            append_json_string(t, keys[i]);
            append_str(t, ":");
            append_json_string(t, values[i]);
        }
        append_str(t, count ? "}," : "}");
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
    return t->failed ? cnn_fail(CNN_ERR_NOMEM, "out of memory building the header")
                     : CNN_OK;
}

/* Non-contiguous tensors go through a contiguous copy. */
static cnn_status write_tensor(FILE *f, const cnn_tensor *x, const char *path)
{
    size_t bytes = cnn_tensor_bytes(x);
    if (bytes == 0)
        return CNN_OK;
    if (cnn_tensor_is_contiguous(x))
        return fwrite(cnn_tensor_data(x), 1, bytes, f) == bytes
                   ? CNN_OK : cnn_fail(CNN_ERR_IO, "%s: write error: %s", path, strerror(errno));
    cnn_storage tmp;
    cnn_tensor dense;
    cnn_status s = cnn_tensor_init(&dense, x->dtype, x->ndims, x->size);
    if (s == CNN_OK)
        s = cnn_storage_alloc(&tmp, bytes);
    if (s != CNN_OK)
        return s;
    dense.storage = &tmp;
    s = cnn_tensor_copy(&dense, x);
    if (s == CNN_OK && fwrite(tmp.data, 1, bytes, f) != bytes)
        s = cnn_fail(CNN_ERR_IO, "%s: write error: %s", path, strerror(errno));
    cnn_storage_free(&tmp);
    return s;
}

static cnn_status write_contents(FILE *f, const char *path, const text *header,
                                 const cnn_named_tensor *items, int count)
{
    uint8_t len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)((uint64_t)header->len >> (8 * i));
    if (fwrite(len, 1, 8, f) != 8 || fwrite(header->buf, 1, header->len, f) != header->len)
        return cnn_fail(CNN_ERR_IO, "%s: write error: %s", path, strerror(errno));
    for (int i = 0; i < count; i++) {
        cnn_status s = write_tensor(f, items[i].tensor, path);
        if (s != CNN_OK)
            return s;
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        return cnn_fail(CNN_ERR_IO, "%s: write error: %s", path, strerror(errno));
    return CNN_OK;
}

static cnn_status check_items(const cnn_named_tensor *items, int count)
{
    for (int i = 0; i < count; i++)
        if (!cnn_tensor_data(items[i].tensor))
            return cnn_fail(CNN_ERR_ARG, "tensor '%s' was freed", items[i].name);
    return CNN_OK;
}

/* A new temporary file beside 'path' (same directory, so rename works). */
static cnn_status create_temp(const char *path, char **tmp, int *fd)
{
    size_t n = strlen(path) + sizeof ".tmp.XXXXXX";
    *tmp = malloc(n);
    if (!*tmp)
        return cnn_fail(CNN_ERR_NOMEM, "out of memory");
    snprintf(*tmp, n, "%s.tmp.XXXXXX", path);
    *fd = mkstemp(*tmp);
    if (*fd < 0)
        return cnn_fail(CNN_ERR_IO, "%s: cannot create a temporary file: %s", path,
                        strerror(errno));
    return CNN_OK;
}

cnn_status cnn_safetensors_write(const char *path, const cnn_named_tensor *items,
                                 int count, const char *const *meta_keys,
                                 const char *const *meta_values, int meta_count)
{
    text header = {0};
    char *tmp = NULL;
    int fd = -1;
    cnn_status s = check_items(items, count);
    if (s == CNN_OK)
        s = build_header(&header, items, count, meta_keys, meta_values, meta_count);
    if (s == CNN_OK)
        s = create_temp(path, &tmp, &fd);
    if (fd >= 0) {
        FILE *f = fdopen(fd, "wb");
        s = f ? write_contents(f, path, &header, items, count)
              : cnn_fail(CNN_ERR_IO, "%s", strerror(errno));
        if ((f ? fclose(f) : close(fd)) != 0 && s == CNN_OK)
            s = cnn_fail(CNN_ERR_IO, "%s: close failed: %s", path, strerror(errno));
        if (s == CNN_OK && rename(tmp, path) != 0)
            s = cnn_fail(CNN_ERR_IO, "%s: %s", path, strerror(errno));
        if (s != CNN_OK)
            unlink(tmp);
    }
    free(tmp);
    free(header.buf);
    return s;
}

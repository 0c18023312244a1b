#include "safetensors.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ===== a small JSON reader, just enough for the header ===== */

typedef struct parser {
    const char *start, *p, *end;
    const char *name;
    bool metadata_seen;
    int entry_cap, key_cap, value_cap; /* allocated lengths of st's arrays */
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
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
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
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* \uXXXX, with a surrogate pair when the first half asks for one. NUL is
 * refused: names and metadata are C strings from here on, and a NUL would
 * silently cut them short. */
static cnn_status unicode_escape(parser *ps, char *out, size_t *n)
{
    unsigned cp, low;
    if (!read_hex4(ps, &cp))
        return syntax(ps, "bad \\u escape");
    if (cp == 0) {
        ps->p -= 6; /* the position of the escape */
        return syntax(ps, "\\u0000 (NUL) in a string");
    }
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

/* The length of the UTF-8 sequence at p (of 'avail' bytes), 0 if it is
 * not valid: overlong forms, surrogates and code points above U+10FFFF
 * are not. */
static size_t utf8_sequence(const unsigned char *p, size_t avail)
{
    unsigned c = p[0], cp, min;
    size_t n;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, cp = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

bool cnn_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        size_t k = utf8_sequence(p, (size_t)(end - p));
        if (k == 0)
            return false;
        p += k;
    }
    return true;
}

/* One character of a string's raw text: an escape, or a UTF-8 sequence
 * copied as it is. */
static cnn_status string_char(parser *ps, char *out, size_t *n)
{
    unsigned char c = (unsigned char)*ps->p;
    if (c < 0x20)
        return syntax(ps, "control character in string");
    if (c == '\\') {
        ps->p++;
        return escape(ps, out, n);
    }
    size_t k = utf8_sequence((const unsigned char *)ps->p, (size_t)(ps->end - ps->p));
    if (k == 0)
        return syntax(ps, "invalid UTF-8 in a string");
    memcpy(out + *n, ps->p, k);
    *n += k;
    ps->p += k;
    return CNN_OK;
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
    while (s == CNN_OK && ps->p < close)
        s = string_char(ps, out, &n);
    ps->p = close + 1;
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
    int field = !key                               ? 0
                : strcmp(key, "dtype") == 0        ? HAS_DTYPE
                : strcmp(key, "shape") == 0        ? HAS_SHAPE
                : strcmp(key, "data_offsets") == 0 ? HAS_OFFSETS
                                                   : 0;
    if (s == CNN_OK && (field == 0 || (*seen & field))) {
        s = cnn_fail(CNN_ERR_FORMAT, "%s: tensor '%s': %s field '%.64s'", ps->name,
                     e->name, field ? "repeated" : "unknown", key);
    } else if (s == CNN_OK) {
        *seen |= field;
        s = field == HAS_DTYPE   ? parse_dtype(ps, e)
            : field == HAS_SHAPE ? parse_shape(ps, e)
                                 : parse_offsets(ps, e);
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

/* 'array' (of *cap elements, 'count' used) with room for one more: the
 * same or a reallocated one, NULL (the old one intact) when memory runs
 * out. Doubling makes n additions cost O(n). */
static void *with_room(void *array, int *cap, int count, size_t elem)
{
    if (count < *cap)
        return array;
    if (*cap > INT_MAX / 2)
        return NULL;
    int doubled = *cap ? 2 * *cap : 16;
    void *grown = realloc(array, (size_t)doubled * elem);
    if (grown)
        *cap = doubled;
    return grown;
}

static cnn_status out_of_memory(parser *ps)
{
    return cnn_fail(CNN_ERR_NOMEM, "%s: out of memory", ps->name);
}

static cnn_status parse_metadata_pair(parser *ps, cnn_safetensors *st)
{
    char **keys = with_room(st->meta_keys, &ps->key_cap, st->meta_count, sizeof *keys);
    if (keys)
        st->meta_keys = keys;
    char **values =
        with_room(st->meta_values, &ps->value_cap, st->meta_count, sizeof *values);
    if (values)
        st->meta_values = values;
    if (!keys || !values)
        return out_of_memory(ps);
    int i = st->meta_count++;
    st->meta_keys[i] = st->meta_values[i] = NULL;
    cnn_status s = parse_string(ps, &st->meta_keys[i]);
    if (s == CNN_OK)
        s = expect(ps, ':');
    if (s == CNN_OK)
        s = parse_string(ps, &st->meta_values[i]);
    return s;
}

static cnn_status parse_metadata(parser *ps, cnn_safetensors *st)
{
    if (ps->metadata_seen)
        return syntax(ps, "__metadata__ appears twice");
    ps->metadata_seen = true;
    cnn_status s = expect(ps, '{');
    if (s != CNN_OK || accept(ps, '}'))
        return s;
    do
        s = parse_metadata_pair(ps, st);
    while (s == CNN_OK && accept(ps, ','));
    return s == CNN_OK ? expect(ps, '}') : s;
}

/* Repeated names are found after the parse, by sorting (check_unique). */
static cnn_status add_entry(parser *ps, cnn_safetensors *st, char *name)
{
    cnn_safetensor_entry *entries =
        with_room(st->entries, &ps->entry_cap, st->count, sizeof *entries);
    if (!entries) {
        free(name);
        return out_of_memory(ps);
    }
    st->entries = entries;
    cnn_safetensor_entry *e = &st->entries[st->count++];
    memset(e, 0, sizeof *e);
    e->name = name;
    return parse_entry(ps, e);
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

/* The byte count that dtype and shape call for. Zero sizes do not hide an
 * overflow: the product of the other sizes must fit as well, since the
 * tensor's strides are made of it. */
static cnn_status needed_bytes(const cnn_safetensor_entry *e, const char *name,
                               uint64_t *bytes)
{
    uint64_t numel = 1, nonzero = 1;
    for (int d = 0; d < e->ndims; d++) {
        uint64_t dim = (uint64_t)e->size[d];
        if (dim && nonzero > (UINT64_MAX / 8) / dim)
            return cnn_fail(CNN_ERR_FORMAT, "%s: tensor '%s': shape too large", name,
                            e->name);
        nonzero *= dim ? dim : 1;
        numel *= dim;
    }
    *bytes = numel * cnn_dtype_size(e->dtype);
    return CNN_OK;
}

static cnn_status check_entry(const cnn_safetensors *st, const cnn_safetensor_entry *e,
                              const char *name)
{
    uint64_t bytes = 0;
    cnn_status s = needed_bytes(e, name, &bytes);
    if (s != CNN_OK)
        return s;
    if (e->begin > e->end || e->end > st->data_len)
        return cnn_fail(CNN_ERR_FORMAT,
                        "%s: tensor '%s': data_offsets [%llu, %llu] outside the %zu "
                        "bytes of data",
                        name, e->name, (unsigned long long)e->begin,
                        (unsigned long long)e->end, st->data_len);
    if (e->end - e->begin != bytes)
        return cnn_fail(CNN_ERR_FORMAT,
                        "%s: tensor '%s': shape needs %llu bytes, data_offsets give %llu",
                        name, e->name, (unsigned long long)bytes,
                        (unsigned long long)(e->end - e->begin));
    return CNN_OK;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The first string that 'n' sorted strings hold twice, or NULL. */
static const char *repeated(char **sorted, int n)
{
    qsort(sorted, (size_t)n, sizeof *sorted, compare_strings);
    for (int i = 1; i < n; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0)
            return sorted[i];
    return NULL;
}

/* Every name and every metadata key once; 'scratch' holds max(count,
 * meta_count) pointers. */
static cnn_status check_unique(const cnn_safetensors *st, const char *name,
                               char **scratch)
{
    for (int i = 0; i < st->count; i++)
        scratch[i] = st->entries[i].name;
    const char *twice = repeated(scratch, st->count);
    if (twice)
        return cnn_fail(CNN_ERR_FORMAT, "%s: tensor '%s': appears twice", name, twice);
    if (st->meta_count > 0)
        memcpy(scratch, st->meta_keys, (size_t)st->meta_count * sizeof *scratch);
    twice = repeated(scratch, st->meta_count);
    if (twice)
        return cnn_fail(CNN_ERR_FORMAT, "%s: metadata key '%s' appears twice", name,
                        twice);
    return CNN_OK;
}

static int compare_ranges(const void *a, const void *b)
{
    const cnn_safetensor_entry *x = *(const cnn_safetensor_entry *const *)a;
    const cnn_safetensor_entry *y = *(const cnn_safetensor_entry *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* The tensors must tile the data section, as the format requires: in
 * order of their offsets, each starts where the one before ends, the
 * first at 0 and the last at the end. A header whose length is one byte
 * short otherwise reads every weight shifted by a byte. */
static cnn_status check_tiling(const cnn_safetensors *st, const char *name,
                               const cnn_safetensor_entry **sorted)
{
    for (int i = 0; i < st->count; i++)
        sorted[i] = &st->entries[i];
    qsort(sorted, (size_t)st->count, sizeof *sorted, compare_ranges);
    uint64_t covered = 0;
    for (int i = 0; i < st->count; i++) {
        const cnn_safetensor_entry *e = sorted[i], *prev = i ? sorted[i - 1] : NULL;
        if (e->begin < covered)
            return cnn_fail(CNN_ERR_FORMAT,
                            "%s: tensor '%s' (data_offsets [%llu, %llu]) overlaps tensor "
                            "'%s' ([%llu, %llu])",
                            name, e->name, (unsigned long long)e->begin,
                            (unsigned long long)e->end, prev->name,
                            (unsigned long long)prev->begin,
                            (unsigned long long)prev->end);
        if (e->begin > covered)
            return cnn_fail(CNN_ERR_FORMAT,
                            "%s: bytes [%llu, %llu) of the data belong to no tensor "
                            "(a hole before tensor '%s')",
                            name, (unsigned long long)covered,
                            (unsigned long long)e->begin, e->name);
        covered = e->end;
    }
    uint64_t trailing = st->data_len - covered;
    if (trailing)
        return cnn_fail(CNN_ERR_FORMAT,
                        "%s: %llu byte%s after the last tensor (the data section has %zu "
                        "bytes, the tensors cover %llu)",
                        name, (unsigned long long)trailing, trailing == 1 ? "" : "s",
                        st->data_len, (unsigned long long)covered);
    return CNN_OK;
}

/* Each entry on its own, then names, then how they share the data. */
static cnn_status check_contents(const cnn_safetensors *st, const char *name)
{
    cnn_status s = CNN_OK;
    for (int i = 0; s == CNN_OK && i < st->count; i++)
        s = check_entry(st, &st->entries[i], name);
    int n = st->count > st->meta_count ? st->count : st->meta_count;
    void *scratch = malloc((size_t)(n ? n : 1) * sizeof(void *));
    if (!scratch)
        return cnn_fail(CNN_ERR_NOMEM, "%s: out of memory", name);
    if (s == CNN_OK)
        s = check_unique(st, name, (char **)scratch);
    if (s == CNN_OK)
        s = check_tiling(st, name, (const cnn_safetensor_entry **)scratch);
    free(scratch);
    return s;
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
        return cnn_fail(CNN_ERR_FORMAT,
                        "%s: too short for a safetensors file (%zu bytes)", name, len);
    uint64_t header = read_le64(buf);
    if (header > len - 8)
        return cnn_fail(CNN_ERR_FORMAT,
                        "%s: header length %llu does not fit the %zu bytes of the file",
                        name, (unsigned long long)header, len);
    if (header > CNN_SAFETENSORS_MAX_HEADER)
        return cnn_fail(CNN_ERR_FORMAT,
                        "%s: header length %llu is over the format's limit of %u bytes",
                        name, (unsigned long long)header, CNN_SAFETENSORS_MAX_HEADER);
    const char *json = (const char *)buf + 8;
    parser ps = {.start = json, .p = json, .end = json + header, .name = name};
    st->data = buf + 8 + header;
    st->data_len = len - 8 - (size_t)header;
    cnn_status s = parse_json(&ps, st);
    return s == CNN_OK ? check_contents(st, name) : s;
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
        s = cnn_fail(CNN_ERR_IO, "%s: read error: %s", path,
                     ferror(f) ? strerror(errno) : "the file shrank while it was read");
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
    if (out->dtype != e->dtype || !cnn_tensor_is_contiguous(out) ||
        cnn_tensor_bytes(out) != e->end - e->begin || !cnn_tensor_data(out))
        return cnn_fail(CNN_ERR_ARG, "output tensor does not match entry %d", i);
    memcpy(cnn_tensor_data(out), st->data + e->begin, e->end - e->begin);
    return CNN_OK;
}

/* Tested on the bits, so that no compiler option about floating point can
 * change the answer: all exponent bits set is an infinity or a NaN. */
static const char *nonfinite_kind(uint32_t bits)
{
    if ((bits & 0x7F800000u) != 0x7F800000u)
        return NULL;
    if (bits & 0x007FFFFFu)
        return "NaN";
    return bits >> 31 ? "-Inf" : "Inf";
}

cnn_status cnn_safetensors_check_finite(const cnn_safetensors *st, const char *name)
{
    for (int i = 0; i < st->count; i++) {
        const cnn_safetensor_entry *e = &st->entries[i];
        if (e->dtype != CNN_FLOAT32)
            continue;
        size_t n = (size_t)(e->end - e->begin) / 4;
        for (size_t k = 0; k < n; k++) {
            uint32_t bits; /* the data section need not be aligned */
            memcpy(&bits, st->data + e->begin + 4 * k, 4);
            const char *kind = nonfinite_kind(bits);
            if (kind)
                return cnn_fail(CNN_ERR_FORMAT,
                                "%s: tensor '%s' holds a non-finite value: %s at element "
                                "%zu of %zu",
                                name, e->name, kind, k + 1, n);
        }
    }
    return CNN_OK;
}

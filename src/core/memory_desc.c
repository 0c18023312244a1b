#include "memory_desc.h"

#include <string.h>

void cnn_md_plain(dnnl_memory_desc_t *md, int ndims, const int64_t *dims)
{
    /* one tag per rank, 0 to CNN_MAX_DIMS */
    static const dnnl_format_tag_t tags[CNN_MAX_DIMS + 1] = {dnnl_format_tag_undef,
                                                             dnnl_a,
                                                             dnnl_ab,
                                                             dnnl_abc,
                                                             dnnl_abcd,
                                                             dnnl_abcde,
                                                             dnnl_abcdef,
                                                             dnnl_abcdefg,
                                                             dnnl_abcdefgh};
    dnnl_dims_t d;
    for (int i = 0; i < ndims; i++)
        d[i] = dims[i];
    /* A descriptor oneDNN refuses is left zero: every primitive or memory
     * made from it then fails with a checked status naming the op. */
    if (ndims < 0 || ndims > CNN_MAX_DIMS ||
        dnnl_memory_desc_init_by_tag(md, ndims, d, dnnl_f32, tags[ndims]) != dnnl_success)
        memset(md, 0, sizeof *md);
}

void cnn_md_of_tensor(dnnl_memory_desc_t *md, const cnn_tensor *t)
{
    int64_t dims[CNN_MAX_DIMS];
    for (int i = 0; i < t->ndims; i++)
        dims[i] = t->size[t->ndims - 1 - i];
    cnn_md_plain(md, t->ndims, dims);
}

void cnn_md_of_layout(dnnl_memory_desc_t *md, const cnn_tensor *t)
{
    if (t->blocked)
        *md = t->layout;
    else
        cnn_md_of_tensor(md, t);
}

bool cnn_md_is_plain(const dnnl_memory_desc_t *md, int ndims, const int64_t *size)
{
    cnn_tensor shape;
    if (cnn_tensor_init(&shape, CNN_FLOAT32, ndims, size) != CNN_OK)
        return false;
    dnnl_memory_desc_t plain;
    cnn_md_of_tensor(&plain, &shape);
    return dnnl_memory_desc_equal(md, &plain);
}

void cnn_md_any_of_type(dnnl_memory_desc_t *md, int ndims, const int64_t *dims,
                        dnnl_data_type_t type)
{
    dnnl_dims_t d;
    for (int i = 0; i < ndims; i++)
        d[i] = dims[i];
    /* refused: left zero, so the primitive creation fails, checked */
    if (dnnl_memory_desc_init_by_tag(md, ndims, d, type, dnnl_format_tag_any) !=
        dnnl_success)
        memset(md, 0, sizeof *md);
}

void cnn_md_any(dnnl_memory_desc_t *md, int ndims, const int64_t *dims)
{
    cnn_md_any_of_type(md, ndims, dims, dnnl_f32);
}

bool cnn_md_like(dnnl_memory_desc_t *md, const dnnl_memory_desc_t *like,
                 const int64_t *dims)
{
    static const dnnl_format_tag_t tags[] = {dnnl_abcd, dnnl_acdb, dnnl_aBcd16b,
                                             dnnl_aBcd8b, dnnl_aBcd4b};
    cnn_md_plain(md, 4, dims);
    if (like->ndims != 4 || like->data_type != dnnl_f32)
        return false;
    for (size_t i = 0; i < sizeof tags / sizeof *tags; i++) {
        dnnl_memory_desc_t candidate;
        if (dnnl_memory_desc_init_by_tag(&candidate, 4, like->dims, dnnl_f32, tags[i]) !=
                dnnl_success ||
            !dnnl_memory_desc_equal(&candidate, like))
            continue;
        dnnl_dims_t d = {dims[0], dims[1], dims[2], dims[3]};
        if (dnnl_memory_desc_init_by_tag(md, 4, d, dnnl_f32, tags[i]) == dnnl_success)
            return true;
        cnn_md_plain(md, 4, dims);
        return false;
    }
    return false;
}

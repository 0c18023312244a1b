#include "exec.h"

#include <stdlib.h>
#include <string.h>

const dnnl_memory_desc_t *cnn_exec_arg_md(const cnn_primitive *p, int arg)
{
    return dnnl_primitive_desc_query_md(p->pd, dnnl_query_exec_arg_md, arg);
}

/* Reorders are cached by their two descriptors. Descriptors come from
 * oneDNN's value-initialised structs, so their bytes compare reliably. */
typedef struct reorder_key {
    char tag[8];
    dnnl_memory_desc_t from, to;
} reorder_key;

static cnn_status reorder_primitive(const dnnl_memory_desc_t *from,
                                    const dnnl_memory_desc_t *to, const char *op,
                                    cnn_primitive **out)
{
    reorder_key key;
    memset(&key, 0, sizeof key);
    memcpy(key.tag, "reorder", 8);
    key.from = *from;
    key.to = *to;
    *out = cnn_primitive_find(&key, sizeof key);
    if (*out)
        return CNN_OK;
    dnnl_primitive_desc_t pd;
    CNN_DNNL_TRY(op, dnnl_reorder_primitive_desc_create(&pd, from, cnn_engine(), to,
                                                        cnn_engine(), NULL));
    return cnn_primitive_add(&key, sizeof key, pd, op, out);
}

static cnn_status run_reorder(const cnn_primitive *r, dnnl_memory_t from,
                              dnnl_memory_t to, const char *op)
{
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, from}, {DNNL_ARG_DST, to}};
    cnn_status s = cnn_primitive_run(r, 2, args, op);
    if (s == CNN_OK)
        cnn_global_stats()->reorders++;
    return s;
}

void cnn_exec_begin(cnn_exec *e, const cnn_primitive *p, const char *op)
{
    memset(e, 0, sizeof *e);
    e->op = op;
    e->primitive = p;
    e->status = CNN_OK;
}

/* The memory object in slot 'slot' of the primitive, re-pointed at data
 * if its descriptor is md, else a new one kept there: executions of a
 * primitive wrap the same kinds of arguments in the same order. */
static dnnl_memory_t cached_memory(cnn_exec *e, int slot, const dnnl_memory_desc_t *md,
                                   void *data)
{
    dnnl_memory_t *kept = &((cnn_primitive *)e->primitive)->memories[slot];
    const dnnl_memory_desc_t *have = NULL;
    if (*kept && dnnl_memory_get_memory_desc(*kept, &have) == dnnl_success &&
        dnnl_memory_desc_equal(have, md) &&
        dnnl_memory_set_data_handle(*kept, data) == dnnl_success)
        return *kept;
    dnnl_memory_destroy(*kept);
    *kept = NULL;
    dnnl_memory_t mem = NULL;
    e->status = cnn_memory_wrap(md, data, &mem, e->op);
    if (e->status == CNN_OK)
        *kept = mem;
    return mem;
}

/* An argument wraps at most two memories (its own and a scratch one), so
 * the slots never run out. */
static dnnl_memory_t wrap(cnn_exec *e, const dnnl_memory_desc_t *md, void *data)
{
    if (e->status != CNN_OK)
        return NULL;
    if (e->nmems == CNN_PRIMITIVE_MEMORIES) {
        e->status = cnn_fail(CNN_ERR_ARG, "%s: too many arguments", e->op);
        return NULL;
    }
    return cached_memory(e, e->nmems++, md, data);
}

static void add_arg(cnn_exec *e, int arg, dnnl_memory_t mem)
{
    if (e->status != CNN_OK)
        return;
    e->args[e->nargs].arg = arg;
    e->args[e->nargs].memory = mem;
    e->nargs++;
}

/* The memory the primitive uses for 'arg': the user's own when the layouts
 * agree, else a scratch buffer in the primitive's layout (and *reorder the
 * conversion between the two, in the direction asked for). */
static dnnl_memory_t arg_memory(cnn_exec *e, int arg, void *data,
                                const dnnl_memory_desc_t *user, int is_input,
                                dnnl_memory_t *user_mem, cnn_primitive **reorder)
{
    *reorder = NULL;
    *user_mem = NULL;
    if (e->status != CNN_OK)
        return NULL;
    if (e->nargs == CNN_EXEC_MAX_ARGS) {
        e->status = cnn_fail(CNN_ERR_ARG, "%s: too many arguments", e->op);
        return NULL;
    }
    const dnnl_memory_desc_t *want = cnn_exec_arg_md(e->primitive, arg);
    *user_mem = wrap(e, user, data);
    if (!want || dnnl_memory_desc_equal(want, user))
        return *user_mem;
    void *buf = cnn_scratch(e->nargs, dnnl_memory_desc_get_size(want));
    if (!buf && e->status == CNN_OK)
        e->status = cnn_fail(CNN_ERR_NOMEM, "%s: out of memory for a reorder", e->op);
    dnnl_memory_t mem = wrap(e, want, buf);
    if (e->status == CNN_OK)
        e->status = is_input ? reorder_primitive(user, want, e->op, reorder)
                             : reorder_primitive(want, user, e->op, reorder);
    return mem;
}

void cnn_exec_input(cnn_exec *e, int arg, const cnn_tensor *t,
                    const dnnl_memory_desc_t *user)
{
    dnnl_memory_t user_mem;
    cnn_primitive *reorder;
    dnnl_memory_t mem =
        arg_memory(e, arg, cnn_tensor_data(t), user, 1, &user_mem, &reorder);
    if (reorder && e->status == CNN_OK)
        e->status = run_reorder(reorder, user_mem, mem, e->op);
    add_arg(e, arg, mem);
}

void cnn_exec_output(cnn_exec *e, int arg, cnn_tensor *t, const dnnl_memory_desc_t *user)
{
    dnnl_memory_t user_mem;
    cnn_primitive *reorder;
    dnnl_memory_t mem =
        arg_memory(e, arg, cnn_tensor_data(t), user, 0, &user_mem, &reorder);
    if (reorder && e->status == CNN_OK) {
        cnn_exec_pending *out = &e->outs[e->nouts++];
        out->reorder = reorder;
        out->from = mem;
        out->to = user_mem;
    }
    add_arg(e, arg, mem);
}

void cnn_exec_plain_input(cnn_exec *e, int arg, const cnn_tensor *t)
{
    dnnl_memory_desc_t md;
    cnn_md_of_layout(&md, t);
    cnn_exec_input(e, arg, t, &md);
}

void cnn_exec_plain_output(cnn_exec *e, int arg, cnn_tensor *t)
{
    dnnl_memory_desc_t md;
    cnn_md_of_layout(&md, t);
    cnn_exec_output(e, arg, t, &md);
}

cnn_status cnn_tensor_reorder(const cnn_tensor *t, const dnnl_memory_desc_t *to,
                              void *data, const char *op)
{
    dnnl_memory_desc_t from;
    cnn_md_of_layout(&from, t);
    cnn_primitive *r;
    cnn_status s = reorder_primitive(&from, to, op, &r);
    dnnl_memory_t src = NULL, dst = NULL;
    if (s == CNN_OK)
        s = cnn_memory_wrap(&from, cnn_tensor_data(t), &src, op);
    if (s == CNN_OK)
        s = cnn_memory_wrap(to, data, &dst, op);
    if (s == CNN_OK)
        s = run_reorder(r, src, dst, op);
    dnnl_memory_destroy(src);
    dnnl_memory_destroy(dst);
    return s;
}

cnn_status cnn_tensor_unblock(const cnn_tensor *blocked, cnn_tensor *plain)
{
    const char *op = "tensor";
    if (!blocked->blocked || plain->blocked || !cnn_tensor_same_size(blocked, plain) ||
        !cnn_tensor_is_contiguous(plain) || plain->dtype != CNN_FLOAT32)
        return cnn_fail(CNN_ERR_ARG, "%s: no blocked tensor to convert", op);
    dnnl_memory_desc_t md;
    cnn_md_of_tensor(&md, plain);
    return cnn_tensor_reorder(blocked, &md, cnn_tensor_data(plain), op);
}

void cnn_exec_buffer(cnn_exec *e, int arg, void *data)
{
    if (e->status != CNN_OK)
        return;
    if (e->nargs == CNN_EXEC_MAX_ARGS) {
        e->status = cnn_fail(CNN_ERR_ARG, "%s: too many arguments", e->op);
        return;
    }
    add_arg(e, arg, wrap(e, cnn_exec_arg_md(e->primitive, arg), data));
}

cnn_status cnn_exec_finish(cnn_exec *e)
{
    if (e->status == CNN_OK)
        e->status = cnn_primitive_run(e->primitive, e->nargs, e->args, e->op);
    for (int i = 0; i < e->nouts && e->status == CNN_OK; i++)
        e->status =
            run_reorder(e->outs[i].reorder, e->outs[i].from, e->outs[i].to, e->op);
    e->nmems = 0;
    return e->status;
}

/* Shared helpers of the Lua bindings (module cnn.core).
 *
 * Bindings check arguments, call the C core and push results; they do no
 * arithmetic. A tensor is a full userdata holding a cnn_tensor; its user
 * value 1 is the storage userdata (a cnn_storage whose __gc frees the bytes),
 * so views keep their storage alive and share it.
 *
 * Tensor bytes live outside Lua's heap, so every allocation is reported to
 * the collector as GC debt: a loop that drops big tensors stays bounded
 * without collectgarbage(). */
#ifndef CNN_BIND_H
#define CNN_BIND_H

#include <lauxlib.h>
#include <lua.h>

#include "plan.h"
#include "tensor.h"

#define CNN_TENSOR_MT  "cnn.Tensor"
#define CNN_STORAGE_MT "cnn.Storage"

int luaopen_cnn_core(lua_State *L);

/* The tensor at 'arg'; raises "bad argument #arg to 'f' (cnn.Tensor
 * expected, got X)" or "attempt to use a freed tensor". */
cnn_tensor *cnn_check_tensor(lua_State *L, int arg);
/* The same for a tensor of a given element type. */
cnn_tensor *cnn_check_tensor_type(lua_State *L, int arg, cnn_dtype dtype);
/* The tensor at 'arg', or NULL if it is not one (no error). */
cnn_tensor *cnn_to_tensor(lua_State *L, int arg);
/* The three above return plain tensors: a tensor that a layer kernel left
 * in a blocked oneDNN layout is converted in place first. This one does
 * not convert, for the layer kernels, which take blocked tensors as they
 * are, and for queries of sizes and type. */
cnn_tensor *cnn_check_tensor_any(lua_State *L, int arg);
/* The Float32 tensor at 'arg' for a kernel that takes oneDNN's blocked
 * layouts, replaced on the stack by a contiguous copy if it is a view with
 * gaps. */
cnn_tensor *cnn_check_layout_input(lua_State *L, int arg);

/* Pushes a new contiguous zero-filled tensor. Raises on bad sizes or when
 * memory runs out. */
cnn_tensor *cnn_push_new_tensor(lua_State *L, cnn_dtype dtype, int ndims,
                                const int64_t *size);
/* Pushes a new contiguous tensor with the sizes and type of 'like'. */
cnn_tensor *cnn_push_tensor_like(lua_State *L, const cnn_tensor *like);
/* The same two without zeroing the elements: only for outputs that the
 * kernel called next overwrites whole. */
cnn_tensor *cnn_push_tensor_uninit(lua_State *L, cnn_dtype dtype, int ndims,
                                   const int64_t *size);
cnn_tensor *cnn_push_uninit_like(lua_State *L, const cnn_tensor *like);
/* Pushes a new uninitialised Float32 tensor whose storage is in layout md
 * (plain, or a blocked layout chosen by a primitive for a result). */
cnn_tensor *cnn_push_tensor_in_layout(lua_State *L, int ndims, const int64_t *size,
                                      const dnnl_memory_desc_t *md);
/* Pushes a new uninitialised result as an op's plan says (plan.h). */
cnn_tensor *cnn_push_plan_output(lua_State *L, const cnn_plan_output *out);
/* Pushes a view sharing the storage of the tensor at stack index 'parent'
 * with the same offset, sizes and strides; the caller adjusts them. */
cnn_tensor *cnn_push_view(lua_State *L, int parent);

/* Pushes the shape string "28×28×1×128" and returns it. */
const char *cnn_push_shape(lua_State *L, const cnn_tensor *t);

/* The length of the table at 'idx' without calling its __len, clamped to
 * INT_MAX. Bindings read argument tables raw (lua_rawgeti, lua_rawget):
 * a metamethod could free or change a tensor the binding already holds. */
int cnn_rawlen(lua_State *L, int idx);

/* Reads sizes given either as integers from stack index 'first' on, or as
 * one table at 'first'. Returns ndims; raises on bad values. */
int cnn_check_sizes(lua_State *L, int first, int64_t *size);

/* The name of the running binding for messages that helpers raise: its
 * key in cnn.core (or core.Tensor for a metamethod), else the name it was
 * called by. Pushes the name. */
const char *cnn_function_name(lua_State *L);

/* Raises a Lua error "fname: <core message>" for a failed core status. */
int cnn_raise_status(lua_State *L, const char *fname, cnn_status status);
#define CNN_CHECK_STATUS(L, fname, call)                                                 \
    do {                                                                                 \
        cnn_status cnn_status_ = (call);                                                 \
        if (cnn_status_ != CNN_OK)                                                       \
            cnn_raise_status((L), (fname), cnn_status_);                                 \
    } while (0)

/* Registers the functions of one family into the module table on top. */
void cnn_register(lua_State *L, const luaL_Reg *funcs);

/* Tensor methods live in one table, the field "methods" of the Tensor
 * metatable (core.Tensor.methods in Lua). Indexing a tensor with a string
 * looks the name up there at call time, so methods added later — in C
 * with cnn_register_methods, in Lua with `core.Tensor.methods.foo = f` —
 * work on every tensor. Add to that table; never replace it.
 *
 * While the family openers run, the metatable's __index is that same
 * table, so an opener may also set methods through
 * luaL_getmetatable(L, CNN_TENSOR_MT).__index; luaopen_cnn_core then calls
 * cnn_open_tensor_indexing, which makes __index the C function that also
 * does t[i] and t[{i, j}]. */
void cnn_register_methods(lua_State *L, const luaL_Reg *funcs);

/* Family openers, called by luaopen_cnn_core in order. Each adds its
 * functions to the module table at the top of the stack (and methods to
 * the Tensor metatable, which tensor_object.c creates first). */
void cnn_open_tensor_object(lua_State *L); /* tensor_object.c */
void cnn_open_tensor(lua_State *L);        /* tensor.c: construction, views, access */
void cnn_open_math(lua_State *L);          /* math.c: elementwise, reductions, matmul */
void cnn_open_display(lua_State *L);       /* display.c: tostring */
void cnn_open_nn(lua_State *L);            /* nn.c: layer kernels, forward and backward */
void cnn_open_activation(lua_State *L);    /* activation.c: oneDNN eltwise functions */
void cnn_open_sampling(lua_State *L);      /* sampling.c: resample, pools, embedding */
void cnn_open_data(lua_State *L);        /* data.c: IDX, safetensors, one-hot, batches */
void cnn_open_optim(lua_State *L);       /* optim.c: fused optimiser updates */
void cnn_open_rearrange(lua_State *L);   /* rearrange.c: cat, flip, pad, repeat */
void cnn_open_figure(lua_State *L);      /* figure.c: pictures through cairo */
void cnn_open_augment(lua_State *L);     /* augment.c: image batch augmentation */
void cnn_open_image(lua_State *L);       /* image.c: image files and folders */
void cnn_open_distributed(lua_State *L); /* distributed.c: the job of processes */
void cnn_open_quantized(lua_State *L);   /* quantized.c: int8 networks */
void cnn_open_closer(lua_State *L);      /* closer.c: cleanups Ctrl-C cannot cut short */
/* Last: __index/__newindex for t[i], t[{i, j}] and methods (tensor.c). */
void cnn_open_tensor_indexing(lua_State *L);

#endif

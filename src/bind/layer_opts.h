/* The options tables of the layer kernels' bindings, read into the core's
 * parameter structs; every fault raises naming fname. */
#ifndef CNN_BIND_LAYER_OPTS_H
#define CNN_BIND_LAYER_OPTS_H

#include "bind.h"
#include "conv.h"
#include "pool.h"

/* Reads an integer field that may be a number (all entries) or a table of
 * 'n' integers, or of 'alt' integers each used for two entries (pads given
 * per dimension). Leaves 'out' untouched if the field is absent. */
void cnn_opt_ints(lua_State *L, int opts, const char *fname, const char *field, int n,
                  int alt, int64_t *out);
/* A convolution's options (nil: the defaults): stride, pad, dilation,
 * groups and activation ("relu", "tanh", "sigmoid" or nil). */
cnn_conv2d_params cnn_conv_opts(lua_State *L, int opts, const char *fname);
/* "max" or "mean" at arg. */
cnn_pool_kind cnn_check_pool_kind(lua_State *L, int arg);
/* A pooling's options: window (required), stride, pad, count_include_pad. */
cnn_pool2d_params cnn_pool_opts(lua_State *L, cnn_pool_kind kind, int opts,
                                const char *fname);

#endif

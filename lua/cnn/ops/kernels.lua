--- The layer kernels on oneDNN: conv2d, deconv2d, pool2d, dense,
-- batchnorm, layernorm, groupnorm and dropout.
-- @module cnn.ops.kernels

local core = require "cnn.core"
local argcheck = require "cnn.argcheck"
local autograd = require "cnn.autograd"
local errors = require "cnn.errors"
local algebra = require "cnn.ops.algebra"

local is_tensor = argcheck.is_tensor

local op = autograd.op

local ops = {}

-- Layer kernels -------------------------------------------------------

-- The gradients of a convolution's x, w and b from the gradient gy of
-- its output before any activation; ctx as conv2d's forward leaves it.
local function conv2d_backward(ctx, gy)
  local x, w, opts = ctx.saved[1], ctx.saved[2], ctx.opts
  local gx, gw, gb
  if ctx.needs[1] then gx = core.conv2d_backward_data(gy, w, x:size(), opts) end
  if ctx.needs[2] or ctx.needs[3] then
    gw, gb = core.conv2d_backward_weights(gy, x, w:size(), opts, ctx.has_bias)
  end
  return gx, gw, gb
end

--- 2-D convolution (cross-correlation) of x W×H×Cin×N with w
-- kW×kH×(Cin/groups)×Cout and bias b (Cout, or nil). `opts` as
-- cnn.core.conv2d: {stride=, pad=, dilation=, groups=,
-- activation="relu"|"tanh"|"sigmoid"|nil}; the activation is fused into
-- the convolution, and its backward works from the output.
-- With `groups` (default 1, dividing Cin and Cout) each output channel
-- sees only the Cin/groups input channels of its group, as in Flux and
-- PyTorch; groups = Cin is a depthwise convolution.
-- @function conv2d
-- @tparam Tensor x W×H×Cin×N
-- @tparam Tensor w kW×kH×(Cin/groups)×Cout
-- @tparam[opt] Tensor b Cout
-- @tparam[opt] table opts stride (1), pad (0), dilation (1), groups (1), activation (nil, "relu", "tanh" or "sigmoid")
-- @treturn Tensor
-- @usage cnn.conv2d(x, w, b, {pad = 1, activation = "relu"})
-- cnn.conv2d(cnn.rand(8, 8, 32, 1), cnn.rand(3, 3, 1, 32), nil, {pad = 1, groups = 32}) -- depthwise
ops.conv2d = op{
  name = "conv2d",
  forward = function(ctx, x, w, b, opts)
    -- not recorded, no backward follows: oneDNN's inference forward
    local y = core.conv2d(x, w, b, opts, ctx.recording)
    if ctx.recording then
      ctx:save(x, w, y)
      ctx.opts, ctx.has_bias = opts, b ~= nil
    end
    return y
  end,
  backward = function(ctx, gy)
    local y, opts = ctx.saved[3], ctx.opts
    gy = core.contiguous(gy)
    if opts and opts.activation then
      -- the fused activation's backward works from the output
      gy = core.eltwise_backward(opts.activation, gy, y, 0, 0)
    end
    return conv2d_backward(ctx, gy)
  end,
}

--- 2-D transposed convolution (Flux's ConvTranspose, PyTorch's
-- conv_transpose2d: the gradient of a convolution with respect to its
-- input) of x W×H×Cin×N with w kW×kH×(Cout/groups)×Cin (Flux's layout:
-- output channels before input channels) and bias b (Cout, or nil). The
-- output is W'×H'×Cout×N with W' = (W - 1)·stride - pad_lo - pad_hi +
-- dilation·(kW - 1) + 1 + outpad, and likewise H'. `opts`: {stride=,
-- pad=, dilation=, outpad=, groups=, activation="relu"|nil}; `outpad`
-- (default 0, below the stride or the dilation) adds outputs on the high
-- side; the activation is fused.
-- @function deconv2d
-- @tparam Tensor x W×H×Cin×N
-- @tparam Tensor w kW×kH×(Cout/groups)×Cin
-- @tparam[opt] Tensor b Cout
-- @tparam[opt] table opts stride (1), pad (0), dilation (1), outpad (0), groups (1), activation (nil or "relu")
-- @treturn Tensor
-- @usage cnn.deconv2d(cnn.rand(7, 7, 16, 1), cnn.rand(3, 3, 1, 16), nil, {stride = 2, pad = 1}) -- 13×13×1×1
ops.deconv2d = op{
  name = "deconv2d",
  forward = function(ctx, x, w, b, opts)
    local y = core.deconv2d(x, w, b, opts, ctx.recording)
    if ctx.recording then
      ctx:save(x, w, y)
      ctx.opts, ctx.has_bias = opts, b ~= nil
    end
    return y
  end,
  backward = function(ctx, gy)
    local x, w, y, opts = ctx.saved[1], ctx.saved[2], ctx.saved[3], ctx.opts
    gy = core.contiguous(gy)
    if opts and opts.activation then
      gy = core.eltwise_backward(opts.activation, gy, y, 0, 0)
    end
    local gx, gw, gb
    if ctx.needs[1] then gx = core.deconv2d_backward_data(gy, w, x:size(), opts) end
    if ctx.needs[2] or ctx.needs[3] then
      gw, gb = core.deconv2d_backward_weights(gy, x, w:size(), opts, ctx.has_bias)
    end
    return gx, gw, gb
  end,
}

--- Max or mean pooling ("max" | "mean") of x W×H×C×N; `opts` as
-- cnn.core.pool2d: {window=, stride=, pad=, count_include_pad=}. Mean
-- pooling divides by the window's size, padding included, unless
-- count_include_pad is false: then by its pixels inside the image.
-- @function pool2d
-- @param kind "max" or "mean"
-- @tparam Tensor x W×H×C×N
-- @tparam table opts window, stride (the window), pad (0), count_include_pad (true)
-- @treturn Tensor
-- @usage cnn.pool2d("max", x, {window = {2, 2}})
ops.pool2d = op{
  name = "pool2d",
  forward = function(ctx, kind, x, opts)
    local y, ws = core.pool2d(kind, x, opts, ctx.recording)
    if ctx.recording then
      ctx.kind, ctx.sizes, ctx.ws, ctx.opts = kind, x:size(), ws, opts
    end
    return y
  end,
  backward = function(ctx, gy)
    return nil, core.pool2d_backward(ctx.kind, core.contiguous(gy), ctx.sizes, ctx.ws, ctx.opts)
  end,
}

local FUSED = "conv2d_relu_maxpool"

-- conv_opts with activation "relu": the table itself when it says so
-- already (a Conv layer's options do), else a copy.
local function with_relu(conv_opts)
  if conv_opts == nil then return {activation = "relu"} end
  if type(conv_opts) ~= "table" then argcheck.fail(FUSED, "conv_opts", "a table or nil", conv_opts) end
  if conv_opts.activation == "relu" then return conv_opts end
  if conv_opts.activation ~= nil then
    argcheck.fail(FUSED, "conv_opts.activation", '"relu" or nil', conv_opts.activation)
  end
  local copy = {}
  for k, v in pairs(conv_opts) do copy[k] = v end
  copy.activation = "relu"
  return copy
end

-- The forward of the pair; its errors (from the core's conv2d or
-- pool2d) start with the op's name.
local function conv_relu_pool(ctx, x, w, b, conv_opts, pool_opts)
  local y = core.conv2d(x, w, b, conv_opts, ctx.recording)
  local p, ws = core.pool2d("max", y, pool_opts, ctx.recording)
  if ctx.recording then
    ctx:save(x, w, y, p)
    ctx.opts, ctx.has_bias, ctx.ws, ctx.pool_opts = conv_opts, b ~= nil, ws, pool_opts
  end
  return p
end

--- relu(conv2d(x, w, b)) followed by max pooling, as one op: the same
-- result and gradients as `cnn.pool2d("max", cnn.conv2d(x, w, b,
-- conv_opts), pool_opts)` with conv_opts' activation "relu", with less
-- work in the backward. The relu's backward is applied to the pooled
-- gradient, four times smaller with a 2×2 window, instead of the
-- convolution's: the maximum of a window of relu outputs is positive
-- exactly when the element its gradient goes back to is. A Chain calls
-- a Conv with `cnn.relu` and the MaxPool right after it through this op.
-- @function conv2d_relu_maxpool
-- @tparam Tensor x W×H×Cin×N
-- @tparam Tensor w kW×kH×Cin×Cout
-- @tparam[opt] Tensor b Cout
-- @tparam[opt] table conv_opts as conv2d's: stride (1), pad (0), dilation (1); activation "relu" or nil
-- @tparam table pool_opts as pool2d's: window, stride (the window), pad (0)
-- @treturn Tensor
-- @usage cnn.conv2d_relu_maxpool(x, w, b, {pad = 1}, {window = {2, 2}})
ops.conv2d_relu_maxpool = op{
  name = FUSED,
  forward = function(ctx, x, w, b, conv_opts, pool_opts)
    return errors.call_prefixed(FUSED, conv_relu_pool, ctx, x, w, b, with_relu(conv_opts), pool_opts)
  end,
  backward = function(ctx, gp)
    local y, p = ctx.saved[3], ctx.saved[4]
    gp = core.eltwise_backward("relu", core.contiguous(gp), p, 0, 0)
    local gy = core.pool2d_backward("max", gp, y:size(), ctx.ws, ctx.pool_opts)
    return conv2d_backward(ctx, gy)
  end,
}

--- Affine layer w x .+ b: x in×N (or a vector of length in, giving a
-- vector), w out×in, b out (or nil).
-- @function dense
-- @tparam Tensor x in×N, or a vector
-- @tparam Tensor w out×in
-- @tparam[opt] Tensor b out
-- @treturn Tensor
-- @usage cnn.dense(x, w, b)
ops.dense = op{
  name = "dense",
  forward = function(ctx, x, w, b)
    if not is_tensor(x) then argcheck.fail("dense", "x", "a tensor", x) end
    local vec = x:ndims() == 1
    if vec then x = core.reshape(x, x:numel(), 1) end
    local y = core.dense(x, w, b)
    if ctx.recording then
      ctx:save(x, w)
      ctx.vec, ctx.has_bias = vec, b ~= nil
    end
    return vec and core.reshape(y, -1) or y
  end,
  backward = function(ctx, gy)
    local x, w = ctx.saved[1], ctx.saved[2]
    if ctx.vec then gy = core.reshape(gy, gy:numel(), 1) end
    gy = core.contiguous(gy)
    local gx, gw, gb
    if ctx.needs[1] then
      gx = core.dense_backward_data(gy, w)
      if ctx.vec then gx = core.reshape(gx, -1) end
    end
    if ctx.needs[2] or ctx.needs[3] then
      gw, gb = core.dense_backward_weights(gy, x, ctx.has_bias)
    end
    return gx, gw, gb
  end,
}

-- Sizes that broadcast a per-channel vector against x: all 1 but the
-- channel dimension (dim ndims-1 of W×H×C×N, dim 1 of features×N).
local function channel_sizes(x)
  local n = x:ndims()
  local c = n >= 3 and n - 1 or 1
  local sizes = {}
  for d = 1, n do sizes[d] = d == c and x:size(d) or 1 end
  return sizes
end

-- Backward of batch normalisation with fixed statistics (test mode):
-- y = gamma (x - m) / sqrt(v + eps) + beta.
local function batchnorm_backward_fixed(ctx, gy)
  local x, gamma, m, v = ctx.saved[1], ctx.saved[2], ctx.saved[3], ctx.saved[4]
  local bs = ctx.bshape
  local inv = core.reshape(core.div(1, core.sqrt(core.add(v, ctx.eps))), bs)
  local gx, gg, gb
  if ctx.needs[1] then gx = core.mul(gy, core.mul(core.reshape(gamma, bs), inv)) end
  if ctx.needs[2] then
    local xhat = core.mul(core.sub(x, core.reshape(m, bs)), inv)
    gg = core.reshape(core.sum_to(core.mul(gy, xhat), bs), -1)
  end
  if ctx.needs[3] then gb = core.reshape(core.sum_to(gy, bs), -1) end
  return gx, gg, gb
end

--- Batch normalisation over the channel dimension. In training mode
-- uses the batch statistics and updates running_mean/running_var in
-- place (r = (1-momentum) r + momentum batch); otherwise uses them.
-- @function batchnorm
-- @tparam Tensor x W×H×C×N or C×N
-- @tparam Tensor gamma C
-- @tparam Tensor beta C
-- @tparam Tensor running_mean C, updated in training mode
-- @tparam Tensor running_var C, updated in training mode
-- @tparam boolean training
-- @param[opt=0.1] momentum
-- @param[opt=1e-5] eps
-- @treturn Tensor
-- @usage cnn.batchnorm(x, g, b, rm, rv, true)
ops.batchnorm = op{
  name = "batchnorm",
  forward = function(ctx, x, gamma, beta, rm, rv, training, momentum, eps)
    local y, sm, sv = core.batchnorm(x, gamma, beta, rm, rv, training, momentum, eps)
    if ctx.recording then
      ctx.training, ctx.eps = training, eps
      if training then
        ctx:save(x, gamma, sm, sv)
      else
        ctx:save(x, gamma, core.clone(rm), core.clone(rv))
        ctx.bshape = channel_sizes(x)
      end
    end
    return y
  end,
  backward = function(ctx, gy)
    if not ctx.training then return batchnorm_backward_fixed(ctx, gy) end
    local s = ctx.saved
    return core.batchnorm_backward(core.contiguous(gy), s[1], s[2], s[3], s[4], ctx.eps)
  end,
}

--- Layer normalisation: the first `dims` sizes of x normalised
-- together, y = (x - mean) / sqrt(var + eps) over each slice of those
-- sizes (the variance biased, as Flux's and PyTorch's), then
-- `gamma .* y .+ beta` elementwise when gamma and beta are given (both
-- of x's first dims sizes). Flux's `normalise(x; dims = 1:dims)` with
-- LayerNorm's affine; on oneDNN's layer normalisation.
-- @function layernorm
-- @tparam Tensor x d1×...×dk×... (k = dims)
-- @int dims how many leading dimensions are normalised together (1 to ndims)
-- @tparam[opt] Tensor gamma d1×...×dk, or nil
-- @tparam[opt] Tensor beta d1×...×dk, or nil (with gamma)
-- @param[opt=1e-5] eps
-- @treturn Tensor of x's sizes
-- @usage cnn.layernorm(cnn.rand(5, 8), 1, cnn.ones(5), cnn.zeros(5))
-- cnn.layernorm(cnn.rand(4, 4, 3, 2), 3) -- each image on its own
ops.layernorm = op{
  name = "layernorm",
  forward = function(ctx, x, dims, gamma, beta, eps)
    eps = eps or 1e-5
    local y, mean, var = core.layernorm(x, dims, gamma, beta, eps)
    if ctx.recording then
      ctx:save(x, gamma, mean, var)
      ctx.dims, ctx.eps = dims, eps
    end
    return y
  end,
  backward = function(ctx, gy)
    local s = ctx.saved
    local gx, gg, gb = core.layernorm_backward(core.contiguous(gy), s[1], ctx.dims, s[2], s[3],
                                               s[4], ctx.eps)
    return gx, nil, gg, gb
  end,
}

--- Group normalisation: the C channels of each sample of x (C the
-- second-to-last dimension, of W×H×C×N or C×N) in `groups` groups of
-- C/groups consecutive channels, each group of each sample normalised by
-- its own mean and (biased) variance, then `gamma[c] x̂ .+ beta[c]` per
-- channel when gamma and beta are given. groups = C is instance
-- normalisation. The normalisation runs on oneDNN's layer normalisation
-- of x seen as a (W·H·C/groups)×(groups·N) matrix, gamma and beta in C.
-- @function groupnorm
-- @tparam Tensor x W×H×C×N (or any ...×C×N)
-- @int groups dividing C
-- @tparam[opt] Tensor gamma C, or nil
-- @tparam[opt] Tensor beta C, or nil (with gamma)
-- @param[opt=1e-5] eps
-- @treturn Tensor of x's sizes
-- @usage cnn.groupnorm(cnn.rand(8, 8, 32, 4), 8, cnn.ones(32), cnn.zeros(32))
-- cnn.groupnorm(x, x:size(3)) -- instance normalisation
ops.groupnorm = op{
  name = "groupnorm",
  forward = function(ctx, x, groups, gamma, beta, eps)
    eps = eps or 1e-5
    local y, mean, var = core.groupnorm(x, groups, gamma, beta, eps)
    if ctx.recording then
      ctx:save(x, gamma, mean, var)
      ctx.groups, ctx.eps = groups, eps
    end
    return y
  end,
  backward = function(ctx, gy)
    local s = ctx.saved
    local gx, gg, gb = core.groupnorm_backward(core.contiguous(gy), s[1], ctx.groups, s[2], s[3],
                                               s[4], ctx.eps)
    return gx, nil, gg, gb
  end,
}

--- Dropout as Flux: with `active` (default true), each element is zeroed
-- with probability p (in [0, 1)) and the others are scaled by 1/(1-p);
-- otherwise x.
-- @function dropout
-- @tparam Tensor x
-- @param p the probability of zeroing, in [0, 1)
-- @param[opt=true] active
-- @treturn Tensor
-- @usage cnn.dropout(x, 0.5)
function ops.dropout(x, p, active)
  argcheck.tensor("dropout", "x", x)
  argcheck.number("dropout", "p", p, "[0, 1)")
  if argcheck.optional_boolean("dropout", "active", active, true) == false or p == 0 then return x end
  local mask = core.mul(core.gt(core.rand(x:size()), p), 1 / (1 - p))
  return algebra.mul(x, mask)
end

return ops

--- Differentiable ops: tensor algebra, reductions, shapes and layer kernels.
--
-- Each op is made with `cnn.op`: its forward calls `cnn.core`, its backward
-- sits right under it. Outside a gradient call an op is a plain call to
-- `cnn.core`. The arithmetic operators of tensors (`+ - * / ^` and unary
-- minus, elementwise with broadcasting) and the methods `t:sum()`,
-- `t:reshape(...)`, `t:exp()`, ... are these ops too, so a loss written
-- with them is differentiated.
-- @module cnn.ops

--- The differentiable ops behind `cnn`, operators and methods:
-- add, sub, mul, div, pow, neg, matmul, sum, mean, conv2d, pool2d, ...
-- @table ops
-- @usage local ops = cnn.ops
-- ops.add(a, b)
local core = require "cnn.core"
local argcheck = require "cnn.argcheck"
local errors = require "cnn.errors"
local autograd = require "cnn.autograd"

local op = autograd.op

local Tensor = core.Tensor

local is_tensor = argcheck.is_tensor

-- The table of Tensor methods (core.Tensor.methods, which the __index of
-- tensors consults at call time).
local function method_table(mt)
  local methods = rawget(mt, "methods")
  if type(methods) == "table" then return methods end
  local index = rawget(mt, "__index")
  if type(index) == "table" then return index end
  error("cnn.ops: cannot find the Tensor method table")
end

local ops = {}

-- Writing into `out` would overwrite a value the backward may need, so
-- it is allowed only outside a gradient call.
local function unrecorded_out(ctx, name, ...)
  if ctx.recording then
    error(("%s: out is not allowed on tracked tensors inside a gradient call"):format(name), 0)
  end
  return core[name](...)
end

-- Algebra --------------------------------------------------------------

--- a + b, elementwise with broadcasting (numbers on either side).
ops.add = op{
  name = "add",
  forward = function(ctx, a, b, out)
    if out then return unrecorded_out(ctx, "add", a, b, out) end
    return core.add(a, b)
  end,
  backward = function(_, gy) return gy, gy end,
}

--- a - b, elementwise with broadcasting.
ops.sub = op{
  name = "sub",
  forward = function(ctx, a, b, out)
    if out then return unrecorded_out(ctx, "sub", a, b, out) end
    return core.sub(a, b)
  end,
  backward = function(ctx, gy)
    return gy, ctx.needs[2] and core.neg(gy)
  end,
}

--- a .* b, elementwise with broadcasting.
ops.mul = op{
  name = "mul",
  forward = function(ctx, a, b, out)
    if out then return unrecorded_out(ctx, "mul", a, b, out) end
    ctx:save(a, b)
    return core.mul(a, b)
  end,
  backward = function(ctx, gy)
    local a, b = ctx.saved[1], ctx.saved[2]
    return ctx.needs[1] and core.mul(gy, b), ctx.needs[2] and core.mul(gy, a)
  end,
}

--- a ./ b, elementwise with broadcasting.
ops.div = op{
  name = "div",
  forward = function(ctx, a, b, out)
    if out then return unrecorded_out(ctx, "div", a, b, out) end
    local y = core.div(a, b)
    ctx:save(b, y)
    return y
  end,
  backward = function(ctx, gy)
    local b, y = ctx.saved[1], ctx.saved[2]
    local ga = core.div(gy, b)
    -- d(a/b)/db = -y/b
    return ga, ctx.needs[2] and core.neg(core.mul(ga, y))
  end,
}

--- a .^ b, elementwise with broadcasting.
ops.pow = op{
  name = "pow",
  forward = function(ctx, a, b, out)
    if out then return unrecorded_out(ctx, "pow", a, b, out) end
    local y = core.pow(a, b)
    ctx:save(a, b, y)
    return y
  end,
  backward = function(ctx, gy)
    local a, b, y = ctx.saved[1], ctx.saved[2], ctx.saved[3]
    local ga, gb
    if ctx.needs[1] then
      ga = core.mul(gy, core.mul(b, core.pow(a, core.sub(b, 1))))
    end
    if ctx.needs[2] then
      local log_a = type(a) == "number" and math.log(a) or core.log(a)
      gb = core.mul(gy, core.mul(y, log_a))
    end
    return ga, gb
  end,
}

--- -x.
ops.neg = op{
  name = "neg",
  forward = function(ctx, x, out)
    if out then return unrecorded_out(ctx, "neg", x, out) end
    return core.neg(x)
  end,
  backward = function(_, gy) return core.neg(gy) end,
}

local function vector_as_row(v)
  return core.reshape(v, 1, v:numel())
end

--- Matrix product: a m×k times b k×n (or a vector of length k) gives
-- m×n (or a vector of length m).
ops.matmul = op{
  name = "matmul",
  forward = function(ctx, a, b)
    ctx:save(a, b)
    return core.matmul(a, b)
  end,
  backward = function(ctx, gy)
    local a, b = ctx.saved[1], ctx.saved[2]
    local ga, gb
    if b:ndims() == 1 then
      -- y = A b: dA = gy b', db = A' gy
      if ctx.needs[1] then ga = core.matmul(core.reshape(gy, gy:numel(), 1), vector_as_row(b)) end
      if ctx.needs[2] then gb = core.matmul(core.transpose(a), gy) end
    else
      if ctx.needs[1] then ga = core.matmul(gy, core.transpose(b)) end
      if ctx.needs[2] then gb = core.matmul(core.transpose(a), gy) end
    end
    return ga, gb
  end,
}

--- Transpose of a matrix (a copy).
ops.transpose = op{
  name = "transpose",
  forward = function(_, a) return core.transpose(a) end,
  backward = function(_, gy) return core.transpose(gy) end,
}

-- Shapes -------------------------------------------------------------

--- x with new sizes (integers or one table; -1 once for "the rest").
-- @function reshape
-- @tparam Tensor x
-- @param ... the new sizes
-- @treturn Tensor
-- @usage cnn.reshape(cnn.ones(2, 3), 3, 2)
-- x:reshape(-1, 64)
ops.reshape = op{
  name = "reshape",
  forward = function(ctx, x, ...)
    if ctx.recording then ctx.sizes = x:size() end
    return core.reshape(x, ...)
  end,
  backward = function(ctx, gy) return core.reshape(gy, ctx.sizes) end,
}

--- Flux's flatten: all dimensions but the last merged into one,
-- W×H×C×N → (W·H·C)×N.
-- @function flatten
-- @tparam Tensor x
-- @treturn Tensor
-- @usage cnn.flatten(cnn.ones(7, 7, 16, 64)):size() --> {784, 64}
function ops.flatten(x)
  argcheck.tensor("flatten", "x", x)
  local n = x:ndims()
  if n == 0 then return ops.reshape(x, 1, 1) end
  -- the size of the merged dimension given, so that an empty batch works
  local sizes, merged = x:size(), 1
  for d = 1, n - 1 do merged = merged * sizes[d] end
  return ops.reshape(x, merged, sizes[n])
end

--- A copy of x (differentiable).
ops.clone = op{
  name = "clone",
  forward = function(_, x) return core.clone(x) end,
  backward = function(_, gy) return gy end,
}

--- x itself when contiguous, else a contiguous copy (differentiable).
ops.contiguous = op{
  name = "contiguous",
  forward = function(_, x) return core.contiguous(x) end,
  backward = function(_, gy) return gy end,
}

-- An op taking a view of x; its gradient is gy written into the same
-- view of zeros of the size of x.
local function view_op(name)
  return op{
    name = name,
    forward = function(ctx, x, ...)
      if ctx.recording then ctx.sizes, ctx.args = x:size(), table.pack(...) end
      return core[name](x, ...)
    end,
    backward = function(ctx, gy)
      local gx = core.zeros(ctx.sizes)
      core.copy(core[name](gx, table.unpack(ctx.args, 1, ctx.args.n)), gy)
      return gx
    end,
  }
end
--- select(x, dim, i): the slice at index i of dimension dim (a view).
ops.select = view_op("select")
--- slice(x, dim, first, last): indices first..last of dimension dim.
ops.slice = view_op("slice")
--- narrow(x, dim, first, len): len indices of dim from first.
ops.narrow = view_op("narrow")

-- Reductions ---------------------------------------------------------

-- gy spread back over `sizes` (the reverse of a reduction).
local function spread(gy, sizes)
  if gy:ndims() == 0 then return core.fill(gy:item(), sizes) end
  local out = core.zeros(sizes)
  return core.add(out, gy, out)
end

--- Sum of all elements (a number, or a 0-dim tensor when recorded), or
-- along dimension `dim` (that dimension becomes size 1).
ops.sum = op{
  name = "sum",
  forward = function(ctx, x, dim)
    if ctx.recording then ctx.sizes = x:size() end
    return core.sum(x, dim)
  end,
  backward = function(ctx, gy) return spread(gy, ctx.sizes) end,
}

local function count(sizes, dim)
  if dim then return sizes[dim] or 1 end
  local n = 1
  for d = 1, #sizes do n = n * sizes[d] end
  return n
end

--- Mean of all elements, or along dimension `dim`.
ops.mean = op{
  name = "mean",
  forward = function(ctx, x, dim)
    if ctx.recording then ctx.sizes, ctx.dim = x:size(), dim end
    return core.mean(x, dim)
  end,
  backward = function(ctx, gy)
    return spread(core.div(gy, count(ctx.sizes, ctx.dim)), ctx.sizes)
  end,
}

-- Elementwise functions on oneDNN's eltwise --------------------------

local uses_dst = {}
local function backward_uses_dst(kind)
  local u = uses_dst[kind]
  if u == nil then
    u = core.eltwise_uses_dst(kind)
    uses_dst[kind] = u
  end
  return u
end

--- An op y = f(x) on oneDNN's eltwise kind `kind`, with an optional
-- parameter (`alpha`, default `default_alpha`) as second argument.
function ops.eltwise_op(name, kind, default_alpha, beta)
  argcheck.string("eltwise_op", "name", name)
  argcheck.string("eltwise_op", "kind", kind)
  argcheck.optional_number("eltwise_op", "default_alpha", default_alpha)
  beta = argcheck.optional_number("eltwise_op", "beta", beta, 0)
  return op{
    name = name,
    forward = function(ctx, x, alpha)
      if not is_tensor(x) then
        error(("%s: expected a tensor, got %s"):format(name, type(x)), 0)
      end
      alpha = alpha or default_alpha or 0
      x = core.contiguous(x)
      local y = core.eltwise(kind, x, alpha, beta)
      if ctx.recording then
        ctx.alpha = alpha
        ctx:save(backward_uses_dst(kind) and y or x)
      end
      return y
    end,
    backward = function(ctx, gy)
      return core.eltwise_backward(kind, core.contiguous(gy), ctx.saved[1], ctx.alpha, beta)
    end,
  }
end

-- exp.(x), log.(x), sqrt.(x), abs.(x) on cnn.core's elementwise maths;
-- `out` as cnn.core's.
local function unary_op(name, derivative)
  return op{
    name = name,
    forward = function(ctx, x, out)
      if out then return unrecorded_out(ctx, name, x, out) end
      local y = core[name](x)
      if ctx.recording then ctx:save(x, y) end
      return y
    end,
    backward = function(ctx, gy)
      return derivative(gy, ctx.saved[1], ctx.saved[2])
    end,
  }
end
--- exp.(x)
ops.exp = unary_op("exp", function(gy, _, y) return core.mul(gy, y) end)
--- log.(x)
ops.log = unary_op("log", function(gy, x) return core.div(gy, x) end)
--- sqrt.(x)
ops.sqrt = unary_op("sqrt", function(gy, _, y) return core.div(core.mul(gy, 0.5), y) end)
--- abs.(x)
ops.abs = unary_op("abs", function(gy, x)
  return core.mul(gy, core.sub(core.gt(x, 0), core.lt(x, 0)))
end)

-- Layer kernels -------------------------------------------------------

-- Max pooling right after a convolution with fused relu applies the
-- relu's backward to its own, four times smaller, gradient: the maximum
-- of a window of relu outputs is positive exactly when the element the
-- gradient goes back to is, so masking by the pooled output gives the
-- same input gradient. The convolution then skips its relu backward for
-- a gradient marked here (one that was summed with others is not, and
-- masking twice changes nothing).
local relu_outputs = setmetatable({}, {__mode = "k"})
local relu_masked = setmetatable({}, {__mode = "k"})

--- 2-D convolution (cross-correlation) of x W×H×Cin×N with w
-- kW×kH×Cin×Cout and bias b (Cout, or nil). `opts` as cnn.core.conv2d:
-- {stride=, pad=, dilation=, activation="relu"|nil}; the activation is
-- fused into the convolution.
-- @function conv2d
-- @tparam Tensor x W×H×Cin×N
-- @tparam Tensor w kW×kH×Cin×Cout
-- @tparam[opt] Tensor b Cout
-- @tparam[opt] table opts stride (1), pad (0), dilation (1), activation (nil or "relu")
-- @treturn Tensor
-- @usage cnn.conv2d(x, w, b, {pad = 1, activation = "relu"})
ops.conv2d = op{
  name = "conv2d",
  forward = function(ctx, x, w, b, opts)
    -- not recorded, no backward follows: oneDNN's inference forward
    local y = core.conv2d(x, w, b, opts, ctx.recording)
    if ctx.recording then
      ctx:save(x, w, y)
      ctx.opts, ctx.has_bias = opts, b ~= nil
      if opts and opts.activation then relu_outputs[y] = true end
    end
    return y
  end,
  backward = function(ctx, gy)
    local x, w, y = ctx.saved[1], ctx.saved[2], ctx.saved[3]
    local opts = ctx.opts
    gy = core.contiguous(gy)
    if opts and opts.activation and not relu_masked[gy] then
      -- the fused activation's backward works from the output
      gy = core.eltwise_backward(opts.activation, gy, y, 0, 0)
    end
    local gx, gw, gb
    if ctx.needs[1] then gx = core.conv2d_backward_data(gy, w, x:size(), opts) end
    if ctx.needs[2] or ctx.needs[3] then
      gw, gb = core.conv2d_backward_weights(gy, x, w:size(), opts, ctx.has_bias)
    end
    return gx, gw, gb
  end,
}

--- Max or mean pooling ("max" | "mean") of x W×H×C×N; `opts` as
-- cnn.core.pool2d: {window=, stride=, pad=}.
-- @function pool2d
-- @param kind "max" or "mean"
-- @tparam Tensor x W×H×C×N
-- @tparam table opts window, stride (the window), pad (0)
-- @treturn Tensor
-- @usage cnn.pool2d("max", x, {window = {2, 2}})
ops.pool2d = op{
  name = "pool2d",
  forward = function(ctx, kind, x, opts)
    local y, ws = core.pool2d(kind, x, opts, ctx.recording)
    if ctx.recording then
      ctx.kind, ctx.sizes, ctx.ws, ctx.opts = kind, x:size(), ws, opts
      if kind == "max" and relu_outputs[x] then ctx.y = y end
    end
    return y
  end,
  backward = function(ctx, gy)
    gy = core.contiguous(gy)
    if ctx.y then gy = core.eltwise_backward("relu", gy, ctx.y, 0, 0) end
    local gx = core.pool2d_backward(ctx.kind, gy, ctx.sizes, ctx.ws, ctx.opts)
    if ctx.y then relu_masked[gx] = true end
    return nil, gx
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
  return ops.mul(x, mask)
end

-- Non-differentiable ops ---------------------------------------------

local function nondifferentiable(name, f)
  argcheck.string("nondifferentiable", "name", name)
  argcheck.callable("nondifferentiable", "f", f)
  return op{name = name, differentiable = false,
            forward = function(_, ...) return f(...) end}
end
ops.nondifferentiable = nondifferentiable

-- Comparisons: Float32 masks of 0 and 1, not differentiable.
for _, name in ipairs{"eq", "ne", "lt", "le", "gt", "ge", "argmax", "argmin"} do
  ops[name] = nondifferentiable(name, function(...) return core[name](...) end)
end

-- Julia's elementwise max.(a, b) and min.(a, b), under Julia's names:
-- cnn.maximum and cnn.minimum are the reductions, as in Julia, while
-- core calls these two maximum and minimum.
local function elementwise(name, from)
  return nondifferentiable(name, function(...) return errors.call_renamed(name, from, core[from], ...) end)
end
--- The larger of a and b, element by element, with broadcasting (Julia's
-- max.(a, b)); not differentiable. The largest element of one tensor is
-- cnn.maximum.
-- @function max
-- @param a a tensor or a number
-- @param b a tensor or a number
-- @treturn Tensor
-- @usage cnn.max(cnn.tensor{1, 5, 3}, cnn.tensor{4, 2, 3}) -- 4, 5, 3
-- cnn.max(x, 0) -- relu's values, without its gradient
ops.max = elementwise("max", "maximum")
--- The smaller of a and b, element by element, with broadcasting (Julia's
-- min.(a, b)); not differentiable. The smallest element of one tensor is
-- cnn.minimum.
-- @function min
-- @param a a tensor or a number
-- @param b a tensor or a number
-- @treturn Tensor
-- @usage cnn.min(x, 1)
ops.min = elementwise("min", "minimum")

-- Operators and methods ----------------------------------------------

local mt = Tensor
-- The C versions, kept once even if this part is loaded again.
local raw = rawget(mt, "__cnn_raw_operators")
if not raw then
  raw = {}
  for _, k in ipairs{"__add", "__sub", "__mul", "__div", "__unm", "__pow"} do raw[k] = mt[k] end
  rawset(mt, "__cnn_raw_operators", raw)
end
ops.raw_operators = raw
mt.__add = ops.add
mt.__sub = ops.sub
mt.__mul = ops.mul
mt.__div = ops.div
mt.__pow = ops.pow
-- Lua passes the operand twice to __unm; neg's second argument is `out`.
mt.__unm = function(x) return ops.neg(x) end

-- Tensor methods that are ops, so that t:sum() inside a loss is
-- recorded like cnn.sum(t).
local methods = method_table(mt)
for _, name in ipairs{"add", "sub", "mul", "div", "pow", "neg", "matmul", "transpose",
                      "reshape", "flatten", "sum", "mean", "exp", "log", "sqrt", "abs",
                      "clone", "contiguous", "select", "slice", "narrow"} do
  methods[name] = ops[name]
end
ops.method_table = methods
return ops

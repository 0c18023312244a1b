--- Activation functions: plain functions of a tensor, differentiable, as
-- Flux's (identity, relu, leakyrelu, elu, sigmoid (σ), tanh, gelu, softplus,
-- logsigmoid (Flux's logσ), swish, mish, relu6, hardtanh, hardsigmoid
-- (Flux's hardσ), selu, celu, softsign, softmax, logsoftmax). Elementwise
-- ones run on oneDNN's eltwise primitive, or are composed of the ops that
-- do; softmax and logsoftmax work over dimension 1 (the classes of a
-- classes×N tensor).
-- @module cnn.activations

local core = require "cnn.core"
local argcheck = require "cnn.argcheck"
local autograd = require "cnn.autograd"
local ops = require "cnn.ops"

local eltwise_op = ops.eltwise_op
local act = {}

--- x itself, as Flux's identity: the activation of a layer that has
-- none, usable wherever an activation or a layer goes (a layer with it
-- prints as one without an activation, as in Flux).
-- @function identity
-- @param x any value
-- @return x
-- @usage cnn.Dense(4, 2, cnn.identity)
-- cnn.Chain(cnn.Dense(4, 2), cnn.identity)
function act.identity(x) return x end

--- max(x, 0)
-- @function relu
-- @tparam Tensor x
-- @treturn Tensor
-- @usage cnn.relu(cnn.tensor{-1, 2}) -- 0, 2
act.relu = eltwise_op("relu", "relu", 0)
local leaky = eltwise_op("leakyrelu", "relu", 0.01)
--- x for x > 0, a·x otherwise (a = 0.01 by default).
-- @function leakyrelu
-- @tparam Tensor x
-- @param[opt=0.01] a the slope below 0
-- @treturn Tensor
-- @usage cnn.leakyrelu(x, 0.2)
function act.leakyrelu(x, a)
  return leaky(x, argcheck.optional_number("leakyrelu", "a", a, 0.01))
end
local elu = eltwise_op("elu", "elu", 1)
--- x for x > 0, a·(exp(x) - 1) otherwise (a = 1 by default).
-- @function elu
-- @tparam Tensor x
-- @param[opt=1] a the scale below 0
-- @treturn Tensor
-- @usage cnn.elu(x)
function act.elu(x, a)
  return elu(x, argcheck.optional_number("elu", "a", a, 1))
end
local sigmoid = eltwise_op("sigmoid", "sigmoid")
--- 1 / (1 + exp(-x))
-- @function sigmoid
-- @tparam Tensor x
-- @treturn Tensor
-- @usage cnn.sigmoid(cnn.randn(10, 4))
function act.sigmoid(x) return sigmoid(x) end
local tanh = eltwise_op("tanh", "tanh")
--- tanh(x)
-- @function tanh
-- @tparam Tensor x
-- @treturn Tensor
-- @usage cnn.tanh(cnn.randn(10, 4))
function act.tanh(x) return tanh(x) end
local gelu = eltwise_op("gelu", "gelu")
--- Gaussian error linear unit, tanh approximation (as Flux's gelu).
-- @function gelu
-- @tparam Tensor x
-- @treturn Tensor
-- @usage cnn.gelu(cnn.randn(10, 4))
function act.gelu(x) return gelu(x) end
local softplus = eltwise_op("softplus", "softplus")
--- log(1 + exp(x))
-- @function softplus
-- @tparam Tensor x
-- @treturn Tensor
-- @usage cnn.softplus(cnn.randn(10, 4))
function act.softplus(x) return softplus(x) end
--- log(sigmoid(x)) = -softplus(-x), without overflow.
-- @function logsigmoid
-- @tparam Tensor x
-- @treturn Tensor
-- @usage cnn.logsigmoid(cnn.randn(10, 4))
function act.logsigmoid(x)
  argcheck.tensor("logsigmoid", "x", x, "Float32")
  return ops.neg(softplus(ops.neg(x)))
end

-- Flux's `dims` of softmax: 1 (the default, the classes of a classes×N
-- tensor, on oneDNN's softmax) or another dimension of x. Returns the
-- dimension; one that x does not have is an error.
local function softmax_dims(fname, x, dims)
  if dims == nil or dims == 1 then return 1 end
  argcheck.tensor(fname, "x", x, "Float32")
  argcheck.integer(fname, "dims", dims, 1)
  local n = x:ndims()
  if dims > n then
    argcheck.raise(("%s: dims = %d, but x has %d dimension%s"):format(fname, dims, n,
      n == 1 and "" or "s"))
  end
  return dims
end

-- logsoftmax along dimension d > 1, from differentiable ops:
-- x .- m .- log.(sum(exp.(x .- m), dims=d)), m the maximum along d, a
-- constant (the result does not depend on it).
local function logsoftmax_along(x, d)
  local shifted = ops.sub(x, core.maximum(x, d))
  return ops.sub(shifted, ops.log(ops.sum(ops.exp(shifted), d)))
end

local function softmax_op(name, log)
  return autograd.op{
    name = name,
    forward = function(ctx, x)
      if getmetatable(x) ~= core.Tensor then
        error(("%s: expected a tensor, got %s"):format(name, type(x)), 0)
      end
      local y = core.softmax(core.contiguous(x), log)
      ctx:save(y)
      return y
    end,
    backward = function(ctx, gy)
      return core.softmax_backward(core.contiguous(gy), ctx.saved[1], log)
    end,
  }
end
--- exp.(x) ./ sum(exp.(x), dims=dims), as Flux's `softmax(x; dims=1)`.
-- @function softmax
-- @tparam Tensor x classes×N (classes along dims)
-- @tparam[opt=1] integer dims the dimension normalised (1 runs on
-- oneDNN's softmax; any other is computed from exp, sum and division)
-- @treturn Tensor each slice along dims sums to 1
-- @usage local p = cnn.softmax(model(x))
-- local rows = cnn.softmax(cnn.randn(3, 4), 2) -- each row sums to 1
local softmax = softmax_op("softmax", false)
function act.softmax(x, dims)
  local d = softmax_dims("softmax", x, dims)
  if d == 1 then return softmax(x) end
  return ops.exp(logsoftmax_along(x, d))
end
--- x .- log.(sum(exp.(x), dims=dims)), computed stably, as Flux's
-- `logsoftmax(x; dims=1)`.
-- @function logsoftmax
-- @tparam Tensor x classes×N (classes along dims)
-- @tparam[opt=1] integer dims the dimension normalised (1 runs on
-- oneDNN's softmax; any other is computed from exp, sum and log)
-- @treturn Tensor
-- @usage cnn.logsoftmax(logits)
-- cnn.logsoftmax(cnn.randn(3, 4), 2)
local logsoftmax = softmax_op("logsoftmax", true)
function act.logsoftmax(x, dims)
  local d = softmax_dims("logsoftmax", x, dims)
  if d == 1 then return logsoftmax(x) end
  return logsoftmax_along(x, d)
end

-- clamp(x, lo, hi) under `name`, on oneDNN's clip_v2 (the gradient 1
-- strictly between the bounds, 0 elsewhere).
local function clip_op(name)
  return autograd.op{
    name = name,
    forward = function(ctx, x, lo, hi)
      x = core.contiguous(x)
      if ctx.recording then
        ctx:save(x)
        ctx.lo, ctx.hi = lo, hi
      end
      return core.hardtanh(x, lo, hi)
    end,
    backward = function(ctx, gy)
      return core.hardtanh_backward(core.contiguous(gy), ctx.saved[1], ctx.lo, ctx.hi)
    end,
  }
end
local hardtanh_op = clip_op("hardtanh")
--- min(max(x, lo), hi), as Flux's hardtanh (lo = -1, hi = 1); the
-- gradient is 1 strictly between the bounds and 0 elsewhere.
-- @function hardtanh
-- @tparam Tensor x
-- @tparam[opt=-1] number lo the lower bound
-- @tparam[opt=1] number hi the upper bound, at least lo
-- @treturn Tensor
-- @usage cnn.hardtanh(cnn.tensor{-2, 0.5, 3}) -- -1, 0.5, 1
function act.hardtanh(x, lo, hi)
  argcheck.tensor("hardtanh", "x", x, "Float32")
  lo = argcheck.optional_number("hardtanh", "lo", lo, -1)
  hi = argcheck.optional_number("hardtanh", "hi", hi, 1)
  if lo > hi then
    argcheck.raise(("hardtanh: lo must be at most hi, got lo = %g and hi = %g"):format(lo, hi))
  end
  return hardtanh_op(x, lo, hi)
end

local swish = eltwise_op("swish", "swish", 1)
--- x · sigmoid(x), as Flux's swish (PyTorch's silu).
-- @function swish
-- @tparam Tensor x
-- @treturn Tensor
-- @usage cnn.swish(cnn.randn(10, 4))
function act.swish(x) return swish(x) end
local mish = eltwise_op("mish", "mish")
--- x · tanh(softplus(x)), as Flux's mish.
-- @function mish
-- @tparam Tensor x
-- @treturn Tensor
-- @usage cnn.mish(cnn.randn(10, 4))
function act.mish(x) return mish(x) end

local relu6_op = clip_op("relu6")
--- min(max(x, 0), 6), as Flux's relu6; the gradient is 1 strictly
-- between 0 and 6 and 0 elsewhere.
-- @function relu6
-- @tparam Tensor x
-- @treturn Tensor
-- @usage cnn.relu6(cnn.tensor{-1, 3, 8}) -- 0, 3, 6
function act.relu6(x)
  argcheck.tensor("relu6", "x", x, "Float32")
  return relu6_op(x, 0, 6)
end

-- clamp((x + 3) / 6, 0, 1) written in place into one result; the
-- gradient 1/6 strictly between -3 and 3.
local hardsigmoid_op = autograd.op{
  name = "hardsigmoid",
  forward = function(ctx, x)
    x = core.contiguous(x)
    if ctx.recording then ctx:save(x) end
    local y = core.eltwise("linear", x, 1 / 6, 0.5)
    core.max(y, 0, y)
    return core.min(y, 1, y)
  end,
  backward = function(ctx, gy)
    local g = core.hardtanh_backward(core.contiguous(gy), ctx.saved[1], -3, 3)
    return core.mul(g, 1 / 6, g)
  end,
}
--- max(0, min(1, (x + 3) / 6)), as Flux's hardsigmoid (hardσ); the
-- gradient is 1/6 strictly between -3 and 3 and 0 elsewhere.
-- @function hardsigmoid
-- @tparam Tensor x
-- @treturn Tensor
-- @usage cnn.hardsigmoid(cnn.tensor{-4, 0, 4}) -- 0, 0.5, 1
function act.hardsigmoid(x)
  argcheck.tensor("hardsigmoid", "x", x, "Float32")
  return hardsigmoid_op(x)
end

-- SELU's constants (Klambauer et al. 2017), as NNlib's.
local SELU_LAMBDA, SELU_ALPHA = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717
-- k·elu(x·s, alpha), scaled in place: selu (s = 1, k = λ, alpha = α)
-- and celu (s = 1/a, k = a, alpha = 1); the backward is elu's at x·s,
-- times k·s.
local function scaled_elu_op(name)
  return autograd.op{
    name = name,
    forward = function(ctx, x, s, alpha, k)
      x = core.contiguous(x)
      local t = s == 1 and x or core.mul(x, s)
      if ctx.recording then
        ctx:save(t)
        ctx.alpha, ctx.ks = alpha, k * s
      end
      local y = core.eltwise("elu", t, alpha, 0)
      return core.mul(y, k, y)
    end,
    backward = function(ctx, gy)
      local g = core.eltwise_backward("elu", core.contiguous(gy), ctx.saved[1], ctx.alpha, 0)
      if ctx.ks == 1 then return g end
      return core.mul(g, ctx.ks, g)
    end,
  }
end
local selu_op, celu_op = scaled_elu_op("selu"), scaled_elu_op("celu")

--- λ·x for x > 0, λ·α·(exp(x) - 1) otherwise, with λ ≈ 1.0507 and
-- α ≈ 1.6733, as Flux's selu.
-- @function selu
-- @tparam Tensor x
-- @treturn Tensor
-- @usage cnn.selu(cnn.randn(10, 4))
function act.selu(x)
  argcheck.tensor("selu", "x", x, "Float32")
  return selu_op(x, 1, SELU_ALPHA, SELU_LAMBDA)
end

--- x for x ≥ 0, a·(exp(x/a) - 1) otherwise (a = 1 by default), as
-- Flux's celu.
-- @function celu
-- @tparam Tensor x
-- @param[opt=1] a the scale below 0, not 0
-- @treturn Tensor
-- @usage cnn.celu(x)
-- cnn.celu(x, 0.5)
function act.celu(x, a)
  argcheck.tensor("celu", "x", x, "Float32")
  a = argcheck.optional_number("celu", "a", a, 1)
  if a == 0 then argcheck.fail("celu", "a", "a non-zero number", a) end
  if a == 1 then return elu(x, 1) end
  return celu_op(x, 1 / a, 1, a)
end

--- x / (1 + |x|), as Flux's softsign.
-- @function softsign
-- @tparam Tensor x
-- @treturn Tensor
-- @usage cnn.softsign(cnn.tensor{-1, 0, 3}) -- -0.5, 0, 0.75
local softsign_op = autograd.op{
  name = "softsign",
  forward = function(ctx, x)
    local d = core.abs(x)
    core.add(d, 1, d) -- 1 + |x|, kept for the backward: gy / (1 + |x|)²
    if ctx.recording then ctx:save(d) end
    return core.div(x, d)
  end,
  backward = function(ctx, gy)
    local d = ctx.saved[1]
    local t = core.mul(d, d)
    return core.div(gy, t, t)
  end,
}
function act.softsign(x)
  argcheck.tensor("softsign", "x", x, "Float32")
  return softsign_op(x)
end

local methods = ops.method_table
for name, f in pairs(act) do
  ops[name] = f
  methods[name] = f
end
return act

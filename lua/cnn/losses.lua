--- Loss functions, as Flux defines them, built from differentiable ops.
--
-- Each takes the prediction ŷ and the target y of exactly the same sizes
-- and returns a number (a 0-dim tensor inside a gradient call when ŷ is
-- tracked; `cnn.item` gives the number either way). Losses over classes
-- average over the samples: every dimension but the first, or but
-- `dims`. As in Flux, an options table last sets `agg` (how the losses
-- combine: "mean", "sum" or a function) and, for the cross-entropies,
-- `dims` (the dimension of the classes).
-- @module cnn.losses

local core = require "cnn.core"
local argcheck = require "cnn.argcheck"
local ops = require "cnn.ops"

--- eps(Float32), added inside logarithms as Flux does.
local EPS = 1.1920929e-7

local shape = argcheck.shape

-- The sizes of t, named `what` in messages: a tensor, not freed, of
-- `dtype` if given.
local function sizes_of(name, what, t, dtype)
  if not argcheck.is_tensor(t) then
    argcheck.raise(("%s: %s must be a tensor, got %s"):format(name, what, type(t)))
  end
  if t:isfreed() then argcheck.fail(name, what, "a live tensor", t) end
  local sizes = t:size()
  if dtype and t:dtype() ~= dtype then argcheck.fail(name, what, "a " .. dtype .. " tensor", t) end
  return sizes
end

local function check_sizes(name, yhat, y)
  local a, b = sizes_of(name, "prediction", yhat, "Float32"), sizes_of(name, "target", y)
  local same = #a == #b
  for d = 1, #a do same = same and a[d] == b[d] end
  if not same then
    argcheck.raise(("%s: prediction %s and target %s differ in size"):format(name, shape(yhat), shape(y)))
  end
end

-- s * k for a number or a 0-dim tensor s.
local function scale(s, k)
  if type(s) == "number" then return s * k end
  return ops.mul(s, k)
end

-- Number of samples when classes lie along dimension `dims`.
local function samples(y, dims)
  local n = y:numel() // math.max(y:size(dims) or 1, 1)
  return math.max(n, 1)
end

local CLASS_OPTIONS = {dims = true, agg = true}
local OPTIONS = {agg = true}

-- `agg`: "mean" (the default), "sum", or a function of the tensor of
-- losses (Flux's agg).
local function agg_option(name, agg)
  if agg == nil then return "mean" end
  if agg == "mean" or agg == "sum" or argcheck.is_callable(agg) then return agg end
  argcheck.fail(name, "agg", '"mean", "sum" or a function such as cnn.sum', agg)
end

-- Checks ŷ, y and the options of a loss without dims (`known`, the
-- valid options, agg alone by default); returns agg and the options.
local function checked(name, yhat, y, opts, known)
  check_sizes(name, yhat, y)
  opts = argcheck.options(name, opts, known or OPTIONS)
  return agg_option(name, opts.agg), opts
end

-- Checks ŷ, y and the options of a loss over classes: dims (1, the
-- default, or another dimension of ŷ) and agg (and the others of
-- `known`); returns dims, agg and the options.
local function checked_classes(name, yhat, y, opts, known)
  check_sizes(name, yhat, y)
  opts = argcheck.options(name, opts, known or CLASS_OPTIONS)
  local dims = opts.dims
  if dims == nil then
    dims = 1
  elseif dims ~= 1 then
    argcheck.integer(name, "dims", dims, 1)
    local n = yhat:ndims()
    if dims > n then
      argcheck.raise(("%s: dims = %d, but the prediction has %d dimension%s (%s)"):format(name, dims, n,
        n == 1 and "" or "s", shape(yhat)))
    end
  end
  return dims, agg_option(name, opts.agg), opts
end

-- The loss of classes along `dims` from terms whose sum along it is
-- minus each sample's loss: the mean over samples, the sum, or agg of
-- the tensor of the samples' losses.
local function class_loss(terms, y, dims, agg)
  if agg == "mean" then return scale(ops.sum(terms), -1 / samples(y, dims)) end
  if agg == "sum" then return scale(ops.sum(terms), -1) end
  return agg(ops.neg(ops.sum(terms, dims)))
end

-- The loss of elementwise terms: their mean, their sum, or agg of them.
local function elementwise_loss(terms, agg)
  if agg == "mean" then return ops.mean(terms) end
  if agg == "sum" then return ops.sum(terms) end
  return agg(terms)
end

local losses = {}

--- Cross-entropy of probabilities ŷ (e.g. softmax output) against y:
-- mean over samples of -Σ y .* log.(ŷ .+ eps(Float32)), as Flux's
-- `crossentropy(ŷ, y; dims=1, agg=mean)`.
--
-- Options: `dims`, the dimension of the classes (1, the default, or any
-- other dimension of ŷ: each sample's loss is the sum along it), and
-- `agg`, how the samples' losses combine: "mean" (the default), "sum",
-- or a function of the tensor of losses (size 1 along `dims`), such as
-- `function(l) return cnn.sum(l * w) end`.
-- @function crossentropy
-- @tparam Tensor yhat the prediction ŷ
-- @tparam Tensor y the target, of the same sizes
-- @tparam[opt] table opts dims (1), agg ("mean")
-- @return a number (a 0-dim tensor when recorded)
-- @usage local loss = function(x, y) return cnn.crossentropy(cnn.softmax(model(x)), y) end
-- local total = cnn.crossentropy(cnn.tensor{{0.9, 0.1}}, cnn.tensor{{1, 0}}, {dims = 2, agg = "sum"})
function losses.crossentropy(yhat, y, opts)
  local dims, agg = checked_classes("crossentropy", yhat, y, opts)
  return class_loss(ops.mul(y, ops.log(ops.add(yhat, EPS))), y, dims, agg)
end

--- Cross-entropy of logits ŷ against y: mean over samples of
-- -Σ y .* logsoftmax(ŷ); more stable than crossentropy(softmax(ŷ), y).
-- As Flux's `logitcrossentropy(ŷ, y; dims=1, agg=mean)`: the options
-- `dims` (the dimension of the classes, along which logsoftmax works) and
-- `agg` are those of `crossentropy`.
-- @function logitcrossentropy
-- @tparam Tensor yhat the prediction ŷ
-- @tparam Tensor y the target, of the same sizes
-- @tparam[opt] table opts dims (1), agg ("mean")
-- @return a number (a 0-dim tensor when recorded)
-- @usage local loss = function(x, y) return cnn.logitcrossentropy(model(x), y) end
-- local per_row = cnn.logitcrossentropy(cnn.randn(4, 3), cnn.onehotbatch({1, 2, 3, 1}, {1, 2, 3}):transpose(),
--   {dims = 2, agg = function(l) return l end})
function losses.logitcrossentropy(yhat, y, opts)
  local dims, agg = checked_classes("logitcrossentropy", yhat, y, opts)
  return class_loss(ops.mul(y, ops.logsoftmax(yhat, dims)), y, dims, agg)
end

--- Mean squared error: mean((ŷ - y) .^ 2) over all elements, as Flux's
-- `mse(ŷ, y; agg=mean)`: the option `agg` is "mean" (the default), "sum"
-- or a function of the tensor of squared errors.
-- @function mse
-- @tparam Tensor yhat the prediction ŷ
-- @tparam Tensor y the target, of the same sizes
-- @tparam[opt] table opts agg ("mean")
-- @return a number (a 0-dim tensor when recorded)
-- @usage local loss = function(x, y) return cnn.mse(model(x), y) end
-- local sse = cnn.mse(cnn.ones(3), cnn.zeros(3), {agg = "sum"}) --> 3.0
function losses.mse(yhat, y, opts)
  local agg = checked("mse", yhat, y, opts)
  local d = ops.sub(yhat, y)
  return elementwise_loss(ops.mul(d, d), agg)
end

--- Binary cross-entropy of probabilities:
-- mean(-(y .* log.(ŷ .+ ϵ) .+ (1 .- y) .* log.(1 .- ŷ .+ ϵ))), as Flux's
-- `binarycrossentropy(ŷ, y; agg=mean)`; the option `agg` as for `mse`.
-- @function binarycrossentropy
-- @tparam Tensor yhat the prediction ŷ
-- @tparam Tensor y the target, of the same sizes
-- @tparam[opt] table opts agg ("mean")
-- @return a number (a 0-dim tensor when recorded)
-- @usage local loss = function(x, y) return cnn.binarycrossentropy(cnn.sigmoid(model(x)), y) end
function losses.binarycrossentropy(yhat, y, opts)
  local agg = checked("binarycrossentropy", yhat, y, opts)
  local pos = ops.mul(y, ops.log(ops.add(yhat, EPS)))
  local neg = ops.mul(ops.sub(1, y), ops.log(ops.sub(1 + EPS, yhat)))
  if agg == "mean" then return scale(ops.mean(ops.add(pos, neg)), -1) end
  return elementwise_loss(ops.neg(ops.add(pos, neg)), agg)
end

--- Binary cross-entropy of logits: mean((1 .- y) .* ŷ .- logσ.(ŷ)), as
-- Flux's `logitbinarycrossentropy(ŷ, y; agg=mean)`; the option `agg` as
-- for `mse`.
-- @function logitbinarycrossentropy
-- @tparam Tensor yhat the prediction ŷ
-- @tparam Tensor y the target, of the same sizes
-- @tparam[opt] table opts agg ("mean")
-- @return a number (a 0-dim tensor when recorded)
-- @usage local loss = function(x, y) return cnn.logitbinarycrossentropy(model(x), y) end
function losses.logitbinarycrossentropy(yhat, y, opts)
  local agg = checked("logitbinarycrossentropy", yhat, y, opts)
  return elementwise_loss(ops.sub(ops.mul(ops.sub(1, y), yhat), ops.logsigmoid(yhat)), agg)
end

--- Mean absolute error: mean(abs.(ŷ - y)), as Flux's `mae(ŷ, y;
-- agg=mean)`; the option `agg` as for `mse`.
-- @function mae
-- @tparam Tensor yhat the prediction ŷ
-- @tparam Tensor y the target, of the same sizes
-- @tparam[opt] table opts agg ("mean")
-- @return a number (a 0-dim tensor when recorded)
-- @usage local loss = function(x, y) return cnn.mae(model(x), y) end
function losses.mae(yhat, y, opts)
  local agg = checked("mae", yhat, y, opts)
  return elementwise_loss(ops.abs(ops.sub(yhat, y)), agg)
end

local HUBER_OPTIONS = {agg = true, delta = true}
--- Huber loss: 0.5·d² where |d| < δ and δ·(|d| - 0.5·δ) elsewhere, d =
-- ŷ - y, averaged, as Flux's `huber_loss(ŷ, y; agg=mean, delta=1)`.
-- Options: `delta` (δ, a positive number, 1 by default) and `agg` as for
-- `mse`.
-- @function huber_loss
-- @tparam Tensor yhat the prediction ŷ
-- @tparam Tensor y the target, of the same sizes
-- @tparam[opt] table opts delta (1), agg ("mean")
-- @return a number (a 0-dim tensor when recorded)
-- @usage local loss = function(x, y) return cnn.huber_loss(model(x), y, {delta = 0.5}) end
function losses.huber_loss(yhat, y, opts)
  local agg, o = checked("huber_loss", yhat, y, opts, HUBER_OPTIONS)
  local delta = argcheck.optional_number("huber_loss", "delta", o.delta, 1, "(0, inf)")
  local err = ops.abs(ops.sub(yhat, y))
  local small = core.lt(err, delta) -- a constant mask, as Flux's ignore_derivatives
  local quadratic = ops.mul(ops.mul(err, err), ops.mul(small, 0.5))
  local linear = ops.mul(ops.sub(err, 0.5 * delta), core.mul(core.sub(1, small), delta))
  return elementwise_loss(ops.add(quadratic, linear), agg)
end

-- x·log(x), 0 where x is 0, as Flux's xlogx.
local function xlogx(x)
  return ops.mul(x, ops.log(ops.add(x, core.eq(x, 0))))
end

--- Kullback-Leibler divergence of the prediction ŷ from the target y,
-- both probabilities: mean over samples of Σ y .* log.(y) - y .* log.(ŷ
-- .+ eps(Float32)), as Flux's `kldivergence(ŷ, y; dims=1, agg=mean)`;
-- the options `dims` and `agg` as for `crossentropy`.
-- @function kldivergence
-- @tparam Tensor yhat the prediction ŷ
-- @tparam Tensor y the target, of the same sizes
-- @tparam[opt] table opts dims (1), agg ("mean")
-- @return a number (a 0-dim tensor when recorded)
-- @usage local loss = function(x, y) return cnn.kldivergence(cnn.softmax(model(x)), y) end
function losses.kldivergence(yhat, y, opts)
  local dims, agg = checked_classes("kldivergence", yhat, y, opts)
  local terms = ops.sub(ops.mul(y, ops.log(ops.add(yhat, EPS))), xlogx(y))
  return class_loss(terms, y, dims, agg)
end

-- gamma, a non-negative number (2 by default).
local FOCAL_OPTIONS = {dims = true, agg = true, gamma = true}
local BINARY_FOCAL_OPTIONS = {agg = true, gamma = true}
local function gamma_option(name, opts)
  return argcheck.optional_number(name, "gamma", opts.gamma, 2, "[0, inf)")
end

--- Focal loss of probabilities ŷ against one-hot y, as Flux's
-- `focal_loss(ŷ, y; dims=1, agg=mean, gamma=2)`: mean over samples of
-- -Σ y .* (1 .- ŷ') .^ γ .* log.(ŷ'), ŷ' = ŷ .+ eps(Float32). Options:
-- `gamma` (γ, a non-negative number, 2 by default), `dims` and `agg` as
-- for `crossentropy`.
-- @function focal_loss
-- @tparam Tensor yhat the prediction ŷ
-- @tparam Tensor y the target, of the same sizes
-- @tparam[opt] table opts gamma (2), dims (1), agg ("mean")
-- @return a number (a 0-dim tensor when recorded)
-- @usage local loss = function(x, y) return cnn.focal_loss(cnn.softmax(model(x)), y, {gamma = 1}) end
function losses.focal_loss(yhat, y, opts)
  local dims, agg, o = checked_classes("focal_loss", yhat, y, opts, FOCAL_OPTIONS)
  local gamma = gamma_option("focal_loss", o)
  local p = ops.add(yhat, EPS)
  local weight = ops.pow(ops.sub(1, p), gamma)
  return class_loss(ops.mul(weight, ops.mul(y, ops.log(p))), y, dims, agg)
end

--- Binary focal loss of probabilities ŷ against y, as Flux's
-- `binary_focal_loss(ŷ, y; agg=mean, gamma=2)`: mean of -(1 .- p) .^ γ
-- .* log.(p), p = y .* ŷ' .+ (1 .- y) .* (1 .- ŷ'), ŷ' = ŷ .+ eps(Float32).
-- Options: `gamma` (γ, a non-negative number, 2 by default) and `agg` as
-- for `mse`.
-- @function binary_focal_loss
-- @tparam Tensor yhat the prediction ŷ
-- @tparam Tensor y the target, of the same sizes
-- @tparam[opt] table opts gamma (2), agg ("mean")
-- @return a number (a 0-dim tensor when recorded)
-- @usage local loss = function(x, y) return cnn.binary_focal_loss(cnn.sigmoid(model(x)), y) end
function losses.binary_focal_loss(yhat, y, opts)
  local agg, o = checked("binary_focal_loss", yhat, y, opts, BINARY_FOCAL_OPTIONS)
  local gamma = gamma_option("binary_focal_loss", o)
  local q = ops.add(yhat, EPS)
  local p = ops.add(ops.mul(y, q), ops.mul(ops.sub(1, y), ops.sub(1, q)))
  return elementwise_loss(ops.neg(ops.mul(ops.pow(ops.sub(1, p), gamma), ops.log(p))), agg)
end

--- Hinge loss of scores ŷ against labels y in {-1, 1}: mean(max.(0, 1 .-
-- ŷ .* y)), as Flux's `hinge_loss(ŷ, y; agg=mean)`; the option `agg` as
-- for `mse`.
-- @function hinge_loss
-- @tparam Tensor yhat the prediction ŷ
-- @tparam Tensor y the target, of the same sizes
-- @tparam[opt] table opts agg ("mean")
-- @return a number (a 0-dim tensor when recorded)
-- @usage local loss = function(x, y) return cnn.hinge_loss(model(x), y) end
function losses.hinge_loss(yhat, y, opts)
  local agg = checked("hinge_loss", yhat, y, opts)
  return elementwise_loss(ops.max(ops.sub(1, ops.mul(yhat, y)), 0), agg)
end

--- Squared hinge loss: mean(max.(0, 1 .- ŷ .* y) .^ 2), as Flux's
-- `squared_hinge_loss(ŷ, y; agg=mean)`; the option `agg` as for `mse`.
-- @function squared_hinge_loss
-- @tparam Tensor yhat the prediction ŷ
-- @tparam Tensor y the target, of the same sizes
-- @tparam[opt] table opts agg ("mean")
-- @return a number (a 0-dim tensor when recorded)
-- @usage local loss = function(x, y) return cnn.squared_hinge_loss(model(x), y, {agg = "sum"}) end
function losses.squared_hinge_loss(yhat, y, opts)
  local agg = checked("squared_hinge_loss", yhat, y, opts)
  local margin = ops.max(ops.sub(1, ops.mul(yhat, y)), 0)
  return elementwise_loss(ops.mul(margin, margin), agg)
end

return losses

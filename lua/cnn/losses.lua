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

-- Checks ŷ, y and the options of a loss without dims.
local function checked(name, yhat, y, opts)
  check_sizes(name, yhat, y)
  opts = argcheck.options(name, opts, OPTIONS)
  return agg_option(name, opts.agg)
end

-- Checks ŷ, y and the options of a loss over classes: dims (1, the
-- default, or another dimension of ŷ) and agg.
local function checked_classes(name, yhat, y, opts)
  check_sizes(name, yhat, y)
  opts = argcheck.options(name, opts, CLASS_OPTIONS)
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
  return dims, agg_option(name, opts.agg)
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

return losses

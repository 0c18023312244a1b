--- Loss functions, as Flux defines them, built from differentiable ops.
--
-- Each takes the prediction ŷ and the target y of exactly the same sizes
-- and returns a number (a 0-dim tensor inside a gradient call when ŷ is
-- tracked; `cnn.item` gives the number either way). Losses over classes
-- average over the samples: every dimension but the first.
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

-- Number of samples when classes lie along dimension 1.
local function samples(y)
  local n = y:numel() // math.max(y:size(1), 1)
  return math.max(n, 1)
end

local losses = {}

--- Cross-entropy of probabilities ŷ (e.g. softmax output) against y:
-- mean over samples of -Σ y .* log.(ŷ .+ eps(Float32)).
-- @function crossentropy
-- @tparam Tensor yhat the prediction ŷ
-- @tparam Tensor y the target, of the same sizes
-- @return a number (a 0-dim tensor when recorded)
-- @usage local loss = function(x, y) return cnn.crossentropy(cnn.softmax(model(x)), y) end
function losses.crossentropy(yhat, y)
  check_sizes("crossentropy", yhat, y)
  local s = ops.sum(ops.mul(y, ops.log(ops.add(yhat, EPS))))
  return scale(s, -1 / samples(y))
end

--- Cross-entropy of logits ŷ against y: mean over samples of
-- -Σ y .* logsoftmax(ŷ); more stable than crossentropy(softmax(ŷ), y).
-- @function logitcrossentropy
-- @tparam Tensor yhat the prediction ŷ
-- @tparam Tensor y the target, of the same sizes
-- @return a number (a 0-dim tensor when recorded)
-- @usage local loss = function(x, y) return cnn.logitcrossentropy(model(x), y) end
function losses.logitcrossentropy(yhat, y)
  check_sizes("logitcrossentropy", yhat, y)
  local s = ops.sum(ops.mul(y, ops.logsoftmax(yhat)))
  return scale(s, -1 / samples(y))
end

--- Mean squared error: mean((ŷ - y) .^ 2) over all elements.
-- @function mse
-- @tparam Tensor yhat the prediction ŷ
-- @tparam Tensor y the target, of the same sizes
-- @return a number (a 0-dim tensor when recorded)
-- @usage local loss = function(x, y) return cnn.mse(model(x), y) end
function losses.mse(yhat, y)
  check_sizes("mse", yhat, y)
  local d = ops.sub(yhat, y)
  return ops.mean(ops.mul(d, d))
end

--- Binary cross-entropy of probabilities:
-- mean(-(y .* log.(ŷ .+ ϵ) .+ (1 .- y) .* log.(1 .- ŷ .+ ϵ))).
-- @function binarycrossentropy
-- @tparam Tensor yhat the prediction ŷ
-- @tparam Tensor y the target, of the same sizes
-- @return a number (a 0-dim tensor when recorded)
-- @usage local loss = function(x, y) return cnn.binarycrossentropy(cnn.sigmoid(model(x)), y) end
function losses.binarycrossentropy(yhat, y)
  check_sizes("binarycrossentropy", yhat, y)
  local pos = ops.mul(y, ops.log(ops.add(yhat, EPS)))
  local neg = ops.mul(ops.sub(1, y), ops.log(ops.sub(1 + EPS, yhat)))
  return scale(ops.mean(ops.add(pos, neg)), -1)
end

--- Binary cross-entropy of logits: mean((1 .- y) .* ŷ .- logσ.(ŷ)).
-- @function logitbinarycrossentropy
-- @tparam Tensor yhat the prediction ŷ
-- @tparam Tensor y the target, of the same sizes
-- @return a number (a 0-dim tensor when recorded)
-- @usage local loss = function(x, y) return cnn.logitbinarycrossentropy(model(x), y) end
function losses.logitbinarycrossentropy(yhat, y)
  check_sizes("logitbinarycrossentropy", yhat, y)
  return ops.mean(ops.sub(ops.mul(ops.sub(1, y), yhat), ops.logsigmoid(yhat)))
end

return losses

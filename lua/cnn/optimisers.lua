--- Optimisers, as Flux's: Descent, Momentum, Nesterov, RMSProp, ADAM,
-- AdamW, and `update(opt, ps, gs)`.
--
-- An optimiser holds its hyperparameters as fields (`opt.eta` may be
-- changed between steps; every update checks them again) and its state
-- per parameter tensor in `opt.state` (weak keys, so a dropped model frees
-- it). Each parameter's update is one fused in-place pass in C
-- (`cnn.core.*_step`). Each algorithm has its own file in
-- `cnn/optimisers/` listing its fields; `cnn/optimisers/kind.lua` holds
-- what they share.
-- @module cnn.optimisers

local kind = require "cnn.optimisers.kind"

local function load(name)
  return kind.define(require("cnn.optimisers." .. name))
end

local adam, adamw = load("adam"), load("adamw")
local optimisers = {
  Descent = load("descent")("Descent"),
  Momentum = load("momentum")("Momentum"),
  Nesterov = load("nesterov")("Nesterov"),
  RMSProp = load("rmsprop")("RMSProp"),
  ADAM = adam("ADAM"),
  AdamW = adamw("AdamW"),
}
-- Flux's other spellings: the same functions
optimisers.Adam = optimisers.ADAM
optimisers.ADAMW = optimisers.AdamW

--- Updates parameters in place from their gradients, as Flux's update!:
-- `update(opt, ps, gs)` with `ps` a list of tensors and `gs` the
-- gradients keyed by tensor (what `cnn.gradient(f, ps)` returns).
-- A parameter without a gradient in gs is left as it is (as Flux's
-- `nothing` gradient); but gs with no gradient for any of the parameters
-- is an error, since nothing would change. `cnn.gradient(f, ps)` gives
-- zeros, not nothing, for a parameter the loss did not use: an ordinary
-- step, which leaves it under plain descent but moves it by the decaying
-- moments of momentum or Adam (and AdamW's weight decay), as PyTorch does
-- with materialized zero gradients.
-- `update(opt, p, g)` updates one tensor.
-- @param opt an optimiser (cnn.ADAM(), ...)
-- @param ps a list of tensors (cnn.params(model)), or one tensor
-- @param gs gradients keyed by tensor, or one tensor
-- @return ps
-- @usage cnn.update(opt, ps, cnn.gradient(function() return loss(x, y) end, ps))
-- @function update
-- @param opt the optimiser
-- @param ps the parameters (or one tensor)
-- @param gs the gradients (or one tensor)
function optimisers.update(opt, ps, gs)
  return kind.update("update", opt, ps, gs)
end

return optimisers

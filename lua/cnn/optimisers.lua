--- Optimisers, as Flux's and Optimisers.jl's: Descent, Momentum,
-- Nesterov, RMSProp, ADAM, AdamW, AdaGrad, AdaDelta, AMSGrad, NAdam, RAdam,
-- AdaMax, AdaBelief, Lion; the gradient transforms ClipGrad, ClipNorm and
-- WeightDecay, composed with a rule by OptimiserChain; schedules of their
-- fields (`schedule`, and cnn.Cos, cnn.Exp, ... in cnn.schedules); and
-- `update(opt, ps, gs)`.
--
-- An optimiser holds its hyperparameters as fields (`opt.eta` may be
-- changed between steps; every update checks them again) and its state
-- per parameter tensor in `opt.state` (weak keys, so a dropped model frees
-- it). Each parameter's update is one fused in-place pass in C
-- (`cnn.core.*_step`). Each algorithm has its own file in
-- `cnn/optimisers/` listing its fields; `cnn/optimisers/kind.lua` holds
-- what they share.
-- @module cnn.optimisers

local argcheck = require "cnn.argcheck"
local kind = require "cnn.optimisers.kind"
local schedules = require "cnn.schedules"

local function load(name)
  return kind.define(require("cnn.optimisers." .. name))
end

local adam, adamw = load("adam"), load("adamw")
local chain = require "cnn.optimisers.chain"
local optimisers = {
  OptimiserChain = chain.OptimiserChain,
  ClipGrad = load("clipgrad")("ClipGrad"),
  ClipNorm = load("clipnorm")("ClipNorm"),
  WeightDecay = load("weightdecay")("WeightDecay"),
  AdaGrad = load("adagrad")("AdaGrad"),
  AdaDelta = load("adadelta")("AdaDelta"),
  AMSGrad = load("amsgrad")("AMSGrad"),
  NAdam = load("nadam")("NAdam"),
  RAdam = load("radam")("RAdam"),
  AdaMax = load("adamax")("AdaMax"),
  AdaBelief = load("adabelief")("AdaBelief"),
  Lion = load("lion")("Lion"),
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

--- Attaches schedules to an optimiser's fields: `schedule(opt, {eta =
-- s})` sets `opt.eta = s(1)` now and `s(t)` before the t-th step after
-- (fields of a chain's members, for a chain: every member that has the
-- field). A field given a schedule in the constructor
-- (`cnn.ADAM(cnn.Cos(1e-3, 1e-5, 100))`) is scheduled the same way.
-- With `every = "step"` (the default) each cnn.update advances t, so a
-- hand-written loop calling cnn.update once per batch, and cnn.train,
-- step it per batch. With `every = "pass"` cnn.update leaves t alone:
-- cnn.train advances it at the start of each pass over the data (each
-- call, and each pass of a cnn.ncycle), and a hand-written loop calls
-- `cnn.advance(opt)` before each pass.
-- @function schedule
-- @param opt an optimiser
-- @tparam table fields schedules by field name
-- @tparam[opt] table options every = "step" or "pass"
-- @return opt
-- @usage local opt = cnn.schedule(cnn.Momentum(), {eta = cnn.Step(0.1, 0.5, 10)}, {every = "pass"})
function optimisers.schedule(opt, fields, options)
  argcheck.arity("schedule", 3, "opt, fields, options", opt, fields, options)
  options = argcheck.options("schedule", options, {every = true})
  local every = options.every == nil and "step" or argcheck.choice("schedule", "options.every",
    options.every, {"step", "pass"})
  return kind.schedule("schedule", opt, fields, every)
end

--- Advances the schedules of opt counted by pass (`every = "pass"`) by
-- one: for a hand-written loop, call it before each pass over the data
-- (cnn.train does it itself).
-- @function advance
-- @param opt an optimiser
-- @treturn integer the number of optimisers (opt, or a chain's members)
--   whose schedules moved
-- @usage local opt = cnn.schedule(cnn.Descent(), {eta = cnn.Exp(0.1, 0.5)}, {every = "pass"})
-- for _ = 1, 3 do cnn.advance(opt) --[[ then one pass of cnn.update calls ]] end
function optimisers.advance(opt)
  if not kind.is_optimiser(opt) then argcheck.fail("advance", "opt", "an optimiser", opt) end
  return kind.advance(opt, "pass")
end

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
-- `update(opt, p, g)` updates one tensor. Each call first advances the
-- optimiser's schedules counted by step (see `schedule`).
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

for name, f in pairs(schedules) do optimisers[name] = f end

return optimisers

--- Optimisers, as Flux's: Descent, Momentum, Nesterov, RMSProp, ADAM,
-- AdamW, and `update(opt, ps, gs)`.
--
-- An optimiser holds its hyperparameters as fields (`opt.eta` may be
-- changed between steps) and its state per parameter tensor in
-- `opt.state` (weak keys, so a dropped model frees it). Each parameter's
-- update is one fused in-place pass in C (`cnn.core.*_step`). Each
-- algorithm has its own file in `cnn/optimisers/` listing its fields.
-- @module cnn.optimisers

local errors = require "cnn.errors"

local Optimiser = {}
Optimiser.__index = Optimiser

--- A new optimiser of a kind: `step(opt, p, g, state)` updates p in place,
-- `fields` are its hyperparameters, `show` lists the fields printed, in
-- the order of the constructor's arguments; `defaults` (optional) gives
-- trailing ones printed only when they differ from it.
function Optimiser.new(kind, fields, step, show, defaults)
  local o = setmetatable(fields, Optimiser)
  o.kind, o.step, o.show, o.defaults = kind, step, show, defaults or {}
  o.state = setmetatable({}, {__mode = "k"})
  return o
end

--- The constructor of a kind with fields `eta` and `rho` (0.9 by default)
-- and one velocity `v` per parameter (zeros at first), updated in place
-- by `core_step(p, g, v, eta, rho)`: Momentum and Nesterov.
function Optimiser.velocity_kind(core, kind, default_eta, core_step)
  local function step(o, p, g, s)
    s.v = s.v or core.zeros(p:size())
    core_step(p, g, s.v, o.eta, o.rho)
  end
  return function(eta, rho)
    return Optimiser.new(kind, {eta = eta or default_eta, rho = rho or 0.9}, step, {"eta", "rho"})
  end
end

--- The state table of parameter p (created empty on first use).
function Optimiser:state_of(p)
  local s = self.state[p]
  if not s then
    s = {}
    self.state[p] = s
  end
  return s
end

--- Updates one parameter with its gradient.
function Optimiser:apply(p, g)
  self.step(self, p, g:contiguous(), self:state_of(p))
  return p
end

local function value_string(v)
  if type(v) == "table" then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = value_string(x) end
    return "(" .. table.concat(parts, ", ") .. ")"
  end
  return (("%g"):format(v):gsub("e([-+])0*(%d)", "e%1%2"))
end

--- As the constructor call that makes it: "ADAM(0.001, (0.9, 0.999))".
function Optimiser:__tostring()
  local last = #self.show
  while last > 0 and self.defaults[self.show[last]] == self[self.show[last]] do
    last = last - 1
  end
  local parts = {}
  for i = 1, last do parts[i] = value_string(self[self.show[i]]) end
  return self.kind .. "(" .. table.concat(parts, ", ") .. ")"
end

return function(cnn)
  local core = cnn.core

  local function is_optimiser(x)
    return getmetatable(x) == Optimiser
  end

  local is_tensor = require("cnn.tensorcheck").is_tensor

  local function load(name)
    return require("cnn.optimisers." .. name)(core, Optimiser)
  end

  local optimisers = {
    Descent = load("descent"),
    Momentum = load("momentum"),
    Nesterov = load("nesterov"),
    RMSProp = load("rmsprop"),
    ADAM = load("adam"),
    AdamW = load("adamw"),
  }
  optimisers.Adam = optimisers.ADAM
  optimisers.ADAMW = optimisers.AdamW

  --- Updates parameters in place from their gradients, as Flux's update!:
  -- `update(opt, ps, gs)` with `ps` an array of tensors and `gs` the
  -- gradients keyed by tensor (what `cnn.gradient(f, ps)` returns);
  -- parameters without a gradient are skipped. `update(opt, p, g)`
  -- updates one tensor.
  -- @return ps
  function optimisers.update(opt, ps, gs)
    if not is_optimiser(opt) then
      error(("update: expected an optimiser, got %s"):format(type(opt)), 2)
    end
    if is_tensor(ps) then
      if not is_tensor(gs) then error("update: the gradient of a tensor must be a tensor", 2) end
      return errors.call(opt.apply, opt, ps, gs)
    end
    if type(ps) ~= "table" or type(gs) ~= "table" then
      error("update: expected parameters (an array of tensors) and gradients (a table)", 2)
    end
    for _, p in ipairs(ps) do
      local g = gs[p]
      if g ~= nil then errors.call(opt.apply, opt, p, g) end
    end
    return ps
  end

  return optimisers
end

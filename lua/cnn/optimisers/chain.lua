--- OptimiserChain: rules applied in order to each gradient.
-- @module cnn.optimisers.chain

local argcheck = require "cnn.argcheck"
local core = require "cnn.core"
local kind = require "cnn.optimisers.kind"

local chain = {}

local spec = {name = "OptimiserChain", hyperparameters = {}}

-- The transforms before the rule, and the rule (or nil).
local function split(o)
  local last = o.opts[#o.opts]
  local last_spec = last and kind.spec_of(last)
  if last_spec and not last_spec.transform then return #o.opts - 1, last end
  return #o.opts, nil
end

function spec.members(o) return o.opts end

function spec.check(fname, o)
  for i, m in ipairs(o.opts) do
    local ms = kind.spec_of(m)
    for _, h in ipairs(ms.hyperparameters) do
      kind.rules[h[3]](fname, ("opt.opts[%d].%s"):format(i, h[1]), rawget(m, h[1]))
    end
  end
end

function spec.step(o, p, g, s, _)
  local n, rule = split(o)
  local pre = {}
  for i = 1, n do kind.spec_of(o.opts[i]).transform(o.opts[i], p, g, pre) end
  if rule then
    kind.spec_of(rule).step(rule, p, g, s, pre)
  else
    core.descent_step(p, g, 1, pre)
  end
end

function spec.__tostring(o)
  local parts = {}
  for i, m in ipairs(o.opts) do parts[i] = tostring(m) end
  return "OptimiserChain(" .. table.concat(parts, ", ") .. ")"
end

local mt = kind.register(spec)

--- OptimiserChain(opts...): Optimisers.jl's chain, each of `opts`
-- transforming the gradient in turn: any number of gradient transforms
-- (cnn.ClipGrad, cnn.ClipNorm, cnn.WeightDecay), then at most one rule
-- (cnn.ADAM(), cnn.Descent(0.1), ...), last. The transforms are applied
-- inside the rule's one fused pass (ClipNorm adds one reduction pass for
-- its norm); with no rule the transformed gradient is subtracted, as
-- Descent(1). A rule followed by something is refused (Optimisers.jl
-- allows it, as AdamW's decoupled decay; use cnn.AdamW for that).
-- The chain keeps the rule's state, per parameter; `opt.opts` lists the
-- members, whose fields may be changed between steps.
-- @function OptimiserChain
-- @param ... the transforms, then the rule
-- @return the optimiser
-- @usage local opt = cnn.OptimiserChain(cnn.ClipNorm(1.0), cnn.WeightDecay(1e-4), cnn.ADAM(1e-3))
function chain.OptimiserChain(...)
  local n = select("#", ...)
  local opts = {}
  for i = 1, n do
    local m = select(i, ...)
    local ms = kind.spec_of(m)
    if ms == nil or getmetatable(m) == mt then
      argcheck.fail("OptimiserChain", ("argument %d"):format(i),
        "an optimiser or gradient transform (cnn.ClipNorm(1.0), cnn.ADAM(), ...)", m)
    end
    if not ms.transform and i < n then
      argcheck.raise(("OptimiserChain: %s is argument %d of %d; a rule must come last, after the "
        .. "gradient transforms (ClipGrad, ClipNorm, WeightDecay)"):format(tostring(m), i, n))
    end
    opts[i] = m
  end
  return setmetatable({opts = opts, state = setmetatable({}, {__mode = "k"})}, mt)
end

return chain

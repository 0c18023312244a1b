--- The ClipGrad gradient transform.
-- @module cnn.optimisers.clipgrad

local core = require "cnn.core"
local kind = require "cnn.optimisers.kind"

--- ClipGrad(delta = 10): Optimisers.jl's ClipGrad, clamps each gradient
-- element to [-delta, delta]. Meant to come before a rule in
-- cnn.OptimiserChain; alone, p -= the clamped gradient.
-- Fields: `delta` (>= 0). State: none.
-- @function ClipGrad
-- @param[opt=10] delta the bound
-- @return the optimiser
-- @usage cnn.OptimiserChain(cnn.ClipGrad(1.0), cnn.ADAM())
return kind.transform(core, {
  name = "ClipGrad",
  hyperparameters = {{"delta", 10, "rate"}},
  transform = function(o, _, _, pre)
    pre[#pre + 1], pre[#pre + 2] = "clamp", o.delta
  end,
})

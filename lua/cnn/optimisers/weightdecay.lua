--- The WeightDecay gradient transform.
-- @module cnn.optimisers.weightdecay

local core = require "cnn.core"
local kind = require "cnn.optimisers.kind"

--- WeightDecay(lambda = 5e-4): Optimisers.jl's WeightDecay, g += lambda p
-- (L2 regularisation when it comes before the rule in
-- cnn.OptimiserChain); alone, p -= g + lambda p.
-- Fields: `lambda` (>= 0). State: none.
-- @function WeightDecay
-- @param[opt=5e-4] lambda the decay
-- @return the optimiser
-- @usage cnn.OptimiserChain(cnn.WeightDecay(1e-4), cnn.ADAM())
return kind.transform(core, {
  name = "WeightDecay",
  hyperparameters = {{"lambda", 5e-4, "rate"}},
  transform = function(o, _, _, pre)
    pre[#pre + 1], pre[#pre + 2] = "decay", o.lambda
  end,
})

--- The AdaGrad optimiser.
-- @module cnn.optimisers.adagrad

local core = require "cnn.core"
local kind = require "cnn.optimisers.kind"

--- AdaGrad(eta = 0.1, eps = 1e-8): Optimisers.jl's AdaGrad,
-- a = a + g²; p -= eta g / (√a + eps), the accumulator `a` starting at
-- eps (PyTorch's Adagrad with initial_accumulator_value = eps).
-- Fields: `eta` (>= 0), `eps` (> 0). State per parameter: `a`.
-- @function AdaGrad
-- @param[opt=0.1] eta the learning rate (or a schedule)
-- @param[opt=1e-8] eps
-- @return the optimiser
-- @usage cnn.AdaGrad(0.1)
return kind.fused(core, {
  name = "AdaGrad",
  rule = "adagrad",
  states = {true},
  hyperparameters = {
    {"eta", 0.1, "rate"},
    {"eps", 1e-8, "positive", omit_default = true},
  },
})

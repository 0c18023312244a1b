--- The AdaDelta optimiser.
-- @module cnn.optimisers.adadelta

local core = require "cnn.core"
local kind = require "cnn.optimisers.kind"

--- AdaDelta(rho = 0.9, eps = 1e-8): Optimisers.jl's AdaDelta, which has
-- no learning rate: a = rho a + (1 - rho) g²; d = g √(D + eps) / √(a + eps);
-- D = rho D + (1 - rho) d²; p -= d (PyTorch's Adadelta with lr = 1).
-- Fields: `rho` (in [0, 1)), `eps` (> 0). State per parameter: `a`, `D`
-- (zeros at first).
-- @function AdaDelta
-- @param[opt=0.9] rho the decay
-- @param[opt=1e-8] eps
-- @return the optimiser
-- @usage cnn.AdaDelta(0.95)
return kind.fused(core, {
  name = "AdaDelta",
  rule = "adadelta",
  states = {false, false},
  hyperparameters = {
    {"rho", 0.9, "fraction"},
    {"eps", 1e-8, "positive", omit_default = true},
  },
})

--- The AdaMax optimiser.
-- @module cnn.optimisers.adamax

local core = require "cnn.core"
local kind = require "cnn.optimisers.kind"

--- AdaMax(eta = 0.001, beta = {0.9, 0.999}, eps = 1e-8): Optimisers.jl's
-- AdaMax, Adam on the infinity norm: m = b1 m + (1 - b1) g;
-- u = max(b2 u, |g|); p -= eta / (1 - b1^t) m / (u + eps) (PyTorch's
-- Adamax puts eps inside the max instead).
-- Fields: `eta` (>= 0), `beta` (each in [0, 1)), `eps` (> 0). State per
-- parameter: `m`, `u`, `t`.
-- @function AdaMax
-- @param[opt=0.001] eta the learning rate (or a schedule)
-- @param[opt] beta the decays {b1, b2}, default {0.9, 0.999}
-- @param[opt=1e-8] eps
-- @return the optimiser
-- @usage cnn.AdaMax(3e-4)
return kind.fused(core, {
  name = "AdaMax",
  rule = "adamax",
  states = {false, false},
  hyperparameters = {
    {"eta", 0.001, "rate"},
    {"beta", {0.9, 0.999}, "betas"},
    {"eps", 1e-8, "positive", omit_default = true},
  },
})

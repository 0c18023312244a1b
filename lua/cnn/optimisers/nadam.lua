--- The NAdam optimiser.
-- @module cnn.optimisers.nadam

local core = require "cnn.core"
local kind = require "cnn.optimisers.kind"

--- NAdam(eta = 0.001, beta = {0.9, 0.999}, eps = 1e-8): Optimisers.jl's
-- NAdam (Nesterov Adam): m, v as ADAM's; p -= eta (b1 m / (1 - b1^(t+1)) +
-- (1 - b1) g / (1 - b1^t)) / (√(b2 v / (1 - b2^t)) + eps), t the step
-- count (PyTorch's NAdam differs: it decays the momentum by a schedule).
-- Fields: `eta` (>= 0), `beta` (each in [0, 1)), `eps` (> 0). State per
-- parameter: `m`, `v`, `t`.
-- @function NAdam
-- @param[opt=0.001] eta the learning rate (or a schedule)
-- @param[opt] beta the decays {b1, b2}, default {0.9, 0.999}
-- @param[opt=1e-8] eps
-- @return the optimiser
-- @usage cnn.NAdam(3e-4)
return kind.fused(core, {
  name = "NAdam",
  rule = "nadam",
  states = {false, false},
  hyperparameters = {
    {"eta", 0.001, "rate"},
    {"beta", {0.9, 0.999}, "betas"},
    {"eps", 1e-8, "positive", omit_default = true},
  },
})

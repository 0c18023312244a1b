--- The AdaBelief optimiser.
-- @module cnn.optimisers.adabelief

local core = require "cnn.core"
local kind = require "cnn.optimisers.kind"

--- AdaBelief(eta = 0.001, beta = {0.9, 0.999}, eps = 1e-16): Optimisers.jl's
-- AdaBelief: m = b1 m + (1 - b1) g; s = b2 s + (1 - b2)(g - m)² + eps;
-- p -= eta m / (1 - b1^t) / (√(s / (1 - b2^t)) + eps).
-- Fields: `eta` (>= 0), `beta` (each in [0, 1)), `eps` (> 0). State per
-- parameter: `m`, `s`, `t`.
-- @function AdaBelief
-- @param[opt=0.001] eta the learning rate (or a schedule)
-- @param[opt] beta the decays {b1, b2}, default {0.9, 0.999}
-- @param[opt=1e-16] eps
-- @return the optimiser
-- @usage cnn.AdaBelief(3e-4)
return kind.fused(core, {
  name = "AdaBelief",
  rule = "adabelief",
  states = {false, false},
  hyperparameters = {
    {"eta", 0.001, "rate"},
    {"beta", {0.9, 0.999}, "betas"},
    {"eps", 1e-16, "positive", omit_default = true},
  },
})

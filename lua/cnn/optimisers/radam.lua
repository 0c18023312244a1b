--- The RAdam optimiser.
-- @module cnn.optimisers.radam

local core = require "cnn.core"
local kind = require "cnn.optimisers.kind"

--- RAdam(eta = 0.001, beta = {0.9, 0.999}, eps = 1e-8): Optimisers.jl's
-- Rectified Adam: m, v as ADAM's; r∞ = 2/(1 - b2) - 1, r = r∞ - 2t b2^t /
-- (1 - b2^t); while r <= 4, p -= eta m / (1 - b1^t); after, p -= eta k m /
-- (1 - b1^t) / (√(v / (1 - b2^t)) + eps) with k = √((r - 4)(r - 2) r∞ /
-- ((r∞ - 4)(r∞ - 2) r)) (PyTorch's RAdam switches at r > 5 instead).
-- Fields: `eta` (>= 0), `beta` (each in [0, 1)), `eps` (> 0). State per
-- parameter: `m`, `v`, `t`.
-- @function RAdam
-- @param[opt=0.001] eta the learning rate (or a schedule)
-- @param[opt] beta the decays {b1, b2}, default {0.9, 0.999}
-- @param[opt=1e-8] eps
-- @return the optimiser
-- @usage cnn.RAdam(3e-4)
return kind.fused(core, {
  name = "RAdam",
  rule = "radam",
  states = {false, false},
  hyperparameters = {
    {"eta", 0.001, "rate"},
    {"beta", {0.9, 0.999}, "betas"},
    {"eps", 1e-8, "positive", omit_default = true},
  },
})

--- The AMSGrad optimiser.
-- @module cnn.optimisers.amsgrad

local core = require "cnn.core"
local kind = require "cnn.optimisers.kind"

--- AMSGrad(eta = 0.001, beta = {0.9, 0.999}, eps = 1e-8): Optimisers.jl's
-- AMSGrad: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g²; h = max(h, v);
-- p -= eta m / (√h + eps), without bias correction, m, v and h starting
-- at eps (PyTorch's Adam(amsgrad = true) corrects the bias and starts at
-- zero: a different rule).
-- Fields: `eta` (>= 0), `beta` (each in [0, 1)), `eps` (> 0). State per
-- parameter: `m`, `v`, `h`.
-- @function AMSGrad
-- @param[opt=0.001] eta the learning rate (or a schedule)
-- @param[opt] beta the decays {b1, b2}, default {0.9, 0.999}
-- @param[opt=1e-8] eps
-- @return the optimiser
-- @usage cnn.AMSGrad(3e-4)
return kind.fused(core, {
  name = "AMSGrad",
  rule = "amsgrad",
  states = {true, true, true},
  hyperparameters = {
    {"eta", 0.001, "rate"},
    {"beta", {0.9, 0.999}, "betas"},
    {"eps", 1e-8, "positive", omit_default = true},
  },
})

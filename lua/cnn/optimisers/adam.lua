--- The Adam optimiser.
-- @module cnn.optimisers.adam

local core = require "cnn.core"

--- ADAM(eta = 0.001, beta = {0.9, 0.999}, eps = 1e-8), also `Adam`:
-- m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g²;
-- p -= eta m̂ / (√v̂ + eps) with m̂ = m / (1 - b1^t), v̂ = v / (1 - b2^t),
-- t the step count of that parameter (Flux's and PyTorch's form: eps is
-- added to √v̂).
-- Fields: `eta` (>= 0), `beta` ({b1, b2}, each in [0, 1)), `eps` (> 0).
-- State per parameter: moments `m`, `v` and step count `t`.
-- @function Adam
-- @param[opt=0.001] eta the learning rate
-- @param[opt] beta the decays {b1, b2}, default {0.9, 0.999}
-- @param[opt=1e-8] eps
-- @return the optimiser
-- @usage local opt = cnn.Adam(3e-4)
local function step(o, p, g, s, pre)
  if not s.m then
    s.m, s.v, s.t = core.zeros(p:size()), core.zeros(p:size()), 0
  end
  s.t = s.t + 1
  core.adam_step(p, g, s.m, s.v, o.eta, o.beta[1], o.beta[2], o.eps, s.t, pre)
end

return {
  name = "ADAM",
  step = step,
  hyperparameters = {
    {"eta", 0.001, "rate"},
    {"beta", {0.9, 0.999}, "betas"},
    {"eps", 1e-8, "positive", omit_default = true},
  },
}

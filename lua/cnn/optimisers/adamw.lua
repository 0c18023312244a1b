--- The AdamW optimiser.
-- @module cnn.optimisers.adamw

local core = require "cnn.core"

--- AdamW(eta = 0.001, beta = {0.9, 0.999}, decay = 0, eps = 1e-8), also
-- `ADAMW`: Flux's AdamW, the ADAM step followed by weight decay,
-- p -= eta m̂ / (√v̂ + eps) + decay p. As in Flux (Optimiser(ADAM,
-- WeightDecay(decay))) the decay is not scaled by eta.
-- Fields: `eta` (>= 0), `beta` (each in [0, 1)), `decay` (>= 0), `eps`
-- (> 0). State as ADAM's.
-- @function AdamW
-- @param[opt=0.001] eta the learning rate
-- @param[opt] beta the decays {b1, b2}, default {0.9, 0.999}
-- @param[opt=0] decay the weight decay
-- @param[opt=1e-8] eps
-- @return the optimiser
-- @usage cnn.AdamW(0.001, {0.9, 0.999}, 1e-4)
local function step(o, p, g, s, pre)
  if not s.m then
    s.m, s.v, s.t = core.zeros(p:size()), core.zeros(p:size()), 0
  end
  s.t = s.t + 1
  core.adamw_step(p, g, s.m, s.v, o.eta, o.beta[1], o.beta[2], o.eps, s.t, o.decay, pre)
end

return {
  name = "AdamW",
  step = step,
  hyperparameters = {
    {"eta", 0.001, "rate"},
    {"beta", {0.9, 0.999}, "betas"},
    {"decay", 0, "rate", omit_default = true},
    {"eps", 1e-8, "positive", omit_default = true},
  },
}

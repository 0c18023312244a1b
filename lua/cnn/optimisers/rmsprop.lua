--- The RMSProp optimiser.
-- @module cnn.optimisers.rmsprop

local core = require "cnn.core"

--- RMSProp(eta = 0.001, rho = 0.9, eps = 1e-8):
-- a = rho a + (1 - rho) g²; p -= eta g / (√a + eps).
-- Fields: `eta` (>= 0), `rho` (in [0, 1)), `eps` (> 0). State per
-- parameter: accumulator `acc`.
-- @function RMSProp
-- @param[opt=0.001] eta the learning rate
-- @param[opt=0.9] rho
-- @param[opt=1e-8] eps
-- @return the optimiser
-- @usage cnn.RMSProp(0.001)
local function step(o, p, g, s, pre)
  s.acc = s.acc or core.zeros(p:size())
  core.rmsprop_step(p, g, s.acc, o.eta, o.rho, o.eps, pre)
end

return {
  name = "RMSProp",
  step = step,
  hyperparameters = {
    {"eta", 0.001, "rate"},
    {"rho", 0.9, "fraction"},
    {"eps", 1e-8, "positive", omit_default = true},
  },
}
